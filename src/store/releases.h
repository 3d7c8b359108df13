/*
 * releases.h — release rows: list (filters, sort, full-text search, pagination), get, update
 * (metadata merge, status transitions), delete, and draft creation for the wizard.
 *
 * List queries are built to stay fast at 1,000,000 rows: the page's ids come from a covering
 * index (OFFSET skips index entries, not wide rows), the rows are then fetched by id with the
 * group joined in the same statement, and totals come from the trigger-kept release_counts
 * table whenever the filters allow (no search, no group filter).
 */
#ifndef SP_STORE_RELEASES_H
#define SP_STORE_RELEASES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/common.h"

struct sp_db;

/* Statuses in lifecycle order; NULL-terminated. */
extern const char *const sp_release_statuses[];
#define SP_RELEASE_NSTATUS 5
/* Known release types (NULL-terminated); only sp_release_types[0] ("EBOOK") can be created. */
extern const char *const sp_release_types[];
/* Sort keys accepted by the list (NULL-terminated), index = enum sp_release_sort. */
extern const char *const sp_release_sorts[];

enum sp_release_sort {
    SP_RSORT_CREATED = 0,
    SP_RSORT_UPDATED,
    SP_RSORT_NAME,
    SP_RSORT_TYPE,
    SP_RSORT_STATUS,
    SP_RSORT_SIZE,
    SP_RSORT_COUNT
};

/* 1 when `type` can be created today (EBOOK). */
bool sp_release_type_supported(const char *type);
/* 1 when a release may move from status `from` to `to`: draft→queued→processing→
 * completed|failed. Staying in the same status is not a transition (returns 0). */
bool sp_release_status_transition_ok(const char *from, const char *to);
/* Index of a status in sp_release_statuses, or -1. */
int sp_release_status_index(const char *status);

/* One release row (heap strings owned by the struct; sp_release_clear frees them). */
struct sp_release {
    int64_t id;
    char *name; /* dirname; NULL until known */
    int64_t user_id;
    int64_t group_id;
    char *group; /* group name; NULL if the group row is missing */
    char *release_type;
    char *status;
    char *release_metadata; /* JSON object text */
    char *config;           /* JSON object text */
    char *file_path;        /* NULL when none */
    int64_t file_size;
    int64_t rule_id;   /* 0 = none */
    int64_t parent_id; /* 0 = none */
    int wizard_step;
    int64_t created_at;
    int64_t updated_at;
};

void sp_release_clear(struct sp_release *r);

struct sp_release_query {
    const char *release_type; /* NULL = any */
    const char *status;       /* NULL = any */
    int64_t user_id;          /* 0 = any */
    int64_t group_id;         /* 0 = any */
    const char *search;       /* user text (NULL/empty = none); turned into a safe FTS query */
    int sort;                 /* enum sp_release_sort */
    bool desc;
    int64_t page;     /* >= 1 */
    int64_t per_page; /* 1..100 */
};

struct sp_release_list {
    struct sp_release *items;
    size_t n;
    int64_t total;
    /* total is an estimate (a search with many matches and a full page; see
     * sp_store_release_list), not an exact count */
    bool total_is_estimate;
};

void sp_release_list_free(struct sp_release_list *l);

/*
 * Turn user search text into a safe FTS5 query: each whitespace-separated term becomes a
 * quoted string ("" doubled), the last one a prefix query ("term"*) when it has 3 characters
 * or more; terms without any letter or digit are dropped (at most 16 terms are kept). Returns a
 * heap string (caller frees), or NULL when nothing searchable is left (the search then matches
 * nothing).
 */
char *sp_release_fts_query(const char *text);

/*
 * Fill `out` with one page and the total. SP_OK, or SP_ERR/SP_AGAIN (database).
 *
 * The page and its total are read in one snapshot. Totals are exact, except for a search with
 * more than SP_RELEASE_SEARCH_EXACT matches (or any search with filters and a full page, when its
 * matches were not all seen): then out->total is estimated from the share of matching rows among
 * those walked, and out->total_is_estimate is set. Counting every match of a word found in every
 * release costs 50-120 ms at 1,000,000 rows; the page itself costs well under a millisecond.
 */
#define SP_RELEASE_SEARCH_EXACT 5000
int sp_store_release_list(struct sp_db *db, const struct sp_release_query *q,
                          struct sp_release_list *out);

/* One release by id with its group name: SP_OK (out filled; clear it), SP_NOTFOUND, SP_ERR. */
int sp_store_release_get(struct sp_db *db, int64_t id, struct sp_release *out);

/* A change to a release. NULL / false members are left as they are. */
struct sp_release_patch {
    const json_t *metadata; /* validated object: keys set, null values remove */
    const json_t *config;   /* object replacing config */
    const char *status;     /* new status (must be a legal transition from the current one) */
    bool set_rule;
    int64_t rule_id;  /* with set_rule: 0 = none, else must exist */
    const char *name; /* new dirname (unique: SP_CONFLICT with field "name" if taken) */
    bool set_file;
    const char *file_path; /* with set_file: NULL = none */
    int64_t file_size;     /* with set_file */
    int wizard_step;       /* > 0: new wizard step */
};

/*
 * Apply `p` to release `id` in one transaction (the metadata merge and the status check read
 * the row inside the transaction, so concurrent updates cannot lose fields or skip states).
 * Returns SP_OK (out, if not NULL, filled with the new row), SP_NOTFOUND, SP_CONFLICT
 * (illegal status transition, or the name is taken; e says which), SP_INVALID (rule_id does
 * not exist), SP_AGAIN, SP_ERR.
 */
int sp_store_release_update(struct sp_db *db, int64_t id, const struct sp_release_patch *p,
                            int64_t now, struct sp_release *out, struct sp_err *e);

/*
 * Delete release `id` (with its file rows and jobs) unless one of its jobs is running.
 * SP_OK (old, if not NULL, receives the deleted row so the caller can remove its files),
 * SP_NOTFOUND, SP_CONFLICT (job running; e says so), SP_AGAIN, SP_ERR.
 */
int sp_store_release_delete(struct sp_db *db, int64_t id, struct sp_release *old, struct sp_err *e);

/*
 * Remove a deleted release's files: data_dir/releases/<name>/ (recursively, never following
 * symlinks) and file_path when it lies inside data_dir. Missing files are fine.
 * SP_OK, or SP_ERR when something could not be removed (logged).
 */
int sp_store_release_remove_files(const char *data_dir, const struct sp_release *r);

/* What the wizard's first step creates. */
struct sp_release_draft {
    const char *group;        /* validated group name (sp_group_name_valid) */
    const char *release_type; /* "EBOOK" */
    int64_t rule_id;          /* 0 = newest eBOOK rule (none if there is no rule) */
    int64_t user_id;
};

/*
 * Create a draft release (status draft, wizard_step 3) owned by d->user_id in one short
 * transaction: the group is inserted or selected (race-safe), the rule checked or defaulted.
 * SP_OK (*release_id set; *group_created says whether the group is new), SP_INVALID (rule_id
 * does not exist; e names "rule_id"), SP_AGAIN, SP_ERR.
 */
int sp_store_release_create_draft(struct sp_db *db, const struct sp_release_draft *d, int64_t now,
                                  int64_t *release_id, bool *group_created, struct sp_err *e);

#endif
