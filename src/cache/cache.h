/*
 * cache.h — the response cache: bytes by key with a TTL, plus per-resource generation counters.
 *
 * Keys embed the generation of the resources they depend on, so a write anywhere bumps the
 * counter and every older entry becomes unreachable at once (and ages out). In-process
 * implementation: sharded LRU (cache/memory.c); Redis when SP_REDIS_URL is set (later).
 * A cache failure never fails a request: get returns NULL, put does nothing.
 */
#ifndef SP_CACHE_H
#define SP_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "http/http.h"

enum sp_cache_gen {
    SP_GEN_RELEASES = 0,
    SP_GEN_RULES,
    SP_GEN_USERS,
    SP_GEN_ROLES,
    SP_GEN_JOBS,
    SP_GEN_GROUPS,
    SP_GEN_CONFIG,
    SP_GEN_COUNT
};

struct sp_cache;

struct sp_cache *sp_cache_new(size_t max_bytes);
void sp_cache_free(struct sp_cache *c);
/* A new reference to the cached bytes, or NULL (miss or expired). */
struct sp_shared_bytes *sp_cache_get(struct sp_cache *c, const char *key);
/* Like sp_cache_get but not counted in the hit/miss statistics (health probes). */
struct sp_shared_bytes *sp_cache_probe(struct sp_cache *c, const char *key);
/* Store bytes under key for ttl seconds (a reference is taken). */
void sp_cache_put(struct sp_cache *c, const char *key, struct sp_shared_bytes *b, int ttl);
uint64_t sp_cache_gen(struct sp_cache *c, int gen);
void sp_cache_bump(struct sp_cache *c, int gen);
/* Counters for metrics. */
void sp_cache_stats(struct sp_cache *c, uint64_t *hits, uint64_t *misses);
/* Entries and bytes held right now (metrics, tests). */
void sp_cache_usage(struct sp_cache *c, size_t *entries, size_t *bytes);
/* Replace the clock used for TTLs (milliseconds; default monotonic). For tests. */
void sp_cache_set_clock(struct sp_cache *c, int64_t (*now_ms)(void *arg), void *arg);

#endif
