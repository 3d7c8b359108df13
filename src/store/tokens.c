/*
 * tokens.c — token_blocklist queries (see tokens.h).
 */
#include "store/tokens.h"
#include "store/db.h"

int sp_store_token_revoke(struct sp_db *db, const char *jti, int64_t expires_at)
{
    struct sp_stmt *st =
        sp_db_prepare(db, "INSERT INTO token_blocklist (jti, expires_at) VALUES (?, ?)");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_text(st, 1, jti);
    sp_stmt_bind_int(st, 2, expires_at);
    return sp_stmt_exec(st);
}

int sp_store_token_is_revoked(struct sp_db *db, const char *jti, int64_t now)
{
    struct sp_stmt *st =
        sp_db_prepare(db, "SELECT 1 FROM token_blocklist WHERE jti = ? AND expires_at > ?");
    if (!st)
        return -1;
    sp_stmt_bind_text(st, 1, jti);
    sp_stmt_bind_int(st, 2, now);
    int rc = sp_stmt_step(st);
    sp_stmt_reset(st);
    return rc == SP_ROW ? 1 : rc == SP_DONE ? 0 : -1;
}

int sp_store_token_purge(struct sp_db *db, int64_t now, int64_t *deleted)
{
    struct sp_stmt *st = sp_db_prepare(db, "DELETE FROM token_blocklist WHERE expires_at <= ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, now);
    int rc = sp_stmt_exec(st);
    if (deleted)
        *deleted = rc == SP_OK ? sp_db_changes(db) : 0;
    return rc;
}

int sp_store_token_each(struct sp_db *db, int64_t now,
                        void (*fn)(void *arg, const char *jti, int64_t expires_at), void *arg)
{
    struct sp_stmt *st =
        sp_db_prepare(db, "SELECT jti, expires_at FROM token_blocklist WHERE expires_at > ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, now);
    int rc;
    while ((rc = sp_stmt_step(st)) == SP_ROW) {
        const char *jti = sp_stmt_column_text(st, 0);
        if (jti)
            fn(arg, jti, sp_stmt_column_int(st, 1));
    }
    sp_stmt_reset(st);
    return rc == SP_DONE ? SP_OK : SP_ERR;
}
