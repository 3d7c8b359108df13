/*
 * audit.h — the audit trail (table audit_log): who did what, when, from where.
 *
 * Rows are appended (one small INSERT through a cached prepared statement) and read back with
 * filters; nothing here updates or deletes a row, and no API route does either. Strings longer
 * than their column limit are cut (at a UTF-8 boundary) rather than refused: an audit row must
 * never make the audited request fail.
 */
#ifndef SP_STORE_AUDIT_H
#define SP_STORE_AUDIT_H

#include <stdint.h>

#include "util/common.h"

struct sp_db;

#define SP_AUDIT_USERNAME_MAX 64
#define SP_AUDIT_ACTION_MAX 64
#define SP_AUDIT_RESOURCE_MAX 32
#define SP_AUDIT_IP_MAX 63
#define SP_AUDIT_REQUEST_ID_MAX 71
#define SP_AUDIT_SUMMARY_MAX 300

struct sp_audit_entry {
    int64_t id;      /* set by the database */
    int64_t user_id; /* 0 = none (unknown user at login, anonymous) */
    char username[SP_AUDIT_USERNAME_MAX + 1];
    char action[SP_AUDIT_ACTION_MAX + 1];     /* "auth.login", "releases.update", ... */
    char resource[SP_AUDIT_RESOURCE_MAX + 1]; /* "auth", "releases", "users", ... */
    int64_t resource_id;                      /* 0 = none */
    char ip[SP_AUDIT_IP_MAX + 1];
    char request_id[SP_AUDIT_REQUEST_ID_MAX + 1];
    char summary[SP_AUDIT_SUMMARY_MAX + 1];
    int64_t created_at; /* epoch seconds; 0 on insert = now */
};

/* Fill the text fields of e from C strings (NULL = ""), cutting each to its limit at a UTF-8
 * character boundary. Other fields are left alone. */
void sp_audit_entry_set(struct sp_audit_entry *e, const char *username, const char *action,
                        const char *resource, const char *ip, const char *request_id,
                        const char *summary);

/* Append one row (created_at 0 = now). *id (may be NULL) receives its id.
 * SP_OK, SP_INVALID (empty action or resource), SP_AGAIN (database busy), SP_ERR. */
int sp_store_audit_add(struct sp_db *db, const struct sp_audit_entry *e, int64_t *id);

/* Filters of sp_store_audit_list; zero / NULL members do not filter. */
struct sp_audit_filter {
    int64_t user_id;
    const char *username; /* exact, case-insensitive */
    const char *action;   /* exact, or a prefix when it ends with '.' ("users.") */
    const char *resource; /* exact */
    int64_t resource_id;
    int64_t since; /* created_at >= since (epoch seconds) */
    int64_t until; /* created_at <= until */
};

/* One page of rows, newest first (created_at DESC, id DESC). page >= 1, per_page 1..100.
 * *out is a heap array of *n entries (sp_free; NULL when *n == 0); *total counts every
 * matching row. SP_OK, SP_AGAIN, SP_ERR. */
int sp_store_audit_list(struct sp_db *db, const struct sp_audit_filter *f, int64_t page,
                        int64_t per_page, struct sp_audit_entry **out, int *n, int64_t *total);

#endif
