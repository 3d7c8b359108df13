/*
 * seed.h — load-test data: an account with operator rights and N realistic releases spread
 * over ~200 groups, six book kinds, every status, several languages, sources and years, with
 * packaging jobs for the finished ones. Names follow the dirname shape of PACKAGING.md §3 and
 * are unique (also across repeated runs).
 */
#ifndef SP_STORE_SEED_H
#define SP_STORE_SEED_H

#include <stdbool.h>
#include <stdint.h>

#include "util/common.h"

struct sp_db;

/* Releases at or above which the bulk path is used (when they are also at least half as many
 * as the releases already stored): triggers and secondary indexes of releases and jobs are
 * dropped for the load and rebuilt afterwards, all in one transaction. */
#define SP_SEED_BULK_THRESHOLD 50000

struct sp_seed_opts {
    int64_t releases;          /* how many to add (0 allowed: account only) */
    const char *username;      /* the load-test account (created, or updated when present) */
    const char *password_hash; /* its sp_password_hash() */
    int groups;                /* distinct groups to spread over (0 = 200) */
    uint64_t rng_seed;         /* 0 = fixed default: runs are reproducible */
    int bulk;                  /* -1 auto (see SP_SEED_BULK_THRESHOLD), 0 never, 1 always */
    /* Called every few thousand rows and at the end (may be NULL). */
    void (*progress)(void *arg, int64_t done, int64_t total);
    /* Called when a long step of the bulk path starts ("rebuilding indexes", ...); may be NULL. */
    void (*stage)(void *arg, const char *what);
    void *progress_arg;
};

struct sp_seed_result {
    int64_t user_id;
    bool user_created;         /* false: an existing account was updated */
    int64_t releases;          /* rows added */
    int64_t jobs;              /* rows added */
    int groups;                /* groups used */
    bool bulk;                 /* the bulk path was taken */
    double seconds;
};

/* Seed as described above. Returns SP_OK, SP_INVALID (bad options; e names the field),
 * SP_AGAIN (database busy) or SP_ERR (e filled). On failure nothing of the releases is left
 * half-done: the bulk path is one transaction; the trigger path commits in batches of whole
 * releases (every committed release is complete with its counters and search entry). */
int sp_store_seed(struct sp_db *db, const struct sp_seed_opts *o, struct sp_seed_result *r,
                  struct sp_err *e);

#endif
