/*
 * release_actions.c — what a packed release offers (API.md, PACKAGING.md §7):
 *   GET  /api/releases/{id}/files            {release_id, name, files: [{name, size, crc32}]}
 *   GET  /api/releases/{id}/files/{name}     one file streamed from disk (Range → 206)
 *   GET  /api/releases/{id}/nfo              the NFO as UTF-8 text
 *   POST /api/releases/{id}/actions/{action} nfofix | readnfo | repack | dirfix: a new release
 *                                            linked to this one (parent_id), packed by a job
 *                                            → 202 {message, job_id, release_id}
 * Reading needs the owner or releases:read; an action needs releases:write (the new release
 * belongs to the caller) and read access to the original.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "api/common.h"
#include "app.h"
#include "auth/permissions.h"
#include "cache/cache.h"
#include "domain/meta.h"
#include "domain/nfo.h"
#include "domain/package.h"
#include "jobs/release_pack.h"
#include "jobs/runner.h"
#include "store/db.h"
#include "store/jobs.h"
#include "store/release_files.h"
#include "store/releases.h"
#include "store/wizard.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/pool.h"
#include "util/time.h"

#define NFO_MAX (1024 * 1024)
#define REASON_MAX 2000

/* Release {id} readable by the caller; 404/403/503 answered here. */
static int load(struct sp_request *req, struct sp_response *resp, struct sp_db **db,
                struct sp_release *r)
{
    return sp_api_release_load(req, resp, SP_ACT_READ, "read this release", db, r);
}

/* <data>/releases/<name>/<file> into out; 0, or -1 when the release has no usable name. */
static int file_path(struct sp_request *req, const struct sp_release *r, const char *file,
                     char *out, size_t outlen)
{
    if (!r->name || !*r->name || strchr(r->name, '/') || r->name[0] == '.' || strchr(file, '/') ||
        file[0] == '.')
        return -1;
    int n = snprintf(out, outlen, "%s/releases/%s/%s", req->app->cfg.data_dir, r->name, file);
    return n > 0 && (size_t)n < outlen ? 0 : -1;
}

/* ---- files ---- */

/* GET /api/releases/{id}/files → 200 {release_id, name, files: [{name, size, crc32}]}. */
static int h_files(struct sp_request *req, struct sp_response *resp)
{
    struct sp_db *db;
    struct sp_release r;
    if (load(req, resp, &db, &r) != SP_OK)
        return SP_OK;
    struct sp_release_file *files = NULL;
    size_t n = 0;
    int rc = sp_store_release_files(db, r.id, &files, &n);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, NULL, "release");
        sp_release_clear(&r);
        return SP_OK;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, json_pack("{s:s, s:I, s:s}", "name", files[i].name, "size",
                                               (json_int_t)files[i].size, "crc32", files[i].crc32));
    sp_resp_json(resp, 200,
                 json_pack("{s:I, s:o, s:o}", "release_id", (json_int_t)r.id, "name",
                           sp_api_str_or_null(r.name), "files", items));
    sp_free(files);
    sp_release_clear(&r);
    return SP_OK;
}

/* Parse a single-range "bytes=a-b" / "bytes=a-" / "bytes=-n" against size. Returns 1 with
 * [*off, *off + *len) set, 0 when the header is absent, malformed or multi-range (serve the
 * whole file), -1 when it cannot be satisfied (416). */
static int parse_range(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
    if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return 0;
    const char *p = h + 6;
    while (*p == ' ')
        p++;
    char *end;
    if (*p == '-') {
        if (p[1] < '0' || p[1] > '9')
            return 0;
        errno = 0;
        unsigned long long n = strtoull(p + 1, &end, 10);
        if (errno || *end)
            return 0;
        if (n == 0 || size == 0)
            return -1;
        if (n > size)
            n = size;
        *off = size - n;
        *len = n;
        return 1;
    }
    if (*p < '0' || *p > '9')
        return 0;
    errno = 0;
    unsigned long long a = strtoull(p, &end, 10);
    if (errno || *end != '-')
        return 0;
    p = end + 1;
    unsigned long long b = size ? size - 1 : 0;
    if (*p) {
        if (*p < '0' || *p > '9')
            return 0;
        errno = 0;
        b = strtoull(p, &end, 10);
        if (errno || *end || b < a)
            return 0;
    }
    if (a >= size)
        return -1;
    if (b >= size)
        b = size - 1;
    *off = a;
    *len = b - a + 1;
    return 1;
}

static const char *ctype_of(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && !strcasecmp(name + n - 4, ".zip") ? "application/zip"
                                                      : "application/octet-stream";
}

/* GET /api/releases/{id}/files/{name} → 200 the file (206 for a Range, 416 when the range is
 * beyond the end). */
static int h_file(struct sp_request *req, struct sp_response *resp)
{
    struct sp_db *db;
    struct sp_release r;
    const char *name = sp_req_param(req, "name");
    if (load(req, resp, &db, &r) != SP_OK)
        return SP_OK;
    struct sp_release_file f;
    char path[4096];
    /* only the files the release lists: the name is never used to walk the disk */
    int rc = name ? sp_store_release_file_get(db, r.id, name, &f) : SP_NOTFOUND;
    if (rc != SP_OK || file_path(req, &r, f.name, path, sizeof path) != 0) {
        sp_api_fail(resp, rc == SP_OK ? SP_NOTFOUND : rc, NULL, "file");
        sp_release_clear(&r);
        return SP_OK;
    }
    sp_release_clear(&r);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        sp_warn("release file missing", "%s: %s", path, strerror(errno));
        sp_api_fail(resp, SP_NOTFOUND, NULL, "file");
        return SP_OK;
    }
    uint64_t size = (uint64_t)st.st_size, off = 0, len = size;
    int rg = parse_range(sp_req_header(req, "Range"), size, &off, &len);
    char hdr[128];
    if (rg < 0) {
        close(fd);
        sp_resp_error(resp, 416, "validation_error", "Range",
                      "the range is beyond the end of the file (%" PRIu64 " bytes)", size);
        snprintf(hdr, sizeof hdr, "bytes */%" PRIu64, size);
        sp_resp_header(resp, "Content-Range", hdr);
        return SP_OK;
    }
    sp_resp_file(resp, rg > 0 ? 206 : 200, ctype_of(f.name), fd, off, len);
    sp_resp_header(resp, "Accept-Ranges", "bytes");
    if (rg > 0) {
        snprintf(hdr, sizeof hdr, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, off, off + len - 1,
                 size);
        sp_resp_header(resp, "Content-Range", hdr);
    }
    snprintf(hdr, sizeof hdr, "attachment; filename=\"%s\"", f.name);
    sp_resp_header(resp, "Content-Disposition", hdr);
    snprintf(hdr, sizeof hdr, "\"%s-%" PRIu64 "\"", f.crc32, size);
    sp_resp_header(resp, "ETag", hdr);
    return SP_OK;
}

/* GET /api/releases/{id}/nfo → 200 text/plain (UTF-8). */
static int h_nfo(struct sp_request *req, struct sp_response *resp)
{
    struct sp_db *db;
    struct sp_release r;
    if (load(req, resp, &db, &r) != SP_OK)
        return SP_OK;
    struct sp_release_file *files = NULL;
    size_t n = 0;
    int rc = sp_store_release_files(db, r.id, &files, &n);
    const char *nfo = NULL;
    for (size_t i = 0; rc == SP_OK && i < n; i++) {
        size_t l = strlen(files[i].name);
        if (l > 4 && !strcasecmp(files[i].name + l - 4, ".nfo"))
            nfo = files[i].name;
    }
    char path[4096];
    if (rc != SP_OK || !nfo || file_path(req, &r, nfo, path, sizeof path) != 0) {
        struct sp_err e = {{0}, {0}};
        if (rc == SP_OK)
            sp_err_set(&e, "", "release %lld has no NFO yet (it is %s)", (long long)r.id, r.status);
        sp_api_fail(resp, rc == SP_OK ? SP_NOTFOUND : rc, &e, "NFO");
        goto out;
    }
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > NFO_MAX) {
        if (fd >= 0)
            close(fd);
        sp_api_fail(resp, SP_NOTFOUND, NULL, "NFO");
        goto out;
    }
    unsigned char *raw = sp_malloc((size_t)st.st_size + 1);
    ssize_t got = read(fd, raw, (size_t)st.st_size);
    close(fd);
    if (got != st.st_size) {
        sp_free(raw);
        sp_api_fail(resp, SP_ERR, NULL, "NFO");
        goto out;
    }
    struct sp_buf text = SP_BUF_INIT;
    sp_cp437_decode(raw, (size_t)got, &text);
    sp_free(raw);
    sp_resp_take(resp, 200, "text/plain; charset=utf-8", sp_buf_steal(&text), text.len);
out:
    sp_free(files);
    sp_release_clear(&r);
    return SP_OK;
}

/* ---- actions ---- */

static const struct {
    const char *action;
    int tag;                          /* enum sp_extra_tag */
    int names_parent;                 /* the NFO names the release it fixes (`fixes`) */
    const char *note_pre, *note_post; /* default NFO note around the original dirname */
} actions[] = {
    {"nfofix", SP_TAG_NFOFIX, 1, "NFOFiX for ", ": corrected NFO."},
    {"readnfo", SP_TAG_READNFO, 0, NULL, NULL},
    {"repack", SP_TAG_REPACK, 1, "REPACK of ", "."},
    {"dirfix", SP_TAG_DIRFIX, 1, "DiRFiX: ", " had a wrong directory name."},
};

struct action_task {
    struct sp_request *req;
    struct sp_response *resp;
    int which;
};

/* A hard link to the original upload (same file system), else a copy. 0 or -1 (errno). */
static int link_or_copy(const char *from, const char *to)
{
    if (link(from, to) == 0)
        return 0;
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -1;
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (out < 0) {
        close(in);
        return -1;
    }
    char *buf = sp_malloc(1 << 20);
    ssize_t n;
    int rc = 0;
    while ((n = read(in, buf, 1 << 20)) > 0) {
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            if (w <= 0) {
                rc = -1;
                break;
            }
            done += w;
        }
        if (rc)
            break;
    }
    if (n < 0 || fsync(out) != 0)
        rc = -1;
    sp_free(buf);
    close(in);
    if (close(out) != 0)
        rc = -1;
    if (rc)
        unlink(to);
    return rc;
}

/* Runs on the request pool: validate, plan the new release (dry run), then create it. */
static void do_action(struct action_task *t)
{
    struct sp_request *req = t->req;
    struct sp_response *resp = t->resp;
    const char *action = actions[t->which].action;
    struct sp_db *db;
    struct sp_release orig, derived;
    struct sp_err e = {{0}, {0}};
    struct sp_release_pack p;
    struct sp_pack_result res;
    struct sp_problems problems = SP_PROBLEMS_INIT;
    json_t *body = req->json, *cfg = NULL, *meta = NULL, *patch = NULL;
    char *cfg_text = NULL, *meta_text = NULL, *tmpl_copy = NULL;
    char updir[4096] = "", newfile[4096 + 130] = "", rel_path[300] = "";
    memset(&p, 0, sizeof p);
    sp_meta_init(&p.meta);
    memset(&res, 0, sizeof res);
    memset(&derived, 0, sizeof derived);

    if (load(req, resp, &db, &orig) != SP_OK)
        return;
    if (strcmp(orig.status, "completed") != 0 || !orig.name) {
        sp_err_set(&e, "status",
                   "release %lld is %s: only a packed (completed) release can be "
                   "fixed",
                   (long long)orig.id, orig.status);
        sp_resp_rc(resp, SP_CONFLICT, &e);
        goto out;
    }

    /* overrides */
    cfg = sp_release_config(&orig);
    meta = orig.release_metadata ? json_loads(orig.release_metadata, 0, NULL) : NULL;
    if (!json_is_object(meta)) {
        json_decref(meta);
        meta = json_object();
    }
    if (body) {
        static const char *const known[] = {"release_metadata", "zip_size", "template_id",
                                            "template",         "reason",   NULL};
        const char *k;
        json_t *v;
        json_object_foreach(body, k, v)
        {
            int ok = 0;
            for (int i = 0; known[i]; i++)
                ok |= !strcmp(known[i], k);
            if (!ok) {
                sp_err_set(&e, "body",
                           "unknown field '%.40s' (known: release_metadata, zip_size,"
                           " template_id, template, reason)",
                           k);
                goto invalid;
            }
        }
        json_t *m = NULL;
        if (sp_json_object(body, "release_metadata", SP_OPTIONAL, &m, &e) == SP_INVALID)
            goto invalid;
        if (m) {
            patch = json_deep_copy(m);
            if (sp_api_release_metadata_check(patch, meta, "release_metadata", &e) != SP_OK)
                goto invalid;
            const char *pk;
            json_t *pv;
            json_object_foreach(patch, pk, pv)
            {
                if (json_is_null(pv))
                    json_object_del(meta, pk);
                else
                    json_object_set(meta, pk, pv);
            }
        }
        json_t *zs = json_object_get(body, "zip_size");
        if (zs && !json_is_null(zs)) {
            int64_t bytes = 0;
            char buf[32];
            const char *txt = json_is_string(zs) ? json_string_value(zs) : NULL;
            if (json_is_integer(zs) && json_integer_value(zs) > 250) {
                snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(zs));
                txt = buf;
            }
            if (!txt || sp_zip_size_parse(txt, &bytes, &e) != SP_OK) {
                sp_err_set(&e, "zip_size",
                           "zip_size must be one of 5000000, 10000000, 50000000,"
                           " 100000000, 150000000, 200000000, 250000000 (or \"5MB\" ...)");
                goto invalid;
            }
            json_object_set_new(cfg, "zip_size", json_integer(bytes));
        }
        const char *tid = NULL, *text = NULL, *reason = NULL;
        if (sp_json_string(body, "template_id", SP_OPTIONAL, 1, 32, &tid, &e) == SP_INVALID ||
            sp_json_string(body, "template", SP_OPTIONAL, 1, 65536, &text, &e) == SP_INVALID ||
            sp_json_string(body, "reason", SP_OPTIONAL, 1, REASON_MAX, &reason, &e) == SP_INVALID)
            goto invalid;
        if (tid && text) {
            sp_err_set(&e, "template", "give template_id or template, not both");
            goto invalid;
        }
        if (tid && !sp_nfo_template(tid)) {
            sp_err_set(&e, "template_id", "unknown template '%s' (built-in: classic, plain)", tid);
            goto invalid;
        }
        if (tid) {
            json_object_set_new(cfg, "template_id", json_string(tid));
            json_object_del(cfg, "template");
        } else if (text) {
            json_object_set_new(cfg, "template_id", json_string("custom"));
            json_object_set_new(cfg, "template", json_string(text));
        }
        if (reason)
            json_object_set_new(cfg, "notes", json_string(reason));
    }

    /* tags: the original's plus this action's; the NFO names the release it fixes */
    struct sp_meta tm;
    sp_meta_init(&tm);
    const char *old_tags = json_string_value(json_object_get(cfg, "tags"));
    if (old_tags)
        sp_meta_put(&tm, SP_META_TAGS, old_tags);
    int bits = sp_meta_tags(&tm);
    sp_meta_free(&tm);
    if (bits < 0)
        bits = 0;
    bits |= actions[t->which].tag;
    char tags[128] = "";
    for (int b = 1; b <= SP_TAG_REPACK; b <<= 1)
        if (bits & b)
            snprintf(tags + strlen(tags), sizeof tags - strlen(tags), "%s%s", tags[0] ? " " : "",
                     sp_extra_tag_name(b));
    json_object_set_new(cfg, "tags", json_string(tags));
    if (actions[t->which].names_parent)
        json_object_set_new(cfg, "fixes", json_string(orig.name));
    else
        json_object_del(cfg, "fixes");
    if (!json_object_get(cfg, "notes") && actions[t->which].note_pre) {
        char note[400];
        snprintf(note, sizeof note, "%s%s%s", actions[t->which].note_pre, orig.name,
                 actions[t->which].note_post);
        json_object_set_new(cfg, "notes", json_string(note));
    }
    json_object_set_new(cfg, "action", json_string(action));
    json_object_set_new(cfg, "parent", json_string(orig.name));
    cfg_text = sp_json_dump(cfg, NULL);
    meta_text = sp_json_dump(meta, NULL);

    /* plan it as it will be packed: every rule checked now, the new name known */
    derived = orig;
    derived.id = 0;
    derived.name = NULL;
    derived.release_metadata = meta_text;
    derived.config = cfg_text;
    if (sp_release_pack_prepare(req->app->cfg.data_dir, &derived, action, &p, &e) != SP_OK)
        goto invalid;
    int rc = sp_release_pack_plan(&p, &res, &problems, &e);
    if (rc != SP_OK) {
        if (rc == SP_NOTFOUND)
            sp_err_set(&e, "file",
                       "the original upload of release %lld is gone; it cannot be "
                       "packed again",
                       (long long)orig.id);
        if (rc == SP_INVALID || rc == SP_NOTFOUND)
            goto invalid;
        sp_api_fail(resp, rc, &e, "release");
        goto out;
    }

    /* the payload: a link to (or copy of) the original upload, in a directory of its own */
    snprintf(updir, sizeof updir, "%s/uploads/r%lld-XXXXXX", req->app->cfg.data_dir,
             (long long)orig.id);
    if (!mkdtemp(updir)) {
        sp_error("action", "cannot create %s: %s", updir, strerror(errno));
        updir[0] = '\0';
        sp_api_fail(resp, SP_ERR, NULL, "release");
        goto out;
    }
    snprintf(newfile, sizeof newfile, "%s/%s", updir, p.input_name);
    if (link_or_copy(p.input, newfile) != 0) {
        sp_error("action", "cannot copy %s to %s: %s", p.input, newfile, strerror(errno));
        newfile[0] = '\0';
        sp_api_fail(resp, SP_ERR, NULL, "release");
        goto out;
    }
    snprintf(rel_path, sizeof rel_path, "uploads/%s/%s", strrchr(updir, '/') + 1, p.input_name);
    struct sp_release_derive d = {.parent_id = orig.id,
                                  .user_id = req->principal.user_id,
                                  .group_id = orig.group_id,
                                  .release_type = orig.release_type,
                                  .name = res.dirname,
                                  .metadata = meta_text,
                                  .config = cfg_text,
                                  .file_path = rel_path,
                                  .file_size = orig.file_size,
                                  .rule_id = orig.rule_id,
                                  .job_type = action,
                                  .job_params = "{}"};
    int64_t new_id = 0, job_id = 0;
    rc = sp_store_release_derive(db, &d, sp_time_now(), &new_id, &job_id, &e);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, &e, "release");
        goto out;
    }
    newfile[0] = updir[0] = '\0'; /* the new release owns them now */
    sp_jobs_notify(req->app);
    sp_api_bump(req, SP_GEN_RELEASES);
    sp_api_bump(req, SP_GEN_JOBS);
    req->audit_resource_id = orig.id;
    char msg[400];
    snprintf(msg, sizeof msg, "%s of %s queued as %s", action, orig.name, res.dirname);
    sp_resp_json(resp, 202,
                 json_pack("{s:s, s:I, s:I}", "message", msg, "job_id", (json_int_t)job_id,
                           "release_id", (json_int_t)new_id));
    goto out;
invalid:
    if (!e.field[0] && problems.n)
        snprintf(e.field, sizeof e.field, "%s", problems.items[0].field);
    sp_resp_rc(resp, SP_INVALID, &e);
out:
    if (newfile[0])
        unlink(newfile);
    if (updir[0])
        rmdir(updir);
    sp_free(tmpl_copy);
    sp_free(cfg_text);
    sp_free(meta_text);
    json_decref(cfg);
    json_decref(meta);
    json_decref(patch);
    sp_problems_free(&problems);
    sp_pack_result_free(&res);
    sp_release_pack_free(&p);
    sp_release_clear(&orig);
}

static void action_run(void *arg)
{
    struct action_task *t = arg;
    if (!sp_req_abandoned(t->req)) {
        do_action(t);
        struct sp_db *db = sp_db_thread();
        if (db)
            sp_db_idle(db);
        sp_req_audit(t->req, t->resp);
    }
    sp_req_resume(t->req);
}

/* POST /api/releases/{id}/actions/{action} → 202 {message, job_id, release_id}. */
static int h_action(struct sp_request *req, struct sp_response *resp)
{
    const char *a = sp_req_param(req, "action");
    int which = -1;
    for (size_t i = 0; a && i < SP_ARRAY_LEN(actions); i++)
        if (!strcmp(actions[i].action, a))
            which = (int)i;
    if (which < 0) {
        sp_resp_error(resp, 404, "not_found", NULL,
                      "no such action (known: nfofix, readnfo, repack, dirfix)");
        return SP_OK;
    }
    /* the body is optional; when given it is a JSON object of overrides */
    if (req->body && req->body_len && sp_req_json_object(req, resp) != SP_OK)
        return SP_OK;
    struct sp_pool *pool = sp_jobs_request_pool(req->app);
    if (!pool) {
        sp_resp_error(resp, 503, "unavailable", NULL, "the server is starting or stopping");
        sp_resp_header(resp, "Retry-After", "1");
        return SP_OK;
    }
    struct action_task *t = sp_req_alloc(req, sizeof *t);
    t->req = req;
    t->resp = resp;
    t->which = which;
    char *act = sp_req_alloc(req, 48);
    snprintf(act, 48, "releases.%s", actions[which].action);
    req->audit_action = act;
    sp_req_suspend(req);
    if (sp_pool_submit(pool, action_run, t) != SP_OK) {
        sp_resp_error(resp, 503, "unavailable", NULL, "too much work in progress; retry shortly");
        sp_resp_header(resp, "Retry-After", "1");
        sp_req_resume(req);
    }
    return SP_AGAIN;
}

const struct sp_route sp_routes_release_actions[] = {
    {"GET", "/api/releases/{id}/files", h_files, SP_AUTH_USER, -1, -1},
    {"GET", "/api/releases/{id}/files/{name}", h_file, SP_AUTH_USER, -1, -1},
    {"GET", "/api/releases/{id}/nfo", h_nfo, SP_AUTH_USER, -1, -1},
    {"POST", "/api/releases/{id}/actions/{action}", h_action, SP_AUTH_USER, SP_RES_RELEASES,
     SP_ACT_WRITE},
    {0},
};
