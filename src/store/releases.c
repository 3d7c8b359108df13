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
#include "store/tx.h"
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
#define F_FILTERS (F_TYPE | F_STATUS | F_USER | F_GROUP)
/* Internal sort by id alone: what sort_by=release_type|status means when every row asked for
 * has the same value of it (the ties are broken by id), and an order indexes give directly. */
#define SORT_ID SP_RSORT_COUNT
#define NSORTS (SP_RSORT_COUNT + 1)

/*
 * The list SQL depends on which filters are present and on the sort, so it is built per
 * combination, once per process, and kept (interned) for the process lifetime: the pointer
 * is then a stable key for each connection's prepared-statement cache.
 */
static _Atomic(char *) list_sql_slots[F_ALL * NSORTS * 2];
static _Atomic(char *) ids_sql_slots[F_ALL * NSORTS * 2];
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

/* " ORDER BY <alias>.<sort> <dir>, <alias>.id <dir>" */
static void append_order(struct sp_buf *b, const char *alias, int sort, bool desc)
{
    const char *dir = desc ? "DESC" : "ASC";
    sp_buf_puts(b, " ORDER BY ");
    if (sort != SORT_ID)
        sp_buf_printf(b, "%s.%s %s, ", alias, sp_release_sorts[sort], dir);
    sp_buf_printf(b, "%s.id %s", alias, dir);
}

static size_t sql_slot(unsigned flags, int sort, bool desc)
{
    return ((size_t)flags * NSORTS + (size_t)sort) * 2 + (desc ? 1 : 0);
}

/* One page: the page's ids come from an index (OFFSET skips index entries, not wide rows);
 * the rows are then fetched by id with their group in the same statement. */
static const char *list_sql(unsigned flags, int sort, bool desc, bool sqlite)
{
    _Atomic(char *) *slot = &list_sql_slots[sql_slot(flags, sort, desc)];
    char *sql = atomic_load(slot);
    if (sql)
        return sql;
    struct sp_buf b = SP_BUF_INIT;
    sp_buf_puts(&b, "SELECT " REL_COLS " FROM (SELECT x.id");
    append_where(&b, flags, sqlite);
    append_order(&b, "x", sort, desc);
    sp_buf_puts(&b, " LIMIT ? OFFSET ?) AS pg");
    sp_buf_puts(&b, " JOIN releases r ON r.id = pg.id LEFT JOIN groups g ON g.id = r.group_id");
    append_order(&b, "r", sort, desc);
    return intern(slot, sp_buf_steal(&b));
}

/* Every id of a filtered list (no search) in the list's order, read as a stream. */
static const char *ids_sql(unsigned flags, int sort, bool desc, bool sqlite)
{
    _Atomic(char *) *slot = &ids_sql_slots[sql_slot(flags, sort, desc)];
    char *sql = atomic_load(slot);
    if (sql)
        return sql;
    struct sp_buf b = SP_BUF_INIT;
    sp_buf_puts(&b, "SELECT x.id");
    append_where(&b, flags, sqlite);
    append_order(&b, "x", sort, desc);
    return intern(slot, sp_buf_steal(&b));
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

/* Step a one-value statement: SP_OK with *v, or the failure; the statement is reset. */
static int one_int(struct sp_stmt *st, int64_t *v)
{
    int rc = sp_stmt_step(st);
    *v = rc == SP_ROW ? sp_stmt_column_int(st, 0) : 0;
    sp_stmt_reset(st);
    if (*v < 0)
        *v = 0;
    return rc == SP_ROW ? SP_OK : sp_store_step_rc(rc);
}

static const char COUNTER_SQL[] = "SELECT COALESCE(SUM(n), 0) FROM release_counts"
                                  " WHERE user_id = ? AND (? IS NULL OR status = ?)"
                                  " AND (? IS NULL OR release_type = ?)";
static const char STATUSES_SQL[] = "SELECT count(DISTINCT status) FROM release_counts"
                                   " WHERE user_id = ? AND (? IS NULL OR status = ?)"
                                   " AND (? IS NULL OR release_type = ?) AND n > 0";
static const char TYPES_SQL[] = "SELECT count(DISTINCT release_type) FROM release_counts"
                                " WHERE user_id = ? AND (? IS NULL OR status = ?)"
                                " AND (? IS NULL OR release_type = ?) AND n > 0";

/* A figure from the trigger-kept counters (user 0 holds everyone's; NULL = any value). */
static int counter(struct sp_db *db, const char *sql, int64_t user_id, const char *status,
                   const char *type, int64_t *n)
{
    struct sp_stmt *st = sp_db_prepare(db, sql);
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, user_id);
    sp_stmt_bind_text(st, 2, status);
    sp_stmt_bind_text(st, 3, status);
    sp_stmt_bind_text(st, 4, type);
    sp_stmt_bind_text(st, 5, type);
    return one_int(st, n);
}

/* Rows of the list without search (any filters), from the counters or by counting. */
static int count_rows(struct sp_db *db, const struct sp_release_query *q, unsigned flags,
                      const char *fts, int64_t *total)
{
    if (!(flags & (F_SEARCH | F_GROUP)))
        return counter(db, COUNTER_SQL, (flags & F_USER) ? q->user_id : 0,
                       (flags & F_STATUS) ? q->status : NULL,
                       (flags & F_TYPE) ? q->release_type : NULL, total);
    struct sp_stmt *st =
        sp_db_prepare(db, count_sql(flags, sp_db_dialect(db) == SP_DIALECT_SQLITE));
    if (!st)
        return SP_ERR;
    bind_filters(st, q, flags, fts);
    return one_int(st, total);
}

/*
 * Drop what cannot change the answer, judged from the counters (exact within the snapshot the
 * list is read in): a type, status or user filter that every row passing the other filters
 * passes too (release_type=EBOOK while every release is an EBOOK; mine=1 for a user who owns
 * them all), and a sort on type or status when the rows asked for all have the same value of it
 * (the order is then the ids'). Each drop lets a narrower index give the order: 1.3 s → 20 ms
 * for release_type=EBOOK&sort_by=status&page=30000 at 1,000,000 rows. The counters know no
 * groups; a group's lists (a few thousand rows) are left as they are.
 */
static int simplify(struct sp_db *db, const struct sp_release_query *q, unsigned *flags, int *sort)
{
    unsigned f = *flags;
    bool by_type = *sort == SP_RSORT_TYPE, by_status = *sort == SP_RSORT_STATUS;
    if ((f & F_GROUP) || (!(f & (F_TYPE | F_STATUS | F_USER)) && !by_type && !by_status))
        return SP_OK;
    int64_t uid = (f & F_USER) ? q->user_id : 0;
    const char *status = (f & F_STATUS) ? q->status : NULL;
    const char *type = (f & F_TYPE) ? q->release_type : NULL;
    int64_t n = 0, m = 0;
    int rc = counter(db, COUNTER_SQL, uid, status, type, &n);
    if (rc == SP_OK && type && (rc = counter(db, COUNTER_SQL, uid, status, NULL, &m)) == SP_OK &&
        m == n) {
        f &= ~(unsigned)F_TYPE;
        type = NULL;
    }
    if (rc == SP_OK && status && (rc = counter(db, COUNTER_SQL, uid, NULL, type, &m)) == SP_OK &&
        m == n) {
        f &= ~(unsigned)F_STATUS;
        status = NULL;
    }
    if (rc == SP_OK && uid && (rc = counter(db, COUNTER_SQL, 0, status, type, &m)) == SP_OK &&
        m == n) {
        f &= ~(unsigned)F_USER;
        uid = 0;
    }
    if (rc == SP_OK && (by_type || by_status) &&
        (rc = counter(db, by_type ? TYPES_SQL : STATUSES_SQL, uid, status, type, &m)) == SP_OK &&
        m <= 1)
        *sort = SORT_ID;
    if (rc == SP_OK)
        *flags = (*flags & F_SEARCH) | f;
    return rc;
}

/* Append the rows a statement returns to out (cap grows from `hint`). SP_OK or the failure. */
static int read_rows(struct sp_stmt *st, size_t hint, struct sp_release_list *out)
{
    size_t cap = out->n;
    int s;
    while ((s = sp_stmt_step(st)) == SP_ROW) {
        if (out->n == cap) {
            cap = cap ? cap * 2 : (hint ? hint : 16);
            out->items = sp_reallocarray(out->items, cap, sizeof *out->items);
        }
        memset(&out->items[out->n], 0, sizeof out->items[0]);
        read_row(st, &out->items[out->n++]);
    }
    sp_stmt_reset(st);
    return s == SP_DONE ? SP_OK : sp_store_step_rc(s);
}

/* One page through list_sql (an index gives the order; with a search, every match is joined
 * and sorted: the plan for searches with few matches). */
static int page_by_sql(struct sp_db *db, const struct sp_release_query *q, unsigned flags, int sort,
                       const char *fts, int64_t per_page, int64_t offset,
                       struct sp_release_list *out)
{
    struct sp_stmt *st =
        sp_db_prepare(db, list_sql(flags, sort, q->desc, sp_db_dialect(db) == SP_DIALECT_SQLITE));
    if (!st)
        return SP_ERR;
    int i = bind_filters(st, q, flags, fts);
    sp_stmt_bind_int(st, i++, per_page);
    sp_stmt_bind_int(st, i, offset);
    return read_rows(st, (size_t)per_page, out);
}

/* ---- search with many matches ----
 *
 * A word found in most releases ("ebook", "978") matched 1,000,000 rows: joining them all to
 * sort by date took 0.3-1.1 s per page. Instead the filtered list is read in its own order
 * through its index (stream A) and each row is kept when the search matches it. Membership comes
 * from the search's matches read in rowid order (stream B, lazy and cheap with the prefix
 * indexes of migration 0011) as far as the rows being checked require: for the default order
 * (newest first, which follows the ids) both streams advance together and a page of a word found
 * everywhere costs about 40 rows read. For orders unrelated to the ids, when B grows large and
 * few rows are still wanted, a row is checked by asking the search about that one rowid instead
 * (about 0.1 ms each), whichever is expected to cost less. */

static const char FTS_CAPPED_COUNT_SQL[] =
    "SELECT count(*) FROM (SELECT 1 FROM releases_fts WHERE releases_fts MATCH ? LIMIT ?)";
static const char FTS_IDS_DESC_SQL[] =
    "SELECT rowid FROM releases_fts WHERE releases_fts MATCH ? ORDER BY rowid DESC";
static const char FTS_IDS_ASC_SQL[] =
    "SELECT rowid FROM releases_fts WHERE releases_fts MATCH ? ORDER BY rowid ASC";
static const char FTS_PROBE_SQL[] =
    "SELECT 1 FROM releases_fts WHERE releases_fts MATCH ? AND rowid = ?";
/* Rows by id, in the order of the JSON array of ids bound to it. */
static const char ROWS_BY_IDS_SQL[] = "SELECT " REL_COLS " FROM json_each(?) AS j"
                                      " JOIN releases r ON r.id = j.value"
                                      " LEFT JOIN groups g ON g.id = r.group_id ORDER BY j.key";

/* Rough costs (ns, measured at 1,000,000 rows) that choose between the plans. */
#define COST_SORT_NS 2000    /* per match joined and sorted */
#define COST_WALK_NS 400     /* per row of stream A */
#define COST_STREAM_NS 60    /* per match read from stream B */
#define COST_PROBE_NS 100000 /* per single-row search */
#define STREAM_CHECK 50000   /* B matches read before weighing probes (orders unrelated to id) */

struct idvec {
    int64_t *v;
    size_t n, cap;
};

static void idvec_push(struct idvec *a, int64_t id)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 1024;
        a->v = sp_reallocarray(a->v, a->cap, sizeof *a->v);
    }
    a->v[a->n++] = id;
}

/* 1 when id is in a, sorted descending (desc) or ascending. */
static bool idvec_has(const struct idvec *a, int64_t id, bool desc)
{
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t x = a->v[mid];
        if (x == id)
            return true;
        if (desc ? x > id : x < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

struct merge {
    /* in */
    const struct sp_release_query *q;
    unsigned flags; /* without F_SEARCH */
    int sort;
    const char *fts;
    int64_t offset, per_page;
    int64_t scope; /* rows of the filtered list (stream A) */
    /* out */
    int64_t *ids; /* the page, per_page entries */
    size_t n;
    int64_t found, walked;
    bool a_done;
};

/* Is `id` a match, given B read so far? Reads more of B or probes. SP_OK (*hit) or failure. */
static int merge_check(struct sp_db *db, struct merge *m, struct sp_stmt *b, struct idvec *seen,
                       bool *b_done, bool *probing, int64_t id, bool *hit)
{
    bool desc = m->q->desc;
    bool follows_id = m->sort == SP_RSORT_CREATED || m->sort == SORT_ID;
    while (!*b_done && !*probing &&
           (seen->n == 0 || (desc ? seen->v[seen->n - 1] > id : seen->v[seen->n - 1] < id))) {
        if (!follows_id && seen->n >= STREAM_CHECK && seen->n % STREAM_CHECK == 0) {
            /* expected cost of the rows still wanted by probes vs the rest of B */
            double share = m->walked > 1 ? (double)(m->found + 1) / (double)m->walked : 1.0;
            double wanted = (double)(m->offset + m->per_page - m->found);
            double probes = wanted / share * COST_PROBE_NS;
            double rest = (share * (double)m->scope - (double)seen->n) * COST_STREAM_NS;
            if (probes < rest) {
                *probing = true;
                break;
            }
        }
        int t = sp_stmt_step(b);
        if (t == SP_ROW)
            idvec_push(seen, sp_stmt_column_int(b, 0));
        else if (t == SP_DONE)
            *b_done = true;
        else
            return sp_store_step_rc(t);
    }
    int64_t last = seen->n ? seen->v[seen->n - 1] : 0;
    if (*b_done || (seen->n && (desc ? last <= id : last >= id))) {
        *hit = idvec_has(seen, id, desc);
        return SP_OK;
    }
    struct sp_stmt *p = sp_db_prepare(db, FTS_PROBE_SQL);
    if (!p)
        return SP_ERR;
    sp_stmt_bind_text(p, 1, m->fts);
    sp_stmt_bind_int(p, 2, id);
    int t = sp_stmt_step(p);
    sp_stmt_reset(p);
    if (t != SP_ROW && t != SP_DONE)
        return sp_store_step_rc(t);
    *hit = t == SP_ROW;
    return SP_OK;
}

static int merge_run(struct sp_db *db, struct merge *m)
{
    bool sqlite = sp_db_dialect(db) == SP_DIALECT_SQLITE;
    struct sp_stmt *a = sp_db_prepare(db, ids_sql(m->flags, m->sort, m->q->desc, sqlite));
    struct sp_stmt *b =
        a ? sp_db_prepare(db, m->q->desc ? FTS_IDS_DESC_SQL : FTS_IDS_ASC_SQL) : NULL;
    if (!a || !b) {
        sp_stmt_reset(a);
        return SP_ERR;
    }
    bind_filters(a, m->q, m->flags, NULL);
    sp_stmt_bind_text(b, 1, m->fts);
    struct idvec seen = {0};
    bool b_done = false, probing = false;
    int64_t need = m->offset + m->per_page;
    int rc = SP_OK, s = SP_ROW;
    while (m->found < need && (s = sp_stmt_step(a)) == SP_ROW) {
        int64_t id = sp_stmt_column_int(a, 0);
        bool hit = false;
        m->walked++;
        rc = merge_check(db, m, b, &seen, &b_done, &probing, id, &hit);
        if (rc != SP_OK)
            break;
        if (hit) {
            if (m->found >= m->offset)
                m->ids[m->n++] = id;
            m->found++;
        }
    }
    if (rc == SP_OK && s != SP_ROW && s != SP_DONE)
        rc = sp_store_step_rc(s);
    m->a_done = s == SP_DONE;
    sp_stmt_reset(a);
    sp_stmt_reset(b);
    sp_free(seen.v);
    return rc;
}

/* Fetch rows by id (in that order) into out. */
static int rows_by_ids(struct sp_db *db, const int64_t *ids, size_t n, struct sp_release_list *out)
{
    if (!n)
        return SP_OK;
    struct sp_buf b = SP_BUF_INIT;
    sp_buf_reserve(&b, n * 21 + 2);
    sp_buf_putc(&b, '[');
    for (size_t i = 0; i < n; i++)
        sp_buf_printf(&b, i ? ",%lld" : "%lld", (long long)ids[i]);
    sp_buf_putc(&b, ']');
    struct sp_stmt *st = sp_db_prepare(db, ROWS_BY_IDS_SQL);
    int rc = SP_ERR;
    if (st) {
        sp_stmt_bind_text(st, 1, b.data);
        rc = read_rows(st, n, out);
    }
    sp_buf_free(&b);
    return rc;
}

/* ---- long prefixes ----
 *
 * The prefix indexes (migration 0011) cover prefixes of 3 to 8 characters. FTS5 answers a longer
 * prefix ("testgroup"*) by merging the document lists of every word that starts with it into
 * memory before the first row: the cost follows the matching releases (3.8 ms per query for a
 * word in 90,000 releases, against 0.05 ms for the word matched whole), and a search runs its
 * query up to three times (capped count, stream B, probes). Few words start with such a prefix:
 * they are read from the index's vocabulary (migration 0012, one seek each) and the prefix is
 * replaced by their OR, which FTS5 reads lazily like a plain word. Only when the last term is
 * ASCII, whose last word the tokenizer gives exactly (its letters and digits, lowercased), and
 * every word found is ASCII letters and digits; otherwise, or past FTS_MAX_EXPANSIONS words,
 * the prefix query stays as it is (same matches, the old cost). */
#define FTS_INDEXED_PREFIX_MAX 8
#define FTS_MAX_EXPANSIONS 16

static bool ascii_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* *out: the query with its long prefix expanded, or NULL to keep fts as it is. */
static int fts_expand_long_prefix(struct sp_db *db, const char *fts, char **out)
{
    *out = NULL;
    size_t len = strlen(fts);
    if (len < 3 || fts[len - 1] != '*' || fts[len - 2] != '"')
        return SP_OK;
    /* the phrases are "..." separated by one space, quotes inside doubled */
    size_t i = 0, last = 0;
    while (i < len && fts[i] == '"') {
        last = i++;
        while (i < len && !(fts[i] == '"' && fts[i + 1] != '"'))
            i += fts[i] == '"' ? 2 : 1;
        i += 2; /* closing quote and the space (or the '*') */
    }
    const char *body = fts + last + 1;
    size_t blen = len - 2 - (last + 1);
    for (size_t k = 0; k < blen; k++)
        if ((unsigned char)body[k] >= 0x80)
            return SP_OK; /* the tokenizer folds non-ASCII letters: leave it to FTS5 */
    size_t te = blen;
    while (te > 0 && !ascii_alnum((unsigned char)body[te - 1]))
        te--;
    size_t ts = te;
    while (ts > 0 && ascii_alnum((unsigned char)body[ts - 1]))
        ts--;
    size_t tlen = te - ts;
    if (tlen <= FTS_INDEXED_PREFIX_MAX)
        return SP_OK; /* an indexed prefix (or none): already lazy */
    char *word = sp_strndup(body + ts, tlen);
    for (size_t k = 0; k < tlen; k++)
        if (word[k] >= 'A' && word[k] <= 'Z')
            word[k] = (char)(word[k] - 'A' + 'a');

    struct sp_stmt *st =
        sp_db_prepare(db, "SELECT term FROM releases_fts_terms WHERE term >= ? LIMIT 1");
    struct sp_buf q = SP_BUF_INIT, key = SP_BUF_INIT;
    int rc = st ? SP_OK : SP_ERR, n = 0;
    bool keep = false;
    sp_buf_puts(&key, word);
    while (rc == SP_OK) {
        sp_stmt_bind_text(st, 1, key.data);
        int t = sp_stmt_step(st);
        if (t == SP_DONE)
            break;
        if (t != SP_ROW) {
            rc = sp_store_step_rc(t);
            break;
        }
        const char *term = sp_stmt_column_text(st, 0);
        if (!term || strncmp(term, word, tlen) != 0)
            break; /* past the words with this prefix */
        for (const char *c = term; *c; c++)
            if (!ascii_alnum((unsigned char)*c) || (*c >= 'A' && *c <= 'Z'))
                keep = true;
        if (keep || ++n > FTS_MAX_EXPANSIONS) {
            keep = true;
            break;
        }
        sp_buf_puts(&q, n > 1 ? " OR \"" : "(\"");
        sp_buf_append(&q, body, ts);
        sp_buf_puts(&q, term);
        sp_buf_putc(&q, '"');
        sp_buf_reset(&key); /* the next word: just past this one (words hold no control bytes) */
        sp_buf_puts(&key, term);
        sp_buf_putc(&key, '\x01');
        sp_stmt_reset(st);
    }
    sp_stmt_reset(st);
    if (rc == SP_OK && !keep && n > 0) {
        struct sp_buf r = SP_BUF_INIT;
        sp_buf_append(&r, fts, last);
        if (last)
            sp_buf_puts(&r, "AND ");
        sp_buf_append(&r, q.data, q.len);
        sp_buf_putc(&r, ')');
        *out = sp_buf_steal(&r);
    }
    sp_buf_free(&q);
    sp_buf_free(&key);
    sp_free(word);
    return rc;
}

static int search_plan(struct sp_db *db, const struct sp_release_query *q, unsigned flags, int sort,
                       const char *fts, int64_t per_page, int64_t offset,
                       struct sp_release_list *out);

/* A search: the sort plan when the matches are few, else the merge (see above). */
static int search_list(struct sp_db *db, const struct sp_release_query *q, unsigned flags, int sort,
                       const char *fts, int64_t per_page, int64_t offset,
                       struct sp_release_list *out)
{
    char *expanded = NULL;
    int rc = fts_expand_long_prefix(db, fts, &expanded);
    if (rc != SP_OK)
        return rc;
    if (expanded)
        fts = expanded;
    rc = search_plan(db, q, flags, sort, fts, per_page, offset, out);
    sp_free(expanded);
    return rc;
}

/* search_list with the query as FTS5 will run it. */
static int search_plan(struct sp_db *db, const struct sp_release_query *q, unsigned flags, int sort,
                       const char *fts, int64_t per_page, int64_t offset,
                       struct sp_release_list *out)
{
    unsigned filters = flags & F_FILTERS;
    struct sp_stmt *st = sp_db_prepare(db, FTS_CAPPED_COUNT_SQL);
    if (!st)
        return SP_ERR;
    sp_stmt_bind_text(st, 1, fts);
    sp_stmt_bind_int(st, 2, SP_RELEASE_SEARCH_EXACT + 1);
    int64_t matches, all, scope;
    int rc = one_int(st, &matches);
    if (rc != SP_OK)
        return rc;
    if (matches == 0)
        return SP_OK;
    bool exact = matches <= SP_RELEASE_SEARCH_EXACT;
    if ((rc = counter(db, COUNTER_SQL, 0, NULL, NULL, &all)) != SP_OK)
        return rc;
    if (!filters)
        scope = all;
    else if ((rc = count_rows(db, q, filters, NULL, &scope)) != SP_OK)
        return rc;
    /* rows of A to walk for the page, if matches spread evenly (at least the whole share) */
    double share = all > 0 ? (double)matches / (double)all : 1.0;
    if (share > 1.0)
        share = 1.0;
    double walk = (double)(offset + per_page) / share;
    if (walk > (double)scope)
        walk = (double)scope;
    double merge_cost = walk * (COST_WALK_NS + share * COST_STREAM_NS);
    if (exact && (double)matches * COST_SORT_NS <= merge_cost) {
        rc = page_by_sql(db, q, flags, sort, fts, per_page, offset, out);
        if (rc != SP_OK)
            return rc;
        if ((int64_t)out->n < per_page && (out->n > 0 || offset == 0))
            out->total = offset + (int64_t)out->n;
        else if (!filters)
            out->total = matches;
        else
            rc = count_rows(db, q, flags, fts, &out->total);
        return rc;
    }

    struct merge m = {.q = q,
                      .flags = filters,
                      .sort = sort,
                      .fts = fts,
                      .offset = offset,
                      .per_page = per_page,
                      .scope = scope};
    m.ids = sp_mallocarray((size_t)per_page, sizeof *m.ids);
    rc = merge_run(db, &m);
    if (rc == SP_OK)
        rc = rows_by_ids(db, m.ids, m.n, out);
    sp_free(m.ids);
    if (rc != SP_OK)
        return rc;
    if (m.a_done) {
        out->total = m.found; /* every row was seen */
    } else if (!filters && exact) {
        out->total = matches;
    } else {
        double est = (double)scope * (double)m.found / (double)(m.walked ? m.walked : 1);
        int64_t total = (int64_t)(est + 0.5);
        if (!filters && !exact && total <= SP_RELEASE_SEARCH_EXACT)
            total = SP_RELEASE_SEARCH_EXACT + 1; /* the count stopped there: more exist */
        if (exact && total > matches)
            total = matches; /* never more than the search matches */
        if (total < m.found)
            total = m.found;
        out->total = total;
        out->total_is_estimate = true;
    }
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

    /* One snapshot for the page, its total and the counters the plan is chosen from (the
     * plain first-page list needs none: one page query, one counter). */
    bool own = false, snapshot = sp_db_in_transaction(db);
    if (!snapshot && (flags || sort == SP_RSORT_TYPE || sort == SP_RSORT_STATUS)) {
        struct sp_stmt *begin = sp_db_prepare(db, "BEGIN");
        snapshot = own = begin && sp_stmt_exec(begin) == SP_OK;
    }
    if (snapshot && (rc = simplify(db, q, &flags, &sort)) != SP_OK)
        goto out;

    if (flags & F_SEARCH) {
        rc = search_list(db, q, flags, sort, fts, per_page, offset, out);
        goto out;
    }
    rc = page_by_sql(db, q, flags, sort, NULL, per_page, offset, out);
    if (rc != SP_OK)
        goto out;
    /* A page that is not full ends the list: the total is known without counting. */
    if ((int64_t)out->n < per_page && (out->n > 0 || offset == 0))
        out->total = offset + (int64_t)out->n;
    else
        rc = count_rows(db, q, flags, NULL, &out->total);
out:
    if (own && sp_db_commit(db) != SP_OK && rc == SP_OK)
        rc = SP_AGAIN;
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
        rc = rc == SP_DONE ? SP_NOTFOUND : sp_store_step_rc(rc);
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
    int rc = sp_store_tx_begin(db, &own);
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
        rc = rc == SP_DONE ? SP_NOTFOUND : sp_store_step_rc(rc);
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
        rc = sp_store_step_rc(rc);
        goto out;
    }
    if (status && sp_db_changes(db) != 1) {
        sp_err_set(e, "status", "the release changed meanwhile; reload it and retry");
        rc = SP_CONFLICT;
        goto out;
    }
    rc = sp_store_tx_commit(db, own);
    if (rc != SP_OK) {
        goto out;
    }
    if (out)
        rc = sp_store_release_get(db, id, out);
    goto out_norollback;
out:
    sp_store_tx_rollback(db, own);
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
    return rc == SP_OK ? SP_OK : sp_store_step_rc(rc);
}

int sp_store_release_delete(struct sp_db *db, int64_t id, struct sp_release *old, struct sp_err *e)
{
    struct sp_release row = {0};
    bool own;
    int rc = sp_store_tx_begin(db, &own);
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
        rc = sp_store_step_rc(s);
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
    rc = sp_store_tx_commit(db, own);
    if (rc != SP_OK) {
        goto fail;
    }
    if (old)
        *old = row;
    else
        sp_release_clear(&row);
    return SP_OK;
fail:
    sp_store_tx_rollback(db, own);
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
    int rc = sp_store_tx_begin(db, &own);
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
        rc = sp_store_step_rc(rc);
        goto fail;
    }
    *release_id = sp_db_last_insert_id(db);
    rc = sp_store_tx_commit(db, own);
    if (rc != SP_OK) {
        goto fail;
    }
    return SP_OK;
fail:
    sp_store_tx_rollback(db, own);
    return rc;
}
