/*
 * app.h — the process context shared by every request: configuration, database, cache,
 * worker pools, metrics, keys. Created once by `serve` (or a CLI command), read-only after
 * start except for the objects' own internal synchronisation.
 */
#ifndef SP_APP_H
#define SP_APP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "util/common.h"

struct sp_pool;
struct sp_cache;
struct sp_jobs;

struct sp_app {
    struct sp_config cfg;
    struct sp_pool *kdf_pool;   /* password hashing */
    struct sp_cache *cache;     /* response cache + generation counters */
    struct sp_jobs *jobs;       /* the job runner (jobs/runner.h); NULL when not started */
    unsigned char jwt_key[32];
    unsigned char secret_key[32];
    int64_t started_at;
    atomic_int draining;        /* set on SIGTERM */
};

/* Open the database (running migrations and first-start seeding), create pools and cache,
 * load keys. Returns SP_OK or SP_ERR with e filled. */
int sp_app_init(struct sp_app *app, struct sp_err *e);
void sp_app_shutdown(struct sp_app *app);

/* The storage part of sp_app_init for CLI commands that need no server (migrate, user, seed):
 * create the data directories, open the database, migrate, bootstrap (printing a generated
 * admin password once). With `verbose`, each applied migration is printed to stdout.
 * SP_OK or SP_ERR with e filled. Undo with sp_db_global_shutdown(). */
int sp_app_init_store(const struct sp_config *cfg, bool verbose, struct sp_err *e);

#endif
