/*
 * test_seed.c — load-test data: the account (operator rights; re-seeding updates it), N
 * releases with unique, well-shaped dirnames, the trigger-kept counters equal to real counts,
 * search finding seeded titles (accents folded), and the bulk path restoring every trigger and
 * index it dropped.
 */
#include "support.h"

#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/permissions.h"
#include "domain/problems.h"
#include "domain/release_name.h"
#include "store/releases.h"
#include "store/seed.h"
#include "store/users.h"
#include "util/alloc.h"

struct fixture {
    char dir[512];
    struct sp_db *db;
};

static int setup(void **state)
{
    struct fixture *f = sp_calloc(1, sizeof *f);
    *state = f;
    return ts_db_setup(f->dir, sizeof f->dir, "test_seed", TS_DB_BOOTSTRAPPED, &f->db);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int rc = ts_db_teardown(f->db, f->dir);
    sp_free(f);
    return rc;
}

static int seed(struct sp_db *db, int64_t n, int bulk, struct sp_seed_result *r)
{
    struct sp_seed_opts o = {
        .releases = n,
        .username = "testuser",
        .password_hash = "$argon2id$test",
        .bulk = bulk,
    };
    struct sp_err e = {{0}, {0}};
    int rc = sp_store_seed(db, &o, r, &e);
    if (rc != SP_OK)
        fprintf(stderr, "seed: %s\n", e.message);
    return rc;
}

/* Every counter row equals the real count, for everyone (0) and per user. */
static void assert_counters_exact(struct sp_db *db)
{
    assert_int_equal(
        ts_scalar(db, "SELECT COUNT(*) FROM ("
                      " SELECT 0 AS u, status, release_type, COUNT(*) AS n FROM releases"
                      "  GROUP BY status, release_type"
                      " UNION ALL SELECT user_id, status, release_type, COUNT(*) FROM releases"
                      "  GROUP BY user_id, status, release_type"
                      " EXCEPT SELECT user_id, status, release_type, n FROM release_counts)"),
        0);
    assert_int_equal(
        ts_scalar(db, "SELECT COALESCE(SUM(n), 0) FROM release_counts WHERE user_id = 0"),
        ts_scalar(db, "SELECT COUNT(*) FROM releases"));
    assert_int_equal(
        ts_scalar(db,
                  "SELECT COUNT(*) FROM ("
                  " SELECT 0 AS u, status, COUNT(*) AS n FROM jobs GROUP BY status"
                  " UNION ALL SELECT user_id, status, COUNT(*) FROM jobs GROUP BY user_id, status"
                  " EXCEPT SELECT user_id, status, n FROM job_counts)"),
        0);
    assert_int_equal(ts_scalar(db, "SELECT COALESCE(SUM(n), 0) FROM job_counts WHERE user_id = 0"),
                     ts_scalar(db, "SELECT COUNT(*) FROM jobs"));
    /* one search row per release */
    assert_int_equal(ts_scalar(db, "SELECT COUNT(*) FROM releases_fts"),
                     ts_scalar(db, "SELECT COUNT(*) FROM releases"));
}

/* Every name has the dirname shape of PACKAGING.md §3 and fits 243 characters. */
static void assert_names_well_formed(struct sp_db *db)
{
    regex_t re;
    assert_int_equal(regcomp(&re,
                             "^[A-Za-z0-9][A-Za-z0-9._-]*\\.(19|20)[0-9]{2}(\\.[A-Za-z]+)?\\."
                             "(RETAiL|SCAN|HYBRiD)(\\.[A-Za-z0-9]+)*\\.eBOOK-[A-Za-z0-9]"
                             "[A-Za-z0-9_-]*[A-Za-z0-9]$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    struct sp_stmt *st = sp_db_prepare_once(db, "SELECT name FROM releases");
    int rc, n = 0;
    while ((rc = sp_stmt_step(st)) == SP_ROW) {
        const char *name = sp_stmt_column_text(st, 0);
        assert_non_null(name);
        if (regexec(&re, name, 0, NULL, 0) != 0)
            fail_msg("bad dirname: %s", name);
        /* and the packer's own validator agrees */
        struct sp_problems probs = SP_PROBLEMS_INIT;
        struct sp_dirname_info info;
        if (sp_dirname_validate(name, NULL, &info, &probs) != 0)
            fail_msg("dirname %s refused: %s", name, probs.items[0].message);
        sp_problems_free(&probs);
        assert_true(strlen(name) <= 243);
        assert_null(strstr(name, ".."));
        n++;
    }
    assert_int_equal(rc, SP_DONE);
    sp_stmt_finalize(st);
    regfree(&re);
    assert_true(n > 0);
    assert_int_equal(ts_scalar(db, "SELECT COUNT(DISTINCT name) FROM releases"),
                     ts_scalar(db, "SELECT COUNT(*) FROM releases"));
}

static void seeds_realistic_releases(void **state)
{
    struct fixture *f = *state;
    struct sp_seed_result r;
    assert_int_equal(seed(f->db, 1500, 0, &r), SP_OK);
    assert_true(r.user_created);
    assert_false(r.bulk);
    assert_int_equal(r.releases, 1500);
    assert_int_equal(ts_scalar(f->db, "SELECT COUNT(*) FROM releases"), 1500);
    assert_int_equal(r.jobs, ts_scalar(f->db, "SELECT COUNT(*) FROM jobs"));
    assert_true(r.jobs > 0);
    assert_counters_exact(f->db);
    assert_names_well_formed(f->db);

    /* the account: operator rights */
    struct sp_user u;
    assert_int_equal(sp_store_user_get_by_name(f->db, "testuser", &u), SP_OK);
    assert_int_equal(u.id, r.user_id);
    uint64_t p;
    assert_int_equal(sp_store_user_perms(f->db, u.id, &p, NULL), SP_OK);
    assert_true(sp_perms_has(p, SP_RES_RELEASES, SP_ACT_WRITE));
    assert_false(sp_perms_has(p, SP_RES_USERS, SP_ACT_READ));

    /* spread: many groups, every status and kind, several languages and years */
    assert_true(ts_scalar(f->db, "SELECT COUNT(DISTINCT group_id) FROM releases") >= 150);
    assert_int_equal(ts_scalar(f->db, "SELECT COUNT(DISTINCT status) FROM releases"), 5);
    assert_int_equal(ts_scalar(f->db, "SELECT COUNT(DISTINCT json_extract(release_metadata,"
                                      " '$.book_kind')) FROM releases"),
                     6);
    assert_true(ts_scalar(f->db, "SELECT COUNT(DISTINCT json_extract(release_metadata,"
                                 " '$.language')) FROM releases") >= 5);
    assert_int_equal(ts_scalar(f->db, "SELECT COUNT(DISTINCT json_extract(release_metadata,"
                                      " '$.source')) FROM releases"),
                     3);
    assert_true(ts_scalar(f->db, "SELECT COUNT(DISTINCT strftime('%Y', created_at, 'unixepoch'))"
                                 " FROM releases") >= 5);
    /* metadata carries what the API's ReleaseMetadata allows, with a valid ISBN-13 length */
    assert_int_equal(ts_scalar(f->db, "SELECT COUNT(*) FROM releases WHERE"
                                      " json_extract(release_metadata, '$.title') IS NULL"
                                      " OR json_extract(release_metadata, '$.publisher') IS NULL"
                                      " OR json_extract(release_metadata, '$.year') IS NULL"
                                      " OR json_extract(release_metadata, '$.genre') IS NULL"
                                      " OR length(json_extract(release_metadata, '$.isbn')) != 13"),
                     0);
    /* jobs only in final states (no worker would pick one up) and linked to their release */
    assert_int_equal(ts_scalar(f->db, "SELECT COUNT(*) FROM jobs WHERE status NOT IN"
                                      " ('completed', 'failed')"),
                     0);
    assert_int_equal(ts_scalar(f->db, "SELECT COUNT(*) FROM jobs j JOIN releases r ON"
                                      " r.id = j.release_id WHERE r.status != j.status"),
                     0);
}

static void search_finds_seeded_titles(void **state)
{
    struct fixture *f = *state;
    struct sp_seed_result r;
    assert_int_equal(seed(f->db, 400, 0, &r), SP_OK);
    struct sp_stmt *st = sp_db_prepare_once(
        f->db, "SELECT id, json_extract(release_metadata, '$.title') FROM releases"
               " WHERE id = (SELECT MAX(id) FROM releases)");
    assert_int_equal(sp_stmt_step(st), SP_ROW);
    int64_t id = sp_stmt_column_int(st, 0);
    char title[200];
    snprintf(title, sizeof title, "%s", sp_stmt_column_text(st, 1));
    sp_stmt_finalize(st);

    struct sp_release_query q = {.search = title, .page = 1, .per_page = 20, .desc = true};
    struct sp_release_list l = {0};
    assert_int_equal(sp_store_release_list(f->db, &q, &l), SP_OK);
    bool found = false;
    for (size_t i = 0; i < l.n; i++)
        found |= l.items[i].id == id;
    assert_true(found);
    sp_release_list_free(&l);

    /* accents are folded: an author seeded as "Émile Zola" is found as "emile" */
    int64_t zola = ts_scalar(f->db, "SELECT COUNT(*) FROM releases WHERE"
                                    " json_extract(release_metadata, '$.author') = 'Émile Zola'");
    if (zola > 0) {
        struct sp_release_query q2 = {.search = "emile zola", .page = 1, .per_page = 100};
        struct sp_release_list l2 = {0};
        assert_int_equal(sp_store_release_list(f->db, &q2, &l2), SP_OK);
        assert_true(l2.total >= zola);
        sp_release_list_free(&l2);
    }
}

static void bulk_path_restores_schema(void **state)
{
    struct fixture *f = *state;
    const char *schema_sql = "SELECT COUNT(*) FROM sqlite_master WHERE type IN ('trigger', "
                             "'index') AND tbl_name IN ('releases', 'jobs')";
    int64_t objects = ts_scalar(f->db, schema_sql);
    int64_t triggers =
        ts_scalar(f->db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'");
    struct sp_seed_result r;
    assert_int_equal(seed(f->db, 300, 0, &r), SP_OK);
    assert_int_equal(seed(f->db, 700, 1, &r), SP_OK);
    assert_true(r.bulk);
    assert_false(r.user_created); /* the same account, updated */
    assert_int_equal(ts_scalar(f->db, "SELECT COUNT(*) FROM users WHERE username = 'testuser'"), 1);
    assert_int_equal(ts_scalar(f->db, "SELECT COUNT(*) FROM releases"), 1000);
    assert_int_equal(ts_scalar(f->db, schema_sql), objects);
    assert_int_equal(ts_scalar(f->db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'"),
                     triggers);
    assert_counters_exact(f->db);
    assert_names_well_formed(f->db);

    /* the triggers work again: a later normal seed keeps the counters exact */
    assert_int_equal(seed(f->db, 50, 0, &r), SP_OK);
    assert_counters_exact(f->db);
    assert_names_well_formed(f->db);
    struct sp_stmt *st = sp_db_prepare_once(f->db, "PRAGMA integrity_check");
    assert_int_equal(sp_stmt_step(st), SP_ROW);
    assert_string_equal(sp_stmt_column_text(st, 0), "ok");
    sp_stmt_finalize(st);
}

/* Seeding leaves the search index in one segment: FTS5 would otherwise merge the seeded
 * segments into the commits of later inserts (a create every 64 taking 20-190 ms at 100,000
 * releases). A small flush size makes the fill write many segments, as a large seed does. */
static void search_index_left_in_one_segment(void **state)
{
    struct fixture *f = *state;
    const char *segments = "SELECT COUNT(DISTINCT segid) FROM releases_fts_idx";
    struct sp_err e = {{0}, {0}};
    assert_int_equal(
        sp_db_exec(f->db, "INSERT INTO releases_fts(releases_fts, rank) VALUES('hashsize', 2048)",
                   &e),
        SP_OK);
    struct sp_seed_result r;
    assert_int_equal(seed(f->db, 600, 1, &r), SP_OK);
    assert_true(r.bulk);
    assert_int_equal(ts_scalar(f->db, segments), 1);
    assert_int_equal(seed(f->db, 300, 0, &r), SP_OK); /* the batched path too */
    assert_int_equal(ts_scalar(f->db, segments), 1);
    assert_int_equal(ts_scalar(f->db, "SELECT COUNT(*) FROM releases_fts"), 900);
}

static void rejects_bad_options(void **state)
{
    struct fixture *f = *state;
    struct sp_seed_result r;
    struct sp_err e = {{0}, {0}};
    struct sp_seed_opts o = {.releases = 10, .username = "", .password_hash = "h"};
    assert_int_equal(sp_store_seed(f->db, &o, &r, &e), SP_INVALID);
    o.username = "someone";
    o.password_hash = NULL;
    assert_int_equal(sp_store_seed(f->db, &o, &r, &e), SP_INVALID);
    o.password_hash = "h";
    o.releases = -1;
    assert_int_equal(sp_store_seed(f->db, &o, &r, &e), SP_INVALID);
    assert_string_equal(e.field, "releases");
    o.releases = 0;
    o.groups = 1000;
    assert_int_equal(sp_store_seed(f->db, &o, &r, &e), SP_INVALID);
    assert_string_equal(e.field, "groups");
    /* zero releases: the account alone */
    o.groups = 0;
    assert_int_equal(sp_store_seed(f->db, &o, &r, &e), SP_OK);
    assert_int_equal(r.releases, 0);
    assert_int_equal(ts_scalar(f->db, "SELECT COUNT(*) FROM releases"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(seeds_realistic_releases, setup, teardown),
        cmocka_unit_test_setup_teardown(search_finds_seeded_titles, setup, teardown),
        cmocka_unit_test_setup_teardown(bulk_path_restores_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(search_index_left_in_one_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(rejects_bad_options, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
