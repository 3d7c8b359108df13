/*
 * users.c — /api/users: account administration and self-service.
 *
 *   GET    /api/users            users:read     list (search, active filter)
 *   POST   /api/users            users:write    create
 *   GET    /api/users/{id}       users:read, or the user themself
 *   PUT    /api/users/{id}       users:write; the user themself may change only `note` and
 *                                `password` (with `old_password`)
 *   DELETE /api/users/{id}       users:delete   (a user who owns releases or jobs is
 *                                deactivated instead, and the answer says so)
 *
 * Rules beyond the shapes: nobody disables or deletes themselves, and an admin cannot drop
 * their own admin role (409 naming the field); only admins may change an admin's account or
 * hand out or take away the admin role; a non-admin may hand out or take away only roles whose
 * permissions they hold themselves (no way to grant more than one has). Disabling a user or
 * setting their password bumps their token epoch, so every token they hold dies at once, and
 * every write bumps the users generation so authentication sees it on the next request.
 *
 * Password hashing (argon2id, ~25 ms and 19 MiB) runs on the kdf pool, never on an I/O thread:
 * creates and password changes park the request and finish on the worker, which records the
 * audit row and resumes the request as its last touch.
 */
#include "api/api.h"
#include "api/common.h"
#include "app.h"
#include "auth/auth.h"
#include "auth/permissions.h"
#include "cache/cache.h"
#include "obs/metrics.h"
#include "store/db.h"
#include "store/users.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/pool.h"
#include "util/time.h"

#include <stdio.h>
#include <string.h>

#define PASSWORD_MIN_CHARS 10

/* ---- validation ---- */

/* A plausible address: one '@' between a non-empty local part and a dotted domain, no spaces
 * or control characters. Deliverability is not our business. */
static bool email_ok(const char *s)
{
    size_t n = strlen(s);
    const char *at = strchr(s, '@');
    if (n < 3 || n > SP_EMAIL_MAX || !at || at == s || strchr(at + 1, '@'))
        return false;
    const char *dot = strchr(at + 1, '.');
    if (!dot || dot == at + 1 || !dot[1] || s[n - 1] == '.')
        return false;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return false;
    return true;
}

/* Characters (code points) of a valid UTF-8 string. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* What a POST/PUT body asks for. Strings point into req->json (alive while the request is). */
struct user_input {
    const char *username;
    bool has_email;
    const char *email; /* "" = none */
    const char *password;
    const char *old_password;
    const char *note;
    bool has_active;
    bool active;
    bool has_roles;
    int nroles;
    int64_t role_ids[SP_USER_MAX_ROLES];
};

/* Answer 400 naming field; SP_INVALID (the code of a failed parse). */
static int invalid(struct sp_response *resp, const char *field, const char *msg)
{
    sp_api_bad_request(resp, field, "%s", msg);
    return SP_INVALID;
}

/* Parse and validate the body. SP_OK, or SP_INVALID with the 400 in resp. */
static int parse_input(struct sp_request *r, struct sp_response *resp, bool creating,
                       struct user_input *in)
{
    memset(in, 0, sizeof *in);
    if (sp_req_json_object(r, resp) != SP_OK)
        return SP_INVALID;
    static const char *const known[] = {"username", "email",  "password", "old_password",
                                        "note",     "active", "role_ids", NULL};
    /* keys of the public user object a client may send back unchanged (ignored) */
    static const char *const read_only[] = {
        "id", "roles", "created_at", "updated_at", "last_login_at", "permissions", NULL};
    if (sp_api_known_keys(r->json, resp, known, read_only) != SP_OK)
        return SP_INVALID;
    struct sp_err e = {{0}, {0}};
    int rc = sp_json_string(r->json, "username", creating ? SP_REQUIRED : SP_OPTIONAL, 1,
                            SP_USERNAME_MAX + 64, &in->username, &e);
    if (rc == SP_INVALID)
        goto bad;
    if (in->username && !sp_username_valid(in->username))
        return invalid(resp, "username", "username must be 3-64 characters of A-Z a-z 0-9 _ . -");

    json_t *ev = json_object_get(r->json, "email");
    if (ev) {
        in->has_email = true;
        if (json_is_null(ev)) {
            in->email = "";
        } else {
            rc =
                sp_json_string(r->json, "email", SP_OPTIONAL, 0, SP_EMAIL_MAX + 64, &in->email, &e);
            if (rc == SP_INVALID)
                goto bad;
            if (*in->email && !email_ok(in->email))
                return invalid(resp, "email", "email must be an address such as name@example.org");
        }
    }

    rc = sp_json_string(r->json, "password", creating ? SP_REQUIRED : SP_OPTIONAL, 1,
                        SP_PASSWORD_MAX, &in->password, &e);
    if (rc == SP_INVALID)
        goto bad;
    if (in->password && utf8_chars(in->password) < PASSWORD_MIN_CHARS)
        return invalid(resp, "password", "password must be at least 10 characters");
    rc = sp_json_string(r->json, "old_password", SP_OPTIONAL, 1, SP_PASSWORD_MAX, &in->old_password,
                        &e);
    if (rc == SP_INVALID)
        goto bad;

    rc = sp_json_string(r->json, "note", SP_OPTIONAL, 0, SP_USER_NOTE_MAX, &in->note, &e);
    if (rc == SP_INVALID)
        goto bad;

    int active = 1;
    rc = sp_json_bool(r->json, "active", SP_OPTIONAL, &active, &e);
    if (rc == SP_INVALID)
        goto bad;
    in->has_active = rc == SP_OK;
    in->active = active != 0;

    json_t *roles = NULL;
    rc = sp_json_array(r->json, "role_ids", SP_OPTIONAL, &roles, &e);
    if (rc == SP_INVALID)
        goto bad;
    if (roles) {
        in->has_roles = true;
        size_t i;
        json_t *v;
        json_array_foreach(roles, i, v)
        {
            if (!json_is_integer(v) || json_integer_value(v) < 1)
                return invalid(resp, "role_ids", "role_ids must be a list of role ids (integers)");
            int64_t id = json_integer_value(v);
            bool dup = false;
            for (int j = 0; j < in->nroles && !dup; j++)
                dup = in->role_ids[j] == id;
            if (dup)
                continue;
            if (in->nroles == SP_USER_MAX_ROLES)
                return invalid(resp, "role_ids", "a user may hold at most 32 roles");
            in->role_ids[in->nroles++] = id;
        }
    }
    return SP_OK;
bad:
    sp_resp_rc(resp, SP_INVALID, &e);
    return SP_INVALID;
}

/* ---- helpers ---- */

/* The user object of the admin API: the public one plus role_ids. */
static json_t *user_detail(const struct sp_user *u)
{
    json_t *j = sp_user_json(u);
    json_t *ids = json_array();
    for (int i = 0; i < u->nroles; i++)
        json_array_append_new(ids, json_integer(u->role_ids[i]));
    json_object_set_new(j, "role_ids", ids);
    return j;
}

static bool holds_role(const struct sp_user *u, const char *name)
{
    for (int i = 0; i < u->nroles; i++)
        if (!strcmp(u->roles[i], name))
            return true;
    return false;
}

static bool has_id(const int64_t *ids, int n, int64_t id)
{
    for (int i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

/* May the caller hand out or take away role `id`? Admins may do anything; others only roles
 * whose permissions they hold themselves, never the admin role. SP_OK, or an answer in resp
 * (400 unknown role, 403, 503/500) and another code. */
static int role_grantable(struct sp_request *r, struct sp_response *resp, struct sp_db *db,
                          int64_t id)
{
    struct sp_role role;
    int rc = sp_store_role_get(db, id, &role);
    if (rc == SP_NOTFOUND) {
        sp_api_bad_request(resp, "role_ids", "unknown role id %lld", (long long)id);
        return SP_INVALID;
    }
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, NULL, "role");
        return rc;
    }
    if (r->principal.is_admin)
        return SP_OK;
    uint64_t need = sp_perms_expand(role.perms);
    if (!strcmp(role.name, "admin") || (need & ~r->principal.perms)) {
        char what[160];
        snprintf(what, sizeof what, "grant or remove the role '%s' (it has permissions you lack)",
                 role.name);
        sp_api_forbidden(resp, what);
        return SP_FORBIDDEN;
    }
    return SP_OK;
}

/* Check every role added or removed (new set vs current). SP_OK or an answer in resp. */
static int roles_grantable(struct sp_request *r, struct sp_response *resp, struct sp_db *db,
                           const struct user_input *in, const struct sp_user *cur)
{
    for (int i = 0; i < in->nroles; i++) {
        if (cur && has_id(cur->role_ids, cur->nroles, in->role_ids[i]))
            continue;
        int rc = role_grantable(r, resp, db, in->role_ids[i]);
        if (rc != SP_OK)
            return rc;
    }
    for (int i = 0; cur && i < cur->nroles; i++) {
        if (has_id(in->role_ids, in->nroles, cur->role_ids[i]))
            continue;
        int rc = role_grantable(r, resp, db, cur->role_ids[i]);
        if (rc != SP_OK)
            return rc;
    }
    return SP_OK;
}

/* Authentication must see the change on the very next request. */
static void user_changed(struct sp_request *r, int64_t id)
{
    sp_api_bump(r, SP_GEN_USERS);
    sp_auth_forget_user(id);
}

/* "name: a, b, c" of the changed fields, for the audit row (names only, never values). */
static const char *changed_fields(struct sp_request *r, const char *verb, const char *name,
                                  const struct user_input *in)
{
    char buf[256];
    int n = snprintf(buf, sizeof buf, "%s user %s:", verb, name);
    const char *fields[] = {in->username ? "username" : NULL,
                            in->has_email ? "email" : NULL,
                            in->password ? "password" : NULL,
                            in->note ? "note" : NULL,
                            in->has_active ? (in->active ? "active=true" : "active=false") : NULL,
                            in->has_roles ? "role_ids" : NULL};
    bool any = false;
    for (size_t i = 0; i < SP_ARRAY_LEN(fields); i++) {
        if (!fields[i] || n <= 0 || (size_t)n >= sizeof buf)
            continue;
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%s %s", any ? "," : "", fields[i]);
        any = true;
    }
    if (!any && n > 0 && (size_t)n < sizeof buf)
        snprintf(buf + n, sizeof buf - (size_t)n, " nothing");
    return sp_req_strdup(r, buf);
}

/* Reload user id and answer `status` with its detail object. */
static void answer_user(struct sp_response *resp, struct sp_db *db, int64_t id, int status)
{
    struct sp_user *u = sp_malloc(sizeof *u);
    int rc = sp_store_user_get(db, id, u);
    if (rc == SP_OK)
        sp_resp_json(resp, status, user_detail(u));
    else
        sp_api_fail(resp, rc, NULL, "user");
    sp_free(u);
}

/* ---- the parked part: hashing and the write ---- */

struct user_task {
    struct sp_request *req;
    struct sp_response *resp;
    struct user_input in;
    int64_t id;                               /* 0 = create */
    char password_hash[SP_PASSWORD_HASH_MAX]; /* current hash, when old_password must match */
};

/* Apply in (update of t->id, or create) with new_hash (may be NULL). Fills resp. */
static void apply(struct user_task *t, const char *new_hash)
{
    struct sp_request *r = t->req;
    struct sp_response *resp = t->resp;
    struct user_input *in = &t->in;
    struct sp_db *db = sp_db_thread();
    struct sp_err e = {{0}, {0}};
    if (!db) {
        sp_api_fail(resp, SP_AGAIN, NULL, "user");
        return;
    }
    int rc;
    if (!t->id) {
        /* default role: viewer, when the body names none */
        const char *const viewer_name[] = {"viewer", NULL};
        struct sp_user_new nu = {
            .username = in->username,
            .email = in->email,
            .password_hash = new_hash,
            .note = in->note,
            .active = in->has_active ? in->active : true,
            .role_ids = in->role_ids,
            .nrole_ids = in->nroles,
            .role_names = in->has_roles ? NULL : viewer_name,
        };
        int64_t id = 0;
        rc = sp_store_user_create(db, &nu, &id, &e);
        if (rc != SP_OK) {
            sp_api_fail(resp, rc, &e, "user");
            return;
        }
        r->audit_resource_id = id;
        r->audit_action = "users.create";
        user_changed(r, id);
        answer_user(resp, db, id, 201);
        return;
    }
    struct sp_user_patch p = {
        .username = in->username,
        .email = in->has_email ? in->email : NULL,
        .note = in->note,
        .has_active = in->has_active,
        .active = in->active,
        .has_roles = in->has_roles,
        .role_ids = in->role_ids,
        .nrole_ids = in->nroles,
    };
    rc = sp_db_begin(db);
    if (rc == SP_OK)
        rc = sp_store_user_update(db, t->id, &p, &e);
    if (rc == SP_OK && new_hash)
        rc = sp_store_user_set_password(db, t->id, new_hash, true);
    if (rc == SP_OK) {
        rc = sp_db_commit(db);
    } else if (sp_db_in_transaction(db)) {
        sp_db_rollback(db);
    }
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, &e, "user");
        return;
    }
    user_changed(r, t->id);
    answer_user(resp, db, t->id, 200);
}

/* Runs on the kdf pool; its last action is sp_req_resume(). */
static void hash_run(void *arg)
{
    struct user_task *t = arg;
    struct sp_request *r = t->req;
    if (sp_req_abandoned(r)) {
        sp_req_resume(r);
        return;
    }
    if (t->in.old_password && !sp_password_verify(t->password_hash, t->in.old_password)) {
        /* guessing the current password with a stolen token counts as failed logins */
        sp_auth_login_failed(r->client_ip, r->principal.username, sp_time_now());
        invalid(t->resp, "old_password", "the current password is wrong");
    } else {
        char hash[SP_PASSWORD_HASH_MAX];
        if (sp_password_hash(t->in.password, hash, sizeof hash) != SP_OK)
            sp_api_fail(t->resp, SP_ERR, NULL, "user");
        else
            apply(t, hash);
        memset(hash, 0, sizeof hash);
    }
    sp_req_audit(r, t->resp);
    sp_req_resume(r);
}

/* Park the request and hash on the kdf pool (503 when it is full). Returns the handler code. */
static int park(struct user_task *t)
{
    struct sp_request *r = t->req;
    if (!r->app->kdf_pool) {
        sp_resp_error(t->resp, 503, "unavailable", NULL, "password hashing is not available");
        sp_resp_header(t->resp, "Retry-After", "1");
        return SP_OK;
    }
    sp_req_suspend(r);
    if (sp_pool_submit(r->app->kdf_pool, hash_run, t) != SP_OK) {
        sp_resp_error(t->resp, 503, "unavailable", NULL,
                      "too many password operations in progress; try again");
        sp_resp_header(t->resp, "Retry-After", "1");
        sp_req_resume(r);
    }
    return SP_AGAIN;
}

/* ---- handlers ---- */

/* GET /api/users?page=&per_page=&search=&active= */
static int h_list(struct sp_request *r, struct sp_response *resp)
{
    int64_t page, per_page;
    const char *search = NULL;
    bool active = true;
    int has_active;
    if (sp_api_page(r, resp, &page, &per_page) != SP_OK ||
        sp_api_query_text(r, resp, "search", SP_EMAIL_MAX, &search) == SP_INVALID ||
        (has_active = sp_api_query_bool(r, resp, "active", &active)) == SP_INVALID)
        return SP_OK;
    struct sp_db *db = sp_api_db(r, resp);
    if (!db)
        return SP_OK;
    struct sp_user *users = NULL;
    int n = 0;
    int64_t total = 0;
    int rc = sp_store_user_list(db, (int)page, (int)per_page, search,
                                has_active == SP_OK ? (active ? 1 : 0) : -1, &users, &n, &total);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, NULL, "user");
        return SP_OK;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, user_detail(&users[i]));
    sp_free(users);
    sp_resp_json(resp, 200,
                 json_pack("{s:o, s:o}", "users", arr, "pagination",
                           sp_api_pagination(page, per_page, total)));
    return SP_OK;
}

/* GET /api/users/{id} */
static int h_get(struct sp_request *r, struct sp_response *resp)
{
    int64_t id;
    if (sp_api_param_id(r, resp, "id", "user", &id) != SP_OK)
        return SP_OK;
    if (id != r->principal.user_id && !sp_api_can(r, SP_RES_USERS, SP_ACT_READ))
        return sp_api_forbidden(resp, "see other users (users:read)");
    struct sp_db *db = sp_api_db(r, resp);
    if (!db)
        return SP_OK;
    struct sp_user *u = sp_malloc(sizeof *u);
    int rc = sp_store_user_get(db, id, u);
    if (rc != SP_OK)
        sp_api_fail(resp, rc, NULL, "user");
    else
        sp_resp_json(resp, 200, user_detail(u));
    sp_free(u);
    return SP_OK;
}

/* POST /api/users */
static int h_create(struct sp_request *r, struct sp_response *resp)
{
    struct user_task *t = sp_req_alloc(r, sizeof *t);
    t->req = r;
    t->resp = resp;
    if (parse_input(r, resp, true, &t->in) != SP_OK)
        return SP_OK;
    if (t->in.old_password)
        return sp_api_bad_request(resp, "old_password",
                                  "old_password is only for changing your own password");
    struct sp_db *db = sp_api_db(r, resp);
    if (!db)
        return SP_OK;
    if (t->in.has_roles) {
        if (roles_grantable(r, resp, db, &t->in, NULL) != SP_OK)
            return SP_OK;
    } else if (!r->principal.is_admin) {
        /* the default role (viewer) is handed out too */
        struct sp_role viewer;
        if (sp_store_role_get_by_name(db, "viewer", &viewer) == SP_OK &&
            role_grantable(r, resp, db, viewer.id) != SP_OK)
            return SP_OK;
    }
    char summary[160];
    snprintf(summary, sizeof summary, "created user %s", t->in.username);
    r->audit_summary = sp_req_strdup(r, summary);
    return park(t);
}

/* PUT /api/users/{id} */
static int h_update(struct sp_request *r, struct sp_response *resp)
{
    int64_t id;
    if (sp_api_param_id(r, resp, "id", "user", &id) != SP_OK)
        return SP_OK;
    struct user_task *t = sp_req_alloc(r, sizeof *t);
    t->req = r;
    t->resp = resp;
    t->id = id;
    struct user_input *in = &t->in;
    bool self = id == r->principal.user_id;
    bool manager = sp_api_can(r, SP_RES_USERS, SP_ACT_WRITE);
    if (!self && !manager)
        return sp_api_forbidden(resp, "change other users (users:write)");
    if (parse_input(r, resp, false, in) != SP_OK)
        return SP_OK;
    if (self && !manager && (in->username || in->has_email || in->has_active || in->has_roles))
        return sp_api_forbidden(resp, "change anything of your own account but your password "
                                      "and note (users:write)");
    if (in->old_password && !self)
        return sp_api_bad_request(resp, "old_password",
                                  "old_password is only for changing your own password");
    if (self && in->password && !in->old_password)
        return sp_api_bad_request(resp, "old_password",
                                  "old_password is required to change your own password");
    if (in->old_password && !in->password)
        return sp_api_bad_request(resp, "password",
                                  "password (the new one) is required with old_password");

    struct sp_db *db = sp_api_db(r, resp);
    if (!db)
        return SP_OK;
    struct sp_user *cur = sp_req_alloc(r, sizeof *cur);
    int rc = sp_store_user_get(db, id, cur);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, NULL, "user");
        return SP_OK;
    }
    if (!self && holds_role(cur, "admin") && !r->principal.is_admin)
        return sp_api_forbidden(resp, "change an administrator's account");
    if (self && in->has_active && !in->active)
        return sp_api_conflict(resp, "active", "you cannot disable your own account");
    if (self && in->has_roles && holds_role(cur, "admin")) {
        struct sp_role admin;
        if (sp_store_role_get_by_name(db, "admin", &admin) == SP_OK &&
            !has_id(in->role_ids, in->nroles, admin.id))
            return sp_api_conflict(resp, "role_ids", "you cannot remove your own admin role");
    }
    if (in->has_roles && roles_grantable(r, resp, db, in, cur) != SP_OK)
        return SP_OK;

    r->audit_resource_id = id;
    r->audit_summary = changed_fields(r, "updated", cur->username, in);
    if (in->password) {
        r->audit_action = "users.password";
        int wait = in->old_password
                       ? sp_auth_login_blocked(r->client_ip, r->principal.username, sp_time_now())
                       : 0;
        if (wait > 0) {
            char ra[24];
            snprintf(ra, sizeof ra, "%d", wait);
            sp_metrics_rate_limited();
            sp_resp_error(resp, 429, "rate_limited", NULL,
                          "too many wrong passwords; try again in %d seconds", wait);
            sp_resp_header(resp, "Retry-After", ra);
            return SP_OK;
        }
        snprintf(t->password_hash, sizeof t->password_hash, "%s", cur->password_hash);
        return park(t);
    }
    apply(t, NULL);
    return SP_OK;
}

/* DELETE /api/users/{id} */
static int h_delete(struct sp_request *r, struct sp_response *resp)
{
    int64_t id;
    if (sp_api_param_id(r, resp, "id", "user", &id) != SP_OK)
        return SP_OK;
    if (id == r->principal.user_id)
        return sp_api_conflict(resp, NULL, "you cannot delete your own account");
    struct sp_db *db = sp_api_db(r, resp);
    if (!db)
        return SP_OK;
    struct sp_user *u = sp_req_alloc(r, sizeof *u);
    int rc = sp_store_user_get(db, id, u);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, NULL, "user");
        return SP_OK;
    }
    if (holds_role(u, "admin") && !r->principal.is_admin)
        return sp_api_forbidden(resp, "delete an administrator");
    r->audit_resource_id = id;
    rc = sp_store_user_delete(db, id);
    if (rc == SP_OK) {
        user_changed(r, id);
        char msg[160];
        snprintf(msg, sizeof msg, "User %s deleted", u->username);
        r->audit_summary = sp_req_strdup(r, msg);
        sp_resp_json(resp, 200, json_pack("{s:s, s:b}", "message", msg, "deactivated", 0));
        return SP_OK;
    }
    if (rc != SP_CONFLICT) {
        sp_api_fail(resp, rc, NULL, "user");
        return SP_OK;
    }
    /* owns releases or jobs: keep the row (history stays attributable), switch it off */
    rc = sp_store_user_set_active(db, id, false);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, NULL, "user");
        return SP_OK;
    }
    user_changed(r, id);
    char msg[200];
    snprintf(msg, sizeof msg,
             "User %s owns releases or jobs, so the account was deactivated instead of deleted",
             u->username);
    r->audit_action = "users.deactivate";
    r->audit_summary = sp_req_strdup(r, msg);
    rc = sp_store_user_get(db, id, u);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, NULL, "user");
        return SP_OK;
    }
    sp_resp_json(
        resp, 200,
        json_pack("{s:s, s:b, s:o}", "message", msg, "deactivated", 1, "user", user_detail(u)));
    return SP_OK;
}

const struct sp_route sp_routes_users[] = {
    {"GET", "/api/users", h_list, SP_AUTH_USER, SP_RES_USERS, SP_ACT_READ},
    {"POST", "/api/users", h_create, SP_AUTH_USER, SP_RES_USERS, SP_ACT_WRITE},
    {"GET", "/api/users/{id}", h_get, SP_AUTH_USER, -1, -1},
    {"PUT", "/api/users/{id}", h_update, SP_AUTH_USER, -1, -1},
    {"DELETE", "/api/users/{id}", h_delete, SP_AUTH_USER, SP_RES_USERS, SP_ACT_DELETE},
    {0},
};
