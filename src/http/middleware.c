/*
 * middleware.c — request id → metrics → (CORS preflight) → route → auth → permission → per-user
 * budget (ratelimit.c) → body check → handler → audit row (successful writes) → access log →
 * metrics. Each step answers an error or passes on.
 *
 * Apart from the audit row of a write (one cached INSERT), nothing here takes a lock or
 * allocates on the heap: ids come from a per-thread counter, the budget is lock-free, the
 * access-log line is built in a stack buffer and written with one write().
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "app.h"
#include "auth/auth.h"
#include "auth/permissions.h"
#include "config.h"
#include "http/middleware.h"
#include "http/ratelimit.h"
#include "http/router.h"
#include "http/server.h"
#include "obs/metrics.h"
#include "store/audit.h"
#include "store/db.h"
#include "util/log.h"
#include "util/time.h"

/* ---- trusted proxies ---- */

#define MAX_PROXIES 32

struct cidr {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int bits;
};

static struct cidr proxies[MAX_PROXIES];
static int nproxies;

static int parse_cidr(const char *s, size_t n, struct cidr *c)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *slash = strchr(buf, '/');
    int bits = -1;
    if (slash) {
        *slash = '\0';
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || b < 0 || b > 128)
            return -1;
        bits = (int)b;
    }
    memset(c, 0, sizeof *c);
    if (inet_pton(AF_INET, buf, c->addr) == 1) {
        c->family = AF_INET;
        if (bits > 32)
            return -1;
        c->bits = bits < 0 ? 32 : bits;
    } else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
        c->family = AF_INET6;
        c->bits = bits < 0 ? 128 : bits;
    } else {
        return -1;
    }
    return 0;
}

int sp_mw_init(const struct sp_config *cfg, struct sp_err *e)
{
    sp_ratelimit_init(cfg->rate_limit_per_min);
    nproxies = 0;
    const char *p = cfg->trusted_proxies;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, ", ");
        if (nproxies == MAX_PROXIES || parse_cidr(p, n, &proxies[nproxies]) != 0) {
            sp_err_set(e, "trusted_proxies",
                       "trusted proxy '%.*s' is not an IP address or CIDR (at most %d entries)",
                       (int)(n > 64 ? 64 : n), p, MAX_PROXIES);
            return SP_INVALID;
        }
        nproxies++;
        p += n;
    }
    return SP_OK;
}

/* Normalise to (family, 16 bytes): IPv4-mapped IPv6 addresses count as IPv4. */
static int addr_key(int family, const void *a, unsigned char out[16])
{
    if (family == AF_INET) {
        memcpy(out, a, 4);
        return AF_INET;
    }
    const unsigned char *b = a;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(b, mapped, 12) == 0) {
        memcpy(out, b + 12, 4);
        return AF_INET;
    }
    memcpy(out, b, 16);
    return AF_INET6;
}

static int trusted(int family, const unsigned char *addr)
{
    for (int i = 0; i < nproxies; i++) {
        const struct cidr *c = &proxies[i];
        if (c->family != family)
            continue;
        int full = c->bits / 8, rest = c->bits % 8;
        if (memcmp(c->addr, addr, (size_t)full) != 0)
            continue;
        if (rest) {
            unsigned char mask = (unsigned char)(0xff << (8 - rest));
            if ((c->addr[full] & mask) != (addr[full] & mask))
                continue;
        }
        return 1;
    }
    return 0;
}

/* IPv4 by hand: glibc's inet_ntop formats it with sprintf, ~1,700 instructions on every
 * request (callgrind), for the address the access log and the rate limits need. */
static void format_addr(int family, const unsigned char *a, char *out, size_t outlen)
{
    if (family == AF_INET && outlen >= 16) {
        char *p = out;
        for (int i = 0; i < 4; i++) {
            unsigned v = a[i];
            if (v >= 100)
                *p++ = (char)('0' + v / 100);
            if (v >= 10)
                *p++ = (char)('0' + v / 10 % 10);
            *p++ = (char)('0' + v % 10);
            *p++ = i < 3 ? '.' : '\0';
        }
        return;
    }
    if (!inet_ntop(family, a, out, (socklen_t)outlen))
        snprintf(out, outlen, "unknown");
}

void sp_mw_client_ip(const struct sockaddr *peer, const char *xff, char *out, size_t outlen)
{
    unsigned char a[16];
    int fam;
    if (peer && peer->sa_family == AF_INET) {
        fam = addr_key(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, a);
    } else if (peer && peer->sa_family == AF_INET6) {
        fam = addr_key(AF_INET6, &((const struct sockaddr_in6 *)peer)->sin6_addr, a);
    } else {
        snprintf(out, outlen, "unknown");
        return;
    }
    format_addr(fam, a, out, outlen);
    if (!xff || nproxies == 0 || !trusted(fam, a))
        return;
    /* walk X-Forwarded-For from the right: the first hop not a trusted proxy is the client */
    size_t end = strlen(xff);
    while (end > 0) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        size_t s = start, e = end;
        while (s < e && (xff[s] == ' ' || xff[s] == '\t'))
            s++;
        while (e > s && (xff[e - 1] == ' ' || xff[e - 1] == '\t'))
            e--;
        char buf[64];
        unsigned char raw[16], key[16];
        if (e - s == 0 || e - s >= sizeof buf)
            return; /* garbage: keep the last trusted address */
        memcpy(buf, xff + s, e - s);
        buf[e - s] = '\0';
        int f;
        if (inet_pton(AF_INET, buf, raw) == 1)
            f = addr_key(AF_INET, raw, key);
        else if (inet_pton(AF_INET6, buf, raw) == 1)
            f = addr_key(AF_INET6, raw, key);
        else
            return;
        format_addr(f, key, out, outlen);
        if (!trusted(f, key))
            return;
        end = start ? start - 1 : 0;
    }
}

/* ---- request id ---- */

int sp_mw_request_id_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (n == 64 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return n > 0;
}

static _Thread_local uint64_t rid_prefix;
static _Thread_local uint32_t rid_counter;

static void new_request_id(char *out, size_t outlen)
{
    static const char hex[] = "0123456789abcdef";
    if (!rid_prefix) {
        if (getrandom(&rid_prefix, sizeof rid_prefix, 0) != sizeof rid_prefix)
            rid_prefix = (uint64_t)sp_time_mono_ns() ^ (uint64_t)(uintptr_t)&rid_prefix;
        rid_prefix |= 1;
    }
    uint32_t c = ++rid_counter;
    if (outlen < 25)
        return;
    for (int i = 0; i < 16; i++)
        out[i] = hex[(rid_prefix >> (60 - 4 * i)) & 15];
    for (int i = 0; i < 8; i++)
        out[16 + i] = hex[(c >> (28 - 4 * i)) & 15];
    out[24] = '\0';
}

void sp_mw_begin(struct sp_request *req, const struct sockaddr *peer)
{
    req->start_ns = sp_time_mono_ns();
    const char *rid = sp_req_header(req, "X-Request-Id");
    if (rid && sp_mw_request_id_ok(rid))
        snprintf(req->request_id, sizeof req->request_id, "%s", rid);
    else
        new_request_id(req->request_id, sizeof req->request_id);
    sp_mw_client_ip(peer, nproxies ? sp_req_header(req, "X-Forwarded-For") : NULL, req->client_ip,
                    sizeof req->client_ip);
    sp_metrics_request_begin();
}

/* ---- audit trail ----
 * One audit_log row per successful write under /api by a signed-in user, written before the
 * answer is queued (one cached INSERT, a few microseconds on SQLite). The action is derived from
 * the route pattern unless the handler named it: "/api/releases/{id}" + PUT → "releases.update",
 * "/api/wizard/{id}/upload" + POST → "wizard.upload". */

static int is_read_method(const char *m)
{
    return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS");
}

/* The first path segment after /api/ of the route pattern into resource, and the default
 * action ("<resource>.<last literal segment after it>" or "<resource>.<verb>") into action. */
static void audit_names(const struct sp_request *req, char *resource, size_t rlen, char *action,
                        size_t alen)
{
    const char *p = req->route ? req->route : "";
    if (strncmp(p, "/api/", 5) == 0)
        p += 5;
    size_t n = strcspn(p, "/");
    snprintf(resource, rlen, "%.*s", (int)(n ? n : 5), n ? p : "other");
    const char *last = NULL;
    size_t last_n = 0;
    for (const char *q = p + n; *q == '/';) {
        q++;
        size_t m = strcspn(q, "/");
        if (m && *q != '{') {
            last = q;
            last_n = m;
        }
        q += m;
    }
    const char *verb = !strcmp(req->method, "POST")     ? "create"
                       : !strcmp(req->method, "DELETE") ? "delete"
                                                        : "update";
    if (last)
        snprintf(action, alen, "%s.%.*s", resource, (int)last_n, last);
    else
        snprintf(action, alen, "%s.%s", resource, verb);
}

/* The id a 201 answer created: its "id" member, else "<x>_id" for the first such member. */
static int64_t created_id(const struct sp_response *resp)
{
    if (!resp || resp->status != 201 || !resp->body || resp->body_len > 65536)
        return 0;
    json_t *j = json_loadb(resp->body, resp->body_len, 0, NULL);
    int64_t id = 0;
    if (json_is_object(j)) {
        json_t *v = json_object_get(j, "id");
        if (json_is_integer(v)) {
            id = json_integer_value(v);
        } else {
            const char *k;
            json_object_foreach(j, k, v) {
                size_t kl = strlen(k);
                if (kl > 3 && !strcmp(k + kl - 3, "_id") && json_is_integer(v)) {
                    id = json_integer_value(v);
                    break;
                }
            }
        }
    }
    json_decref(j);
    return id > 0 ? id : 0;
}

static void audit_write(const struct sp_request *req, int status, const struct sp_response *resp)
{
    if (req->audit_done || status < 200 || status > 299 || req->principal.user_id <= 0 ||
        !req->method || is_read_method(req->method) || !req->path ||
        strncmp(req->path, "/api/", 5) != 0)
        return;
    struct sp_audit_entry e;
    memset(&e, 0, sizeof e);
    char resource[SP_AUDIT_RESOURCE_MAX + 1], action[SP_AUDIT_ACTION_MAX + 1];
    audit_names(req, resource, sizeof resource, action, sizeof action);
    char summary[SP_AUDIT_SUMMARY_MAX + 1];
    if (req->audit_summary && *req->audit_summary)
        snprintf(summary, sizeof summary, "%s", req->audit_summary);
    else
        snprintf(summary, sizeof summary, "%s %s", req->method, req->path);
    e.user_id = req->principal.user_id;
    e.resource_id = req->audit_resource_id;
    if (e.resource_id <= 0 && sp_req_param_id(req, "id", &e.resource_id) != SP_OK)
        e.resource_id = 0;
    if (e.resource_id <= 0)
        e.resource_id = created_id(resp);
    sp_audit_entry_set(&e, req->principal.username,
                       req->audit_action && *req->audit_action ? req->audit_action : action,
                       resource, req->client_ip, req->request_id, summary);
    int rc = sp_store_audit_add(sp_db_thread(), &e, NULL);
    if (rc != SP_OK)
        sp_warn("audit row not written", "%s %s (request %s): %s", req->method, req->path,
                req->request_id, sp_rc_name(rc));
}

void sp_req_audit(struct sp_request *r, const struct sp_response *resp)
{
    audit_write(r, resp ? resp->status : 0, resp);
    r->audit_done = true;
}

/* ---- dispatch ---- */

static int is_loopback(const char *ip)
{
    return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0;
}

static int authenticate(struct sp_request *req, struct sp_response *resp)
{
    struct sp_err e = {{0}, {0}};
    int rc =
        sp_auth_authenticate(req->app, sp_req_header(req, "Authorization"), &req->principal, &e);
    if (rc == SP_OK)
        return SP_OK;
    memset(&req->principal, 0, sizeof req->principal);
    if (rc == SP_INVALID || rc == SP_NOTFOUND || rc == SP_FORBIDDEN) {
        sp_resp_error(resp, 401, "unauthorized", NULL, "%s",
                      e.message[0] ? e.message : "authentication required");
        sp_resp_header(resp, "WWW-Authenticate", "Bearer");
    } else {
        sp_resp_rc(resp, rc, &e);
    }
    return SP_INVALID;
}

static void preflight(struct sp_request *req, struct sp_response *resp, int mr,
                      const struct sp_route_match *m)
{
    req->route = "preflight";
    if (mr == SP_MATCH_NOT_FOUND) {
        sp_resp_error(resp, 404, "not_found", NULL, "no such endpoint");
        return;
    }
    char allow[128];
    snprintf(allow, sizeof allow, "%s, OPTIONS", m->allow);
    sp_resp_take(resp, 204, NULL, NULL, 0);
    sp_resp_header(resp, "Allow", allow);
    if (sp_resp_cors_origin(req) && sp_req_header(req, "Access-Control-Request-Method")) {
        sp_resp_header(resp, "Access-Control-Allow-Methods", allow);
        sp_resp_header(resp, "Access-Control-Allow-Headers",
                       "Authorization, Content-Type, X-Request-Id");
        sp_resp_header(resp, "Access-Control-Max-Age", "600");
    }
}

int sp_mw_dispatch(struct sp_request *req, struct sp_response *resp)
{
    struct sp_req_priv *priv = req->priv;
    const struct sp_router *rt = sp_router_global();
    size_t plen = strlen(req->path);
    char *scratch = sp_req_alloc(req, plen + 1);
    struct sp_route_match m;
    int mr = sp_router_match(rt, req->method, req->path, scratch, plen + 1, &m);

    if (strcmp(req->method, "OPTIONS") == 0) {
        preflight(req, resp, mr, &m);
        return SP_OK;
    }
    if (mr == SP_MATCH_NOT_FOUND) {
        sp_resp_error(resp, 404, "not_found", NULL, "no such endpoint");
        return SP_OK;
    }
    if (mr == SP_MATCH_BAD_METHOD) {
        sp_resp_error(resp, 405, "method_not_allowed", NULL, "method %s is not allowed here",
                      req->method);
        sp_resp_header(resp, "Allow", m.allow);
        return SP_OK;
    }
    const struct sp_route *route = m.route;
    req->route = route->pattern;
    req->nparams = m.nparams;
    for (int i = 0; i < m.nparams; i++) {
        req->params[i].name = m.params[i].name;
        req->params[i].value = m.params[i].value;
    }

    int authed = 0;
    if (route->auth == SP_AUTH_USER) {
        if (authenticate(req, resp) != SP_OK)
            return SP_OK;
        authed = 1;
    } else if (route->auth == SP_AUTH_METRICS) {
        if (!req->app->cfg.metrics_public && !is_loopback(req->client_ip)) {
            if (authenticate(req, resp) != SP_OK)
                return SP_OK;
            authed = 1;
        }
    }
    if (authed && route->perm_resource >= 0 && !req->principal.is_admin &&
        !sp_perms_has(req->principal.perms, route->perm_resource, route->perm_action)) {
        sp_resp_error(
            resp, 403, "forbidden", NULL, "this needs the %s:%s permission",
            sp_resource_name(route->perm_resource) ? sp_resource_name(route->perm_resource) : "?",
            sp_action_name(route->perm_action) ? sp_action_name(route->perm_action) : "?");
        return SP_OK;
    }
    if (authed) {
        int wait = sp_ratelimit_check(req->principal.user_id, sp_time_now_ms());
        if (wait > 0) {
            char ra[16];
            snprintf(ra, sizeof ra, "%d", wait);
            sp_resp_error(resp, 429, "rate_limited", NULL,
                          "too many requests: at most %d per minute; retry in %d s",
                          sp_ratelimit_limit(), wait);
            sp_resp_header(resp, "Retry-After", ra);
            sp_metrics_rate_limited();
            return SP_OK;
        }
    }
    if (priv && priv->body_kind == SP_BODY_MALFORMED) {
        sp_resp_error(resp, 400, "validation_error", "body", "%s", priv->body_error);
        return SP_OK;
    }

    int rc = route->handler(req, resp);
    if (rc == SP_AGAIN && (!priv || priv->suspended))
        return SP_AGAIN;
    if (rc == SP_AGAIN) {
        sp_error("handler misuse", "%s %s returned SP_AGAIN without suspending", req->method,
                 route->pattern);
        sp_resp_error(resp, 500, "internal", NULL, "internal server error");
    } else if (resp->status == 0) {
        if (rc == SP_OK)
            sp_error("handler misuse", "%s %s returned no response", req->method, route->pattern);
        sp_resp_rc(resp, rc == SP_OK ? SP_ERR : rc, NULL);
    }
    sp_req_audit(req, resp);
    /* A SELECT left part-way (a handler read only the first row) would pin a read snapshot
     * and block WAL checkpoints: reset such statements before the thread moves on. */
    struct sp_db *idle_db = sp_db_thread();
    if (idle_db)
        sp_db_idle(idle_db);
    return SP_OK;
}

/* ---- end: access log + metrics ---- */

static const char *method_label(const char *m)
{
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(m, known[i]) == 0)
            return known[i];
    return "OTHER";
}

/* Append s as JSON string contents (no quotes), at most max input bytes, never past end. */
static char *put_json(char *p, char *end, const char *s, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; s && s[i] && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        if (end - p < 7)
            break;
        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = (char)c;
        } else if (c < 0x20 || c >= 0x7f) {
            /* bytes beyond ASCII are escaped one by one: the line stays valid JSON whatever
             * the path held (paths are decoded and may be any bytes) */
            *p++ = '\\';
            *p++ = 'u';
            *p++ = '0';
            *p++ = '0';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        } else {
            *p++ = (char)c;
        }
    }
    return p;
}

static char *put_str(char *p, char *end, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(end - p) < n)
        n = (size_t)(end - p);
    memcpy(p, s, n);
    return p + n;
}

static _Thread_local int64_t ts_sec = -1;
static _Thread_local char ts_base[32]; /* "2026-11-27T11:41:06" */

void sp_mw_end(const struct sp_request *req, int status, uint64_t bytes)
{
    int64_t now = sp_time_mono_ns();
    double secs = (double)(now - req->start_ns) / 1e9;
    const char *method = method_label(req->method ? req->method : "OTHER");
    const char *route = req->route ? req->route : "unmatched";
    if (status == 0)
        status = 499;
    audit_write(req, status, NULL); /* parked writes whose worker did not record them */
    sp_metrics_request_end(route, method, status, secs);
    if (!sp_log_enabled(SP_LOG_INFO))
        return;

    int64_t ms = sp_time_now_ms();
    if (ms / 1000 != ts_sec) {
        ts_sec = ms / 1000;
        char full[40];
        sp_time_rfc3339(ts_sec, full, sizeof full);
        snprintf(ts_base, sizeof ts_base, "%.19s", full);
    }
    char line[2048];
    char *p = line, *end = line + sizeof line - 4; /* room for the closing "}\n */
    char num[160];
    snprintf(num, sizeof num,
             "{\"ts\":\"%s.%03dZ\",\"level\":\"info\",\"msg\":\"request\","
             "\"request_id\":\"",
             ts_base, (int)(ms % 1000));
    p = put_str(p, end, num);
    p = put_json(p, end, req->request_id, 72);
    p = put_str(p, end, "\",\"method\":\"");
    p = put_json(p, end, req->method, 16);
    p = put_str(p, end, "\",\"path\":\"");
    p = put_json(p, end, req->path, 512);
    p = put_str(p, end, "\",\"route\":\"");
    p = put_json(p, end, route, 128);
    if (req->principal.user_id)
        snprintf(num, sizeof num,
                 "\",\"status\":%d,\"duration_ms\":%.3f,\"bytes\":%llu,\"user_id\":%lld,\"ip\":\"",
                 status, secs * 1000.0, (unsigned long long)bytes,
                 (long long)req->principal.user_id);
    else
        snprintf(num, sizeof num,
                 "\",\"status\":%d,\"duration_ms\":%.3f,\"bytes\":%llu,\"user_id\":null,\"ip\":\"",
                 status, secs * 1000.0, (unsigned long long)bytes);
    p = put_str(p, end, num);
    p = put_json(p, end, req->client_ip, 64);
    p = put_str(p, line + sizeof line, "\"}\n");
    sp_log_raw(line, (size_t)(p - line));
}
