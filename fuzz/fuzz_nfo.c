/*
 * fuzz_nfo.c — domain/nfo.c: sp_nfo_render with arbitrary template text and values, and the
 * CP437 encoder/decoder.
 *
 * Input: NUL-separated fields: the template, then the values of the template fields in index
 * order (enum sp_meta_field, then release, group, format, disks, size, payload, packer). An
 * empty template stands for a built-in one (picked by the first value's length), so values are
 * fuzzed against the real templates too.
 * Invariants of a rendered NFO: CRLF line ends only, no line wider than 80 bytes, none of the
 * bytes terminals act on (NUL, BEL, BS, TAB, VT, FF, SUB, ESC, bare CR/LF), decodes to valid
 * UTF-8; `rendered` holds only 0/1. A refused template names field "template" and a line.
 */
#include "fuzz_common.h"

#include "domain/meta.h"
#include "domain/nfo.h"
#include "util/buf.h"
#include "util/json.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_quiet();
    return 0;
}

static void check_output(const unsigned char *s, size_t n, const char *tmpl)
{
    size_t col = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == '\r') {
            if (i + 1 >= n || s[i + 1] != '\n')
                fz_fail("bare CR at byte %zu of the NFO of template \"%.200s\"", i, tmpl);
            i++;
            col = 0;
            continue;
        }
        if (c == '\n')
            fz_fail("bare LF at byte %zu of the NFO of template \"%.200s\"", i, tmpl);
        if (c == 0 || c == 0x07 || c == 0x08 || c == 0x09 || c == 0x0B || c == 0x0C || c == 0x1A ||
            c == 0x1B)
            fz_fail("control byte 0x%02x at byte %zu of the NFO of template \"%.200s\"", c, i,
                    tmpl);
        if (++col > SP_NFO_WIDTH)
            fz_fail("a line wider than %d columns in the NFO of template \"%.200s\"", SP_NFO_WIDTH,
                    tmpl);
    }
    if (n && (n < 2 || s[n - 2] != '\r' || s[n - 1] != '\n'))
        fz_fail("the NFO does not end with CRLF (template \"%.200s\")", tmpl);
    struct sp_buf u = SP_BUF_INIT;
    sp_cp437_decode(s, n, &u);
    if (u.len && !sp_utf8_valid(u.data, u.len))
        fz_fail("the decoded NFO is not valid UTF-8");
    sp_buf_free(&u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    char *f[1 + SP_NFO_COUNT], *buf;
    fz_fields(data, size, f, 1 + SP_NFO_COUNT, &buf);
    const char *tmpl = f[0];
    if (!*tmpl) {
        const char *const *names = sp_nfo_template_names();
        size_t k = 0;
        while (names[k])
            k++;
        tmpl = sp_nfo_template(names[strlen(f[1]) % k]);
        if (!tmpl)
            fz_fail("built-in template %s is missing", names[strlen(f[1]) % k]);
    }
    struct sp_nfo_vars vars;
    struct sp_meta m;
    sp_meta_init(&m);
    for (int i = 0; i < SP_NFO_COUNT; i++) {
        vars.value[i] = f[1 + i];
        if (i < SP_META_COUNT && *f[1 + i])
            sp_meta_put(&m, i, f[1 + i]);
    }

    struct sp_buf out = SP_BUF_INIT;
    unsigned char rendered[SP_NFO_COUNT];
    struct sp_err e = {{0}, {0}};
    int rc = sp_nfo_render(tmpl, &vars, &out, rendered, &e);
    if (rc == SP_OK) {
        check_output((const unsigned char *)out.data, out.len, tmpl);
        for (int i = 0; i < SP_NFO_COUNT; i++)
            if (rendered[i] > 1)
                fz_fail("rendered[%d] = %d", i, rendered[i]);
        struct sp_err e2 = {{0}, {0}};
        if (sp_nfo_check_required(rendered, &m, &e2) == SP_INVALID && !e2.message[0])
            fz_fail("sp_nfo_check_required refused without a message");
    } else if (rc == SP_INVALID) {
        if (strcmp(e.field, "template") != 0 || strncmp(e.message, "line ", 5) != 0)
            fz_fail("a refused template gives field \"%s\", message \"%s\"", e.field, e.message);
        for (int i = 0; i < SP_NFO_COUNT; i++)
            if (rendered[i])
                fz_fail("rendered[%d] set although the template was refused", i);
    } else {
        fz_fail("sp_nfo_render returned %d", rc);
    }
    sp_buf_free(&out);

    /* the encoder on the raw template: decoding gives valid UTF-8 back */
    struct sp_buf enc = SP_BUF_INIT, dec = SP_BUF_INIT;
    sp_cp437_encode(f[0], strlen(f[0]), &enc);
    sp_cp437_decode((const unsigned char *)enc.data, enc.len, &dec);
    if (dec.len && !sp_utf8_valid(dec.data, dec.len))
        fz_fail("CP437 encode/decode of the template is not valid UTF-8");
    sp_buf_free(&enc);
    sp_buf_free(&dec);
    sp_meta_free(&m);
    sp_free(buf);
    return 0;
}
