/*
 * fuzz_book.h — what every metadata driver checks after sp_book_analyze / a format reader
 * (header-only, included by fuzz_metadata.c, fuzz_epub.c and fuzz_mobi.c).
 *
 * Whatever the file, the result must be safe to show and store: the return code is one of the
 * documented ones, a refusal names field "file", every metadata value and display detail is
 * valid UTF-8 (they end up in JSON and in NFOs), the DRM reason is a
 * terminated string, and the metadata goes through normalisation and validation (which the
 * wizard runs next) without harm. Metadata values are cleaned on the way in (meta.h), so they
 * must also be free of control characters; display details need only be valid UTF-8.
 */
#ifndef SP_FUZZ_BOOK_H
#define SP_FUZZ_BOOK_H

#include "fuzz_common.h"

#include <jansson.h>

#include "domain/meta.h"
#include "domain/metadata.h"
#include "domain/problems.h"
#include "util/json.h"

/* v is valid UTF-8 that JSON accepts; with no_controls, also free of control characters. */
static inline void fz_check_text(const char *what, const char *v, int no_controls)
{
    size_t n = strlen(v);
    if (!sp_utf8_valid(v, n))
        fz_fail("%s is not valid UTF-8: \"%.200s\"", what, v);
    for (size_t i = 0; no_controls && i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            fz_fail("%s holds control byte 0x%02x: \"%.200s\"", what, (unsigned char)v[i], v);
    json_t *j = json_string(v);
    if (!j)
        fz_fail("%s cannot become a JSON string", what);
    json_decref(j);
}

static inline void fz_check_book(int rc, const struct sp_book *b, const struct sp_err *e)
{
    if (rc != SP_OK && rc != SP_INVALID && rc != SP_NOTFOUND && rc != SP_ERR)
        fz_fail("analysis returned %d", rc);
    if (rc == SP_INVALID && strcmp(e->field, "file") != 0)
        fz_fail("a refused book names field \"%s\" (message \"%s\")", e->field, e->message);
    if (strnlen(b->drm_reason, sizeof b->drm_reason) == sizeof b->drm_reason)
        fz_fail("drm_reason is not terminated");
    if (b->nextra > SP_BOOK_MAX_EXTRA)
        fz_fail("%zu extras", b->nextra);
    for (int f = 0; f < SP_META_COUNT; f++) {
        const char *v = sp_meta_get(&b->meta, f);
        if (v)
            fz_check_text(sp_meta_field_name(f), v, 1);
    }
    for (size_t i = 0; i < b->nextra; i++) {
        if (strnlen(b->extra[i].key, sizeof b->extra[i].key) == sizeof b->extra[i].key)
            fz_fail("an extra's key is not terminated");
        fz_check_text(b->extra[i].key, b->extra[i].value, 0);
    }
    if (rc != SP_OK)
        return;
    struct sp_err e2 = {{0}, {0}};
    sp_book_acceptable(b, &e2);
    struct sp_meta m;
    sp_meta_init(&m);
    sp_meta_copy(&m, &b->meta);
    sp_meta_normalize(&m);
    struct sp_problems p = SP_PROBLEMS_INIT;
    sp_meta_validate(&m, &p);
    sp_problems_free(&p);
    sp_meta_free(&m);
}

#endif
