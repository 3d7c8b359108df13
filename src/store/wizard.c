/* wizard.c — release writes of the wizard steps 4-9 and the release actions (see wizard.h). */
#include "store/wizard.h"

#include <stdio.h>
#include <string.h>

#include "store/db.h"
#include "store/jobs.h"
#include "store/tx.h"

/* Why a guarded UPDATE of release `id` changed nothing: SP_NOTFOUND or SP_CONFLICT (e set). */
static int explain_unchanged(struct sp_db *db, int64_t id, struct sp_err *e)
{
    struct sp_stmt *st = sp_db_prepare(db, "SELECT status FROM releases WHERE id = ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, id);
    int s = sp_stmt_step(st);
    char status[32] = "";
    if (s == SP_ROW)
        snprintf(status, sizeof status, "%s",
                 sp_stmt_column_text(st, 0) ? sp_stmt_column_text(st, 0) : "");
    sp_stmt_reset(st);
    if (s == SP_DONE)
        return SP_NOTFOUND;
    if (s != SP_ROW)
        return sp_store_step_rc(s);
    sp_err_set(e, "status", "release %lld is %s: the wizard only changes drafts", (long long)id,
               status);
    return SP_CONFLICT;
}

/* SP_OK when no job of release `id` is pending or running, else SP_CONFLICT with e. */
static int no_active_job(struct sp_db *db, int64_t id, struct sp_err *e)
{
    int a = sp_store_job_active_for_release(db, id);
    if (a < 0)
        return SP_ERR;
    if (a) {
        sp_err_set(e, "status", "release %lld has a job in progress; wait for it or cancel it",
                   (long long)id);
        return SP_CONFLICT;
    }
    return SP_OK;
}

int sp_store_wizard_save(struct sp_db *db, int64_t id, const struct sp_wizard_save *s, int64_t now,
                         struct sp_err *e)
{
    bool own;
    int rc = sp_store_tx_begin(db, &own);
    if (rc != SP_OK)
        return rc;
    if ((rc = no_active_job(db, id, e)) != SP_OK)
        goto fail;
    struct sp_stmt *st =
        sp_db_prepare(db, "UPDATE releases SET"
                          " file_path = CASE WHEN ? THEN ? ELSE file_path END,"
                          " file_size = CASE WHEN ? THEN ? ELSE file_size END,"
                          " name = CASE WHEN ? THEN ? ELSE name END,"
                          " release_metadata = COALESCE(?, release_metadata),"
                          " config = COALESCE(?, config),"
                          " wizard_step = CASE WHEN ? > 0 THEN ? ELSE wizard_step END,"
                          " updated_at = ? WHERE id = ? AND status IN ('draft', 'failed')");
    if (!st) {
        rc = SP_ERR;
        goto fail;
    }
    sp_stmt_bind_int(st, 1, s->set_file);
    sp_stmt_bind_text(st, 2, s->set_file ? s->file_path : NULL);
    sp_stmt_bind_int(st, 3, s->set_file);
    sp_stmt_bind_int(st, 4, s->set_file && s->file_size > 0 ? s->file_size : 0);
    sp_stmt_bind_int(st, 5, s->set_name);
    sp_stmt_bind_text(st, 6, s->set_name ? s->name : NULL);
    sp_stmt_bind_text(st, 7, s->metadata);
    sp_stmt_bind_text(st, 8, s->config);
    sp_stmt_bind_int(st, 9, s->wizard_step);
    sp_stmt_bind_int(st, 10, s->wizard_step);
    sp_stmt_bind_int(st, 11, now);
    sp_stmt_bind_int(st, 12, id);
    rc = sp_store_exec_rc(st);
    if (rc == SP_CONFLICT) {
        sp_err_set(e, "name", "another release is already named %s", s->name ? s->name : "");
        goto fail;
    }
    if (rc != SP_OK)
        goto fail;
    if (sp_db_changes(db) != 1) {
        rc = explain_unchanged(db, id, e);
        goto fail;
    }
    if ((rc = sp_store_tx_commit(db, own)) != SP_OK)
        goto fail;
    return SP_OK;
fail:
    sp_store_tx_rollback(db, own);
    return rc;
}

int sp_store_wizard_finalize(struct sp_db *db, int64_t id, int64_t user_id, const char *name,
                             const char *config, int64_t now, int64_t *job_id, struct sp_err *e)
{
    bool own;
    int rc = sp_store_tx_begin(db, &own);
    if (rc != SP_OK)
        return rc;
    if ((rc = no_active_job(db, id, e)) != SP_OK)
        goto fail;
    struct sp_stmt *st =
        sp_db_prepare(db, "UPDATE releases SET name = ?, config = COALESCE(?, config),"
                          " status = 'queued', wizard_step = 9, updated_at = ?"
                          " WHERE id = ? AND status IN ('draft', 'failed')");
    if (!st) {
        rc = SP_ERR;
        goto fail;
    }
    sp_stmt_bind_text(st, 1, name);
    sp_stmt_bind_text(st, 2, config);
    sp_stmt_bind_int(st, 3, now);
    sp_stmt_bind_int(st, 4, id);
    rc = sp_store_exec_rc(st);
    if (rc == SP_CONFLICT) {
        sp_err_set(e, "name", "another release is already named %s", name ? name : "");
        goto fail;
    }
    if (rc != SP_OK)
        goto fail;
    if (sp_db_changes(db) != 1) {
        rc = explain_unchanged(db, id, e);
        goto fail;
    }
    if ((rc = sp_store_job_create(db, id, user_id, "package", "{}", now, job_id)) != SP_OK)
        goto fail;
    (void)sp_store_job_log(db, *job_id, "info", "queued by the wizard's finalize step", now);
    if ((rc = sp_store_tx_commit(db, own)) != SP_OK)
        goto fail;
    return SP_OK;
fail:
    sp_store_tx_rollback(db, own);
    return rc;
}

int sp_store_release_derive(struct sp_db *db, const struct sp_release_derive *d, int64_t now,
                            int64_t *release_id, int64_t *job_id, struct sp_err *e)
{
    bool own;
    int rc = sp_store_tx_begin(db, &own);
    if (rc != SP_OK)
        return rc;
    struct sp_stmt *st = sp_db_prepare(
        db, "INSERT INTO releases(name, user_id, group_id, release_type, status,"
            " release_metadata, config, file_path, file_size, rule_id, parent_id, wizard_step,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, 9, ?, ?)");
    if (!st) {
        rc = SP_ERR;
        goto fail;
    }
    sp_stmt_bind_text(st, 1, d->name);
    sp_stmt_bind_int(st, 2, d->user_id);
    sp_stmt_bind_int(st, 3, d->group_id);
    sp_stmt_bind_text(st, 4, d->release_type);
    sp_stmt_bind_text(st, 5, d->metadata ? d->metadata : "{}");
    sp_stmt_bind_text(st, 6, d->config ? d->config : "{}");
    sp_stmt_bind_text(st, 7, d->file_path);
    sp_stmt_bind_int(st, 8, d->file_size);
    if (d->rule_id > 0)
        sp_stmt_bind_int(st, 9, d->rule_id);
    else
        sp_stmt_bind_null(st, 9);
    sp_stmt_bind_int(st, 10, d->parent_id);
    sp_stmt_bind_int(st, 11, now);
    sp_stmt_bind_int(st, 12, now);
    rc = sp_store_exec_rc(st);
    if (rc == SP_CONFLICT) {
        sp_err_set(e, "name", "the release %s already exists", d->name ? d->name : "");
        goto fail;
    }
    if (rc != SP_OK)
        goto fail;
    *release_id = sp_db_last_insert_id(db);
    if ((rc = sp_store_job_create(db, *release_id, d->user_id, d->job_type, d->job_params, now,
                                  job_id)) != SP_OK)
        goto fail;
    char msg[128];
    snprintf(msg, sizeof msg, "queued: %s of release %lld", d->job_type, (long long)d->parent_id);
    (void)sp_store_job_log(db, *job_id, "info", msg, now);
    if ((rc = sp_store_tx_commit(db, own)) != SP_OK)
        goto fail;
    return SP_OK;
fail:
    sp_store_tx_rollback(db, own);
    return rc;
}
