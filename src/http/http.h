/*
 * http.h — what a handler sees: the request, the response it fills, and route tables.
 *
 * The API layer includes only this header (never libmicrohttpd). server.c builds the
 * request, router.c matches a route, middleware.c runs the chain (request id → metrics →
 * auth → permission → rate limit), then the handler fills `resp`.
 *
 * Handler contract:
 *   return SP_OK     the response is complete (resp filled);
 *   return SP_AGAIN  the handler called sp_req_suspend() and handed the request to a pool; the
 *                    worker fills resp and calls sp_req_resume() as its very last touch.
 * Memory: everything attached with sp_req_alloc()/sp_req_strdup()/sp_req_on_cleanup() is freed
 * when the request ends, including when the client vanished.
 */
#ifndef SP_HTTP_H
#define SP_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/common.h"

struct sp_app;

#define SP_MAX_PARAMS 4
#define SP_MAX_RESP_HEADERS 24

/* Who is calling (filled by the auth middleware; user_id 0 = anonymous). */
struct sp_principal {
    int64_t user_id;
    char username[72];
    uint64_t perms;   /* bitset, see auth/permissions.h; implications already expanded */
    bool is_admin;    /* holds the admin role */
    char jti[48];     /* the access token's id (for logout) */
    int64_t token_exp;
};

struct sp_request {
    struct sp_app *app;
    const char *method;     /* "GET", "POST", ... */
    const char *path;       /* decoded path, without the query string */
    const char *route;      /* matched pattern ("/api/releases/{id}"), or "unmatched" */
    char request_id[72];    /* echoed X-Request-Id, or generated */
    char client_ip[64];     /* after trusted-proxy X-Forwarded-For processing */
    const char *body;       /* raw body (NUL-terminated), NULL when none */
    size_t body_len;
    json_t *json;           /* parsed JSON body, or NULL when the body is empty */
    struct sp_principal principal;
    int nparams;
    struct {
        const char *name;
        const char *value;
    } params[SP_MAX_PARAMS];
    int64_t start_ns;       /* monotonic start time */
    /* Audit trail (middleware.c writes one audit_log row per successful API write, see
     * sp_req_audit). Handlers may set these; all optional:
     *   audit_action       e.g. "users.password" (default: "<resource>.<create|update|delete>",
     *                      or "<resource>.<last literal path segment>" for deeper routes);
     *   audit_summary      a short human sentence, never a secret or a password (default:
     *                      "<METHOD> <path>");
     *   audit_resource_id  the object written (default: the {id} path parameter, or the "id"
     *                      of a 201 body);
     *   audit_done         true once recorded (or when the handler recorded it itself). */
    const char *audit_action;
    const char *audit_summary;
    int64_t audit_resource_id;
    bool audit_done;
    void *conn;             /* opaque connection handle owned by server.c */
    void *priv;             /* server-private state */
};

struct sp_resp_header {
    char *name;
    char *value;
};

/* Bytes shared between many responses (the response cache): refcounted, immutable. */
struct sp_shared_bytes {
    int refs; /* atomic */
    size_t len;
    char *ctype;
    char data[]; /* flexible */
};

struct sp_response {
    int status;                 /* 0 until set */
    const char *content_type;   /* static string */
    char *body;                 /* owned heap bytes (freed), or NULL */
    size_t body_len;
    struct sp_shared_bytes *shared; /* alternatively: shared cached bytes (a ref is held) */
    int fd;                     /* alternatively: stream [fd_off, fd_off+fd_len) of this file; -1 none */
    uint64_t fd_off, fd_len;
    int nheaders;
    struct sp_resp_header headers[SP_MAX_RESP_HEADERS];
};

typedef int (*sp_handler_fn)(struct sp_request *req, struct sp_response *resp);

enum sp_auth_mode {
    SP_AUTH_NONE = 0,    /* open to anyone */
    SP_AUTH_USER = 1,    /* valid access token required */
    SP_AUTH_METRICS = 2, /* open on loopback (or when configured), token otherwise */
};

/* One route. perm_resource/perm_action: the permission required before the handler runs
 * (-1 = any authenticated user; handlers do owner checks themselves). */
struct sp_route {
    const char *method;
    const char *pattern; /* literal segments and {name} segments */
    sp_handler_fn handler;
    int auth;
    int perm_resource;
    int perm_action;
};

/* --- request helpers (http/request.c) --- */
const char *sp_req_query(const struct sp_request *r, const char *key); /* decoded, or NULL */
const char *sp_req_header(const struct sp_request *r, const char *name);
const char *sp_req_param(const struct sp_request *r, const char *name);
/* Path parameter as a positive id; SP_OK or SP_NOTFOUND (malformed ids are "not found"). */
int sp_req_param_id(const struct sp_request *r, const char *name, int64_t *out);
void *sp_req_alloc(struct sp_request *r, size_t n);     /* zeroed, freed with the request */
char *sp_req_strdup(struct sp_request *r, const char *s);
void sp_req_on_cleanup(struct sp_request *r, void (*fn)(void *), void *arg);
/* Require a JSON object body: SP_OK, or fills a 400 (malformed/null/non-object) into resp. */
int sp_req_json_object(struct sp_request *r, struct sp_response *resp);
/* Park the request (call before handing it to a worker) / resume it (worker's last touch). */
void sp_req_suspend(struct sp_request *r);
void sp_req_resume(struct sp_request *r);
/* For a worker holding a parked request: 1 when the server already answered it (503 during a
 * shutdown drain that could not wait any longer), so the worker may skip the slow work; it must
 * still call sp_req_resume() (its last touch, which then frees the request). */
int sp_req_abandoned(struct sp_request *r);
/* Record the audit row of this request now, as answered by `resp` (middleware.c): nothing
 * unless it is a successful (2xx) write (not GET/HEAD/OPTIONS) under /api by a signed-in user,
 * and not already recorded (audit_done). The middleware calls it for handlers that answer at
 * once; a worker answering a parked write calls it just before sp_req_resume() so the row
 * exists before the client sees the answer (otherwise it is written when the request ends).
 * A failed insert is logged, never fails the request. */
void sp_req_audit(struct sp_request *r, const struct sp_response *resp);

/* --- streamed uploads (http/upload.c) ---
 * A route listed in sp_api_upload_routes receives a multipart/form-data body streamed to a
 * temporary file under <data>/uploads (constant memory, SP_MAX_UPLOAD_BYTES enforced while the
 * bytes arrive, the caller authenticated before the first byte is stored) instead of the 1 MiB
 * JSON buffer. Its handler finds the file part named "file" with sp_req_upload(). */
struct sp_upload {
    int rc;               /* SP_OK: the "file" part was received; SP_INVALID: see message */
    char message[200];    /* why the form was refused (no "file" part, malformed body, ...) */
    const char *path;     /* the temporary file holding the part's bytes */
    char filename[512];   /* the file name the client sent (may be "", any bytes) */
    char content_type[128];
    int64_t size;         /* bytes of the file part */
};
/* The streamed upload of this request, or NULL when the body was not streamed (not an upload
 * route, or not multipart/form-data). */
const struct sp_upload *sp_req_upload(struct sp_request *r);
/* Move the uploaded file to `dest` (same file system, replacing it); it is then no longer
 * removed when the request ends. SP_OK or SP_ERR (e says why). */
int sp_req_upload_keep(struct sp_request *r, const char *dest, struct sp_err *e);

/* --- response helpers (http/response.c) --- */
void sp_resp_json(struct sp_response *r, int status, json_t *body /* reference stolen */);
void sp_resp_take(struct sp_response *r, int status, const char *ctype, char *data, size_t len);
void sp_resp_copy(struct sp_response *r, int status, const char *ctype, const char *data,
                  size_t len);
void sp_resp_shared(struct sp_response *r, int status, struct sp_shared_bytes *b /* ref taken */);
void sp_resp_error(struct sp_response *r, int status, const char *code, const char *field,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The one place return codes become HTTP statuses: SP_INVALID→400, SP_NOTFOUND→404,
 * SP_CONFLICT→409, SP_FORBIDDEN→403, SP_AGAIN→503 (+Retry-After), SP_ERR→500. */
void sp_resp_rc(struct sp_response *r, int rc, const struct sp_err *e);
void sp_resp_header(struct sp_response *r, const char *name, const char *value);
/* Stream [off, off+len) of an open file; the response owns fd from now on (closed when sent or
 * replaced). ctype is a static string. */
void sp_resp_file(struct sp_response *r, int status, const char *ctype, int fd, uint64_t off,
                  uint64_t len);
/* An empty response (status 0, no body, fd -1) / release everything a response owns (body,
 * shared reference, fd, headers) leaving it empty. For code that builds responses outside the
 * server, such as tests. */
void sp_resp_init(struct sp_response *r);
void sp_resp_free(struct sp_response *r);
struct sp_shared_bytes *sp_shared_new(const char *ctype, const char *data, size_t len);
void sp_shared_ref(struct sp_shared_bytes *b);
void sp_shared_unref(struct sp_shared_bytes *b);

#endif
