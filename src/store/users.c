/*
 * users.c — users, roles, permissions (see users.h for the contracts).
 */
#include "store/users.h"

#include <stdio.h>
#include <string.h>

#include "auth/permissions.h"
#include "store/db.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/time.h"

/* ---- small helpers ---- */

/* min..max bytes of [A-Za-z0-9_.-]. */
static bool name_chars_ok(const char *s, size_t min, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n < min || n > max)
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

bool sp_username_valid(const char *s)
{
    return name_chars_ok(s, SP_USERNAME_MIN, SP_USERNAME_MAX);
}

bool sp_role_name_valid(const char *s)
{
    return name_chars_ok(s, SP_ROLE_NAME_MIN, SP_ROLE_NAME_MAX);
}

static void copy_col(char *dst, size_t cap, struct sp_stmt *st, int col)
{
    const char *s = sp_stmt_column_text(st, col);
    snprintf(dst, cap, "%s", s ? s : "");
}

/* A transaction of our own, or a savepoint inside the caller's. */
struct tx {
    bool nested;
};

static int tx_begin(struct sp_db *db, struct tx *t)
{
    t->nested = sp_db_in_transaction(db);
    if (!t->nested)
        return sp_db_begin(db);
    struct sp_stmt *st = sp_db_prepare(db, "SAVEPOINT sp_store_users");
    return st ? sp_stmt_exec(st) : SP_ERR;
}

/* Commit on rc == SP_OK, roll back otherwise; returns the final code. */
static int tx_end(struct sp_db *db, struct tx *t, int rc)
{
    if (!t->nested) {
        if (rc == SP_OK)
            return sp_db_commit(db);
        sp_db_rollback(db);
        return rc;
    }
    struct sp_stmt *st;
    if (rc != SP_OK) {
        st = sp_db_prepare(db, "ROLLBACK TO sp_store_users");
        if (st)
            sp_stmt_exec(st);
    }
    st = sp_db_prepare(db, "RELEASE sp_store_users");
    int r2 = st ? sp_stmt_exec(st) : SP_ERR;
    return rc != SP_OK ? rc : r2;
}

/* Run a single-row query bound to one integer; 1 if a row came back, 0 if none, <0 on error. */
static int exists_int(struct sp_db *db, const char *sql, int64_t v)
{
    struct sp_stmt *st = sp_db_prepare(db, sql);
    if (!st)
        return -SP_ERR;
    sp_stmt_bind_int(st, 1, v);
    int rc = sp_stmt_step(st);
    sp_stmt_reset(st);
    if (rc == SP_ROW)
        return 1;
    return rc == SP_DONE ? 0 : -rc;
}

/* ---- users ---- */

#define USER_COLS                                                                                  \
    "id, username, email, password_hash, active, note, token_epoch, created_at, updated_at, "      \
    "last_login_at"

static void read_user(struct sp_stmt *st, struct sp_user *u)
{
    memset(u, 0, sizeof *u);
    u->id = sp_stmt_column_int(st, 0);
    copy_col(u->username, sizeof u->username, st, 1);
    copy_col(u->email, sizeof u->email, st, 2);
    copy_col(u->password_hash, sizeof u->password_hash, st, 3);
    u->active = sp_stmt_column_int(st, 4) != 0;
    copy_col(u->note, sizeof u->note, st, 5);
    u->token_epoch = sp_stmt_column_int(st, 6);
    u->created_at = sp_stmt_column_int(st, 7);
    u->updated_at = sp_stmt_column_int(st, 8);
    u->last_login_at = sp_stmt_column_int(st, 9);
}

int sp_store_user_roles(struct sp_db *db, int64_t user_id, struct sp_user *out)
{
    struct sp_stmt *st = sp_db_prepare(db, "SELECT r.id, r.name FROM user_roles ur"
                                           " JOIN roles r ON r.id = ur.role_id"
                                           " WHERE ur.user_id = ? ORDER BY r.id");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, user_id);
    out->nroles = 0;
    int rc;
    while ((rc = sp_stmt_step(st)) == SP_ROW) {
        if (out->nroles >= SP_USER_MAX_ROLES)
            continue;
        out->role_ids[out->nroles] = sp_stmt_column_int(st, 0);
        copy_col(out->roles[out->nroles], sizeof out->roles[0], st, 1);
        out->nroles++;
    }
    sp_stmt_reset(st);
    return rc == SP_DONE ? SP_OK : rc;
}

static int get_user(struct sp_db *db, struct sp_stmt *st, struct sp_user *out)
{
    int rc = sp_stmt_step(st);
    if (rc == SP_ROW)
        read_user(st, out);
    sp_stmt_reset(st);
    if (rc == SP_DONE)
        return SP_NOTFOUND;
    if (rc != SP_ROW)
        return rc;
    return sp_store_user_roles(db, out->id, out);
}

int sp_store_user_get(struct sp_db *db, int64_t id, struct sp_user *out)
{
    if (!db)
        return SP_ERR;
    struct sp_stmt *st = sp_db_prepare(db, "SELECT " USER_COLS " FROM users WHERE id = ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, id);
    return get_user(db, st, out);
}

int sp_store_user_get_by_name(struct sp_db *db, const char *username, struct sp_user *out)
{
    if (!db)
        return SP_ERR;
    if (!username)
        return SP_NOTFOUND;
    struct sp_stmt *st = sp_db_prepare(db, "SELECT " USER_COLS " FROM users WHERE username = ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_text(st, 1, username);
    return get_user(db, st, out);
}

/* After a constraint failure on users: say which unique column clashed. */
static int user_conflict(struct sp_db *db, int64_t self, const char *username, const char *email,
                         struct sp_err *e)
{
    struct sp_stmt *st;
    if (username) {
        st = sp_db_prepare(db, "SELECT id FROM users WHERE username = ? AND id <> ?");
        if (st) {
            sp_stmt_bind_text(st, 1, username);
            sp_stmt_bind_int(st, 2, self);
            int rc = sp_stmt_step(st);
            sp_stmt_reset(st);
            if (rc == SP_ROW) {
                sp_err_set(e, "username", "the username '%s' is already taken", username);
                return SP_CONFLICT;
            }
        }
    }
    if (email && *email) {
        st = sp_db_prepare(db, "SELECT id FROM users WHERE email = ? AND id <> ?");
        if (st) {
            sp_stmt_bind_text(st, 1, email);
            sp_stmt_bind_int(st, 2, self);
            int rc = sp_stmt_step(st);
            sp_stmt_reset(st);
            if (rc == SP_ROW) {
                sp_err_set(e, "email", "the email address '%s' is already in use", email);
                return SP_CONFLICT;
            }
        }
    }
    sp_err_set(e, "", "the user conflicts with an existing one");
    return SP_CONFLICT;
}

static int add_role_link(struct sp_db *db, int64_t user_id, int64_t role_id)
{
    struct sp_stmt *st =
        sp_db_prepare(db, "INSERT OR IGNORE INTO user_roles(user_id, role_id) VALUES (?, ?)");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, user_id);
    sp_stmt_bind_int(st, 2, role_id);
    return sp_stmt_exec(st);
}

/* Link role ids (checked to exist); SP_INVALID names `field` for an unknown one. */
static int link_role_ids(struct sp_db *db, int64_t user_id, const int64_t *ids, int n,
                         struct sp_err *e)
{
    if (n > SP_USER_MAX_ROLES) {
        sp_err_set(e, "role_ids", "a user may hold at most %d roles", SP_USER_MAX_ROLES);
        return SP_INVALID;
    }
    for (int i = 0; i < n; i++) {
        int x = exists_int(db, "SELECT 1 FROM roles WHERE id = ?", ids[i]);
        if (x < 0)
            return -x;
        if (!x) {
            sp_err_set(e, "role_ids", "unknown role id %lld", (long long)ids[i]);
            return SP_INVALID;
        }
        int rc = add_role_link(db, user_id, ids[i]);
        if (rc != SP_OK)
            return rc;
    }
    return SP_OK;
}

static int link_role_names(struct sp_db *db, int64_t user_id, const char *const *names,
                           struct sp_err *e)
{
    for (int i = 0; names && names[i]; i++) {
        if (i >= SP_USER_MAX_ROLES) {
            sp_err_set(e, "roles", "a user may hold at most %d roles", SP_USER_MAX_ROLES);
            return SP_INVALID;
        }
        struct sp_stmt *st = sp_db_prepare(db, "SELECT id FROM roles WHERE name = ?");
        if (!st)
            return SP_ERR;
        sp_stmt_bind_text(st, 1, names[i]);
        int rc = sp_stmt_step(st);
        int64_t rid = rc == SP_ROW ? sp_stmt_column_int(st, 0) : 0;
        sp_stmt_reset(st);
        if (rc == SP_DONE) {
            sp_err_set(e, "roles", "unknown role '%s'", names[i]);
            return SP_INVALID;
        }
        if (rc != SP_ROW)
            return rc;
        rc = add_role_link(db, user_id, rid);
        if (rc != SP_OK)
            return rc;
    }
    return SP_OK;
}

int sp_store_user_create(struct sp_db *db, const struct sp_user_new *in, int64_t *id,
                         struct sp_err *e)
{
    if (!db)
        return SP_ERR;
    if (!in->username || !*in->username) {
        sp_err_set(e, "username", "a username is required");
        return SP_INVALID;
    }
    if (!in->password_hash || !*in->password_hash) {
        sp_err_set(e, "password", "a password is required");
        return SP_INVALID;
    }
    const char *email = in->email && *in->email ? in->email : NULL;
    struct tx t;
    int rc = tx_begin(db, &t);
    if (rc != SP_OK)
        return rc;
    int64_t now = sp_time_now();
    struct sp_stmt *st = sp_db_prepare(
        db, "INSERT INTO users(username, email, password_hash, active, note, token_epoch,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)");
    if (!st) {
        rc = SP_ERR;
        goto out;
    }
    sp_stmt_bind_text(st, 1, in->username);
    sp_stmt_bind_text(st, 2, email);
    sp_stmt_bind_text(st, 3, in->password_hash);
    sp_stmt_bind_int(st, 4, in->active ? 1 : 0);
    sp_stmt_bind_text(st, 5, in->note ? in->note : "");
    sp_stmt_bind_int(st, 6, now);
    sp_stmt_bind_int(st, 7, now);
    rc = sp_stmt_exec(st);
    if (rc == SP_CONFLICT) {
        rc = user_conflict(db, 0, in->username, email, e);
        goto out;
    }
    if (rc != SP_OK)
        goto out;
    int64_t uid = sp_db_last_insert_id(db);
    rc = link_role_ids(db, uid, in->role_ids, in->nrole_ids, e);
    if (rc == SP_OK)
        rc = link_role_names(db, uid, in->role_names, e);
    if (rc == SP_OK && id)
        *id = uid;
out:
    return tx_end(db, &t, rc);
}

static int exec_id_text(struct sp_db *db, const char *sql, const char *v, int64_t id)
{
    struct sp_stmt *st = sp_db_prepare(db, sql);
    if (!st)
        return SP_ERR;
    sp_stmt_bind_text(st, 1, v);
    sp_stmt_bind_int(st, 2, sp_time_now());
    sp_stmt_bind_int(st, 3, id);
    return sp_stmt_exec(st);
}

int sp_store_user_update(struct sp_db *db, int64_t id, const struct sp_user_patch *p,
                         struct sp_err *e)
{
    if (!db)
        return SP_ERR;
    struct tx t;
    int rc = tx_begin(db, &t);
    if (rc != SP_OK)
        return rc;
    int x = exists_int(db, "SELECT 1 FROM users WHERE id = ?", id);
    if (x <= 0) {
        rc = x == 0 ? SP_NOTFOUND : -x;
        goto out;
    }
    if (p->username) {
        rc = exec_id_text(db, "UPDATE users SET username = ?, updated_at = ? WHERE id = ?",
                          p->username, id);
        if (rc == SP_CONFLICT)
            rc = user_conflict(db, id, p->username, NULL, e);
        if (rc != SP_OK)
            goto out;
    }
    if (p->email) {
        rc = exec_id_text(db, "UPDATE users SET email = ?, updated_at = ? WHERE id = ?",
                          *p->email ? p->email : NULL, id);
        if (rc == SP_CONFLICT)
            rc = user_conflict(db, id, NULL, p->email, e);
        if (rc != SP_OK)
            goto out;
    }
    if (p->note) {
        rc =
            exec_id_text(db, "UPDATE users SET note = ?, updated_at = ? WHERE id = ?", p->note, id);
        if (rc != SP_OK)
            goto out;
    }
    if (p->has_active) {
        rc = sp_store_user_set_active(db, id, p->active);
        if (rc != SP_OK)
            goto out;
    }
    if (p->has_roles) {
        struct sp_stmt *st = sp_db_prepare(db, "DELETE FROM user_roles WHERE user_id = ?");
        if (!st) {
            rc = SP_ERR;
            goto out;
        }
        sp_stmt_bind_int(st, 1, id);
        rc = sp_stmt_exec(st);
        if (rc == SP_OK)
            rc = link_role_ids(db, id, p->role_ids, p->nrole_ids, e);
        if (rc != SP_OK)
            goto out;
        st = sp_db_prepare(db, "UPDATE users SET updated_at = ? WHERE id = ?");
        if (!st) {
            rc = SP_ERR;
            goto out;
        }
        sp_stmt_bind_int(st, 1, sp_time_now());
        sp_stmt_bind_int(st, 2, id);
        rc = sp_stmt_exec(st);
    }
out:
    return tx_end(db, &t, rc);
}

/* Run an UPDATE bound as (…, id) and map "no row changed" to SP_NOTFOUND. */
static int update_done(struct sp_db *db, struct sp_stmt *st)
{
    int rc = sp_stmt_exec(st);
    if (rc != SP_OK)
        return rc;
    return sp_db_changes(db) > 0 ? SP_OK : SP_NOTFOUND;
}

int sp_store_user_revoke_tokens(struct sp_db *db, int64_t id)
{
    if (!db)
        return SP_ERR;
    struct sp_stmt *st = sp_db_prepare(
        db, "UPDATE users SET token_epoch = MAX(?, token_epoch + 1), updated_at = ? WHERE id = ?");
    if (!st)
        return SP_ERR;
    int64_t now = sp_time_now();
    sp_stmt_bind_int(st, 1, now);
    sp_stmt_bind_int(st, 2, now);
    sp_stmt_bind_int(st, 3, id);
    return update_done(db, st);
}

int sp_store_user_set_password(struct sp_db *db, int64_t id, const char *password_hash,
                               bool revoke_tokens)
{
    if (!db || !password_hash || !*password_hash)
        return SP_ERR;
    struct sp_stmt *st =
        sp_db_prepare(db, "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_text(st, 1, password_hash);
    sp_stmt_bind_int(st, 2, sp_time_now());
    sp_stmt_bind_int(st, 3, id);
    int rc = update_done(db, st);
    if (rc == SP_OK && revoke_tokens)
        rc = sp_store_user_revoke_tokens(db, id);
    return rc;
}

int sp_store_user_set_active(struct sp_db *db, int64_t id, bool active)
{
    if (!db)
        return SP_ERR;
    struct sp_stmt *st;
    if (active) {
        st = sp_db_prepare(db, "UPDATE users SET active = 1, updated_at = ? WHERE id = ?");
        if (!st)
            return SP_ERR;
        sp_stmt_bind_int(st, 1, sp_time_now());
        sp_stmt_bind_int(st, 2, id);
    } else {
        st = sp_db_prepare(db, "UPDATE users SET active = 0, token_epoch = MAX(?, token_epoch + 1),"
                               " updated_at = ? WHERE id = ?");
        if (!st)
            return SP_ERR;
        int64_t now = sp_time_now();
        sp_stmt_bind_int(st, 1, now);
        sp_stmt_bind_int(st, 2, now);
        sp_stmt_bind_int(st, 3, id);
    }
    return update_done(db, st);
}

int sp_store_user_set_last_login(struct sp_db *db, int64_t id, int64_t when)
{
    if (!db)
        return SP_ERR;
    struct sp_stmt *st = sp_db_prepare(db, "UPDATE users SET last_login_at = ? WHERE id = ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, when);
    sp_stmt_bind_int(st, 2, id);
    return update_done(db, st);
}

int sp_store_user_delete(struct sp_db *db, int64_t id)
{
    if (!db)
        return SP_ERR;
    struct tx t;
    int rc = tx_begin(db, &t);
    if (rc != SP_OK)
        return rc;
    int x = exists_int(db, "SELECT 1 FROM users WHERE id = ?", id);
    if (x <= 0) {
        rc = x == 0 ? SP_NOTFOUND : -x;
        goto out;
    }
    x = exists_int(db,
                   "SELECT 1 WHERE EXISTS (SELECT 1 FROM releases WHERE user_id = ?1)"
                   " OR EXISTS (SELECT 1 FROM jobs WHERE user_id = ?1)",
                   id);
    if (x != 0) {
        rc = x > 0 ? SP_CONFLICT : -x;
        goto out;
    }
    struct sp_stmt *st = sp_db_prepare(db, "DELETE FROM users WHERE id = ?");
    if (!st) {
        rc = SP_ERR;
        goto out;
    }
    sp_stmt_bind_int(st, 1, id);
    rc = update_done(db, st);
out:
    return tx_end(db, &t, rc);
}

int sp_store_user_release_count(struct sp_db *db, int64_t id, int64_t *n)
{
    *n = 0;
    if (!db)
        return SP_ERR;
    struct sp_stmt *st =
        sp_db_prepare(db, "SELECT COALESCE(SUM(n), 0) FROM release_counts WHERE user_id = ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, id);
    int rc = sp_stmt_step(st);
    if (rc == SP_ROW)
        *n = sp_stmt_column_int(st, 0);
    sp_stmt_reset(st);
    return rc == SP_ROW ? SP_OK : rc;
}

/* "abc" → "abc%" with LIKE wildcards escaped by '\'. Caller frees. */
static char *like_prefix(const char *s)
{
    struct sp_buf b = SP_BUF_INIT;
    for (; *s; s++) {
        if (*s == '%' || *s == '_' || *s == '\\')
            sp_buf_putc(&b, '\\');
        sp_buf_putc(&b, *s);
    }
    sp_buf_putc(&b, '%');
    return sp_buf_steal(&b);
}

int sp_store_user_list(struct sp_db *db, int page, int per_page, const char *search,
                       int active_filter, struct sp_user **out, int *n, int64_t *total)
{
    *out = NULL;
    *n = 0;
    *total = 0;
    if (!db)
        return SP_ERR;
    if (page < 1)
        page = 1;
    if (per_page < 1)
        per_page = 1;
    if (per_page > 100)
        per_page = 100;
    char *pat = search && *search ? like_prefix(search) : NULL;
    struct sp_user *users = NULL;
    int count = 0, rc;
    struct sp_stmt *st = sp_db_prepare(
        db, "SELECT COUNT(*) FROM users WHERE (?1 IS NULL OR username LIKE ?1 ESCAPE '\\'"
            " OR email LIKE ?1 ESCAPE '\\') AND (?2 < 0 OR active = ?2)");
    if (!st) {
        rc = SP_ERR;
        goto out;
    }
    sp_stmt_bind_text(st, 1, pat);
    sp_stmt_bind_int(st, 2, active_filter);
    rc = sp_stmt_step(st);
    if (rc == SP_ROW)
        *total = sp_stmt_column_int(st, 0);
    sp_stmt_reset(st);
    if (rc != SP_ROW)
        goto out;
    st = sp_db_prepare(db, "SELECT " USER_COLS " FROM users WHERE (?1 IS NULL OR username LIKE ?1"
                           " ESCAPE '\\' OR email LIKE ?1 ESCAPE '\\') AND (?2 < 0 OR active = ?2)"
                           " ORDER BY id LIMIT ?3 OFFSET ?4");
    if (!st) {
        rc = SP_ERR;
        goto out;
    }
    sp_stmt_bind_text(st, 1, pat);
    sp_stmt_bind_int(st, 2, active_filter);
    sp_stmt_bind_int(st, 3, per_page);
    sp_stmt_bind_int(st, 4, (int64_t)(page - 1) * per_page);
    users = sp_calloc((size_t)per_page, sizeof *users);
    while ((rc = sp_stmt_step(st)) == SP_ROW && count < per_page)
        read_user(st, &users[count++]);
    sp_stmt_reset(st);
    if (rc != SP_DONE && rc != SP_ROW)
        goto out;
    rc = SP_OK;
    for (int i = 0; i < count && rc == SP_OK; i++)
        rc = sp_store_user_roles(db, users[i].id, &users[i]);
out:
    sp_free(pat);
    if (rc != SP_OK || count == 0) {
        sp_free(users);
        return rc == SP_ROW ? SP_OK : rc;
    }
    *out = users;
    *n = count;
    return SP_OK;
}

/* OR the bit of a (resource, action) row into *perms. */
static uint64_t perm_bit(const char *res, const char *act)
{
    int r = sp_resource_parse(res), a = sp_action_parse(act);
    return r >= 0 && a >= 0 ? SP_PERM_BIT(r, a) : 0;
}

int sp_store_user_perms(struct sp_db *db, int64_t user_id, uint64_t *perms, bool *is_admin)
{
    *perms = 0;
    if (is_admin)
        *is_admin = false;
    if (!db)
        return SP_ERR;
    struct sp_stmt *st = sp_db_prepare(db, "SELECT r.name, p.resource, p.action FROM user_roles ur"
                                           " JOIN roles r ON r.id = ur.role_id"
                                           " LEFT JOIN role_permissions rp ON rp.role_id = r.id"
                                           " LEFT JOIN permissions p ON p.id = rp.permission_id"
                                           " WHERE ur.user_id = ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, user_id);
    uint64_t bits = 0;
    int rc;
    while ((rc = sp_stmt_step(st)) == SP_ROW) {
        const char *role = sp_stmt_column_text(st, 0);
        if (is_admin && role && !strcmp(role, "admin"))
            *is_admin = true;
        bits |= perm_bit(sp_stmt_column_text(st, 1), sp_stmt_column_text(st, 2));
    }
    sp_stmt_reset(st);
    if (rc != SP_DONE)
        return rc;
    *perms = sp_perms_expand(bits);
    return SP_OK;
}

/* ---- roles ---- */

static int role_fill(struct sp_db *db, struct sp_role *r)
{
    struct sp_stmt *st = sp_db_prepare(db, "SELECT p.resource, p.action FROM role_permissions rp"
                                           " JOIN permissions p ON p.id = rp.permission_id"
                                           " WHERE rp.role_id = ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, r->id);
    r->perms = 0;
    int rc;
    while ((rc = sp_stmt_step(st)) == SP_ROW)
        r->perms |= perm_bit(sp_stmt_column_text(st, 0), sp_stmt_column_text(st, 1));
    sp_stmt_reset(st);
    if (rc != SP_DONE)
        return rc;
    st = sp_db_prepare(db, "SELECT COUNT(*) FROM user_roles WHERE role_id = ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, r->id);
    rc = sp_stmt_step(st);
    if (rc == SP_ROW)
        r->nusers = (int)sp_stmt_column_int(st, 0);
    sp_stmt_reset(st);
    return rc == SP_ROW ? SP_OK : rc;
}

#define ROLE_COLS "id, name, description, builtin, created_at, updated_at"

static void read_role(struct sp_stmt *st, struct sp_role *r)
{
    memset(r, 0, sizeof *r);
    r->id = sp_stmt_column_int(st, 0);
    copy_col(r->name, sizeof r->name, st, 1);
    copy_col(r->description, sizeof r->description, st, 2);
    r->builtin = sp_stmt_column_int(st, 3) != 0;
    r->created_at = sp_stmt_column_int(st, 4);
    r->updated_at = sp_stmt_column_int(st, 5);
}

static int get_role(struct sp_db *db, struct sp_stmt *st, struct sp_role *out)
{
    int rc = sp_stmt_step(st);
    if (rc == SP_ROW)
        read_role(st, out);
    sp_stmt_reset(st);
    if (rc == SP_DONE)
        return SP_NOTFOUND;
    if (rc != SP_ROW)
        return rc;
    return role_fill(db, out);
}

int sp_store_role_get(struct sp_db *db, int64_t id, struct sp_role *out)
{
    if (!db)
        return SP_ERR;
    struct sp_stmt *st = sp_db_prepare(db, "SELECT " ROLE_COLS " FROM roles WHERE id = ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, id);
    return get_role(db, st, out);
}

int sp_store_role_get_by_name(struct sp_db *db, const char *name, struct sp_role *out)
{
    if (!db)
        return SP_ERR;
    struct sp_stmt *st = sp_db_prepare(db, "SELECT " ROLE_COLS " FROM roles WHERE name = ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_text(st, 1, name);
    return get_role(db, st, out);
}

int sp_store_role_list(struct sp_db *db, struct sp_role **out, int *n)
{
    *out = NULL;
    *n = 0;
    if (!db)
        return SP_ERR;
    struct sp_stmt *st = sp_db_prepare(db, "SELECT " ROLE_COLS " FROM roles ORDER BY id");
    if (!st)
        return SP_ERR;
    struct sp_role *roles = NULL;
    int count = 0, cap = 0, rc;
    while ((rc = sp_stmt_step(st)) == SP_ROW) {
        if (count == cap) {
            cap = cap ? cap * 2 : 8;
            roles = sp_reallocarray(roles, (size_t)cap, sizeof *roles);
        }
        read_role(st, &roles[count++]);
    }
    sp_stmt_reset(st);
    if (rc == SP_DONE)
        rc = SP_OK;
    for (int i = 0; i < count && rc == SP_OK; i++)
        rc = role_fill(db, &roles[i]);
    if (rc != SP_OK) {
        sp_free(roles);
        return rc;
    }
    *out = roles;
    *n = count;
    return SP_OK;
}

static int set_role_perms(struct sp_db *db, int64_t role_id, const int64_t *ids, int n,
                          struct sp_err *e)
{
    struct sp_stmt *st = sp_db_prepare(db, "DELETE FROM role_permissions WHERE role_id = ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, role_id);
    int rc = sp_stmt_exec(st);
    for (int i = 0; i < n && rc == SP_OK; i++) {
        int x = exists_int(db, "SELECT 1 FROM permissions WHERE id = ?", ids[i]);
        if (x < 0)
            return -x;
        if (!x) {
            sp_err_set(e, "permission_ids", "unknown permission id %lld", (long long)ids[i]);
            return SP_INVALID;
        }
        st = sp_db_prepare(db, "INSERT OR IGNORE INTO role_permissions(role_id, permission_id)"
                               " VALUES (?, ?)");
        if (!st)
            return SP_ERR;
        sp_stmt_bind_int(st, 1, role_id);
        sp_stmt_bind_int(st, 2, ids[i]);
        rc = sp_stmt_exec(st);
    }
    return rc;
}

int sp_store_role_create(struct sp_db *db, const char *name, const char *description,
                         const int64_t *perm_ids, int nperm, int64_t *id, struct sp_err *e)
{
    if (!db)
        return SP_ERR;
    if (!name || !*name) {
        sp_err_set(e, "name", "a role name is required");
        return SP_INVALID;
    }
    struct tx t;
    int rc = tx_begin(db, &t);
    if (rc != SP_OK)
        return rc;
    int64_t now = sp_time_now();
    struct sp_stmt *st = sp_db_prepare(db, "INSERT INTO roles(name, description, builtin,"
                                           " created_at, updated_at) VALUES (?, ?, 0, ?, ?)");
    if (!st) {
        rc = SP_ERR;
        goto out;
    }
    sp_stmt_bind_text(st, 1, name);
    sp_stmt_bind_text(st, 2, description ? description : "");
    sp_stmt_bind_int(st, 3, now);
    sp_stmt_bind_int(st, 4, now);
    rc = sp_stmt_exec(st);
    if (rc == SP_CONFLICT) {
        sp_err_set(e, "name", "a role named '%s' already exists", name);
        goto out;
    }
    if (rc != SP_OK)
        goto out;
    int64_t rid = sp_db_last_insert_id(db);
    rc = set_role_perms(db, rid, perm_ids, nperm, e);
    if (rc == SP_OK && id)
        *id = rid;
out:
    return tx_end(db, &t, rc);
}

int sp_store_role_update(struct sp_db *db, int64_t id, const char *name, const char *description,
                         const int64_t *perm_ids, int nperm, struct sp_err *e)
{
    if (!db)
        return SP_ERR;
    struct tx t;
    int rc = tx_begin(db, &t);
    if (rc != SP_OK)
        return rc;
    int x = exists_int(db, "SELECT 1 FROM roles WHERE id = ?", id);
    if (x <= 0) {
        rc = x == 0 ? SP_NOTFOUND : -x;
        goto out;
    }
    if (name) {
        rc = exec_id_text(db, "UPDATE roles SET name = ?, updated_at = ? WHERE id = ?", name, id);
        if (rc == SP_CONFLICT)
            sp_err_set(e, "name", "a role named '%s' already exists", name);
        if (rc != SP_OK)
            goto out;
    }
    if (description) {
        rc = exec_id_text(db, "UPDATE roles SET description = ?, updated_at = ? WHERE id = ?",
                          description, id);
        if (rc != SP_OK)
            goto out;
    }
    if (nperm >= 0) {
        rc = set_role_perms(db, id, perm_ids, nperm, e);
        if (rc != SP_OK)
            goto out;
        struct sp_stmt *st = sp_db_prepare(db, "UPDATE roles SET updated_at = ? WHERE id = ?");
        if (!st) {
            rc = SP_ERR;
            goto out;
        }
        sp_stmt_bind_int(st, 1, sp_time_now());
        sp_stmt_bind_int(st, 2, id);
        rc = sp_stmt_exec(st);
    }
out:
    return tx_end(db, &t, rc);
}

int sp_store_role_delete(struct sp_db *db, int64_t id, struct sp_err *e)
{
    if (!db)
        return SP_ERR;
    struct tx t;
    int rc = tx_begin(db, &t);
    if (rc != SP_OK)
        return rc;
    int x = exists_int(db, "SELECT 1 FROM roles WHERE id = ?", id);
    if (x <= 0) {
        rc = x == 0 ? SP_NOTFOUND : -x;
        goto out;
    }
    x = exists_int(db, "SELECT 1 FROM user_roles WHERE role_id = ? LIMIT 1", id);
    if (x != 0) {
        if (x > 0)
            sp_err_set(e, "", "the role is held by at least one user");
        rc = x > 0 ? SP_CONFLICT : -x;
        goto out;
    }
    struct sp_stmt *st = sp_db_prepare(db, "DELETE FROM roles WHERE id = ?");
    if (!st) {
        rc = SP_ERR;
        goto out;
    }
    sp_stmt_bind_int(st, 1, id);
    rc = update_done(db, st);
out:
    return tx_end(db, &t, rc);
}

int sp_store_role_permission_ids(struct sp_db *db, int64_t role_id, int64_t **out, int *n)
{
    *out = NULL;
    *n = 0;
    if (!db)
        return SP_ERR;
    struct sp_stmt *st = sp_db_prepare(
        db, "SELECT permission_id FROM role_permissions WHERE role_id = ? ORDER BY permission_id");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, role_id);
    int64_t *ids = NULL;
    int count = 0, cap = 0, rc;
    while ((rc = sp_stmt_step(st)) == SP_ROW) {
        if (count == cap) {
            cap = cap ? cap * 2 : 16;
            ids = sp_reallocarray(ids, (size_t)cap, sizeof *ids);
        }
        ids[count++] = sp_stmt_column_int(st, 0);
    }
    sp_stmt_reset(st);
    if (rc != SP_DONE) {
        sp_free(ids);
        return rc;
    }
    *out = ids;
    *n = count;
    return SP_OK;
}

/* ---- permissions ---- */

int sp_store_permissions_list(struct sp_db *db, struct sp_permission **out, int *n)
{
    *out = NULL;
    *n = 0;
    if (!db)
        return SP_ERR;
    struct sp_stmt *st =
        sp_db_prepare(db, "SELECT id, resource, action, description FROM permissions ORDER BY id");
    if (!st)
        return SP_ERR;
    struct sp_permission *ps = NULL;
    int count = 0, cap = 0, rc;
    while ((rc = sp_stmt_step(st)) == SP_ROW) {
        if (count == cap) {
            cap = cap ? cap * 2 : 32;
            ps = sp_reallocarray(ps, (size_t)cap, sizeof *ps);
        }
        struct sp_permission *p = &ps[count++];
        memset(p, 0, sizeof *p);
        p->id = sp_stmt_column_int(st, 0);
        copy_col(p->resource, sizeof p->resource, st, 1);
        copy_col(p->action, sizeof p->action, st, 2);
        copy_col(p->description, sizeof p->description, st, 3);
        p->bit = perm_bit(p->resource, p->action);
    }
    sp_stmt_reset(st);
    if (rc != SP_DONE) {
        sp_free(ps);
        return rc;
    }
    *out = ps;
    *n = count;
    return SP_OK;
}

/* ---- JSON ---- */

static json_t *time_json(int64_t t)
{
    if (!t)
        return json_null();
    char buf[40];
    sp_time_rfc3339(t, buf, sizeof buf);
    return json_string(buf);
}

/* A JSON string that never fails: invalid UTF-8 (legacy rows) becomes "". */
static json_t *str_json(const char *s)
{
    json_t *j = json_string(s ? s : "");
    return j ? j : json_string("");
}

json_t *sp_user_json(const struct sp_user *u)
{
    json_t *roles = json_array();
    for (int i = 0; i < u->nroles; i++)
        json_array_append_new(roles, str_json(u->roles[i]));
    json_t *j = json_object();
    json_object_set_new(j, "id", json_integer(u->id));
    json_object_set_new(j, "username", str_json(u->username));
    json_object_set_new(j, "email", u->email[0] ? str_json(u->email) : json_null());
    json_object_set_new(j, "active", json_boolean(u->active));
    json_object_set_new(j, "note", str_json(u->note));
    json_object_set_new(j, "roles", roles);
    json_object_set_new(j, "created_at", time_json(u->created_at));
    json_object_set_new(j, "updated_at", time_json(u->updated_at));
    json_object_set_new(j, "last_login_at", time_json(u->last_login_at));
    return j;
}

/* Append "res:act" for each set bit (in resource, action order). */
static json_t *perm_names(uint64_t perms)
{
    json_t *a = json_array();
    for (int r = 0; r < SP_RES_COUNT; r++) {
        for (int act = 0; act < SP_ACT_COUNT; act++) {
            if (!(perms & SP_PERM_BIT(r, act)))
                continue;
            char buf[48];
            snprintf(buf, sizeof buf, "%s:%s", sp_resource_name(r), sp_action_name(act));
            json_array_append_new(a, json_string(buf));
        }
    }
    return a;
}

json_t *sp_user_json_perms(const struct sp_user *u, uint64_t perms)
{
    json_t *j = sp_user_json(u);
    json_object_set_new(j, "permissions", perm_names(perms));
    return j;
}

json_t *sp_role_json(const struct sp_role *r, const int64_t *perm_ids, int nperm)
{
    json_t *j = json_object();
    json_object_set_new(j, "id", json_integer(r->id));
    json_object_set_new(j, "name", str_json(r->name));
    json_object_set_new(j, "description", str_json(r->description));
    json_object_set_new(j, "builtin", json_boolean(r->builtin));
    json_object_set_new(j, "permissions", perm_names(r->perms));
    json_object_set_new(j, "user_count", json_integer(r->nusers));
    json_object_set_new(j, "created_at", time_json(r->created_at));
    json_object_set_new(j, "updated_at", time_json(r->updated_at));
    if (perm_ids) {
        json_t *ids = json_array();
        for (int i = 0; i < nperm; i++)
            json_array_append_new(ids, json_integer(perm_ids[i]));
        json_object_set_new(j, "permission_ids", ids);
    }
    return j;
}

json_t *sp_permission_json(const struct sp_permission *p)
{
    char name[40];
    snprintf(name, sizeof name, "%s:%s", p->resource, p->action);
    json_t *j = json_object();
    json_object_set_new(j, "id", json_integer(p->id));
    json_object_set_new(j, "resource", str_json(p->resource));
    json_object_set_new(j, "action", str_json(p->action));
    json_object_set_new(j, "name", str_json(name));
    json_object_set_new(j, "description", str_json(p->description));
    return j;
}
