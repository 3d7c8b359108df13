/*
 * test_store_health.c — store/health.c: the database check notices a database file the process
 * can no longer use even though its open connection still answers, and comes back when the
 * file does; the job queue check tells a stuck queue (work waiting, no live lease) from an idle
 * or a busy one.
 */
#include "support.h"

#include <string.h>

#include "store/health.h"
#include "store/jobs.h"
#include "util/alloc.h"

#define NOW 2000000000
#define STUCK 300

struct fixture {
    char dir[512];
    char path[600];
    struct sp_db *db;
    int64_t user_id;
};

static int setup(void **state)
{
    struct fixture *f = sp_calloc(1, sizeof *f);
    if (ts_db_setup(f->dir, sizeof f->dir, "test_store_health", TS_DB_MIGRATED, &f->db) != 0)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/test.db", f->dir);
    struct sp_err e = {{0}, {0}};
    if (sp_db_exec(f->db,
                   "INSERT INTO users(username, password_hash, created_at, updated_at)"
                   " VALUES ('owner', 'x', 1, 1)",
                   &e) != SP_OK) {
        fprintf(stderr, "setup: %s\n", e.message);
        return -1;
    }
    f->user_id = sp_db_last_insert_id(f->db);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int rc = ts_db_teardown(f->db, f->dir);
    sp_free(f);
    return rc;
}

static void database_ok(void **state)
{
    struct fixture *f = *state;
    struct sp_health_db h;
    assert_int_equal(sp_store_health_db(f->db, &h), SP_OK);
    assert_true(h.ok);
    assert_true(h.latency_ms >= 0);
    assert_string_equal(h.error, "");
}

static void no_connection(void **state)
{
    (void)state;
    struct sp_health_db h;
    assert_int_equal(sp_store_health_db(NULL, &h), SP_ERR);
    assert_false(h.ok);
    assert_string_equal(h.error, "no database connection");
    struct sp_health_jobs j;
    assert_int_equal(sp_store_health_jobs(NULL, NOW, STUCK, &j), SP_ERR);
    assert_false(j.ok);
}

/* The file moved away under an open connection: the connection still reads, but nothing can
 * open the database any more. The check says so, without the path in the public message. */
static void database_file_gone(void **state)
{
    struct fixture *f = *state;
    char moved[700];
    snprintf(moved, sizeof moved, "%s.moved", f->path);
    assert_int_equal(rename(f->path, moved), 0);
    struct sp_health_db h;
    int rc = sp_store_health_db(f->db, &h);
    assert_int_equal(rename(moved, f->path), 0);
    assert_int_equal(rc, SP_ERR);
    assert_false(h.ok);
    assert_non_null(strstr(h.error, "database file not readable and writable"));
    assert_null(strstr(h.error, f->dir));
    assert_non_null(strstr(h.detail, f->path));
    /* back in place: usable again */
    assert_int_equal(sp_store_health_db(f->db, &h), SP_OK);
    assert_true(h.ok);
}

static int64_t add_job(struct fixture *f, int64_t when)
{
    int64_t id = 0;
    assert_int_equal(sp_store_job_create(f->db, 0, f->user_id, "package", NULL, when, &id), SP_OK);
    return id;
}

/* Claim the head of the queue at `when` with a lease of lease_s seconds. */
static int64_t claim(struct fixture *f, int64_t when, int lease_s)
{
    struct sp_job j;
    assert_int_equal(sp_store_job_claim(f->db, "worker-1", when, lease_s, 5, &j), SP_OK);
    int64_t id = j.id;
    sp_job_clear(&j);
    return id;
}

static void jobs_idle(void **state)
{
    struct fixture *f = *state;
    struct sp_health_jobs j;
    assert_int_equal(sp_store_health_jobs(f->db, NOW, STUCK, &j), SP_OK);
    assert_true(j.ok);
    assert_int_equal(j.pending, 0);
    assert_int_equal(j.running, 0);
    assert_int_equal(j.expired, 0);
    assert_int_equal(j.oldest_wait_s, 0);
}

static void jobs_waiting_briefly_is_fine(void **state)
{
    struct fixture *f = *state;
    add_job(f, NOW - 10);
    struct sp_health_jobs j;
    assert_int_equal(sp_store_health_jobs(f->db, NOW, STUCK, &j), SP_OK);
    assert_true(j.ok);
    assert_int_equal(j.pending, 1);
    assert_int_equal(j.oldest_wait_s, 10);
}

static void jobs_waiting_with_no_worker_is_stuck(void **state)
{
    struct fixture *f = *state;
    add_job(f, NOW - STUCK - 50);
    add_job(f, NOW - 5);
    struct sp_health_jobs j;
    assert_int_equal(sp_store_health_jobs(f->db, NOW, STUCK, &j), SP_OK);
    assert_false(j.ok);
    assert_int_equal(j.pending, 2);
    assert_int_equal(j.oldest_wait_s, STUCK + 50);
    assert_string_equal(j.error, "");
}

/* A worker holds a current lease: the queue is busy, not stuck, however long the rest waits. */
static void jobs_busy_worker_is_not_stuck(void **state)
{
    struct fixture *f = *state;
    add_job(f, NOW - 5000);
    add_job(f, NOW - 4000);
    claim(f, NOW - 100, 600); /* lease until NOW + 500 */
    struct sp_health_jobs j;
    assert_int_equal(sp_store_health_jobs(f->db, NOW, STUCK, &j), SP_OK);
    assert_true(j.ok);
    assert_int_equal(j.running, 1);
    assert_int_equal(j.expired, 0);
    assert_int_equal(j.pending, 1);
    assert_int_equal(j.oldest_wait_s, 4000);
}

/* The only worker died: its lease expired long ago and nothing renews any lease. */
static void jobs_expired_lease_is_stuck(void **state)
{
    struct fixture *f = *state;
    add_job(f, NOW - 2000);
    claim(f, NOW - 1000, 60); /* lease until NOW - 940 */
    struct sp_health_jobs j;
    assert_int_equal(sp_store_health_jobs(f->db, NOW, STUCK, &j), SP_OK);
    assert_false(j.ok);
    assert_int_equal(j.running, 1);
    assert_int_equal(j.expired, 1);
    assert_int_equal(j.pending, 0);
    assert_int_equal(j.oldest_wait_s, 940);
    /* shortly after expiry it is not stuck yet: a worker may take it over */
    assert_int_equal(sp_store_health_jobs(f->db, NOW - 900, STUCK, &j), SP_OK);
    assert_true(j.ok);
    assert_int_equal(j.oldest_wait_s, 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(database_ok, setup, teardown),
        cmocka_unit_test(no_connection),
        cmocka_unit_test_setup_teardown(database_file_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(jobs_idle, setup, teardown),
        cmocka_unit_test_setup_teardown(jobs_waiting_briefly_is_fine, setup, teardown),
        cmocka_unit_test_setup_teardown(jobs_waiting_with_no_worker_is_stuck, setup, teardown),
        cmocka_unit_test_setup_teardown(jobs_busy_worker_is_not_stuck, setup, teardown),
        cmocka_unit_test_setup_teardown(jobs_expired_lease_is_stuck, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
