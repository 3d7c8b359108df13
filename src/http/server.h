/*
 * server.h — the HTTP server (libmicrohttpd): start, graceful drain, and the per-request state
 * the rest of src/http shares.
 *
 * One server per process. Threads: an epoll thread pool (cfg.threads, or one per CPU) does the
 * I/O, routing and cheap handlers inline; handlers that would block park the request with
 * sp_req_suspend() and a worker pool resumes it (see http.h).
 */
#ifndef SP_SERVER_H
#define SP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "http/http.h"
#include "util/common.h"

struct sp_app;

/* Compile the routes, prepare the middleware and static files, ignore SIGPIPE and start
 * listening on cfg.listen_host:cfg.listen_port. SP_OK, or SP_ERR with e filled (bad route
 * table, address in use, ...). `app` must outlive the server. */
int sp_server_start(struct sp_app *app, struct sp_err *e);

/* The port actually bound (useful with listen_port 0); 0 when not running. */
int sp_server_port(void);

/* Graceful stop: stop accepting (new connections are refused), let in-flight requests finish
 * (answers now carry "Connection: close"), wait up to timeout_ms for them, answer 503 to
 * requests still parked in a worker pool, then stop the daemon. Safe to call when the server is
 * not running. Call before sp_app_shutdown (workers may still resume parked requests). */
void sp_server_drain_and_stop(int timeout_ms);

/* ---- internal to src/http (server.c, request.c, middleware.c) ---- */

/* Where a request body stands after reading. */
enum sp_body_kind {
    SP_BODY_NONE = 0,      /* empty body */
    SP_BODY_JSON = 1,      /* parsed into req->json */
    SP_BODY_MALFORMED = 2, /* JSON expected but invalid: body_error says where */
    SP_BODY_OTHER = 3,     /* a non-JSON content type (multipart, octet-stream): not parsed */
};

struct sp_req_block;
struct sp_upload_state;

struct sp_req_cleanup {
    void (*fn)(void *);
    void *arg;
    struct sp_req_cleanup *next;
};

/* What sp_request.priv points to: the request's arena, cleanups and body status. */
struct sp_req_priv {
    char *cur;                   /* bump pointer in the current block */
    size_t left;                 /* bytes left in it */
    struct sp_req_block *blocks; /* heap blocks to free */
    struct sp_req_cleanup *cleanups;
    int body_kind;
    char body_error[200];
    int suspended; /* set by sp_req_suspend (I/O thread only) */
    struct sp_upload_state *upload; /* a streamed upload (upload.c), or NULL */
};

/* Start using `buf` (n bytes, e.g. inside the per-request state) as the arena's first block. */
void sp_req_priv_init(struct sp_req_priv *p, char *buf, size_t n);
/* Run the cleanups (last registered first) and free every heap block; p is reusable after
 * sp_req_priv_init again. */
void sp_req_priv_release(struct sp_req_priv *p);

/* Parse req->body per its Content-Type and set req->json / priv->body_kind / body_error. */
void sp_req_parse_body(struct sp_request *req, const char *content_type);

/* Park / resume the connection behind req (server.c; see sp_req_suspend/sp_req_resume). */
void sp_server_suspend(struct sp_request *req);
void sp_server_resume(struct sp_request *req);
int sp_server_abandoned(struct sp_request *req);

/* A response header's value (case-insensitive name), or NULL. */
const char *sp_resp_header_get(const struct sp_response *r, const char *name);

/* Prepare the headers every response carries (response.c): CORS origins, HSTS. SP_OK or
 * SP_INVALID (a malformed origin in cfg.cors_origins, e names it). */
struct sp_config;
int sp_resp_configure(const struct sp_config *cfg, struct sp_err *e);

struct sp_hdr {
    const char *name;
    const char *value;
};

/* The Content-Security-Policy of HTML pages, with `extra_style` (e.g. "'sha256-...' ") inserted
 * in style-src; into out. */
void sp_resp_csp_html(const char *extra_style, char *out, size_t outlen);

/* The request's Origin when CORS allows it ("*" when every origin is), else NULL. */
const char *sp_resp_cors_origin(const struct sp_request *req);

#define SP_COMMON_HEADERS_MAX 16
/* The headers added to every response on top of its own: X-Request-Id, nosniff,
 * X-Frame-Options, Referrer-Policy, Cache-Control on /api and /metrics (unless the response set
 * one), CSP, HSTS when configured, CORS for allowed origins, "Connection: close" when `close`.
 * Values point into req/static storage. Returns how many were written to out. */
int sp_resp_common_headers(const struct sp_request *req, const struct sp_response *resp, int close,
                           struct sp_hdr *out);

#endif
