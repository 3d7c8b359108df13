/*
 * runner.c — worker threads, leases, heartbeat, cancellation and sweeping (see runner.h).
 *
 * A worker loops: claim a job (one short transaction), run it, record the outcome (one short
 * transaction), and when the queue is empty sleep until notified or for POLL_MS (jobs queued
 * by other instances, leases that expire). Each worker has a slot holding the job it runs and
 * an atomic cancel flag that sp_pack and the download poll: it is raised by a cancel request in
 * this process, by a write that finds the job is no longer ours (cancelled elsewhere), and by
 * the shutdown — which then gives the job back to the queue instead of dropping it.
 */
#include "jobs/runner.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "cache/cache.h"
#include "domain/metadata.h"
#include "domain/package.h"
#include "jobs/release_pack.h"
#include "obs/metrics.h"
#include "store/db.h"
#include "store/jobs.h"
#include "store/release_files.h"
#include "store/releases.h"
#include "store/wizard.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/netaddr.h"
#include "util/pool.h"
#include "util/time.h"

#define POLL_MS 1000
#define HEARTBEAT_S (SP_JOB_LEASE_S / 4)
#define PROGRESS_EVERY_NS 1000000000LL
#define REQUEST_QUEUE 256

struct worker {
    struct sp_jobs *jobs;
    int index;
    pthread_t thread;
    int started;
    char owner[128];
    atomic_llong job_id; /* the job running now, 0 = idle */
    atomic_int cancel;   /* stop the running job */
};

struct sp_jobs {
    struct sp_app *app;
    int nworkers;
    struct worker *workers;
    pthread_mutex_t lock;
    pthread_cond_t wake;    /* idle workers wait here */
    pthread_cond_t hb_wake; /* the heartbeat waits here (woken only to stop) */
    int wakeups;            /* notifications not consumed yet (under lock) */
    atomic_int stopping;
    pthread_t heartbeat;
    int heartbeat_started;
    struct sp_pool *pool;
};

/* ---- sweeping ---- */

/* The newest mtime of path and, for a directory, of its entries. */
static time_t newest_mtime(const char *path, int isdir)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return 0;
    time_t newest = st.st_mtime;
    if (!isdir)
        return newest;
    DIR *d = opendir(path);
    if (!d)
        return newest;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char *p = sp_asprintf("%s/%s", path, de->d_name);
        if (lstat(p, &st) == 0 && st.st_mtime > newest)
            newest = st.st_mtime;
        sp_free(p);
    }
    closedir(d);
    return newest;
}

/* Remove a directory holding plain files (what the packer writes). 0 or -1. */
static int remove_flat_dir(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char *p = sp_asprintf("%s/%s", path, de->d_name);
        unlink(p);
        sp_free(p);
    }
    closedir(d);
    return rmdir(path) == 0 || errno == ENOENT ? 0 : -1;
}

static int sweep_dir(const char *dir, const char *const *prefixes, int dirs, int64_t min_age_s)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int removed = 0;
    time_t now = time(NULL);
    struct dirent *de;
    while ((de = readdir(d))) {
        int match = 0;
        for (const char *const *p = prefixes; *p; p++)
            if (!strncmp(de->d_name, *p, strlen(*p)))
                match = 1;
        if (!match)
            continue;
        char *path = sp_asprintf("%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && (dirs ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode)) &&
            now - newest_mtime(path, dirs) >= min_age_s) {
            int ok = dirs ? remove_flat_dir(path) == 0 : unlink(path) == 0;
            if (ok) {
                removed++;
                sp_info("swept", "removed the leftover %s", path);
            } else {
                sp_warn("sweep", "cannot remove %s: %s", path, strerror(errno));
            }
        }
        sp_free(path);
    }
    closedir(d);
    return removed;
}

int sp_jobs_sweep(const char *data_dir, int64_t min_age_s)
{
    static const char *const pack_prefixes[] = {".sp-pack-", NULL};
    static const char *const upload_prefixes[] = {".upload-", ".download-", ".action-", NULL};
    char *releases = sp_asprintf("%s/releases", data_dir);
    char *uploads = sp_asprintf("%s/uploads", data_dir);
    int n = sweep_dir(releases, pack_prefixes, 1, min_age_s) +
            sweep_dir(uploads, upload_prefixes, 0, min_age_s);
    sp_free(releases);
    sp_free(uploads);
    return n;
}

/* ---- one job ---- */

struct run {
    struct worker *w;
    struct sp_job *job;
    struct sp_db *db;
    int64_t last_write_ns;
    char last_step[32];
};

static const char *data_dir(struct run *r)
{
    return r->w->jobs->app->cfg.data_dir;
}

static void job_log(struct run *r, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void job_log(struct run *r, const char *level, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (sp_store_job_log(r->db, r->job->id, level, msg, sp_time_now()) != SP_OK)
        sp_warn("job log not written", "job %lld: %s", (long long)r->job->id, msg);
    /* the same line on the process log, as structured fields (one line per job step) */
    int lv = sp_log_level_parse(level);
    if (lv < 0)
        lv = SP_LOG_INFO;
    if (sp_log_enabled(lv)) {
        json_t *f = json_pack("{s:I, s:s, s:I, s:s, s:s}", "job_id", (json_int_t)r->job->id,
                              "job_type", r->job->job_type, "release_id",
                              (json_int_t)r->job->release_id, "step", r->last_step, "message", msg);
        sp_log_j(lv, "job", f);
    }
}

/* Record progress (at most once a second, and on every new step); renews the lease. A write
 * that finds the job is no longer ours raises the cancel flag. */
static void on_progress(void *user, int pct, const char *step)
{
    struct run *r = user;
    int64_t now_ns = sp_time_mono_ns();
    int new_step = strcmp(step, r->last_step) != 0;
    if (!new_step && pct < 100 && now_ns - r->last_write_ns < PROGRESS_EVERY_NS)
        return;
    r->last_write_ns = now_ns;
    if (new_step) {
        snprintf(r->last_step, sizeof r->last_step, "%s", step);
        job_log(r, "info", "step %s (%d%%)", step, pct);
    }
    int64_t now = sp_time_now();
    int rc =
        sp_store_job_touch(r->db, r->job->id, r->w->owner, pct, step, now + SP_JOB_LEASE_S, now);
    if (rc == SP_CONFLICT)
        atomic_store(&r->w->cancel, 1);
}

static void bump(struct run *r)
{
    struct sp_cache *c = r->w->jobs->app->cache;
    if (c) {
        sp_cache_bump(c, SP_GEN_JOBS);
        sp_cache_bump(c, SP_GEN_RELEASES);
    }
}

static void fail_job(struct run *r, const char *msg)
{
    job_log(r, "error", "%s", msg);
    int rc = sp_store_job_finish(r->db, r->job->id, r->w->owner, "failed", msg, sp_time_now());
    if (rc != SP_OK && rc != SP_CONFLICT)
        sp_error("job", "job %lld: cannot record the failure (%s): %s", (long long)r->job->id,
                 sp_rc_name(rc), msg);
    sp_warn("job failed", "job %lld (%s): %s", (long long)r->job->id, r->job->job_type, msg);
}

/* The job was interrupted: back to the queue when we are stopping, else it was cancelled. */
static void interrupted(struct run *r)
{
    if (atomic_load(&r->w->jobs->stopping)) {
        int rc = sp_store_job_release(r->db, r->job->id, r->w->owner, sp_time_now());
        if (rc == SP_OK) {
            sp_info("job requeued", "job %lld goes back to the queue (shutdown)",
                    (long long)r->job->id);
            return;
        }
    }
    job_log(r, "warn", "cancelled: stopped, partial output removed");
    sp_info("job cancelled", "job %lld stopped", (long long)r->job->id);
}

static void err_text(const struct sp_err *e, char *out, size_t outlen)
{
    if (e->field[0])
        snprintf(out, outlen, "%s: %s", e->field, e->message);
    else
        snprintf(out, outlen, "%s", e->message[0] ? e->message : "failed");
}

static void run_pack(struct run *r)
{
    struct sp_release rel = {0};
    struct sp_release_pack p;
    struct sp_pack_result res;
    struct sp_problems problems = SP_PROBLEMS_INIT;
    struct sp_err e = {{0}, {0}};
    char msg[400];
    memset(&res, 0, sizeof res);
    memset(&p, 0, sizeof p);
    sp_meta_init(&p.meta);

    int rc = sp_store_release_get(r->db, r->job->release_id, &rel);
    if (rc != SP_OK) {
        fail_job(r, rc == SP_NOTFOUND ? "the release no longer exists"
                                      : "cannot read the release from the database");
        goto out;
    }
    if (sp_release_pack_prepare(data_dir(r), &rel, r->job->job_type, &p, &e) != SP_OK) {
        err_text(&e, msg, sizeof msg);
        fail_job(r, msg);
        goto out;
    }
    p.reserve = 1;
    p.on_progress = on_progress;
    p.user = r;
    p.rq.cancel = &r->w->cancel;
    job_log(r, "info", "packing release %lld (%s) from %s", (long long)rel.id, r->job->job_type,
            p.input_name);
    rc = sp_pack(&p.rq, &res, &problems, &e);
    if (rc == SP_AGAIN) {
        interrupted(r);
        goto out;
    }
    if (rc != SP_OK) {
        for (size_t i = 1; i < problems.n; i++)
            job_log(r, "error", "also %s: %s", problems.items[i].field, problems.items[i].message);
        err_text(&e, msg, sizeof msg);
        fail_job(r, msg);
        goto out;
    }
    struct sp_release_file files[8];
    size_t n = res.nfiles < 8 ? res.nfiles : 8;
    for (size_t i = 0; i < n; i++) {
        memset(&files[i], 0, sizeof files[i]);
        snprintf(files[i].name, sizeof files[i].name, "%s", res.files[i].name);
        files[i].size = res.files[i].size;
        snprintf(files[i].crc32, sizeof files[i].crc32, "%08X", (unsigned)res.files[i].crc);
    }
    job_log(r, "info", "packed %s: %zu file(s), %d x %s", res.dirname, n, res.volumes,
            sp_zip_size_label(res.volume_size));
    struct sp_err pe = {{0}, {0}};
    rc = sp_store_release_packed(r->db, r->job->id, r->w->owner, rel.id, res.dirname,
                                 sp_meta_year(&res.meta), files, n, sp_time_now(), &pe);
    if (rc == SP_OK) {
        sp_info("job completed", "job %lld: %s", (long long)r->job->id, res.dirname);
        goto out;
    }
    /* not recorded: the release directory must not stay behind */
    if (res.path && remove_flat_dir(res.path) != 0)
        sp_warn("job", "cannot remove %s: %s", res.path, strerror(errno));
    if (rc == SP_CONFLICT && !strcmp(pe.field, "status")) {
        interrupted(r);
    } else {
        err_text(&pe, msg, sizeof msg);
        fail_job(r, rc == SP_CONFLICT ? msg : "cannot record the release in the database");
    }
out:
    sp_pack_result_free(&res);
    sp_problems_free(&problems);
    sp_release_pack_free(&p);
    sp_release_clear(&rel);
}

/* ---- download ---- */

struct dl {
    struct run *r;
    int fd;
    int64_t written, limit;
    int too_big, write_err;
    bool allow_private; /* SP_FETCH_PRIVATE */
    char refused[64];   /* the non-public address a connection was refused to, if any */
};

/* Every connection libcurl opens (the first, each redirect, each DNS answer tried) passes
 * here with the address it is about to connect to: downloads never reach loopback, private or
 * link-local addresses (the server's own ports, the LAN, cloud metadata) unless
 * SP_FETCH_PRIVATE allows it. Checking the connected address, not the URL's host name, also
 * covers names resolving to such addresses and redirects to them. */
static curl_socket_t dl_open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct dl *d = ud;
    (void)purpose;
    if (!d->allow_private && !sp_addr_is_public(&a->addr)) {
        sp_addr_format(&a->addr, d->refused, sizeof d->refused);
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static size_t dl_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct dl *d = ud;
    size_t n = size * nmemb;
    if (d->written + (int64_t)n > d->limit) {
        d->too_big = 1;
        return 0;
    }
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(d->fd, ptr + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            d->write_err = w < 0 ? errno : EIO;
            return 0;
        }
        done += (size_t)w;
    }
    d->written += (int64_t)n;
    return n;
}

static int dl_progress(void *ud, curl_off_t total, curl_off_t now, curl_off_t ut, curl_off_t un)
{
    (void)ut;
    (void)un;
    struct dl *d = ud;
    int pct = total > 0 ? (int)(now * 95 / total) : 0;
    on_progress(d->r, pct, "download");
    return atomic_load(&d->r->w->cancel) ? 1 : 0;
}

/* The file name of a URL: its last path segment, percent-decoded (query and fragment cut). */
static void url_filename(const char *url, char *out, size_t outlen)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    p += strcspn(p, "/?#");
    const char *end = p + strcspn(p, "?#");
    const char *seg = p;
    for (const char *q = p; q < end; q++)
        if (*q == '/')
            seg = q + 1;
    size_t n = 0;
    for (const char *q = seg; q < end && n + 1 < outlen; q++) {
        int c = (unsigned char)*q;
        if (c == '%' && q + 2 < end) {
            char hex[3] = {q[1], q[2], 0};
            char *e;
            long v = strtol(hex, &e, 16);
            if (!*e && v > 0) {
                c = (int)v;
                q += 2;
            }
        }
        out[n++] = (char)c;
    }
    out[n] = '\0';
}

static void run_download(struct run *r)
{
    struct sp_release rel = {0};
    json_t *params = json_loads(r->job->params ? r->job->params : "{}", 0, NULL);
    json_t *cfg = NULL;
    struct sp_book book;
    memset(&book, 0, sizeof book);
    sp_meta_init(&book.meta);
    char tmp[PATH_MAX] = "", dir[PATH_MAX], dest[PATH_MAX], msg[512];
    CURL *c = NULL;
    struct dl d = {.r = r, .fd = -1};
    const char *url = json_string_value(json_object_get(params, "url"));
    if (!url) {
        fail_job(r, "the job has no url");
        goto out;
    }
    int rc = sp_store_release_get(r->db, r->job->release_id, &rel);
    if (rc != SP_OK) {
        fail_job(r, rc == SP_NOTFOUND ? "the release no longer exists"
                                      : "cannot read the release from the database");
        goto out;
    }
    snprintf(tmp, sizeof tmp, "%s/uploads/.download-XXXXXX", data_dir(r));
    if ((d.fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
        snprintf(msg, sizeof msg, "cannot create a file in %s/uploads: %s", data_dir(r),
                 strerror(errno));
        tmp[0] = '\0';
        fail_job(r, msg);
        goto out;
    }
    d.limit = r->w->jobs->app->cfg.max_upload_bytes > 0 ? r->w->jobs->app->cfg.max_upload_bytes
                                                        : INT64_C(1) << 31;
    job_log(r, "info", "downloading %s", url);
    c = curl_easy_init();
    if (!c) {
        fail_job(r, "cannot start the download (libcurl)");
        goto out;
    }
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)d.limit);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 120L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "scenepacker/" SP_VERSION);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, dl_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &d);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, dl_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &d);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    d.allow_private = r->w->jobs->app->cfg.fetch_private;
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, dl_open_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &d);
    CURLcode cc = curl_easy_perform(c);
    if (atomic_load(&r->w->cancel)) {
        interrupted(r);
        goto out;
    }
    if (cc != CURLE_OK) {
        if (d.too_big || cc == CURLE_FILESIZE_EXCEEDED)
            snprintf(msg, sizeof msg,
                     "file_url: the file is larger than %" PRId64 " bytes (SP_MAX_UPLOAD_BYTES)",
                     d.limit);
        else if (d.write_err)
            snprintf(msg, sizeof msg, "cannot store the download: %s", strerror(d.write_err));
        else if (d.refused[0])
            snprintf(msg, sizeof msg,
                     "file_url: refused to connect to %s, a loopback, private or reserved "
                     "address (SP_FETCH_PRIVATE=1 allows it)",
                     d.refused);
        else
            snprintf(msg, sizeof msg, "file_url: download failed: %s",
                     curl_err[0] ? curl_err : curl_easy_strerror(cc));
        fail_job(r, msg);
        goto out;
    }
    if (fsync(d.fd) != 0 || close(d.fd) != 0) {
        d.fd = -1;
        snprintf(msg, sizeof msg, "cannot store the download: %s", strerror(errno));
        fail_job(r, msg);
        goto out;
    }
    d.fd = -1;
    on_progress(r, 96, "analyse");

    /* the name: the (final) URL's last segment, made safe; the bytes decide the format */
    char *eff = NULL, raw[512], name[128];
    curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &eff);
    url_filename(eff ? eff : url, raw, sizeof raw);
    sp_upload_name_sanitize(raw, name, sizeof name);
    struct sp_err e = {{0}, {0}};
    rc = sp_book_analyze(tmp, name, 0, &book, &e);
    if (rc == SP_OK)
        rc = sp_book_acceptable(&book, &e);
    if (rc != SP_OK) {
        snprintf(msg, sizeof msg, "file_url: %s", e.message[0] ? e.message : "not an e-book");
        fail_job(r, msg);
        goto out;
    }
    if (!strchr(name, '.')) {
        size_t nl = strlen(name);
        snprintf(name + nl, sizeof name - nl, ".%s", sp_format_ext(book.format));
    }
    snprintf(dir, sizeof dir, "%s/uploads/%lld", data_dir(r), (long long)rel.id);
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        snprintf(msg, sizeof msg, "cannot create %s: %s", dir, strerror(errno));
        fail_job(r, msg);
        goto out;
    }
    snprintf(dest, sizeof dest, "%s/%s", dir, name);
    char old[PATH_MAX] = "";
    if (rel.file_path && rel.file_path[0] != '/')
        snprintf(old, sizeof old, "%s/%s", data_dir(r), rel.file_path);
    if (rename(tmp, dest) != 0) {
        snprintf(msg, sizeof msg, "cannot store the download: %s", strerror(errno));
        fail_job(r, msg);
        goto out;
    }
    tmp[0] = '\0';
    if (old[0] && strcmp(old, dest) != 0)
        unlink(old);
    cfg = sp_release_config(&rel);
    sp_wizard_config_set_upload(cfg, raw[0] ? raw : name, name, book.size,
                                sp_format_name(book.format), url);
    char *cfg_text = json_dumps(cfg, JSON_COMPACT);
    char rel_path[256];
    snprintf(rel_path, sizeof rel_path, "uploads/%lld/%s", (long long)rel.id, name);
    struct sp_wizard_save s = {.set_file = true,
                               .file_path = rel_path,
                               .file_size = book.size,
                               .set_name = true,
                               .name = NULL,
                               .config = cfg_text,
                               .wizard_step = 4};
    /* the job still holds the release (an active job blocks other wizard writes): save through
     * a transaction of our own that checks the job is still ours first */
    rc = sp_store_job_touch(r->db, r->job->id, r->w->owner, 98, "store",
                            sp_time_now() + SP_JOB_LEASE_S, sp_time_now());
    if (rc == SP_CONFLICT) {
        unlink(dest);
        free(cfg_text);
        interrupted(r);
        goto out;
    }
    rc = sp_db_begin(r->db) == SP_OK ? SP_OK : SP_AGAIN;
    if (rc == SP_OK) {
        /* finish first so that the save's "no active job" check passes in the same transaction */
        rc = sp_store_job_finish(r->db, r->job->id, r->w->owner, "completed", NULL, sp_time_now());
        if (rc == SP_OK)
            rc = sp_store_wizard_save(r->db, rel.id, &s, sp_time_now(), &e);
        if (rc == SP_OK)
            rc = sp_db_commit(r->db) == SP_OK ? SP_OK : SP_AGAIN;
        if (rc != SP_OK)
            sp_db_rollback(r->db);
    }
    free(cfg_text);
    if (rc != SP_OK) {
        unlink(dest);
        if (rc == SP_CONFLICT && !strcmp(e.field, "status"))
            snprintf(msg, sizeof msg, "%s", e.message);
        else if (rc == SP_CONFLICT)
            snprintf(msg, sizeof msg, "the job was cancelled before it could finish");
        else
            snprintf(msg, sizeof msg, "cannot record the download in the database");
        if (rc == SP_CONFLICT && !e.field[0]) {
            interrupted(r);
            goto out;
        }
        fail_job(r, msg);
        goto out;
    }
    job_log(r, "info", "downloaded %s (%" PRId64 " bytes, %s)", name, book.size,
            sp_format_name(book.format));
out:
    if (c)
        curl_easy_cleanup(c);
    if (d.fd >= 0)
        close(d.fd);
    if (tmp[0])
        unlink(tmp);
    sp_book_free(&book);
    json_decref(params);
    json_decref(cfg);
    sp_release_clear(&rel);
}

/* ---- workers ---- */

static void run_job(struct worker *w, struct sp_db *db, struct sp_job *job)
{
    struct run r = {.w = w, .job = job, .db = db, .last_write_ns = sp_time_mono_ns()};
    atomic_store(&w->cancel, 0);
    atomic_store(&w->job_id, job->id);
    /* a cancel that raced the claim */
    if (atomic_load(&w->jobs->stopping))
        atomic_store(&w->cancel, 1);
    bump(&r);
    int64_t t0 = sp_time_mono_ns();
    if (!strcmp(job->job_type, "download"))
        run_download(&r);
    else
        run_pack(&r);
    atomic_store(&w->job_id, 0);
    sp_metrics_job_observe((double)(sp_time_mono_ns() - t0) / 1e9);
    bump(&r);
    sp_db_idle(db);
}

static void wait_for_work(struct sp_jobs *j)
{
    pthread_mutex_lock(&j->lock);
    if (!j->wakeups && !atomic_load(&j->stopping)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += POLL_MS / 1000;
        ts.tv_nsec += (long)(POLL_MS % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&j->wake, &j->lock, &ts);
    }
    if (j->wakeups > 0)
        j->wakeups--;
    pthread_mutex_unlock(&j->lock);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct sp_jobs *j = w->jobs;
    while (!atomic_load(&j->stopping)) {
        struct sp_db *db = sp_db_thread();
        if (!db) {
            wait_for_work(j);
            continue;
        }
        struct sp_job job;
        int rc = sp_store_job_claim(db, w->owner, sp_time_now(), SP_JOB_LEASE_S,
                                    SP_JOB_MAX_ATTEMPTS, &job);
        sp_db_idle(db);
        if (rc == SP_OK) {
            run_job(w, db, &job);
            sp_job_clear(&job);
            continue;
        }
        if (rc != SP_NOTFOUND)
            sp_warn("job claim", "worker %d: %s", w->index, sp_rc_name(rc));
        wait_for_work(j);
    }
    sp_db_thread_close();
    return NULL;
}

/* Renew the leases of the jobs this process runs; a job no longer ours is stopped. Sweeps
 * leftovers now and then. */
static void *heartbeat_main(void *arg)
{
    struct sp_jobs *j = arg;
    int64_t last_sweep = sp_time_now();
    pthread_mutex_lock(&j->lock);
    while (!atomic_load(&j->stopping)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += HEARTBEAT_S;
        pthread_cond_timedwait(&j->hb_wake, &j->lock, &ts);
        if (atomic_load(&j->stopping))
            break;
        pthread_mutex_unlock(&j->lock);
        struct sp_db *db = sp_db_thread();
        int64_t now = sp_time_now();
        for (int i = 0; db && i < j->nworkers; i++) {
            struct worker *w = &j->workers[i];
            int64_t id = atomic_load(&w->job_id);
            if (!id)
                continue;
            int rc = sp_store_job_touch(db, id, w->owner, -1, NULL, now + SP_JOB_LEASE_S, now);
            if (rc == SP_CONFLICT && atomic_load(&w->job_id) == id)
                atomic_store(&w->cancel, 1);
        }
        if (now - last_sweep >= SP_JOB_SWEEP_AGE_S / 2) {
            sp_jobs_sweep(j->app->cfg.data_dir, SP_JOB_SWEEP_AGE_S);
            last_sweep = now;
        }
        if (db)
            sp_db_idle(db);
        pthread_mutex_lock(&j->lock);
    }
    pthread_mutex_unlock(&j->lock);
    sp_db_thread_close();
    return NULL;
}

/* ---- metrics ---- */

static int jobs_source(void *ctx, struct sp_metrics_jobs *out)
{
    (void)ctx;
    struct sp_db *db = sp_db_thread();
    struct sp_job_counts c;
    if (!db || sp_store_job_counts(db, &c) != SP_OK)
        return SP_ERR;
    out->pending = c.pending;
    out->running = c.running;
    out->completed = c.completed;
    out->failed = c.failed;
    out->cancelled = c.cancelled;
    return SP_OK;
}

/* ---- start / stop ---- */

int sp_jobs_start(struct sp_app *app, struct sp_err *e)
{
    if (app->jobs)
        return SP_OK;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        sp_err_set(e, "", "libcurl failed to initialise");
        return SP_ERR;
    }
    int swept = sp_jobs_sweep(app->cfg.data_dir, 0);
    if (swept)
        sp_info("jobs", "removed %d leftover(s) of interrupted packings and uploads", swept);

    struct sp_jobs *j = sp_calloc(1, sizeof *j);
    j->app = app;
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->wake, NULL);
    pthread_cond_init(&j->hb_wake, NULL);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    j->pool = sp_pool_new("wizard", cpus > 1 ? (int)cpus : 2, REQUEST_QUEUE);
    j->nworkers = app->cfg.workers > 0 ? app->cfg.workers : 0;
    j->workers = j->nworkers ? sp_calloc((size_t)j->nworkers, sizeof *j->workers) : NULL;
    char host[64] = "host";
    gethostname(host, sizeof host - 1);
    unsigned rnd = (unsigned)(sp_time_mono_ns() ^ (int64_t)getpid() << 16);
    app->jobs = j;
    for (int i = 0; i < j->nworkers; i++) {
        struct worker *w = &j->workers[i];
        w->jobs = j;
        w->index = i;
        snprintf(w->owner, sizeof w->owner, "%s/%d/%08x#%d", host, (int)getpid(), rnd, i);
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            sp_err_set(e, "workers", "cannot start job worker %d: %s", i, strerror(errno));
            sp_jobs_stop(app);
            return SP_ERR;
        }
        w->started = 1;
        char name[16];
        snprintf(name, sizeof name, "job-%d", i);
        pthread_setname_np(w->thread, name);
    }
    if (pthread_create(&j->heartbeat, NULL, heartbeat_main, j) == 0) {
        j->heartbeat_started = 1;
        pthread_setname_np(j->heartbeat, "job-heartbeat");
    } else {
        sp_warn("jobs", "cannot start the heartbeat thread: leases are renewed by progress only");
    }
    sp_metrics_set_jobs_source(jobs_source, app);
    sp_info("jobs", "%d worker(s) started", j->nworkers);
    return SP_OK;
}

void sp_jobs_stop(struct sp_app *app)
{
    struct sp_jobs *j = app ? app->jobs : NULL;
    if (!j)
        return;
    sp_metrics_set_jobs_source(NULL, NULL);
    pthread_mutex_lock(&j->lock);
    atomic_store(&j->stopping, 1);
    for (int i = 0; i < j->nworkers; i++)
        atomic_store(&j->workers[i].cancel, 1);
    pthread_cond_broadcast(&j->wake);
    pthread_cond_broadcast(&j->hb_wake);
    pthread_mutex_unlock(&j->lock);
    for (int i = 0; i < j->nworkers; i++)
        if (j->workers[i].started)
            pthread_join(j->workers[i].thread, NULL);
    if (j->heartbeat_started)
        pthread_join(j->heartbeat, NULL);
    sp_pool_free(j->pool);
    pthread_cond_destroy(&j->wake);
    pthread_cond_destroy(&j->hb_wake);
    pthread_mutex_destroy(&j->lock);
    sp_free(j->workers);
    sp_free(j);
    app->jobs = NULL;
    curl_global_cleanup();
}

void sp_jobs_notify(struct sp_app *app)
{
    struct sp_jobs *j = app ? app->jobs : NULL;
    if (!j)
        return;
    pthread_mutex_lock(&j->lock);
    if (j->wakeups < j->nworkers + 1)
        j->wakeups++;
    pthread_cond_broadcast(&j->wake);
    pthread_mutex_unlock(&j->lock);
}

void sp_jobs_cancel_local(struct sp_app *app, int64_t job_id)
{
    struct sp_jobs *j = app ? app->jobs : NULL;
    if (!j)
        return;
    for (int i = 0; i < j->nworkers; i++)
        if (atomic_load(&j->workers[i].job_id) == job_id)
            atomic_store(&j->workers[i].cancel, 1);
}

struct sp_pool *sp_jobs_request_pool(struct sp_app *app)
{
    return app && app->jobs ? app->jobs->pool : NULL;
}
