/*
 * test_domain_cli_pack.c — `scenepacker pack | check | inspect` as a user runs them: exit codes
 * (0 done/clean, 1 refused/violations, 2 usage or I/O), --json output, --dry-run writing
 * nothing, template files, plain progress lines when stderr is not a terminal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "fixtures_books.h"
#include "util/alloc.h"

static char dir[512], out[700], epub[700], drm[700];
static char *captured_out, *captured_err;

static int setup(void **state)
{
    fx_tmpdir(dir, "cli");
    snprintf(out, sizeof out, "%s/out", dir);
    mkdir(out, 0755);
    snprintf(epub, sizeof epub, "%s/book.epub", dir);
    struct fx_epub_opts eo = {
        .title = "Command Line", .author = "Cee Ell", .language = "de", .date = "2010-10-10"};
    fx_epub(epub, &eo);
    snprintf(drm, sizeof drm, "%s/drm.epub", dir);
    eo.drm = FX_DRM_RIGHTS;
    fx_epub(drm, &eo);
    return 0;
}

static int teardown(void **state)
{
    fx_sh("rm -rf '%s'", dir);
    free(captured_out);
    free(captured_err);
    return 0;
}

/* Run a subcommand with stdout and stderr captured into captured_out / captured_err. */
static int run(int (*fn)(int, char **), ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, fn);
    for (const char *a; argc < 31 && (a = va_arg(ap, const char *));)
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    char po[800], pe[800];
    snprintf(po, sizeof po, "%s/stdout", dir);
    snprintf(pe, sizeof pe, "%s/stderr", dir);
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    int fo = open(po, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int fe = open(pe, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fo, 1);
    dup2(fe, 2);
    int rc = fn(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so), close(se), close(fo), close(fe);
    free(captured_out);
    free(captured_err);
    captured_out = (char *)fx_read(po, NULL);
    captured_err = (char *)fx_read(pe, NULL);
    return rc;
}

static json_t *out_json(void)
{
    json_error_t err;
    json_t *j = json_loads(captured_out, 0, &err);
    if (!j)
        fail_msg("not JSON (%s): %s", err.text, captured_out);
    return j;
}

static void pack_usage_errors(void **state)
{
    assert_int_equal(run(sp_cli_pack, "pack", "--help", NULL), 0);
    assert_non_null(strstr(captured_out, "exit codes"));
    assert_int_equal(run(sp_cli_pack, "pack", epub, NULL), 2); /* no --group */
    assert_non_null(strstr(captured_err, "--group"));
    assert_int_equal(run(sp_cli_pack, "pack", "--group", "TEAM", NULL), 2); /* no FILE */
    assert_int_equal(run(sp_cli_pack, "pack", epub, "--group", "TEAM", "--bogus", NULL), 2);
    assert_int_equal(run(sp_cli_pack, "pack", epub, "--group", "TEAM", "--zip-size", "7MB", NULL),
                     2);
    assert_non_null(strstr(captured_err, "zip_size"));
    assert_int_equal(run(sp_cli_pack, "pack", epub, "--group", "TEAM", "--source", "WEB", NULL), 2);
    assert_int_equal(
        run(sp_cli_pack, "pack", epub, "--group", "TEAM", "--meta", "colour=red", NULL), 2);
    assert_int_equal(run(sp_cli_pack, "pack", epub, "--group", "TEAM", "--template", "nope", NULL),
                     2);
    assert_int_equal(run(sp_cli_pack, "pack", epub, "--group", NULL), 2); /* missing value */
    char missing[800];
    snprintf(missing, sizeof missing, "%s/missing.epub", dir);
    assert_int_equal(run(sp_cli_pack, "pack", missing, "--group", "TEAM", "--out", out, NULL), 2);
}

static void pack_json_then_duplicate(void **state)
{
    char today[16];
    time_t now = time(NULL);
    strftime(today, sizeof today, "%Y-%m-%d", gmtime(&now));
    assert_int_equal(run(sp_cli_pack, "pack", epub, "--group", "TEAM", "--source", "retail",
                         "--meta", "url=https://shop.example.com/cl", "--out", out, "--json", NULL),
                     0);
    json_t *j = out_json();
    assert_true(json_is_true(json_object_get(j, "ok")));
    const char *dn = json_string_value(json_object_get(j, "dirname"));
    assert_string_equal(dn, "Cee.Ell.Command.Line.2010.GERMAN.RETAiL.ePUB.eBOOK-TEAM");
    json_t *files = json_object_get(j, "files");
    assert_int_equal(json_array_size(files), 3);
    assert_int_equal(strlen(json_string_value(json_object_get(json_array_get(files, 0), "crc32"))),
                     8);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "metadata"), "release_date")), today);
    assert_non_null(strstr(json_string_value(json_object_get(j, "nfo_text")), dn));
    assert_int_equal(json_integer_value(json_object_get(j, "volume_size")), 5000000);
    char rel[1000];
    snprintf(rel, sizeof rel, "%s/%s", out, dn);
    struct stat st;
    assert_int_equal(stat(rel, &st), 0);
    json_decref(j);
    /* plain progress lines on a non-terminal stderr */
    assert_non_null(strstr(captured_err, "progress 100% done"));

    /* again: refused as a duplicate, exit 1, JSON error */
    assert_int_equal(run(sp_cli_pack, "pack", epub, "--group", "TEAM", "--source", "RETAiL",
                         "--meta", "url=https://shop.example.com/cl", "--out", out, "--json", "-q",
                         NULL),
                     1);
    j = out_json();
    assert_true(json_is_false(json_object_get(j, "ok")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "code")),
                        "conflict");
    json_decref(j);
    assert_string_equal(captured_err, ""); /* -q: no progress */

    /* the release passes check, text and JSON */
    assert_int_equal(run(sp_cli_check, "check", rel, NULL), 0);
    assert_non_null(strstr(captured_out, "ok  "));
    assert_int_equal(run(sp_cli_check, "check", "--json", "--quick", rel, NULL), 0);
    j = out_json();
    assert_true(json_is_true(json_object_get(j, "ok")));
    assert_int_equal(json_array_size(json_object_get(j, "violations")), 0);
    json_decref(j);

    /* tampered: violations listed, exit 1 */
    fx_sh("cd '%s' && touch stray.txt", rel);
    assert_int_equal(run(sp_cli_check, "check", rel, NULL), 1);
    assert_non_null(strstr(captured_out, "[layout] stray.txt: unexpected file"));
    assert_int_equal(run(sp_cli_check, "check", "--json", rel, NULL), 1);
    j = out_json();
    assert_true(json_is_false(json_object_get(j, "ok")));
    json_t *v = json_array_get(json_object_get(j, "violations"), 0);
    assert_string_equal(json_string_value(json_object_get(v, "field")), "layout");
    assert_string_equal(json_string_value(json_object_get(v, "file")), "stray.txt");
    json_decref(j);
    unlink(strcat(rel, "/stray.txt"));
}

static void pack_refusals(void **state)
{
    assert_int_equal(run(sp_cli_pack, "pack", drm, "--group", "TEAM", "--source", "SCAN", "--out",
                         out, "--json", NULL),
                     1);
    json_t *j = out_json();
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "field")),
                        "file");
    json_decref(j);
    /* metadata problems: the first is the error, all are listed */
    char pdf[800];
    snprintf(pdf, sizeof pdf, "%s/nolang.pdf", dir);
    struct fx_pdf_opts po = {.title = "No Language", .author = "X"};
    fx_pdf(pdf, &po);
    assert_int_equal(run(sp_cli_pack, "pack", pdf, "--group", "TEAM", "--out", out, NULL), 1);
    assert_non_null(strstr(captured_err, "language is required"));
    assert_non_null(strstr(captured_err, "source"));
    /* a template file with an unknown field: the line is named */
    char t[800];
    snprintf(t, sizeof t, "%s/bad.tmpl", dir);
    fx_write(t, "{{release}}\n\n{{colour}}\n", 24);
    assert_int_equal(run(sp_cli_pack, "pack", epub, "--group", "OTHER", "--source", "SCAN",
                         "--template", t, "--out", out, NULL),
                     1);
    assert_non_null(strstr(captured_err, "line 3"));
}

static void dry_run_writes_nothing(void **state)
{
    char o2[800];
    snprintf(o2, sizeof o2, "%s/dry", dir);
    mkdir(o2, 0755);
    assert_int_equal(run(sp_cli_pack, "pack", epub, "--group", "DRY", "--source", "SCAN", "--kind",
                         "technical", "--meta", "publisher=Press", "--template", "plain",
                         "--zip-size", "10MB", "--dry-run", "--out", o2, NULL),
                     0);
    assert_non_null(strstr(captured_out, "Press.Command.Line.2010.GERMAN.SCAN.ePUB.eBOOK-DRY"));
    assert_non_null(strstr(captured_out, "1 x 10MB"));
    assert_int_equal(fx_sh("test -z \"$(ls -A '%s')\"", o2), 0);
}

static void inspect_files(void **state)
{
    assert_int_equal(run(sp_cli_inspect, "inspect", epub, NULL), 0);
    assert_non_null(strstr(captured_out, "EPUB"));
    assert_non_null(strstr(captured_out, "Command Line"));
    assert_int_equal(run(sp_cli_inspect, "inspect", "--json", epub, NULL), 0);
    json_t *j = out_json();
    assert_string_equal(json_string_value(json_object_get(j, "format")), "EPUB");
    assert_true(json_is_false(json_object_get(j, "drm")));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "metadata"), "author")), "Cee Ell");
    assert_int_equal(strlen(json_string_value(json_object_get(j, "sha256"))), 64);
    json_decref(j);

    assert_int_equal(run(sp_cli_inspect, "inspect", "--json", drm, NULL), 1);
    j = out_json();
    assert_true(json_is_true(json_object_get(j, "drm")));
    assert_non_null(strstr(json_string_value(json_object_get(j, "drm_reason")), "rights.xml"));
    json_decref(j);

    char liar[800];
    snprintf(liar, sizeof liar, "%s/liar.pdf", dir);
    fx_sh("cp '%s' '%s'", epub, liar);
    assert_int_equal(run(sp_cli_inspect, "inspect", "--json", liar, NULL), 1);
    j = out_json();
    assert_true(json_is_false(json_object_get(j, "extension_ok")));
    json_decref(j);

    char junk[800];
    snprintf(junk, sizeof junk, "%s/junk.bin", dir);
    fx_write(junk, "just some text, not a book", 26);
    assert_int_equal(run(sp_cli_inspect, "inspect", junk, NULL), 1);
    assert_int_equal(run(sp_cli_inspect, "inspect", "/nonexistent/file.pdf", NULL), 2);
    assert_int_equal(run(sp_cli_inspect, "inspect", NULL), 2);
    assert_int_equal(run(sp_cli_check, "check", NULL), 2);
    assert_int_equal(run(sp_cli_check, "check", "/nonexistent/dir", NULL), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pack_usage_errors), cmocka_unit_test(pack_json_then_duplicate),
        cmocka_unit_test(pack_refusals),     cmocka_unit_test(dry_run_writes_nothing),
        cmocka_unit_test(inspect_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
