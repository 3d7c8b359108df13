/*
 * test_store_release_plans.c — the list plans chosen for speed (store/releases.c) give the same
 * pages as the plain query: searches answered by merging the filtered list with the search's
 * matches (more matches than SP_RELEASE_SEARCH_EXACT, or cheaper that way), searches sorted
 * after a join, filters and sorts dropped because the counters show they change nothing. Each
 * page is compared with a brute-force reference computed by one straightforward SQL statement
 * over 6,000 releases whose creation times are neither unique nor in id order; totals must be
 * exact unless flagged as estimates, and estimates must never be below what was seen.
 */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "store/releases.h"
#include "util/alloc.h"
#include "util/buf.h"

#define NREL 6000

struct fixture {
    char dir[512];
    struct sp_db *db;
    int64_t alice, bob, grp_a, grp_b;
};

static int64_t T0 = 1700000000;

static void exec_ok(struct sp_db *db, const char *sql)
{
    struct sp_err e = {{0}, {0}};
    if (sp_db_exec(db, sql, &e) != SP_OK)
        fail_msg("%s: %s", sql, e.message);
}

static int64_t group(struct sp_db *db, const char *name)
{
    char sql[160];
    snprintf(sql, sizeof sql, "INSERT INTO groups(name, created_at) VALUES ('%s', %lld)", name,
             (long long)T0);
    exec_ok(db, sql);
    return sp_db_last_insert_id(db);
}

static int setup(void **state)
{
    struct fixture *f = sp_calloc(1, sizeof *f);
    *state = f;
    if (ts_db_setup(f->dir, sizeof f->dir, "test_store_release_plans", TS_DB_BOOTSTRAPPED,
                    &f->db) != 0)
        return -1;
    f->alice = ts_user(f->db, "alice");
    f->bob = ts_user(f->db, "bob");
    f->grp_a = group(f->db, "PlanGrpA");
    f->grp_b = group(f->db, "PlanGrpB");
    assert_int_equal(sp_db_begin(f->db), SP_OK);
    struct sp_stmt *st = sp_db_prepare(
        f->db, "INSERT INTO releases(name, user_id, group_id, release_type, status,"
               " release_metadata, file_size, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)");
    assert_non_null(st);
    static const char *const statuses[] = {"draft", "queued", "processing", "completed", "failed"};
    for (int i = 1; i <= NREL; i++) {
        char name[64], meta[160];
        snprintf(name, sizeof name, "Plan.Release.%c%c.%d.eBOOK-GRP", 'a' + (i * 7) % 26,
                 'a' + (i * 13) % 26, i);
        /* "common" everywhere, "half" in every other, "tenth", "rare"; "sevens" in a block of
         * old ids only (a word concentrated at one end of the id range) */
        snprintf(meta, sizeof meta, "{\"title\":\"common %s %s %s %s\"}", i % 2 ? "half" : "odd",
                 i % 10 == 0 ? "tenth" : "x", i % 97 == 0 ? "rare" : "y",
                 i <= 700 && i % 7 == 0 ? "sevens" : "z");
        sp_stmt_bind_text(st, 1, name);
        sp_stmt_bind_int(st, 2, i % 50 == 0 ? f->bob : f->alice);
        sp_stmt_bind_int(st, 3, i % 3 == 0 ? f->grp_b : f->grp_a);
        sp_stmt_bind_text(st, 4, "EBOOK");
        sp_stmt_bind_text(st, 5, statuses[(i * 31) % 5]);
        sp_stmt_bind_text(st, 6, meta);
        sp_stmt_bind_int(st, 7, (i * 7919) % 1000);
        /* three releases per second, and every 11th dated long before its neighbours */
        int64_t at = T0 + i / 3 - (i % 11 == 0 ? 5000 : 0);
        sp_stmt_bind_int(st, 8, at);
        sp_stmt_bind_int(st, 9, T0 + (i * 37) % 4000);
        assert_int_equal(sp_stmt_exec(st), SP_OK);
    }
    assert_int_equal(sp_db_commit(f->db), SP_OK);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int rc = ts_db_teardown(f->db, f->dir);
    sp_free(f);
    return rc;
}

/* Every id the query selects, in order, by the plainest SQL (no plan choices). */
static size_t reference(struct fixture *f, const struct sp_release_query *q, int64_t *ids)
{
    struct sp_buf b = SP_BUF_INIT;
    sp_buf_puts(&b, "SELECT id FROM releases WHERE 1 = 1");
    char *fts = q->search ? sp_release_fts_query(q->search) : NULL;
    if (fts)
        sp_buf_puts(&b, " AND id IN (SELECT rowid FROM releases_fts WHERE releases_fts MATCH ?1)");
    if (q->status)
        sp_buf_puts(&b, " AND status = ?2");
    if (q->release_type)
        sp_buf_puts(&b, " AND release_type = ?3");
    if (q->user_id)
        sp_buf_puts(&b, " AND user_id = ?4");
    if (q->group_id)
        sp_buf_puts(&b, " AND group_id = ?5");
    const char *dir = q->desc ? "DESC" : "ASC";
    sp_buf_printf(&b, " ORDER BY %s %s, id %s", sp_release_sorts[q->sort], dir, dir);
    struct sp_stmt *st = sp_db_prepare_once(f->db, b.data);
    assert_non_null(st);
    sp_stmt_bind_text(st, 1, fts);
    sp_stmt_bind_text(st, 2, q->status);
    sp_stmt_bind_text(st, 3, q->release_type);
    sp_stmt_bind_int(st, 4, q->user_id);
    sp_stmt_bind_int(st, 5, q->group_id);
    size_t n = 0;
    while (sp_stmt_step(st) == SP_ROW)
        ids[n++] = sp_stmt_column_int(st, 0);
    sp_stmt_finalize(st);
    sp_buf_free(&b);
    sp_free(fts);
    return n;
}

/* Compare one page (and its total) with the reference. */
static void check(struct fixture *f, const struct sp_release_query *q, const int64_t *all,
                  size_t nall)
{
    struct sp_release_list l;
    assert_int_equal(sp_store_release_list(f->db, q, &l), SP_OK);
    size_t off = (size_t)((q->page - 1) * q->per_page);
    size_t want = off >= nall ? 0 : nall - off;
    if (want > (size_t)q->per_page)
        want = (size_t)q->per_page;
    if (l.n != want)
        fail_msg("search=%s status=%s user=%lld group=%lld sort=%s %s page=%lld: %zu rows, "
                 "expected %zu",
                 q->search ? q->search : "-", q->status ? q->status : "-", (long long)q->user_id,
                 (long long)q->group_id, sp_release_sorts[q->sort], q->desc ? "desc" : "asc",
                 (long long)q->page, l.n, want);
    for (size_t i = 0; i < l.n; i++) {
        if (l.items[i].id != all[off + i])
            fail_msg("search=%s status=%s user=%lld group=%lld sort=%s %s page=%lld: row %zu is "
                     "%lld, expected %lld",
                     q->search ? q->search : "-", q->status ? q->status : "-",
                     (long long)q->user_id, (long long)q->group_id, sp_release_sorts[q->sort],
                     q->desc ? "desc" : "asc", (long long)q->page, i, (long long)l.items[i].id,
                     (long long)all[off + i]);
    }
    if (!l.total_is_estimate && l.total != (int64_t)nall)
        fail_msg("search=%s status=%s sort=%s page=%lld: total %lld, expected %zu",
                 q->search ? q->search : "-", q->status ? q->status : "-",
                 sp_release_sorts[q->sort], (long long)q->page, (long long)l.total, nall);
    if (l.total_is_estimate) {
        assert_non_null(q->search); /* only searches estimate */
        assert_true(l.total >= (int64_t)(off + l.n));
    }
    sp_release_list_free(&l);
}

static void run_matrix(struct fixture *f, const char *const *searches, size_t nsearch)
{
    int64_t *all = sp_mallocarray(NREL + 1, sizeof *all);
    const char *statuses[] = {NULL, "failed", "completed"};
    int64_t users[] = {0, f->alice, f->bob};
    int64_t groups[] = {0, f->grp_b};
    int sorts[] = {SP_RSORT_CREATED, SP_RSORT_NAME, SP_RSORT_SIZE, SP_RSORT_STATUS,
                   SP_RSORT_TYPE, SP_RSORT_UPDATED};
    int64_t pages[] = {1, 2, 9, 60};
    for (size_t s = 0; s < nsearch; s++)
        for (size_t st = 0; st < SP_ARRAY_LEN(statuses); st++)
            for (size_t u = 0; u < SP_ARRAY_LEN(users); u++)
                for (size_t g = 0; g < SP_ARRAY_LEN(groups); g++)
                    for (size_t so = 0; so < SP_ARRAY_LEN(sorts); so++)
                        for (int desc = 0; desc < 2; desc++) {
                            struct sp_release_query q = {.search = searches[s],
                                                         .status = statuses[st],
                                                         .user_id = users[u],
                                                         .group_id = groups[g],
                                                         .sort = sorts[so],
                                                         .desc = desc,
                                                         .per_page = 20};
                            size_t n = reference(f, &q, all);
                            for (size_t p = 0; p < SP_ARRAY_LEN(pages); p++) {
                                q.page = pages[p];
                                check(f, &q, all, n);
                            }
                            q.page = 3;
                            q.per_page = 100;
                            check(f, &q, all, n);
                        }
    sp_free(all);
}

/* Words in every release (past the exact-count limit), in half, a tenth, a few, in a block of
 * old ids only, a prefix, and none. */
static void test_searches_match_the_plain_query(void **state)
{
    static const char *const searches[] = {"common", "half", "tenth", "rare", "sevens", "comm",
                                           "nothing-like-this"};
    run_matrix(*state, searches, SP_ARRAY_LEN(searches));
}

static void test_lists_match_the_plain_query(void **state)
{
    static const char *const none[] = {NULL};
    run_matrix(*state, none, 1);
}

/* release_type=EBOOK is dropped while every release is an EBOOK; once one is not, it is kept. */
static void test_type_filter_kept_when_it_matters(void **state)
{
    struct fixture *f = *state;
    int64_t *all = sp_mallocarray(NREL + 1, sizeof *all);
    struct sp_release_query q = {.release_type = "EBOOK", .sort = SP_RSORT_STATUS, .desc = true,
                                 .page = 40, .per_page = 20};
    check(f, &q, all, reference(f, &q, all));
    exec_ok(f->db, "UPDATE releases SET release_type = 'MAGAZINE' WHERE id % 5 = 0");
    for (int64_t p = 1; p <= 80; p += 13) {
        q.page = p;
        check(f, &q, all, reference(f, &q, all));
        q.release_type = "MAGAZINE";
        check(f, &q, all, reference(f, &q, all));
        q.search = "half";
        check(f, &q, all, reference(f, &q, all));
        q.search = NULL;
        q.release_type = "EBOOK";
    }
    sp_free(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_searches_match_the_plain_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lists_match_the_plain_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_type_filter_kept_when_it_matters, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
