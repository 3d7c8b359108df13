/*
 * server.c — libmicrohttpd wiring: daemon options, the per-request state, body reading with a
 * cap, queuing struct sp_response, suspend/resume, graceful drain.
 *
 * Per-request state: one struct conn_state per request, taken from a per-thread free list (no
 * malloc in steady state) with a 3 KiB arena block inside it. It is created on the first
 * access-handler call (we never answer there: MHD would close a keep-alive connection), filled
 * with the body on the following calls, dispatched on the last one, and released by the
 * NOTIFY_COMPLETED callback — which MHD also calls when the client vanished.
 *
 * Parking (SP_AGAIN): sp_req_suspend() records the request in a registry under `susp_lock` and
 * suspends the connection; the worker's sp_req_resume() marks it resumed and resumes the
 * connection; MHD then calls the handler once more and we queue what the worker filled. The
 * state has two references while parked (connection + worker) so that a drain that gives up on
 * a slow worker can answer 503 and finish the connection while the worker still holds the
 * request: whichever lets go last frees it.
 */
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "http/http.h"
#include "http/middleware.h"
#include "http/router.h"
#include "http/server.h"
#include "http/upload.h"
#include "store/db.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/pool.h"
#include "util/time.h"

#define INLINE_ARENA 3072
#define STATE_CACHE_MAX 256
/* libmicrohttpd 0.9.75 zeroes a connection's whole pool after every request: at 128 KiB that
 * memset was ~35% of server CPU (profiled), at 32 KiB still 5% of a cached GET (perf), at 16 KiB
 * half that. 16 KiB holds any sane header block (nginx's default limit is 8 KiB; larger ones get
 * libmicrohttpd's 431). Streamed uploads do not need a bigger pool: the upload callback consumes
 * each chunk as it arrives. */
#define MEMORY_LIMIT (16 * 1024)
/* An oversized body is read and thrown away up to this much so the client, still sending,
 * reads our 413 instead of a connection reset; beyond it we answer and close at once. */
#define DISCARD_MAX (16u * 1024 * 1024)

enum { SUSP_NONE = 0, SUSP_PARKED, SUSP_RESUMED, SUSP_FORCED };

struct conn_state {
    struct sp_req_priv priv; /* req.priv points here */
    struct sp_request req;
    struct sp_response resp;
    struct MHD_Connection *conn;
    struct conn_state *next, *prev; /* free list / parked registry */
    char *body;
    size_t body_len, body_cap;
    uint64_t content_length;
    int has_content_length;
    int body_heap; /* body grown with sp_realloc (no Content-Length) */
    int too_large;
    uint64_t discarded; /* body bytes thrown away since too_large */
    int queued;
    int was_parked; /* I/O thread only */
    int status;     /* what was queued */
    uint64_t bytes;
    int susp; /* SUSP_*, under susp_lock */
    int refs; /* under susp_lock while parked */
    char arena[INLINE_ARENA];
};

/* ---- slow-client guard ----
 * MHD's connection timeout counts inactivity only, so a client sending one header byte every few
 * seconds would hold a connection forever. Each connection carries a deadline: idle_timeout
 * for the next request's headers (from connect or the end of the previous request), a longer
 * one for its body; while a handler runs there is none. A watchdog thread shuts the sockets of
 * connections past their deadline down once a second; MHD then closes them. The per-thread
 * lists are only contended by that scan. */

struct conn_watch {
    struct watch_list *list;
    struct conn_watch *next, *prev;
    int fd;
    int shut;
    _Atomic int64_t deadline; /* monotonic ns; 0 = none */
};

struct watch_list {
    pthread_mutex_t lock;
    struct conn_watch *head;
    struct watch_list *next;
};

static _Thread_local struct watch_list *my_watch_list;

static struct {
    struct MHD_Daemon *daemon;
    struct sp_app *app;
    int port;
    uint64_t max_body;
    atomic_int inflight;
    atomic_int draining;
    pthread_mutex_t susp_lock;
    struct conn_state *parked;  /* registry of parked requests */
    int64_t header_ns, body_ns; /* deadlines of the slow-client guard */
    pthread_mutex_t lists_lock;
    struct watch_list *lists;
    pthread_t watchdog;
    int watchdog_running;
    int watchdog_stop; /* under lists_lock */
    pthread_cond_t watchdog_wake;
} srv = {.susp_lock = PTHREAD_MUTEX_INITIALIZER,
         .lists_lock = PTHREAD_MUTEX_INITIALIZER,
         .watchdog_wake = PTHREAD_COND_INITIALIZER};

static void watch_set(struct MHD_Connection *conn, int64_t deadline)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct conn_watch *w = ci ? ci->socket_context : NULL;
    if (w)
        atomic_store_explicit(&w->deadline, deadline, memory_order_relaxed);
}

/* New connections while draining are closed at once (no request is read from them). MHD's own
 * way to stop accepting, MHD_quiesce_daemon, races with the worker threads in libmicrohttpd
 * 0.9.75 (Debian 12) when they poll with epoll: both remove the listening socket from a
 * worker's epoll set, and the loser's EPOLL_CTL_DEL fails and MHD aborts ("Failed to remove
 * listen FD from epoll set", seen once in about 30 stops at the end of a Locust run). The
 * listening socket itself is closed by MHD_stop_daemon once the requests in flight are done. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)cls;
    (void)addr;
    (void)addrlen;
    return atomic_load(&srv.draining) ? MHD_NO : MHD_YES;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        if (!my_watch_list) {
            struct watch_list *l = sp_calloc(1, sizeof *l);
            pthread_mutex_init(&l->lock, NULL);
            pthread_mutex_lock(&srv.lists_lock);
            l->next = srv.lists;
            srv.lists = l;
            pthread_mutex_unlock(&srv.lists_lock);
            my_watch_list = l;
        }
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct conn_watch *w = sp_calloc(1, sizeof *w);
        w->fd = ci ? ci->connect_fd : -1;
        w->list = my_watch_list;
        atomic_store(&w->deadline, sp_time_mono_ns() + srv.header_ns);
        pthread_mutex_lock(&w->list->lock);
        w->next = w->list->head;
        if (w->next)
            w->next->prev = w;
        w->list->head = w;
        pthread_mutex_unlock(&w->list->lock);
        *socket_context = w;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        struct conn_watch *w = *socket_context;
        pthread_mutex_lock(&w->list->lock); /* before MHD closes the fd: no reuse race */
        if (w->prev)
            w->prev->next = w->next;
        else
            w->list->head = w->next;
        if (w->next)
            w->next->prev = w->prev;
        pthread_mutex_unlock(&w->list->lock);
        sp_free(w);
        *socket_context = NULL;
    }
}

static void *watchdog_main(void *arg)
{
    pthread_mutex_lock(&srv.lists_lock);
    while (!srv.watchdog_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&srv.watchdog_wake, &srv.lists_lock, &ts);
        int64_t now = sp_time_mono_ns();
        int shed = 0;
        for (struct watch_list *l = srv.lists; l; l = l->next) {
            pthread_mutex_lock(&l->lock);
            for (struct conn_watch *w = l->head; w; w = w->next) {
                int64_t d = atomic_load_explicit(&w->deadline, memory_order_relaxed);
                if (d && now > d && !w->shut && w->fd >= 0) {
                    shutdown(w->fd, SHUT_RDWR);
                    w->shut = 1;
                    shed++;
                }
            }
            pthread_mutex_unlock(&l->lock);
        }
        if (shed)
            sp_debug("slow clients shed", "%d connection(s) past their deadline closed", shed);
    }
    pthread_mutex_unlock(&srv.lists_lock);
    return NULL;
}

static void watchdog_stop(void)
{
    if (!srv.watchdog_running)
        return;
    pthread_mutex_lock(&srv.lists_lock);
    srv.watchdog_stop = 1;
    pthread_cond_signal(&srv.watchdog_wake);
    pthread_mutex_unlock(&srv.lists_lock);
    pthread_join(srv.watchdog, NULL);
    srv.watchdog_running = 0;
}

/* After MHD_stop_daemon every connection is closed: free the (empty) lists. */
static void watch_lists_free(void)
{
    pthread_mutex_lock(&srv.lists_lock);
    while (srv.lists) {
        struct watch_list *l = srv.lists;
        srv.lists = l->next;
        pthread_mutex_destroy(&l->lock);
        sp_free(l);
    }
    pthread_mutex_unlock(&srv.lists_lock);
}

/* ---- per-thread cache of request states ---- */

struct state_cache {
    struct conn_state *head;
    int n;
};

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static _Thread_local struct state_cache *tcache;

static void cache_destroy(void *arg)
{
    struct state_cache *c = arg;
    while (c->head) {
        struct conn_state *st = c->head;
        c->head = st->next;
        sp_free(st);
    }
    sp_free(c);
}

static void cache_key_create(void)
{
    pthread_key_create(&cache_key, cache_destroy);
}

static struct state_cache *thread_cache(void)
{
    if (!tcache) {
        pthread_once(&cache_once, cache_key_create);
        tcache = sp_calloc(1, sizeof *tcache);
        pthread_setspecific(cache_key, tcache);
    }
    return tcache;
}

/* Free the calling thread's cache now (threads whose key destructors will not run). */
static void cache_flush_this_thread(void)
{
    if (!tcache)
        return;
    pthread_setspecific(cache_key, NULL);
    cache_destroy(tcache);
    tcache = NULL;
}

static struct conn_state *state_get(void)
{
    struct state_cache *c = thread_cache();
    struct conn_state *st = c->head;
    if (st) {
        c->head = st->next;
        c->n--;
    } else {
        st = sp_malloc(sizeof *st);
    }
    memset(st, 0, offsetof(struct conn_state, arena));
    sp_req_priv_init(&st->priv, st->arena, sizeof st->arena);
    st->resp.fd = -1;
    st->req.priv = &st->priv;
    st->req.app = srv.app;
    st->req.route = "unmatched";
    st->refs = 1;
    return st;
}

/* Release everything the request holds; recycle the state on an I/O thread. */
static void state_release(struct conn_state *st, int recycle)
{
    json_decref(st->req.json);
    st->req.json = NULL;
    if (st->body_heap)
        sp_free(st->body);
    sp_req_priv_release(&st->priv);
    sp_resp_free(&st->resp);
    if (recycle) {
        struct state_cache *c = thread_cache();
        if (c->n < STATE_CACHE_MAX) {
            st->next = c->head;
            c->head = st;
            c->n++;
            return;
        }
    }
    sp_free(st);
}

static struct conn_state *state_of(struct sp_request *req)
{
    return (struct conn_state *)((char *)req - offsetof(struct conn_state, req));
}

/* ---- queuing a response ---- */

static void shared_free_cb(void *cls)
{
    sp_shared_unref(cls);
}

static enum MHD_Result queue(struct conn_state *st, struct sp_response *r, int close)
{
    struct MHD_Response *mr;
    uint64_t bytes = 0;
    const char *ctype = r->content_type;
    if (r->status < 100 || r->status > 599) {
        sp_error("bad response status", "%s %s: status %d", st->req.method, st->req.path,
                 r->status);
        sp_resp_error(r, 500, "internal", NULL, "internal server error");
        ctype = r->content_type;
    }
    int no_body = r->status == 204 || r->status == 304;
    if (!no_body && r->shared) {
        mr = MHD_create_response_from_buffer_with_free_callback_cls(r->shared->len, r->shared->data,
                                                                    shared_free_cb, r->shared);
        if (mr) {
            bytes = r->shared->len;
            if (!ctype)
                ctype = r->shared->ctype;
            r->shared = NULL; /* the MHD response holds the reference now */
        }
    } else if (!no_body && r->fd >= 0) {
        mr = MHD_create_response_from_fd_at_offset64(r->fd_len, r->fd, (int64_t)r->fd_off);
        if (mr) {
            bytes = r->fd_len;
            r->fd = -1; /* MHD closes it */
        }
    } else if (!no_body && r->body && r->body_len) {
        mr = MHD_create_response_from_buffer_with_free_callback(r->body_len, r->body, free);
        if (mr) {
            bytes = r->body_len;
            r->body = NULL;
            r->body_len = 0;
        }
    } else {
        mr = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (!mr) {
        sp_error("response failed", "%s %s: cannot create the response", st->req.method,
                 st->req.path);
        return MHD_NO;
    }
    if (ctype && !no_body)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    for (int i = 0; i < r->nheaders; i++)
        MHD_add_response_header(mr, r->headers[i].name, r->headers[i].value);
    struct sp_hdr common[SP_COMMON_HEADERS_MAX];
    int n = sp_resp_common_headers(&st->req, r, close || atomic_load(&srv.draining), common);
    for (int i = 0; i < n; i++)
        MHD_add_response_header(mr, common[i].name, common[i].value);
    st->status = r->status;
    st->bytes = bytes;
    st->queued = 1;
    enum MHD_Result ret = MHD_queue_response(st->conn, (unsigned)r->status, mr);
    MHD_destroy_response(mr);
    return ret;
}

static enum MHD_Result answer_error(struct conn_state *st, int status, const char *code,
                                    const char *msg, int close)
{
    struct sp_response r;
    sp_resp_init(&r);
    sp_resp_error(&r, status, code, NULL, "%s", msg);
    enum MHD_Result ret = queue(st, &r, close);
    sp_resp_free(&r);
    return ret;
}

static enum MHD_Result answer_too_large(struct conn_state *st)
{
    char msg[96];
    snprintf(msg, sizeof msg, "the request body is larger than %" PRIu64 " bytes", srv.max_body);
    return answer_error(st, 413, "payload_too_large", msg, 1);
}

/* ---- body ---- */

static void body_drop(struct conn_state *st)
{
    if (st->body_heap)
        sp_free(st->body);
    st->body = NULL;
    st->body_heap = 0;
    st->body_len = st->body_cap = 0;
}

static void body_append(struct conn_state *st, const char *data, size_t n)
{
    if (st->body_len + n + 1 > st->body_cap) {
        if (st->has_content_length && !st->body) {
            /* exact size known (and already checked against the limit): one allocation */
            st->body_cap = (size_t)st->content_length + 1;
            st->body = sp_req_alloc(&st->req, st->body_cap);
        } else {
            size_t cap = st->body_cap ? st->body_cap : 4096;
            while (cap < st->body_len + n + 1)
                cap *= 2;
            if (st->body_heap) {
                st->body = sp_realloc(st->body, cap);
            } else {
                char *nb = sp_malloc(cap);
                if (st->body_len)
                    memcpy(nb, st->body, st->body_len);
                st->body = nb;
                st->body_heap = 1;
            }
            st->body_cap = cap;
        }
    }
    memcpy(st->body + st->body_len, data, n);
    st->body_len += n;
}

/* ---- the access handler ---- */

static enum MHD_Result on_first_call(struct conn_state *st, struct MHD_Connection *conn,
                                     const char *url, const char *method)
{
    st->conn = conn;
    st->req.conn = conn;
    st->req.method = method;
    st->req.path = url;
    /* headers are in; a body (if any) gets its own deadline, the handler none */
    const char *te =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    const char *clh =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    int body_expected = te || (clh && strcmp(clh, "0") != 0);
    watch_set(conn, body_expected ? sp_time_mono_ns() + srv.body_ns : 0);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    sp_mw_begin(&st->req, ci ? ci->client_addr : NULL);
    /* an upload route streams its multipart body to disk (upload.c): its own size limit */
    int up = sp_upload_begin(
        &st->req, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
        &st->resp);
    if (up != 0)
        return up < 0 ? queue(st, &st->resp, 1) : MHD_YES;
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(cl, &end, 10);
        if (*cl >= '0' && *cl <= '9' && !*end && !errno) {
            st->has_content_length = 1;
            st->content_length = v;
            if (v > srv.max_body) {
                st->too_large = 1;
                /* A client waiting for "100 Continue" never sends the body: refuse now. Others
                 * are already sending; a modest body is drained (not stored) and refused at
                 * its end, a huge one is refused at once and the connection closed. */
                const char *expect =
                    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
                if ((expect && strcasecmp(expect, "100-continue") == 0) || v > DISCARD_MAX)
                    return answer_too_large(st);
            }
        }
    }
    return MHD_YES;
}

static enum MHD_Result on_resumed(struct conn_state *st)
{
    pthread_mutex_lock(&srv.susp_lock);
    int s = st->susp;
    pthread_mutex_unlock(&srv.susp_lock);
    st->priv.suspended = 0;
    if (s == SUSP_FORCED)
        return answer_error(st, 503, "unavailable", "the server is shutting down, retry shortly",
                            1);
    if (st->resp.status == 0) {
        sp_error("handler misuse", "%s %s: resumed without a response", st->req.method,
                 st->req.path);
        sp_resp_error(&st->resp, 500, "internal", NULL, "internal server error");
    }
    return queue(st, &st->resp, 0);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    struct conn_state *st = *con_cls;
    if (!st) {
        st = state_get();
        *con_cls = st;
        atomic_fetch_add_explicit(&srv.inflight, 1, memory_order_relaxed);
        return on_first_call(st, conn, url, method);
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (st->queued)
            return MHD_YES;
        if (st->priv.upload) {
            watch_set(conn, sp_time_mono_ns() + srv.body_ns); /* a long upload keeps going */
            return sp_upload_feed(&st->req, upload_data, n, &st->resp) == 0
                       ? MHD_YES
                       : queue(st, &st->resp, 1);
        }
        if (!st->too_large && st->body_len + n > srv.max_body) {
            /* no Content-Length (chunked) and past the limit: stop storing */
            st->too_large = 1;
            st->discarded = st->body_len;
            body_drop(st);
        }
        if (st->too_large) {
            st->discarded += n;
            return st->discarded > DISCARD_MAX ? answer_too_large(st) : MHD_YES;
        }
        body_append(st, upload_data, n);
        return MHD_YES;
    }
    if (st->queued)
        return MHD_YES;
    if (st->priv.suspended)
        return on_resumed(st);
    if (st->too_large)
        return answer_too_large(st);

    if (st->priv.upload)
        sp_upload_end(&st->req);
    if (st->priv.upload || (st->has_content_length ? st->content_length > 0 : st->body_len > 0))
        watch_set(conn, 0);
    if (st->body) {
        st->body[st->body_len] = '\0';
        st->req.body = st->body;
        st->req.body_len = st->body_len;
    }
    sp_req_parse_body(
        &st->req, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE));
    int rc = sp_mw_dispatch(&st->req, &st->resp);
    if (rc == SP_AGAIN)
        return MHD_YES; /* parked: from here on the worker owns req/resp until it resumes */
    if (st->priv.suspended) {
        /* the handler parked the request but answered itself (its pool was full): un-park,
         * and queue the answer when MHD calls back */
        pthread_mutex_lock(&srv.susp_lock);
        if (st->susp == SUSP_PARKED) {
            if (st->prev)
                st->prev->next = st->next;
            else
                srv.parked = st->next;
            if (st->next)
                st->next->prev = st->prev;
            st->next = st->prev = NULL;
            st->susp = SUSP_RESUMED;
            st->refs--;
            MHD_resume_connection(conn);
        }
        pthread_mutex_unlock(&srv.susp_lock);
        return MHD_YES;
    }
    return queue(st, &st->resp, 0);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct conn_state *st = *con_cls;
    if (!st)
        return;
    *con_cls = NULL;
    watch_set(conn, sp_time_mono_ns() + srv.header_ns); /* for the next request on it */
    sp_mw_end(&st->req, st->queued ? st->status : 0, st->bytes);
    int last = 1;
    if (st->was_parked) {
        pthread_mutex_lock(&srv.susp_lock);
        last = --st->refs == 0;
        pthread_mutex_unlock(&srv.susp_lock);
    }
    atomic_fetch_sub_explicit(&srv.inflight, 1, memory_order_release);
    if (last)
        state_release(st, 1);
}

/* ---- suspend / resume ---- */

void sp_server_suspend(struct sp_request *req)
{
    struct conn_state *st = state_of(req);
    if (!st->conn || st->priv.suspended)
        return;
    st->priv.suspended = 1;
    st->was_parked = 1;
    pthread_mutex_lock(&srv.susp_lock);
    st->susp = SUSP_PARKED;
    st->refs = 2;
    st->prev = NULL;
    st->next = srv.parked;
    if (srv.parked)
        srv.parked->prev = st;
    srv.parked = st;
    MHD_suspend_connection(st->conn);
    pthread_mutex_unlock(&srv.susp_lock);
}

void sp_server_resume(struct sp_request *req)
{
    struct conn_state *st = state_of(req);
    int last = 0;
    pthread_mutex_lock(&srv.susp_lock);
    if (st->susp == SUSP_PARKED) {
        if (st->prev)
            st->prev->next = st->next;
        else
            srv.parked = st->next;
        if (st->next)
            st->next->prev = st->prev;
        st->next = st->prev = NULL;
        st->susp = SUSP_RESUMED;
        st->refs--;
        MHD_resume_connection(st->conn); /* our last touch: MHD may finish it at once */
    } else if (st->susp == SUSP_FORCED) {
        last = --st->refs == 0; /* the drain already answered; drop the worker's reference */
    }
    pthread_mutex_unlock(&srv.susp_lock);
    if (last)
        state_release(st, 0);
}

int sp_server_abandoned(struct sp_request *req)
{
    struct conn_state *st = state_of(req);
    pthread_mutex_lock(&srv.susp_lock);
    int forced = st->susp == SUSP_FORCED;
    pthread_mutex_unlock(&srv.susp_lock);
    return forced;
}

/* ---- start / stop ---- */

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    /* clients hanging up mid-request is ordinary traffic, not a server problem */
    int client_noise = strstr(msg, "remote side") || strstr(msg, "incomplete request") ||
                       strstr(msg, "timed out") || strstr(msg, "malformed") ||
                       strstr(msg, "Connection reset");
    sp_log(client_noise ? SP_LOG_DEBUG : SP_LOG_WARN, "http server", "%s", msg);
}

static void mhd_panic(void *cls, const char *file, unsigned int line, const char *reason)
{
    sp_log(SP_LOG_ERROR, "http server panic", "%s:%u: %s", file ? file : "?", line,
           reason ? reason : "");
    abort();
}

static int resolve(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len,
                   struct sp_err *e)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    const char *h = host && *host && strcmp(host, "*") != 0 ? host : NULL;
    int rc = getaddrinfo(h, portstr, &hints, &res);
    if (rc != 0 || !res) {
        sp_err_set(e, "listen", "cannot resolve listen address '%s': %s", host ? host : "",
                   gai_strerror(rc));
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

int sp_server_start(struct sp_app *app, struct sp_err *e)
{
    if (srv.daemon) {
        sp_err_set(e, NULL, "the server is already running");
        return SP_ERR;
    }
    const struct sp_config *cfg = &app->cfg;
    srv.app = app;
    srv.max_body = cfg->max_body_bytes > 0 ? (uint64_t)cfg->max_body_bytes : 1024 * 1024;
    atomic_store(&srv.inflight, 0);
    atomic_store(&srv.draining, 0);
    signal(SIGPIPE, SIG_IGN);

    if (sp_router_init(e) != SP_OK)
        return SP_ERR;
    if (sp_mw_init(cfg, e) != SP_OK || sp_resp_configure(cfg, e) != SP_OK) {
        sp_router_shutdown();
        return SP_ERR;
    }
    sp_static_init(cfg);
    /* Password hashing (~20 ms of a core each) must never delay the I/O threads: its workers run
     * at the lowest priority, so a login burst queues (FIFO) behind them instead of pushing every
     * other endpoint's latency up. */
    if (app->kdf_pool)
        sp_pool_set_nice(app->kdf_pool, app->cfg.kdf_nice);

    struct sockaddr_storage ss;
    socklen_t sslen;
    if (resolve(cfg->listen_host, cfg->listen_port, &ss, &sslen, e) != 0) {
        sp_router_shutdown();
        return SP_ERR;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = cfg->threads > 0 ? (unsigned)cfg->threads : (unsigned)(ncpu > 0 ? ncpu : 1);
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    int idle = cfg->idle_timeout > 0 ? cfg->idle_timeout : 60;
    srv.header_ns = (int64_t)idle * 1000000000LL;
    /* a capped JSON body (1 MiB) arrives in seconds even on a poor link */
    srv.body_ns = (int64_t)(idle * 4 > 120 ? idle * 4 : 120) * 1000000000LL;
    MHD_set_panic_func(mhd_panic, NULL);
    unsigned max_conn = (unsigned)(cfg->max_connections > 0 ? cfg->max_connections : 1024);
    /* clang-format off */
    /* one option per line */
    srv.daemon = MHD_start_daemon(
        flags, 0, on_accept, NULL, on_access, NULL,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, /* first, so it sees every message */
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT, max_conn,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)idle,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MEMORY_LIMIT,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
        MHD_OPTION_END);
    /* clang-format on */
    if (!srv.daemon) {
        sp_err_set(e, "listen", "cannot listen on %s:%d (address in use or not permitted?)",
                   cfg->listen_host, cfg->listen_port);
        sp_router_shutdown();
        return SP_ERR;
    }
    /* commits on the I/O threads must not pay for WAL checkpoints (see store/db.h) */
    sp_db_checkpoints_start();
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv.daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv.port = di ? di->port : cfg->listen_port;
    srv.watchdog_stop = 0;
    if (pthread_create(&srv.watchdog, NULL, watchdog_main, NULL) == 0) {
        pthread_setname_np(srv.watchdog, "http-watchdog");
        srv.watchdog_running = 1;
    } else {
        sp_warn("slow-client guard", "cannot start its thread; relying on the idle timeout");
    }
    return SP_OK;
}

int sp_server_port(void)
{
    return srv.daemon ? srv.port : 0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Answer 503 to every parked request whose worker has not finished. */
static int force_resume_parked(void)
{
    int n = 0;
    pthread_mutex_lock(&srv.susp_lock);
    while (srv.parked) {
        struct conn_state *st = srv.parked;
        srv.parked = st->next;
        st->next = st->prev = NULL;
        st->susp = SUSP_FORCED;
        MHD_resume_connection(st->conn);
        n++;
    }
    pthread_mutex_unlock(&srv.susp_lock);
    return n;
}

void sp_server_drain_and_stop(int timeout_ms)
{
    if (!srv.daemon)
        return;
    atomic_store(&srv.draining, 1);
    if (srv.app)
        atomic_store(&srv.app->draining, 1);
    /* from now on on_accept closes new connections (why not MHD_quiesce_daemon: see there) */

    int64_t deadline = sp_time_mono_ns() + (int64_t)timeout_ms * 1000000;
    while (atomic_load_explicit(&srv.inflight, memory_order_acquire) > 0 &&
           sp_time_mono_ns() < deadline)
        sleep_ms(10);
    int forced = force_resume_parked();
    /* give the 503s a moment to be written */
    for (int i = 0; i < 50 && forced && atomic_load(&srv.inflight) > 0; i++)
        sleep_ms(10);
    int left = atomic_load(&srv.inflight);
    if (forced || left)
        sp_warn("drain incomplete", "%d parked request(s) answered 503; %d request(s) cut at stop",
                forced, left);
    watchdog_stop();
    MHD_stop_daemon(srv.daemon);
    srv.daemon = NULL;
    sp_db_checkpoints_stop();
    watch_lists_free();
    srv.port = 0;
    cache_flush_this_thread();
    sp_router_shutdown();
}
