/*
 * pool.h — a bounded worker pool: N threads, a queue of at most `queue_max` tasks.
 * Submitting to a full queue fails at once (the caller answers 503 + Retry-After) instead of
 * growing without bound.
 */
#ifndef SP_POOL_H
#define SP_POOL_H

struct sp_pool;

typedef void (*sp_task_fn)(void *arg);
typedef void (*sp_idle_fn)(void);

struct sp_pool *sp_pool_new(const char *name, int threads, int queue_max);
/* SP_OK when queued, SP_AGAIN when the queue is full or the pool is stopping. */
int sp_pool_submit(struct sp_pool *p, sp_task_fn fn, void *arg);
/* Run this pool's tasks at the given nice value (-20..19, clamped; Linux keeps one per thread).
 * Each worker applies it before the next task it takes, so a task already running keeps its
 * priority. Used to put CPU-heavy work (password hashing) below the I/O threads: at nice 19 a
 * waking I/O thread preempts a hashing worker at once, yet the worker still gets a share of a
 * busy CPU (it is not starved as it would be under SCHED_IDLE). */
void sp_pool_set_nice(struct sp_pool *p, int nice);
/* Call fn on a worker thread once that worker has run a task and then found nothing to do for
 * idle_ms, and again when the worker thread ends after having run one. For per-thread state worth
 * keeping through a burst and not beyond it (the kdf pool frees argon2's working memory). */
void sp_pool_set_idle(struct sp_pool *p, sp_idle_fn fn, int idle_ms);
/* Have every worker run fn once, when it next has nothing queued (asynchronous: returns at
 * once). For per-thread warm-up, e.g. opening the thread's database connection at start so the
 * first request it serves does not pay for it. */
void sp_pool_each(struct sp_pool *p, sp_idle_fn fn);
/* The idle hook of the pool whose worker calls this; NULL off pool threads. Lets a library keep
 * per-thread state only where something will free it. */
sp_idle_fn sp_pool_current_idle(void);
/* Tasks queued + running right now. */
int sp_pool_depth(struct sp_pool *p);
/* Stop accepting, run what is queued, join the threads, free. */
void sp_pool_free(struct sp_pool *p);

#endif
