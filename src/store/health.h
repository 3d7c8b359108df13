/*
 * health.h — the database part of the readiness check: a real query on the caller's
 * connection, plus the job queue figures.
 */
#ifndef SP_STORE_HEALTH_H
#define SP_STORE_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "util/common.h"

struct sp_db;

struct sp_health_db {
    bool ok;
    double latency_ms;
    int64_t jobs_running;
    int64_t jobs_pending;
    char error[160]; /* when !ok */
};

/* Run the check on db (may be NULL: reported as not ok). Always fills out; returns SP_OK when
 * the database answered, SP_ERR otherwise. */
int sp_store_health_check(struct sp_db *db, struct sp_health_db *out);

#endif
