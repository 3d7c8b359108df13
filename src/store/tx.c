/* tx.c — step results, composable transactions and LIKE patterns for the store files (see tx.h). */
#include "store/tx.h"

#include "store/db.h"
#include "util/buf.h"

int sp_store_step_rc(int rc)
{
    return rc == SP_AGAIN ? SP_AGAIN : SP_ERR;
}

int sp_store_exec_rc(struct sp_stmt *st)
{
    if (!st)
        return SP_ERR;
    int rc = sp_stmt_exec(st);
    return rc == SP_OK ? SP_OK : rc == SP_CONFLICT ? SP_CONFLICT : sp_store_step_rc(rc);
}

int sp_store_exec_guarded(struct sp_db *db, struct sp_stmt *st)
{
    int rc = sp_store_exec_rc(st);
    if (rc != SP_OK)
        return rc == SP_CONFLICT ? SP_ERR : rc;
    return sp_db_changes(db) == 1 ? SP_OK : SP_CONFLICT;
}

int sp_store_tx_begin(struct sp_db *db, bool *own)
{
    *own = !sp_db_in_transaction(db);
    if (!*own)
        return SP_OK;
    int rc = sp_db_begin(db);
    return rc == SP_OK ? SP_OK : sp_store_step_rc(rc);
}

int sp_store_tx_commit(struct sp_db *db, bool own)
{
    if (!own)
        return SP_OK;
    int rc = sp_db_commit(db);
    return rc == SP_OK ? SP_OK : sp_store_step_rc(rc);
}

void sp_store_tx_rollback(struct sp_db *db, bool own)
{
    if (own)
        sp_db_rollback(db);
}

char *sp_store_like_contains(const char *text)
{
    struct sp_buf b = SP_BUF_INIT;
    sp_buf_putc(&b, '%');
    for (const char *p = text; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '!')
            sp_buf_putc(&b, '!');
        sp_buf_putc(&b, *p);
    }
    sp_buf_putc(&b, '%');
    return sp_buf_steal(&b);
}
