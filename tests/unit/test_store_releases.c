/*
 * test_store_releases.c — release, group and dashboard queries against a real migrated SQLite
 * database in a temporary directory: filters, sort orders with id tie-breaks, pagination totals
 * (from the counter table and from counting), accent-insensitive full-text search with hostile
 * input, metadata merge, status transitions, delete with its files, group insert-or-select.
 */
#include "support.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/dashboard.h"
#include "store/groups.h"
#include "store/releases.h"
#include "store/rules.h"
#include "util/alloc.h"

struct fixture {
    char dir[512];
    struct sp_db *db;
    int64_t alice, bob;
    int64_t builtin_rule;
};

static int64_t T0 = 1700000000;

static int setup(void **state)
{
    struct fixture *f = sp_calloc(1, sizeof *f);
    *state = f;
    if (ts_db_setup(f->dir, sizeof f->dir, "test_store_releases", TS_DB_BOOTSTRAPPED, &f->db) != 0)
        return -1;
    f->alice = ts_user(f->db, "alice");
    f->bob = ts_user(f->db, "bob");
    assert_int_equal(sp_store_rule_default(f->db, "eBOOK", &f->builtin_rule), SP_OK);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int rc = ts_db_teardown(f->db, f->dir);
    sp_free(f);
    return rc;
}

/* A draft by `user` in `group`, created at `at`. */
static int64_t draft(struct fixture *f, int64_t user, const char *group, const char *type,
                     int64_t at)
{
    struct sp_release_draft d = {group, type, 0, user};
    int64_t id = 0;
    bool created;
    struct sp_err e = {{0}, {0}};
    assert_int_equal(sp_store_release_create_draft(f->db, &d, at, &id, &created, &e), SP_OK);
    assert_true(id > 0);
    return id;
}

static void set_meta(struct fixture *f, int64_t id, const char *json)
{
    json_t *m = json_loads(json, 0, NULL);
    assert_non_null(m);
    struct sp_release_patch p = {.metadata = m};
    struct sp_err e = {{0}, {0}};
    assert_int_equal(sp_store_release_update(f->db, id, &p, T0, NULL, &e), SP_OK);
    json_decref(m);
}

static int move(struct fixture *f, int64_t id, const char *status)
{
    struct sp_release_patch p = {.status = status};
    struct sp_err e = {{0}, {0}};
    return sp_store_release_update(f->db, id, &p, T0, NULL, &e);
}

static void set_name_size(struct fixture *f, int64_t id, const char *name, int64_t size)
{
    struct sp_release_patch p = {.name = name, .set_file = true, .file_size = size};
    struct sp_err e = {{0}, {0}};
    assert_int_equal(sp_store_release_update(f->db, id, &p, T0, NULL, &e), SP_OK);
}

/* Run a list query; return the ids in order (static buffer) and the total. */
static size_t list_ids(struct fixture *f, const struct sp_release_query *q, int64_t *ids,
                       size_t max, int64_t *total)
{
    struct sp_release_list l;
    assert_int_equal(sp_store_release_list(f->db, q, &l), SP_OK);
    assert_true(l.n <= max);
    for (size_t i = 0; i < l.n; i++)
        ids[i] = l.items[i].id;
    *total = l.total;
    size_t n = l.n;
    sp_release_list_free(&l);
    return n;
}

static void test_fts_query_quotes_terms(void **state)
{
    SP_UNUSED(state);
    char *q = sp_release_fts_query("Émile  zola");
    assert_string_equal(q, "\"Émile\" \"zola\"*");
    sp_free(q);
    q = sp_release_fts_query("a\"b NEAR( title:x");
    assert_string_equal(q, "\"a\"\"b\" \"NEAR(\" \"title:x\"*");
    sp_free(q);
    q = sp_release_fts_query("victor hu"); /* too short to expand as a prefix */
    assert_string_equal(q, "\"victor\" \"hu\"");
    sp_free(q);
    q = sp_release_fts_query("\xc3\x89mi");
    assert_string_equal(q, "\"\xc3\x89mi\"*");
    sp_free(q);
    assert_null(sp_release_fts_query(""));
    assert_null(sp_release_fts_query("   -- ** ()  "));
    assert_null(sp_release_fts_query(NULL));
}

static void test_status_transitions(void **state)
{
    SP_UNUSED(state);
    assert_true(sp_release_status_transition_ok("draft", "queued"));
    assert_true(sp_release_status_transition_ok("queued", "processing"));
    assert_true(sp_release_status_transition_ok("processing", "completed"));
    assert_true(sp_release_status_transition_ok("processing", "failed"));
    assert_false(sp_release_status_transition_ok("draft", "processing"));
    assert_false(sp_release_status_transition_ok("draft", "completed"));
    assert_false(sp_release_status_transition_ok("queued", "draft"));
    assert_false(sp_release_status_transition_ok("completed", "processing"));
    assert_false(sp_release_status_transition_ok("failed", "queued"));
    assert_false(sp_release_status_transition_ok("draft", "draft"));
    assert_false(sp_release_status_transition_ok("draft", "bogus"));
}

static void test_group_names_and_insert_or_select(void **state)
{
    struct fixture *f = *state;
    assert_true(sp_group_name_valid("TestGroup"));
    assert_true(sp_group_name_valid("a-b_c9"));
    assert_true(sp_group_name_valid("ab"));
    assert_false(sp_group_name_valid("a"));
    assert_false(sp_group_name_valid("-abc"));
    assert_false(sp_group_name_valid("abc_"));
    assert_false(sp_group_name_valid("ab c"));
    assert_false(sp_group_name_valid("abcdefghijabcdefghijabcdefghijK")); /* 31 chars */
    assert_false(sp_group_name_valid("Gr\xc3\xa9up"));

    int64_t id1 = 0, id2 = 0, id3 = 0;
    bool created = false;
    assert_int_equal(sp_store_group_ensure(f->db, "TestGroup", T0, &id1, &created), SP_OK);
    assert_true(created);
    assert_int_equal(sp_store_group_ensure(f->db, "TestGroup", T0, &id2, &created), SP_OK);
    assert_false(created);
    assert_int_equal(id1, id2);
    /* names are case-insensitive: the same group */
    assert_int_equal(sp_store_group_ensure(f->db, "testgroup", T0, &id3, &created), SP_OK);
    assert_false(created);
    assert_int_equal(id1, id3);

    int64_t other = 0;
    assert_int_equal(sp_store_group_ensure(f->db, "Other", T0, &other, &created), SP_OK);
    assert_true(created);
    assert_true(other != id1);

    draft(f, f->alice, "TestGroup", "EBOOK", T0);
    draft(f, f->alice, "TestGroup", "EBOOK", T0);
    struct sp_group_list gl;
    assert_int_equal(sp_store_group_list(f->db, NULL, 1, 20, &gl), SP_OK);
    assert_int_equal(gl.total, 2);
    assert_int_equal(gl.n, 2);
    assert_string_equal(gl.items[0].name, "Other"); /* ordered by name */
    assert_int_equal(gl.items[0].release_count, 0);
    assert_string_equal(gl.items[1].name, "TestGroup");
    assert_int_equal(gl.items[1].release_count, 2);
    sp_group_list_free(&gl);
    assert_int_equal(sp_store_group_list(f->db, "stgr", 1, 20, &gl), SP_OK);
    assert_int_equal(gl.total, 1);
    assert_string_equal(gl.items[0].name, "TestGroup");
    sp_group_list_free(&gl);
    assert_int_equal(sp_store_group_list(f->db, NULL, 2, 1, &gl), SP_OK);
    assert_int_equal(gl.total, 2);
    assert_int_equal(gl.n, 1);
    assert_string_equal(gl.items[0].name, "TestGroup");
    sp_group_list_free(&gl);
}

static void test_draft_defaults_and_rule_checks(void **state)
{
    struct fixture *f = *state;
    struct sp_err e = {{0}, {0}};
    int64_t newer = 0, other_section = 0, id = 0;
    struct sp_rule_input r1 = {.name = "newer", .content = "x", .set_year = true, .year = 2030};
    assert_int_equal(sp_store_rule_create(f->db, &r1, f->alice, T0, &newer), SP_OK);
    struct sp_rule_input r2 = {
        .name = "tv", .content = "x", .section = "TV", .set_year = true, .year = 2040};
    assert_int_equal(sp_store_rule_create(f->db, &r2, f->alice, T0, &other_section), SP_OK);

    bool created;
    struct sp_release_draft d = {"NewGrp", "EBOOK", 0, f->bob};
    assert_int_equal(sp_store_release_create_draft(f->db, &d, T0 + 5, &id, &created, &e), SP_OK);
    assert_true(created);
    struct sp_release r;
    assert_int_equal(sp_store_release_get(f->db, id, &r), SP_OK);
    assert_int_equal(r.rule_id, newer); /* newest eBOOK rule, not the newer TV one */
    assert_string_equal(r.status, "draft");
    assert_int_equal(r.wizard_step, 3);
    assert_int_equal(r.user_id, f->bob);
    assert_string_equal(r.group, "NewGrp");
    assert_string_equal(r.release_type, "EBOOK");
    assert_null(r.name);
    assert_string_equal(r.release_metadata, "{}");
    assert_int_equal(r.created_at, T0 + 5);
    sp_release_clear(&r);

    /* an explicit rule is kept; a missing one is refused and nothing is created */
    d.rule_id = f->builtin_rule;
    assert_int_equal(sp_store_release_create_draft(f->db, &d, T0, &id, &created, &e), SP_OK);
    assert_int_equal(sp_store_release_get(f->db, id, &r), SP_OK);
    assert_int_equal(r.rule_id, f->builtin_rule);
    sp_release_clear(&r);
    d.rule_id = 999999;
    d.group = "NeverMade";
    int64_t none = 0;
    assert_int_equal(sp_store_release_create_draft(f->db, &d, T0, &none, &created, &e), SP_INVALID);
    assert_string_equal(e.field, "rule_id");
    struct sp_group_list gl;
    assert_int_equal(sp_store_group_list(f->db, "NeverMade", 1, 20, &gl), SP_OK);
    assert_int_equal(gl.total, 0); /* rolled back with the failed draft */
    sp_group_list_free(&gl);
    assert_int_equal(sp_store_release_get(f->db, id + 1, &r), SP_NOTFOUND);
}

/* Six releases with deliberate created_at ties. */
static void seed_six(struct fixture *f, int64_t *ids)
{
    ids[0] = draft(f, f->alice, "GrpA", "EBOOK", T0 + 10);
    ids[1] = draft(f, f->alice, "GrpA", "EBOOK", T0 + 20);
    ids[2] = draft(f, f->bob, "GrpB", "EBOOK", T0 + 20);
    ids[3] = draft(f, f->bob, "GrpB", "AUDIOBOOK", T0 + 20);
    ids[4] = draft(f, f->alice, "GrpB", "EBOOK", T0 + 30);
    ids[5] = draft(f, f->bob, "GrpA", "EBOOK", T0 + 5);
    set_name_size(f, ids[0], "Zeta.Book-GrpA", 300);
    set_name_size(f, ids[1], "Alpha.Book-GrpA", 100);
    set_name_size(f, ids[2], "Mid.Book-GrpB", 100);
    set_name_size(f, ids[3], "Beta.Audio-GrpB", 50);
    set_name_size(f, ids[4], "Omega.Book-GrpB", 900);
    /* ids[5] keeps a NULL name and size 0 */
    assert_int_equal(move(f, ids[1], "queued"), SP_OK);
    assert_int_equal(move(f, ids[2], "queued"), SP_OK);
    assert_int_equal(move(f, ids[2], "processing"), SP_OK);
    assert_int_equal(move(f, ids[2], "completed"), SP_OK);
    assert_int_equal(move(f, ids[3], "queued"), SP_OK);
}

static void assert_order(const int64_t *got, size_t n, const int64_t *want, size_t wn)
{
    assert_int_equal(n, wn);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(got[i], want[i]);
}

static void test_sort_orders_break_ties_by_id(void **state)
{
    struct fixture *f = *state;
    int64_t r[6], got[20], total;
    seed_six(f, r);
    struct sp_release_query q = {.page = 1, .per_page = 20, .desc = true};

    q.sort = SP_RSORT_CREATED; /* 30, 20 x3 (ids desc), 10, 5 */
    size_t n = list_ids(f, &q, got, 20, &total);
    int64_t w1[] = {r[4], r[3], r[2], r[1], r[0], r[5]};
    assert_order(got, n, w1, 6);
    assert_int_equal(total, 6);

    q.desc = false; /* 5, 10, 20 x3 (ids asc), 30 */
    n = list_ids(f, &q, got, 20, &total);
    int64_t w2[] = {r[5], r[0], r[1], r[2], r[3], r[4]};
    assert_order(got, n, w2, 6);

    q.sort = SP_RSORT_NAME; /* NULL first in ascending order */
    n = list_ids(f, &q, got, 20, &total);
    int64_t w3[] = {r[5], r[1], r[3], r[2], r[4], r[0]};
    assert_order(got, n, w3, 6);

    q.sort = SP_RSORT_SIZE; /* 0, 50, 100 (ids asc), 300, 900 */
    n = list_ids(f, &q, got, 20, &total);
    int64_t w4[] = {r[5], r[3], r[1], r[2], r[0], r[4]};
    assert_order(got, n, w4, 6);
    q.desc = true; /* 900, 300, 100 (ids desc), 50, 0 */
    n = list_ids(f, &q, got, 20, &total);
    int64_t w5[] = {r[4], r[0], r[2], r[1], r[3], r[5]};
    assert_order(got, n, w5, 6);

    q.sort = SP_RSORT_STATUS; /* queued (ids desc), draft (ids desc), completed */
    n = list_ids(f, &q, got, 20, &total);
    int64_t w6[] = {r[3], r[1], r[5], r[4], r[0], r[2]};
    assert_order(got, n, w6, 6);

    q.sort = SP_RSORT_TYPE;
    q.desc = false; /* AUDIOBOOK, then EBOOK by id */
    n = list_ids(f, &q, got, 20, &total);
    int64_t w7[] = {r[3], r[0], r[1], r[2], r[4], r[5]};
    assert_order(got, n, w7, 6);

    q.sort = SP_RSORT_UPDATED; /* all updated at T0 or creation: ties by id */
    n = list_ids(f, &q, got, 20, &total);
    assert_int_equal(n, 6);
}

static void test_filters_and_totals(void **state)
{
    struct fixture *f = *state;
    int64_t r[6], got[20], total;
    seed_six(f, r);
    struct sp_release_query q = {.page = 1, .per_page = 20, .desc = true};

    q.status = "draft";
    size_t n = list_ids(f, &q, got, 20, &total);
    int64_t w1[] = {r[4], r[0], r[5]};
    assert_order(got, n, w1, 3);
    assert_int_equal(total, 3);

    q.status = NULL;
    q.release_type = "AUDIOBOOK";
    n = list_ids(f, &q, got, 20, &total);
    assert_int_equal(n, 1);
    assert_int_equal(got[0], r[3]);

    q.release_type = "EBOOK";
    q.user_id = f->bob;
    n = list_ids(f, &q, got, 20, &total);
    int64_t w2[] = {r[2], r[5]};
    assert_order(got, n, w2, 2);

    /* group filter (counted, not from the counters) */
    int64_t grp_a = 0;
    assert_int_equal(sp_store_group_ensure(f->db, "GrpA", T0, &grp_a, NULL), SP_OK);
    q = (struct sp_release_query){.page = 1, .per_page = 20, .desc = true, .group_id = grp_a};
    n = list_ids(f, &q, got, 20, &total);
    int64_t w3[] = {r[1], r[0], r[5]};
    assert_order(got, n, w3, 3);
    assert_int_equal(total, 3);

    /* pagination: full pages need the total from the counters */
    q = (struct sp_release_query){.page = 1, .per_page = 2, .desc = true};
    n = list_ids(f, &q, got, 20, &total);
    int64_t p1[] = {r[4], r[3]};
    assert_order(got, n, p1, 2);
    assert_int_equal(total, 6);
    q.page = 2;
    n = list_ids(f, &q, got, 20, &total);
    int64_t p2[] = {r[2], r[1]};
    assert_order(got, n, p2, 2);
    assert_int_equal(total, 6);
    q.page = 3;
    n = list_ids(f, &q, got, 20, &total);
    int64_t p3[] = {r[0], r[5]};
    assert_order(got, n, p3, 2);
    assert_int_equal(total, 6);
    q.page = 9; /* past the end: no rows, the right total */
    n = list_ids(f, &q, got, 20, &total);
    assert_int_equal(n, 0);
    assert_int_equal(total, 6);

    /* counted totals with a user filter and a full page */
    q = (struct sp_release_query){
        .page = 1, .per_page = 1, .desc = true, .user_id = f->alice, .status = "draft"};
    n = list_ids(f, &q, got, 20, &total);
    assert_int_equal(n, 1);
    assert_int_equal(got[0], r[4]);
    assert_int_equal(total, 2);
    q.group_id = grp_a;
    n = list_ids(f, &q, got, 20, &total);
    assert_int_equal(total, 1);
    assert_int_equal(got[0], r[0]);
}

static void test_search_accents_prefix_and_hostile_input(void **state)
{
    struct fixture *f = *state;
    int64_t a = draft(f, f->alice, "Lecteurs", "EBOOK", T0 + 1);
    int64_t b = draft(f, f->alice, "Other", "EBOOK", T0 + 2);
    int64_t c = draft(f, f->bob, "Other", "EBOOK", T0 + 3);
    set_meta(
        f, a,
        "{\"title\":\"Germinal\",\"author\":\"\xc3\x89mile Zola\",\"isbn\":\"978-2-07-041239-7\"}");
    set_meta(f, b, "{\"title\":\"Les Mis\xc3\xa9rables\",\"author\":\"Victor Hugo\"}");
    set_meta(f, c, "{\"title\":\"Nana\",\"author\":\"Emile Zola\",\"publisher\":\"Charpentier\"}");
    set_name_size(f, b, "Victor.Hugo-Les.Miserables-Other", 1);

    int64_t got[20], total;
    struct sp_release_query q = {.page = 1, .per_page = 20, .desc = true};
    q.search = "emile";
    size_t n = list_ids(f, &q, got, 20, &total);
    int64_t w1[] = {c, a};
    assert_order(got, n, w1, 2);
    assert_int_equal(total, 2);

    q.search = "\xc3\x89MILE zol"; /* accents and case ignored; last term is a prefix */
    n = list_ids(f, &q, got, 20, &total);
    assert_order(got, n, w1, 2);

    q.search = "miserables";
    n = list_ids(f, &q, got, 20, &total);
    assert_int_equal(n, 1);
    assert_int_equal(got[0], b);

    q.search = "lecteurs"; /* the group name */
    n = list_ids(f, &q, got, 20, &total);
    assert_int_equal(n, 1);
    assert_int_equal(got[0], a);

    q.search = "978-2-07"; /* ISBN fragments */
    n = list_ids(f, &q, got, 20, &total);
    assert_int_equal(n, 1);
    assert_int_equal(got[0], a);

    q.search = "charpentier";
    n = list_ids(f, &q, got, 20, &total);
    assert_int_equal(n, 1);
    assert_int_equal(got[0], c);

    q.search = "zola";
    q.user_id = f->bob; /* search with filters */
    n = list_ids(f, &q, got, 20, &total);
    assert_int_equal(n, 1);
    assert_int_equal(got[0], c);
    assert_int_equal(total, 1);
    q.user_id = 0;

    q.search = "zola";
    q.per_page = 1; /* full page: the total is counted */
    n = list_ids(f, &q, got, 20, &total);
    assert_int_equal(n, 1);
    assert_int_equal(total, 2);
    q.per_page = 20;

    q.search = "emilx";
    n = list_ids(f, &q, got, 20, &total);
    assert_int_equal(n, 0);
    assert_int_equal(total, 0);

    /* FTS syntax in user text never errors */
    static const char *const hostile[] = {
        "\"",      "\"\"",  "AND",   "OR NOT",       "NEAR(zola", "title:zola",
        "*",       "zola*", "^zola", "(zola",        "zola)",     "-zola",
        "'; DROP", "{a b}", "a + b", "\xe2\x80\x94", "zola \"",   "col:*",
    };
    for (size_t i = 0; i < SP_ARRAY_LEN(hostile); i++) {
        q.search = hostile[i];
        struct sp_release_list l;
        assert_int_equal(sp_store_release_list(f->db, &q, &l), SP_OK);
        sp_release_list_free(&l);
    }

    /* an update re-indexes: the old title is gone, the new one found */
    set_meta(f, c, "{\"title\":\"L'Assommoir\"}");
    q.search = "nana";
    n = list_ids(f, &q, got, 20, &total);
    assert_int_equal(n, 0);
    q.search = "assommoir";
    n = list_ids(f, &q, got, 20, &total);
    assert_int_equal(n, 1);
}

/* Prefixes longer than the prefix indexes (9+ characters) are expanded to the words that start
 * with them; the matches must be the prefix's: longer words, case, other terms, many words. */
/* The search finds exactly the release `want`. */
static void assert_only(struct fixture *f, struct sp_release_query *q, const char *search,
                        int64_t want)
{
    int64_t got[40], total;
    q->search = search;
    size_t n = list_ids(f, q, got, 40, &total);
    assert_int_equal(n, 1);
    assert_int_equal(got[0], want);
    assert_int_equal(total, 1);
}

static void test_search_long_prefixes(void **state)
{
    struct fixture *f = *state;
    int64_t a = draft(f, f->alice, "Longgroupname", "EBOOK", T0 + 1);
    int64_t b = draft(f, f->alice, "Longgroupnames", "EBOOK", T0 + 2);
    int64_t c = draft(f, f->bob, "Longgroupnamex", "EBOOK", T0 + 3);
    int64_t d = draft(f, f->bob, "Other", "EBOOK", T0 + 4);
    set_meta(f, b, "{\"title\":\"Germinal\",\"author\":\"Emile Zola\"}");
    set_meta(f, d, "{\"title\":\"Les Mis\xc3\xa9rables\",\"author\":\"Victor Hugo\"}");

    int64_t got[40], total;
    struct sp_release_query q = {.page = 1, .per_page = 40, .desc = true};
    q.search = "longgroupname";
    size_t n = list_ids(f, &q, got, 40, &total);
    int64_t w1[] = {c, b, a};
    assert_order(got, n, w1, 3);
    assert_int_equal(total, 3);

    assert_only(f, &q, "LONGGROUPNAMEX", c);     /* case */
    assert_only(f, &q, "zola longgroupname", b); /* with another term */

    q.search = "longgroupname zola"; /* the long word whole, the short one a prefix */
    n = list_ids(f, &q, got, 40, &total);
    assert_int_equal(n, 0);

    q.search = "longgroupname,"; /* punctuation after the word */
    n = list_ids(f, &q, got, 40, &total);
    assert_int_equal(n, 3);

    q.search = "longgroupnamez";
    n = list_ids(f, &q, got, 40, &total);
    assert_int_equal(n, 0);
    assert_int_equal(total, 0);

    q.user_id = f->bob; /* with a filter */
    assert_only(f, &q, "longgroupname", c);
    q.user_id = 0;

    assert_only(f, &q, "Mis\xc3\xa9rable", d); /* non-ASCII: left to FTS5 */

    /* 16 words with one prefix are expanded, a 17th keeps the prefix query: same matches */
    int64_t many[17];
    for (int i = 0; i < 17; i++) {
        char g[32];
        snprintf(g, sizeof g, "Manywordsprefix%02d", i);
        many[i] = draft(f, f->alice, g, "EBOOK", T0 + 10 + i);
    }
    q.search = "manywordsprefix0";
    n = list_ids(f, &q, got, 40, &total);
    assert_int_equal(n, 10);
    assert_int_equal(got[0], many[9]);
    q.search = "manywordsprefix";
    n = list_ids(f, &q, got, 40, &total);
    assert_int_equal(n, 17);
    assert_int_equal(total, 17);
    assert_int_equal(got[0], many[16]);
    assert_int_equal(got[16], many[0]);
}

static void test_update_merges_metadata_and_checks_status(void **state)
{
    struct fixture *f = *state;
    struct sp_err e = {{0}, {0}};
    int64_t id = draft(f, f->alice, "GrpA", "EBOOK", T0);
    set_meta(f, id, "{\"title\":\"One\",\"author\":\"A\",\"year\":2001}");
    set_meta(f, id, "{\"title\":\"Two\",\"year\":null,\"language\":\"French\"}");
    struct sp_release r;
    assert_int_equal(sp_store_release_get(f->db, id, &r), SP_OK);
    json_t *m = json_loads(r.release_metadata, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(m, "title")), "Two");
    assert_string_equal(json_string_value(json_object_get(m, "author")), "A");
    assert_string_equal(json_string_value(json_object_get(m, "language")), "French");
    assert_null(json_object_get(m, "year"));
    json_decref(m);
    sp_release_clear(&r);

    json_t *cfg = json_pack("{s:i}", "zip_size", 50);
    struct sp_release_patch p = {.config = cfg};
    assert_int_equal(sp_store_release_update(f->db, id, &p, T0 + 9, &r, &e), SP_OK);
    assert_string_equal(r.config, "{\"zip_size\":50}");
    assert_int_equal(r.updated_at, T0 + 9);
    sp_release_clear(&r);
    json_decref(cfg);

    assert_int_equal(move(f, id, "processing"), SP_CONFLICT);
    assert_int_equal(move(f, id, "draft"), SP_OK); /* same status: no transition, no error */
    assert_int_equal(move(f, id, "queued"), SP_OK);
    assert_int_equal(move(f, id, "draft"), SP_CONFLICT);
    assert_int_equal(move(f, id, "processing"), SP_OK);
    assert_int_equal(move(f, id, "failed"), SP_OK);
    assert_int_equal(move(f, id, "completed"), SP_CONFLICT);
    struct sp_release_patch bad = {.status = "queued"};
    assert_int_equal(sp_store_release_update(f->db, id, &bad, T0, NULL, &e), SP_CONFLICT);
    assert_string_equal(e.field, "status");

    struct sp_release_patch rule = {.set_rule = true, .rule_id = 424242};
    assert_int_equal(sp_store_release_update(f->db, id, &rule, T0, NULL, &e), SP_INVALID);
    assert_string_equal(e.field, "rule_id");
    rule.rule_id = 0; /* none */
    assert_int_equal(sp_store_release_update(f->db, id, &rule, T0, &r, &e), SP_OK);
    assert_int_equal(r.rule_id, 0);
    sp_release_clear(&r);

    int64_t other = draft(f, f->alice, "GrpA", "EBOOK", T0);
    set_name_size(f, id, "Taken.Name-GrpA", 1);
    struct sp_release_patch dup = {.name = "Taken.Name-GrpA"};
    assert_int_equal(sp_store_release_update(f->db, other, &dup, T0, NULL, &e), SP_CONFLICT);
    assert_string_equal(e.field, "name");
    assert_int_equal(sp_store_release_update(f->db, 999999, &dup, T0, NULL, &e), SP_NOTFOUND);
}

static void test_counters_follow_writes(void **state)
{
    struct fixture *f = *state;
    int64_t r[6];
    seed_six(f, r);
    struct sp_dash_global g;
    assert_int_equal(sp_store_dashboard_global(f->db, &g), SP_OK);
    assert_int_equal(g.total_releases, 6);
    assert_int_equal(g.by_status[0], 3); /* draft */
    assert_int_equal(g.by_status[1], 2); /* queued */
    assert_int_equal(g.by_status[3], 1); /* completed */
    assert_int_equal(g.nrecent, 5);
    assert_int_equal(g.recent[0].id, r[4]);
    assert_string_equal(g.recent[0].group, "GrpB");
    assert_int_equal(g.recent[1].id, r[3]); /* tie on created_at: higher id first */
    int64_t ebooks = -1;
    for (int i = 0; i < g.ntypes; i++)
        if (!strcmp(g.by_type[i].type, "EBOOK"))
            ebooks = g.by_type[i].n;
    assert_int_equal(ebooks, 5);
    int64_t mine = 0, jobs = 0;
    assert_int_equal(sp_store_dashboard_user(f->db, f->alice, &mine, &jobs), SP_OK);
    assert_int_equal(mine, 3);
    assert_int_equal(jobs, 0);

    struct sp_err e = {{0}, {0}};
    struct sp_release old;
    assert_int_equal(sp_store_release_delete(f->db, r[2], &old, &e), SP_OK);
    assert_string_equal(old.name, "Mid.Book-GrpB");
    sp_release_clear(&old);
    assert_int_equal(sp_store_release_delete(f->db, r[2], NULL, &e), SP_NOTFOUND);
    assert_int_equal(sp_store_dashboard_global(f->db, &g), SP_OK);
    assert_int_equal(g.total_releases, 5);
    assert_int_equal(g.by_status[3], 0);
    struct sp_release_query q = {.page = 1, .per_page = 20, .desc = true, .search = "mid"};
    int64_t got[20], total;
    assert_int_equal(list_ids(f, &q, got, 20, &total), 0); /* gone from the index too */
}

static void test_delete_refuses_running_job_and_removes_files(void **state)
{
    struct fixture *f = *state;
    struct sp_err e = {{0}, {0}};
    int64_t id = draft(f, f->alice, "GrpA", "EBOOK", T0);
    set_name_size(f, id, "Some.Book-GrpA", 10);

    /* fixture: a running job for the release (the jobs store is not under test here) */
    char sql[300];
    snprintf(sql, sizeof sql,
             "INSERT INTO jobs(release_id, user_id, job_type, status, created_at, updated_at)"
             " VALUES (%lld, %lld, 'pack', 'running', 1, 1)",
             (long long)id, (long long)f->alice);
    assert_int_equal(sp_db_exec(f->db, sql, &e), SP_OK);
    assert_int_equal(sp_store_release_delete(f->db, id, NULL, &e), SP_CONFLICT);
    assert_true(strstr(e.message, "running") != NULL);
    assert_int_equal(sp_db_exec(f->db, "UPDATE jobs SET status = 'completed'", &e), SP_OK);

    /* files: the release directory goes, a symlink inside is removed without following it */
    char path[900], outside[900];
    snprintf(path, sizeof path, "%s/releases/Some.Book-GrpA/sub", f->dir);
    char cmd[2000];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && echo x > '%s/a.zip'", path, path);
    assert_int_equal(system(cmd), 0);
    snprintf(outside, sizeof outside, "%s/keep.txt", f->dir);
    FILE *fp = fopen(outside, "w");
    assert_non_null(fp);
    fputs("keep", fp);
    fclose(fp);
    snprintf(path, sizeof path, "%s/releases/Some.Book-GrpA/link", f->dir);
    assert_int_equal(symlink(f->dir, path), 0);

    struct sp_release old;
    assert_int_equal(sp_store_release_delete(f->db, id, &old, &e), SP_OK);
    assert_int_equal(sp_store_release_remove_files(f->dir, &old), SP_OK);
    sp_release_clear(&old);
    snprintf(path, sizeof path, "%s/releases/Some.Book-GrpA", f->dir);
    struct stat sb;
    assert_int_equal(lstat(path, &sb), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(stat(outside, &sb), 0); /* never followed out of the release dir */

    /* a dangerous name never escapes the releases directory */
    struct sp_release evil = {.name = (char *)"..", .file_path = (char *)"/etc/passwd"};
    assert_int_equal(sp_store_release_remove_files(f->dir, &evil), SP_OK);
    assert_int_equal(stat("/etc/passwd", &sb), 0);
    assert_int_equal(stat(outside, &sb), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fts_query_quotes_terms),
        cmocka_unit_test(test_status_transitions),
        cmocka_unit_test_setup_teardown(test_group_names_and_insert_or_select, setup, teardown),
        cmocka_unit_test_setup_teardown(test_draft_defaults_and_rule_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sort_orders_break_ties_by_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filters_and_totals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_accents_prefix_and_hostile_input, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_search_long_prefixes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_merges_metadata_and_checks_status, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_counters_follow_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_refuses_running_job_and_removes_files, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
