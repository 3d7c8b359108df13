/*
 * fuzz_release_files.c — the release files `scenepacker check` reads from releases made
 * elsewhere: the SFV parser (domain/sfv.c), the FILE_ID.DIZ checker and renderer
 * (domain/diz.c) and the CP437 decoder (domain/nfo.c).
 *
 * Input: a mode byte (which also gives disk/disks numbers), then:
 *   mode 0  SFV text → sp_sfv_parse; the entries rendered with sp_sfv_render parse back equal;
 *   mode 1  a DIZ → sp_diz_check (problems counted right, each with a message);
 *   mode 2  NFO bytes → sp_cp437_decode gives valid UTF-8;
 *   mode 3  NUL-separated title, author, volume, issue, edition, language, source, year,
 *           publisher, group → sp_diz_render of raw and of normalised metadata; the DIZ made
 *           from normalised metadata passes sp_diz_check when the group is valid (the ASCII
 *           rule only when the metadata is valid, as the packer guarantees).
 */
#include "fuzz_common.h"

#include "domain/diz.h"
#include "domain/meta.h"
#include "domain/nfo.h"
#include "domain/problems.h"
#include "domain/release_name.h"
#include "domain/sfv.h"
#include "util/buf.h"
#include "util/json.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_quiet();
    return 0;
}

static void sfv_mode(const uint8_t *data, size_t size)
{
    struct sp_sfv_entry *e = NULL, *e2 = NULL;
    struct sp_problems p = SP_PROBLEMS_INIT;
    size_t n = sp_sfv_parse((const char *)data, size, &e, "x.sfv", &p);
    /* a NUL inside a line ends the name early (even at its start); the others round-trip */
    int nul = memchr(data, 0, size) != NULL;
    for (size_t i = 0; i < n; i++)
        if (strnlen(e[i].name, sizeof e[i].name) == sizeof e[i].name || (!nul && !e[i].name[0]))
            fz_fail("SFV entry %zu has an empty or unterminated name", i);
    if (!nul) {
        struct sp_buf out = SP_BUF_INIT;
        sp_sfv_render(e, n, NULL, &out);
        struct sp_problems p2 = SP_PROBLEMS_INIT;
        size_t n2 = sp_sfv_parse(out.data ? out.data : "", out.len, &e2, "y.sfv", &p2);
        if (n2 != n || p2.n)
            fz_fail("rendered SFV parses to %zu entries and %zu problems, not %zu", n2, p2.n, n);
        for (size_t i = 0; i < n; i++)
            if (strcmp(e[i].name, e2[i].name) || e[i].crc != e2[i].crc)
                fz_fail("SFV entry %zu changed through render: \"%s\" %08X vs \"%s\" %08X", i,
                        e[i].name, (unsigned)e[i].crc, e2[i].name, (unsigned)e2[i].crc);
        sp_problems_free(&p2);
        sp_buf_free(&out);
    }
    sp_free(e);
    sp_free(e2);
    sp_problems_free(&p);
}

static void diz_mode(const uint8_t *data, size_t size, int disk, int disks)
{
    struct sp_problems p = SP_PROBLEMS_INIT;
    size_t n = sp_diz_check(data, size, (disk & 1) ? NULL : "GRP", disk, disks, "FILE_ID.DIZ", &p);
    if (n != p.n)
        fz_fail("sp_diz_check returned %zu for %zu problems", n, p.n);
    for (size_t i = 0; i < p.n; i++)
        if (!p.items[i].message || strcmp(p.items[i].field, "diz"))
            fz_fail("a DIZ problem without a message or with field \"%s\"", p.items[i].field);
    sp_problems_free(&p);
}

static void render_mode(const uint8_t *data, size_t size, int disk, int disks)
{
    static const int fields[] = {SP_META_TITLE,  SP_META_AUTHOR,  SP_META_VOLUME,
                                 SP_META_ISSUE,  SP_META_EDITION, SP_META_LANGUAGE,
                                 SP_META_SOURCE, SP_META_YEAR,    SP_META_PUBLISHER};
    enum { NF = SP_ARRAY_LEN(fields) };
    char *f[NF + 1], *buf;
    fz_fields(data, size, f, NF + 1, &buf);
    struct sp_meta m;
    sp_meta_init(&m);
    for (size_t i = 0; i < NF; i++)
        if (*f[i])
            sp_meta_put(&m, fields[i], f[i]);
    const char *group = f[NF];
    struct sp_buf out = SP_BUF_INIT;
    sp_diz_render(&m, "ePUB", group, disk, disks, &out);
    if (sp_group_valid(group)) {
        /* The packer renders only validated metadata; raw values may carry non-ASCII text the
         * DIZ then shows as it is (docs/FUZZING.md, "Also seen"), so the ASCII rule is checked
         * on normalised, valid metadata only. Width, lines, counter and group always (a title
         * holding "DISK: [", fuzz/corpus/release_files/regress-title-disk-*). */
        sp_meta_normalize(&m);
        struct sp_err e = {{0}, {0}};
        int valid = sp_meta_check(&m, &e) == SP_OK;
        struct sp_buf out2 = SP_BUF_INIT;
        sp_diz_render(&m, "ePUB", group, disk, disks, &out2);
        struct sp_problems p = SP_PROBLEMS_INIT;
        sp_diz_check((const unsigned char *)out2.data, out2.len, group, disk, disks, NULL, &p);
        for (size_t i = 0; i < p.n; i++)
            if (valid || strncmp(p.items[i].message, "FILE_ID.DIZ must be plain ASCII", 31))
                fz_fail("rendered DIZ fails its own check: %s\n%s", p.items[i].message, out2.data);
        sp_problems_free(&p);
        sp_buf_free(&out2);
    }
    sp_buf_free(&out);
    sp_meta_free(&m);
    sp_free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 64 * 1024)
        return 0;
    uint8_t mode = data[0];
    int disks = 1 + (mode >> 2) % 20, disk = 1 + (mode >> 4) % disks;
    data++, size--;
    switch (mode & 3) {
    case 0:
        sfv_mode(data, size);
        break;
    case 1:
        diz_mode(data, size, disk, disks);
        break;
    case 2: {
        struct sp_buf u = SP_BUF_INIT;
        sp_cp437_decode(data, size, &u);
        if (u.len && !sp_utf8_valid(u.data, u.len) && !memchr(data, 0, size))
            fz_fail("sp_cp437_decode gave invalid UTF-8");
        sp_buf_free(&u);
        break;
    }
    default:
        render_mode(data, size, disk, disks);
        break;
    }
    return 0;
}
