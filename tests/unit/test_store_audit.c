/*
 * test_store_audit.c — store/audit.c: rows are appended with every field, optional ones as
 * NULL; long text is cut at a UTF-8 boundary; the list is newest first, paginated, counted, and
 * filters by user, name, action (exact or prefix), resource, resource id and time range.
 */
#include "support.h"

#include <string.h>

#include "store/audit.h"
#include "util/alloc.h"

struct fixture {
    char dir[512];
    struct sp_db *db;
};

static int setup(void **state)
{
    struct fixture *f = sp_calloc(1, sizeof *f);
    *state = f;
    return ts_db_setup(f->dir, sizeof f->dir, "test_store_audit", TS_DB_MIGRATED, &f->db);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int rc = ts_db_teardown(f->db, f->dir);
    sp_free(f);
    return rc;
}

static int64_t add(struct sp_db *db, int64_t user, const char *name, const char *action,
                   const char *resource, int64_t rid, int64_t when)
{
    struct sp_audit_entry e;
    memset(&e, 0, sizeof e);
    e.user_id = user;
    e.resource_id = rid;
    e.created_at = when;
    sp_audit_entry_set(&e, name, action, resource, "192.0.2.1", "req-1", "did something");
    int64_t id = 0;
    assert_int_equal(sp_store_audit_add(db, &e, &id), SP_OK);
    assert_true(id > 0);
    return id;
}

static void add_and_read_back(void **state)
{
    struct fixture *f = *state;
    struct sp_audit_entry e;
    memset(&e, 0, sizeof e);
    e.user_id = 3;
    e.resource_id = 17;
    sp_audit_entry_set(&e, "alice", "releases.update", "releases", "203.0.113.5", "abc-123",
                       "PUT /api/releases/17");
    int64_t id = 0;
    assert_int_equal(sp_store_audit_add(f->db, &e, &id), SP_OK);

    struct sp_audit_entry anon;
    memset(&anon, 0, sizeof anon);
    sp_audit_entry_set(&anon, NULL, "auth.login_failed", "auth", NULL, NULL, NULL);
    assert_int_equal(sp_store_audit_add(f->db, &anon, NULL), SP_OK);

    struct sp_audit_entry *rows = NULL;
    int n = 0;
    int64_t total = 0;
    assert_int_equal(sp_store_audit_list(f->db, NULL, 1, 20, &rows, &n, &total), SP_OK);
    assert_int_equal(n, 2);
    assert_int_equal(total, 2);
    /* same second: ties broken by id, newest first */
    assert_string_equal(rows[0].action, "auth.login_failed");
    assert_int_equal(rows[0].user_id, 0);
    assert_int_equal(rows[0].resource_id, 0);
    assert_string_equal(rows[0].username, "");
    assert_string_equal(rows[0].ip, "");
    assert_string_equal(rows[0].summary, "");
    assert_int_equal(rows[1].id, id);
    assert_int_equal(rows[1].user_id, 3);
    assert_int_equal(rows[1].resource_id, 17);
    assert_string_equal(rows[1].username, "alice");
    assert_string_equal(rows[1].resource, "releases");
    assert_string_equal(rows[1].ip, "203.0.113.5");
    assert_string_equal(rows[1].request_id, "abc-123");
    assert_string_equal(rows[1].summary, "PUT /api/releases/17");
    assert_true(rows[1].created_at > 1700000000);
    sp_free(rows);
}

static void refuses_rows_without_action_or_resource(void **state)
{
    struct fixture *f = *state;
    struct sp_audit_entry e;
    memset(&e, 0, sizeof e);
    sp_audit_entry_set(&e, "x", "", "users", NULL, NULL, NULL);
    assert_int_equal(sp_store_audit_add(f->db, &e, NULL), SP_INVALID);
    sp_audit_entry_set(&e, "x", "users.create", "", NULL, NULL, NULL);
    assert_int_equal(sp_store_audit_add(f->db, &e, NULL), SP_INVALID);
}

static void long_text_is_cut_on_a_character_boundary(void **state)
{
    (void)state;
    struct sp_audit_entry e;
    memset(&e, 0, sizeof e);
    char summary[SP_AUDIT_SUMMARY_MAX + 20];
    /* 'a' then two-byte characters: the limit falls inside one of them */
    summary[0] = 'a';
    size_t i = 1;
    while (i + 2 < sizeof summary) {
        summary[i++] = (char)0xC3;
        summary[i++] = (char)0xA9; /* é */
    }
    summary[i] = '\0';
    sp_audit_entry_set(&e, NULL, "a.b", "a", NULL, NULL, summary);
    size_t n = strlen(e.summary);
    assert_true(n <= SP_AUDIT_SUMMARY_MAX && n >= SP_AUDIT_SUMMARY_MAX - 1);
    assert_int_equal(n % 2, 1); /* 'a' + whole é's */
    assert_true(((unsigned char)e.summary[n - 1]) == 0xA9);
    char name[200];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    sp_audit_entry_set(&e, name, "a.b", "a", NULL, NULL, NULL);
    assert_int_equal(strlen(e.username), SP_AUDIT_USERNAME_MAX);
}

static void pagination_and_filters(void **state)
{
    struct fixture *f = *state;
    const int64_t t = 1800000000;
    int64_t first = add(f->db, 1, "admin", "auth.login", "auth", 1, t);
    add(f->db, 2, "Bob", "rules.create", "rules", 5, t + 10);
    add(f->db, 2, "Bob", "rules.update", "rules", 5, t + 20);
    add(f->db, 1, "admin", "users.create", "users", 2, t + 30);
    int64_t last = add(f->db, 2, "Bob", "rules.delete", "rules", 6, t + 40);

    struct sp_audit_entry *rows = NULL;
    int n = 0;
    int64_t total = 0;
    assert_int_equal(sp_store_audit_list(f->db, NULL, 1, 2, &rows, &n, &total), SP_OK);
    assert_int_equal(total, 5);
    assert_int_equal(n, 2);
    assert_int_equal(rows[0].id, last);
    sp_free(rows);
    assert_int_equal(sp_store_audit_list(f->db, NULL, 3, 2, &rows, &n, &total), SP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].id, first);
    sp_free(rows);
    assert_int_equal(sp_store_audit_list(f->db, NULL, 4, 2, &rows, &n, &total), SP_OK);
    assert_int_equal(n, 0);
    assert_null(rows);
    assert_int_equal(total, 5);

    struct {
        struct sp_audit_filter f;
        int64_t expect;
    } cases[] = {
        {{.user_id = 2}, 3},
        {{.username = "bob"}, 3},
        {{.action = "rules.update"}, 1},
        {{.action = "rules."}, 3},
        {{.action = "rules"}, 0}, /* no dot: exact */
        {{.resource = "users"}, 1},
        {{.resource = "rules", .resource_id = 5}, 2},
        {{.since = t + 20}, 3},
        {{.until = t + 20}, 3},
        {{.since = t + 10, .until = t + 30}, 3},
        {{.since = t + 41}, 0},
        {{.user_id = 1, .action = "users."}, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(sp_store_audit_list(f->db, &cases[i].f, 1, 100, &rows, &n, &total), SP_OK);
        assert_int_equal(total, cases[i].expect);
        assert_int_equal(n, cases[i].expect);
        for (int k = 1; k < n; k++)
            assert_true(rows[k - 1].created_at >= rows[k].created_at);
        sp_free(rows);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(add_and_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_rows_without_action_or_resource, setup, teardown),
        cmocka_unit_test(long_text_is_cut_on_a_character_boundary),
        cmocka_unit_test_setup_teardown(pagination_and_filters, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
