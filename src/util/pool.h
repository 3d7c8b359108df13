/*
 * pool.h — a bounded worker pool: N threads, a queue of at most `queue_max` tasks.
 * Submitting to a full queue fails at once (the caller answers 503 + Retry-After) instead of
 * growing without bound.
 */
#ifndef SP_POOL_H
#define SP_POOL_H

struct sp_pool;

typedef void (*sp_task_fn)(void *arg);

struct sp_pool *sp_pool_new(const char *name, int threads, int queue_max);
/* SP_OK when queued, SP_AGAIN when the queue is full or the pool is stopping. */
int sp_pool_submit(struct sp_pool *p, sp_task_fn fn, void *arg);
/* Run this pool's tasks at the given nice value (-20..19, clamped; Linux keeps one per thread).
 * Each worker applies it before the next task it takes, so a task already running keeps its
 * priority. Used to put CPU-heavy work (password hashing) below the I/O threads: at nice 19 a
 * waking I/O thread preempts a hashing worker at once, yet the worker still gets a share of a
 * busy CPU (it is not starved as it would be under SCHED_IDLE). */
void sp_pool_set_nice(struct sp_pool *p, int nice);
/* Tasks queued + running right now. */
int sp_pool_depth(struct sp_pool *p);
/* Stop accepting, run what is queued, join the threads, free. */
void sp_pool_free(struct sp_pool *p);

#endif
