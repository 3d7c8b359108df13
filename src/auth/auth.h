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

/* Password hashing (argon2id). hash must hold 128 bytes. SP_OK/SP_ERR. */
int sp_password_hash(const char *password, char *hash, size_t hashlen);
/* 1 when password matches hash; 0 otherwise (including malformed hashes). */
int sp_password_verify(const char *hash, const char *password);

/* Authenticate "Bearer <jwt>" (the Authorization header value, may be NULL) as an access token.
 * SP_OK fills p; SP_INVALID (→ 401) fills e with the reason. */
int sp_auth_authenticate(struct sp_app *app, const char *authorization, struct sp_principal *p,
                         struct sp_err *e);

#endif
