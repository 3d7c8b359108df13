/* releases.c — release queries (see releases.h for the performance notes). */
#include "store/releases.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/db.h"
#include "store/groups.h"
#include "store/rules.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/log.h"

const char *const sp_release_statuses[] = {"draft",     "queued", "processing",
                                           "completed", "failed", NULL};
const char *const sp_release_types[] = {"EBOOK", "AUDIOBOOK", "COMIC", "MAGAZINE", NULL};
const char *const sp_release_sorts[] = {"created_at", "updated_at", "name", "release_type",
                                        "status",     "file_size",  NULL};

bool sp_release_type_supported(const char *type)
{
    return type && strcmp(type, sp_release_types[0]) == 0;
}

int sp_release_status_index(const char *status)
{
    for (int i = 0; status && sp_release_statuses[i]; i++)
        if (strcmp(status, sp_release_statuses[i]) == 0)
            return i;
    return -1;
}

bool sp_release_status_transition_ok(const char *from, const char *to)
{
    /* draft(0) → queued(1) → processing(2) → completed(3) | failed(4) */
    int f = sp_release_status_index(from), t = sp_release_status_index(to);
    if (f < 0 || t < 0)
        return false;
    if (f == 0)
        return t == 1;
    if (f == 1)
        return t == 2;
    if (f == 2)
        return t == 3 || t == 4;
    return false;
}

void sp_release_clear(struct sp_release *r)
{
    if (!r)
        return;
    sp_free(r->name);
    sp_free(r->group);
    sp_free(r->release_type);
    sp_free(r->status);
    sp_free(r->release_metadata);
    sp_free(r->config);
    sp_free(r->file_path);
    memset(r, 0, sizeof *r);
}

void sp_release_list_free(struct sp_release_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        sp_release_clear(&l->items[i]);
    sp_free(l->items);
    memset(l, 0, sizeof *l);
}

/* The row columns every release query selects, in read_row() order. */
#define REL_COLS                                                                                   \
    "r.id, r.name, r.user_id, r.group_id, g.name, r.release_type, r.status, "                      \
    "r.release_metadata, r.config, r.file_path, r.file_size, r.rule_id, r.parent_id, "             \
    "r.wizard_step, r.created_at, r.updated_at"

static char *col_dup(struct sp_stmt *st, int col)
{
    const char *s = sp_stmt_column_text(st, col);
    return s ? sp_strdup(s) : NULL;
}

static char *col_dup_or(struct sp_stmt *st, int col, const char *dflt)
{
    const char *s = sp_stmt_column_text(st, col);
    return sp_strdup(s ? s : dflt);
}

static void read_row(struct sp_stmt *st, struct sp_release *r)
{
    r->id = sp_stmt_column_int(st, 0);
    r->name = col_dup(st, 1);
    r->user_id = sp_stmt_column_int(st, 2);
    r->group_id = sp_stmt_column_int(st, 3);
    r->group = col_dup(st, 4);
    r->release_type = col_dup_or(st, 5, "");
    r->status = col_dup_or(st, 6, "");
    r->release_metadata = col_dup_or(st, 7, "{}");
    r->config = col_dup_or(st, 8, "{}");
    r->file_path = col_dup(st, 9);
    r->file_size = sp_stmt_column_int(st, 10);
    r->rule_id = sp_stmt_column_int(st, 11);
    r->parent_id = sp_stmt_column_int(st, 12);
    r->wizard_step = (int)sp_stmt_column_int(st, 13);
    r->created_at = sp_stmt_column_int(st, 14);
    r->updated_at = sp_stmt_column_int(st, 15);
}

/* A step result that is neither a row nor done, as a return code. */
static int step_rc(int rc)
{
    return rc == SP_AGAIN ? SP_AGAIN : SP_ERR;
}

/* Writers begin their own transaction only when none is open, so callers can compose them. */
static int tx_begin(struct sp_db *db, bool *own)
{
    *own = !sp_db_in_transaction(db);
    if (!*own)
        return SP_OK;
    int rc = sp_db_begin(db);
    return rc == SP_OK ? SP_OK : step_rc(rc);
}

static int tx_commit(struct sp_db *db, bool own)
{
    if (!own)
        return SP_OK;
    int rc = sp_db_commit(db);
    return rc == SP_OK ? SP_OK : step_rc(rc);
}

static void tx_rollback(struct sp_db *db, bool own)
{
    if (own)
        sp_db_rollback(db);
}

/* ---- full-text query ---- */

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Letters and digits in ASCII; any non-ASCII byte may belong to a letter (the tokenizer
 * decides), so it counts too. */
static int has_word_char(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80 || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
            return 1;
    }
    return 0;
}

#define FTS_MAX_TERMS 16
/* A shorter last term is matched whole: a 1-2 character prefix expands to a large part of
 * the vocabulary and would make every keystroke a scan of most of the index. */
#define FTS_MIN_PREFIX_CHARS 3

/* Characters (code points) of UTF-8 text. */
static size_t utf8_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            c++;
    return c;
}

char *sp_release_fts_query(const char *text)
{
    struct sp_buf b = SP_BUF_INIT;
    int nterms = 0;
    size_t last_chars = 0;
    const char *p = text ? text : "";
    while (*p && nterms < FTS_MAX_TERMS) {
        while (*p && is_space((unsigned char)*p))
            p++;
        const char *start = p;
        while (*p && !is_space((unsigned char)*p))
            p++;
        size_t n = (size_t)(p - start);
        if (!n || !has_word_char(start, n))
            continue;
        if (nterms++)
            sp_buf_putc(&b, ' ');
        last_chars = utf8_chars(start, n);
        sp_buf_putc(&b, '"');
        for (size_t i = 0; i < n; i++) {
            if (start[i] == '"')
                sp_buf_putc(&b, '"');
            sp_buf_putc(&b, start[i]);
        }
        sp_buf_putc(&b, '"');
    }
    if (!nterms) {
        sp_buf_free(&b);
        return NULL;
    }
    if (last_chars >= FTS_MIN_PREFIX_CHARS)
        sp_buf_putc(&b, '*'); /* prefix match on the last term: results while the user types */
    return sp_buf_steal(&b);
}

/* ---- list ---- */

enum { F_TYPE = 1, F_STATUS = 2, F_USER = 4, F_GROUP = 8, F_SEARCH = 16, F_ALL = 32 };

/*
 * The list SQL depends on which filters are present and on the sort, so it is built per
 * combination, once per process, and kept (interned) for the process lifetime: the pointer
 * is then a stable key for each connection's prepared-statement cache.
 */
static _Atomic(char *) list_sql_slots[F_ALL * SP_RSORT_COUNT * 2];
static _Atomic(char *) count_sql_slots[F_ALL];

static const char *intern(_Atomic(char *) *slot, char *sql)
{
    char *expected = NULL;
    if (atomic_compare_exchange_strong(slot, &expected, sql))
        return sql;
    sp_free(sql);
    return expected;
}

/* FROM + WHERE of the id query, alias x; placeholders in bind_filters() order.
 * With a group filter (a few thousand rows per group) SQLite must look rows up by the group
 * index, not by status or type (a fifth of the table or more per value); without accurate
 * statistics its planner guessed otherwise (count of group+status: 260 ms instead of 25 ms at
 * 1,000,000 rows), so those terms are then written `+x.col`, which keeps them out of index
 * selection without changing the meaning. A user filter needs no hint: (user_id, status,
 * created_at) serves user+status directly. */
static void append_where(struct sp_buf *b, unsigned flags, bool sqlite)
{
    const char *weak = (sqlite && (flags & F_GROUP)) ? "+" : "";
    if (flags & F_SEARCH)
        sp_buf_puts(b, " FROM releases_fts CROSS JOIN releases x ON x.id = releases_fts.rowid"
                       " WHERE releases_fts MATCH ?");
    else
        sp_buf_puts(b, " FROM releases x WHERE 1 = 1");
    if (flags & F_TYPE)
        sp_buf_printf(b, " AND %sx.release_type = ?", weak);
    if (flags & F_STATUS)
        sp_buf_printf(b, " AND %sx.status = ?", weak);
    if (flags & F_USER)
        sp_buf_puts(b, " AND x.user_id = ?");
    if (flags & F_GROUP)
        sp_buf_puts(b, " AND x.group_id = ?");
}

static const char *list_sql(unsigned flags, int sort, bool desc, bool sqlite)
{
    size_t idx = ((size_t)flags * SP_RSORT_COUNT + (size_t)sort) * 2 + (desc ? 1 : 0);
    char *sql = atomic_load(&list_sql_slots[idx]);
    if (sql)
        return sql;
    const char *col = sp_release_sorts[sort];
    const char *dir = desc ? "DESC" : "ASC";
    struct sp_buf b = SP_BUF_INIT;
    /* The page's ids come from an index (OFFSET skips index entries, not wide rows); the
     * rows are then fetched by id with their group in the same statement. */
    sp_buf_puts(&b, "SELECT " REL_COLS " FROM (SELECT x.id");
    append_where(&b, flags, sqlite);
    sp_buf_printf(&b, " ORDER BY x.%s %s, x.id %s LIMIT ? OFFSET ?) AS pg", col, dir, dir);
    sp_buf_puts(&b, " JOIN releases r ON r.id = pg.id LEFT JOIN groups g ON g.id = r.group_id");
    sp_buf_printf(&b, " ORDER BY r.%s %s, r.id %s", col, dir, dir);
    return intern(&list_sql_slots[idx], sp_buf_steal(&b));
}

static const char *count_sql(unsigned flags, bool sqlite)
{
    char *sql = atomic_load(&count_sql_slots[flags]);
    if (sql)
        return sql;
    struct sp_buf b = SP_BUF_INIT;
    if (flags == F_SEARCH) {
        sp_buf_puts(&b, "SELECT count(*) FROM releases_fts WHERE releases_fts MATCH ?");
    } else {
        sp_buf_puts(&b, "SELECT count(*)");
        append_where(&b, flags, sqlite);
    }
    return intern(&count_sql_slots[flags], sp_buf_steal(&b));
}

static int bind_filters(struct sp_stmt *st, const struct sp_release_query *q, unsigned flags,
                        const char *fts)
{
    int i = 1;
    if (flags & F_SEARCH)
        sp_stmt_bind_text(st, i++, fts);
    if (flags & F_TYPE)
        sp_stmt_bind_text(st, i++, q->release_type);
    if (flags & F_STATUS)
        sp_stmt_bind_text(st, i++, q->status);
    if (flags & F_USER)
        sp_stmt_bind_int(st, i++, q->user_id);
    if (flags & F_GROUP)
        sp_stmt_bind_int(st, i++, q->group_id);
    return i;
}

static int count_rows(struct sp_db *db, const struct sp_release_query *q, unsigned flags,
                      const char *fts, int64_t *total)
{
    struct sp_stmt *st;
    if (!(flags & (F_SEARCH | F_GROUP))) {
        /* Trigger-kept counters: user_id 0 holds everyone's figures. */
        st = sp_db_prepare(db, "SELECT COALESCE(SUM(n), 0) FROM release_counts"
                               " WHERE user_id = ? AND (? IS NULL OR status = ?)"
                               " AND (? IS NULL OR release_type = ?)");
        if (!st)
            return SP_ERR;
        sp_stmt_bind_int(st, 1, (flags & F_USER) ? q->user_id : 0);
        sp_stmt_bind_text(st, 2, (flags & F_STATUS) ? q->status : NULL);
        sp_stmt_bind_text(st, 3, (flags & F_STATUS) ? q->status : NULL);
        sp_stmt_bind_text(st, 4, (flags & F_TYPE) ? q->release_type : NULL);
        sp_stmt_bind_text(st, 5, (flags & F_TYPE) ? q->release_type : NULL);
    } else {
        st = sp_db_prepare(db, count_sql(flags, sp_db_dialect(db) == SP_DIALECT_SQLITE));
        if (!st)
            return SP_ERR;
        bind_filters(st, q, flags, fts);
    }
    int rc = sp_stmt_step(st);
    if (rc != SP_ROW) {
        sp_stmt_reset(st);
        return step_rc(rc);
    }
    *total = sp_stmt_column_int(st, 0);
    if (*total < 0)
        *total = 0;
    sp_stmt_reset(st);
    return SP_OK;
}

int sp_store_release_list(struct sp_db *db, const struct sp_release_query *q,
                          struct sp_release_list *out)
{
    memset(out, 0, sizeof *out);
    char *fts = NULL;
    int rc = SP_OK;
    unsigned flags = 0;
    if (q->release_type)
        flags |= F_TYPE;
    if (q->status)
        flags |= F_STATUS;
    if (q->user_id > 0)
        flags |= F_USER;
    if (q->group_id > 0)
        flags |= F_GROUP;
    if (q->search && *q->search) {
        fts = sp_release_fts_query(q->search);
        if (!fts)
            return SP_OK; /* nothing searchable: no match */
        flags |= F_SEARCH;
    }
    int sort = (q->sort >= 0 && q->sort < SP_RSORT_COUNT) ? q->sort : SP_RSORT_CREATED;
    int64_t per_page = q->per_page > 0 ? q->per_page : 20;
    int64_t page = q->page > 0 ? q->page : 1;
    if (page > INT64_MAX / 2 / per_page)
        page = INT64_MAX / 2 / per_page; /* far past any table: an empty page, no overflow */
    int64_t offset = (page - 1) * per_page;

    struct sp_stmt *st =
        sp_db_prepare(db, list_sql(flags, sort, q->desc, sp_db_dialect(db) == SP_DIALECT_SQLITE));
    if (!st) {
        rc = SP_ERR;
        goto out;
    }
    int i = bind_filters(st, q, flags, fts);
    sp_stmt_bind_int(st, i++, per_page);
    sp_stmt_bind_int(st, i, offset);
    size_t cap = 0;
    int s;
    while ((s = sp_stmt_step(st)) == SP_ROW) {
        if (out->n == cap) {
            cap = cap ? cap * 2 : (size_t)per_page;
            out->items = sp_reallocarray(out->items, cap, sizeof *out->items);
        }
        memset(&out->items[out->n], 0, sizeof out->items[0]);
        read_row(st, &out->items[out->n++]);
    }
    sp_stmt_reset(st);
    if (s != SP_DONE) {
        rc = step_rc(s);
        goto out;
    }
    /* A page that is not full ends the list: the total is known without counting. */
    if ((int64_t)out->n < per_page && (out->n > 0 || offset == 0))
        out->total = offset + (int64_t)out->n;
    else
        rc = count_rows(db, q, flags, fts, &out->total);
out:
    sp_free(fts);
    if (rc != SP_OK)
        sp_release_list_free(out);
    return rc;
}

/* ---- one row ---- */

int sp_store_release_get(struct sp_db *db, int64_t id, struct sp_release *out)
{
    memset(out, 0, sizeof *out);
    struct sp_stmt *st = sp_db_prepare(
        db, "SELECT " REL_COLS " FROM releases r LEFT JOIN groups g ON g.id = r.group_id"
            " WHERE r.id = ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, id);
    int rc = sp_stmt_step(st);
    if (rc == SP_ROW) {
        read_row(st, out);
        rc = SP_OK;
    } else {
        rc = rc == SP_DONE ? SP_NOTFOUND : step_rc(rc);
    }
    sp_stmt_reset(st);
    return rc;
}

/* Merge `patch` into the stored metadata text: keys set, null values remove. Heap result. */
static char *merge_metadata(const char *stored, const json_t *patch)
{
    json_t *cur = stored ? json_loads(stored, 0, NULL) : NULL;
    if (!json_is_object(cur)) {
        json_decref(cur);
        cur = json_object();
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)patch, key, v)
    {
        if (json_is_null(v))
            json_object_del(cur, key);
        else
            json_object_set(cur, key, v);
    }
    char *text = sp_json_dump(cur, NULL);
    json_decref(cur);
    return text;
}

int sp_store_release_update(struct sp_db *db, int64_t id, const struct sp_release_patch *p,
                            int64_t now, struct sp_release *out, struct sp_err *e)
{
    char *metadata = NULL, *config = NULL, *cur_meta = NULL, *cur_status = NULL;
    bool own;
    int rc = tx_begin(db, &own);
    if (rc != SP_OK)
        return rc;

    struct sp_stmt *st =
        sp_db_prepare(db, "SELECT release_metadata, status FROM releases WHERE id = ?");
    if (!st) {
        rc = SP_ERR;
        goto out;
    }
    sp_stmt_bind_int(st, 1, id);
    rc = sp_stmt_step(st);
    if (rc != SP_ROW) {
        rc = rc == SP_DONE ? SP_NOTFOUND : step_rc(rc);
        sp_stmt_reset(st);
        goto out;
    }
    cur_meta = col_dup_or(st, 0, "{}");
    cur_status = col_dup_or(st, 1, "");
    sp_stmt_reset(st);

    const char *status = NULL;
    if (p->status && strcmp(p->status, cur_status) != 0) {
        if (!sp_release_status_transition_ok(cur_status, p->status)) {
            sp_err_set(e, "status", "a release cannot move from %s to %s", cur_status, p->status);
            rc = SP_CONFLICT;
            goto out;
        }
        status = p->status;
    }
    if (p->set_rule && p->rule_id > 0) {
        int ex = sp_store_rule_exists(db, p->rule_id);
        if (ex < 0) {
            rc = SP_ERR;
            goto out;
        }
        if (!ex) {
            sp_err_set(e, "rule_id", "rule %lld does not exist", (long long)p->rule_id);
            rc = SP_INVALID;
            goto out;
        }
    }
    if (p->metadata)
        metadata = merge_metadata(cur_meta, p->metadata);
    if (p->config)
        config = sp_json_dump(p->config, NULL);

    /* The status condition makes the transition atomic even without the write lock
     * (MariaDB); with SQLite the transaction already serialises writers. */
    st = sp_db_prepare(db, "UPDATE releases SET release_metadata = COALESCE(?, release_metadata),"
                           " config = COALESCE(?, config), status = COALESCE(?, status),"
                           " rule_id = CASE WHEN ? THEN ? ELSE rule_id END,"
                           " name = COALESCE(?, name),"
                           " file_path = CASE WHEN ? THEN ? ELSE file_path END,"
                           " file_size = CASE WHEN ? THEN ? ELSE file_size END,"
                           " wizard_step = CASE WHEN ? > 0 THEN ? ELSE wizard_step END,"
                           " updated_at = ? WHERE id = ? AND status = ?");
    if (!st) {
        rc = SP_ERR;
        goto out;
    }
    sp_stmt_bind_text(st, 1, metadata);
    sp_stmt_bind_text(st, 2, config);
    sp_stmt_bind_text(st, 3, status);
    sp_stmt_bind_int(st, 4, p->set_rule ? 1 : 0);
    if (p->set_rule && p->rule_id > 0)
        sp_stmt_bind_int(st, 5, p->rule_id);
    else
        sp_stmt_bind_null(st, 5);
    sp_stmt_bind_text(st, 6, p->name);
    sp_stmt_bind_int(st, 7, p->set_file ? 1 : 0);
    sp_stmt_bind_text(st, 8, p->set_file ? p->file_path : NULL);
    sp_stmt_bind_int(st, 9, p->set_file ? 1 : 0);
    sp_stmt_bind_int(st, 10, p->set_file && p->file_size > 0 ? p->file_size : 0);
    sp_stmt_bind_int(st, 11, p->wizard_step);
    sp_stmt_bind_int(st, 12, p->wizard_step);
    sp_stmt_bind_int(st, 13, now);
    sp_stmt_bind_int(st, 14, id);
    sp_stmt_bind_text(st, 15, cur_status);
    rc = sp_stmt_exec(st);
    if (rc == SP_CONFLICT) {
        sp_err_set(e, "name", "another release is already named %s", p->name ? p->name : "");
        goto out;
    }
    if (rc != SP_OK) {
        rc = rc == SP_AGAIN ? SP_AGAIN : SP_ERR;
        goto out;
    }
    if (status && sp_db_changes(db) != 1) {
        sp_err_set(e, "status", "the release changed meanwhile; reload it and retry");
        rc = SP_CONFLICT;
        goto out;
    }
    rc = tx_commit(db, own);
    if (rc != SP_OK) {
        goto out;
    }
    if (out)
        rc = sp_store_release_get(db, id, out);
    goto out_norollback;
out:
    tx_rollback(db, own);
out_norollback:
    sp_free(metadata);
    sp_free(config);
    sp_free(cur_meta);
    sp_free(cur_status);
    return rc;
}

/* ---- delete ---- */

static int exec_id(struct sp_db *db, const char *sql, int64_t id)
{
    struct sp_stmt *st = sp_db_prepare(db, sql);
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, id);
    int rc = sp_stmt_exec(st);
    return rc == SP_OK ? SP_OK : (rc == SP_AGAIN ? SP_AGAIN : SP_ERR);
}

int sp_store_release_delete(struct sp_db *db, int64_t id, struct sp_release *old, struct sp_err *e)
{
    struct sp_release row = {0};
    bool own;
    int rc = tx_begin(db, &own);
    if (rc != SP_OK)
        return rc;
    rc = sp_store_release_get(db, id, &row);
    if (rc != SP_OK)
        goto fail;

    struct sp_stmt *st = sp_db_prepare(
        db, "SELECT id FROM jobs WHERE release_id = ? AND status = 'running' LIMIT 1");
    if (!st) {
        rc = SP_ERR;
        goto fail;
    }
    sp_stmt_bind_int(st, 1, id);
    int s = sp_stmt_step(st);
    int64_t job = s == SP_ROW ? sp_stmt_column_int(st, 0) : 0;
    sp_stmt_reset(st);
    if (s != SP_ROW && s != SP_DONE) {
        rc = step_rc(s);
        goto fail;
    }
    if (job) {
        sp_err_set(e, "",
                   "release %lld has a running job (%lld); cancel it or wait for it "
                   "to finish",
                   (long long)id, (long long)job);
        rc = SP_CONFLICT;
        goto fail;
    }
    /* Explicit deletes keep the database clean whether or not foreign keys are enforced. */
    static const char *const cleanup[] = {
        "DELETE FROM job_logs WHERE job_id IN (SELECT id FROM jobs WHERE release_id = ?)",
        "DELETE FROM jobs WHERE release_id = ?",
        "DELETE FROM release_files WHERE release_id = ?",
        "UPDATE releases SET parent_id = NULL WHERE parent_id = ?",
        "DELETE FROM releases WHERE id = ?",
    };
    for (size_t i = 0; i < SP_ARRAY_LEN(cleanup); i++) {
        rc = exec_id(db, cleanup[i], id);
        if (rc != SP_OK)
            goto fail;
    }
    rc = tx_commit(db, own);
    if (rc != SP_OK) {
        goto fail;
    }
    if (old)
        *old = row;
    else
        sp_release_clear(&row);
    return SP_OK;
fail:
    tx_rollback(db, own);
    sp_release_clear(&row);
    return rc;
}

/* Remove `name` under directory fd `parent`: a file or symlink is unlinked, a directory is
 * emptied recursively first. Never follows symlinks. 0 or -1 (errno set). */
static int remove_at(int parent, const char *name, int depth)
{
    if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
        return 0;
    if ((errno != EISDIR && errno != EPERM) || depth > 32)
        return -1;
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -1;
    }
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (remove_at(dirfd(d), de->d_name, depth + 1) != 0)
            rc = -1;
    }
    closedir(d);
    if (unlinkat(parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
        rc = -1;
    return rc;
}

static bool safe_component(const char *s)
{
    return s && *s && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 && !strchr(s, '/');
}

int sp_store_release_remove_files(const char *data_dir, const struct sp_release *r)
{
    int rc = SP_OK;
    char real_data[PATH_MAX];
    if (!data_dir || !realpath(data_dir, real_data))
        return SP_OK; /* no data directory: nothing of ours to remove */

    if (safe_component(r->name)) {
        char dir[PATH_MAX];
        int n = snprintf(dir, sizeof dir, "%s/releases", real_data);
        int fd = (n > 0 && (size_t)n < sizeof dir)
                     ? open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                     : -1;
        if (fd >= 0) {
            if (remove_at(fd, r->name, 0) != 0) {
                sp_warn("release files not removed", "%s/%s: %s", dir, r->name, strerror(errno));
                rc = SP_ERR;
            }
            close(fd);
        }
    }

    if (r->file_path && *r->file_path) {
        char joined[PATH_MAX], real_file[PATH_MAX];
        int n = r->file_path[0] == '/'
                    ? snprintf(joined, sizeof joined, "%s", r->file_path)
                    : snprintf(joined, sizeof joined, "%s/%s", real_data, r->file_path);
        size_t dl = strlen(real_data);
        if (n > 0 && (size_t)n < sizeof joined && realpath(joined, real_file) &&
            strncmp(real_file, real_data, dl) == 0 && real_file[dl] == '/') {
            if (unlink(real_file) != 0 && errno != ENOENT) {
                sp_warn("release upload not removed", "%s: %s", real_file, strerror(errno));
                rc = SP_ERR;
            } else {
                /* The per-release upload directory goes too once empty (fails harmlessly
                 * when other files remain or it is the data directory itself). */
                char *slash = strrchr(real_file, '/');
                if (slash && (size_t)(slash - real_file) > dl) {
                    *slash = '\0';
                    (void)rmdir(real_file);
                }
            }
        }
    }
    return rc;
}

/* ---- wizard draft ---- */

int sp_store_release_create_draft(struct sp_db *db, const struct sp_release_draft *d, int64_t now,
                                  int64_t *release_id, bool *group_created, struct sp_err *e)
{
    int64_t group_id = 0, rule_id = d->rule_id;
    bool own;
    int rc = tx_begin(db, &own);
    if (rc != SP_OK)
        return rc;
    rc = sp_store_group_ensure(db, d->group, now, &group_id, group_created);
    if (rc != SP_OK)
        goto fail;
    if (rule_id > 0) {
        int ex = sp_store_rule_exists(db, rule_id);
        if (ex <= 0) {
            if (ex == 0)
                sp_err_set(e, "rule_id", "rule %lld does not exist", (long long)rule_id);
            rc = ex == 0 ? SP_INVALID : SP_ERR;
            goto fail;
        }
    } else {
        rc = sp_store_rule_default(db, "eBOOK", &rule_id);
        if (rc == SP_NOTFOUND)
            rule_id = 0;
        else if (rc != SP_OK)
            goto fail;
    }
    struct sp_stmt *st = sp_db_prepare(
        db, "INSERT INTO releases (user_id, group_id, release_type, status, wizard_step,"
            " rule_id, created_at, updated_at) VALUES (?, ?, ?, 'draft', 3, ?, ?, ?)");
    if (!st) {
        rc = SP_ERR;
        goto fail;
    }
    sp_stmt_bind_int(st, 1, d->user_id);
    sp_stmt_bind_int(st, 2, group_id);
    sp_stmt_bind_text(st, 3, d->release_type);
    if (rule_id > 0)
        sp_stmt_bind_int(st, 4, rule_id);
    else
        sp_stmt_bind_null(st, 4);
    sp_stmt_bind_int(st, 5, now);
    sp_stmt_bind_int(st, 6, now);
    rc = sp_stmt_exec(st);
    if (rc != SP_OK) {
        rc = rc == SP_AGAIN ? SP_AGAIN : SP_ERR;
        goto fail;
    }
    *release_id = sp_db_last_insert_id(db);
    rc = tx_commit(db, own);
    if (rc != SP_OK) {
        goto fail;
    }
    return SP_OK;
fail:
    tx_rollback(db, own);
    return rc;
}
