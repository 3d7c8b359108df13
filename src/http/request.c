/*
 * request.c — what a handler reads from a request, and the request's memory.
 *
 * The arena starts in a block inside the per-request state (no malloc for typical requests);
 * larger needs get heap blocks, all freed in one go with the registered cleanups when the
 * request ends (sp_req_priv_release).
 */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/http.h"
#include "http/server.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"

#define BLOCK_MIN 8192
#define ALIGN 16

struct sp_req_block {
    struct sp_req_block *next;
    max_align_t data[]; /* aligned payload */
};

void sp_req_priv_init(struct sp_req_priv *p, char *buf, size_t n)
{
    memset(p, 0, sizeof *p);
    /* keep the first block aligned whatever the state layout */
    uintptr_t a = (uintptr_t)buf;
    size_t skip = (ALIGN - (a & (ALIGN - 1))) & (ALIGN - 1);
    p->cur = buf + (skip < n ? skip : n);
    p->left = skip < n ? n - skip : 0;
}

void sp_req_priv_release(struct sp_req_priv *p)
{
    while (p->cleanups) {
        struct sp_req_cleanup *c = p->cleanups;
        p->cleanups = c->next;
        c->fn(c->arg); /* the node itself lives in the arena */
    }
    while (p->blocks) {
        struct sp_req_block *b = p->blocks;
        p->blocks = b->next;
        sp_free(b);
    }
    p->cur = NULL;
    p->left = 0;
}

void *sp_req_alloc(struct sp_request *r, size_t n)
{
    struct sp_req_priv *p = r->priv;
    if (n > SIZE_MAX / 2)
        return sp_malloc(SIZE_MAX); /* cannot succeed: sp_malloc logs and aborts */
    size_t need = (n + (ALIGN - 1)) & ~(size_t)(ALIGN - 1);
    if (need > p->left) {
        size_t payload = need > BLOCK_MIN ? need : BLOCK_MIN;
        struct sp_req_block *b = sp_malloc(sizeof *b + payload);
        b->next = p->blocks;
        p->blocks = b;
        if (need > BLOCK_MIN) { /* a big one gets its own block; keep bumping the current one */
            memset(b->data, 0, n);
            return b->data;
        }
        p->cur = (char *)b->data;
        p->left = payload;
    }
    void *out = p->cur;
    p->cur += need;
    p->left -= need;
    memset(out, 0, n);
    return out;
}

char *sp_req_strdup(struct sp_request *r, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = sp_req_alloc(r, n);
    memcpy(d, s, n);
    return d;
}

void sp_req_on_cleanup(struct sp_request *r, void (*fn)(void *), void *arg)
{
    struct sp_req_priv *p = r->priv;
    struct sp_req_cleanup *c = sp_req_alloc(r, sizeof *c);
    c->fn = fn;
    c->arg = arg;
    c->next = p->cleanups;
    p->cleanups = c;
}

const char *sp_req_query(const struct sp_request *r, const char *key)
{
    if (!r->conn)
        return NULL;
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *sp_req_header(const struct sp_request *r, const char *name)
{
    if (!r->conn)
        return NULL;
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *sp_req_param(const struct sp_request *r, const char *name)
{
    for (int i = 0; i < r->nparams; i++)
        if (strcmp(r->params[i].name, name) == 0)
            return r->params[i].value;
    return NULL;
}

int sp_req_param_id(const struct sp_request *r, const char *name, int64_t *out)
{
    const char *s = sp_req_param(r, name);
    if (!s || !*s || strlen(s) > 18 || s[0] == '0')
        return SP_NOTFOUND;
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return SP_NOTFOUND;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return SP_OK;
}

/* Content types whose body is JSON (or treated as such: clients that forgot the header). */
static int json_content_type(const char *ct)
{
    if (!ct || !*ct)
        return 1;
    size_t n = strcspn(ct, ";");
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
        return 1;
    if (n >= 5 && strncasecmp(ct + n - 5, "+json", 5) == 0)
        return 1;
    /* scripts using `curl -d '{...}'` send form-urlencoded or text/plain */
    if ((n == 33 && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0) ||
        (n == 10 && strncasecmp(ct, "text/plain", 10) == 0))
        return 1;
    return 0;
}

void sp_req_parse_body(struct sp_request *req, const char *content_type)
{
    struct sp_req_priv *p = req->priv;
    req->json = NULL;
    if (!req->body || req->body_len == 0) {
        p->body_kind = SP_BODY_NONE;
        return;
    }
    if (!json_content_type(content_type)) {
        p->body_kind = SP_BODY_OTHER;
        return;
    }
    if (!sp_utf8_valid(req->body, req->body_len)) {
        p->body_kind = SP_BODY_MALFORMED;
        snprintf(p->body_error, sizeof p->body_error,
                 "request body is not valid UTF-8 (or contains a NUL byte)");
        return;
    }
    json_error_t err;
    json_t *j =
        json_loadb(req->body, req->body_len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
    if (!j) {
        p->body_kind = SP_BODY_MALFORMED;
        snprintf(p->body_error, sizeof p->body_error, "malformed JSON at line %d, column %d: %s",
                 err.line, err.column, err.text);
        return;
    }
    req->json = j;
    p->body_kind = SP_BODY_JSON;
}

int sp_req_json_object(struct sp_request *r, struct sp_response *resp)
{
    struct sp_req_priv *p = r->priv;
    switch (p ? p->body_kind : (r->json ? SP_BODY_JSON : SP_BODY_NONE)) {
    case SP_BODY_NONE:
        sp_resp_error(resp, 400, "validation_error", "body",
                      "a JSON object request body is required");
        return SP_INVALID;
    case SP_BODY_OTHER:
        sp_resp_error(resp, 415, "unsupported_media_type", "body",
                      "the request body must be application/json");
        return SP_INVALID;
    case SP_BODY_MALFORMED:
        sp_resp_error(resp, 400, "validation_error", "body", "%s", p->body_error);
        return SP_INVALID;
    default:
        break;
    }
    if (!json_is_object(r->json)) {
        sp_resp_error(resp, 400, "validation_error", "body",
                      json_is_null(r->json) ? "the request body must be a JSON object, not null"
                                            : "the request body must be a JSON object");
        return SP_INVALID;
    }
    return SP_OK;
}

void sp_req_suspend(struct sp_request *r)
{
    sp_server_suspend(r);
}

void sp_req_resume(struct sp_request *r)
{
    sp_server_resume(r);
}

int sp_req_abandoned(struct sp_request *r)
{
    return sp_server_abandoned(r);
}
