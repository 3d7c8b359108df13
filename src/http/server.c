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
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "http/http.h"
#include "http/middleware.h"
#include "http/router.h"
#include "http/server.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/time.h"

#define INLINE_ARENA 3072
#define STATE_CACHE_MAX 256
#define MEMORY_LIMIT (128 * 1024)

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
    int body_heap;   /* body grown with sp_realloc (no Content-Length) */
    int too_large;
    int queued;
    int was_parked;  /* I/O thread only */
    int status;      /* what was queued */
    uint64_t bytes;
    int susp;        /* SUSP_*, under susp_lock */
    int refs;        /* under susp_lock while parked */
    char arena[INLINE_ARENA];
};

static struct {
    struct MHD_Daemon *daemon;
    struct sp_app *app;
    int port;
    uint64_t max_body;
    atomic_int inflight;
    atomic_int draining;
    pthread_mutex_t susp_lock;
    struct conn_state *parked; /* registry of parked requests */
} srv = {.susp_lock = PTHREAD_MUTEX_INITIALIZER};

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
        mr = MHD_create_response_from_buffer_with_free_callback_cls(
            r->shared->len, r->shared->data, shared_free_cb, r->shared);
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
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    sp_mw_begin(&st->req, ci ? ci->client_addr : NULL);
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(cl, &end, 10);
        if (*cl >= '0' && *cl <= '9' && !*end && !errno) {
            st->has_content_length = 1;
            st->content_length = v;
            if (v > srv.max_body) {
                /* refuse before reading a byte of it; the connection closes */
                st->too_large = 1;
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
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **con_cls)
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
        if (st->too_large || st->queued)
            return MHD_YES;
        if (st->body_len + n > srv.max_body) {
            /* no Content-Length (chunked) and past the limit: stop buffering and refuse */
            st->too_large = 1;
            body_drop(st);
            return answer_too_large(st);
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

    if (st->body) {
        st->body[st->body_len] = '\0';
        st->req.body = st->body;
        st->req.body_len = st->body_len;
    }
    sp_req_parse_body(&st->req, MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                            MHD_HTTP_HEADER_CONTENT_TYPE));
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

/* ---- start / stop ---- */

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    sp_log(SP_LOG_WARN, "http server", "%s", msg);
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
    MHD_set_panic_func(mhd_panic, NULL);
    srv.daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_access, NULL,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, /* first, so it sees every message */
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)(cfg->max_connections > 0 ? cfg->max_connections : 1024),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(cfg->idle_timeout > 0 ? cfg->idle_timeout : 60),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MEMORY_LIMIT,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_END);
    if (!srv.daemon) {
        sp_err_set(e, "listen", "cannot listen on %s:%d (address in use or not permitted?)",
                   cfg->listen_host, cfg->listen_port);
        sp_router_shutdown();
        return SP_ERR;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv.daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv.port = di ? di->port : cfg->listen_port;
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
    MHD_socket lsock = MHD_quiesce_daemon(srv.daemon);
    if (lsock != MHD_INVALID_SOCKET)
        close(lsock); /* new connections are refused from now on */

    int64_t deadline = sp_time_mono_ns() + (int64_t)timeout_ms * 1000000;
    while (atomic_load_explicit(&srv.inflight, memory_order_acquire) > 0 &&
           sp_time_mono_ns() < deadline)
        sleep_ms(10);
    int forced = force_resume_parked();
    int left = atomic_load(&srv.inflight);
    if (forced || left)
        sp_warn("drain incomplete", "%d parked request(s) answered 503, %d in flight at stop",
                forced, left);
    /* give the 503s a moment to be written */
    for (int i = 0; i < 50 && forced && atomic_load(&srv.inflight) > 0; i++)
        sleep_ms(10);
    MHD_stop_daemon(srv.daemon);
    srv.daemon = NULL;
    srv.port = 0;
    cache_flush_this_thread();
    sp_router_shutdown();
}
