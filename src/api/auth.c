/*
 * auth.c — /api/auth: login, refresh, logout, me.
 *
 * Login verifies an argon2id hash (~25 ms of CPU and 19 MiB), so it never runs on an I/O thread:
 * the handler validates the body, parks the request and hands it to the kdf pool; the task
 * answers and resumes the request as its last touch. A full pool answers 503 + Retry-After.
 */
#include "api/api.h"
#include "app.h"
#include "auth/auth.h"
#include "obs/metrics.h"
#include "store/audit.h"
#include "store/db.h"
#include "store/users.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/pool.h"
#include "util/time.h"

#include <stdio.h>
#include <string.h>

/* The one message for an unknown user and a wrong password: nothing tells them apart. */
#define BAD_CREDENTIALS "Invalid username or password"
/* Longest username / password a login accepts before answering 400. */
#define LOGIN_USERNAME_MAX SP_USERNAME_MAX
#define LOGIN_PASSWORD_MAX SP_PASSWORD_MAX

static void unauthorized(struct sp_response *resp, const char *message)
{
    sp_resp_error(resp, 401, "unauthorized", NULL, "%s", message);
    sp_resp_header(resp, "WWW-Authenticate", "Bearer");
}

/* Answer a store/auth failure that is not the caller's fault (busy → 503, else 500). */
static void server_failure(struct sp_response *resp, int rc, const char *what)
{
    struct sp_err e;
    sp_err_set(&e, "", "%s", rc == SP_AGAIN ? "the database is busy, try again" : what);
    sp_resp_rc(resp, rc == SP_AGAIN ? SP_AGAIN : SP_ERR, &e);
}

/* One audit_log row for an authentication event (resource "auth"). Never fails the request. */
static void audit_auth(struct sp_request *r, struct sp_db *db, int64_t user_id,
                       const char *username, const char *action, const char *summary)
{
    struct sp_audit_entry a;
    memset(&a, 0, sizeof a);
    a.user_id = user_id;
    a.resource_id = user_id;
    sp_audit_entry_set(&a, username, action, "auth", r->client_ip, r->request_id, summary);
    int rc = db ? sp_store_audit_add(db, &a, NULL) : SP_ERR;
    if (rc != SP_OK)
        sp_warn("audit row not written", "%s (request %s): %s", action, r->request_id,
                sp_rc_name(rc));
    r->audit_done = true;
}

/* {access_token, refresh_token, token_type, expires_in} for u, plus "user" when with_user. */
static int token_response(struct sp_app *app, struct sp_db *db, const struct sp_user *u,
                          bool with_user, struct sp_response *resp)
{
    json_t *body = NULL;
    if (sp_auth_issue(app, u, &body) != SP_OK) {
        server_failure(resp, SP_ERR, "could not issue tokens");
        return SP_ERR;
    }
    if (with_user) {
        uint64_t perms = 0;
        int rc = sp_store_user_perms(db, u->id, &perms, NULL);
        if (rc != SP_OK) {
            json_decref(body);
            server_failure(resp, rc, "could not load the user's permissions");
            return rc;
        }
        json_object_set_new(body, "user", sp_user_json_perms(u, perms));
    }
    sp_resp_json(resp, 200, body);
    return SP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* POST /api/auth/login */

struct login_task {
    struct sp_request *req;
    struct sp_response *resp;
    const char *username; /* point into req->json, alive while the request is parked */
    const char *password;
};

/* The end of a login once the user row is loaded (rc from the lookup) and the password decided
 * (verified: 1/0; ignored unless rc is SP_OK). Answers into resp. */
static void login_finish(struct sp_request *r, struct sp_response *resp, struct sp_db *db,
                         const char *username, int rc, struct sp_user *u, int verified)
{
    struct sp_app *app = r->app;
    int64_t now = sp_time_now();
    if (rc == SP_NOTFOUND) {
        sp_auth_login_failed(r->client_ip, username, now);
        sp_metrics_login_failure();
        unauthorized(resp, BAD_CREDENTIALS);
        sp_info("login failed", "unknown user from %s", r->client_ip);
        audit_auth(r, db, 0, username, "auth.login_failed", "login failed: unknown user");
    } else if (rc != SP_OK) {
        server_failure(resp, rc, "could not check the credentials");
    } else if (!verified) {
        sp_auth_login_failed(r->client_ip, username, now);
        sp_metrics_login_failure();
        unauthorized(resp, BAD_CREDENTIALS);
        sp_info("login failed", "user %lld: wrong password from %s", (long long)u->id,
                r->client_ip);
        audit_auth(r, db, u->id, u->username, "auth.login_failed",
                   "login failed: wrong password");
    } else if (!u->active) {
        sp_resp_error(resp, 403, "forbidden", NULL, "This account is disabled");
        audit_auth(r, db, u->id, u->username, "auth.login_failed",
                   "login refused: the account is disabled");
    } else {
        sp_auth_login_succeeded(r->client_ip, username);
        if (sp_store_user_set_last_login(db, u->id, now) == SP_OK)
            u->last_login_at = now;
        else
            sp_warn("last login not recorded", "user %lld", (long long)u->id);
        if (token_response(app, db, u, true, resp) == SP_OK)
            audit_auth(r, db, u->id, u->username, "auth.login", "logged in");
    }
}

/* Runs on the kdf pool. Its last action is sp_req_resume(). */
static void login_run(void *arg)
{
    struct login_task *t = arg;
    struct sp_request *r = t->req;
    if (sp_req_abandoned(r)) { /* answered 503 by a shutdown drain: skip the slow hash */
        sp_req_resume(r);
        return;
    }
    struct sp_user *u = sp_malloc(sizeof *u);
    struct sp_db *db = sp_db_thread();
    int rc = db ? sp_store_user_get_by_name(db, t->username, u) : SP_ERR;
    int verified = 0;
    if (rc == SP_NOTFOUND)
        sp_password_verify_dummy(t->password);
    else if (rc == SP_OK)
        /* identical logins queued together share one argon2id run */
        verified = sp_password_verify_shared(u->password_hash, t->password);
    login_finish(r, t->resp, db, t->username, rc, u, verified);
    sp_free(u);
    sp_req_resume(r);
}

static int h_login(struct sp_request *r, struct sp_response *resp)
{
    if (sp_req_json_object(r, resp) != SP_OK)
        return SP_OK;
    struct sp_err e = {{0}, {0}};
    const char *username = NULL, *password = NULL;
    if (sp_json_string(r->json, "username", SP_REQUIRED, 1, LOGIN_USERNAME_MAX, &username, &e) !=
            SP_OK ||
        sp_json_string(r->json, "password", SP_REQUIRED, 1, LOGIN_PASSWORD_MAX, &password, &e) !=
            SP_OK) {
        sp_resp_rc(resp, SP_INVALID, &e);
        return SP_OK;
    }
    int wait = sp_auth_login_blocked(r->client_ip, username, sp_time_now());
    if (wait > 0) {
        char ra[24];
        snprintf(ra, sizeof ra, "%d", wait);
        sp_metrics_rate_limited();
        sp_resp_error(resp, 429, "rate_limited", NULL,
                      "Too many failed logins; try again in %d seconds", wait);
        sp_resp_header(resp, "Retry-After", ra);
        return SP_OK;
    }
    /* Credentials verified moments ago are answered here, without the kdf pool (password.c,
     * "recently verified credentials"); everything else (unknown user, wrong or new password)
     * goes to the pool for a full argon2id verification. */
    struct sp_db *db = sp_db_thread();
    if (db) {
        struct sp_user *u = sp_req_alloc(r, sizeof *u);
        if (sp_store_user_get_by_name(db, username, u) == SP_OK &&
            sp_password_recent(u->password_hash, password, sp_time_now())) {
            login_finish(r, resp, db, username, SP_OK, u, 1);
            return SP_OK;
        }
    }
    if (!r->app->kdf_pool) {
        sp_resp_error(resp, 503, "unavailable", NULL, "Login is not available right now");
        sp_resp_header(resp, "Retry-After", "1");
        return SP_OK;
    }
    struct login_task *t = sp_req_alloc(r, sizeof *t);
    t->req = r;
    t->resp = resp;
    t->username = username;
    t->password = password;
    sp_req_suspend(r);
    if (sp_pool_submit(r->app->kdf_pool, login_run, t) != SP_OK) {
        sp_resp_error(resp, 503, "unavailable", NULL, "Too many logins in progress; try again");
        sp_resp_header(resp, "Retry-After", "1");
        sp_req_resume(r);
    }
    return SP_AGAIN;
}

/* ------------------------------------------------------------------------------------------ */
/* POST /api/auth/refresh — the refresh token comes in the Authorization header. */

static int h_refresh(struct sp_request *r, struct sp_response *resp)
{
    struct sp_app *app = r->app;
    struct sp_err e = {{0}, {0}};
    struct sp_token_info t;
    int rc = sp_auth_verify_refresh(app, sp_req_header(r, "Authorization"), &t, &e);
    if (rc == SP_INVALID) {
        unauthorized(resp, e.message);
        return SP_OK;
    }
    if (rc != SP_OK) {
        server_failure(resp, rc, "could not verify the token");
        return SP_OK;
    }
    /* Rotation: the presented refresh token dies now; a second use finds it revoked. */
    rc = sp_auth_revoke(app, t.jti, t.exp);
    if (rc == SP_CONFLICT) {
        unauthorized(resp, "token has been revoked");
        return SP_OK;
    }
    if (rc != SP_OK) {
        server_failure(resp, rc, "could not rotate the refresh token");
        return SP_OK;
    }
    struct sp_db *db = sp_db_thread();
    struct sp_user *u = sp_malloc(sizeof *u);
    rc = db ? sp_store_user_get(db, t.user_id, u) : SP_ERR;
    if (rc == SP_NOTFOUND || (rc == SP_OK && (!u->active || u->token_epoch != t.epoch)))
        unauthorized(resp, rc == SP_NOTFOUND ? "user no longer exists" : "token has been revoked");
    else if (rc != SP_OK)
        server_failure(resp, rc, "could not load the user");
    else
        token_response(app, db, u, false, resp);
    sp_free(u);
    return SP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* POST /api/auth/logout — optional body {refresh_token}. */

static int h_logout(struct sp_request *r, struct sp_response *resp)
{
    struct sp_app *app = r->app;
    struct sp_err e = {{0}, {0}};
    const char *refresh = NULL;
    if (r->json || r->body_len > 0) {
        if (sp_req_json_object(r, resp) != SP_OK)
            return SP_OK;
        if (sp_json_string(r->json, "refresh_token", SP_NULLABLE, 1, SP_JWT_MAX_LEN, &refresh,
                           &e) == SP_INVALID) {
            sp_resp_rc(resp, SP_INVALID, &e);
            return SP_OK;
        }
    }
    int rc = sp_auth_revoke(app, r->principal.jti, r->principal.token_exp);
    if (rc == SP_ERR) {
        server_failure(resp, rc, "could not revoke the token");
        return SP_OK;
    }
    if (refresh) {
        /* Only a valid refresh token of the same user is revoked; anything else is already
         * useless to whoever holds it, and logging out still succeeds. */
        struct sp_token_info t;
        if (sp_auth_verify_token(app, refresh, "refresh", &t, &e) == SP_OK &&
            t.user_id == r->principal.user_id) {
            rc = sp_auth_revoke(app, t.jti, t.exp);
            if (rc == SP_ERR) {
                server_failure(resp, rc, "could not revoke the refresh token");
                return SP_OK;
            }
        }
    }
    audit_auth(r, sp_db_thread(), r->principal.user_id, r->principal.username, "auth.logout",
               refresh ? "logged out (refresh token given)" : "logged out");
    sp_resp_json(resp, 200, json_pack("{s:s}", "message", "Logged out"));
    return SP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* GET /api/auth/me */

static int h_me(struct sp_request *r, struct sp_response *resp)
{
    struct sp_db *db = sp_db_thread();
    struct sp_user *u = sp_malloc(sizeof *u);
    int rc = db ? sp_store_user_get(db, r->principal.user_id, u) : SP_ERR;
    if (rc == SP_NOTFOUND)
        unauthorized(resp, "user no longer exists");
    else if (rc != SP_OK)
        server_failure(resp, rc, "could not load the user");
    else if (!u->active)
        unauthorized(resp, "this account is disabled");
    else
        sp_resp_json(resp, 200,
                     json_pack("{s:o}", "user", sp_user_json_perms(u, r->principal.perms)));
    sp_free(u);
    return SP_OK;
}

const struct sp_route sp_routes_auth[] = {
    {"POST", "/api/auth/login", h_login, SP_AUTH_NONE, -1, -1},
    {"POST", "/api/auth/refresh", h_refresh, SP_AUTH_NONE, -1, -1},
    {"POST", "/api/auth/logout", h_logout, SP_AUTH_USER, -1, -1},
    {"GET", "/api/auth/me", h_me, SP_AUTH_USER, -1, -1},
    {0},
};
