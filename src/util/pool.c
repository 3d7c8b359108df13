/*
 * pool.c — fixed threads taking tasks from a bounded ring under one mutex + condition variable.
 *
 * A full ring refuses at once (SP_AGAIN): the caller answers 503 + Retry-After instead of
 * letting a queue grow without bound. Freeing the pool stops intake, runs what was queued and
 * joins the threads, so every accepted task runs exactly once.
 */
#include "util/pool.h"

#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/common.h"
#include "util/log.h"

struct task {
    sp_task_fn fn;
    void *arg;
};

struct sp_pool {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct task *ring;
    int cap, head, count; /* queued tasks: ring[head .. head+count) mod cap */
    int running;          /* tasks being run right now */
    int stopping;
    int nthreads;
    pthread_t *threads;
    int nice;     /* wanted nice value of the workers */
    int nice_gen; /* bumped by sp_pool_set_nice; each worker applies it before its next task */
    sp_idle_fn idle; /* run by a worker idle for idle_ms after a task (sp_pool_set_idle) */
    sp_idle_fn each; /* run once by every worker (sp_pool_each) ... */
    int each_gen;    /* ... when its own generation differs from this */
    int idle_ms;
    char name[32];
};

/* Give the calling thread (only it: Linux keeps a nice value per thread) the nice value. */
static void apply_nice(const char *pool, int nice)
{
    if (setpriority(PRIO_PROCESS, (id_t)gettid(), nice) != 0)
        sp_warn("pool priority", "%s: cannot set nice %d: %s", pool, nice, strerror(errno));
}

static _Thread_local struct sp_pool *current_pool; /* the pool this thread works for */

sp_idle_fn sp_pool_current_idle(void)
{
    struct sp_pool *p = current_pool;
    if (!p)
        return NULL;
    pthread_mutex_lock(&p->lock);
    sp_idle_fn fn = p->idle;
    pthread_mutex_unlock(&p->lock);
    return fn;
}

static void *worker(void *arg)
{
    struct sp_pool *p = arg;
    current_pool = p;
    int nice_gen = 0;
    bool worked = false; /* a task ran since this worker last called the idle hook */
    int each_gen = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->count == 0 && !p->stopping) {
            if (each_gen != p->each_gen) {
                each_gen = p->each_gen;
                sp_idle_fn fn = p->each;
                pthread_mutex_unlock(&p->lock);
                fn();
                pthread_mutex_lock(&p->lock);
                continue;
            }
            if (!worked || !p->idle) {
                pthread_cond_wait(&p->wake, &p->lock);
                continue;
            }
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_sec += p->idle_ms / 1000;
            until.tv_nsec += (long)(p->idle_ms % 1000) * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            if (pthread_cond_timedwait(&p->wake, &p->lock, &until) == ETIMEDOUT &&
                p->count == 0) {
                sp_idle_fn fn = p->idle;
                pthread_mutex_unlock(&p->lock);
                fn();
                pthread_mutex_lock(&p->lock);
                worked = false;
            }
        }
        if (p->count == 0) /* stopping and drained */
            break;
        /* FIFO: the oldest queued task first, so a burst is served in arrival order */
        struct task t = p->ring[p->head];
        p->head = (p->head + 1) % p->cap;
        p->count--;
        p->running++;
        int want_gen = p->nice_gen, want_nice = p->nice;
        pthread_mutex_unlock(&p->lock);
        if (want_gen != nice_gen) {
            apply_nice(p->name, want_nice);
            nice_gen = want_gen;
        }
        t.fn(t.arg);
        worked = true;
        pthread_mutex_lock(&p->lock);
        p->running--;
    }
    sp_idle_fn fn = worked ? p->idle : NULL;
    pthread_mutex_unlock(&p->lock);
    if (fn)
        fn(); /* the thread ends: let the hook free what it kept for it */
    return NULL;
}

struct sp_pool *sp_pool_new(const char *name, int threads, int queue_max)
{
    struct sp_pool *p = sp_calloc(1, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name ? name : "pool");
    p->cap = queue_max > 0 ? queue_max : 1;
    p->ring = sp_calloc((size_t)p->cap, sizeof *p->ring);
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* idle waits must not follow clock jumps */
    pthread_cond_init(&p->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (threads < 1)
        threads = 1;
    p->threads = sp_calloc((size_t)threads, sizeof *p->threads);
    for (int i = 0; i < threads; i++) {
        int rc = pthread_create(&p->threads[i], NULL, worker, p);
        if (rc != 0) {
            sp_error("pool thread", "%s: cannot start thread %d: %s", p->name, i, strerror(rc));
            break;
        }
        char tname[32];
        snprintf(tname, sizeof tname, "%.10s-%d", p->name, i % 1000);
        tname[15] = '\0'; /* the kernel's limit */
        pthread_setname_np(p->threads[i], tname);
        p->nthreads++;
    }
    if (p->nthreads == 0) {
        /* without a thread nothing would ever run: refuse every submit instead */
        p->stopping = 1;
    }
    return p;
}

int sp_pool_submit(struct sp_pool *p, sp_task_fn fn, void *arg)
{
    pthread_mutex_lock(&p->lock);
    if (p->stopping || p->count == p->cap) {
        pthread_mutex_unlock(&p->lock);
        return SP_AGAIN;
    }
    p->ring[(p->head + p->count) % p->cap] = (struct task){fn, arg};
    p->count++;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    return SP_OK;
}

void sp_pool_set_nice(struct sp_pool *p, int nice)
{
    if (!p)
        return;
    if (nice < -20)
        nice = -20;
    if (nice > 19)
        nice = 19;
    pthread_mutex_lock(&p->lock);
    p->nice = nice;
    p->nice_gen++;
    pthread_mutex_unlock(&p->lock);
}

void sp_pool_set_idle(struct sp_pool *p, sp_idle_fn fn, int idle_ms)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->idle = fn;
    p->idle_ms = idle_ms > 0 ? idle_ms : 1;
    pthread_mutex_unlock(&p->lock);
}

void sp_pool_each(struct sp_pool *p, sp_idle_fn fn)
{
    if (!p || !fn)
        return;
    pthread_mutex_lock(&p->lock);
    p->each = fn;
    p->each_gen++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
}

int sp_pool_depth(struct sp_pool *p)
{
    pthread_mutex_lock(&p->lock);
    int n = p->count + p->running;
    pthread_mutex_unlock(&p->lock);
    return n;
}

void sp_pool_free(struct sp_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    sp_free(p->threads);
    sp_free(p->ring);
    sp_free(p);
}
