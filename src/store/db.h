/*
 * db.h — the database driver interface. The only way SQL reaches a database.
 *
 * Queries are written once against this interface in the store/ sources, with `?` placeholders
 * (both SQLite and MariaDB accept them). Where the dialects differ (full-text search,
 * upsert, locking), store code asks sp_db_dialect() and picks the variant; nothing outside
 * store/ ever sees SQL.
 *
 * Threads: a struct sp_db is one connection used by one thread at a time. sp_db_thread()
 * gives the calling thread its own connection, opened lazily and kept for the thread's life,
 * with its prepared statements cached by SQL text pointer (pass string literals).
 */
#ifndef SP_DB_H
#define SP_DB_H

#include <stddef.h>
#include <stdint.h>

#include "util/common.h"

struct sp_db;
struct sp_stmt;

enum sp_db_dialect { SP_DIALECT_SQLITE = 1, SP_DIALECT_MARIADB = 2 };

/* Step results (besides SP_ERR / SP_CONFLICT / SP_AGAIN from common.h). */
enum { SP_ROW = 100, SP_DONE = 101 };

/* Column types as reported by sp_stmt_column_type(). */
enum { SP_COL_NULL = 0, SP_COL_INT, SP_COL_FLOAT, SP_COL_TEXT, SP_COL_BLOB };

/* Process-wide setup from a URL ("sqlite:///abs/path.db", "sqlite://relative.db", or a plain
 * path). Returns SP_OK or SP_ERR with a message in e. Must be called once before
 * sp_db_thread(). */
int sp_db_global_init(const char *url, struct sp_err *e);
void sp_db_global_shutdown(void);
/*
 * Move WAL checkpoints off the committing threads: connections opened after this call no longer
 * checkpoint inside their commits; a background thread does (when the WAL passes 1000 pages, or
 * each second while it holds anything), without blocking readers or writers. For the server,
 * whose I/O threads write; after sp_db_global_init. sp_db_checkpoints_stop() joins the thread
 * (call it before sp_db_global_shutdown). Both are no-ops when there is nothing to do.
 */
void sp_db_checkpoints_start(void);
void sp_db_checkpoints_stop(void);

/* This thread's connection (opened on first use; NULL with a log line when it cannot be). */
struct sp_db *sp_db_thread(void);
/* Close this thread's connection (call from threads that exit). */
void sp_db_thread_close(void);
/* A fresh private connection (CLI tools, tests); close with sp_db_close(). */
struct sp_db *sp_db_open(const char *url, struct sp_err *e);
void sp_db_close(struct sp_db *db);

int sp_db_dialect(struct sp_db *db);

/* A cached prepared statement for `sql` (keyed by the pointer: pass a literal). It is reset and
 * its bindings cleared; NULL on a syntax error (logged). Do not finalize it. */
struct sp_stmt *sp_db_prepare(struct sp_db *db, const char *sql);
/* An uncached statement for dynamically built SQL; sp_stmt_finalize() it. */
struct sp_stmt *sp_db_prepare_once(struct sp_db *db, const char *sql);
void sp_stmt_finalize(struct sp_stmt *st);
/* Resets a cached statement (done automatically by sp_db_prepare; call to release locks early). */
void sp_stmt_reset(struct sp_stmt *st);

/* Binding; idx is 1-based. Text is copied. */
void sp_stmt_bind_int(struct sp_stmt *st, int idx, int64_t v);
void sp_stmt_bind_double(struct sp_stmt *st, int idx, double v);
void sp_stmt_bind_text(struct sp_stmt *st, int idx, const char *s); /* NULL → SQL NULL */
void sp_stmt_bind_blob(struct sp_stmt *st, int idx, const void *p, size_t n);
void sp_stmt_bind_null(struct sp_stmt *st, int idx);

/* SP_ROW, SP_DONE, SP_CONFLICT (constraint violation), SP_AGAIN (busy/locked after the busy
 * timeout), or SP_ERR (logged; includes disk full / I/O errors). */
int sp_stmt_step(struct sp_stmt *st);
/* Step to completion for statements that return no rows: SP_OK or an error code as above. */
int sp_stmt_exec(struct sp_stmt *st);

int sp_stmt_column_count(struct sp_stmt *st);
int sp_stmt_column_type(struct sp_stmt *st, int col); /* 0-based */
int64_t sp_stmt_column_int(struct sp_stmt *st, int col);
double sp_stmt_column_double(struct sp_stmt *st, int col);
const char *sp_stmt_column_text(struct sp_stmt *st, int col); /* NULL for SQL NULL */
const void *sp_stmt_column_blob(struct sp_stmt *st, int col, size_t *len);
const char *sp_stmt_column_name(struct sp_stmt *st, int col);

/* Run SQL text with no parameters (may hold several statements; migrations). */
int sp_db_exec(struct sp_db *db, const char *sql, struct sp_err *e);

/* Transactions: sp_db_begin takes the write lock up front (SQLite BEGIN IMMEDIATE). */
int sp_db_begin(struct sp_db *db);
int sp_db_commit(struct sp_db *db);
void sp_db_rollback(struct sp_db *db);
/* True while a transaction is open on this connection (store functions that write several rows
 * begin their own transaction only when none is open). */
bool sp_db_in_transaction(struct sp_db *db);
/* How long a statement waits for another connection's lock before SP_AGAIN (default 5000 ms). */
void sp_db_set_busy_timeout(struct sp_db *db, int ms);
/* Call when a unit of work ends (e.g. after each request): a cached SELECT left mid-iteration
 * (stepped to SP_ROW, never reset) keeps a read snapshot open, so the connection would keep
 * reading stale data and the WAL could not be checkpointed. This resets such statements
 * (O(1) when there are none) and returns how many it reset (each is logged at debug level). */
int sp_db_idle(struct sp_db *db);

int64_t sp_db_last_insert_id(struct sp_db *db);
int64_t sp_db_changes(struct sp_db *db);
/* Last error message of this connection (for logs). */
const char *sp_db_errmsg(struct sp_db *db);

/* Query counters for metrics: total statements stepped and total time, this process. */
void sp_db_stats(uint64_t *queries, uint64_t *errors, uint64_t *nanos);
/* Memory the database library holds in this process (page caches, prepared statements, schema)
 * in bytes, now and at its highest; SP_OK, or SP_ERR when the driver cannot tell. */
int sp_db_memory(int64_t *used, int64_t *highest);

/* Per-statement metrics hooks, implemented in obs/dbstats.c; the drivers call them.
 * sp_dbstats_query: one execution of `sql` finished (call when a statement reaches SP_DONE or
 * fails, or is reset/finalized after its last wanted row) having spent `nanos` stepping; `rc`
 * is its last step result (SP_ROW/SP_DONE/SP_OK = success, SP_CONFLICT = constraint, counted as
 * success; SP_AGAIN/SP_ERR = failure). The label (e.g. "select releases") is derived from the
 * SQL text; lock-free, cheap enough for every statement.
 * sp_dbstats_connect_error: opening a connection (or reconnecting) failed. */
void sp_dbstats_query(const char *sql, int64_t nanos, int rc);
void sp_dbstats_connect_error(void);

#endif
