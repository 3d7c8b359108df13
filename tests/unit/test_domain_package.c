/*
 * test_domain_package.c — packing each fixture format end to end, checked with independent
 * tools as PACKAGING.md §8 asks: `unzip -t` on every volume, `cksfv -f` on the SFV inside the
 * release directory, our own full check, and the payload extracted by `unzip -p` compared byte
 * for byte with the input. Also: the volume-size choice and its refusal naming sizes that work,
 * DRM and lying extensions refused with nothing written, duplicates, cancellation leaving
 * nothing behind, 8.3 uniqueness through the callback, progress, dry runs, fix releases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <regex.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain/meta.h"
#include "domain/metadata.h"
#include "domain/nfo.h"
#include "domain/package.h"
#include "domain/release_check.h"
#include "fixtures_books.h"
#include "util/alloc.h"

static char dir[512];

static int setup(void **state)
{
    fx_tmpdir(dir, "package");
    return 0;
}

static int teardown(void **state)
{
    fx_sh("rm -rf '%s'", dir);
    return 0;
}

static char *path_of(const char *name)
{
    static char p[8][700];
    static int k;
    k = (k + 1) % 8;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

/* A fresh, empty output directory. */
static void out_dir(const char *name, char *out)
{
    snprintf(out, 700, "%s/%s", dir, name);
    fx_sh("rm -rf '%s' && mkdir -p '%s'", out, out);
}

static int entries_in(const char *d)
{
    DIR *dd = opendir(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(dd)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(dd);
    return n;
}

struct progress {
    int calls, last, decreasing, cancel_at_zip;
    char last_step[16];
    atomic_int *flag;
};

static void on_progress(void *ctx, int pct, const char *step)
{
    struct progress *p = ctx;
    if (pct < p->last)
        p->decreasing = 1;
    p->last = pct;
    p->calls++;
    snprintf(p->last_step, sizeof p->last_step, "%s", step);
    if (p->cancel_at_zip && !strcmp(step, "zip") && pct > 20)
        atomic_store(p->flag, 1);
}

static void base_meta(struct sp_meta *m)
{
    sp_meta_init(m);
    struct sp_err e;
    assert_int_equal(sp_meta_set(m, "source", "RETAiL", &e), SP_OK);
    assert_int_equal(sp_meta_set(m, "url", "https://shop.example.com/item/42", &e), SP_OK);
    assert_int_equal(sp_meta_set(m, "release_date", "2024-05-01", &e), SP_OK);
}

/* Pack `input` into `out` and verify the release with unzip, cksfv, our check, and cmp. */
static void pack_and_verify(const char *input, const struct sp_meta *m, const char *out,
                            const char *want_dirname, struct sp_pack_result *res)
{
    struct progress pr = {.last = -1};
    struct sp_pack_request rq = {.input = input,
                                 .out_dir = out,
                                 .group = "TEAM",
                                 .meta = m,
                                 .progress = on_progress,
                                 .ctx = &pr,
                                 .now = 1714521600};
    struct sp_err e = {"", ""};
    struct sp_problems probs = SP_PROBLEMS_INIT;
    int rc = sp_pack(&rq, res, &probs, &e);
    if (rc != SP_OK)
        fail_msg("pack %s: %s: %s", input, e.field, e.message);
    sp_problems_free(&probs);
    if (want_dirname)
        assert_string_equal(res->dirname, want_dirname);
    assert_false(pr.decreasing);
    assert_int_equal(pr.last, 100);
    assert_string_equal(pr.last_step, "done");

    /* layout: exactly the volume, the NFO and the SFV; nothing else left in out */
    assert_int_equal(entries_in(res->path), 3);
    assert_int_equal(res->nfiles, 3);
    regex_t re;
    assert_int_equal(regcomp(&re, "^[a-z0-9]{6}01\\.zip$", REG_EXTENDED | REG_NOSUB), 0);
    assert_int_equal(regexec(&re, res->files[0].name, 0, NULL, 0), 0);
    regfree(&re);
    char nfo_want[80];
    snprintf(nfo_want, sizeof nfo_want, "team-%s.nfo", res->base);
    assert_string_equal(res->nfo_name, nfo_want);
    struct stat st;
    char *zip = sp_asprintf("%s/%s", res->path, res->files[0].name);
    assert_int_equal(stat(zip, &st), 0);
    assert_int_equal(st.st_size, res->files[0].size);
    assert_true(st.st_size <= res->volume_size);

    /* independent tools */
    assert_int_equal(fx_sh("unzip -tq '%s' >/dev/null", zip), 0);
    assert_int_equal(fx_sh("cd '%s' && cksfv -q -f '%s' >/dev/null", res->path, res->sfv_name), 0);
    assert_int_equal(fx_sh("unzip -p '%s' '%s' | cmp -s - '%s'", zip, res->payload_name, input), 0);
    assert_int_equal(fx_sh("test \"$(unzip -Z1 '%s' | tr '\\n' ' ')\" = 'FILE_ID.DIZ %s %s '", zip,
                           res->nfo_name, res->payload_name),
                     0);
    /* the NFO in the ZIP is the NFO of the release */
    assert_int_equal(fx_sh("unzip -p '%s' '%s' | cmp -s - '%s/%s'", zip, res->nfo_name, res->path,
                           res->nfo_name),
                     0);
    sp_free(zip);

    /* our own full check (CRCs, DIZ, NFO width, names, FORMAT tag against the payload) */
    struct sp_problems p = SP_PROBLEMS_INIT;
    assert_int_equal(sp_release_check(res->path, NULL, 0, &p, &e), SP_OK);
    for (size_t i = 0; i < p.n; i++)
        print_message("violation: [%s] %s: %s\n", p.items[i].field, p.items[i].file,
                      p.items[i].message);
    assert_int_equal(p.n, 0);
    sp_problems_free(&p);
}

static void packs_every_format(void **state)
{
    char out[700];
    out_dir("all", out);
    struct sp_pack_result res;
    struct sp_meta m;

    struct fx_epub_opts eo = {.title = "Les Misérables",
                              .author = "Victor Hugo",
                              .language = "fr",
                              .date = "1862-04-03",
                              .filler = 300000};
    fx_epub(path_of("book.epub"), &eo);
    base_meta(&m);
    pack_and_verify(path_of("book.epub"), &m, out,
                    "Victor.Hugo.Les.Miserables.1862.FRENCH.RETAiL.ePUB.eBOOK-TEAM", &res);
    assert_int_equal(res.volume_size, 5000000);
    assert_int_equal(res.format, SP_FMT_EPUB);
    sp_pack_result_free(&res);

    struct fx_pdf_opts po = {.title = "The Pillars of the Earth",
                             .author = "Ken Follett",
                             .pages = 4,
                             .date = "19890101"};
    fx_pdf(path_of("book.pdf"), &po);
    struct sp_err e;
    sp_meta_set(&m, "language", "en", &e);
    sp_meta_set(&m, "edition", "6", &e);
    pack_and_verify(path_of("book.pdf"), &m, out,
                    "Ken.Follett.The.Pillars.of.the.Earth.6th.Edition.1989.RETAiL.eBOOK-TEAM",
                    &res);
    sp_pack_result_free(&res);
    sp_meta_free(&m);

    fx_cbz(path_of("comic.cbz"), 6, 1, 0);
    base_meta(&m);
    pack_and_verify(path_of("comic.cbz"), &m, out,
                    "The.Fixture.Saga.Vol.2.No.7.November.2019.FRENCH.RETAiL.COMiC.CBZ.eBOOK-TEAM",
                    &res);
    sp_pack_result_free(&res);

    struct fx_mobi_opts mo = {.title = "Dune",
                              .author = "Frank Herbert",
                              .language = "en",
                              .date = "1965-08-01",
                              .publisher = "Chilton"};
    fx_mobi(path_of("dune.mobi"), &mo);
    pack_and_verify(path_of("dune.mobi"), &m, out, "Frank.Herbert.Dune.1965.RETAiL.MOBI.eBOOK-TEAM",
                    &res);
    char first_base[8];
    snprintf(first_base, sizeof first_base, "%s", res.base);
    sp_pack_result_free(&res);

    /* same author/title/year in KF8: another release, and another 8.3 name in the same year */
    mo.kf8 = FX_MOBI_KF8;
    fx_mobi(path_of("dune.azw3"), &mo);
    pack_and_verify(path_of("dune.azw3"), &m, out, "Frank.Herbert.Dune.1965.RETAiL.KF8.eBOOK-TEAM",
                    &res);
    sp_pack_result_free(&res);

    mo.kf8 = FX_MOBI_COMBO;
    mo.title = "Dune Messiah";
    fx_mobi(path_of("messiah.azw"), &mo);
    pack_and_verify(path_of("messiah.azw"), &m, out,
                    "Frank.Herbert.Dune.Messiah.1965.RETAiL.AZW.eBOOK-TEAM", &res);
    sp_pack_result_free(&res);
    sp_meta_free(&m);

    /* the releases made above, checked again from outside by our checker as a whole dir */
    assert_int_equal(entries_in(out), 6);
}

struct used {
    char bases[16][8];
    int n;
};

static int base_taken(void *ctx, const char *base, int year)
{
    struct used *u = ctx;
    for (int i = 0; i < u->n; i++)
        if (!strcmp(u->bases[i], base))
            return 1;
    return 0;
}

static void short_names_unique_within_year(void **state)
{
    char out[700];
    out_dir("unique", out);
    struct fx_pdf_opts po = {.title = "Dune", .author = "Frank Herbert", .date = "19650801"};
    fx_pdf(path_of("a.pdf"), &po);
    po.title = "Dune Part Two";
    fx_pdf(path_of("b.pdf"), &po);
    struct sp_meta m;
    base_meta(&m);
    struct sp_err e;
    sp_meta_set(&m, "language", "en", &e);
    struct used u = {.n = 0};
    struct sp_pack_request rq = {
        .out_dir = out, .group = "TEAM", .meta = &m, .base_taken = base_taken, .ctx = &u};
    struct sp_pack_result r1, r2;
    rq.input = path_of("a.pdf");
    assert_int_equal(sp_pack(&rq, &r1, NULL, &e), SP_OK);
    snprintf(u.bases[u.n++], 8, "%s", r1.base);
    rq.input = path_of("b.pdf");
    assert_int_equal(sp_pack(&rq, &r2, NULL, &e), SP_OK);
    assert_string_not_equal(r1.base, r2.base);
    assert_string_not_equal(r1.files[0].name, r2.files[0].name);
    sp_pack_result_free(&r1);
    sp_pack_result_free(&r2);
    sp_meta_free(&m);
}

static void volume_size_choice(void **state)
{
    char out[700];
    out_dir("sizes", out);
    struct fx_epub_opts eo = {.title = "Big Book",
                              .author = "A Writer",
                              .language = "en",
                              .date = "2020",
                              .filler = 7 * 1000 * 1000};
    fx_epub(path_of("big.epub"), &eo);
    struct sp_meta m;
    base_meta(&m);
    struct sp_pack_request rq = {
        .input = path_of("big.epub"), .out_dir = out, .group = "TEAM", .meta = &m};
    struct sp_pack_result res;
    struct sp_err e = {"", ""};

    /* too big for 5MB: refused, naming the sizes that would work, nothing written */
    rq.zip_size = 5000000;
    assert_int_equal(sp_pack(&rq, &res, NULL, &e), SP_INVALID);
    assert_string_equal(e.field, "zip_size");
    assert_non_null(strstr(e.message, "10000000 (10MB)"));
    assert_non_null(strstr(e.message, "250000000 (250MB)"));
    assert_null(strstr(e.message, "5000000 (5MB)"));
    sp_pack_result_free(&res);
    assert_int_equal(entries_in(out), 0);

    /* an explicit larger size is used as is */
    rq.zip_size = 50000000;
    assert_int_equal(sp_pack(&rq, &res, NULL, &e), SP_OK);
    assert_int_equal(res.volume_size, 50000000);
    assert_non_null(memmem(res.nfo.data, res.nfo.len, "1 x 50MB", 8));
    sp_pack_result_free(&res);
    fx_sh("rm -rf '%s'/*", out);

    /* default: the smallest size that holds it */
    rq.zip_size = 0;
    assert_int_equal(sp_pack(&rq, &res, NULL, &e), SP_OK);
    assert_int_equal(res.volume_size, 10000000);
    assert_non_null(memmem(res.nfo.data, res.nfo.len, "1 x 10MB", 8));
    assert_true(res.files[0].size <= 10000000);
    sp_pack_result_free(&res);

    rq.zip_size = 7000000;
    assert_int_equal(sp_pack(&rq, &res, NULL, &e), SP_INVALID);
    assert_string_equal(e.field, "zip_size");
    sp_pack_result_free(&res);
    sp_meta_free(&m);

    int64_t v;
    assert_int_equal(sp_zip_size_parse("10MB", &v, &e), SP_OK);
    assert_int_equal(v, 10000000);
    assert_int_equal(sp_zip_size_parse("250", &v, &e), SP_OK);
    assert_int_equal(v, 250000000);
    assert_int_equal(sp_zip_size_parse("150000000", &v, &e), SP_OK);
    assert_int_equal(sp_zip_size_parse("7MB", &v, &e), SP_INVALID);
    assert_int_equal(sp_zip_size_parse("-5", &v, &e), SP_INVALID);
    assert_int_equal(sp_zip_size_parse("5GB", &v, &e), SP_INVALID);
}

static void larger_than_any_volume(void **state)
{
    /* a PDF whose one stream is a 260 MB sparse hole: refused before anything is written */
    char out[700];
    out_dir("huge", out);
    const char *head = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
                       "2 0 obj\n<< /Type /Pages /Count 1 /Kids [3 0 R] >>\nendobj\n"
                       "3 0 obj\n<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>\nendobj\n"
                       "4 0 obj\n<< /Length 260000000 >>\nstream\n";
    size_t hl = strlen(head);
    long o1 = 9, o2 = (long)(strstr(head, "2 0 obj") - head),
         o3 = (long)(strstr(head, "3 0 obj") - head), o4 = (long)(strstr(head, "4 0 obj") - head);
    int fd = open(path_of("huge.pdf"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, head, hl), (ssize_t)hl);
    off_t end = (off_t)hl + 260000000;
    char tail[512];
    int tl = snprintf(tail, sizeof tail,
                      "\nendstream\nendobj\nxref\n0 5\n0000000000 65535 f \n%010ld 00000 n \n"
                      "%010ld 00000 n \n%010ld 00000 n \n%010ld 00000 n \ntrailer\n<< /Size 5 "
                      "/Root 1 0 R >>\nstartxref\n%lld\n%%%%EOF\n",
                      o1, o2, o3, o4, (long long)end + 18);
    assert_int_equal(pwrite(fd, tail, (size_t)tl, end), tl);
    close(fd);
    struct sp_meta m;
    base_meta(&m);
    struct sp_err e = {"", ""};
    sp_meta_set(&m, "title", "Huge", &e);
    sp_meta_set(&m, "author", "A", &e);
    sp_meta_set(&m, "language", "en", &e);
    sp_meta_set(&m, "publish_date", "2020", &e);
    struct sp_pack_request rq = {
        .input = path_of("huge.pdf"), .out_dir = out, .group = "TEAM", .meta = &m};
    struct sp_pack_result res;
    assert_int_equal(sp_pack(&rq, &res, NULL, &e), SP_INVALID);
    assert_string_equal(e.field, "zip_size");
    assert_non_null(strstr(e.message, "RAR"));
    sp_pack_result_free(&res);
    assert_int_equal(entries_in(out), 0);
    sp_meta_free(&m);
    unlink(path_of("huge.pdf"));
}

static void refusals_leave_nothing(void **state)
{
    char out[700];
    out_dir("refused", out);
    struct sp_meta m;
    base_meta(&m);
    struct sp_err e = {"", ""};
    struct sp_pack_result res;
    struct sp_pack_request rq = {.out_dir = out, .group = "TEAM", .meta = &m};

    struct fx_epub_opts eo = {.title = "T", .author = "A", .drm = FX_DRM_ENCRYPTION};
    fx_epub(path_of("drm.epub"), &eo);
    rq.input = path_of("drm.epub");
    assert_int_equal(sp_pack(&rq, &res, NULL, &e), SP_INVALID);
    assert_string_equal(e.field, "file");
    assert_non_null(strstr(e.message, "DRM"));
    sp_pack_result_free(&res);

    struct fx_mobi_opts mo = {.title = "T", .author = "A", .encryption = 2};
    fx_mobi(path_of("drm.mobi"), &mo);
    rq.input = path_of("drm.mobi");
    assert_int_equal(sp_pack(&rq, &res, NULL, &e), SP_INVALID);
    sp_pack_result_free(&res);

    struct fx_pdf_opts po = {.title = "T", .author = "A", .encrypted = 1};
    fx_pdf(path_of("drm.pdf"), &po);
    rq.input = path_of("drm.pdf");
    assert_int_equal(sp_pack(&rq, &res, NULL, &e), SP_INVALID);
    sp_pack_result_free(&res);

    po.encrypted = 0;
    fx_pdf(path_of("liar.epub"), &po);
    rq.input = path_of("liar.epub");
    assert_int_equal(sp_pack(&rq, &res, NULL, &e), SP_INVALID);
    assert_non_null(strstr(e.message, "lies"));
    sp_pack_result_free(&res);

    /* metadata problems: all listed, first in e */
    fx_pdf(path_of("plain.pdf"), &po);
    rq.input = path_of("plain.pdf");
    struct sp_problems probs = SP_PROBLEMS_INIT;
    assert_int_equal(sp_pack(&rq, &res, &probs, &e), SP_INVALID);
    assert_true(probs.n >= 1);
    int lang = 0;
    for (size_t i = 0; i < probs.n; i++)
        lang |= !strcmp(probs.items[i].field, "language");
    assert_true(lang);
    sp_problems_free(&probs);
    sp_pack_result_free(&res);

    /* template errors */
    sp_meta_set(&m, "language", "en", &e);
    rq.template_text = "{{release}}\n{{nope}}\n";
    assert_int_equal(sp_pack(&rq, &res, NULL, &e), SP_INVALID);
    assert_string_equal(e.field, "template");
    assert_non_null(strstr(e.message, "line 2"));
    sp_pack_result_free(&res);
    rq.template_text = "{{release}} {{release_date}} {{publish_date}} {{language}} {{source}} "
                       "{{disks}} {{size}} {{author}}\n";
    assert_int_equal(sp_pack(&rq, &res, NULL, &e), SP_INVALID); /* RETAiL without {{url}} */
    assert_non_null(strstr(e.message, "{{url}}"));
    sp_pack_result_free(&res);
    rq.template_text = NULL;
    rq.template_name = "nope";
    assert_int_equal(sp_pack(&rq, &res, NULL, &e), SP_INVALID);
    sp_pack_result_free(&res);
    rq.template_name = NULL;

    /* a missing output directory */
    rq.out_dir = path_of("does-not-exist");
    assert_int_equal(sp_pack(&rq, &res, NULL, &e), SP_NOTFOUND);
    sp_pack_result_free(&res);
    rq.out_dir = out;
    assert_int_equal(entries_in(out), 0);

    /* duplicates: the same dirname twice, or one the store knows */
    assert_int_equal(sp_pack(&rq, &res, NULL, &e), SP_OK);
    sp_pack_result_free(&res);
    assert_int_equal(sp_pack(&rq, &res, NULL, &e), SP_CONFLICT);
    sp_pack_result_free(&res);
    assert_int_equal(entries_in(out), 1);
    sp_meta_free(&m);
}

static int known_release(void *ctx, const char *dirname)
{
    return strstr(dirname, "Known") != NULL;
}

static void store_knows_the_dirname(void **state)
{
    char out[700];
    out_dir("known", out);
    struct fx_pdf_opts po = {.title = "Known Book", .author = "A"};
    fx_pdf(path_of("known.pdf"), &po);
    struct sp_meta m;
    base_meta(&m);
    struct sp_err e;
    sp_meta_set(&m, "language", "en", &e);
    struct sp_pack_request rq = {.input = path_of("known.pdf"),
                                 .out_dir = out,
                                 .group = "TEAM",
                                 .meta = &m,
                                 .dirname_taken = known_release};
    struct sp_pack_result res;
    assert_int_equal(sp_pack(&rq, &res, NULL, &e), SP_CONFLICT);
    assert_string_equal(e.field, "name");
    sp_pack_result_free(&res);
    assert_int_equal(entries_in(out), 0);
    sp_meta_free(&m);
}

static void cancel_leaves_nothing(void **state)
{
    char out[700];
    out_dir("cancel", out);
    struct fx_epub_opts eo = {
        .title = "Slow Book", .author = "A", .language = "en", .filler = 12 * 1000 * 1000};
    fx_epub(path_of("slow.epub"), &eo);
    struct sp_meta m;
    base_meta(&m);
    atomic_int flag = 0;
    struct progress pr = {.last = -1, .cancel_at_zip = 1, .flag = &flag};
    struct sp_pack_request rq = {.input = path_of("slow.epub"),
                                 .out_dir = out,
                                 .group = "TEAM",
                                 .meta = &m,
                                 .progress = on_progress,
                                 .ctx = &pr,
                                 .cancel = &flag};
    struct sp_pack_result res;
    struct sp_err e;
    assert_int_equal(sp_pack(&rq, &res, NULL, &e), SP_AGAIN);
    sp_pack_result_free(&res);
    assert_int_equal(entries_in(out), 0); /* no release, no temporary directory */
    /* cancelled before it starts */
    atomic_store(&flag, 1);
    pr.cancel_at_zip = 0;
    assert_int_equal(sp_pack(&rq, &res, NULL, &e), SP_AGAIN);
    sp_pack_result_free(&res);
    assert_int_equal(entries_in(out), 0);
    sp_meta_free(&m);
}

static void dry_run_and_fix_releases(void **state)
{
    char out[700];
    out_dir("dry", out);
    struct fx_pdf_opts po = {.title = "Pillars", .author = "Ken Follett", .date = "19890101"};
    fx_pdf(path_of("p.pdf"), &po);
    struct sp_meta m;
    base_meta(&m);
    struct sp_err e = {"", ""};
    sp_meta_set(&m, "language", "de", &e);
    sp_meta_set(&m, "tags", "proper", &e);
    sp_meta_set(&m, "fixes", "Ken.Follett.Pillars.1989.GERMAN.RETAiL.eBOOK-OLDGRP", &e);
    struct sp_pack_request rq = {.input = path_of("p.pdf"),
                                 .out_dir = out,
                                 .group = "TEAM",
                                 .meta = &m,
                                 .dry_run = 1,
                                 .template_name = "plain"};
    struct sp_pack_result res;
    assert_int_equal(sp_pack(&rq, &res, NULL, &e), SP_OK);
    assert_string_equal(res.dirname, "Ken.Follett.Pillars.1989.GERMAN.RETAiL.PROPER.eBOOK-TEAM");
    assert_non_null(memmem(res.nfo.data, res.nfo.len,
                           "Ken.Follett.Pillars.1989.GERMAN.RETAiL.eBOOK-OLDGRP", 51));
    assert_int_equal(entries_in(out), 0);
    sp_pack_result_free(&res);
    rq.dry_run = 0;
    assert_int_equal(sp_pack(&rq, &res, NULL, &e), SP_OK);
    struct sp_problems p = SP_PROBLEMS_INIT;
    assert_int_equal(sp_release_check(res.path, NULL, 0, &p, &e), SP_OK);
    assert_int_equal(p.n, 0);
    sp_pack_result_free(&res);

    /* an NFOFiX is the corrected NFO alone, and passes the check as such */
    rq.nfo_only = 1;
    assert_int_equal(sp_pack(&rq, &res, NULL, &e), SP_INVALID); /* not tagged NFOFiX */
    assert_string_equal(e.field, "tags");
    sp_pack_result_free(&res);
    sp_meta_set(&m, "tags", "nfofix", &e);
    assert_int_equal(sp_pack(&rq, &res, NULL, &e), SP_OK);
    assert_string_equal(res.dirname, "Ken.Follett.Pillars.1989.GERMAN.RETAiL.NFOFiX.eBOOK-TEAM");
    assert_int_equal(entries_in(res.path), 1);
    assert_int_equal(res.nfiles, 1);
    assert_string_equal(res.files[0].name, res.nfo_name);
    assert_int_equal(sp_release_check(res.path, NULL, 0, &p, &e), SP_OK);
    assert_int_equal(p.n, 0);
    sp_pack_result_free(&res);
    sp_meta_free(&m);
}

static void long_title_full_in_nfo(void **state)
{
    char out[700];
    out_dir("long", out);
    char title[1200] = "";
    for (int i = 0; i < 40; i++)
        strcat(title, i ? " Extraordinary Chronicle" : "Extraordinary Chronicle");
    struct fx_pdf_opts po = {.title = "x", .author = "Someone"};
    fx_pdf(path_of("long.pdf"), &po);
    struct sp_meta m;
    base_meta(&m);
    struct sp_err e = {"", ""};
    sp_meta_set(&m, "title", title, &e);
    sp_meta_set(&m, "language", "fr", &e);
    struct sp_pack_request rq = {
        .input = path_of("long.pdf"), .out_dir = out, .group = "TEAM", .meta = &m};
    struct sp_pack_result res;
    assert_int_equal(sp_pack(&rq, &res, NULL, &e), SP_OK);
    assert_true(strlen(res.dirname) <= 243);
    assert_string_equal(res.dirname + strlen(res.dirname) - strlen(".FRENCH.RETAiL.eBOOK-TEAM"),
                        ".FRENCH.RETAiL.eBOOK-TEAM");
    /* the NFO holds the whole title: wrapped at blanks, so joining the lines (and the
     * continuation indent) gives it back */
    char *joined = sp_malloc(res.nfo.len + 1);
    size_t w = 0;
    for (size_t i = 0; i < res.nfo.len; i++) {
        char c = res.nfo.data[i] == '\r' || res.nfo.data[i] == '\n' ? ' ' : res.nfo.data[i];
        if (c == ' ' && w > 0 && joined[w - 1] == ' ')
            continue;
        joined[w++] = c;
    }
    joined[w] = '\0';
    assert_non_null(strstr(joined, title));
    sp_free(joined);
    struct sp_problems p = SP_PROBLEMS_INIT;
    assert_int_equal(sp_release_check(res.path, NULL, 0, &p, &e), SP_OK);
    assert_int_equal(p.n, 0);
    sp_pack_result_free(&res);
    sp_meta_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(packs_every_format),     cmocka_unit_test(short_names_unique_within_year),
        cmocka_unit_test(volume_size_choice),     cmocka_unit_test(larger_than_any_volume),
        cmocka_unit_test(refusals_leave_nothing), cmocka_unit_test(store_knows_the_dirname),
        cmocka_unit_test(cancel_leaves_nothing),  cmocka_unit_test(dry_run_and_fix_releases),
        cmocka_unit_test(long_title_full_in_nfo),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
