/*
 * problems.h — a list of rule violations, each naming the field (or rule) and file at fault.
 *
 * Validators that must report *every* problem (metadata validation, `scenepacker check`)
 * append here instead of stopping at the first one. The list owns its messages.
 */
#ifndef SP_DOMAIN_PROBLEMS_H
#define SP_DOMAIN_PROBLEMS_H

#include <stddef.h>

struct sp_problem {
    char field[64]; /* metadata field or rule name: "title", "dirname", "nfo", "zip", ... */
    char file[256]; /* file the problem is in, relative to the release dir ("" when none) */
    char *message;  /* human sentence (heap) */
};

struct sp_problems {
    struct sp_problem *items;
    size_t n, cap;
};

#define SP_PROBLEMS_INIT                                                                           \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Append one problem; field and file may be NULL. */
void sp_problems_add(struct sp_problems *p, const char *field, const char *file, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));
/* Release every message and the array; the list is empty and reusable afterwards. */
void sp_problems_free(struct sp_problems *p);

#endif
