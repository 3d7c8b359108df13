#include "domain/zip_volume.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>
#include <zlib.h>

#include "domain/sfv.h"
#include "util/alloc.h"

#define WBUF (1 << 20)

struct seg {
    uint64_t off, len;
    uint32_t crc;
};

/* The output side of the archive: a file written through a buffer, with CRC segments. */
struct out {
    const char *path;
    int fd;
    zip_error_t error;
    uint64_t pos, end;
    unsigned char *buf; /* pending sequential bytes at [boff, boff+blen) */
    size_t blen;
    uint64_t boff;
    struct seg *segs;
    size_t nseg, cap;
    int boundary; /* writes that must start a segment of their own */
    int dirty;    /* CRC segments unusable: re-read at the end */
    int committed;
    int created; /* we created path: only then may we remove it */
};

static int out_flush(struct out *o)
{
    size_t done = 0;
    while (done < o->blen) {
        ssize_t w = pwrite(o->fd, o->buf + done, o->blen - done, (off_t)(o->boff + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            zip_error_set(&o->error, ZIP_ER_WRITE, errno);
            return -1;
        }
        done += (size_t)w;
    }
    o->boff += o->blen;
    o->blen = 0;
    return 0;
}

static void seg_push(struct out *o, uint64_t off)
{
    if (o->nseg == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 16;
        o->segs = sp_reallocarray(o->segs, o->cap, sizeof *o->segs);
    }
    o->segs[o->nseg++] = (struct seg){off, 0, (uint32_t)crc32(0L, Z_NULL, 0)};
}

static zip_int64_t out_write(struct out *o, const void *data, zip_uint64_t len)
{
    if (o->pos == o->end) {
        if (o->boundary > 0 || o->nseg == 0) {
            seg_push(o, o->pos);
            if (o->boundary > 0)
                o->boundary--;
        }
        struct seg *s = &o->segs[o->nseg - 1];
        s->crc = (uint32_t)crc32_z(s->crc, data, (z_size_t)len);
        s->len += len;
    } else {
        struct seg *hit = NULL;
        for (size_t i = o->nseg; i-- > 0;)
            if (o->segs[i].off == o->pos) {
                hit = &o->segs[i];
                break;
            }
        if (hit && hit->len == len && o->pos + len <= o->end)
            hit->crc = (uint32_t)crc32_z(crc32(0L, Z_NULL, 0), data, (z_size_t)len);
        else
            o->dirty = 1;
    }
    /* buffered sequential writes; anything else goes straight to the file */
    if (o->pos == o->boff + o->blen && o->blen + len <= WBUF) {
        memcpy(o->buf + o->blen, data, len);
        o->blen += len;
    } else {
        if (out_flush(o) < 0)
            return -1;
        size_t done = 0;
        while (done < len) {
            ssize_t w =
                pwrite(o->fd, (const char *)data + done, len - done, (off_t)(o->pos + done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                zip_error_set(&o->error, ZIP_ER_WRITE, errno);
                return -1;
            }
            done += (size_t)w;
        }
        o->boff = o->pos + len;
    }
    o->pos += len;
    if (o->pos > o->end)
        o->end = o->pos;
    return (zip_int64_t)len;
}

static zip_int64_t out_cb(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
    struct out *o = ud;
    switch (cmd) {
    case ZIP_SOURCE_BEGIN_WRITE:
        o->fd = open(o->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (o->fd < 0) {
            zip_error_set(&o->error, ZIP_ER_OPEN, errno);
            return -1;
        }
        o->created = 1;
        o->pos = o->end = o->boff = 0;
        o->blen = 0;
        o->nseg = 0;
        return 0;
    case ZIP_SOURCE_WRITE:
        return out_write(o, data, len);
    case ZIP_SOURCE_SEEK_WRITE: {
        zip_int64_t off = zip_source_seek_compute_offset(o->pos, o->end, data, len, &o->error);
        if (off < 0)
            return -1;
        o->pos = (uint64_t)off;
        return 0;
    }
    case ZIP_SOURCE_TELL_WRITE:
        /* libzip asks before a local header and before the central directory: the next
         * write (the header) and the one after (the data) start segments of their own */
        o->boundary = 2;
        return (zip_int64_t)o->pos;
    case ZIP_SOURCE_COMMIT_WRITE:
        if (out_flush(o) < 0)
            return -1;
        if (close(o->fd) < 0) {
            o->fd = -1;
            zip_error_set(&o->error, ZIP_ER_WRITE, errno);
            return -1;
        }
        o->fd = -1;
        o->committed = 1;
        return 0;
    case ZIP_SOURCE_ROLLBACK_WRITE:
    case ZIP_SOURCE_REMOVE:
        if (o->fd >= 0)
            close(o->fd);
        o->fd = -1;
        if (o->created)
            unlink(o->path);
        o->created = 0;
        o->committed = 0;
        return 0;
    case ZIP_SOURCE_STAT:
        /* a new archive: libzip reads "does not exist" as permission to create */
        zip_error_set(&o->error, ZIP_ER_READ, ENOENT);
        return -1;
    case ZIP_SOURCE_OPEN:
    case ZIP_SOURCE_CLOSE:
        return 0;
    case ZIP_SOURCE_READ:
        return 0;
    case ZIP_SOURCE_SEEK:
    case ZIP_SOURCE_TELL:
        return 0;
    case ZIP_SOURCE_ERROR:
        return zip_error_to_data(&o->error, data, len);
    case ZIP_SOURCE_FREE:
        return 0;
    case ZIP_SOURCE_SUPPORTS:
        return zip_source_make_command_bitmap(
            ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE, ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR,
            ZIP_SOURCE_FREE, ZIP_SOURCE_SEEK, ZIP_SOURCE_TELL, ZIP_SOURCE_BEGIN_WRITE,
            ZIP_SOURCE_COMMIT_WRITE, ZIP_SOURCE_ROLLBACK_WRITE, ZIP_SOURCE_WRITE,
            ZIP_SOURCE_SEEK_WRITE, ZIP_SOURCE_TELL_WRITE, ZIP_SOURCE_REMOVE, ZIP_SOURCE_SUPPORTS,
            -1);
    default:
        zip_error_set(&o->error, ZIP_ER_OPNOTSUPP, 0);
        return -1;
    }
}

/* The CRC of the whole file from its segments; 0 and *ok=0 when they do not tile it. */
static uint32_t out_crc(const struct out *o, int *ok)
{
    uLong c = crc32(0L, Z_NULL, 0);
    uint64_t at = 0;
    *ok = !o->dirty;
    for (size_t i = 0; *ok && i < o->nseg; i++) {
        if (o->segs[i].off != at) {
            *ok = 0;
            break;
        }
        c = crc32_combine64(c, o->segs[i].crc, (z_off64_t)o->segs[i].len);
        at += o->segs[i].len;
    }
    if (at != o->end)
        *ok = 0;
    return (uint32_t)c;
}

static void on_progress(zip_t *za, double p, void *ud)
{
    const struct sp_zip_hooks *h = ud;
    if (h->progress)
        h->progress(h->ctx, p);
}

static int on_cancel(zip_t *za, void *ud)
{
    const struct sp_zip_hooks *h = ud;
    return h->cancelled ? h->cancelled(h->ctx) : 0;
}

int64_t sp_zip_stored_size(const struct sp_zip_member *m, const int64_t *sizes, size_t n)
{
    int64_t total = 22;
    for (size_t i = 0; i < n; i++)
        total += 30 + 46 + 2 * (int64_t)strlen(m[i].name) + sizes[i];
    return total;
}

int sp_zip_write(const char *path, const struct sp_zip_member *m, size_t n,
                 const struct sp_zip_hooks *hooks, uint32_t *crc, int64_t *size, struct sp_err *e)
{
    struct out o = {.path = path, .fd = -1};
    zip_error_init(&o.error);
    o.buf = sp_malloc(WBUF);
    int rc = SP_ERR;
    zip_t *za = NULL;
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *outsrc = zip_source_function_create(out_cb, &o, &ze);
    if (!outsrc) {
        sp_err_set(e, "", "zip: %s", zip_error_strerror(&ze));
        goto out;
    }
    za = zip_open_from_source(outsrc, ZIP_CREATE | ZIP_TRUNCATE | ZIP_EXCL, &ze);
    if (!za) {
        sp_err_set(e, "", "zip: cannot create %s: %s", path, zip_error_strerror(&ze));
        zip_source_free(outsrc);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        zip_source_t *s = m[i].path ? zip_source_file(za, m[i].path, 0, -1)
                                    : zip_source_buffer(za, m[i].data, m[i].len, 0);
        zip_int64_t idx = s ? zip_file_add(za, m[i].name, s, ZIP_FL_ENC_GUESS) : -1;
        if (idx < 0) {
            sp_err_set(e, "", "zip: cannot add %s: %s", m[i].name, zip_strerror(za));
            if (s)
                zip_source_free(s);
            goto out;
        }
        if (zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0) < 0 ||
            zip_file_set_mtime(za, (zip_uint64_t)idx, m[i].mtime, 0) < 0 ||
            zip_file_set_external_attributes(za, (zip_uint64_t)idx, 0, ZIP_OPSYS_UNIX,
                                             (zip_uint32_t)(S_IFREG | 0644) << 16) < 0) {
            sp_err_set(e, "", "zip: %s: %s", m[i].name, zip_strerror(za));
            goto out;
        }
    }
    if (hooks) {
        zip_register_progress_callback_with_state(za, 0.005, on_progress, NULL, (void *)hooks);
        zip_register_cancel_callback_with_state(za, on_cancel, NULL, (void *)hooks);
    }
    if (zip_close(za) < 0) {
        zip_error_t *err = zip_get_error(za);
        if (zip_error_code_zip(err) == ZIP_ER_CANCELLED) {
            sp_err_set(e, "", "cancelled");
            rc = SP_AGAIN;
        } else {
            sp_err_set(e, "", "zip: cannot write %s: %s", path, zip_strerror(za));
        }
        goto out;
    }
    za = NULL;
    int ok = 0;
    *crc = out_crc(&o, &ok);
    *size = (int64_t)o.end;
    if (!ok && sp_crc32_file(path, crc, size, e) != SP_OK)
        goto out;
    rc = SP_OK;
out:
    if (za)
        zip_discard(za);
    if (rc != SP_OK) {
        if (o.fd >= 0)
            close(o.fd);
        if (o.created)
            unlink(path);
    }
    zip_error_fini(&ze);
    zip_error_fini(&o.error);
    sp_free(o.segs);
    sp_free(o.buf);
    return rc;
}
