/*
 * audit.c — append and read the audit trail (see audit.h).
 */
#include "store/audit.h"

#include <stdio.h>
#include <string.h>

#include "store/db.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/time.h"

/* Copy at most max bytes of s into dst (max + 1 bytes), never splitting a UTF-8 sequence. */
static void cut_copy(char *dst, size_t max, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > max) {
        n = max;
        /* step back over continuation bytes so the cut falls on a character boundary */
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    if (n)
        memcpy(dst, s, n);
    dst[n] = '\0';
}

void sp_audit_entry_set(struct sp_audit_entry *e, const char *username, const char *action,
                        const char *resource, const char *ip, const char *request_id,
                        const char *summary)
{
    cut_copy(e->username, SP_AUDIT_USERNAME_MAX, username);
    cut_copy(e->action, SP_AUDIT_ACTION_MAX, action);
    cut_copy(e->resource, SP_AUDIT_RESOURCE_MAX, resource);
    cut_copy(e->ip, SP_AUDIT_IP_MAX, ip);
    cut_copy(e->request_id, SP_AUDIT_REQUEST_ID_MAX, request_id);
    cut_copy(e->summary, SP_AUDIT_SUMMARY_MAX, summary);
}

static void bind_text_or_null(struct sp_stmt *st, int idx, const char *s)
{
    if (s && *s)
        sp_stmt_bind_text(st, idx, s);
    else
        sp_stmt_bind_null(st, idx);
}

int sp_store_audit_add(struct sp_db *db, const struct sp_audit_entry *e, int64_t *id)
{
    if (!db)
        return SP_ERR;
    if (!e->action[0] || !e->resource[0])
        return SP_INVALID;
    struct sp_stmt *st = sp_db_prepare(
        db, "INSERT INTO audit_log(user_id, username, action, resource, resource_id, ip,"
            " request_id, summary, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st)
        return SP_ERR;
    if (e->user_id > 0)
        sp_stmt_bind_int(st, 1, e->user_id);
    else
        sp_stmt_bind_null(st, 1);
    bind_text_or_null(st, 2, e->username);
    sp_stmt_bind_text(st, 3, e->action);
    sp_stmt_bind_text(st, 4, e->resource);
    if (e->resource_id > 0)
        sp_stmt_bind_int(st, 5, e->resource_id);
    else
        sp_stmt_bind_null(st, 5);
    bind_text_or_null(st, 6, e->ip);
    bind_text_or_null(st, 7, e->request_id);
    sp_stmt_bind_text(st, 8, e->summary);
    sp_stmt_bind_int(st, 9, e->created_at > 0 ? e->created_at : sp_time_now());
    int rc = sp_stmt_exec(st);
    if (rc == SP_OK && id)
        *id = sp_db_last_insert_id(db);
    return rc == SP_CONFLICT ? SP_ERR : rc;
}

/* The WHERE clause for f, with its parameters bound in order by bind_filter(). */
static void where_clause(struct sp_buf *sql, const struct sp_audit_filter *f)
{
    sp_buf_puts(sql, " WHERE 1 = 1");
    if (f->user_id > 0)
        sp_buf_puts(sql, " AND user_id = ?");
    if (f->username && *f->username)
        sp_buf_puts(sql, " AND username = ? COLLATE NOCASE");
    if (f->action && *f->action) {
        size_t n = strlen(f->action);
        if (f->action[n - 1] == '.')
            sp_buf_puts(sql, " AND substr(action, 1, ?) = ?"); /* prefix, no LIKE escapes */
        else
            sp_buf_puts(sql, " AND action = ?");
    }
    if (f->resource && *f->resource)
        sp_buf_puts(sql, " AND resource = ?");
    if (f->resource_id > 0)
        sp_buf_puts(sql, " AND resource_id = ?");
    if (f->since > 0)
        sp_buf_puts(sql, " AND created_at >= ?");
    if (f->until > 0)
        sp_buf_puts(sql, " AND created_at <= ?");
}

static int bind_filter(struct sp_stmt *st, const struct sp_audit_filter *f)
{
    int i = 1;
    if (f->user_id > 0)
        sp_stmt_bind_int(st, i++, f->user_id);
    if (f->username && *f->username)
        sp_stmt_bind_text(st, i++, f->username);
    if (f->action && *f->action) {
        size_t n = strlen(f->action);
        if (f->action[n - 1] == '.')
            sp_stmt_bind_int(st, i++, (int64_t)n);
        sp_stmt_bind_text(st, i++, f->action);
    }
    if (f->resource && *f->resource)
        sp_stmt_bind_text(st, i++, f->resource);
    if (f->resource_id > 0)
        sp_stmt_bind_int(st, i++, f->resource_id);
    if (f->since > 0)
        sp_stmt_bind_int(st, i++, f->since);
    if (f->until > 0)
        sp_stmt_bind_int(st, i++, f->until);
    return i;
}

static void read_entry(struct sp_stmt *st, struct sp_audit_entry *e)
{
    memset(e, 0, sizeof *e);
    e->id = sp_stmt_column_int(st, 0);
    e->user_id = sp_stmt_column_type(st, 1) == SP_COL_NULL ? 0 : sp_stmt_column_int(st, 1);
    e->resource_id = sp_stmt_column_type(st, 5) == SP_COL_NULL ? 0 : sp_stmt_column_int(st, 5);
    e->created_at = sp_stmt_column_int(st, 9);
    sp_audit_entry_set(e, sp_stmt_column_text(st, 2), sp_stmt_column_text(st, 3),
                       sp_stmt_column_text(st, 4), sp_stmt_column_text(st, 6),
                       sp_stmt_column_text(st, 7), sp_stmt_column_text(st, 8));
}

int sp_store_audit_list(struct sp_db *db, const struct sp_audit_filter *f, int64_t page,
                        int64_t per_page, struct sp_audit_entry **out, int *n, int64_t *total)
{
    *out = NULL;
    *n = 0;
    *total = 0;
    if (!db)
        return SP_ERR;
    if (page < 1)
        page = 1;
    if (per_page < 1 || per_page > 100)
        per_page = 20;
    static const struct sp_audit_filter none;
    if (!f)
        f = &none;

    struct sp_buf sql = SP_BUF_INIT;
    struct sp_stmt *st = NULL;
    struct sp_audit_entry *rows = NULL;
    int count = 0, rc;

    sp_buf_puts(&sql, "SELECT COUNT(*) FROM audit_log");
    where_clause(&sql, f);
    st = sp_db_prepare_once(db, sql.data);
    if (!st) {
        rc = SP_ERR;
        goto out;
    }
    bind_filter(st, f);
    rc = sp_stmt_step(st);
    if (rc != SP_ROW)
        goto out;
    *total = sp_stmt_column_int(st, 0);
    sp_stmt_finalize(st);
    st = NULL;

    sp_buf_reset(&sql);
    sp_buf_puts(&sql, "SELECT id, user_id, username, action, resource, resource_id, ip,"
                      " request_id, summary, created_at FROM audit_log");
    where_clause(&sql, f);
    sp_buf_puts(&sql, " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?");
    st = sp_db_prepare_once(db, sql.data);
    if (!st) {
        rc = SP_ERR;
        goto out;
    }
    int i = bind_filter(st, f);
    sp_stmt_bind_int(st, i, per_page);
    sp_stmt_bind_int(st, i + 1, (page - 1) * per_page);
    rows = sp_mallocarray((size_t)per_page, sizeof *rows);
    while ((rc = sp_stmt_step(st)) == SP_ROW && count < per_page)
        read_entry(st, &rows[count++]);
    if (rc == SP_ROW || rc == SP_DONE)
        rc = SP_OK;
out:
    if (st)
        sp_stmt_finalize(st);
    sp_buf_free(&sql);
    if (rc != SP_OK) {
        sp_free(rows);
        *total = 0;
        return rc == SP_ROW || rc == SP_DONE ? SP_ERR : rc;
    }
    if (count == 0) {
        sp_free(rows);
        rows = NULL;
    }
    *out = rows;
    *n = count;
    return SP_OK;
}
