/* pack.c — `scenepacker pack | check | inspect`: the packer without a server.
 *
 * Exit codes (also in --help and docs/PACKING.md):
 *   pack     0 packed · 1 refused (DRM, lying extension, metadata, template, size, duplicate)
 *            · 2 usage or I/O error · 130 interrupted (nothing is left behind)
 *   check    0 clean · 1 violations · 2 usage or I/O error
 *   inspect  0 a packable book · 1 unsupported, damaged, DRM or lying extension · 2 usage/I/O
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "domain/metadata.h"
#include "domain/nfo.h"
#include "domain/package.h"
#include "domain/release_check.h"
#include "domain/release_name.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/time.h"

enum { EXIT_CLEAN = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_INTERRUPTED = 130 };

static const char pack_usage[] =
    "usage: scenepacker pack FILE --group G [options]\n"
    "\n"
    "Pack one e-book (PDF, EPUB, CBZ, MOBI/AZW/KF8/PRC) into a scene release directory:\n"
    "NFO, FILE_ID.DIZ, 8.3 ZIP volume(s) and SFV, checked before it is moved into place.\n"
    "\n"
    "options:\n"
    "  --group G           release group (2-30 of A-Z a-z 0-9 _ -)            (required)\n"
    "  --source S          RETAiL, SCAN or HYBRiD\n"
    "  --kind K            fiction (default), technical, magazine, comic, manga, newspaper\n"
    "  --meta KEY=VALUE    set a metadata field (repeatable); keys: title author publisher\n"
    "                      year language source isbn issn genre release_date publish_date\n"
    "                      store_date url shop_url edition volume issue month book_kind\n"
    "                      pages tags fixes notes\n"
    "  --template T        built-in NFO template (classic, plain) or a template file\n"
    "  --zip-size N        volume size: 5MB 10MB 50MB 100MB 150MB 200MB 250MB (or bytes);\n"
    "                      default: the smallest that holds the release in one volume\n"
    "  --out DIR           where the release directory is created (default: .)\n"
    "  --dry-run           show the name and the NFO, write nothing\n"
    "  --nfo-only          an NFOFiX release: the corrected NFO alone (needs\n"
    "                      --meta tags=NFOFiX --meta fixes=<the release it fixes>)\n"
    "  --json              print the result as JSON on stdout\n"
    "  -q, --quiet         no progress output\n"
    "\n"
    "What the file carries (title, author, ...) is used unless --meta overrides it;\n"
    "release_date defaults to today (UTC).\n"
    "\n"
    "exit codes: 0 packed, 1 refused (DRM, extension, metadata, template, size,\n"
    "            duplicate), 2 usage or I/O error, 130 interrupted (nothing left behind)\n";

static const char check_usage[] =
    "usage: scenepacker check DIR... [--quick] [--json]\n"
    "\n"
    "Verify release directories (made here or elsewhere) against the eBOOK rules and list\n"
    "every violation: dirname, layout, NFO (80 columns, CP437, CRLF), SFV and CRCs, ZIP\n"
    "volumes (8.3 names, sizes, <= 99 files, FILE_ID.DIZ, NFO copy, payload format).\n"
    "\n"
    "options:\n"
    "  --quick             skip reading every byte (no CRC verification)\n"
    "  --json              print the result as JSON on stdout\n"
    "\n"
    "exit codes: 0 clean, 1 violations, 2 usage or I/O error\n";

static const char inspect_usage[] =
    "usage: scenepacker inspect FILE [--json]\n"
    "\n"
    "Show the detected format (from the bytes), DRM, the extension check and the metadata\n"
    "the file carries.\n"
    "\n"
    "exit codes: 0 a packable book, 1 unsupported, damaged, DRM or lying extension,\n"
    "            2 usage or I/O error\n";

/* ---- argument parsing ------------------------------------------------------------------ */

/* "--name value" or "--name=value": returns the value (advancing *i) or NULL. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, int *missing)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n))
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

static int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "scenepacker %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see scenepacker %s --help)\n", cmd);
    va_end(ap);
    return EXIT_USAGE;
}

static int exit_for(int rc)
{
    switch (rc) {
    case SP_OK:
        return EXIT_CLEAN;
    case SP_INVALID:
    case SP_CONFLICT:
        return EXIT_REFUSED;
    case SP_AGAIN:
        return EXIT_INTERRUPTED;
    default:
        return EXIT_USAGE;
    }
}

static void print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
    json_decref(j);
}

static json_t *meta_json(const struct sp_meta *m)
{
    json_t *o = json_object();
    for (int i = 0; i < SP_META_COUNT; i++)
        if (sp_meta_get(m, i))
            json_object_set_new(o, sp_meta_field_name(i), json_string(sp_meta_get(m, i)));
    return o;
}

static json_t *problems_json(const struct sp_problems *p)
{
    json_t *a = json_array();
    for (size_t i = 0; i < p->n; i++)
        json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "field", p->items[i].field, "file",
                                           p->items[i].file, "message", p->items[i].message));
    return a;
}

static json_t *error_json(int rc, const struct sp_err *e, const struct sp_problems *p)
{
    return json_pack("{s:b,s:{s:s,s:s,s:s},s:o}", "ok", 0, "error", "code", sp_rc_name(rc), "field",
                     e->field, "message", e->message, "problems", problems_json(p));
}

/* ---- progress -------------------------------------------------------------------------- */

static atomic_int interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    atomic_store(&interrupted, 1);
}

struct cli_ctx {
    int tty, quiet;
    int last_pct;
    char last_step[16];
    const char *out_dir;
    /* 8.3 bases already used in out_dir, by year (scanned on first use) */
    int scanned;
    struct {
        int year;
        char stem[16];
    } * used;
    size_t nused;
};

static void on_progress(void *ctx, int pct, const char *step)
{
    struct cli_ctx *c = ctx;
    if (c->quiet)
        return;
    int new_step = strcmp(step, c->last_step) != 0;
    if (c->tty) {
        char bar[31];
        int fill = pct * 30 / 100;
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r[%s] %3d%% %-10s", bar, pct, step);
        if (pct >= 100)
            fputc('\n', stderr);
        fflush(stderr);
    } else if (new_step || pct / 25 != c->last_pct / 25 || pct == 100) {
        fprintf(stderr, "progress %3d%% %s\n", pct, step);
    }
    c->last_pct = pct;
    snprintf(c->last_step, sizeof c->last_step, "%s", step);
}

static void scan_out_dir(struct cli_ctx *c)
{
    c->scanned = 1;
    DIR *d = opendir(c->out_dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        struct sp_dirname_info info;
        struct sp_problems p = SP_PROBLEMS_INIT;
        sp_dirname_validate(de->d_name, NULL, &info, &p);
        sp_problems_free(&p);
        if (!info.year)
            continue;
        char *sub = sp_asprintf("%s/%s", c->out_dir, de->d_name);
        DIR *sd = opendir(sub);
        sp_free(sub);
        if (!sd)
            continue;
        struct dirent *f;
        while ((f = readdir(sd))) {
            size_t n = strlen(f->d_name);
            if (n < 7 || n > 14 || strcmp(f->d_name + n - 4, ".zip"))
                continue;
            c->used = sp_reallocarray(c->used, c->nused + 1, sizeof *c->used);
            c->used[c->nused].year = info.year;
            snprintf(c->used[c->nused].stem, sizeof c->used[c->nused].stem, "%.*s", (int)(n - 6),
                     f->d_name);
            c->nused++;
        }
        closedir(sd);
    }
    closedir(d);
}

/* 8.3 uniqueness for the CLI: the releases already in --out are the ones it knows. */
static int base_taken(void *ctx, const char *base, int year)
{
    struct cli_ctx *c = ctx;
    if (!c->scanned)
        scan_out_dir(c);
    for (size_t i = 0; i < c->nused; i++)
        if (c->used[i].year == year && !strcmp(c->used[i].stem, base))
            return 1;
    return 0;
}

/* ---- pack ------------------------------------------------------------------------------ */

static char *read_template(const char *path, struct sp_err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        sp_err_set(e, "template", "cannot open template %s: %s", path, strerror(errno));
        return NULL;
    }
    enum { CAP = 256 * 1024 };
    char *buf = sp_malloc(CAP + 1);
    size_t n = fread(buf, 1, CAP + 1, f);
    fclose(f);
    if (n > CAP) {
        sp_free(buf);
        sp_err_set(e, "template", "template %s is larger than 256 KiB", path);
        return NULL;
    }
    buf[n] = '\0';
    if (strlen(buf) != n) {
        sp_free(buf);
        sp_err_set(e, "template", "template %s contains a NUL byte", path);
        return NULL;
    }
    return buf;
}

int sp_cli_pack(int argc, char **argv)
{
    const char *file = NULL, *group = NULL, *tmpl_arg = NULL, *out = ".", *zip_arg = NULL;
    int json = 0, quiet = 0, dry = 0, nfo_only = 0, rc_exit = EXIT_USAGE;
    struct sp_meta meta;
    sp_meta_init(&meta);
    struct sp_err e = {"", ""};
    char *tmpl_text = NULL;
    struct cli_ctx ctx = {0};
    struct sp_problems problems = SP_PROBLEMS_INIT;
    struct sp_pack_result res;
    memset(&res, 0, sizeof res);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int missing = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(pack_usage, stdout);
            rc_exit = EXIT_CLEAN;
            goto out;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            quiet = 1;
        } else if (!strcmp(a, "--dry-run")) {
            dry = 1;
        } else if (!strcmp(a, "--nfo-only")) {
            nfo_only = 1;
        } else if ((v = opt_value(argc, argv, &i, "--group", &missing))) {
            group = v;
        } else if ((v = opt_value(argc, argv, &i, "--source", &missing))) {
            if (!sp_source_canonical(v)) {
                rc_exit =
                    usage_error("pack", "--source must be RETAiL, SCAN or HYBRiD, not '%s'", v);
                goto out;
            }
            sp_meta_put(&meta, SP_META_SOURCE, sp_source_canonical(v));
        } else if ((v = opt_value(argc, argv, &i, "--kind", &missing))) {
            if (sp_kind_parse(v) < 0) {
                rc_exit = usage_error("pack",
                                      "--kind must be fiction, technical, magazine, "
                                      "comic, manga or newspaper, not '%s'",
                                      v);
                goto out;
            }
            sp_meta_put(&meta, SP_META_BOOK_KIND, sp_kind_name(sp_kind_parse(v)));
        } else if ((v = opt_value(argc, argv, &i, "--meta", &missing))) {
            const char *eq = strchr(v, '=');
            if (!eq) {
                rc_exit = usage_error("pack", "--meta wants KEY=VALUE, not '%s'", v);
                goto out;
            }
            char *key = sp_strndup(v, (size_t)(eq - v));
            int r = sp_meta_set(&meta, key, eq + 1, &e);
            sp_free(key);
            if (r != SP_OK) {
                rc_exit = usage_error("pack", "%s", e.message);
                goto out;
            }
        } else if ((v = opt_value(argc, argv, &i, "--template", &missing))) {
            tmpl_arg = v;
        } else if ((v = opt_value(argc, argv, &i, "--zip-size", &missing))) {
            zip_arg = v;
        } else if ((v = opt_value(argc, argv, &i, "--out", &missing))) {
            out = v;
        } else if (missing) {
            rc_exit = usage_error("pack", "%s needs a value", a);
            goto out;
        } else if (a[0] == '-' && a[1]) {
            rc_exit = usage_error("pack", "unknown option %s", a);
            goto out;
        } else if (file) {
            rc_exit = usage_error("pack", "one FILE at a time (got also '%s')", a);
            goto out;
        } else {
            file = a;
        }
    }
    if (!file) {
        rc_exit = usage_error("pack", "%s", "FILE is required");
        goto out;
    }
    if (!group) {
        rc_exit = usage_error("pack", "%s", "--group is required");
        goto out;
    }
    int64_t zip_size = 0;
    if (zip_arg && sp_zip_size_parse(zip_arg, &zip_size, &e) != SP_OK) {
        rc_exit = usage_error("pack", "%s", e.message);
        goto out;
    }
    const char *tmpl_name = NULL;
    if (tmpl_arg) {
        struct stat st;
        if (sp_nfo_template(tmpl_arg) && stat(tmpl_arg, &st) != 0) {
            tmpl_name = tmpl_arg;
        } else if (strchr(tmpl_arg, '/') || stat(tmpl_arg, &st) == 0) {
            if (!(tmpl_text = read_template(tmpl_arg, &e))) {
                rc_exit = usage_error("pack", "%s", e.message);
                goto out;
            }
        } else {
            rc_exit = usage_error("pack",
                                  "unknown template '%s' (built-in: classic, plain; or "
                                  "a file path)",
                                  tmpl_arg);
            goto out;
        }
    }
    if (!sp_meta_get(&meta, SP_META_RELEASE_DATE)) {
        char today[32];
        sp_time_rfc3339(sp_time_now(), today, sizeof today);
        today[10] = '\0';
        sp_meta_put(&meta, SP_META_RELEASE_DATE, today);
    }

    ctx.tty = isatty(STDERR_FILENO);
    ctx.quiet = quiet;
    ctx.last_pct = -1;
    ctx.out_dir = out;
    struct sp_pack_request rq = {
        .input = file,
        .out_dir = out,
        .group = group,
        .meta = &meta,
        .template_text = tmpl_text,
        .template_name = tmpl_name,
        .zip_size = zip_size,
        .base_taken = base_taken,
        .progress = dry ? NULL : on_progress,
        .ctx = &ctx,
        .cancel = &interrupted,
        .dry_run = dry,
        .nfo_only = nfo_only,
    };
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    atomic_store(&interrupted, 0);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    int rc = sp_pack(&rq, &res, &problems, &e);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (ctx.tty && !quiet && !dry && rc != SP_OK && ctx.last_pct >= 0)
        fputc('\n', stderr);
    rc_exit = exit_for(rc);

    if (json) {
        if (rc != SP_OK) {
            print_json(error_json(rc, &e, &problems));
            goto out;
        }
        json_t *files = json_array();
        for (size_t i = 0; i < res.nfiles; i++) {
            char crc[9];
            snprintf(crc, sizeof crc, "%08X", (unsigned)res.files[i].crc);
            json_array_append_new(files,
                                  json_pack("{s:s,s:I,s:s}", "name", res.files[i].name, "size",
                                            (json_int_t)res.files[i].size, "crc32", crc));
        }
        struct sp_buf nfo8 = SP_BUF_INIT;
        sp_cp437_decode((const unsigned char *)res.nfo.data, res.nfo.len, &nfo8);
        json_t *j = json_pack(
            "{s:b,s:b,s:s,s:s,s:s,s:I,s:I,s:i,s:s,s:s,s:s,s:o,s:o,s:s}", "ok", 1, "dry_run", dry,
            "dirname", res.dirname, "path", res.path ? res.path : "", "format",
            sp_format_name(res.format), "payload_size", (json_int_t)res.payload_size, "volume_size",
            (json_int_t)res.volume_size, "volumes", res.volumes, "payload", res.payload_name, "nfo",
            res.nfo_name, "sfv", res.sfv_name, "files", files, "metadata", meta_json(&res.meta),
            "nfo_text", nfo8.data ? nfo8.data : "");
        sp_buf_free(&nfo8);
        print_json(j);
        goto out;
    }
    if (rc != SP_OK) {
        fprintf(stderr, "scenepacker pack: %s%s%s%s\n", rc == SP_AGAIN ? "interrupted: " : "",
                e.field[0] ? e.field : "", e.field[0] ? ": " : "", e.message);
        for (size_t i = 1; i < problems.n; i++)
            fprintf(stderr, "  also %s: %s\n", problems.items[i].field, problems.items[i].message);
        goto out;
    }
    if (dry) {
        struct sp_buf nfo8 = SP_BUF_INIT;
        sp_cp437_decode((const unsigned char *)res.nfo.data, res.nfo.len, &nfo8);
        printf("%s\n  volumes  %d x %s (%s01.zip)\n  nfo      %s\n  sfv      %s\n  payload  "
               "%s\n\n",
               res.dirname, res.volumes, sp_zip_size_label(res.volume_size), res.base, res.nfo_name,
               res.sfv_name, res.payload_name);
        for (size_t i = 0; i < nfo8.len; i++)
            if (nfo8.data[i] != '\r')
                fputc(nfo8.data[i], stdout);
        sp_buf_free(&nfo8);
        goto out;
    }
    printf("%s\n  path     %s\n  format   %s\n  volumes  %d x %s\n", res.dirname, res.path,
           sp_format_name(res.format), res.volumes, sp_zip_size_label(res.volume_size));
    for (size_t i = 0; i < res.nfiles; i++)
        printf("  %-16s %12" PRId64 "  %08X\n", res.files[i].name, res.files[i].size,
               (unsigned)res.files[i].crc);
out:
    sp_pack_result_free(&res);
    sp_problems_free(&problems);
    sp_meta_free(&meta);
    sp_free(tmpl_text);
    sp_free(ctx.used);
    return rc_exit;
}

/* ---- check ----------------------------------------------------------------------------- */

int sp_cli_check(int argc, char **argv)
{
    int json = 0, flags = 0, worst = EXIT_CLEAN;
    int ndirs = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(check_usage, stdout);
            return EXIT_CLEAN;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--quick")) {
            flags |= SP_CHECK_QUICK;
        } else if (a[0] == '-' && a[1]) {
            return usage_error("check", "unknown option %s", a);
        } else {
            ndirs++;
        }
    }
    if (!ndirs)
        return usage_error("check", "%s", "DIR is required");
    json_t *all = json ? json_array() : NULL;
    for (int i = 1; i < argc; i++) {
        const char *dir = argv[i];
        if (dir[0] == '-' && dir[1])
            continue;
        struct sp_problems p = SP_PROBLEMS_INIT;
        struct sp_err e = {"", ""};
        int rc = sp_release_check(dir, NULL, flags, &p, &e);
        int code = rc != SP_OK ? EXIT_USAGE : p.n ? EXIT_REFUSED : EXIT_CLEAN;
        if (code > worst)
            worst = code;
        if (json) {
            if (rc != SP_OK)
                json_array_append_new(
                    all, json_pack("{s:s,s:b,s:s}", "path", dir, "ok", 0, "error", e.message));
            else
                json_array_append_new(all, json_pack("{s:s,s:b,s:o}", "path", dir, "ok", p.n == 0,
                                                     "violations", problems_json(&p)));
        } else if (rc != SP_OK) {
            fprintf(stderr, "scenepacker check: %s\n", e.message);
        } else if (!p.n) {
            printf("ok  %s\n", dir);
        } else {
            printf("%zu violation%s  %s\n", p.n, p.n > 1 ? "s" : "", dir);
            for (size_t k = 0; k < p.n; k++)
                printf("  [%s] %s%s%s\n", p.items[k].field, p.items[k].file,
                       p.items[k].file[0] ? ": " : "", p.items[k].message);
        }
        sp_problems_free(&p);
    }
    if (json) {
        if (ndirs == 1) {
            json_t *one = json_incref(json_array_get(all, 0));
            json_decref(all);
            all = one;
        }
        print_json(all);
    }
    return worst;
}

/* ---- inspect --------------------------------------------------------------------------- */

int sp_cli_inspect(int argc, char **argv)
{
    const char *file = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(inspect_usage, stdout);
            return EXIT_CLEAN;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (a[0] == '-' && a[1]) {
            return usage_error("inspect", "unknown option %s", a);
        } else if (file) {
            return usage_error("inspect", "one FILE at a time (got also '%s')", a);
        } else {
            file = a;
        }
    }
    if (!file)
        return usage_error("inspect", "%s", "FILE is required");
    struct sp_book b;
    struct sp_err e = {"", ""};
    int rc = sp_book_analyze(file, NULL, SP_ANALYZE_SHA256, &b, &e);
    int code;
    struct sp_err why = {"", ""};
    if (rc == SP_OK)
        code = sp_book_acceptable(&b, &why) == SP_OK ? EXIT_CLEAN : EXIT_REFUSED;
    else
        code = rc == SP_INVALID ? EXIT_REFUSED : EXIT_USAGE;
    if (json) {
        json_t *j;
        if (rc != SP_OK) {
            j = json_pack("{s:s,s:b,s:s,s:s}", "path", file, "ok", 0, "format", "unknown", "error",
                          e.message);
        } else {
            json_t *extra = json_object();
            for (size_t i = 0; i < b.nextra; i++)
                json_object_set_new(extra, b.extra[i].key, json_string(b.extra[i].value));
            j = json_pack("{s:s,s:b,s:s,s:s,s:s,s:b,s:b,s:s,s:I,s:i,s:s,s:o,s:o}", "path", file,
                          "ok", code == EXIT_CLEAN, "format", sp_format_name(b.format), "family",
                          sp_family_name(b.family), "extension", b.ext, "extension_ok", b.ext_ok,
                          "drm", b.drm, "drm_reason", b.drm ? b.drm_reason : "", "size",
                          (json_int_t)b.size, "pages", b.pages, "sha256", b.sha256, "metadata",
                          meta_json(&b.meta), "details", extra);
            if (code != EXIT_CLEAN)
                json_object_set_new(j, "error", json_string(why.message));
        }
        print_json(j);
    } else if (rc != SP_OK) {
        fprintf(stderr, "scenepacker inspect: %s\n", e.message);
    } else {
        printf("%s\n  format     %s (%s)\n  extension  .%s %s\n  drm        %s%s\n"
               "  size       %" PRId64 " bytes\n  sha256     %s\n",
               file, sp_format_name(b.format), sp_family_name(b.family), b.ext,
               b.ext_ok ? "ok" : "CONTRADICTS THE CONTENT", b.drm ? "YES: " : "none",
               b.drm ? b.drm_reason : "", b.size, b.sha256);
        for (int i = 0; i < SP_META_COUNT; i++)
            if (sp_meta_get(&b.meta, i))
                printf("  %-10s %s\n", sp_meta_field_name(i), sp_meta_get(&b.meta, i));
        for (size_t i = 0; i < b.nextra; i++)
            printf("  %-10s %s\n", b.extra[i].key, b.extra[i].value);
        if (code != EXIT_CLEAN)
            printf("refused: %s\n", why.message);
    }
    sp_book_free(&b);
    return code;
}
