/*
 * test_store_rules.c — scene rule rows against a real migrated SQLite database: create with
 * defaults, get, list filters and pagination totals, partial update (a new text drops the
 * stale parsed spec), the protected built-in rule, and releases outliving a deleted rule.
 */
#include "support.h"

#include <string.h>

#include "store/releases.h"
#include "store/rules.h"
#include "util/alloc.h"

struct fixture {
    char dir[512];
    struct sp_db *db;
    int64_t user;
    int64_t builtin;
};

static const int64_t T0 = 1700000000;

static int setup(void **state)
{
    struct fixture *f = sp_calloc(1, sizeof *f);
    *state = f;
    if (ts_db_setup(f->dir, sizeof f->dir, "test_store_rules", TS_DB_BOOTSTRAPPED, &f->db) != 0)
        return -1;
    f->user = ts_user(f->db, "carol");
    return sp_store_rule_default(f->db, "eBOOK", &f->builtin) == SP_OK ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int rc = ts_db_teardown(f->db, f->dir);
    sp_free(f);
    return rc;
}

static int64_t add(struct fixture *f, const char *name, const char *scene, const char *section,
                   int64_t year)
{
    struct sp_rule_input in = {.name = name,
                               .content = "rule text",
                               .scene = scene,
                               .section = section,
                               .set_year = year > 0,
                               .year = year};
    int64_t id = 0;
    assert_int_equal(sp_store_rule_create(f->db, &in, f->user, T0, &id), SP_OK);
    return id;
}

static void test_builtin_rule_is_there_and_protected(void **state)
{
    struct fixture *f = *state;
    struct sp_rule r;
    assert_int_equal(sp_store_rule_get(f->db, f->builtin, &r), SP_OK);
    assert_true(r.builtin);
    assert_string_equal(r.name, SP_BUILTIN_RULE_NAME);
    assert_string_equal(r.section, "eBOOK");
    assert_non_null(r.content);
    sp_rule_clear(&r);
    char *spec = NULL;
    assert_int_equal(sp_store_rule_spec(f->db, f->builtin, &spec), SP_OK);
    assert_non_null(spec);
    assert_int_equal(spec[0], '{');
    sp_free(spec);

    struct sp_err e = {{0}, {0}};
    assert_int_equal(sp_store_rule_delete(f->db, f->builtin, &e), SP_CONFLICT);
    assert_true(strstr(e.message, "built-in") != NULL);
    assert_int_equal(sp_store_rule_exists(f->db, f->builtin), 1);
}

static void test_create_defaults_and_get(void **state)
{
    struct fixture *f = *state;
    struct sp_rule_input in = {.name = "My rule", .content = "ZIP 50MB\nNFO 80 cols"};
    int64_t id = 0;
    assert_int_equal(sp_store_rule_create(f->db, &in, f->user, T0 + 1, &id), SP_OK);
    struct sp_rule r;
    assert_int_equal(sp_store_rule_get(f->db, id, &r), SP_OK);
    assert_string_equal(r.name, "My rule");
    assert_string_equal(r.scene, "English");
    assert_string_equal(r.section, "eBOOK");
    assert_int_equal(r.year, 0);
    assert_string_equal(r.content, "ZIP 50MB\nNFO 80 cols");
    assert_false(r.builtin);
    assert_int_equal(r.user_id, f->user);
    assert_int_equal(r.created_at, T0 + 1);
    sp_rule_clear(&r);
    char *spec = (char *)"unset";
    assert_int_equal(sp_store_rule_spec(f->db, id, &spec), SP_OK);
    assert_null(spec); /* not parsed yet */
    assert_int_equal(sp_store_rule_get(f->db, 987654, &r), SP_NOTFOUND);
    assert_int_equal(sp_store_rule_spec(f->db, 987654, &spec), SP_NOTFOUND);
}

static void test_list_filters_order_and_totals(void **state)
{
    struct fixture *f = *state;
    int64_t a = add(f, "French 2019", "French", "eBOOK", 2019);
    int64_t b = add(f, "German 2023", "German", "eBOOK", 2023);
    int64_t c = add(f, "TV 2023", "English", "TV", 2023);
    int64_t d = add(f, "100%_sure", "English", "eBOOK", 0);

    struct sp_rule_query q = {.page = 1, .per_page = 20};
    struct sp_rule_list l;
    assert_int_equal(sp_store_rule_list(f->db, &q, &l), SP_OK);
    /* newest first: year desc (2023: c then b by id desc), 2022 builtin, 2019, no year */
    assert_int_equal(l.n, 5);
    assert_int_equal(l.total, 5);
    assert_int_equal(l.items[0].id, c);
    assert_int_equal(l.items[1].id, b);
    assert_int_equal(l.items[2].id, f->builtin);
    assert_int_equal(l.items[3].id, a);
    assert_int_equal(l.items[4].id, d);
    assert_null(l.items[0].content); /* lists leave the text out */
    sp_rule_list_free(&l);

    q.with_content = true;
    q.per_page = 2;
    assert_int_equal(sp_store_rule_list(f->db, &q, &l), SP_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.total, 5);
    assert_non_null(l.items[0].content);
    sp_rule_list_free(&l);
    q.page = 3;
    assert_int_equal(sp_store_rule_list(f->db, &q, &l), SP_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.items[0].id, d);
    assert_int_equal(l.total, 5);
    sp_rule_list_free(&l);
    q.page = 7;
    assert_int_equal(sp_store_rule_list(f->db, &q, &l), SP_OK);
    assert_int_equal(l.n, 0);
    assert_int_equal(l.total, 5);
    sp_rule_list_free(&l);

    q = (struct sp_rule_query){.page = 1, .per_page = 20, .scene = "german"};
    assert_int_equal(sp_store_rule_list(f->db, &q, &l), SP_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.items[0].id, b);
    sp_rule_list_free(&l);

    q = (struct sp_rule_query){.page = 1, .per_page = 20, .section = "ebook", .year = 2023};
    assert_int_equal(sp_store_rule_list(f->db, &q, &l), SP_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.items[0].id, b);
    sp_rule_list_free(&l);

    /* LIKE wildcards in the search text are literal */
    q = (struct sp_rule_query){.page = 1, .per_page = 20, .search = "0%_s"};
    assert_int_equal(sp_store_rule_list(f->db, &q, &l), SP_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.items[0].id, d);
    sp_rule_list_free(&l);
    q.search = "%";
    assert_int_equal(sp_store_rule_list(f->db, &q, &l), SP_OK);
    assert_int_equal(l.n, 1);
    sp_rule_list_free(&l);
    q.search = "tv";
    assert_int_equal(sp_store_rule_list(f->db, &q, &l), SP_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.items[0].id, c);
    sp_rule_list_free(&l);

    int64_t dflt = 0;
    assert_int_equal(sp_store_rule_default(f->db, "eBOOK", &dflt), SP_OK);
    assert_int_equal(dflt, b);
    assert_int_equal(sp_store_rule_default(f->db, "MP3", &dflt), SP_NOTFOUND);
}

static void test_update_is_partial_and_new_text_drops_spec(void **state)
{
    struct fixture *f = *state;
    int64_t id = add(f, "Old", "English", "eBOOK", 2020);
    assert_int_equal(sp_store_rule_set_spec(f->db, id, "{\"zip_sizes\":[50]}"), SP_OK);

    struct sp_rule_input in = {.name = "New name"};
    assert_int_equal(sp_store_rule_update(f->db, id, &in, T0 + 50), SP_OK);
    struct sp_rule r;
    assert_int_equal(sp_store_rule_get(f->db, id, &r), SP_OK);
    assert_string_equal(r.name, "New name");
    assert_string_equal(r.content, "rule text");
    assert_int_equal(r.year, 2020);
    assert_int_equal(r.updated_at, T0 + 50);
    sp_rule_clear(&r);
    char *spec = NULL;
    assert_int_equal(sp_store_rule_spec(f->db, id, &spec), SP_OK);
    assert_string_equal(spec, "{\"zip_sizes\":[50]}"); /* same text: spec kept */
    sp_free(spec);

    in = (struct sp_rule_input){.content = "rule text"}; /* unchanged text keeps the spec */
    assert_int_equal(sp_store_rule_update(f->db, id, &in, T0), SP_OK);
    assert_int_equal(sp_store_rule_spec(f->db, id, &spec), SP_OK);
    assert_non_null(spec);
    sp_free(spec);

    in = (struct sp_rule_input){.content = "other text", .set_year = true, .year = 0};
    assert_int_equal(sp_store_rule_update(f->db, id, &in, T0), SP_OK);
    assert_int_equal(sp_store_rule_spec(f->db, id, &spec), SP_OK);
    assert_null(spec);
    assert_int_equal(sp_store_rule_get(f->db, id, &r), SP_OK);
    assert_int_equal(r.year, 0);
    assert_string_equal(r.content, "other text");
    sp_rule_clear(&r);

    assert_int_equal(sp_store_rule_update(f->db, 5555555, &in, T0), SP_NOTFOUND);
    assert_int_equal(sp_store_rule_set_spec(f->db, 5555555, "{}"), SP_NOTFOUND);
}

static void test_delete_keeps_releases(void **state)
{
    struct fixture *f = *state;
    struct sp_err e = {{0}, {0}};
    int64_t id = add(f, "Doomed", "English", "eBOOK", 2099);
    struct sp_release_draft d = {"SomeGrp", "EBOOK", 0, f->user};
    int64_t rel = 0;
    bool created;
    assert_int_equal(sp_store_release_create_draft(f->db, &d, T0, &rel, &created, &e), SP_OK);
    struct sp_release r;
    assert_int_equal(sp_store_release_get(f->db, rel, &r), SP_OK);
    assert_int_equal(r.rule_id, id); /* newest eBOOK rule */
    sp_release_clear(&r);

    assert_int_equal(sp_store_rule_delete(f->db, id, &e), SP_OK);
    assert_int_equal(sp_store_rule_exists(f->db, id), 0);
    assert_int_equal(sp_store_rule_delete(f->db, id, &e), SP_NOTFOUND);
    assert_int_equal(sp_store_release_get(f->db, rel, &r), SP_OK);
    assert_int_equal(r.rule_id, 0);
    sp_release_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_builtin_rule_is_there_and_protected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_defaults_and_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_filters_order_and_totals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_is_partial_and_new_text_drops_spec, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_delete_keeps_releases, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
