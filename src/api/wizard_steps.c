/*
 * wizard_steps.c — steps 4-9 of the release wizard (API.md), on a draft created by steps 1-3:
 *   POST /api/wizard/{id}/upload     multipart field `file` (streamed to disk) or {file_url}
 *                                    (a download job)
 *   POST /api/wizard/{id}/analyze    format, size, sha256, DRM, metadata, suggested name
 *   POST /api/wizard/{id}/metadata   {enriched_metadata} validated → metadata and dirname
 *   GET  /api/wizard/{id}/templates  the NFO templates rendered for this release
 *   POST /api/wizard/{id}/templates  {template_id} or {template} → {template_id, preview}
 *   POST /api/wizard/{id}/options    {options: {zip_size, create_sfv, include_extras}}
 *   POST /api/wizard/{id}/finalize   → 202 {release_id, job_id, status: "queued"}
 *
 * Only the owner (or releases:mod) drives a draft; a release that is queued, processing or
 * completed is not a draft any more (409). Each step states the steps it needs and re-checks
 * them against the stored state (the file on disk, the stored analysis, the metadata) before
 * it runs: a later step never runs on missing or invalid earlier data (400 listing what is
 * missing). A new upload sends the wizard back to step 4. The slow work (file analysis,
 * checksums, packing previews) runs on the request pool, never on an I/O thread.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "api/common.h"
#include "app.h"
#include "auth/permissions.h"
#include "cache/cache.h"
#include "domain/metadata.h"
#include "domain/nfo.h"
#include "domain/package.h"
#include "domain/release_name.h"
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

#define URL_MAX 2000
#define TEMPLATE_MAX 65536 /* as PUT /api/releases/{id} config.template */

/* Streamed uploads (http/upload.c). */
const char *const sp_api_upload_routes[] = {"POST /api/wizard/{id}/upload", NULL};

enum {
    STEP_UPLOAD = 4,
    STEP_ANALYZE = 5,
    STEP_METADATA = 6,
    STEP_TEMPLATE = 7,
    STEP_OPTIONS = 8,
    STEP_FINALIZE = 9
};

/* ---- parking on the request pool ---- */

typedef void (*step_fn)(struct sp_request *req, struct sp_response *resp);

struct task {
    struct sp_request *req;
    struct sp_response *resp;
    step_fn fn;
};

static void task_run(void *arg)
{
    struct task *t = arg;
    if (!sp_req_abandoned(t->req)) {
        t->fn(t->req, t->resp);
        struct sp_db *db = sp_db_thread();
        if (db)
            sp_db_idle(db);
        sp_req_audit(t->req, t->resp);
    }
    sp_req_resume(t->req);
}

/* Run fn on the request pool; 503 + Retry-After when it is full. */
static int park(struct sp_request *req, struct sp_response *resp, step_fn fn)
{
    struct sp_pool *pool = sp_jobs_request_pool(req->app);
    if (!pool) {
        sp_resp_error(resp, 503, "unavailable", NULL, "the server is starting or stopping");
        sp_resp_header(resp, "Retry-After", "1");
        return SP_OK;
    }
    struct task *t = sp_req_alloc(req, sizeof *t);
    t->req = req;
    t->resp = resp;
    t->fn = fn;
    sp_req_suspend(req);
    if (sp_pool_submit(pool, task_run, t) != SP_OK) {
        sp_resp_error(resp, 503, "unavailable", NULL, "too much work in progress; retry shortly");
        sp_resp_header(resp, "Retry-After", "1");
        sp_req_resume(req);
    }
    return SP_AGAIN;
}

/* ---- shared checks ---- */

static void invalid(struct sp_response *resp, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void invalid(struct sp_response *resp, const char *field, const char *fmt, ...)
{
    struct sp_err e = {{0}, {0}};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    snprintf(e.field, sizeof e.field, "%s", field ? field : "");
    sp_resp_rc(resp, SP_INVALID, &e);
}

/* The draft {id} driven by the caller: 404, 403 (not the owner, no releases:mod), 409 (not a
 * draft any more) or 503 are answered here. SP_OK with r and *db set. */
static int load_draft(struct sp_request *req, struct sp_response *resp, struct sp_db **db,
                      struct sp_release *r)
{
    int rc = sp_api_release_load(req, resp, SP_ACT_MOD, "drive another user's draft", db, r);
    if (rc != SP_OK)
        return rc;
    if (strcmp(r->status, "draft") != 0 && strcmp(r->status, "failed") != 0) {
        struct sp_err e = {{0}, {0}};
        sp_err_set(&e, "status", "release %lld is %s: only a draft goes through the wizard",
                   (long long)r->id, r->status);
        sp_resp_rc(resp, SP_CONFLICT, &e);
        sp_release_clear(r);
        return SP_CONFLICT;
    }
    return SP_OK;
}

static const char *data_dir(struct sp_request *req)
{
    return req->app->cfg.data_dir;
}

/* The stored upload's absolute path into out; 1 when it exists as a regular file. */
static int upload_present(struct sp_request *req, const struct sp_release *r, char *out,
                          size_t outlen)
{
    if (!r->file_path || !*r->file_path)
        return 0;
    if (r->file_path[0] == '/')
        snprintf(out, outlen, "%s", r->file_path);
    else
        snprintf(out, outlen, "%s/%s", data_dir(req), r->file_path);
    struct stat st;
    return stat(out, &st) == 0 && S_ISREG(st.st_mode);
}

/* Steps before `step` that are not done, as "upload (step 4), analyze (step 5)"; "" when all
 * are. */
static void missing_steps(struct sp_request *req, const struct sp_release *r, const json_t *cfg,
                          int step, char *out, size_t outlen)
{
    char path[4096];
    out[0] = '\0';
    size_t n = 0;
    json_t *analysis = json_object_get(cfg, "analysis");
    struct {
        int step;
        int done;
        const char *what;
    } steps[] = {
        {STEP_UPLOAD, r->wizard_step >= STEP_UPLOAD && upload_present(req, r, path, sizeof path),
         "upload the file (step 4)"},
        {STEP_ANALYZE,
         r->wizard_step >= STEP_ANALYZE && json_is_string(json_object_get(analysis, "format")),
         "analyze it (step 5)"},
        {STEP_METADATA, r->wizard_step >= STEP_METADATA && r->name != NULL,
         "give valid metadata (step 6)"},
    };
    for (size_t i = 0; i < SP_ARRAY_LEN(steps); i++) {
        if (steps[i].step >= step || steps[i].done)
            continue;
        n += (size_t)snprintf(out + n, outlen > n ? outlen - n : 0, "%s%s", n ? ", " : "",
                              steps[i].what);
    }
}

/* Answer 400 when a step before `step` is incomplete. SP_OK when the way is clear. */
static int require_steps(struct sp_request *req, struct sp_response *resp,
                         const struct sp_release *r, const json_t *cfg, int step)
{
    char missing[300];
    missing_steps(req, r, cfg, step, missing, sizeof missing);
    if (!missing[0])
        return SP_OK;
    invalid(resp, "wizard_step", "complete the earlier steps first: %s", missing);
    return SP_INVALID;
}

static int max_step(const struct sp_release *r, int step)
{
    return r->wizard_step > step ? r->wizard_step : step;
}

static char *dump(const json_t *j)
{
    return sp_json_dump(j, NULL);
}

static void pack_error(struct sp_response *resp, int rc, const struct sp_err *e,
                       const struct sp_problems *p)
{
    if (rc == SP_INVALID && p && p->n > 1) {
        /* every metadata problem, the first one's field */
        struct sp_err all = *e;
        size_t n = strlen(all.message);
        for (size_t i = 1; i < p->n && n + 8 < sizeof all.message; i++)
            n += (size_t)snprintf(all.message + n, sizeof all.message - n, "; %s: %s",
                                  p->items[i].field, p->items[i].message);
        sp_resp_rc(resp, rc, &all);
        return;
    }
    if (rc == SP_NOTFOUND) {
        struct sp_err m = {{0}, {0}};
        sp_err_set(&m, "file", "the uploaded file is missing; upload it again");
        sp_resp_rc(resp, SP_INVALID, &m);
        return;
    }
    sp_api_fail(resp, rc, e, "release");
}

/* The NFO of a plan as UTF-8 (a new json string). */
static json_t *nfo_text(const struct sp_pack_result *res)
{
    struct sp_buf b = SP_BUF_INIT;
    sp_cp437_decode((const unsigned char *)res->nfo.data, res->nfo.len, &b);
    json_t *s = json_stringn(b.data ? b.data : "", b.len);
    sp_buf_free(&b);
    return s ? s : json_string("");
}

/* ---- step 4: upload ---- */

static void do_upload_file(struct sp_request *req, struct sp_response *resp)
{
    const struct sp_upload *up = sp_req_upload(req);
    struct sp_db *db;
    struct sp_release r;
    struct sp_book book;
    struct sp_err e = {{0}, {0}};
    json_t *cfg = NULL;
    char *cfg_text = NULL;
    char name[128], dir[4096], dest[4096 + 130], old[4096] = "", rel_path[256];
    memset(&book, 0, sizeof book);
    sp_meta_init(&book.meta);
    if (up->rc != SP_OK) {
        invalid(resp, "file", "%s", up->message);
        return;
    }
    if (load_draft(req, resp, &db, &r) != SP_OK)
        return;
    if (up->size == 0) {
        invalid(resp, "file", "the uploaded file is empty");
        goto out;
    }
    sp_upload_name_sanitize(up->filename, name, sizeof name);
    /* the bytes decide: a format we cannot read, DRM or an extension that lies is refused */
    int rc = sp_book_analyze(up->path, name, 0, &book, &e);
    if (rc == SP_OK)
        rc = sp_book_acceptable(&book, &e);
    if (rc != SP_OK) {
        if (rc == SP_INVALID)
            invalid(resp, "file", "%s", e.message);
        else
            sp_api_fail(resp, SP_ERR, NULL, "release");
        goto out;
    }
    if (!strchr(name, '.')) {
        size_t nl = strlen(name);
        snprintf(name + nl, sizeof name - nl, ".%s", sp_format_ext(book.format));
    }
    snprintf(dir, sizeof dir, "%s/uploads/%lld", data_dir(req), (long long)r.id);
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        sp_error("upload", "cannot create %s: %s", dir, strerror(errno));
        sp_api_fail(resp, SP_ERR, NULL, "release");
        goto out;
    }
    snprintf(dest, sizeof dest, "%s/%s", dir, name);
    upload_present(req, &r, old, sizeof old);
    if (sp_req_upload_keep(req, dest, &e) != SP_OK) {
        sp_error("upload", "%s", e.message);
        sp_api_fail(resp, SP_ERR, NULL, "release");
        goto out;
    }
    cfg = sp_release_config(&r);
    sp_wizard_config_set_upload(cfg, up->filename[0] ? up->filename : name, name, up->size,
                                sp_format_name(book.format), NULL);
    cfg_text = dump(cfg);
    snprintf(rel_path, sizeof rel_path, "uploads/%lld/%s", (long long)r.id, name);
    struct sp_wizard_save s = {.set_file = true,
                               .file_path = rel_path,
                               .file_size = up->size,
                               .set_name = true,
                               .name = NULL,
                               .config = cfg_text,
                               .wizard_step = STEP_UPLOAD};
    rc = sp_store_wizard_save(db, r.id, &s, sp_time_now(), &e);
    if (rc != SP_OK) {
        if (!old[0] || strcmp(old, dest) != 0)
            unlink(dest);
        sp_api_fail(resp, rc, &e, "release");
        goto out;
    }
    if (old[0] && strcmp(old, dest) != 0)
        unlink(old);
    sp_api_bump(req, SP_GEN_RELEASES);
    sp_resp_json(resp, 201,
                 json_pack("{s:I, s:s, s:{s:s, s:s, s:I, s:s}, s:i}", "release_id",
                           (json_int_t)r.id, "message", "file uploaded", "file", "filename",
                           up->filename[0] ? up->filename : name, "stored_as", name, "size",
                           (json_int_t)up->size, "format", sp_format_name(book.format),
                           "wizard_step", STEP_UPLOAD));
out:
    sp_free(cfg_text);
    json_decref(cfg);
    sp_book_free(&book);
    sp_release_clear(&r);
}

/* 1 when s is an http(s) URL with a host and no blanks or control characters. */
static int url_ok(const char *s)
{
    size_t skip = !strncasecmp(s, "http://", 7) ? 7 : !strncasecmp(s, "https://", 8) ? 8 : 0;
    if (!skip)
        return 0;
    const char *host = s + skip;
    if (!*host || *host == '/' || *host == '?' || *host == '#' || *host == ':')
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

static void do_upload_url(struct sp_request *req, struct sp_response *resp)
{
    struct sp_err e = {{0}, {0}};
    const char *url = NULL;
    if (sp_json_string(req->json, "file_url", SP_REQUIRED, 1, URL_MAX, &url, &e) != SP_OK) {
        sp_resp_rc(resp, SP_INVALID, &e);
        return;
    }
    if (!url_ok(url)) {
        invalid(resp, "file_url", "file_url must be an http:// or https:// URL");
        return;
    }
    struct sp_db *db;
    struct sp_release r;
    if (load_draft(req, resp, &db, &r) != SP_OK)
        return;
    json_t *params = json_pack("{s:s}", "url", url);
    char *ptext = dump(params);
    json_decref(params);
    int64_t job_id = 0;
    int rc = sp_store_job_create_exclusive(db, r.id, req->principal.user_id, "download", ptext,
                                           sp_time_now(), &job_id, &e);
    sp_free(ptext);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, &e, "release");
        sp_release_clear(&r);
        return;
    }
    (void)sp_store_job_log(db, job_id, "info", "queued: download for wizard step 4", sp_time_now());
    sp_jobs_notify(req->app);
    sp_api_bump(req, SP_GEN_JOBS);
    req->audit_resource_id = r.id;
    sp_resp_json(resp, 202,
                 json_pack("{s:I, s:I, s:s, s:s}", "release_id", (json_int_t)r.id, "job_id",
                           (json_int_t)job_id, "status", "pending", "message",
                           "the file is being downloaded; poll the job"));
    sp_release_clear(&r);
}

static int h_upload(struct sp_request *req, struct sp_response *resp)
{
    if (sp_req_upload(req))
        return park(req, resp, do_upload_file);
    const char *ct = sp_req_header(req, "Content-Type");
    if (ct && !strncasecmp(ct, "multipart/", 10) && strncasecmp(ct, "multipart/form-data", 19)) {
        sp_resp_error(resp, 415, "unsupported_media_type", "body",
                      "send the file as multipart/form-data (field `file`) or JSON {file_url}");
        return SP_OK;
    }
    if (sp_req_json_object(req, resp) != SP_OK)
        return SP_OK;
    return park(req, resp, do_upload_url);
}

/* ---- step 5: analyze ---- */

static void do_analyze(struct sp_request *req, struct sp_response *resp)
{
    struct sp_db *db;
    struct sp_release r;
    struct sp_book book;
    struct sp_err e = {{0}, {0}};
    struct sp_meta merged, user;
    struct sp_problems problems = SP_PROBLEMS_INIT;
    json_t *cfg = NULL, *meta = NULL;
    char *cfg_text = NULL;
    char path[4096];
    memset(&book, 0, sizeof book);
    sp_meta_init(&book.meta);
    sp_meta_init(&merged);
    sp_meta_init(&user);
    if (load_draft(req, resp, &db, &r) != SP_OK)
        return;
    cfg = sp_release_config(&r);
    if (require_steps(req, resp, &r, cfg, STEP_ANALYZE) != SP_OK)
        goto out;
    upload_present(req, &r, path, sizeof path);
    const char *slash = strrchr(path, '/');
    int rc = sp_book_analyze(path, slash ? slash + 1 : path, SP_ANALYZE_SHA256, &book, &e);
    if (rc == SP_OK)
        rc = sp_book_acceptable(&book, &e);
    if (rc != SP_OK) {
        if (rc == SP_INVALID)
            invalid(resp, "file", "%s", e.message);
        else
            sp_api_fail(resp, SP_ERR, NULL, "release");
        goto out;
    }
    /* what the file says, then what the user already gave */
    sp_meta_copy(&merged, &book.meta);
    meta = r.release_metadata ? json_loads(r.release_metadata, 0, NULL) : NULL;
    if (json_is_object(meta) && sp_meta_from_api_json(meta, &user, NULL, &e) == SP_OK)
        sp_meta_merge(&merged, &user);
    sp_meta_normalize(&merged);
    sp_meta_validate(&merged, &problems);
    /* a suggestion even before the user chose a source and a release date */
    struct sp_meta guess;
    sp_meta_init(&guess);
    sp_meta_copy(&guess, &merged);
    if (!sp_meta_get(&guess, SP_META_SOURCE))
        sp_meta_put(&guess, SP_META_SOURCE, "RETAiL");
    char suggested[SP_DIRNAME_MAX + 1];
    struct sp_err ge = {{0}, {0}};
    int have_name = sp_dirname_build(&guess, book.format, r.group ? r.group : "", suggested,
                                     sizeof suggested, &ge) == SP_OK;
    sp_meta_free(&guess);

    json_t *probs = json_array();
    for (size_t i = 0; i < problems.n; i++)
        json_array_append_new(probs, json_pack("{s:s, s:s}", "field", problems.items[i].field,
                                               "message", problems.items[i].message));
    json_t *analysis = json_pack(
        "{s:s, s:I, s:s, s:b, s:o, s:i, s:o, s:o, s:o}", "format", sp_format_name(book.format),
        "size", (json_int_t)book.size, "sha256", book.sha256, "drm", book.drm, "drm_reason",
        book.drm ? json_string(book.drm_reason) : json_null(), "pages", book.pages, "metadata",
        sp_meta_to_json(&book.meta), "suggested_name",
        have_name ? json_string(suggested) : json_null(), "problems", probs);
    json_t *stored =
        json_pack("{s:s, s:I, s:s, s:b, s:i, s:O}", "format", sp_format_name(book.format), "size",
                  (json_int_t)book.size, "sha256", book.sha256, "drm", book.drm, "pages",
                  book.pages, "metadata", json_object_get(analysis, "metadata"));
    json_object_set_new(cfg, "analysis", stored);
    cfg_text = dump(cfg);
    struct sp_wizard_save s = {.config = cfg_text, .wizard_step = max_step(&r, STEP_ANALYZE)};
    rc = sp_store_wizard_save(db, r.id, &s, sp_time_now(), &e);
    if (rc != SP_OK) {
        json_decref(analysis);
        sp_api_fail(resp, rc, &e, "release");
        goto out;
    }
    sp_api_bump(req, SP_GEN_RELEASES);
    sp_resp_json(resp, 200,
                 json_pack("{s:I, s:o, s:i}", "release_id", (json_int_t)r.id, "analysis", analysis,
                           "wizard_step", s.wizard_step));
out:
    sp_free(cfg_text);
    json_decref(cfg);
    json_decref(meta);
    sp_problems_free(&problems);
    sp_meta_free(&merged);
    sp_meta_free(&user);
    sp_book_free(&book);
    sp_release_clear(&r);
}

static int h_analyze(struct sp_request *req, struct sp_response *resp)
{
    /* the body is optional: an empty one, or a JSON object (ignored) */
    if (req->body && req->body_len && sp_req_json_object(req, resp) != SP_OK)
        return SP_OK;
    return park(req, resp, do_analyze);
}

/* ---- step 6: metadata ---- */

static void do_metadata(struct sp_request *req, struct sp_response *resp)
{
    struct sp_db *db;
    struct sp_release r;
    struct sp_err e = {{0}, {0}};
    struct sp_meta merged, user;
    struct sp_problems problems = SP_PROBLEMS_INIT;
    json_t *cfg = NULL, *enriched = NULL, *api = NULL;
    char *meta_text = NULL;
    sp_meta_init(&merged);
    sp_meta_init(&user);
    if (sp_json_object(req->json, "enriched_metadata", SP_REQUIRED, &enriched, &e) != SP_OK) {
        sp_resp_rc(resp, SP_INVALID, &e);
        return;
    }
    if (sp_meta_from_api_json(enriched, &user, "enriched_metadata", &e) != SP_OK) {
        sp_resp_rc(resp, SP_INVALID, &e);
        sp_meta_free(&user);
        return;
    }
    if (load_draft(req, resp, &db, &r) != SP_OK) {
        sp_meta_free(&user);
        return;
    }
    cfg = sp_release_config(&r);
    if (require_steps(req, resp, &r, cfg, STEP_METADATA) != SP_OK)
        goto out;
    json_t *analysis = json_object_get(cfg, "analysis");
    int format = SP_FMT_UNKNOWN;
    const char *fname = json_string_value(json_object_get(analysis, "format"));
    for (int f = SP_FMT_PDF; f <= SP_FMT_PRC; f++)
        if (fname && !strcmp(sp_format_name(f), fname))
            format = f;
    sp_meta_from_json_loose(json_object_get(analysis, "metadata"), &merged);
    sp_meta_merge(&merged, &user);
    sp_meta_normalize(&merged);
    if (sp_meta_validate(&merged, &problems)) {
        struct sp_err all = {{0}, {0}};
        snprintf(all.field, sizeof all.field, "enriched_metadata.%s", problems.items[0].field);
        size_t n = 0;
        for (size_t i = 0; i < problems.n && n + 8 < sizeof all.message; i++)
            n +=
                (size_t)snprintf(all.message + n, sizeof all.message - n, "%s%s: %s", i ? "; " : "",
                                 problems.items[i].field, problems.items[i].message);
        sp_resp_rc(resp, SP_INVALID, &all);
        goto out;
    }
    char name[SP_DIRNAME_MAX + 1];
    if (sp_dirname_build(&merged, format, r.group ? r.group : "", name, sizeof name, &e) != SP_OK) {
        struct sp_err fe = e;
        snprintf(fe.field, sizeof fe.field, "enriched_metadata.%s", e.field[0] ? e.field : "title");
        sp_resp_rc(resp, SP_INVALID, &fe);
        goto out;
    }
    int taken = sp_store_dirname_taken(db, name, r.id);
    if (taken != 0) {
        if (taken > 0)
            sp_err_set(&e, "name", "the release %s already exists", name);
        sp_api_fail(resp, taken > 0 ? SP_CONFLICT : SP_ERR, taken > 0 ? &e : NULL, "release");
        goto out;
    }
    api = sp_meta_to_api_json(&merged);
    meta_text = dump(api);
    struct sp_wizard_save s = {.set_name = true,
                               .name = name,
                               .metadata = meta_text,
                               .wizard_step = max_step(&r, STEP_METADATA)};
    int rc = sp_store_wizard_save(db, r.id, &s, sp_time_now(), &e);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, &e, "release");
        goto out;
    }
    sp_api_bump(req, SP_GEN_RELEASES);
    sp_resp_json(resp, 200,
                 json_pack("{s:I, s:s, s:O, s:i}", "release_id", (json_int_t)r.id, "name", name,
                           "metadata", api, "wizard_step", s.wizard_step));
out:
    sp_free(meta_text);
    json_decref(api);
    json_decref(cfg);
    sp_problems_free(&problems);
    sp_meta_free(&merged);
    sp_meta_free(&user);
    sp_release_clear(&r);
}

static int h_metadata(struct sp_request *req, struct sp_response *resp)
{
    if (sp_req_json_object(req, resp) != SP_OK)
        return SP_OK;
    return park(req, resp, do_metadata);
}

/* ---- step 7: templates ---- */

/* Plan release r with the template of cfg overridden by tmpl_id / tmpl_text (NULL: stored).
 * SP_OK with res filled, else the answer is in resp. */
static int plan(struct sp_request *req, struct sp_response *resp, const struct sp_release *r,
                const char *tmpl_id, const char *tmpl_text, int64_t zip_size, int use_zip,
                struct sp_pack_result *res)
{
    struct sp_release_pack p;
    struct sp_err e = {{0}, {0}};
    struct sp_problems problems = SP_PROBLEMS_INIT;
    memset(res, 0, sizeof *res);
    if (sp_release_pack_prepare(data_dir(req), r, NULL, &p, &e) != SP_OK) {
        sp_release_pack_free(&p);
        sp_resp_rc(resp, SP_INVALID, &e);
        return SP_INVALID;
    }
    if (tmpl_text) {
        sp_free(p.template_text);
        p.template_text = sp_strdup(tmpl_text);
        p.rq.template_text = p.template_text;
        p.rq.template_name = NULL;
    } else if (tmpl_id) {
        sp_free(p.template_text);
        p.template_text = NULL;
        snprintf(p.template_name, sizeof p.template_name, "%s", tmpl_id);
        p.rq.template_text = NULL;
        p.rq.template_name = p.template_name;
    }
    if (use_zip)
        p.rq.zip_size = zip_size;
    int rc = sp_release_pack_plan(&p, res, &problems, &e);
    if (rc != SP_OK)
        pack_error(resp, rc, &e, &problems);
    sp_problems_free(&problems);
    sp_release_pack_free(&p);
    return rc;
}

static void do_templates_get(struct sp_request *req, struct sp_response *resp)
{
    struct sp_db *db;
    struct sp_release r;
    if (load_draft(req, resp, &db, &r) != SP_OK)
        return;
    json_t *cfg = sp_release_config(&r);
    if (require_steps(req, resp, &r, cfg, STEP_TEMPLATE) != SP_OK)
        goto out;
    const char *sel = json_string_value(json_object_get(cfg, "template_id"));
    const char *const *names = sp_nfo_template_names();
    json_t *items = json_array();
    int count = 0;
    for (int i = 0; names[i]; i++, count++) {
        struct sp_pack_result res;
        struct sp_response scratch;
        sp_resp_init(&scratch);
        int rc = plan(req, &scratch, &r, names[i], NULL, 0, 0, &res);
        json_t *t = json_pack("{s:s, s:b}", "id", names[i], "builtin", 1);
        if (rc == SP_OK) {
            json_object_set_new(t, "preview", nfo_text(&res));
            json_object_set_new(t, "error", json_null());
        } else {
            json_t *err = scratch.body ? json_loadb(scratch.body, scratch.body_len, 0, NULL) : NULL;
            const char *m = json_string_value(json_object_get(err, "message"));
            json_object_set_new(t, "preview", json_null());
            json_object_set_new(t, "error", json_string(m ? m : "cannot render"));
            json_decref(err);
        }
        sp_resp_free(&scratch);
        sp_pack_result_free(&res);
        json_array_append_new(items, t);
    }
    const char *custom = json_string_value(json_object_get(cfg, "template"));
    if (custom && sel && !strcmp(sel, "custom")) {
        struct sp_pack_result res;
        struct sp_response scratch;
        sp_resp_init(&scratch);
        int rc = plan(req, &scratch, &r, NULL, custom, 0, 0, &res);
        json_array_append_new(
            items, json_pack("{s:s, s:b, s:o, s:o}", "id", "custom", "builtin", 0, "preview",
                             rc == SP_OK ? nfo_text(&res) : json_null(), "error",
                             rc == SP_OK ? json_null() : json_string("cannot render")));
        sp_resp_free(&scratch);
        sp_pack_result_free(&res);
        count++;
    }
    sp_resp_json(resp, 200,
                 json_pack("{s:I, s:o, s:s, s:o}", "release_id", (json_int_t)r.id, "templates",
                           items, "selected", sel ? sel : names[0], "pagination",
                           sp_api_pagination(1, count > 0 ? count : 1, count)));
out:
    json_decref(cfg);
    sp_release_clear(&r);
}

static int h_templates_get(struct sp_request *req, struct sp_response *resp)
{
    return park(req, resp, do_templates_get);
}

static void do_templates_post(struct sp_request *req, struct sp_response *resp)
{
    struct sp_err e = {{0}, {0}};
    const char *tid = NULL, *text = NULL;
    if (sp_json_string(req->json, "template_id", SP_OPTIONAL, 1, 32, &tid, &e) == SP_INVALID ||
        sp_json_string(req->json, "template", SP_OPTIONAL, 1, TEMPLATE_MAX, &text, &e) ==
            SP_INVALID) {
        sp_resp_rc(resp, SP_INVALID, &e);
        return;
    }
    if (!!tid == !!text) {
        invalid(resp, tid ? "template" : "template_id",
                "give either template_id (a built-in template) or template (your own text)");
        return;
    }
    if (tid && !sp_nfo_template(tid)) {
        struct sp_buf names = SP_BUF_INIT;
        for (const char *const *n = sp_nfo_template_names(); *n; n++)
            sp_buf_printf(&names, "%s%s", names.len ? ", " : "", *n);
        invalid(resp, "template_id", "unknown template '%s' (built-in: %s)", tid, names.data);
        sp_buf_free(&names);
        return;
    }
    struct sp_db *db;
    struct sp_release r;
    if (load_draft(req, resp, &db, &r) != SP_OK)
        return;
    json_t *cfg = sp_release_config(&r);
    char *cfg_text = NULL;
    struct sp_pack_result res;
    memset(&res, 0, sizeof res);
    if (require_steps(req, resp, &r, cfg, STEP_TEMPLATE) != SP_OK)
        goto out;
    if (plan(req, resp, &r, tid, text, 0, 0, &res) != SP_OK)
        goto out;
    json_object_set_new(cfg, "template_id", json_string(tid ? tid : "custom"));
    if (text)
        json_object_set_new(cfg, "template", json_string(text));
    else
        json_object_del(cfg, "template");
    cfg_text = dump(cfg);
    struct sp_wizard_save s = {.config = cfg_text, .wizard_step = max_step(&r, STEP_TEMPLATE)};
    int rc = sp_store_wizard_save(db, r.id, &s, sp_time_now(), &e);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, &e, "release");
        goto out;
    }
    sp_api_bump(req, SP_GEN_RELEASES);
    sp_resp_json(resp, 200,
                 json_pack("{s:I, s:s, s:o, s:i}", "release_id", (json_int_t)r.id, "template_id",
                           tid ? tid : "custom", "preview", nfo_text(&res), "wizard_step",
                           s.wizard_step));
out:
    sp_pack_result_free(&res);
    sp_free(cfg_text);
    json_decref(cfg);
    sp_release_clear(&r);
}

static int h_templates_post(struct sp_request *req, struct sp_response *resp)
{
    if (sp_req_json_object(req, resp) != SP_OK)
        return SP_OK;
    return park(req, resp, do_templates_post);
}

/* ---- step 8: options ---- */

static void do_options(struct sp_request *req, struct sp_response *resp)
{
    struct sp_err e = {{0}, {0}};
    json_t *opts = NULL;
    if (sp_json_object(req->json, "options", SP_REQUIRED, &opts, &e) != SP_OK) {
        sp_resp_rc(resp, SP_INVALID, &e);
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach(opts, k, v)
    {
        if (strcmp(k, "zip_size") && strcmp(k, "create_sfv") && strcmp(k, "include_extras")) {
            invalid(resp, "options",
                    "unknown option '%.40s' (known: zip_size, create_sfv, "
                    "include_extras)",
                    k);
            return;
        }
    }
    int64_t zip_size = 0;
    json_t *zs = json_object_get(opts, "zip_size");
    if (zs && !json_is_null(zs)) {
        char buf[32];
        const char *txt = NULL;
        if (json_is_integer(zs)) {
            snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(zs));
            txt = json_integer_value(zs) > 250 ? buf : NULL; /* bytes, not megabytes */
        } else if (json_is_string(zs)) {
            txt = json_string_value(zs);
        }
        if (!txt || sp_zip_size_parse(txt, &zip_size, &e) != SP_OK) {
            invalid(resp, "options.zip_size",
                    "zip_size must be one of 5000000, 10000000, 50000000, 100000000, 150000000, "
                    "200000000, 250000000 (bytes) or \"5MB\" ... \"250MB\"; null = automatic");
            return;
        }
    }
    int sfv = 1, extras = 0;
    if (sp_json_bool(opts, "create_sfv", SP_OPTIONAL, &sfv, &e) == SP_INVALID ||
        sp_json_bool(opts, "include_extras", SP_OPTIONAL, &extras, &e) == SP_INVALID) {
        struct sp_err fe = e;
        snprintf(fe.field, sizeof fe.field, "options.%s", e.field);
        sp_resp_rc(resp, SP_INVALID, &fe);
        return;
    }
    if (!sfv) {
        invalid(resp, "options.create_sfv",
                "an SFV of the ZIP volumes is required by the eBOOK rules; it cannot be left out");
        return;
    }
    if (extras) {
        invalid(resp, "options.include_extras",
                "this packer has no extras to include: the release holds the book alone");
        return;
    }
    struct sp_db *db;
    struct sp_release r;
    if (load_draft(req, resp, &db, &r) != SP_OK)
        return;
    json_t *cfg = sp_release_config(&r);
    char *cfg_text = NULL;
    struct sp_pack_result res;
    memset(&res, 0, sizeof res);
    if (require_steps(req, resp, &r, cfg, STEP_OPTIONS) != SP_OK)
        goto out;
    if (plan(req, resp, &r, NULL, NULL, zip_size, 1, &res) != SP_OK) {
        /* the field is an option */
        if (resp->status == 400 && resp->body && strstr(resp->body, "\"zip_size\"")) {
            json_t *err = json_loadb(resp->body, resp->body_len, 0, NULL);
            const char *m = json_string_value(json_object_get(err, "message"));
            char msg[256];
            snprintf(msg, sizeof msg, "%s", m ? m : "zip_size does not fit");
            json_decref(err);
            sp_resp_free(resp);
            invalid(resp, "options.zip_size", "%s", msg);
        }
        goto out;
    }
    json_t *stored =
        json_pack("{s:o, s:b, s:b}", "zip_size", zip_size ? json_integer(zip_size) : json_null(),
                  "create_sfv", 1, "include_extras", 0);
    json_object_update(cfg, stored);
    cfg_text = dump(cfg);
    struct sp_wizard_save s = {.config = cfg_text, .wizard_step = max_step(&r, STEP_OPTIONS)};
    int rc = sp_store_wizard_save(db, r.id, &s, sp_time_now(), &e);
    if (rc != SP_OK) {
        json_decref(stored);
        sp_api_fail(resp, rc, &e, "release");
        goto out;
    }
    sp_api_bump(req, SP_GEN_RELEASES);
    sp_resp_json(resp, 200,
                 json_pack("{s:I, s:o, s:I, s:i, s:i}", "release_id", (json_int_t)r.id, "options",
                           stored, "volume_size", (json_int_t)res.volume_size, "volumes",
                           res.volumes, "wizard_step", s.wizard_step));
out:
    sp_pack_result_free(&res);
    sp_free(cfg_text);
    json_decref(cfg);
    sp_release_clear(&r);
}

static int h_options(struct sp_request *req, struct sp_response *resp)
{
    if (sp_req_json_object(req, resp) != SP_OK)
        return SP_OK;
    return park(req, resp, do_options);
}

/* ---- step 9: finalize ---- */

static void do_finalize(struct sp_request *req, struct sp_response *resp)
{
    struct sp_db *db;
    struct sp_release r;
    struct sp_err e = {{0}, {0}};
    struct sp_pack_result res;
    memset(&res, 0, sizeof res);
    if (load_draft(req, resp, &db, &r) != SP_OK)
        return;
    json_t *cfg = sp_release_config(&r);
    if (require_steps(req, resp, &r, cfg, STEP_FINALIZE) != SP_OK)
        goto out;
    /* everything again, as it will be packed (metadata may have been edited since step 6) */
    if (plan(req, resp, &r, NULL, NULL, 0, 0, &res) != SP_OK)
        goto out;
    int64_t job_id = 0;
    int rc = sp_store_wizard_finalize(db, r.id, req->principal.user_id, res.dirname, NULL,
                                      sp_time_now(), &job_id, &e);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, &e, "release");
        goto out;
    }
    sp_jobs_notify(req->app);
    sp_api_bump(req, SP_GEN_RELEASES);
    sp_api_bump(req, SP_GEN_JOBS);
    sp_resp_json(resp, 202,
                 json_pack("{s:I, s:I, s:s, s:s}", "release_id", (json_int_t)r.id, "job_id",
                           (json_int_t)job_id, "status", "queued", "name", res.dirname));
out:
    sp_pack_result_free(&res);
    json_decref(cfg);
    sp_release_clear(&r);
}

static int h_finalize(struct sp_request *req, struct sp_response *resp)
{
    if (req->body && req->body_len && sp_req_json_object(req, resp) != SP_OK)
        return SP_OK;
    return park(req, resp, do_finalize);
}

const struct sp_route sp_routes_wizard_steps[] = {
    {"POST", "/api/wizard/{id}/upload", h_upload, SP_AUTH_USER, SP_RES_RELEASES, SP_ACT_WRITE},
    {"POST", "/api/wizard/{id}/analyze", h_analyze, SP_AUTH_USER, SP_RES_RELEASES, SP_ACT_WRITE},
    {"POST", "/api/wizard/{id}/metadata", h_metadata, SP_AUTH_USER, SP_RES_RELEASES, SP_ACT_WRITE},
    {"GET", "/api/wizard/{id}/templates", h_templates_get, SP_AUTH_USER, SP_RES_RELEASES,
     SP_ACT_WRITE},
    {"POST", "/api/wizard/{id}/templates", h_templates_post, SP_AUTH_USER, SP_RES_RELEASES,
     SP_ACT_WRITE},
    {"POST", "/api/wizard/{id}/options", h_options, SP_AUTH_USER, SP_RES_RELEASES, SP_ACT_WRITE},
    {"POST", "/api/wizard/{id}/finalize", h_finalize, SP_AUTH_USER, SP_RES_RELEASES, SP_ACT_WRITE},
    {0},
};
