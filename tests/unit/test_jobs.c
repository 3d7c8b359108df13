/*
 * test_jobs.c — the job queue (store/jobs.c, store/release_files.c, store/wizard.c) and the
 * runner (jobs/runner.c) against a real migrated SQLite database in a temporary directory:
 * claim order, leases and their expiry (a dead worker's job is picked up again, the old worker's
 * writes are refused), cancellation, the release status following its job, attempts exhausted,
 * log numbering, list filters, recording a packed release and 8.3 base uniqueness per year,
 * the wizard's guarded writes, the sweep of leftovers, and a real worker packing a release,
 * then giving a job back to the queue when it stops.
 */
#include "support.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "fixtures_books.h"
#include "jobs/release_pack.h"
#include "jobs/runner.h"
#include "store/jobs.h"
#include "store/release_files.h"
#include "store/releases.h"
#include "store/wizard.h"
#include "util/alloc.h"
#include "util/log.h"

struct fixture {
    char dir[512];
    struct sp_db *db; /* this thread's connection (sp_db_thread) */
    int64_t alice, bob;
};

static const int64_t T0 = 1700000000;

static int setup(void **state)
{
    struct fixture *f = sp_calloc(1, sizeof *f);
    sp_log_set_level(SP_LOG_WARN);
    fx_tmpdir(f->dir, "test_jobs");
    char url[700];
    ts_db_url(url, sizeof url, f->dir);
    struct sp_err e = {{0}, {0}};
    if (sp_db_global_init(url, &e) != SP_OK) {
        fprintf(stderr, "open: %s\n", e.message);
        return -1;
    }
    f->db = sp_db_thread();
    if (!f->db || ts_db_prepare(f->db, TS_DB_BOOTSTRAPPED) != 0)
        return -1;
    f->alice = ts_user(f->db, "alice");
    f->bob = ts_user(f->db, "bob");
    char sub[600];
    snprintf(sub, sizeof sub, "%s/releases", f->dir);
    mkdir(sub, 0755);
    snprintf(sub, sizeof sub, "%s/uploads", f->dir);
    mkdir(sub, 0755);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    sp_db_global_shutdown();
    (void)ts_rmtree(f->dir);
    sp_free(f);
    return 0;
}

static int64_t draft(struct fixture *f, int64_t user)
{
    struct sp_release_draft d = {"TestGroup", "EBOOK", 0, user};
    int64_t id = 0;
    bool created;
    struct sp_err e = {{0}, {0}};
    assert_int_equal(sp_store_release_create_draft(f->db, &d, T0, &id, &created, &e), SP_OK);
    return id;
}

/* A release queued for packing with its pending job. */
static int64_t queued(struct fixture *f, int64_t user, const char *name, int64_t *job)
{
    int64_t id = draft(f, user);
    struct sp_err e = {{0}, {0}};
    assert_int_equal(sp_store_wizard_finalize(f->db, id, user, name, NULL, T0, job, &e), SP_OK);
    return id;
}

static char *release_status(struct fixture *f, int64_t id)
{
    struct sp_release r;
    assert_int_equal(sp_store_release_get(f->db, id, &r), SP_OK);
    char *s = sp_strdup(r.status);
    sp_release_clear(&r);
    return s;
}

static void assert_release_status(struct fixture *f, int64_t id, const char *want)
{
    char *s = release_status(f, id);
    assert_string_equal(s, want);
    sp_free(s);
}

static void assert_job_status(struct fixture *f, int64_t id, const char *want)
{
    struct sp_job j;
    assert_int_equal(sp_store_job_get(f->db, id, &j), SP_OK);
    assert_string_equal(j.status, want);
    sp_job_clear(&j);
}

static void test_claim_lease_and_expiry(void **state)
{
    struct fixture *f = *state;
    int64_t j1, j2;
    int64_t r1 = queued(f, f->alice, "Rel.One.2020.RETAiL.eBOOK-TestGroup", &j1);
    int64_t r2 = queued(f, f->bob, "Rel.Two.2020.RETAiL.eBOOK-TestGroup", &j2);
    assert_release_status(f, r1, "queued");

    struct sp_job c;
    /* oldest first; the release follows its job */
    assert_int_equal(sp_store_job_claim(f->db, "w1", T0, 60, 3, &c), SP_OK);
    assert_int_equal(c.id, j1);
    assert_string_equal(c.status, "running");
    assert_int_equal(c.attempts, 1);
    sp_job_clear(&c);
    assert_release_status(f, r1, "processing");
    assert_int_equal(sp_store_job_claim(f->db, "w2", T0, 60, 3, &c), SP_OK);
    assert_int_equal(c.id, j2);
    sp_job_clear(&c);
    /* nothing else while the leases hold */
    assert_int_equal(sp_store_job_claim(f->db, "w3", T0 + 30, 60, 3, &c), SP_NOTFOUND);

    /* w1 renews its lease; w2 goes silent (died) */
    assert_int_equal(sp_store_job_touch(f->db, j1, "w1", 40, "zip", T0 + 100, T0 + 40), SP_OK);
    assert_int_equal(sp_store_job_claim(f->db, "w3", T0 + 61, 60, 3, &c), SP_OK);
    assert_int_equal(c.id, j2);
    assert_int_equal(c.attempts, 2);
    sp_job_clear(&c);
    /* the dead worker's writes are refused: it must stop */
    assert_int_equal(sp_store_job_touch(f->db, j2, "w2", 50, "zip", T0 + 200, T0 + 62),
                     SP_CONFLICT);
    assert_int_equal(sp_store_job_finish(f->db, j2, "w2", "completed", NULL, T0 + 62), SP_CONFLICT);
    assert_int_equal(sp_store_job_finish(f->db, j2, "w3", "failed", "broken", T0 + 63), SP_OK);
    assert_release_status(f, r2, "failed");
    struct sp_job g;
    assert_int_equal(sp_store_job_get(f->db, j2, &g), SP_OK);
    assert_string_equal(g.error, "broken");
    assert_int_equal(g.finished_at, T0 + 63);
    sp_job_clear(&g);

    /* progress is visible; completion is 100 % */
    assert_int_equal(sp_store_job_get(f->db, j1, &g), SP_OK);
    assert_int_equal(g.progress, 40);
    assert_string_equal(g.step, "zip");
    sp_job_clear(&g);
    assert_int_equal(sp_store_job_finish(f->db, j1, "w1", "completed", NULL, T0 + 70), SP_OK);
    assert_int_equal(sp_store_job_get(f->db, j1, &g), SP_OK);
    assert_int_equal(g.progress, 100);
    assert_string_equal(g.status, "completed");
    sp_job_clear(&g);
    assert_release_status(f, r1, "completed");

    /* the re-claim left a log line saying so */
    struct sp_job_log_list logs;
    assert_int_equal(sp_store_job_logs(f->db, j2, 0, 1, 100, &logs), SP_OK);
    int seen = 0;
    for (size_t i = 0; i < logs.n; i++)
        seen |= strstr(logs.items[i].message, "lease expired") != NULL;
    assert_true(seen);
    sp_job_log_list_free(&logs);
}

static void test_attempts_run_out(void **state)
{
    struct fixture *f = *state;
    int64_t j;
    int64_t r = queued(f, f->alice, "Rel.Dies.2020.RETAiL.eBOOK-TestGroup", &j);
    struct sp_job c;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(sp_store_job_claim(f->db, "w", T0 + i * 100, 60, 2, &c), SP_OK);
        sp_job_clear(&c);
    }
    /* a third claim finds the job exhausted: failed, nothing left to claim */
    assert_int_equal(sp_store_job_claim(f->db, "w", T0 + 300, 60, 2, &c), SP_NOTFOUND);
    assert_job_status(f, j, "failed");
    assert_release_status(f, r, "failed");
}

static void test_cancel(void **state)
{
    struct fixture *f = *state;
    int64_t j1, j2;
    int64_t r1 = queued(f, f->alice, "Rel.Cancel.One.2020.RETAiL.eBOOK-TestGroup", &j1);
    int64_t r2 = queued(f, f->alice, "Rel.Cancel.Two.2020.RETAiL.eBOOK-TestGroup", &j2);
    struct sp_err e = {{0}, {0}};
    struct sp_job out;
    /* pending → cancelled */
    assert_int_equal(sp_store_job_cancel(f->db, j1, T0 + 5, &out, &e), SP_OK);
    assert_string_equal(out.status, "cancelled");
    assert_int_equal(out.finished_at, T0 + 5);
    sp_job_clear(&out);
    assert_release_status(f, r1, "failed");
    /* final → 409 */
    assert_int_equal(sp_store_job_cancel(f->db, j1, T0 + 6, NULL, &e), SP_CONFLICT);
    assert_string_equal(e.field, "status");
    assert_int_equal(sp_store_job_cancel(f->db, 999999, T0, NULL, &e), SP_NOTFOUND);

    /* running → cancelled; its worker learns at its next write */
    struct sp_job c;
    assert_int_equal(sp_store_job_claim(f->db, "w", T0 + 10, 60, 3, &c), SP_OK);
    assert_int_equal(c.id, j2);
    sp_job_clear(&c);
    assert_int_equal(sp_store_job_cancel(f->db, j2, T0 + 11, NULL, &e), SP_OK);
    assert_int_equal(sp_store_job_touch(f->db, j2, "w", 50, "zip", T0 + 100, T0 + 12), SP_CONFLICT);
    struct sp_release_file files[1] = {{"abcdef01.zip", 10, "0000ABCD"}};
    assert_int_equal(sp_store_release_packed(f->db, j2, "w", r2,
                                             "Rel.Cancel.Two.2020.RETAiL."
                                             "eBOOK-TestGroup",
                                             2020, files, 1, T0 + 13, &e),
                     SP_CONFLICT);
    assert_string_equal(e.field, "status");
    size_t n = 9;
    struct sp_release_file *got;
    assert_int_equal(sp_store_release_files(f->db, r2, &got, &n), SP_OK);
    assert_int_equal(n, 0);
    sp_free(got);
    assert_release_status(f, r2, "failed");
    /* a failed release may be finalized again */
    int64_t j3;
    assert_int_equal(sp_store_wizard_finalize(f->db, r2, f->alice,
                                              "Rel.Cancel.Two.2020.RETAiL."
                                              "eBOOK-TestGroup",
                                              NULL, T0 + 20, &j3, &e),
                     SP_OK);
    assert_release_status(f, r2, "queued");
    assert_job_status(f, j3, "pending");
}

static void test_packed_release_and_bases(void **state)
{
    struct fixture *f = *state;
    int64_t j;
    int64_t r = queued(f, f->alice, "Alpha.Book.2020.RETAiL.eBOOK-TestGroup", &j);
    struct sp_job c;
    assert_int_equal(sp_store_job_claim(f->db, "w", T0, 60, 3, &c), SP_OK);
    sp_job_clear(&c);
    struct sp_release_file files[3] = {{"abcdef01.zip", 1000, "0000ABCD"},
                                       {"grp-abcdef.nfo", 300, "11112222"},
                                       {"grp-abcdef.sfv", 60, "33334444"}};
    struct sp_err e = {{0}, {0}};
    assert_int_equal(sp_store_release_packed(f->db, j, "w", r,
                                             "Alpha.Book.2020.RETAiL.eBOOK-"
                                             "TestGroup",
                                             2020, files, 3, T0 + 5, &e),
                     SP_OK);
    assert_release_status(f, r, "completed");
    assert_job_status(f, j, "completed");
    struct sp_release_file *got;
    size_t n;
    assert_int_equal(sp_store_release_files(f->db, r, &got, &n), SP_OK);
    assert_int_equal(n, 3);
    assert_string_equal(got[0].name, "abcdef01.zip");
    assert_string_equal(got[2].crc32, "33334444");
    sp_free(got);
    struct sp_release_file one;
    assert_int_equal(sp_store_release_file_get(f->db, r, "grp-abcdef.nfo", &one), SP_OK);
    assert_int_equal(one.size, 300);
    assert_int_equal(sp_store_release_file_get(f->db, r, "../etc/passwd", &one), SP_NOTFOUND);

    /* 8.3 bases: taken within the year for other releases, free in another year */
    assert_int_equal(sp_store_volume_base_taken(f->db, "abcdef", 2020, 0), 1);
    assert_int_equal(sp_store_volume_base_taken(f->db, "abcdef", 2020, r), 0);
    assert_int_equal(sp_store_volume_base_taken(f->db, "abcdef", 2021, 0), 0);
    assert_int_equal(sp_store_volume_base_taken(f->db, "abcdeg", 2020, 0), 0);
    assert_int_equal(sp_store_dirname_taken(f->db, "Alpha.Book.2020.RETAiL.eBOOK-TestGroup", 0), 1);
    assert_int_equal(sp_store_dirname_taken(f->db, "Alpha.Book.2020.RETAiL.eBOOK-TestGroup", r), 0);
}

static void test_logs_and_lists(void **state)
{
    struct fixture *f = *state;
    int64_t ja, jb;
    int64_t ra = queued(f, f->alice, "List.A.2020.RETAiL.eBOOK-TestGroup", &ja);
    queued(f, f->bob, "List.B.2020.RETAiL.eBOOK-TestGroup", &jb);
    int64_t jd = 0;
    struct sp_err e = {{0}, {0}};
    int64_t rd = draft(f, f->alice);
    assert_int_equal(
        sp_store_job_create_exclusive(f->db, rd, f->alice, "download", "{\"url\":1}", T0, &jd, &e),
        SP_OK);
    /* one job at a time per release */
    int64_t again;
    assert_int_equal(
        sp_store_job_create_exclusive(f->db, rd, f->alice, "download", NULL, T0, &again, &e),
        SP_CONFLICT);

    for (int i = 0; i < 5; i++) {
        char m[32];
        snprintf(m, sizeof m, "line %d", i);
        assert_int_equal(sp_store_job_log(f->db, ja, "info", m, T0 + i), SP_OK);
    }
    struct sp_job_log_list logs;
    /* the finalize wrote line 1; ours are 2..6 */
    assert_int_equal(sp_store_job_logs(f->db, ja, 3, 1, 100, &logs), SP_OK);
    assert_int_equal(logs.total, 3);
    assert_int_equal(logs.n, 3);
    assert_int_equal(logs.items[0].line, 4);
    assert_string_equal(logs.items[0].message, "line 2");
    sp_job_log_list_free(&logs);
    assert_int_equal(sp_store_job_logs(f->db, ja, 0, 2, 2, &logs), SP_OK);
    assert_int_equal(logs.total, 6);
    assert_int_equal(logs.n, 2);
    assert_int_equal(logs.items[0].line, 3);
    sp_job_log_list_free(&logs);

    struct sp_job_list l;
    struct sp_job_query q = {.page = 1, .per_page = 10};
    assert_int_equal(sp_store_job_list(f->db, &q, &l), SP_OK);
    assert_int_equal(l.total, 3);
    assert_int_equal(l.items[0].id, jd); /* newest first */
    sp_job_list_free(&l);
    q.user_id = f->alice;
    assert_int_equal(sp_store_job_list(f->db, &q, &l), SP_OK);
    assert_int_equal(l.total, 2);
    sp_job_list_free(&l);
    q.job_type = "download";
    assert_int_equal(sp_store_job_list(f->db, &q, &l), SP_OK);
    assert_int_equal(l.total, 1);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].params, "{\"url\":1}");
    sp_job_list_free(&l);
    q.job_type = NULL;
    q.release_id = ra;
    q.status = "pending";
    assert_int_equal(sp_store_job_list(f->db, &q, &l), SP_OK);
    assert_int_equal(l.total, 1);
    assert_int_equal(l.items[0].id, ja);
    sp_job_list_free(&l);
    q.status = "running";
    assert_int_equal(sp_store_job_list(f->db, &q, &l), SP_OK);
    assert_int_equal(l.total, 0);
    sp_job_list_free(&l);

    struct sp_job_counts counts;
    assert_int_equal(sp_store_job_counts(f->db, &counts), SP_OK);
    assert_int_equal(counts.pending, 3);
    assert_int_equal(counts.running, 0);

    /* a download does not move the draft's status */
    struct sp_job c;
    while (sp_store_job_claim(f->db, "w", T0, 60, 3, &c) == SP_OK)
        sp_job_clear(&c);
    assert_release_status(f, rd, "draft");
}

static void test_wizard_writes_are_guarded(void **state)
{
    struct fixture *f = *state;
    int64_t r = draft(f, f->alice), r2 = draft(f, f->alice);
    struct sp_err e = {{0}, {0}};
    struct sp_wizard_save s = {.set_file = true,
                               .file_path = "uploads/1/a.epub",
                               .file_size = 99,
                               .set_name = true,
                               .name = "Guard.Book.2020.RETAiL.eBOOK-TestGroup",
                               .config = "{\"upload\":{}}",
                               .wizard_step = 6};
    assert_int_equal(sp_store_wizard_save(f->db, r, &s, T0, &e), SP_OK);
    struct sp_release got;
    assert_int_equal(sp_store_release_get(f->db, r, &got), SP_OK);
    assert_string_equal(got.file_path, "uploads/1/a.epub");
    assert_int_equal(got.file_size, 99);
    assert_int_equal(got.wizard_step, 6);
    assert_string_equal(got.name, "Guard.Book.2020.RETAiL.eBOOK-TestGroup");
    sp_release_clear(&got);
    /* the name is unique */
    assert_int_equal(sp_store_wizard_save(f->db, r2, &s, T0, &e), SP_CONFLICT);
    assert_string_equal(e.field, "name");
    /* clearing the name */
    struct sp_wizard_save clear = {.set_name = true, .name = NULL, .wizard_step = 4};
    assert_int_equal(sp_store_wizard_save(f->db, r, &clear, T0, &e), SP_OK);
    assert_int_equal(sp_store_release_get(f->db, r, &got), SP_OK);
    assert_null(got.name);
    assert_int_equal(got.wizard_step, 4);
    sp_release_clear(&got);
    /* once queued, the wizard may not touch it */
    int64_t job;
    assert_int_equal(sp_store_wizard_finalize(f->db, r, f->alice,
                                              "Guard.Book.2020.RETAiL.eBOOK-"
                                              "TestGroup",
                                              NULL, T0, &job, &e),
                     SP_OK);
    assert_int_equal(sp_store_wizard_save(f->db, r, &clear, T0, &e), SP_CONFLICT);
    assert_int_equal(
        sp_store_wizard_finalize(f->db, r, f->alice, "X.2020.RETAiL.eBOOK-G", NULL, T0, &job, &e),
        SP_CONFLICT);
    assert_int_equal(sp_store_wizard_save(f->db, 987654, &clear, T0, &e), SP_NOTFOUND);

    /* a derived release: queued with its job, linked to its parent */
    struct sp_release_derive d = {.parent_id = r,
                                  .user_id = f->bob,
                                  .group_id = 1,
                                  .release_type = "EBOOK",
                                  .name = "Guard.Book.2020.RETAiL.REPACK.eBOOK-TestGroup",
                                  .metadata = "{}",
                                  .config = "{}",
                                  .file_path = "uploads/x/a.epub",
                                  .file_size = 99,
                                  .job_type = "repack",
                                  .job_params = "{}"};
    assert_int_equal(sp_store_release_get(f->db, r, &got), SP_OK);
    d.group_id = got.group_id;
    sp_release_clear(&got);
    int64_t nr, nj;
    assert_int_equal(sp_store_release_derive(f->db, &d, T0, &nr, &nj, &e), SP_OK);
    assert_int_equal(sp_store_release_get(f->db, nr, &got), SP_OK);
    assert_int_equal(got.parent_id, r);
    assert_int_equal(got.user_id, f->bob);
    assert_string_equal(got.status, "queued");
    sp_release_clear(&got);
    assert_job_status(f, nj, "pending");
    assert_int_equal(sp_store_release_derive(f->db, &d, T0, &nr, &nj, &e), SP_CONFLICT);
    assert_string_equal(e.field, "name");
}

static void touch_old(const char *path)
{
    struct timeval tv[2] = {{time(NULL) - 7200, 0}, {time(NULL) - 7200, 0}};
    assert_int_equal(utimes(path, tv), 0);
}

static void test_sweep(void **state)
{
    struct fixture *f = *state;
    char old_dir[700], old_file[800], fresh_dir[700], tmp_up[700], keep[700];
    snprintf(old_dir, sizeof old_dir, "%s/releases/.sp-pack-AAAAAA", f->dir);
    snprintf(fresh_dir, sizeof fresh_dir, "%s/releases/.sp-pack-BBBBBB", f->dir);
    snprintf(tmp_up, sizeof tmp_up, "%s/uploads/.upload-CCCCCC", f->dir);
    snprintf(keep, sizeof keep, "%s/releases/Some.Release.2020.RETAiL.eBOOK-G", f->dir);
    assert_int_equal(mkdir(old_dir, 0755), 0);
    assert_int_equal(mkdir(fresh_dir, 0755), 0);
    assert_int_equal(mkdir(keep, 0755), 0);
    snprintf(old_file, sizeof old_file, "%s/abcdef01.zip", old_dir);
    fx_write(old_file, "zip", 3);
    fx_write(tmp_up, "partial", 7);
    touch_old(old_file);
    touch_old(old_dir);
    touch_old(tmp_up);
    touch_old(keep);
    assert_int_equal(sp_jobs_sweep(f->dir, 600), 2);
    struct stat st;
    assert_int_not_equal(stat(old_dir, &st), 0);
    assert_int_not_equal(stat(tmp_up, &st), 0);
    assert_int_equal(stat(fresh_dir, &st), 0); /* a live packing keeps its directory */
    assert_int_equal(stat(keep, &st), 0);      /* releases are never touched */
    /* at start everything of that kind goes */
    assert_int_equal(sp_jobs_sweep(f->dir, 0), 1);
    assert_int_not_equal(stat(fresh_dir, &st), 0);
}

/* Wait (bounded) until job `id` leaves `from`; returns its status. */
static char *wait_job(struct fixture *f, int64_t id, const char *from)
{
    for (int i = 0; i < 600; i++) {
        struct sp_job j;
        assert_int_equal(sp_store_job_get(f->db, id, &j), SP_OK);
        sp_db_idle(f->db);
        if (strcmp(j.status, from) != 0) {
            char *s = sp_strdup(j.status);
            sp_job_clear(&j);
            return s;
        }
        sp_job_clear(&j);
        usleep(50000);
    }
    fail_msg("job %lld stayed %s", (long long)id, from);
    return NULL;
}

static void test_runner_packs_a_release(void **state)
{
    struct fixture *f = *state;
    /* a draft with an uploaded EPUB and valid metadata */
    int64_t r = draft(f, f->alice);
    char updir[700], book[800];
    snprintf(updir, sizeof updir, "%s/uploads/%lld", f->dir, (long long)r);
    mkdir(updir, 0755);
    snprintf(book, sizeof book, "%s/book.epub", updir);
    struct fx_epub_opts eo = {.title = "Runner Test", .author = "Ann Author", .language = "en"};
    fx_epub(book, &eo);
    char rel_path[100];
    snprintf(rel_path, sizeof rel_path, "uploads/%lld/book.epub", (long long)r);
    struct sp_err e = {{0}, {0}};
    struct sp_wizard_save s = {.set_file = true,
                               .file_path = rel_path,
                               .file_size = 1,
                               .metadata = "{\"source\":\"SCAN\",\"release_date\":\"2024-02-03\"}",
                               .config = "{\"template_id\":\"plain\"}",
                               .wizard_step = 8};
    assert_int_equal(sp_store_wizard_save(f->db, r, &s, T0, &e), SP_OK);
    int64_t job;
    assert_int_equal(
        sp_store_wizard_finalize(f->db, r, f->alice, "placeholder", NULL, T0, &job, &e), SP_OK);

    struct sp_app *app = sp_calloc(1, sizeof *app);
    snprintf(app->cfg.data_dir, sizeof app->cfg.data_dir, "%s", f->dir);
    app->cfg.workers = 1;
    app->cfg.max_upload_bytes = 1 << 30;
    assert_int_equal(sp_jobs_start(app, &e), SP_OK);
    sp_jobs_notify(app);
    char *st = wait_job(f, job, "pending");
    if (!strcmp(st, "running")) {
        sp_free(st);
        st = wait_job(f, job, "running");
    }
    if (strcmp(st, "completed") != 0) {
        struct sp_job j;
        sp_store_job_get(f->db, job, &j);
        fail_msg("job ended %s: %s", st, j.error ? j.error : "");
    }
    sp_free(st);
    struct sp_release got;
    assert_int_equal(sp_store_release_get(f->db, r, &got), SP_OK);
    assert_string_equal(got.status, "completed");
    assert_string_equal(got.name, "Ann.Author.Runner.Test.2007.SCAN.ePUB.eBOOK-TestGroup");
    struct sp_release_file *files;
    size_t n;
    assert_int_equal(sp_store_release_files(f->db, r, &files, &n), SP_OK);
    assert_int_equal(n, 3);
    char check[1200];
    snprintf(check, sizeof check, "cd '%s/releases/%s' && unzip -tq '%s' >/dev/null", f->dir,
             got.name, files[0].name);
    assert_int_equal(fx_sh("%s", check), 0);
    sp_free(files);
    sp_release_clear(&got);

    /* a job that cannot be packed fails with the reason, and its release with it */
    int64_t bad = draft(f, f->bob), bad_job;
    struct sp_wizard_save s2 = {.set_file = true,
                                .file_path = rel_path,
                                .file_size = 1,
                                .metadata = "{}",
                                .wizard_step = 8};
    assert_int_equal(sp_store_wizard_save(f->db, bad, &s2, T0, &e), SP_OK);
    assert_int_equal(sp_store_wizard_finalize(f->db, bad, f->bob, "bad", NULL, T0, &bad_job, &e),
                     SP_OK);
    sp_jobs_notify(app);
    st = wait_job(f, bad_job, "pending");
    if (!strcmp(st, "running")) {
        sp_free(st);
        st = wait_job(f, bad_job, "running");
    }
    assert_string_equal(st, "failed");
    sp_free(st);
    struct sp_job j;
    assert_int_equal(sp_store_job_get(f->db, bad_job, &j), SP_OK);
    assert_non_null(strstr(j.error, "source"));
    sp_job_clear(&j);
    assert_release_status(f, bad, "failed");

    sp_jobs_stop(app);
    sp_free(app);
}

static void test_stop_gives_running_job_back(void **state)
{
    struct fixture *f = *state;
    /* a job this process holds when it stops returns to the queue, its release queued again */
    int64_t j;
    int64_t r = queued(f, f->alice, "Stop.Test.2020.RETAiL.eBOOK-TestGroup", &j);
    struct sp_job c;
    assert_int_equal(sp_store_job_claim(f->db, "w", T0, 60, 3, &c), SP_OK);
    sp_job_clear(&c);
    assert_int_equal(sp_store_job_release(f->db, j, "other", T0), SP_CONFLICT);
    assert_int_equal(sp_store_job_release(f->db, j, "w", T0), SP_OK);
    assert_job_status(f, j, "pending");
    assert_release_status(f, r, "queued");
}

static void test_upload_names_are_sanitised(void **state)
{
    (void)state;
    char out[128];
    sp_upload_name_sanitize("../../My Book (draft).epub", out, sizeof out);
    assert_string_equal(out, "My.Book.draft.epub");
    sp_upload_name_sanitize("C:\\Users\\me\\Livre \xc3\xa9t\xc3\xa9.pdf", out, sizeof out);
    assert_string_equal(out, "Livre.ete.pdf");
    sp_upload_name_sanitize("-rf .azw3", out, sizeof out);
    assert_string_equal(out, "rf.azw3");
    sp_upload_name_sanitize("", out, sizeof out);
    assert_string_equal(out, "upload");
    sp_upload_name_sanitize("/", out, sizeof out);
    assert_string_equal(out, "upload");
    char longname[400];
    memset(longname, 'a', 300);
    snprintf(longname + 300, sizeof longname - 300, ".epub");
    sp_upload_name_sanitize(longname, out, sizeof out);
    assert_true(strlen(out) <= 120);
    assert_string_equal(out + strlen(out) - 5, ".epub");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_claim_lease_and_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attempts_run_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_packed_release_and_bases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logs_and_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wizard_writes_are_guarded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runner_packs_a_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_gives_running_job_back, setup, teardown),
        cmocka_unit_test(test_upload_names_are_sanitised),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
