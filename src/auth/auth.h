/*
 * auth.h — tokens and passwords.
 *
 * jwt.c:      HS256 only, claims sub/jti/type/iat/nbf/exp checked; constant-time compare.
 * password.c: argon2id (libsodium crypto_pwhash_str, t>=2, m>=19 MiB). Slow on purpose: call
 *             from the kdf pool (app->kdf_pool), never on an I/O thread.
 * tokens.c:   issue access/refresh pairs, authenticate a Bearer header into a principal
 *             (signature, expiry, type, revocation, user still active, permissions), revoke.
 */
#ifndef SP_AUTH_H
#define SP_AUTH_H

#include <jansson.h>
#include <stdint.h>

#include "http/http.h"
#include "util/common.h"

struct sp_app;

/* Sign claims (borrowed) with HS256. Returns a heap string (caller frees). */
char *sp_jwt_sign(const unsigned char *key, size_t keylen, const json_t *claims);
/* Verify signature, header alg == HS256, nbf/exp against `now`. On SP_OK *claims is a new
 * reference; on SP_INVALID e says why. */
int sp_jwt_verify(const unsigned char *key, size_t keylen, const char *token, int64_t now,
                  json_t **claims, struct sp_err *e);

/* Longest password hashed or verified (bytes); validate new passwords against it (longer ones
 * make sp_password_hash fail and never verify). */
#define SP_PASSWORD_MAX 1024

/* Password hashing (argon2id). hash must hold 128 bytes. SP_OK/SP_ERR. */
int sp_password_hash(const char *password, char *hash, size_t hashlen);
/* 1 when password matches hash; 0 otherwise (including malformed hashes). */
int sp_password_verify(const char *hash, const char *password);

/* Authenticate "Bearer <jwt>" (the Authorization header value, may be NULL) as an access token.
 * SP_OK fills p; SP_INVALID (→ 401) fills e with the reason. */
int sp_auth_authenticate(struct sp_app *app, const char *authorization, struct sp_principal *p,
                         struct sp_err *e);

/* --- limits --- */

/* Longest token accepted (bytes); anything longer is refused before decoding. */
#define SP_JWT_MAX_LEN 4096
/* Longest `jti` accepted (fits struct sp_principal.jti). */
#define SP_JWT_MAX_JTI 47

struct sp_user;

/* --- password.c (more) --- */

/* Verify against a fixed dummy hash and return 0: spends the same time as a real verification,
 * so an unknown username cannot be told from a wrong password by timing. */
int sp_password_verify_dummy(const char *password);
/* Give up the hashing memory this thread kept from its last hash (see password.c): it becomes
 * the process's one spare region when there is none, else it is unmapped. Call on a kdf thread
 * that is going idle or ending (the kdf pool's idle hook); a no-op when nothing is kept. */
void sp_password_trim(void);
/* Unmap the spare region (server shutdown); bytes it holds now (0 = none). */
void sp_password_spare_free(void);
size_t sp_password_spare_bytes(void);
/* Prepare password checks on this thread ahead of the first login: the dummy hash of
 * sp_password_verify_dummy is computed (one argon2id run), and on a kdf worker its memory then
 * becomes the spare region when the worker goes idle. */
void sp_password_warm(void);
/* Remember successful verifications for ttl_seconds (0 = never; the default until called), and
 * forget every one remembered so far. See password.c ("recently verified credentials"). */
void sp_password_cache_init(int ttl_seconds);
/* 1 when sp_password_verify() accepted exactly this password against exactly this stored hash
 * less than the lifetime ago (`now`: sp_time_now()); 0 otherwise. Costs one HMAC, no argon2id. */
int sp_password_recent(const char *hash, const char *password, int64_t now);
/* sp_password_verify() for logins: a credential verified within the lifetime answers at once, and
 * identical verifications running at the same moment share one argon2id run (a failed run is
 * not shared: each wrong guess pays its own). Same result as sp_password_verify(). */
int sp_password_verify_shared(const char *hash, const char *password);

/* --- tokens.c --- */

/* Load the token blocklist from the database (expired rows purged) and set up the in-memory
 * principal cache and revoked-jti set. Idempotent; sp_auth_authenticate() calls it lazily when
 * nobody did. SP_OK, or SP_ERR (database unreachable; e filled). */
int sp_auth_init(struct sp_app *app, struct sp_err *e);
/* Free the in-memory caches (process exit, tests). */
void sp_auth_shutdown(void);

/* Issue an access + refresh pair for u (which must be active):
 * *out = {access_token, refresh_token, token_type:"Bearer", expires_in} (new reference).
 * Claims: sub (id as string), jti (128-bit random hex), type, iat, nbf, exp, te (u->token_epoch).
 * SP_OK or SP_ERR. */
int sp_auth_issue(struct sp_app *app, const struct sp_user *u, json_t **out);

/* What a verified token says. */
struct sp_token_info {
    int64_t user_id;
    char jti[SP_JWT_MAX_JTI + 1];
    int64_t exp;
    int64_t epoch; /* the `te` claim */
};

/* Verify a bare token (no "Bearer ") of the given type ("access"/"refresh"): signature, claims,
 * not revoked, user exists, active and token_epoch unchanged. SP_OK fills t; SP_INVALID (→ 401)
 * fills e; SP_AGAIN/SP_ERR when the database failed. Does no SQL when the user is cached. */
int sp_auth_verify_token(struct sp_app *app, const char *token, const char *type,
                         struct sp_token_info *t, struct sp_err *e);
/* The same for an Authorization header value "Bearer <refresh JWT>". */
int sp_auth_verify_refresh(struct sp_app *app, const char *authorization,
                           struct sp_token_info *t, struct sp_err *e);

/* Revoke a token id until `exp` (written to the token_blocklist table, then the in-memory set).
 * SP_OK when newly revoked; SP_CONFLICT when it already was (a refresh token used twice);
 * SP_ERR when the database write failed (the jti stays revoked in this process). */
int sp_auth_revoke(struct sp_app *app, const char *jti, int64_t exp);
/* True when jti is in the revoked set (memory only; no SQL). */
bool sp_auth_is_revoked(const char *jti);
/* Principals (active, token_epoch, permissions) are cached in memory, tagged with the
 * SP_GEN_USERS / SP_GEN_ROLES generations: code that changes a user, a role or a user's roles
 * must sp_cache_bump() the matching generation (or call this for one user), else the change
 * reaches authentication only when the entry ages out (5 s). */
void sp_auth_forget_user(int64_t user_id);

/* Failed-login limiter (in memory): 5 failures per 15 minutes per (client IP, username) and per
 * username. Successful logins are never counted. */
#define SP_LOGIN_MAX_FAILURES 5
#define SP_LOGIN_WINDOW 900
/* 0 when a login attempt may proceed; otherwise the seconds until it may (for Retry-After). */
int sp_auth_login_blocked(const char *ip, const char *username, int64_t now);
/* Count one failed attempt. */
void sp_auth_login_failed(const char *ip, const char *username, int64_t now);
/* Forget the failures of (ip, username) and of username after a successful login. */
void sp_auth_login_succeeded(const char *ip, const char *username);

#endif
