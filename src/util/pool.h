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
/* Tasks queued + running right now. */
int sp_pool_depth(struct sp_pool *p);
/* Stop accepting, run what is queued, join the threads, free. */
void sp_pool_free(struct sp_pool *p);

#endif
