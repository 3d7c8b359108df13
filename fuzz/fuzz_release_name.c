/*
 * fuzz_release_name.c — domain/release_name.c (and the text.c transliteration under it) on
 * arbitrary strings.
 *
 * Input: a mode byte, then:
 *   mode 0  a dirname → sp_dirname_validate, sp_short_base (with a "taken" callback refusing
 *           the first few variants), sp_payload_name;
 *   mode 1  free text → sp_dirname_words, sp_text_ascii, sp_group_valid;
 *   mode 2  NUL-separated metadata: field name, value, field name, value, ..., and a last odd
 *           field for the group → sp_meta_set, sp_meta_normalize, sp_meta_check, then
 *           sp_dirname_build for the format picked by the mode byte.
 * Invariants: problems are counted right; an accepted dirname has its 8.3 base (6 characters
 * of [a-z0-9]) and a payload name of at most 140 characters ending in the extension; words use
 * only A-Z a-z 0-9 . _ - with no separator at either end or doubled dots; ASCII folding gives
 * printable ASCII with single inner spaces; a built dirname has at most 243 characters and
 * validates with the group, year and format it was built from.
 */
#include "fuzz_common.h"

#include <ctype.h>

#include "domain/meta.h"
#include "domain/metadata.h"
#include "domain/problems.h"
#include "domain/release_name.h"
#include "domain/text.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_quiet();
    return 0;
}

struct taken_ctx {
    int refuse; /* how many candidates to call taken */
    int calls;
};

static int taken(void *ctx, const char *base, int year)
{
    struct taken_ctx *t = ctx;
    (void)year;
    if (strlen(base) != SP_BASE_LEN)
        fz_fail("sp_short_base asked about \"%s\"", base);
    return t->calls++ < t->refuse;
}

static void check_base(const char *base, const char *name)
{
    if (strlen(base) != SP_BASE_LEN)
        fz_fail("8.3 base \"%s\" of \"%s\" is not %d characters", base, name, SP_BASE_LEN);
    for (const char *p = base; *p; p++)
        if (!isdigit((unsigned char)*p) && !islower((unsigned char)*p))
            fz_fail("8.3 base \"%s\" of \"%s\" holds '%c'", base, name, *p);
}

static void dirname_mode(const char *name, uint8_t knob)
{
    struct sp_problems p = SP_PROBLEMS_INIT;
    struct sp_dirname_info info;
    size_t n = sp_dirname_validate(name, "x", &info, &p);
    if (n != p.n)
        fz_fail("sp_dirname_validate returned %zu for %zu problems", n, p.n);
    for (size_t i = 0; i < p.n; i++)
        if (!p.items[i].message || !*p.items[i].message)
            fz_fail("a problem without a message");
    if (strnlen(info.parts, sizeof info.parts) == sizeof info.parts ||
        strnlen(info.group, sizeof info.group) == sizeof info.group)
        fz_fail("dirname info strings are not terminated");
    char base[SP_BASE_LEN + 1];
    struct sp_err e = {{0}, {0}};
    struct taken_ctx t = {knob % 40, 0};
    int rc = sp_short_base(name, info.year, taken, &t, base, &e);
    if (rc != SP_OK)
        fz_fail("sp_short_base(\"%s\") failed although variants are free: %s", name, e.message);
    check_base(base, name);
    if (n == 0) {
        static const char *const exts[] = {"pdf", "epub", "azw3", "cbz"};
        const char *ext = exts[knob % 4];
        char payload[SP_PAYLOAD_NAME_MAX + 1];
        sp_payload_name(name, ext, payload, sizeof payload);
        size_t pl = strlen(payload), el = strlen(ext);
        if (pl > SP_PAYLOAD_NAME_MAX || pl < el + 2 || strcmp(payload + pl - el, ext) ||
            payload[pl - el - 1] != '.')
            fz_fail("payload name \"%s\" of \"%s\"", payload, name);
    }
    sp_problems_free(&p);
}

static void words_mode(const char *s)
{
    char *w = sp_dirname_words(s);
    size_t n = strlen(w);
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)w[i]) && w[i] != '.' && w[i] != '_' && w[i] != '-')
            fz_fail("dirname words \"%s\" hold '%c'", w, w[i]);
    if (n && (strchr("._-", w[0]) || strchr("._-", w[n - 1])))
        fz_fail("dirname words \"%s\" start or end with a separator", w);
    if (strstr(w, ".."))
        fz_fail("dirname words \"%s\" repeat dots", w);
    sp_free(w);

    char *a = sp_text_ascii(s);
    n = strlen(a);
    for (size_t i = 0; i < n; i++)
        if (a[i] < 0x20 || a[i] > 0x7e)
            fz_fail("sp_text_ascii gave byte 0x%02x", (unsigned char)a[i]);
    if (n && (a[0] == ' ' || a[n - 1] == ' '))
        fz_fail("sp_text_ascii(\"%.100s\") is not trimmed: \"%s\"", s, a);
    if (strstr(a, "  "))
        fz_fail("sp_text_ascii(\"%.100s\") keeps a double space: \"%s\"", s, a);
    sp_free(a);

    int valid = sp_group_valid(s);
    size_t gl = strlen(s);
    int want =
        gl >= 2 && gl <= 30 && isalnum((unsigned char)s[0]) && isalnum((unsigned char)s[gl - 1]);
    for (size_t i = 0; want && i < gl; i++)
        want = isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-';
    if (valid != want)
        fz_fail("sp_group_valid(\"%s\") = %d", s, valid);
}

static void build_mode(const uint8_t *data, size_t size, int format)
{
    enum { MAXF = 2 * SP_META_COUNT + 1 };
    char *f[MAXF], *buf;
    size_t nf = fz_fields(data, size, f, MAXF, &buf);
    struct sp_meta m;
    sp_meta_init(&m);
    size_t i = 0;
    for (; i + 1 < nf; i += 2) {
        struct sp_err e = {{0}, {0}};
        if (sp_meta_set(&m, f[i], f[i + 1], &e) == SP_INVALID && !e.field[0])
            fz_fail("sp_meta_set(%s) refused without naming the field", f[i]);
    }
    const char *group = i < nf ? f[i] : "GRP";
    sp_meta_normalize(&m);
    struct sp_err e = {{0}, {0}};
    if (sp_meta_check(&m, &e) == SP_OK) {
        char out[SP_DIRNAME_MAX + 1];
        if (sp_dirname_build(&m, format, group, out, sizeof out, &e) == SP_OK) {
            size_t n = strlen(out);
            if (n > SP_DIRNAME_MAX)
                fz_fail("built dirname of %zu characters: %s", n, out);
            struct sp_problems p = SP_PROBLEMS_INIT;
            struct sp_dirname_info info;
            if (sp_dirname_validate(out, NULL, &info, &p) != 0)
                fz_fail("built dirname \"%s\" breaks: %s", out, p.items[0].message);
            if (strcmp(info.group, group) != 0 || info.year != sp_meta_year(&m))
                fz_fail("built dirname \"%s\" reads back group %s year %d", out, info.group,
                        info.year);
            int want = sp_format_tag(format) ? format : SP_FMT_PDF;
            if (info.format != want && !(format == SP_FMT_UNKNOWN && info.format == SP_FMT_PDF))
                fz_fail("built dirname \"%s\" reads back format %d, built for %d", out, info.format,
                        format);
            sp_problems_free(&p);
        } else if (!e.field[0]) {
            fz_fail("sp_dirname_build refused without naming the field");
        }
    }
    struct sp_problems p = SP_PROBLEMS_INIT;
    sp_meta_validate(&m, &p);
    sp_problems_free(&p);
    sp_meta_free(&m);
    sp_free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 16 * 1024)
        return 0;
    uint8_t mode = data[0];
    data++, size--;
    switch (mode % 3) {
    case 0: {
        char *s = fz_cstr(data, size);
        dirname_mode(s, mode);
        sp_free(s);
        break;
    }
    case 1: {
        char *s = fz_cstr(data, size);
        words_mode(s);
        sp_free(s);
        break;
    }
    default:
        build_mode(data, size, (mode / 3) % (SP_FMT_PRC + 1));
        break;
    }
    return 0;
}
