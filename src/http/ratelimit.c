/*
 * ratelimit.c — the per-user request budget (see ratelimit.h).
 *
 * One slot per active user in a fixed table, found by hashing the user id and probing a few
 * neighbours. A slot is three atomics: the user id (claimed with a compare-and-swap), the
 * current window packed as (minute << 32 | count) so that rolling over to a new minute and
 * counting are single atomic operations, and the previous minute's count.
 */
#include "http/ratelimit.h"

#include <stdatomic.h>
#include <stddef.h>

#define SLOT_BITS 14
#define PROBES 32

_Static_assert((1u << SLOT_BITS) == SP_RATELIMIT_SLOTS, "slot count is a power of two");

struct slot {
    _Atomic int64_t user_id; /* 0 = free */
    _Atomic uint64_t window; /* minute << 32 | requests counted in that minute */
    _Atomic uint32_t prev;   /* requests counted in the minute before */
};

static struct slot slots[SP_RATELIMIT_SLOTS];
static _Atomic int budget;

void sp_ratelimit_init(int per_min)
{
    for (size_t i = 0; i < SP_RATELIMIT_SLOTS; i++) {
        atomic_store_explicit(&slots[i].user_id, 0, memory_order_relaxed);
        atomic_store_explicit(&slots[i].window, 0, memory_order_relaxed);
        atomic_store_explicit(&slots[i].prev, 0, memory_order_relaxed);
    }
    atomic_store(&budget, per_min > 0 ? per_min : 0);
}

int sp_ratelimit_limit(void)
{
    return atomic_load_explicit(&budget, memory_order_relaxed);
}

/* The slot of user_id, claiming a free or long-idle one; NULL when none is near. A claimed
 * slot needs no reset: its window is at least two minutes old, so the first check rolls it
 * over to (this minute, 0) with nothing carried as the previous minute. */
static struct slot *find(int64_t user_id, uint32_t minute)
{
    uint64_t h = (uint64_t)user_id * 0x9E3779B97F4A7C15ULL;
    size_t i = (size_t)(h >> (64 - SLOT_BITS));
    for (int p = 0; p < PROBES; p++, i = (i + 1) & (SP_RATELIMIT_SLOTS - 1)) {
        struct slot *s = &slots[i];
        int64_t owner = atomic_load_explicit(&s->user_id, memory_order_acquire);
        if (owner == user_id)
            return s;
        if (owner == 0) {
            if (atomic_compare_exchange_strong(&s->user_id, &owner, user_id) || owner == user_id)
                return s;
            continue;
        }
        /* a user idle for two whole minutes has nothing left to count: take the slot over */
        uint32_t last = (uint32_t)(atomic_load_explicit(&s->window, memory_order_relaxed) >> 32);
        if (last + 2 <= minute) {
            if (atomic_compare_exchange_strong(&s->user_id, &owner, user_id) || owner == user_id)
                return s;
        }
    }
    return NULL;
}

/* Seconds until prev * (1 - into') + cur drops below lim (refused requests are not counted). */
static int wait_seconds(uint32_t prev, uint32_t cur, int lim, double into)
{
    double t;
    if (cur < (uint32_t)lim && prev > 0)
        t = 60.0 * (1.0 - (double)(lim - (int)cur) / prev - into);
    else /* this minute alone is full: its end, then until its weight drops enough */
        t = 60.0 * (1.0 - into) + 60.0 * (1.0 - (double)lim / (cur ? cur : 1));
    int s = (int)t + 1;
    return s < 1 ? 1 : s > 120 ? 120 : s;
}

int sp_ratelimit_check(int64_t user_id, int64_t now_ms)
{
    int lim = atomic_load_explicit(&budget, memory_order_relaxed);
    if (lim <= 0 || user_id <= 0 || now_ms < 0)
        return 0;
    uint32_t minute = (uint32_t)(now_ms / 60000);
    double into = (double)(now_ms % 60000) / 60000.0;
    struct slot *s = find(user_id, minute);
    if (!s)
        return 0;
    uint64_t w = atomic_load_explicit(&s->window, memory_order_relaxed);
    while ((uint32_t)(w >> 32) < minute) {
        uint32_t m = (uint32_t)(w >> 32);
        uint64_t fresh = (uint64_t)minute << 32;
        if (atomic_compare_exchange_weak(&s->window, &w, fresh)) {
            atomic_store_explicit(&s->prev, m + 1 == minute ? (uint32_t)w : 0,
                                  memory_order_relaxed);
            w = fresh;
            break;
        }
    }
    uint32_t cur = (uint32_t)w;
    uint32_t prev = atomic_load_explicit(&s->prev, memory_order_relaxed);
    if ((uint32_t)(w >> 32) > minute)
        prev = 0; /* another thread's clock is a minute ahead: count in its window */
    double used = prev * (1.0 - into) + cur;
    if (used >= lim)
        return wait_seconds(prev, cur, lim, into);
    atomic_fetch_add_explicit(&s->window, 1, memory_order_relaxed);
    return 0;
}
