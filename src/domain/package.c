#include "domain/package.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain/diz.h"
#include "domain/metadata.h"
#include "domain/nfo.h"
#include "domain/release_check.h"
#include "domain/sfv.h"
#include "domain/zip_volume.h"
#include "util/alloc.h"
#include "util/time.h"

#include <strings.h>
#include <zlib.h>

const int64_t sp_zip_sizes[] = {5000000,   10000000,  50000000, 100000000,
                                150000000, 200000000, 250000000};
const size_t sp_zip_sizes_count = SP_ARRAY_LEN(sp_zip_sizes);
static const char *const size_labels[] = {"5MB",   "10MB",  "50MB", "100MB",
                                          "150MB", "200MB", "250MB"};

int sp_zip_size_valid(int64_t n)
{
    for (size_t i = 0; i < sp_zip_sizes_count; i++)
        if (sp_zip_sizes[i] == n)
            return 1;
    return 0;
}

const char *sp_zip_size_label(int64_t n)
{
    for (size_t i = 0; i < sp_zip_sizes_count; i++)
        if (sp_zip_sizes[i] == n)
            return size_labels[i];
    return "?";
}

int sp_zip_size_parse(const char *s, int64_t *out, struct sp_err *e)
{
    char *end = NULL;
    errno = 0;
    long long v = s ? strtoll(s, &end, 10) : 0;
    if (s && end != s && !errno && v > 0) {
        /* megabyte forms: bound v first so the multiplication cannot overflow */
        if (!strcasecmp(end, "MB") || !strcasecmp(end, "M") || (!*end && v <= 250))
            v = v <= 250 ? v * 1000000 : -1;
        else if (*end)
            v = -1;
        if (sp_zip_size_valid(v)) {
            *out = v;
            return SP_OK;
        }
    }
    sp_err_set(e, "zip_size",
               "zip_size must be one of 5000000, 10000000, 50000000, 100000000, 150000000, "
               "200000000, 250000000 bytes (or 5MB ... 250MB)");
    return SP_INVALID;
}

/* ---- NFO values ------------------------------------------------------------------------ */

static void group_digits(int64_t v, char *out, size_t outlen)
{
    char raw[32];
    snprintf(raw, sizeof raw, "%" PRId64, v);
    size_t n = strlen(raw), w = 0;
    for (size_t i = 0; i < n && w + 2 < outlen; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[w++] = ',';
        out[w++] = raw[i];
    }
    out[w] = '\0';
}

void sp_pack_nfo_vars(struct sp_nfo_vars *v, const struct sp_meta *m, const char *dirname,
                      const char *group, int format, int volumes, int64_t volume_size,
                      int64_t payload_size, const char *payload_name, char *scratch,
                      size_t scratchlen)
{
    memset(v, 0, sizeof *v);
    for (int i = 0; i < SP_META_COUNT; i++)
        v->value[i] = sp_meta_get(m, i);
    v->value[SP_NFO_RELEASE] = dirname;
    v->value[SP_NFO_GROUP] = group;
    v->value[SP_NFO_FORMAT] = sp_format_name(format);
    v->value[SP_NFO_PAYLOAD] = payload_name;
    if (scratchlen < 160)
        return;
    char *disks = scratch, *size = scratch + 32, *packer = scratch + 112;
    snprintf(disks, 32, "%d x %s", volumes, sp_zip_size_label(volume_size));
    char grouped[32];
    group_digits(payload_size, grouped, sizeof grouped);
    snprintf(size, 80, "%.2f MB (%s bytes)", (double)payload_size / 1e6, grouped);
    snprintf(packer, 48, "scenepacker %s", SP_VERSION);
    v->value[SP_NFO_DISKS] = disks;
    v->value[SP_NFO_SIZE] = size;
    v->value[SP_NFO_PACKER] = packer;
}

/* ---- helpers --------------------------------------------------------------------------- */

struct job {
    const struct sp_pack_request *rq;
    int base_pct, span_pct, last_pct;
};

static void progress(struct job *j, int pct, const char *step)
{
    if (pct < j->last_pct)
        pct = j->last_pct;
    j->last_pct = pct;
    if (j->rq->progress)
        j->rq->progress(j->rq->ctx, pct, step);
}

static int cancelled(const struct sp_pack_request *rq)
{
    return rq->cancel && atomic_load(rq->cancel);
}

static void zip_progress(void *ctx, double f)
{
    struct job *j = ctx;
    int pct = j->base_pct + (int)(f * j->span_pct);
    if (pct != j->last_pct)
        progress(j, pct, "zip");
}

static int zip_cancelled(void *ctx)
{
    struct job *j = ctx;
    return cancelled(j->rq);
}

static int write_file(const char *path, const void *data, size_t n, struct sp_err *e)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        sp_err_set(e, "", "cannot create %s: %s", path, strerror(errno));
        return SP_ERR;
    }
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, (const char *)data + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            sp_err_set(e, "", "cannot write %s: %s", path, strerror(errno));
            close(fd);
            return SP_ERR;
        }
        done += (size_t)w;
    }
    if (close(fd) < 0) {
        sp_err_set(e, "", "cannot write %s: %s", path, strerror(errno));
        return SP_ERR;
    }
    return SP_OK;
}

/* Remove the temporary directory and the files we put in it. */
static void remove_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            char *p = sp_asprintf("%s/%s", dir, de->d_name);
            unlink(p);
            sp_free(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

static int rename_noreplace(const char *from, const char *to)
{
#ifdef RENAME_NOREPLACE
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
#endif
    struct stat st;
    if (lstat(to, &st) == 0) {
        errno = EEXIST;
        return -1;
    }
    return rename(from, to);
}

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* ---- packing --------------------------------------------------------------------------- */

void sp_pack_result_free(struct sp_pack_result *res)
{
    sp_free(res->path);
    res->path = NULL;
    sp_meta_free(&res->meta);
    sp_buf_free(&res->nfo);
}

int sp_pack(const struct sp_pack_request *rq, struct sp_pack_result *res,
            struct sp_problems *problems, struct sp_err *e)
{
    memset(res, 0, sizeof *res);
    sp_meta_init(&res->meta);
    struct job j = {.rq = rq};
    struct sp_book book;
    struct sp_problems local = SP_PROBLEMS_INIT;
    char *tmpdir = NULL, *nfo_path = NULL, *zip_path = NULL, *sfv_path = NULL;
    struct sp_buf diz = SP_BUF_INIT, sfv = SP_BUF_INIT;
    int rc;
    time_t now = rq->now ? rq->now : time(NULL);

    memset(&book, 0, sizeof book);
    sp_meta_init(&book.meta);
    if (!problems)
        problems = &local;
    if (!rq->input || !rq->out_dir || !rq->group) {
        sp_err_set(e, "", "input, out_dir and group are required");
        rc = SP_INVALID;
        goto out;
    }

    const char *tmpl = rq->template_text;
    if (!tmpl && !(tmpl = sp_nfo_template(rq->template_name))) {
        sp_err_set(e, "template", "unknown template '%s'", rq->template_name);
        rc = SP_INVALID;
        goto out;
    }
    if (rq->zip_size && !sp_zip_size_valid(rq->zip_size)) {
        sp_zip_size_parse(NULL, NULL, e);
        rc = SP_INVALID;
        goto out;
    }

    /* 1. what the file is */
    progress(&j, 0, "analyse");
    rc = sp_book_analyze(rq->input, rq->input_name, 0, &book, e);
    if (rc != SP_OK)
        goto out;
    if ((rc = sp_book_acceptable(&book, e)) != SP_OK)
        goto out;
    res->format = book.format;
    res->payload_size = book.size;
    if (cancelled(rq))
        goto cancel;

    /* 2. metadata: the file's, then the user's over it; normalised and validated */
    progress(&j, 4, "metadata");
    sp_meta_copy(&res->meta, &book.meta);
    if (rq->meta)
        sp_meta_merge(&res->meta, rq->meta);
    sp_meta_normalize(&res->meta);
    size_t before = problems->n;
    if (sp_meta_validate(&res->meta, problems)) {
        const struct sp_problem *p0 = &problems->items[before];
        sp_err_set(e, p0->field, "%s", p0->message);
        rc = SP_INVALID;
        goto out;
    }

    if (rq->nfo_only && !(sp_meta_tags(&res->meta) & SP_TAG_NFOFIX)) {
        sp_err_set(e, "tags", "an NFO-only release is an NFOFiX: its tags must include NFOFiX");
        rc = SP_INVALID;
        goto out;
    }

    /* 3. the name */
    progress(&j, 6, "name");
    if ((rc = sp_dirname_build(&res->meta, res->format, rq->group, res->dirname,
                               sizeof res->dirname, e)) != SP_OK)
        goto out;
    if (rq->dirname_taken) {
        int t = rq->dirname_taken(rq->ctx, res->dirname);
        if (t != 0) {
            sp_err_set(e, "name",
                       t > 0 ? "the release %s already exists"
                             : "cannot check whether %s already exists",
                       res->dirname);
            rc = t > 0 ? SP_CONFLICT : SP_ERR;
            goto out;
        }
    }
    struct stat st;
    if (stat(rq->out_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        sp_err_set(e, "out", "the output directory %s does not exist", rq->out_dir);
        rc = SP_NOTFOUND;
        goto out;
    }
    res->path = sp_asprintf("%s/%s", rq->out_dir, res->dirname);
    if (lstat(res->path, &st) == 0) {
        sp_err_set(e, "name", "the release %s already exists in %s", res->dirname, rq->out_dir);
        rc = SP_CONFLICT;
        goto out;
    }
    int year = sp_meta_year(&res->meta);
    if ((rc = sp_short_base(res->dirname, year, rq->base_taken, rq->ctx, res->base, e)) != SP_OK)
        goto out;
    char grp[64];
    snprintf(grp, sizeof grp, "%s", rq->group);
    lower(grp);
    snprintf(res->nfo_name, sizeof res->nfo_name, "%s-%s.nfo", grp, res->base);
    snprintf(res->sfv_name, sizeof res->sfv_name, "%s-%s.sfv", grp, res->base);
    sp_payload_name(res->dirname, sp_format_ext(res->format), res->payload_name,
                    sizeof res->payload_name);
    if (cancelled(rq))
        goto cancel;

    /* 4. NFO and volume size: the NFO names the disks, the disks depend on the size */
    progress(&j, 8, "nfo");
    res->volumes = 1;
    int64_t needed = 0;
    for (size_t si = 0; si < sp_zip_sizes_count; si++) {
        int64_t vs = rq->zip_size ? rq->zip_size : sp_zip_sizes[si];
        struct sp_nfo_vars vars;
        char scratch[160];
        unsigned char rendered[SP_NFO_COUNT];
        sp_pack_nfo_vars(&vars, &res->meta, res->dirname, rq->group, res->format, 1, vs, book.size,
                         res->payload_name, scratch, sizeof scratch);
        sp_buf_reset(&res->nfo);
        if ((rc = sp_nfo_render(tmpl, &vars, &res->nfo, rendered, e)) != SP_OK)
            goto out;
        if ((rc = sp_nfo_check_required(rendered, &res->meta, e)) != SP_OK)
            goto out;
        sp_buf_reset(&diz);
        sp_diz_render(&res->meta, sp_format_name(res->format), rq->group, 1, 1, &diz);
        struct sp_zip_member m[3] = {{"FILE_ID.DIZ", NULL, NULL, 0, 0},
                                     {res->nfo_name, NULL, NULL, 0, 0},
                                     {res->payload_name, NULL, NULL, 0, 0}};
        int64_t sizes[3] = {(int64_t)diz.len, (int64_t)res->nfo.len, book.size};
        needed = sp_zip_stored_size(m, sizes, 3);
        if (needed <= vs) {
            res->volume_size = vs;
            break;
        }
        if (rq->zip_size)
            break;
    }
    if (!res->volume_size) {
        struct sp_buf fit = SP_BUF_INIT;
        for (size_t si = 0; si < sp_zip_sizes_count; si++)
            if (sp_zip_sizes[si] >= needed)
                sp_buf_printf(&fit, "%s%" PRId64 " (%s)", fit.len ? ", " : "", sp_zip_sizes[si],
                              size_labels[si]);
        if (fit.len)
            sp_err_set(e, "zip_size",
                       "the release needs %" PRId64 " bytes in one ZIP, more than the chosen "
                       "%" PRId64 "; sizes that would work: %s",
                       needed, rq->zip_size, fit.data);
        else
            sp_err_set(e, "zip_size",
                       "the release needs %" PRId64 " bytes, more than the largest volume "
                       "(250000000): that needs a RAR set, which this packer does not write",
                       needed);
        sp_buf_free(&fit);
        rc = SP_INVALID;
        goto out;
    }
    if (rq->dry_run) {
        rc = SP_OK;
        goto out;
    }
    if (cancelled(rq))
        goto cancel;

    /* 5. write into a temporary directory next to the destination */
    progress(&j, 10, "zip");
    /* mkdtemp wants the name to end in six X, which it replaces */
    tmpdir = sp_asprintf("%s/.sp-pack-......", rq->out_dir);
    memset(tmpdir + strlen(tmpdir) - 6, 'X', 6);
    if (!mkdtemp(tmpdir)) {
        sp_err_set(e, "out", "cannot create a directory in %s: %s", rq->out_dir, strerror(errno));
        sp_free(tmpdir);
        tmpdir = NULL;
        rc = SP_ERR;
        goto out;
    }
    nfo_path = sp_asprintf("%s/%s", tmpdir, res->nfo_name);
    if ((rc = write_file(nfo_path, res->nfo.data, res->nfo.len, e)) != SP_OK)
        goto out;
    if (rq->nfo_only) {
        res->volumes = 0;
        struct sp_pack_file *f = &res->files[res->nfiles++];
        snprintf(f->name, sizeof f->name, "%s", res->nfo_name);
        f->size = (int64_t)res->nfo.len;
        f->crc = (uint32_t)crc32(0L, (const unsigned char *)res->nfo.data, (uInt)res->nfo.len);
        goto verify;
    }
    char zname[16];
    snprintf(zname, sizeof zname, "%s01.zip", res->base);
    zip_path = sp_asprintf("%s/%s", tmpdir, zname);
    struct stat ist;
    time_t mtime = stat(rq->input, &ist) == 0 ? ist.st_mtime : now;
    struct sp_zip_member members[3] = {
        {"FILE_ID.DIZ", NULL, diz.data, diz.len, now},
        {res->nfo_name, NULL, res->nfo.data, res->nfo.len, now},
        {res->payload_name, rq->input, NULL, 0, mtime},
    };
    j.base_pct = 10;
    j.span_pct = 85;
    struct sp_zip_hooks hooks = {zip_progress, zip_cancelled, &j};
    struct sp_pack_file *vol = &res->files[res->nfiles++];
    snprintf(vol->name, sizeof vol->name, "%s", zname);
    if ((rc = sp_zip_write(zip_path, members, 3, &hooks, &vol->crc, &vol->size, e)) != SP_OK)
        goto out;
    if (vol->size > res->volume_size) {
        sp_err_set(e, "zip_size", "the ZIP came out at %" PRId64 " bytes, over %" PRId64, vol->size,
                   res->volume_size);
        rc = SP_ERR;
        goto out;
    }
    if (cancelled(rq))
        goto cancel;

    /* 6. SFV */
    progress(&j, 96, "sfv");
    struct sp_sfv_entry se;
    snprintf(se.name, sizeof se.name, "%s", zname);
    se.crc = vol->crc;
    char when[32], comment[96];
    sp_time_rfc3339((int64_t)now, when, sizeof when);
    snprintf(comment, sizeof comment, "scenepacker %s, %s", SP_VERSION, when);
    sp_sfv_render(&se, 1, comment, &sfv);
    sfv_path = sp_asprintf("%s/%s", tmpdir, res->sfv_name);
    if ((rc = write_file(sfv_path, sfv.data, sfv.len, e)) != SP_OK)
        goto out;
    struct sp_pack_file *fn = &res->files[res->nfiles++];
    snprintf(fn->name, sizeof fn->name, "%s", res->nfo_name);
    fn->size = (int64_t)res->nfo.len;
    fn->crc = (uint32_t)crc32(0L, (const unsigned char *)res->nfo.data, (uInt)res->nfo.len);
    struct sp_pack_file *fs = &res->files[res->nfiles++];
    snprintf(fs->name, sizeof fs->name, "%s", res->sfv_name);
    fs->size = (int64_t)sfv.len;
    fs->crc = (uint32_t)crc32(0L, (const unsigned char *)sfv.data, (uInt)sfv.len);

    /* 7. our own check, structure only (the bytes were just checksummed) */
verify:
    progress(&j, 98, "verify");
    struct sp_problems self = SP_PROBLEMS_INIT;
    if ((rc = sp_release_check(tmpdir, res->dirname, SP_CHECK_QUICK, &self, e)) == SP_OK &&
        self.n) {
        sp_err_set(e, self.items[0].field, "self-check failed: %s: %s", self.items[0].file,
                   self.items[0].message);
        rc = SP_ERR;
    }
    sp_problems_free(&self);
    if (rc != SP_OK)
        goto out;
    if (cancelled(rq))
        goto cancel;

    /* 8. into place */
    chmod(tmpdir, 0755);
    if (rename_noreplace(tmpdir, res->path) < 0) {
        if (errno == EEXIST || errno == ENOTEMPTY) {
            sp_err_set(e, "name", "the release %s already exists in %s", res->dirname, rq->out_dir);
            rc = SP_CONFLICT;
        } else {
            sp_err_set(e, "out", "cannot move the release into place: %s", strerror(errno));
            rc = SP_ERR;
        }
        goto out;
    }
    sp_free(tmpdir);
    tmpdir = NULL;
    progress(&j, 100, "done");
    rc = SP_OK;
    goto out;

cancel:
    sp_err_set(e, "", "packing cancelled");
    rc = SP_AGAIN;
out:
    if (tmpdir)
        remove_tmp(tmpdir);
    sp_free(tmpdir);
    sp_free(nfo_path);
    sp_free(zip_path);
    sp_free(sfv_path);
    sp_buf_free(&diz);
    sp_buf_free(&sfv);
    sp_book_free(&book);
    sp_problems_free(&local);
    return rc;
}
