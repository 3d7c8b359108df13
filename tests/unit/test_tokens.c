/*
 * test_tokens.c — issuing and authenticating tokens against the real store (a temporary data
 * directory with a migrated SQLite database): what a request with a token is allowed to do after
 * logout, refresh, deactivation and password changes.
 */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "auth/auth.h"
#include "auth/permissions.h"
#include "cache/cache.h"
#include "store/db.h"
#include "store/tokens.h"
#include "store/users.h"
#include "util/alloc.h"
#include "util/time.h"

struct fixture {
    struct sp_app app;
    char dir[512];
    int64_t user_id;
    char hash[128];
};

static struct fixture *F;

static int setup(void **state)
{
    struct fixture *f = sp_calloc(1, sizeof *f);
    if (ts_tmpdir(f->dir, sizeof f->dir, "test_tokens") != 0)
        return -1;
    char *argv[] = {(char *)"test_tokens", NULL};
    int argc = 1;
    if (sp_config_load(&f->app.cfg, &argc, argv, stderr) != 0)
        return -1;
    snprintf(f->app.cfg.data_dir, sizeof f->app.cfg.data_dir, "%s", f->dir);
    f->app.cfg.database_url[0] = '\0';
    f->app.cfg.jwt_secret[0] = '\0';
    f->app.cfg.secret_key[0] = '\0';
    snprintf(f->app.cfg.admin_password, sizeof f->app.cfg.admin_password, "admin-password-1");
    f->app.cfg.kdf_threads = 1;
    f->app.cfg.access_ttl = 900;
    f->app.cfg.refresh_ttl = 604800;
    struct sp_err e = {{0}, {0}};
    if (sp_app_init(&f->app, &e) != SP_OK) {
        fprintf(stderr, "sp_app_init: %s\n", e.message);
        return -1;
    }
    if (sp_auth_init(&f->app, &e) != SP_OK) {
        fprintf(stderr, "sp_auth_init: %s\n", e.message);
        return -1;
    }
    if (sp_password_hash("a-long-password", f->hash, sizeof f->hash) != SP_OK)
        return -1;
    const char *roles[] = {"viewer", NULL};
    struct sp_user_new nu = {
        .username = "alice", .password_hash = f->hash, .active = true, .role_names = roles};
    if (sp_store_user_create(sp_db_thread(), &nu, &f->user_id, &e) != SP_OK) {
        fprintf(stderr, "user create: %s\n", e.message);
        return -1;
    }
    F = f;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    sp_auth_shutdown();
    sp_app_shutdown(&f->app);
    if (ts_rmtree(f->dir) != 0)
        fprintf(stderr, "could not remove %s\n", f->dir);
    sp_free(f);
    return 0;
}

/* Load user id fresh from the store. */
static void load_user(int64_t id, struct sp_user *u)
{
    assert_int_equal(sp_store_user_get(sp_db_thread(), id, u), SP_OK);
}

/* Issue a pair for user id; the caller frees the strings. */
static void issue(int64_t id, char **access, char **refresh)
{
    struct sp_user *u = sp_malloc(sizeof *u);
    load_user(id, u);
    json_t *out = NULL;
    assert_int_equal(sp_auth_issue(&F->app, u, &out), SP_OK);
    sp_free(u);
    assert_string_equal(json_string_value(json_object_get(out, "token_type")), "Bearer");
    assert_int_equal(json_integer_value(json_object_get(out, "expires_in")), 900);
    *access = sp_strdup(json_string_value(json_object_get(out, "access_token")));
    *refresh = sp_strdup(json_string_value(json_object_get(out, "refresh_token")));
    assert_true(strlen(*access) > 0 && strlen(*refresh) > 0);
    json_decref(out);
}

static int auth(const char *token, struct sp_principal *p)
{
    char *h = sp_asprintf("Bearer %s", token);
    struct sp_err e = {{0}, {0}};
    int rc = sp_auth_authenticate(&F->app, h, p, &e);
    if (rc != SP_OK)
        assert_true(e.message[0] != '\0'); /* a reason for the 401 */
    sp_free(h);
    return rc;
}

static json_t *claims_of(const char *token)
{
    json_t *c = NULL;
    struct sp_err e;
    assert_int_equal(
        sp_jwt_verify(F->app.jwt_key, sizeof F->app.jwt_key, token, sp_time_now(), &c, &e), SP_OK);
    return c;
}

static void test_issue_then_authenticate(void **state)
{
    (void)state;
    char *access, *refresh;
    issue(F->user_id, &access, &refresh);

    json_t *c = claims_of(access);
    char sub[24];
    snprintf(sub, sizeof sub, "%lld", (long long)F->user_id);
    assert_string_equal(json_string_value(json_object_get(c, "sub")), sub);
    assert_string_equal(json_string_value(json_object_get(c, "type")), "access");
    assert_int_equal(strlen(json_string_value(json_object_get(c, "jti"))), 32);
    json_int_t iat = json_integer_value(json_object_get(c, "iat"));
    assert_int_equal(json_integer_value(json_object_get(c, "exp")), iat + 900);
    assert_int_equal(json_integer_value(json_object_get(c, "nbf")), iat);
    assert_true(json_is_integer(json_object_get(c, "te")));
    json_t *rc = claims_of(refresh);
    assert_string_equal(json_string_value(json_object_get(rc, "type")), "refresh");
    assert_int_equal(json_integer_value(json_object_get(rc, "exp")),
                     json_integer_value(json_object_get(rc, "iat")) + 604800);
    /* two different token ids */
    assert_string_not_equal(json_string_value(json_object_get(c, "jti")),
                            json_string_value(json_object_get(rc, "jti")));

    struct sp_principal p;
    assert_int_equal(auth(access, &p), SP_OK);
    assert_int_equal(p.user_id, F->user_id);
    assert_string_equal(p.username, "alice");
    assert_string_equal(p.jti, json_string_value(json_object_get(c, "jti")));
    assert_int_equal(p.token_exp, iat + 900);
    assert_false(p.is_admin);
    /* viewer: read on releases and rules, nothing else */
    assert_true(sp_perms_has(p.perms, SP_RES_RELEASES, SP_ACT_READ));
    assert_true(sp_perms_has(p.perms, SP_RES_RULES, SP_ACT_READ));
    assert_false(sp_perms_has(p.perms, SP_RES_RELEASES, SP_ACT_WRITE));
    assert_false(sp_perms_has(p.perms, SP_RES_USERS, SP_ACT_READ));

    /* The scheme is case-insensitive and blanks around the token are ignored. */
    struct sp_err e;
    char *h = sp_asprintf("bearer   %s  ", access);
    assert_int_equal(sp_auth_authenticate(&F->app, h, &p, &e), SP_OK);
    sp_free(h);
    h = sp_asprintf("BEARER %s", access);
    assert_int_equal(sp_auth_authenticate(&F->app, h, &p, &e), SP_OK);
    sp_free(h);

    /* The admin account created at first start authenticates as admin. */
    struct sp_user *admin = sp_malloc(sizeof *admin);
    assert_int_equal(sp_store_user_get_by_name(sp_db_thread(), "admin", admin), SP_OK);
    char *aa, *ar;
    issue(admin->id, &aa, &ar);
    assert_int_equal(auth(aa, &p), SP_OK);
    assert_true(p.is_admin);
    assert_true(sp_perms_has(p.perms, SP_RES_USERS, SP_ACT_DELETE));
    assert_true(sp_perms_has(p.perms, SP_RES_CONFIG, SP_ACT_MOD));
    sp_free(admin);
    sp_free(aa);
    sp_free(ar);

    json_decref(c);
    json_decref(rc);
    sp_free(access);
    sp_free(refresh);
}

static void test_bad_headers(void **state)
{
    (void)state;
    char *access, *refresh;
    issue(F->user_id, &access, &refresh);
    struct sp_principal p;
    struct sp_err e;
    const char *bad[] = {
        "",          "Bearer",    "Bearer ",      "Bearer  ",          "Basic YWxpY2U6cHc=",
        "Token abc", "Bearerabc", "Bearer a.b.c", "Bearer not-a-token"};
    for (size_t i = 0; i < SP_ARRAY_LEN(bad); i++) {
        assert_int_equal(sp_auth_authenticate(&F->app, bad[i], &p, &e), SP_INVALID);
        assert_int_equal(p.user_id, 0);
    }
    assert_int_equal(sp_auth_authenticate(&F->app, NULL, &p, &e), SP_INVALID);
    /* the raw token without the scheme */
    assert_int_equal(sp_auth_authenticate(&F->app, access, &p, &e), SP_INVALID);
    /* a token over the size limit */
    char *big = sp_malloc(SP_JWT_MAX_LEN + 100);
    memset(big, 'A', SP_JWT_MAX_LEN + 99);
    memcpy(big, "Bearer ", 7);
    big[SP_JWT_MAX_LEN + 99] = '\0';
    assert_int_equal(sp_auth_authenticate(&F->app, big, &p, &e), SP_INVALID);
    sp_free(big);

    /* A token signed with another key (another deployment) is refused. */
    unsigned char other[32];
    memset(other, 7, sizeof other);
    json_t *c = claims_of(access);
    char *forged = sp_jwt_sign(other, sizeof other, c);
    assert_int_equal(auth(forged, &p), SP_INVALID);
    sp_free(forged);
    /* ... and so is one of ours for a user id that does not exist. */
    json_object_set_new(c, "sub", json_string("999999"));
    forged = sp_jwt_sign(F->app.jwt_key, sizeof F->app.jwt_key, c);
    assert_int_equal(auth(forged, &p), SP_INVALID);
    sp_free(forged);
    /* ... or a sub that is not a canonical id. */
    const char *subs[] = {"0", "-1", "01", "1e3", " 1", "abc", "99999999999999999999"};
    for (size_t i = 0; i < SP_ARRAY_LEN(subs); i++) {
        json_object_set_new(c, "sub", json_string(subs[i]));
        forged = sp_jwt_sign(F->app.jwt_key, sizeof F->app.jwt_key, c);
        assert_int_equal(auth(forged, &p), SP_INVALID);
        sp_free(forged);
    }
    /* ... or one without the token-epoch claim. */
    char sub[24];
    snprintf(sub, sizeof sub, "%lld", (long long)F->user_id);
    json_object_set_new(c, "sub", json_string(sub));
    json_object_del(c, "te");
    forged = sp_jwt_sign(F->app.jwt_key, sizeof F->app.jwt_key, c);
    assert_int_equal(auth(forged, &p), SP_INVALID);
    sp_free(forged);
    json_decref(c);
    sp_free(access);
    sp_free(refresh);
}

static void test_refresh_is_not_access(void **state)
{
    (void)state;
    char *access, *refresh;
    issue(F->user_id, &access, &refresh);
    struct sp_principal p;
    assert_int_equal(auth(refresh, &p), SP_INVALID);

    struct sp_token_info t;
    struct sp_err e;
    char *h = sp_asprintf("Bearer %s", refresh);
    assert_int_equal(sp_auth_verify_refresh(&F->app, h, &t, &e), SP_OK);
    assert_int_equal(t.user_id, F->user_id);
    sp_free(h);
    h = sp_asprintf("Bearer %s", access);
    assert_int_equal(sp_auth_verify_refresh(&F->app, h, &t, &e), SP_INVALID);
    sp_free(h);
    assert_int_equal(sp_auth_verify_refresh(&F->app, NULL, &t, &e), SP_INVALID);
    assert_int_equal(sp_auth_verify_token(&F->app, access, "access", &t, &e), SP_OK);
    assert_int_equal(sp_auth_verify_token(&F->app, access, "refresh", &t, &e), SP_INVALID);
    sp_free(access);
    sp_free(refresh);
}

static void test_revoked_jti(void **state)
{
    (void)state;
    char *access, *refresh;
    issue(F->user_id, &access, &refresh);
    struct sp_principal p;
    assert_int_equal(auth(access, &p), SP_OK);

    /* logout */
    char jti[sizeof p.jti];
    int64_t exp = p.token_exp;
    snprintf(jti, sizeof jti, "%s", p.jti);
    assert_false(sp_auth_is_revoked(jti));
    assert_int_equal(sp_auth_revoke(&F->app, jti, exp), SP_OK);
    assert_true(sp_auth_is_revoked(jti));
    assert_int_equal(auth(access, &p), SP_INVALID);
    assert_int_equal(p.user_id, 0); /* nothing of the principal is left filled */
    /* a second revocation is reported, so a refresh token cannot be rotated twice */
    assert_int_equal(sp_auth_revoke(&F->app, jti, exp), SP_CONFLICT);

    /* the revocation is in the table: it survives a restart */
    assert_int_equal(sp_store_token_is_revoked(sp_db_thread(), jti, sp_time_now()), 1);
    sp_auth_shutdown();
    struct sp_err e;
    assert_int_equal(sp_auth_init(&F->app, &e), SP_OK);
    assert_int_equal(auth(access, &p), SP_INVALID);

    /* refresh rotation: the refresh token works once */
    struct sp_token_info t;
    char *h = sp_asprintf("Bearer %s", refresh);
    assert_int_equal(sp_auth_verify_refresh(&F->app, h, &t, &e), SP_OK);
    assert_int_equal(sp_auth_revoke(&F->app, t.jti, t.exp), SP_OK);
    assert_int_equal(sp_auth_verify_refresh(&F->app, h, &t, &e), SP_INVALID);
    sp_free(h);

    /* another instance revoked it (only the table knows): revoking again still conflicts */
    char *a2, *r2;
    issue(F->user_id, &a2, &r2);
    h = sp_asprintf("Bearer %s", r2);
    assert_int_equal(sp_auth_verify_refresh(&F->app, h, &t, &e), SP_OK);
    assert_int_equal(sp_store_token_revoke(sp_db_thread(), t.jti, t.exp), SP_OK);
    assert_int_equal(sp_auth_revoke(&F->app, t.jti, t.exp), SP_CONFLICT);
    sp_free(h);

    /* revoking one token leaves the others alone */
    assert_int_equal(auth(a2, &p), SP_OK);

    /* expired revocations are purged from the table */
    assert_int_equal(sp_store_token_revoke(sp_db_thread(), "old-jti", 1000), SP_OK);
    int64_t n = 0;
    assert_int_equal(sp_store_token_purge(sp_db_thread(), sp_time_now(), &n), SP_OK);
    assert_true(n >= 1);
    assert_int_equal(sp_store_token_is_revoked(sp_db_thread(), "old-jti", 0), 0);

    sp_free(a2);
    sp_free(r2);
    sp_free(access);
    sp_free(refresh);
}

static void test_disabled_user(void **state)
{
    (void)state;
    struct sp_err e = {{0}, {0}};
    char *hash = sp_strdup(F->hash);
    const char *roles[] = {"operator", NULL};
    struct sp_user_new nu = {
        .username = "bob", .password_hash = hash, .active = true, .role_names = roles};
    int64_t bob = 0;
    assert_int_equal(sp_store_user_create(sp_db_thread(), &nu, &bob, &e), SP_OK);
    sp_cache_bump(F->app.cache, SP_GEN_USERS);
    char *access, *refresh;
    issue(bob, &access, &refresh);
    struct sp_principal p;
    assert_int_equal(auth(access, &p), SP_OK);
    assert_true(sp_perms_has(p.perms, SP_RES_RELEASES, SP_ACT_WRITE));

    /* deactivation (the users API bumps the users generation after every write) */
    assert_int_equal(sp_store_user_set_active(sp_db_thread(), bob, false), SP_OK);
    sp_cache_bump(F->app.cache, SP_GEN_USERS);
    assert_int_equal(auth(access, &p), SP_INVALID);
    struct sp_token_info t;
    char *h = sp_asprintf("Bearer %s", refresh);
    assert_int_equal(sp_auth_verify_refresh(&F->app, h, &t, &e), SP_INVALID);

    /* reactivated: the old tokens stay dead (token_epoch moved), new ones work */
    assert_int_equal(sp_store_user_set_active(sp_db_thread(), bob, true), SP_OK);
    sp_cache_bump(F->app.cache, SP_GEN_USERS);
    assert_int_equal(auth(access, &p), SP_INVALID);
    assert_int_equal(sp_auth_verify_refresh(&F->app, h, &t, &e), SP_INVALID);
    sp_free(h);
    sp_free(access);
    sp_free(refresh);
    issue(bob, &access, &refresh);
    assert_int_equal(auth(access, &p), SP_OK);

    /* role changes show in the principal at the next request after the roles bump */
    struct sp_role viewer;
    assert_int_equal(sp_store_role_get_by_name(sp_db_thread(), "viewer", &viewer), SP_OK);
    struct sp_user_patch patch = {.has_roles = true, .role_ids = &viewer.id, .nrole_ids = 1};
    assert_int_equal(sp_store_user_update(sp_db_thread(), bob, &patch, &e), SP_OK);
    sp_cache_bump(F->app.cache, SP_GEN_USERS);
    assert_int_equal(auth(access, &p), SP_OK);
    assert_false(sp_perms_has(p.perms, SP_RES_RELEASES, SP_ACT_WRITE));
    assert_true(sp_perms_has(p.perms, SP_RES_RELEASES, SP_ACT_READ));

    /* "log out everywhere" / password change bump the epoch */
    assert_int_equal(sp_store_user_set_password(sp_db_thread(), bob, hash, true), SP_OK);
    sp_auth_forget_user(bob); /* the other way to drop a cached principal */
    assert_int_equal(auth(access, &p), SP_INVALID);
    sp_free(access);
    sp_free(refresh);
    issue(bob, &access, &refresh);
    assert_int_equal(auth(access, &p), SP_OK);
    assert_int_equal(sp_store_user_revoke_tokens(sp_db_thread(), bob), SP_OK);
    sp_cache_bump(F->app.cache, SP_GEN_USERS);
    assert_int_equal(auth(access, &p), SP_INVALID);
    sp_free(access);
    sp_free(refresh);

    /* deleted user */
    issue(bob, &access, &refresh);
    assert_int_equal(auth(access, &p), SP_OK);
    assert_int_equal(sp_store_user_delete(sp_db_thread(), bob), SP_OK);
    sp_cache_bump(F->app.cache, SP_GEN_USERS);
    assert_int_equal(auth(access, &p), SP_INVALID);
    sp_free(access);
    sp_free(refresh);
    sp_free(hash);
}

static void test_login_limiter(void **state)
{
    (void)state;
    int64_t now = 2000000000;
    for (int i = 0; i < SP_LOGIN_MAX_FAILURES - 1; i++) {
        assert_int_equal(sp_auth_login_blocked("10.0.0.1", "Carol", now), 0);
        sp_auth_login_failed("10.0.0.1", "Carol", now);
    }
    assert_int_equal(sp_auth_login_blocked("10.0.0.1", "carol", now), 0);
    sp_auth_login_failed("10.0.0.1", "CAROL", now); /* names are case-insensitive */
    int wait = sp_auth_login_blocked("10.0.0.1", "carol", now + 10);
    assert_true(wait > 0 && wait <= SP_LOGIN_WINDOW);
    /* per username too: the same name from another address is limited */
    assert_true(sp_auth_login_blocked("10.0.0.2", "carol", now + 10) > 0);
    /* other names are not */
    assert_int_equal(sp_auth_login_blocked("10.0.0.1", "dave", now + 10), 0);
    /* the window ends */
    assert_int_equal(sp_auth_login_blocked("10.0.0.1", "carol", now + SP_LOGIN_WINDOW), 0);

    /* a success forgets the failures of that name */
    for (int i = 0; i < 4; i++)
        sp_auth_login_failed("10.0.0.9", "erin", now);
    sp_auth_login_succeeded("10.0.0.9", "erin");
    for (int i = 0; i < 4; i++)
        sp_auth_login_failed("10.0.0.8", "erin", now);
    assert_int_equal(sp_auth_login_blocked("10.0.0.9", "erin", now), 0);
    sp_auth_login_failed("10.0.0.7", "erin", now);
    assert_true(sp_auth_login_blocked("10.0.0.9", "erin", now) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_issue_then_authenticate), cmocka_unit_test(test_bad_headers),
        cmocka_unit_test(test_refresh_is_not_access),   cmocka_unit_test(test_revoked_jti),
        cmocka_unit_test(test_disabled_user),           cmocka_unit_test(test_login_limiter),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
