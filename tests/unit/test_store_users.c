/*
 * test_store_users.c — first-start content (permissions, roles, the built-in rule, the admin
 * account; a second run changes nothing) and the users/roles store: create, duplicates →
 * SP_CONFLICT naming the field, the permission bitset of each seeded role, disabling revokes
 * tokens (token_epoch), pagination, updates, deletes, and the public JSON (never the hash).
 */
#include "support.h"

#include <jansson.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/permissions.h"
#include "util/alloc.h"

#define ADMIN_PW TS_ADMIN_PASSWORD

struct fixture {
    char dir[512];
    struct sp_db *db;
};

static int setup(void **state)
{
    struct fixture *f = sp_calloc(1, sizeof *f);
    *state = f;
    return ts_db_setup(f->dir, sizeof f->dir, "test_store_users", TS_DB_MIGRATED, &f->db);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int rc = ts_db_teardown(f->db, f->dir);
    sp_free(f);
    return rc;
}

static int setup_boot(void **state)
{
    struct fixture *f = sp_calloc(1, sizeof *f);
    *state = f;
    return ts_db_setup(f->dir, sizeof f->dir, "test_store_users", TS_DB_BOOTSTRAPPED, &f->db);
}

static int64_t role_id(struct sp_db *db, const char *name)
{
    struct sp_role r;
    assert_int_equal(sp_store_role_get_by_name(db, name, &r), SP_OK);
    return r.id;
}

static int64_t add_user(struct sp_db *db, const char *name, const char *email, const char *role)
{
    const char *roles[] = {role, NULL};
    struct sp_user_new u = {
        .username = name,
        .email = email,
        .password_hash = "$argon2id$not-a-real-hash",
        .active = true,
        .role_names = role ? roles : NULL,
    };
    int64_t id = 0;
    struct sp_err e = {{0}, {0}};
    assert_int_equal(sp_store_user_create(db, &u, &id, &e), SP_OK);
    assert_true(id > 0);
    return id;
}

/* ---- bootstrap ---- */

static void bootstrap_first_start(void **state)
{
    struct fixture *f = *state;
    struct sp_bootstrap_result br;
    struct sp_err e = {{0}, {0}};
    assert_int_equal(sp_store_bootstrap(f->db, ADMIN_PW, &br, &e), SP_OK);
    assert_int_equal(br.permissions_added, SP_RES_COUNT * SP_ACT_COUNT);
    assert_int_equal(br.roles_added, 3);
    assert_int_equal(br.rules_added, 1);
    assert_true(br.admin_created);
    assert_false(br.admin_password_generated);
    assert_string_equal(br.admin_password, "");

    /* every permission row, with a description */
    struct sp_permission *ps = NULL;
    int n = 0;
    assert_int_equal(sp_store_permissions_list(f->db, &ps, &n), SP_OK);
    assert_int_equal(n, 28);
    uint64_t all = 0;
    for (int i = 0; i < n; i++) {
        assert_true(ps[i].bit != 0);
        assert_true(strlen(ps[i].description) > 4);
        all |= ps[i].bit;
    }
    sp_free(ps);
    assert_int_equal(__builtin_popcountll(all), 28);

    /* the three built-in roles */
    struct sp_role *roles = NULL;
    assert_int_equal(sp_store_role_list(f->db, &roles, &n), SP_OK);
    assert_int_equal(n, 3);
    for (int i = 0; i < n; i++)
        assert_true(roles[i].builtin);
    sp_free(roles);

    /* the built-in rule: our summary plus structured constraints */
    assert_int_equal(ts_scalar(f->db, "SELECT COUNT(*) FROM rules WHERE builtin = 1 AND name ="
                                      " '[2022] eBOOK' AND section = 'eBOOK' AND scene = 'English'"
                                      " AND year = 2022"),
                     1);
    struct sp_stmt *st = sp_db_prepare_once(f->db, "SELECT content, spec FROM rules");
    assert_int_equal(sp_stmt_step(st), SP_ROW);
    assert_non_null(strstr(sp_stmt_column_text(st, 0), "243"));
    json_error_t je;
    json_t *spec = json_loads(sp_stmt_column_text(st, 1), 0, &je);
    sp_stmt_finalize(st);
    assert_non_null(spec);
    assert_int_equal(json_integer_value(json_object_get(spec, "name_max_length")), 243);
    assert_int_equal(json_integer_value(json_object_get(spec, "nfo_max_width")), 80);
    assert_int_equal(json_integer_value(json_object_get(spec, "diz_max_width")), 44);
    assert_int_equal(json_integer_value(json_object_get(spec, "diz_max_lines")), 30);
    assert_int_equal(json_integer_value(json_object_get(spec, "max_files_per_zip")), 99);
    assert_int_equal(json_array_size(json_object_get(spec, "zip_sizes")), 7);
    assert_true(json_is_true(json_object_get(spec, "zip_names_8_3")));
    assert_string_equal(json_string_value(json_object_get(spec, "name_allowed_chars")),
                        "A-Za-z0-9._-");
    json_decref(spec);

    /* the admin account: role admin, the configured password */
    struct sp_user u;
    assert_int_equal(sp_store_user_get_by_name(f->db, "admin", &u), SP_OK);
    assert_true(u.active);
    assert_int_equal(u.nroles, 1);
    assert_string_equal(u.roles[0], "admin");
    assert_true(sp_password_verify(u.password_hash, ADMIN_PW));
    assert_false(sp_password_verify(u.password_hash, "wrong-password"));
}

static void bootstrap_second_run_changes_nothing(void **state)
{
    struct fixture *f = *state;
    struct sp_bootstrap_result br;
    struct sp_err e = {{0}, {0}};
    assert_int_equal(sp_store_bootstrap(f->db, ADMIN_PW, &br, &e), SP_OK);
    struct sp_user before;
    assert_int_equal(sp_store_user_get_by_name(f->db, "admin", &before), SP_OK);
    /* an administrator trims the viewer role; a restart must keep that */
    int64_t viewer = role_id(f->db, "viewer");
    int64_t none[1] = {0};
    assert_int_equal(sp_store_role_update(f->db, viewer, NULL, NULL, none, 0, &e), SP_OK);

    assert_int_equal(sp_store_bootstrap(f->db, "another-password", &br, &e), SP_OK);
    assert_int_equal(br.permissions_added, 0);
    assert_int_equal(br.roles_added, 0);
    assert_int_equal(br.rules_added, 0);
    assert_false(br.admin_created);
    assert_int_equal(ts_scalar(f->db, "SELECT COUNT(*) FROM users"), 1);
    assert_int_equal(ts_scalar(f->db, "SELECT COUNT(*) FROM rules"), 1);
    assert_int_equal(ts_scalar(f->db, "SELECT COUNT(*) FROM roles"), 3);
    assert_int_equal(ts_scalar(f->db, "SELECT COUNT(*) FROM permissions"), 28);
    struct sp_user after;
    assert_int_equal(sp_store_user_get_by_name(f->db, "admin", &after), SP_OK);
    assert_string_equal(before.password_hash, after.password_hash);
    struct sp_role r;
    assert_int_equal(sp_store_role_get(f->db, viewer, &r), SP_OK);
    assert_int_equal(r.perms, 0);
}

static void bootstrap_generated_password(void **state)
{
    struct fixture *f = *state;
    struct sp_bootstrap_result br;
    struct sp_err e = {{0}, {0}};
    /* too short a configured password is refused, and nothing is written */
    assert_int_equal(sp_store_bootstrap(f->db, "short", &br, &e), SP_INVALID);
    assert_string_equal(e.field, "admin_password");
    assert_int_equal(ts_scalar(f->db, "SELECT COUNT(*) FROM users"), 0);

    assert_int_equal(sp_store_bootstrap(f->db, NULL, &br, &e), SP_OK);
    assert_true(br.admin_created);
    assert_true(br.admin_password_generated);
    assert_int_equal(strlen(br.admin_password), 20);
    struct sp_user u;
    assert_int_equal(sp_store_user_get_by_name(f->db, "admin", &u), SP_OK);
    assert_true(sp_password_verify(u.password_hash, br.admin_password));
    /* the database never holds the clear password */
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM users WHERE password_hash LIKE '%%%s%%'",
             br.admin_password);
    assert_int_equal(ts_scalar(f->db, sql), 0);
}

/* ---- users ---- */

static void create_and_get(void **state)
{
    struct fixture *f = *state;
    int64_t id = add_user(f->db, "alice", "alice@example.org", "operator");
    struct sp_user u;
    assert_int_equal(sp_store_user_get(f->db, id, &u), SP_OK);
    assert_string_equal(u.username, "alice");
    assert_string_equal(u.email, "alice@example.org");
    assert_true(u.active);
    assert_int_equal(u.nroles, 1);
    assert_string_equal(u.roles[0], "operator");
    assert_int_equal(u.role_ids[0], role_id(f->db, "operator"));
    assert_true(u.created_at > 0);
    assert_int_equal(u.last_login_at, 0);
    /* usernames are case-insensitive */
    assert_int_equal(sp_store_user_get_by_name(f->db, "ALICE", &u), SP_OK);
    assert_int_equal(u.id, id);
    assert_int_equal(sp_store_user_get(f->db, 999999, &u), SP_NOTFOUND);
    assert_int_equal(sp_store_user_get_by_name(f->db, "nobody", &u), SP_NOTFOUND);

    /* roles by id and by name merge; no email is "" */
    int64_t ids[] = {role_id(f->db, "viewer")};
    const char *names[] = {"operator", "viewer", NULL};
    struct sp_user_new nu = {.username = "bob",
                             .password_hash = "h",
                             .active = false,
                             .role_ids = ids,
                             .nrole_ids = 1,
                             .role_names = names,
                             .note = "a note"};
    int64_t bob = 0;
    struct sp_err e = {{0}, {0}};
    assert_int_equal(sp_store_user_create(f->db, &nu, &bob, &e), SP_OK);
    assert_int_equal(sp_store_user_get(f->db, bob, &u), SP_OK);
    assert_int_equal(u.nroles, 2);
    assert_false(u.active);
    assert_string_equal(u.email, "");
    assert_string_equal(u.note, "a note");
}

static void duplicates_conflict(void **state)
{
    struct fixture *f = *state;
    add_user(f->db, "alice", "alice@example.org", "viewer");
    struct sp_err e = {{0}, {0}};
    struct sp_user_new u = {.username = "Alice", .password_hash = "h", .active = true};
    assert_int_equal(sp_store_user_create(f->db, &u, NULL, &e), SP_CONFLICT);
    assert_string_equal(e.field, "username");
    u.username = "alice2";
    u.email = "ALICE@example.org";
    assert_int_equal(sp_store_user_create(f->db, &u, NULL, &e), SP_CONFLICT);
    assert_string_equal(e.field, "email");
    /* an unknown role is invalid input, and nothing is left behind */
    const char *bad[] = {"superuser", NULL};
    struct sp_user_new v = {.username = "carol", .password_hash = "h", .role_names = bad};
    assert_int_equal(sp_store_user_create(f->db, &v, NULL, &e), SP_INVALID);
    assert_string_equal(e.field, "roles");
    int64_t badid[] = {4242};
    struct sp_user_new w = {
        .username = "carol", .password_hash = "h", .role_ids = badid, .nrole_ids = 1};
    assert_int_equal(sp_store_user_create(f->db, &w, NULL, &e), SP_INVALID);
    assert_string_equal(e.field, "role_ids");
    struct sp_user x;
    assert_int_equal(sp_store_user_get_by_name(f->db, "carol", &x), SP_NOTFOUND);
    assert_false(sp_db_in_transaction(f->db));
    /* two users without email do not clash */
    add_user(f->db, "dave", NULL, NULL);
    add_user(f->db, "erin", "", NULL);
}

static void role_permission_bitsets(void **state)
{
    struct fixture *f = *state;
    int64_t admin = 0, op, viewer, none;
    struct sp_user a;
    assert_int_equal(sp_store_user_get_by_name(f->db, "admin", &a), SP_OK);
    admin = a.id;
    op = add_user(f->db, "oscar", NULL, "operator");
    viewer = add_user(f->db, "vera", NULL, "viewer");
    none = add_user(f->db, "nina", NULL, NULL);

    uint64_t p;
    bool is_admin;
    assert_int_equal(sp_store_user_perms(f->db, admin, &p, &is_admin), SP_OK);
    assert_true(is_admin);
    for (int r = 0; r < SP_RES_COUNT; r++)
        for (int act = 0; act < SP_ACT_COUNT; act++)
            assert_true(p & SP_PERM_BIT(r, act));

    assert_int_equal(sp_store_user_perms(f->db, op, &p, &is_admin), SP_OK);
    assert_false(is_admin);
    uint64_t want = SP_PERM_BIT(SP_RES_RELEASES, SP_ACT_READ) |
                    SP_PERM_BIT(SP_RES_RELEASES, SP_ACT_WRITE) |
                    SP_PERM_BIT(SP_RES_RULES, SP_ACT_READ) |
                    SP_PERM_BIT(SP_RES_RULES, SP_ACT_WRITE) | SP_PERM_BIT(SP_RES_JOBS, SP_ACT_READ);
    assert_int_equal(p, want);
    assert_false(sp_perms_has(p, SP_RES_USERS, SP_ACT_READ));
    assert_false(sp_perms_has(p, SP_RES_RELEASES, SP_ACT_DELETE));

    assert_int_equal(sp_store_user_perms(f->db, viewer, &p, NULL), SP_OK);
    assert_int_equal(p, SP_PERM_BIT(SP_RES_RELEASES, SP_ACT_READ) |
                            SP_PERM_BIT(SP_RES_RULES, SP_ACT_READ));

    assert_int_equal(sp_store_user_perms(f->db, none, &p, &is_admin), SP_OK);
    assert_int_equal(p, 0);
    assert_false(is_admin);

    /* a custom role with only `mod` gets write and read by implication */
    struct sp_permission *ps = NULL;
    int n = 0;
    assert_int_equal(sp_store_permissions_list(f->db, &ps, &n), SP_OK);
    int64_t mod_id = 0;
    for (int i = 0; i < n; i++)
        if (ps[i].bit == SP_PERM_BIT(SP_RES_CONFIG, SP_ACT_MOD))
            mod_id = ps[i].id;
    sp_free(ps);
    assert_true(mod_id > 0);
    int64_t rid = 0;
    struct sp_err e = {{0}, {0}};
    assert_int_equal(
        sp_store_role_create(f->db, "configurator", "config only", &mod_id, 1, &rid, &e), SP_OK);
    struct sp_user_patch patch = {.has_roles = true, .role_ids = &rid, .nrole_ids = 1};
    assert_int_equal(sp_store_user_update(f->db, none, &patch, &e), SP_OK);
    assert_int_equal(sp_store_user_perms(f->db, none, &p, NULL), SP_OK);
    assert_int_equal(p, SP_PERM_BIT(SP_RES_CONFIG, SP_ACT_MOD) |
                            SP_PERM_BIT(SP_RES_CONFIG, SP_ACT_WRITE) |
                            SP_PERM_BIT(SP_RES_CONFIG, SP_ACT_READ));
}

static void disable_revokes_tokens(void **state)
{
    struct fixture *f = *state;
    int64_t id = add_user(f->db, "alice", NULL, "viewer");
    struct sp_user u0, u1, u2, u3;
    assert_int_equal(sp_store_user_get(f->db, id, &u0), SP_OK);
    assert_int_equal(u0.token_epoch, 0);
    assert_int_equal(sp_store_user_set_active(f->db, id, false), SP_OK);
    assert_int_equal(sp_store_user_get(f->db, id, &u1), SP_OK);
    assert_false(u1.active);
    assert_true(u1.token_epoch > u0.token_epoch);
    /* enabling again does not resurrect old tokens */
    assert_int_equal(sp_store_user_set_active(f->db, id, true), SP_OK);
    assert_int_equal(sp_store_user_get(f->db, id, &u2), SP_OK);
    assert_true(u2.active);
    assert_int_equal(u2.token_epoch, u1.token_epoch);
    /* every bump moves forward, even within one second */
    assert_int_equal(sp_store_user_set_active(f->db, id, false), SP_OK);
    assert_int_equal(sp_store_user_get(f->db, id, &u3), SP_OK);
    assert_true(u3.token_epoch > u2.token_epoch);

    /* password change: with revoke the epoch moves, without it stays */
    assert_int_equal(sp_store_user_set_password(f->db, id, "$argon2id$new", false), SP_OK);
    assert_int_equal(sp_store_user_get(f->db, id, &u0), SP_OK);
    assert_int_equal(u0.token_epoch, u3.token_epoch);
    assert_string_equal(u0.password_hash, "$argon2id$new");
    assert_int_equal(sp_store_user_set_password(f->db, id, "$argon2id$newer", true), SP_OK);
    assert_int_equal(sp_store_user_get(f->db, id, &u1), SP_OK);
    assert_true(u1.token_epoch > u0.token_epoch);
    assert_int_equal(sp_store_user_revoke_tokens(f->db, id), SP_OK);
    assert_int_equal(sp_store_user_get(f->db, id, &u2), SP_OK);
    assert_true(u2.token_epoch > u1.token_epoch);

    assert_int_equal(sp_store_user_set_last_login(f->db, id, 1700000000), SP_OK);
    assert_int_equal(sp_store_user_get(f->db, id, &u3), SP_OK);
    assert_int_equal(u3.last_login_at, 1700000000);

    assert_int_equal(sp_store_user_set_active(f->db, 99999, false), SP_NOTFOUND);
    assert_int_equal(sp_store_user_set_password(f->db, 99999, "x", true), SP_NOTFOUND);
    assert_int_equal(sp_store_user_set_last_login(f->db, 99999, 1), SP_NOTFOUND);
}

static void list_paginates(void **state)
{
    struct fixture *f = *state;
    char name[32];
    for (int i = 0; i < 25; i++) {
        snprintf(name, sizeof name, "user%02d", i);
        int64_t id = add_user(f->db, name, NULL, "viewer");
        if (i % 5 == 0)
            assert_int_equal(sp_store_user_set_active(f->db, id, false), SP_OK);
    }
    add_user(f->db, "under_score", "x_y@example.org", NULL);
    struct sp_user *us = NULL;
    int n = 0;
    int64_t total = 0;
    /* 1 admin + 25 + 1 */
    assert_int_equal(sp_store_user_list(f->db, 1, 10, NULL, -1, &us, &n, &total), SP_OK);
    assert_int_equal(total, 27);
    assert_int_equal(n, 10);
    assert_string_equal(us[0].username, "admin");
    for (int i = 1; i < n; i++)
        assert_true(us[i].id > us[i - 1].id);
    sp_free(us);
    assert_int_equal(sp_store_user_list(f->db, 3, 10, NULL, -1, &us, &n, &total), SP_OK);
    assert_int_equal(n, 7);
    sp_free(us);
    assert_int_equal(sp_store_user_list(f->db, 4, 10, NULL, -1, &us, &n, &total), SP_OK);
    assert_int_equal(n, 0);
    assert_null(us);
    assert_int_equal(total, 27);

    /* prefix search, case-insensitive; LIKE wildcards in the input are literal */
    assert_int_equal(sp_store_user_list(f->db, 1, 100, "USER1", -1, &us, &n, &total), SP_OK);
    assert_int_equal(total, 10);
    sp_free(us);
    assert_int_equal(sp_store_user_list(f->db, 1, 100, "under_", -1, &us, &n, &total), SP_OK);
    assert_int_equal(total, 1);
    sp_free(us);
    assert_int_equal(sp_store_user_list(f->db, 1, 100, "user_", -1, &us, &n, &total), SP_OK);
    assert_int_equal(total, 0);
    sp_free(us);
    assert_int_equal(sp_store_user_list(f->db, 1, 100, "%", -1, &us, &n, &total), SP_OK);
    assert_int_equal(total, 0);
    sp_free(us);
    /* the active filter */
    assert_int_equal(sp_store_user_list(f->db, 1, 100, NULL, 0, &us, &n, &total), SP_OK);
    assert_int_equal(total, 5);
    for (int i = 0; i < n; i++)
        assert_false(us[i].active);
    sp_free(us);
    assert_int_equal(sp_store_user_list(f->db, 1, 100, NULL, 1, &us, &n, &total), SP_OK);
    assert_int_equal(total, 22);
    assert_int_equal(us[1].nroles, 1); /* roles are filled in lists too */
    sp_free(us);
}

static void update_and_delete(void **state)
{
    struct fixture *f = *state;
    int64_t a = add_user(f->db, "alice", "a@example.org", "viewer");
    add_user(f->db, "bob", "b@example.org", "viewer");
    struct sp_err e = {{0}, {0}};
    struct sp_user_patch p = {.username = "BOB"};
    assert_int_equal(sp_store_user_update(f->db, a, &p, &e), SP_CONFLICT);
    assert_string_equal(e.field, "username");
    struct sp_user_patch q = {.email = "b@example.org"};
    assert_int_equal(sp_store_user_update(f->db, a, &q, &e), SP_CONFLICT);
    assert_string_equal(e.field, "email");
    int64_t op = role_id(f->db, "operator"), vw = role_id(f->db, "viewer");
    int64_t roles[] = {op, vw};
    struct sp_user_patch r = {.username = "alicia",
                              .email = "",
                              .note = "renamed",
                              .has_roles = true,
                              .role_ids = roles,
                              .nrole_ids = 2,
                              .has_active = true,
                              .active = false};
    assert_int_equal(sp_store_user_update(f->db, a, &r, &e), SP_OK);
    struct sp_user u;
    assert_int_equal(sp_store_user_get(f->db, a, &u), SP_OK);
    assert_string_equal(u.username, "alicia");
    assert_string_equal(u.email, "");
    assert_string_equal(u.note, "renamed");
    assert_false(u.active);
    assert_true(u.token_epoch > 0);
    assert_int_equal(u.nroles, 2);
    int64_t bad[] = {777};
    struct sp_user_patch s = {.has_roles = true, .role_ids = bad, .nrole_ids = 1};
    assert_int_equal(sp_store_user_update(f->db, a, &s, &e), SP_INVALID);
    assert_int_equal(sp_store_user_get(f->db, a, &u), SP_OK);
    assert_int_equal(u.nroles, 2); /* the failed patch left the roles alone */
    assert_int_equal(sp_store_user_update(f->db, 99999, &r, &e), SP_NOTFOUND);

    /* a user owning releases is not deleted */
    assert_int_equal(
        sp_db_exec(f->db, "INSERT INTO groups(name, created_at) VALUES ('GRP', 1)", &e), SP_OK);
    char sql[300];
    snprintf(sql, sizeof sql,
             "INSERT INTO releases(user_id, group_id, release_type, created_at, updated_at)"
             " VALUES (%lld, 1, 'EBOOK', 1, 1)",
             (long long)a);
    assert_int_equal(sp_db_exec(f->db, sql, &e), SP_OK);
    int64_t nrel = -1;
    assert_int_equal(sp_store_user_release_count(f->db, a, &nrel), SP_OK);
    assert_int_equal(nrel, 1);
    assert_int_equal(sp_store_user_delete(f->db, a), SP_CONFLICT);
    assert_int_equal(sp_store_user_get(f->db, a, &u), SP_OK);
    int64_t c = add_user(f->db, "carol", NULL, "viewer");
    assert_int_equal(sp_store_user_delete(f->db, c), SP_OK);
    assert_int_equal(sp_store_user_get(f->db, c, &u), SP_NOTFOUND);
    assert_int_equal(sp_store_user_delete(f->db, c), SP_NOTFOUND);
    assert_int_equal(ts_scalar(f->db, "SELECT COUNT(*) FROM user_roles WHERE user_id NOT IN"
                                      " (SELECT id FROM users)"),
                     0);
}

static void joins_callers_transaction(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(sp_db_begin(f->db), SP_OK);
    int64_t id = add_user(f->db, "temp", NULL, "viewer");
    /* a failing create inside the caller's transaction undoes only itself */
    struct sp_err e = {{0}, {0}};
    struct sp_user_new dup = {.username = "temp", .password_hash = "h"};
    assert_int_equal(sp_store_user_create(f->db, &dup, NULL, &e), SP_CONFLICT);
    assert_true(sp_db_in_transaction(f->db));
    struct sp_user u;
    assert_int_equal(sp_store_user_get(f->db, id, &u), SP_OK);
    sp_db_rollback(f->db);
    assert_int_equal(sp_store_user_get(f->db, id, &u), SP_NOTFOUND);
}

static void roles_crud(void **state)
{
    struct fixture *f = *state;
    struct sp_err e = {{0}, {0}};
    int64_t rid = 0;
    assert_int_equal(sp_store_role_create(f->db, "operator", "", NULL, 0, &rid, &e), SP_CONFLICT);
    assert_string_equal(e.field, "name");
    int64_t bad = 9999;
    assert_int_equal(sp_store_role_create(f->db, "x", "", &bad, 1, &rid, &e), SP_INVALID);
    assert_string_equal(e.field, "permission_ids");
    assert_int_equal(sp_store_role_get_by_name(f->db, "x", &(struct sp_role){0}), SP_NOTFOUND);

    int64_t perms[] = {1, 2};
    assert_int_equal(sp_store_role_create(f->db, "auditor", "reads", perms, 2, &rid, &e), SP_OK);
    int64_t *ids = NULL;
    int n = 0;
    assert_int_equal(sp_store_role_permission_ids(f->db, rid, &ids, &n), SP_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], 1);
    sp_free(ids);
    assert_int_equal(sp_store_role_update(f->db, rid, "auditors", "reads more", NULL, -1, &e),
                     SP_OK);
    struct sp_role r;
    assert_int_equal(sp_store_role_get(f->db, rid, &r), SP_OK);
    assert_string_equal(r.name, "auditors");
    assert_false(r.builtin);
    assert_int_equal(sp_store_role_permission_ids(f->db, rid, &ids, &n), SP_OK);
    assert_int_equal(n, 2); /* nperm < 0 leaves permissions alone */
    sp_free(ids);
    assert_int_equal(sp_store_role_update(f->db, rid, "viewer", NULL, NULL, -1, &e), SP_CONFLICT);

    const char *names[] = {"auditors", NULL};
    struct sp_user_new u = {.username = "ann", .password_hash = "h", .role_names = names};
    int64_t uid = 0;
    assert_int_equal(sp_store_user_create(f->db, &u, &uid, &e), SP_OK);
    assert_int_equal(sp_store_role_get(f->db, rid, &r), SP_OK);
    assert_int_equal(r.nusers, 1);
    assert_int_equal(sp_store_role_delete(f->db, rid, &e), SP_CONFLICT);
    struct sp_user_patch none = {.has_roles = true, .nrole_ids = 0};
    assert_int_equal(sp_store_user_update(f->db, uid, &none, &e), SP_OK);
    assert_int_equal(sp_store_role_delete(f->db, rid, &e), SP_OK);
    assert_int_equal(sp_store_role_delete(f->db, rid, &e), SP_NOTFOUND);
    assert_int_equal(sp_store_role_get(f->db, rid, &r), SP_NOTFOUND);
}

static void public_json(void **state)
{
    struct fixture *f = *state;
    struct sp_user u;
    assert_int_equal(sp_store_user_get_by_name(f->db, "admin", &u), SP_OK);
    json_t *j = sp_user_json(&u);
    assert_non_null(j);
    assert_null(json_object_get(j, "password_hash"));
    assert_null(json_object_get(j, "token_epoch"));
    char *text = json_dumps(j, 0);
    assert_null(strstr(text, "argon2"));
    free(text);
    const char *keys[] = {"id",    "username",   "email",      "active",       "note",
                          "roles", "created_at", "updated_at", "last_login_at"};
    assert_int_equal(json_object_size(j), SP_ARRAY_LEN(keys));
    for (size_t i = 0; i < SP_ARRAY_LEN(keys); i++)
        assert_non_null(json_object_get(j, keys[i]));
    assert_true(json_is_null(json_object_get(j, "email")));
    assert_true(json_is_null(json_object_get(j, "last_login_at")));
    const char *created = json_string_value(json_object_get(j, "created_at"));
    assert_non_null(created);
    assert_int_equal(created[strlen(created) - 1], 'Z');
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "roles"), 0)), "admin");
    json_decref(j);

    uint64_t p;
    assert_int_equal(sp_store_user_perms(f->db, u.id, &p, NULL), SP_OK);
    j = sp_user_json_perms(&u, p);
    json_t *perms = json_object_get(j, "permissions");
    assert_int_equal(json_array_size(perms), 28);
    assert_string_equal(json_string_value(json_array_get(perms, 0)), "releases:read");
    json_decref(j);

    struct sp_permission *ps = NULL;
    int n = 0;
    assert_int_equal(sp_store_permissions_list(f->db, &ps, &n), SP_OK);
    j = sp_permission_json(&ps[0]);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "releases:read");
    json_decref(j);
    sp_free(ps);

    struct sp_role r;
    assert_int_equal(sp_store_role_get_by_name(f->db, "viewer", &r), SP_OK);
    int64_t *ids = NULL;
    assert_int_equal(sp_store_role_permission_ids(f->db, r.id, &ids, &n), SP_OK);
    j = sp_role_json(&r, ids, n);
    assert_int_equal(json_array_size(json_object_get(j, "permission_ids")), 2);
    assert_int_equal(json_array_size(json_object_get(j, "permissions")), 2);
    assert_true(json_is_true(json_object_get(j, "builtin")));
    json_decref(j);
    sp_free(ids);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(bootstrap_first_start, setup, teardown),
        cmocka_unit_test_setup_teardown(bootstrap_second_run_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(bootstrap_generated_password, setup, teardown),
        cmocka_unit_test_setup_teardown(create_and_get, setup_boot, teardown),
        cmocka_unit_test_setup_teardown(duplicates_conflict, setup_boot, teardown),
        cmocka_unit_test_setup_teardown(role_permission_bitsets, setup_boot, teardown),
        cmocka_unit_test_setup_teardown(disable_revokes_tokens, setup_boot, teardown),
        cmocka_unit_test_setup_teardown(list_paginates, setup_boot, teardown),
        cmocka_unit_test_setup_teardown(update_and_delete, setup_boot, teardown),
        cmocka_unit_test_setup_teardown(joins_callers_transaction, setup_boot, teardown),
        cmocka_unit_test_setup_teardown(roles_crud, setup_boot, teardown),
        cmocka_unit_test_setup_teardown(public_json, setup_boot, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
