/*
 * upload.c — multipart/form-data bodies streamed to a temporary file (see upload.h).
 *
 * The part named "file" is written to <data>/uploads/.upload-XXXXXX through the multipart
 * parser's 64 KiB buffer; every other part is ignored. The size limit (SP_MAX_UPLOAD_BYTES)
 * applies to the whole body, from its Content-Length when there is one, else as the bytes
 * arrive. The request's cleanup closes the file and removes it unless the handler kept it.
 */
#include "http/upload.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api/api.h"
#include "app.h"
#include "auth/auth.h"
#include "auth/permissions.h"
#include "http/router.h"
#include "http/server.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/multipart.h"

/* Multipart framing around the file (boundaries, part headers) on top of the file limit. */
#define FRAMING_SLACK (64 * 1024)

struct sp_upload_state {
    struct sp_upload pub;
    struct sp_multipart *mp;
    int fd;
    int in_file;   /* the current part is the file */
    int files;     /* "file" parts seen */
    int write_err; /* errno of a failed write */
    int kept;
    uint64_t received, limit;
    char tmp[PATH_MAX];
};

static void state_cleanup(void *arg)
{
    struct sp_upload_state *u = arg;
    if (u->fd >= 0)
        close(u->fd);
    u->fd = -1;
    if (!u->kept && u->tmp[0])
        unlink(u->tmp);
    sp_multipart_free(u->mp);
    u->mp = NULL;
}

static int on_begin(void *ctx, const struct sp_multipart_part *p)
{
    struct sp_upload_state *u = ctx;
    u->in_file = strcmp(p->name, "file") == 0;
    if (!u->in_file)
        return 0;
    if (++u->files > 1) {
        snprintf(u->pub.message, sizeof u->pub.message, "send one \"file\" part, not several");
        return 1;
    }
    snprintf(u->pub.filename, sizeof u->pub.filename, "%s", p->filename);
    snprintf(u->pub.content_type, sizeof u->pub.content_type, "%s", p->content_type);
    return 0;
}

static int on_data(void *ctx, const char *data, size_t n)
{
    struct sp_upload_state *u = ctx;
    if (!u->in_file)
        return 0;
    while (n) {
        ssize_t w = write(u->fd, data, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            u->write_err = w < 0 ? errno : EIO;
            return 1;
        }
        data += w;
        n -= (size_t)w;
        u->pub.size += w;
    }
    return 0;
}

static int on_end(void *ctx)
{
    struct sp_upload_state *u = ctx;
    u->in_file = 0;
    return 0;
}

/* Is (method, path) an upload route? Its route is returned for the permission check. */
static const struct sp_route *upload_route(struct sp_request *req)
{
    const struct sp_router *rt = sp_router_global();
    if (!rt || !req->path || !req->method)
        return NULL;
    size_t plen = strlen(req->path);
    char *scratch = sp_req_alloc(req, plen + 1);
    struct sp_route_match m;
    if (sp_router_match(rt, req->method, req->path, scratch, plen + 1, &m) != SP_MATCH_FOUND)
        return NULL;
    for (const char *const *p = sp_api_upload_routes; *p; p++) {
        size_t ml = strlen(req->method);
        if (!strncmp(*p, req->method, ml) && (*p)[ml] == ' ' &&
            !strcmp(*p + ml + 1, m.route->pattern))
            return m.route;
    }
    return NULL;
}

static void too_large(struct sp_response *resp, uint64_t limit)
{
    sp_resp_error(resp, 413, "payload_too_large", "file",
                  "the upload is larger than %llu bytes (SP_MAX_UPLOAD_BYTES)",
                  (unsigned long long)limit);
}

int sp_upload_begin(struct sp_request *req, const char *content_type, struct sp_response *resp)
{
    struct sp_req_priv *priv = req->priv;
    char boundary[SP_MULTIPART_BOUNDARY_MAX + 1];
    if (!priv || !req->app || strcmp(req->method, "POST") != 0 || !content_type ||
        strncasecmp(content_type, "multipart/form-data", 19) != 0)
        return 0;
    const struct sp_route *route = upload_route(req);
    if (!route)
        return 0;

    /* Nothing is stored for a caller the handler would refuse anyway. */
    struct sp_err e = {{0}, {0}};
    struct sp_principal p;
    memset(&p, 0, sizeof p);
    int rc = sp_auth_authenticate(req->app, sp_req_header(req, "Authorization"), &p, &e);
    if (rc != SP_OK) {
        if (rc == SP_INVALID || rc == SP_NOTFOUND || rc == SP_FORBIDDEN) {
            sp_resp_error(resp, 401, "unauthorized", NULL, "%s",
                          e.message[0] ? e.message : "authentication required");
            sp_resp_header(resp, "WWW-Authenticate", "Bearer");
        } else {
            sp_resp_rc(resp, rc, &e);
        }
        return -1;
    }
    if (route->perm_resource >= 0 && !p.is_admin &&
        !sp_perms_has(p.perms, route->perm_resource, route->perm_action)) {
        sp_resp_error(resp, 403, "forbidden", NULL, "this needs the %s:%s permission",
                      sp_resource_name(route->perm_resource), sp_action_name(route->perm_action));
        return -1;
    }
    uint64_t limit = req->app->cfg.max_upload_bytes > 0 ? (uint64_t)req->app->cfg.max_upload_bytes
                                                        : (uint64_t)1 << 31;
    const char *cl = sp_req_header(req, "Content-Length");
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(cl, &end, 10);
        if (*cl >= '0' && *cl <= '9' && !*end && !errno && v > limit + FRAMING_SLACK) {
            too_large(resp, limit);
            return -1;
        }
    }
    if (sp_multipart_boundary(content_type, boundary, sizeof boundary) != SP_OK) {
        sp_resp_error(resp, 400, "validation_error", "body",
                      "the multipart/form-data Content-Type lacks a valid boundary");
        return -1;
    }

    struct sp_upload_state *u = sp_req_alloc(req, sizeof *u);
    u->fd = -1;
    u->limit = limit;
    int n = snprintf(u->tmp, sizeof u->tmp, "%s/uploads/.upload-XXXXXX", req->app->cfg.data_dir);
    if (n <= 0 || (size_t)n >= sizeof u->tmp || (u->fd = mkostemp(u->tmp, O_CLOEXEC)) < 0) {
        sp_error("upload", "cannot create a temporary file in %s/uploads: %s",
                 req->app->cfg.data_dir, strerror(errno));
        u->tmp[0] = '\0';
        sp_resp_error(resp, 500, "internal", NULL, "cannot store the upload");
        return -1;
    }
    struct sp_multipart_cbs cbs = {on_begin, on_data, on_end, u};
    u->mp = sp_multipart_new(boundary, &cbs);
    u->pub.path = u->tmp;
    u->pub.rc = SP_INVALID;
    sp_req_on_cleanup(req, state_cleanup, u);
    priv->upload = u;
    return 1;
}

int sp_upload_feed(struct sp_request *req, const char *data, size_t n, struct sp_response *resp)
{
    struct sp_req_priv *priv = req->priv;
    struct sp_upload_state *u = priv ? priv->upload : NULL;
    if (!u)
        return 0;
    u->received += n;
    if (u->received > u->limit + FRAMING_SLACK) {
        too_large(resp, u->limit);
        return -1;
    }
    int rc = sp_multipart_feed(u->mp, data, n);
    if (rc == SP_OK)
        return 0;
    if (u->write_err) {
        sp_error("upload", "cannot write %s: %s", u->tmp, strerror(u->write_err));
        sp_resp_error(resp, 500, "internal", NULL, "cannot store the upload: %s",
                      strerror(u->write_err));
    } else {
        sp_resp_error(resp, 400, "validation_error", "file", "%s",
                      u->pub.message[0] ? u->pub.message : sp_multipart_error(u->mp));
    }
    return -1;
}

void sp_upload_end(struct sp_request *req)
{
    struct sp_req_priv *priv = req->priv;
    struct sp_upload_state *u = priv ? priv->upload : NULL;
    if (!u)
        return;
    int rc = sp_multipart_finish(u->mp);
    if (rc != SP_OK) {
        snprintf(u->pub.message, sizeof u->pub.message, "%s", sp_multipart_error(u->mp));
        return;
    }
    if (!u->files) {
        snprintf(u->pub.message, sizeof u->pub.message,
                 "the form has no \"file\" part (multipart/form-data field `file`)");
        return;
    }
    u->pub.rc = SP_OK;
}

const struct sp_upload *sp_req_upload(struct sp_request *r)
{
    struct sp_req_priv *priv = r->priv;
    return priv && priv->upload ? &priv->upload->pub : NULL;
}

int sp_req_upload_keep(struct sp_request *r, const char *dest, struct sp_err *e)
{
    struct sp_req_priv *priv = r->priv;
    struct sp_upload_state *u = priv ? priv->upload : NULL;
    if (!u || u->kept || !u->tmp[0]) {
        sp_err_set(e, "file", "there is no uploaded file to keep");
        return SP_ERR;
    }
    if (u->fd >= 0) {
        if (fsync(u->fd) != 0 || close(u->fd) != 0) {
            u->fd = -1;
            sp_err_set(e, "file", "cannot store the upload: %s", strerror(errno));
            return SP_ERR;
        }
        u->fd = -1;
    }
    if (rename(u->tmp, dest) != 0) {
        sp_err_set(e, "file", "cannot store the upload: %s", strerror(errno));
        return SP_ERR;
    }
    u->kept = 1;
    return SP_OK;
}
