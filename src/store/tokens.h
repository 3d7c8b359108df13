/*
 * tokens.h — the token blocklist (table token_blocklist): revoked JWT ids kept until the token
 * would have expired anyway. auth/tokens.c mirrors it in memory; these are its only queries.
 */
#ifndef SP_STORE_TOKENS_H
#define SP_STORE_TOKENS_H

#include <stdint.h>

#include "util/common.h"

struct sp_db;

/* Record jti as revoked until expires_at (epoch seconds). SP_OK when inserted, SP_CONFLICT when
 * the jti is already listed, SP_AGAIN (busy) or SP_ERR. */
int sp_store_token_revoke(struct sp_db *db, const char *jti, int64_t expires_at);

/* 1 when jti is listed with expires_at > now, 0 when not, -1 on a database error. */
int sp_store_token_is_revoked(struct sp_db *db, const char *jti, int64_t now);

/* Delete rows whose expires_at <= now. *deleted (may be NULL) receives the count. SP_OK/SP_ERR. */
int sp_store_token_purge(struct sp_db *db, int64_t now, int64_t *deleted);

/* Call fn for every row with expires_at > now (startup load). SP_OK or SP_ERR. */
int sp_store_token_each(struct sp_db *db, int64_t now,
                        void (*fn)(void *arg, const char *jti, int64_t expires_at), void *arg);

#endif
