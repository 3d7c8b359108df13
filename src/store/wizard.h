/*
 * wizard.h — the release writes of the wizard's steps 4-9 and of the release actions: saving a
 * step's validated state, queueing a draft for packaging, and creating a derived release
 * (NFOFiX, READNFO, REPACK, DiRFiX) with its packaging job.
 *
 * A draft is only changed while it is a draft (or failed: packing may be retried); the
 * condition is part of each UPDATE, so a step racing a finalize loses cleanly (SP_CONFLICT).
 */
#ifndef SP_STORE_WIZARD_H
#define SP_STORE_WIZARD_H

#include <stdbool.h>
#include <stdint.h>

#include "util/common.h"

struct sp_db;

/* What one step stores. NULL / false members are left unchanged. */
struct sp_wizard_save {
    bool set_file;
    const char *file_path; /* with set_file: NULL = none */
    int64_t file_size;
    bool set_name;
    const char *name;     /* with set_name: the dirname, NULL = unknown */
    const char *metadata; /* JSON object text replacing release_metadata */
    const char *config;   /* JSON object text replacing config */
    int wizard_step;      /* > 0: the new step */
};

/* Apply `s` to release `id` while it is draft or failed and has no pending or running job.
 * SP_OK, SP_NOTFOUND, SP_CONFLICT (not a draft any more, a job is active, or the name is taken:
 * e names "status" or "name"), SP_AGAIN, SP_ERR. */
int sp_store_wizard_save(struct sp_db *db, int64_t id, const struct sp_wizard_save *s, int64_t now,
                         struct sp_err *e);

/* Queue draft (or failed) release `id` for packaging in one transaction: its name becomes
 * `name`, its config `config` (NULL = unchanged), status queued, wizard_step 9, and a pending
 * "package" job owned by user_id is created. SP_OK (*job_id set), SP_NOTFOUND, SP_CONFLICT
 * (not a draft, a job is active, or the name is taken), SP_AGAIN, SP_ERR. */
int sp_store_wizard_finalize(struct sp_db *db, int64_t id, int64_t user_id, const char *name,
                             const char *config, int64_t now, int64_t *job_id, struct sp_err *e);

/* A release derived from a packed one by an action. */
struct sp_release_derive {
    int64_t parent_id;
    int64_t user_id;
    int64_t group_id;
    const char *release_type;
    const char *name; /* the planned dirname (unique) */
    const char *metadata;
    const char *config;
    const char *file_path;
    int64_t file_size;
    int64_t rule_id; /* 0 = none */
    const char *job_type;
    const char *job_params; /* JSON object text */
};

/* Insert the derived release (status queued, wizard_step 9, linked by parent_id) and its
 * pending job in one transaction. SP_OK (*release_id, *job_id set), SP_CONFLICT (the name is
 * taken; e names "name"), SP_AGAIN, SP_ERR. */
int sp_store_release_derive(struct sp_db *db, const struct sp_release_derive *d, int64_t now,
                            int64_t *release_id, int64_t *job_id, struct sp_err *e);

#endif
