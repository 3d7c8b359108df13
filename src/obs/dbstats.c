/*
 * dbstats.c — the database drivers' metrics hooks (declared in store/db.h).
 *
 * A statement is labelled by its verb and main table ("select releases", "insert jobs",
 * "update users", "begin"), read from the SQL text with a small scanner that skips strings,
 * comments and parenthesised sub-expressions. The label set stays small (verbs × tables) and
 * is capped by metrics.c; no SQL text ever reaches /metrics.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "obs/metrics.h"
#include "store/db.h"

#define WORD_MAX 48

static bool is_word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '$';
}

/* Skip blanks and comments. */
static const char *skip_blank(const char *p)
{
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");
            p = end ? end + 2 : p + strlen(p);
        } else {
            return p;
        }
    }
}

/* Read an identifier or keyword at p (bare, "quoted", `quoted` or [bracketed]) into out,
 * lower-cased when bare; out is "" when none. Returns the position after it. */
static const char *read_word(const char *p, char *out)
{
    size_t n = 0;
    p = skip_blank(p);
    char close = *p == '"' ? '"' : *p == '`' ? '`' : *p == '[' ? ']' : 0;
    if (close) {
        for (p++; *p && *p != close; p++)
            if (n < WORD_MAX - 1 && (is_word_char(*p) || *p == '.'))
                out[n++] = *p;
        if (*p)
            p++;
    } else {
        for (; is_word_char(*p) || (*p == '.' && n > 0); p++)
            if (n < WORD_MAX - 1)
                out[n++] = (char)tolower((unsigned char)*p);
    }
    out[n] = '\0';
    return p;
}

/* Scan forward from p at parenthesis depth 0 for one of the keywords (NULL-terminated list);
 * returns the position after the keyword and sets *which, or NULL at the end of the SQL. */
static const char *find_keyword(const char *p, const char *const *kw, int *which)
{
    int depth = 0;
    char w[WORD_MAX];
    while (*p) {
        p = skip_blank(p);
        char c = *p;
        if (!c)
            break;
        if (c == '\'' || c == '"' || c == '`') { /* literal or quoted name: skip it whole */
            for (p++; *p; p++)
                if (*p == c) {
                    if (p[1] == c) {
                        p++;
                        continue;
                    }
                    break;
                }
            if (*p)
                p++;
        } else if (c == '(') {
            depth++;
            p++;
        } else if (c == ')') {
            depth -= depth > 0;
            p++;
        } else if (is_word_char(c)) {
            p = read_word(p, w);
            if (depth == 0)
                for (int i = 0; kw[i]; i++)
                    if (!strcmp(w, kw[i])) {
                        *which = i;
                        return p;
                    }
        } else {
            p++;
        }
    }
    return NULL;
}

/* The table named after position p ("subquery" for a parenthesised source). */
static void table_after(const char *p, char *table)
{
    p = skip_blank(p);
    if (*p == '(') {
        strcpy(table, "subquery");
        return;
    }
    read_word(p, table);
}

/* Fill label (64 bytes) from SQL text. */
static void statement_label(const char *sql, char *label)
{
    static const char *const from_kw[] = {"from", NULL};
    static const char *const into_kw[] = {"into", NULL};
    static const char *const main_kw[] = {"select", "insert", "replace", "update", "delete", NULL};
    char verb[WORD_MAX], table[WORD_MAX] = "";
    const char *p = read_word(sql ? sql : "", verb);
    int k;

    if (!verb[0]) {
        strcpy(label, "other");
        return;
    }
    if (!strcmp(verb, "with")) { /* common table expressions, then the real statement */
        const char *q = find_keyword(p, main_kw, &k);
        if (!q) {
            strcpy(label, "with");
            return;
        }
        strcpy(verb, main_kw[k]);
        p = q;
    }
    if (!strcmp(verb, "select") || !strcmp(verb, "delete")) {
        const char *q = find_keyword(p, from_kw, &k);
        if (q)
            table_after(q, table);
    } else if (!strcmp(verb, "insert") || !strcmp(verb, "replace")) {
        const char *q = find_keyword(p, into_kw, &k);
        if (q)
            table_after(q, table);
    } else if (!strcmp(verb, "update")) {
        p = read_word(p, table);
        if (!strcmp(table, "or")) { /* UPDATE OR REPLACE t */
            p = read_word(p, table);
            read_word(p, table);
        }
    }
    if (table[0])
        snprintf(label, 64, "%.15s %.47s", verb, table);
    else
        snprintf(label, 64, "%.63s", verb);
}

void sp_dbstats_query(const char *sql, int64_t nanos, int rc)
{
    char label[64];
    statement_label(sql, label);
    sp_metrics_db_observe(label, nanos, !(rc == SP_ERR || rc == SP_AGAIN));
}

void sp_dbstats_connect_error(void)
{
    sp_metrics_db_connection_error();
}
