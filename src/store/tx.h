/*
 * tx.h — what the store files share around a statement: the mapping of step results to return
 * codes, and transactions that compose.
 *
 * Composition: a store function that writes several rows calls sp_store_tx_begin(), which opens
 * a transaction (BEGIN IMMEDIATE) only when none is open on the connection and says so in *own.
 * Commit and rollback then act only when the function owns the transaction; inside a caller's
 * transaction they do nothing and the caller decides the outcome. (store/users.c differs on
 * purpose: it nests a savepoint so a failing call inside a caller's transaction undoes only
 * its own writes.)
 *
 *     bool own;
 *     int rc = sp_store_tx_begin(db, &own);
 *     if (rc != SP_OK)
 *         return rc;
 *     ...writes, `goto fail` on error...
 *     if ((rc = sp_store_tx_commit(db, own)) != SP_OK)
 *         goto fail;
 *     return SP_OK;
 * fail:
 *     sp_store_tx_rollback(db, own);
 *     return rc;
 */
#ifndef SP_STORE_TX_H
#define SP_STORE_TX_H

#include <stdbool.h>

#include "util/common.h"

struct sp_db;
struct sp_stmt;

/* A step or exec result that is neither a row nor done nor SP_OK, as a return code: SP_AGAIN
 * stays SP_AGAIN (busy: the caller may retry), everything else becomes SP_ERR. */
int sp_store_step_rc(int rc);

/* Run a statement that returns no rows (`st` from sp_db_prepare; NULL means the prepare failed).
 * SP_OK, SP_CONFLICT (a constraint: the caller says which), SP_AGAIN, or SP_ERR. */
int sp_store_exec_rc(struct sp_stmt *st);

/* Run a guarded UPDATE (its WHERE clause checks the row is still in the state the caller
 * expects, e.g. a job still leased by this worker): SP_OK when exactly one row changed,
 * SP_CONFLICT when none did (the guard failed), SP_AGAIN or SP_ERR (a constraint failure is
 * SP_ERR here: the guard is the only conflict the caller expects). `st` as for
 * sp_store_exec_rc. */
int sp_store_exec_guarded(struct sp_db *db, struct sp_stmt *st);

/* Open a transaction when none is open on `db`; *own tells whether this call opened it.
 * SP_OK, SP_AGAIN (another connection holds the write lock past the busy timeout), SP_ERR. */
int sp_store_tx_begin(struct sp_db *db, bool *own);

/* Commit when `own`, else nothing (SP_OK). SP_OK, SP_AGAIN or SP_ERR; after a failed commit the
 * transaction is rolled back, so a following sp_store_tx_rollback() is harmless. */
int sp_store_tx_commit(struct sp_db *db, bool own);

/* Roll back when `own`, else nothing (the caller's transaction stays open). */
void sp_store_tx_rollback(struct sp_db *db, bool own);

/* The LIKE pattern "%text%" matching `text` anywhere, with the wildcards '%' and '_' and the
 * escape character itself escaped by '!' (use `LIKE ? ESCAPE '!'`: portable to MariaDB, where a
 * backslash would need escaping differently). Heap string; the caller frees it with sp_free. */
char *sp_store_like_contains(const char *text);

#endif
