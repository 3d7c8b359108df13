/*
 * migrate.h — applies the numbered SQL migrations compiled into the binary (migrations.h),
 * recording each in schema_migrations(version, name, applied_at).
 */
#ifndef SP_STORE_MIGRATE_H
#define SP_STORE_MIGRATE_H

#include "store/migrations.h"
#include "util/common.h"

struct sp_db;

/* Called once per migration just applied. */
typedef void (*sp_migrate_cb)(void *arg, const struct sp_migration *m);

/* Apply every pending migration in version order, each inside its own transaction
 * (BEGIN IMMEDIATE, so concurrent starters serialise and never apply one twice). *applied
 * (may be NULL) receives how many were applied now; 0 when the schema is current.
 * Returns SP_OK, or SP_ERR with e naming the failing migration (that migration is rolled back;
 * the ones before it stay applied). */
int sp_store_migrate(struct sp_db *db, int *applied, struct sp_err *e);
/* The same, calling cb (may be NULL) after each applied migration. */
int sp_store_migrate_cb(struct sp_db *db, int *applied, sp_migrate_cb cb, void *arg,
                        struct sp_err *e);
/* Highest applied version (0 for an empty database). SP_OK / SP_ERR. */
int sp_store_schema_version(struct sp_db *db, int *version);

#endif
