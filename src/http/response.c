/*
 * response.c — filling struct sp_response: JSON, bytes, shared cached bytes, files, errors;
 * the one mapping from return codes to statuses; the headers every response carries.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "http/http.h"
#include "http/server.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/log.h"

static const char CT_JSON[] = "application/json";

/* Drop whatever body the response holds (heap bytes, shared reference, file). */
static void drop_body(struct sp_response *r)
{
    sp_free(r->body);
    r->body = NULL;
    r->body_len = 0;
    if (r->shared) {
        sp_shared_unref(r->shared);
        r->shared = NULL;
    }
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    r->fd_off = r->fd_len = 0;
}

void sp_resp_init(struct sp_response *r)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
}

void sp_resp_free(struct sp_response *r)
{
    drop_body(r);
    for (int i = 0; i < r->nheaders; i++) {
        sp_free(r->headers[i].name);
        sp_free(r->headers[i].value);
    }
    sp_resp_init(r);
}

void sp_resp_json(struct sp_response *r, int status, json_t *body)
{
    if (!body) {
        sp_resp_error(r, 500, "internal", NULL, "internal server error");
        return;
    }
    drop_body(r);
    size_t len;
    r->body = sp_json_dump(body, &len);
    r->body_len = len;
    json_decref(body);
    r->status = status;
    r->content_type = CT_JSON;
}

void sp_resp_take(struct sp_response *r, int status, const char *ctype, char *data, size_t len)
{
    drop_body(r);
    r->status = status;
    r->content_type = ctype;
    r->body = data;
    r->body_len = data ? len : 0;
}

void sp_resp_copy(struct sp_response *r, int status, const char *ctype, const char *data,
                  size_t len)
{
    char *d = NULL;
    if (len) {
        d = sp_malloc(len);
        memcpy(d, data, len);
    }
    sp_resp_take(r, status, ctype, d, len);
}

/* The response takes its own reference: the caller keeps (and later drops) the one it holds,
 * as with sp_cache_put. */
void sp_resp_shared(struct sp_response *r, int status, struct sp_shared_bytes *b)
{
    sp_shared_ref(b);
    drop_body(r);
    r->status = status;
    r->content_type = b->ctype;
    r->shared = b;
}

void sp_resp_file(struct sp_response *r, int status, const char *ctype, int fd, uint64_t off,
                  uint64_t len)
{
    drop_body(r);
    r->status = status;
    r->content_type = ctype;
    r->fd = fd;
    r->fd_off = off;
    r->fd_len = len;
}

const char *sp_resp_header_get(const struct sp_response *r, const char *name)
{
    for (int i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

void sp_resp_header(struct sp_response *r, const char *name, const char *value)
{
    for (int i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->headers[i].name, name) == 0) {
            sp_free(r->headers[i].value);
            r->headers[i].value = sp_strdup(value);
            return;
        }
    }
    if (r->nheaders == SP_MAX_RESP_HEADERS) {
        sp_warn("response header dropped", "too many headers; dropped %s", name);
        return;
    }
    r->headers[r->nheaders].name = sp_strdup(name);
    r->headers[r->nheaders].value = sp_strdup(value);
    r->nheaders++;
}

void sp_resp_error(struct sp_response *r, int status, const char *code, const char *field,
                   const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    struct sp_buf b = SP_BUF_INIT;
    sp_buf_reserve(&b, strlen(msg) + 64);
    sp_buf_puts(&b, "{\"message\":");
    /* messages may quote user input: keep the body valid UTF-8 JSON whatever it holds */
    sp_buf_json_str(&b, sp_utf8_valid(msg, strlen(msg)) ? msg : "invalid input");
    sp_buf_puts(&b, ",\"code\":");
    sp_buf_json_str(&b, code);
    if (field && *field) {
        sp_buf_puts(&b, ",\"field\":");
        sp_buf_json_str(&b, sp_utf8_valid(field, strlen(field)) ? field : "?");
    }
    sp_buf_putc(&b, '}');
    size_t len = b.len;
    sp_resp_take(r, status, CT_JSON, sp_buf_steal(&b), len);
    if ((status == 503 || status == 429) && !sp_resp_header_get(r, "Retry-After"))
        sp_resp_header(r, "Retry-After", "1");
}

void sp_resp_rc(struct sp_response *r, int rc, const struct sp_err *e)
{
    const char *msg = e && e->message[0] ? e->message : NULL;
    const char *field = e && e->field[0] ? e->field : NULL;
    switch (rc) {
    case SP_OK:
        sp_resp_copy(r, 200, CT_JSON, "{}", 2);
        break;
    case SP_INVALID:
        sp_resp_error(r, 400, "validation_error", field, "%s", msg ? msg : "invalid input");
        break;
    case SP_NOTFOUND:
        sp_resp_error(r, 404, "not_found", field, "%s", msg ? msg : "not found");
        break;
    case SP_CONFLICT:
        sp_resp_error(r, 409, "conflict", field, "%s", msg ? msg : "conflict");
        break;
    case SP_FORBIDDEN:
        sp_resp_error(r, 403, "forbidden", NULL, "%s",
                      msg ? msg : "you do not have permission to do this");
        break;
    case SP_AGAIN:
        sp_resp_error(r, 503, "unavailable", NULL, "%s",
                      msg ? msg : "the service is busy, retry shortly");
        break;
    default:
        /* the detail of an internal failure is logged where it happened, never sent */
        sp_resp_error(r, 500, "internal", NULL, "internal server error");
        break;
    }
}

struct sp_shared_bytes *sp_shared_new(const char *ctype, const char *data, size_t len)
{
    size_t clen = strlen(ctype) + 1;
    struct sp_shared_bytes *b = sp_malloc(sizeof *b + len + 1 + clen);
    b->refs = 1;
    b->len = len;
    if (len)
        memcpy(b->data, data, len);
    b->data[len] = '\0';
    b->ctype = b->data + len + 1;
    memcpy(b->ctype, ctype, clen);
    return b;
}

void sp_shared_ref(struct sp_shared_bytes *b)
{
    __atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
}

void sp_shared_unref(struct sp_shared_bytes *b)
{
    if (b && __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0)
        sp_free(b);
}

/* ---- headers every response carries ---- */

#define MAX_ORIGINS 32

static struct {
    int hsts;
    int any_origin;
    int norigins;
    char origins[MAX_ORIGINS][256];
} hcfg;

#define CSP_HEAD "default-src 'none'; script-src 'self'; style-src 'self'"
#define CSP_TAIL                                                                                   \
    "; img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; "           \
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
static const char CSP_HTML[] = CSP_HEAD CSP_TAIL;
static const char CSP_OTHER[] = "default-src 'none'; frame-ancestors 'none'";

void sp_resp_csp_html(const char *extra_style, char *out, size_t outlen)
{
    int extra = extra_style && *extra_style;
    snprintf(out, outlen, "%s%s%s%s", CSP_HEAD, extra ? " " : "", extra ? extra_style : "",
             CSP_TAIL);
}

int sp_resp_configure(const struct sp_config *cfg, struct sp_err *e)
{
    memset(&hcfg, 0, sizeof hcfg);
    hcfg.hsts = cfg->hsts;
    const char *p = cfg->cors_origins;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, ", ");
        if (n == 1 && *p == '*') {
            hcfg.any_origin = 1;
        } else {
            if (n >= sizeof hcfg.origins[0] || hcfg.norigins == MAX_ORIGINS ||
                !((n > 7 && strncmp(p, "http://", 7) == 0) ||
                  (n > 8 && strncmp(p, "https://", 8) == 0)) ||
                p[n - 1] == '/') {
                sp_err_set(e, "cors_origins",
                           "CORS origin '%.*s' must look like https://host[:port] (at most %d)",
                           (int)(n > 200 ? 200 : n), p, MAX_ORIGINS);
                return SP_INVALID;
            }
            memcpy(hcfg.origins[hcfg.norigins], p, n);
            hcfg.origins[hcfg.norigins][n] = '\0';
            hcfg.norigins++;
        }
        p += n;
    }
    return SP_OK;
}

const char *sp_resp_cors_origin(const struct sp_request *req)
{
    if (!hcfg.any_origin && hcfg.norigins == 0)
        return NULL;
    const char *origin = sp_req_header(req, "Origin");
    if (!origin)
        return NULL;
    if (hcfg.any_origin)
        return "*";
    for (int i = 0; i < hcfg.norigins; i++)
        if (strcasecmp(hcfg.origins[i], origin) == 0)
            return origin;
    return NULL;
}

static int api_path(const char *p)
{
    return p && ((strncmp(p, "/api", 4) == 0 && (p[4] == '/' || p[4] == '\0')) ||
                 strcmp(p, "/metrics") == 0);
}

int sp_resp_common_headers(const struct sp_request *req, const struct sp_response *resp, int close,
                           struct sp_hdr *out)
{
    int n = 0;
    out[n++] = (struct sp_hdr){"X-Request-Id", req->request_id};
    out[n++] = (struct sp_hdr){"X-Content-Type-Options", "nosniff"};
    out[n++] = (struct sp_hdr){"X-Frame-Options", "DENY"};
    out[n++] = (struct sp_hdr){"Referrer-Policy", "no-referrer"};
    const char *ct = resp->content_type;
    int html = ct && strncasecmp(ct, "text/html", 9) == 0;
    if (!sp_resp_header_get(resp, "Content-Security-Policy")) /* static.c sets its own */
        out[n++] = (struct sp_hdr){"Content-Security-Policy", html ? CSP_HTML : CSP_OTHER};
    if (api_path(req->path) && !sp_resp_header_get(resp, "Cache-Control"))
        out[n++] = (struct sp_hdr){"Cache-Control", "no-store"};
    if (hcfg.hsts)
        out[n++] =
            (struct sp_hdr){"Strict-Transport-Security", "max-age=31536000; includeSubDomains"};
    if (hcfg.any_origin || hcfg.norigins) {
        const char *origin = sp_resp_cors_origin(req);
        if (origin) {
            out[n++] = (struct sp_hdr){"Access-Control-Allow-Origin", origin};
            out[n++] = (struct sp_hdr){"Access-Control-Expose-Headers",
                                       "X-Request-Id, Retry-After, Content-Disposition, Location"};
        }
        if (!hcfg.any_origin && !sp_resp_header_get(resp, "Vary"))
            out[n++] = (struct sp_hdr){"Vary", "Origin"};
    }
    if (close)
        out[n++] = (struct sp_hdr){"Connection", "close"};
    return n;
}
