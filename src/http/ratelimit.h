/*
 * ratelimit.h — the per-user request budget (SP_RATE_LIMIT_PER_MIN; 0 = off).
 *
 * A sliding one-minute window per user: the previous minute's count weighted by how much of it
 * still overlaps the last 60 seconds, plus this minute's count. Counters live in a fixed
 * open-addressing table of atomics: no lock, no allocation, a few atomic operations per request
 * even when every request comes from the same user (one load-test account). The table holds
 * SP_RATELIMIT_SLOTS users; users idle for two minutes give their slot up, and a user who finds
 * no slot (more active users than slots) is not limited rather than evicting someone.
 *
 * The budget is approximate by at most the number of requests checked at the same instant (the
 * check and the count are two steps), and per process: behind a load balancer each instance
 * counts its own share. The middleware calls it after authentication, for signed-in users
 * only; logins and anonymous requests are never charged.
 */
#ifndef SP_RATELIMIT_H
#define SP_RATELIMIT_H

#include <stdint.h>

#define SP_RATELIMIT_SLOTS 16384

/* Set the budget (requests per minute per user; <= 0 = off) and forget every count. Call before
 * the server runs (not concurrently with sp_ratelimit_check). */
void sp_ratelimit_init(int per_min);

/* The budget in force (0 = off). */
int sp_ratelimit_limit(void);

/* Count one request of user_id at now_ms (wall clock, milliseconds). Returns 0 when it may go
 * on (and it was counted), otherwise the whole seconds (>= 1) after which it would be allowed
 * (for Retry-After; refused requests are not counted). Anonymous (user_id <= 0) → 0. */
int sp_ratelimit_check(int64_t user_id, int64_t now_ms);

#endif
