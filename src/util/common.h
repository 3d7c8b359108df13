/*
 * common.h — the closed set of return codes every layer below the API uses.
 *
 * Domain and store functions return one of these; HTTP statuses are chosen in exactly one
 * place, the API layer (see api/api.h sp_api_status_for()).
 */
#ifndef SP_COMMON_H
#define SP_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sp_rc {
    SP_OK = 0,        /* done */
    SP_NOTFOUND = 1,  /* the thing asked for does not exist */
    SP_CONFLICT = 2,  /* duplicate, or an illegal state transition */
    SP_INVALID = 3,   /* input rejected; an error message names the field */
    SP_AGAIN = 4,     /* temporarily unavailable (busy database, full pool); retry later */
    SP_ERR = 5,       /* internal failure; logged where it happened */
    SP_FORBIDDEN = 6, /* the principal may not do this */
};

/* Human-readable name of a return code, for logs. */
const char *sp_rc_name(int rc);

/*
 * An error description filled by a function that returns SP_INVALID (or any other code):
 * `field` names the input at fault ("" when none), `message` is a human sentence.
 * The API layer turns it into {"message","code","field"}.
 */
struct sp_err {
    char field[64];
    char message[256];
};

void sp_err_set(struct sp_err *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define SP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SP_UNUSED(x) ((void)(x))

#endif
