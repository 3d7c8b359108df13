/* metadata_mobi.c — our own PalmDB / MOBI / EXTH reader (MobileRead wiki layout).
 *
 * Only the PalmDB header, the record list and record 0 are read (record 0 capped at 4 MiB);
 * every offset and length is checked against what was read before it is used. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain/metadata.h"
#include "domain/text.h"
#include "util/alloc.h"
#include "util/buf.h"

#define PDB_HEADER 78
#define REC0_CAP (4u * 1024 * 1024)
#define NO_INDEX 0xFFFFFFFFu

int sp_mobi_family(const unsigned char *buf, size_t n);

static int be16(const unsigned char *b, size_t len, size_t off, uint32_t *v)
{
    if (off > len || len - off < 2)
        return 0;
    *v = (uint32_t)b[off] << 8 | b[off + 1];
    return 1;
}

static int be32(const unsigned char *b, size_t len, size_t off, uint32_t *v)
{
    if (off > len || len - off < 4)
        return 0;
    *v = (uint32_t)b[off] << 24 | (uint32_t)b[off + 1] << 16 | (uint32_t)b[off + 2] << 8 |
         b[off + 3];
    return 1;
}

struct mobi {
    int has_mobi;        /* "MOBI" header present in record 0 */
    uint32_t encryption; /* PalmDOC header field at offset 12 */
    uint32_t version;
    uint32_t encoding; /* 1252 or 65001 */
    uint32_t locale;
    uint32_t kf8_index; /* EXTH 121, NO_INDEX when absent */
    int damaged;
};

/* Decode EXTH/header text by the book's encoding into clean UTF-8 (caller frees). */
static char *mobi_text(const struct mobi *m, const unsigned char *s, size_t n)
{
    if (n > 64 * 1024)
        n = 64 * 1024;
    char *raw = m->encoding == 65001 ? sp_text_clean_utf8((const char *)s, n)
                                     : sp_text_cp1252_to_utf8(s, n);
    if (m->encoding != 65001) {
        char *c = sp_text_clean_utf8(raw, strlen(raw));
        sp_free(raw);
        raw = c;
    }
    return sp_text_squash(raw);
}

static const struct {
    unsigned id;
    const char *code;
} locales[] = {
    {1, "ar"},  {4, "zh"},  {5, "cs"},  {6, "da"},  {7, "de"},  {8, "el"},  {9, "en"},  {10, "es"},
    {11, "fi"}, {12, "fr"}, {13, "he"}, {14, "hu"}, {16, "it"}, {17, "ja"}, {18, "ko"}, {19, "nl"},
    {20, "no"}, {21, "pl"}, {22, "pt"}, {24, "ro"}, {25, "ru"}, {29, "sv"}, {31, "tr"},
};

/* Parse record 0 (r0, len bytes). With b, copy the metadata into it. */
static void parse_rec0(const unsigned char *r0, size_t len, struct mobi *m, struct sp_book *b)
{
    m->kf8_index = NO_INDEX;
    if (!be16(r0, len, 12, &m->encryption)) {
        m->damaged = 1;
        return;
    }
    if (len < 24 || memcmp(r0 + 16, "MOBI", 4))
        return;
    m->has_mobi = 1;
    uint32_t hl = 0, exth_flags = 0, name_off = 0, name_len = 0;
    if (!be32(r0, len, 20, &hl) || hl < 24 || hl > len - 16) {
        m->damaged = 1;
        return;
    }
    size_t hend = 16 + (size_t)hl; /* the MOBI header is r0[16 .. hend) */
    be32(r0, hend, 28, &m->encoding);
    be32(r0, hend, 36, &m->version);
    int have_name = be32(r0, hend, 84, &name_off) && be32(r0, hend, 88, &name_len);
    be32(r0, hend, 92, &m->locale);
    be32(r0, hend, 128, &exth_flags);

    struct sp_buf authors = SP_BUF_INIT;
    int nauthors = 0;
    char *title = NULL;
    if ((exth_flags & 0x40) && len - hend >= 12 && !memcmp(r0 + hend, "EXTH", 4)) {
        uint32_t elen = 0, count = 0;
        be32(r0, len, hend + 4, &elen);
        be32(r0, len, hend + 8, &count);
        size_t eend = (elen >= 12 && elen <= len - hend) ? hend + elen : len;
        size_t p = hend + 12;
        for (uint32_t i = 0; i < count && i < 10000; i++) {
            uint32_t type, rlen;
            if (!be32(r0, eend, p, &type) || !be32(r0, eend, p + 4, &rlen) || rlen < 8 ||
                rlen > eend - p)
                break;
            const unsigned char *d = r0 + p + 8;
            size_t dn = rlen - 8;
            p += rlen;
            if (type == 121 && dn >= 4) {
                be32(d, dn, 0, &m->kf8_index);
                continue;
            }
            if (!b)
                continue;
            char *t = NULL;
            switch (type) {
            case 100: /* author */
                t = mobi_text(m, d, dn);
                if (*t && nauthors < 4) {
                    if (authors.len)
                        sp_buf_puts(&authors, " & ");
                    sp_buf_puts(&authors, t);
                    nauthors++;
                }
                break;
            case 101:
                t = mobi_text(m, d, dn);
                sp_meta_put(&b->meta, SP_META_PUBLISHER, t);
                break;
            case 104:
                t = mobi_text(m, d, dn);
                if (sp_isbn_valid(t))
                    sp_meta_put(&b->meta, SP_META_ISBN, t);
                break;
            case 105:
                t = mobi_text(m, d, dn);
                sp_meta_put(&b->meta, SP_META_GENRE, t);
                break;
            case 106:
                t = mobi_text(m, d, dn);
                sp_meta_put(&b->meta, SP_META_PUBLISH_DATE, t);
                break;
            case 113:
                t = mobi_text(m, d, dn);
                sp_book_extra(b, "asin", t);
                break;
            case 501:
                t = mobi_text(m, d, dn);
                sp_book_extra(b, "cdetype", t);
                break;
            case 503:
                sp_free(title);
                title = mobi_text(m, d, dn);
                break;
            case 524:
                t = mobi_text(m, d, dn);
                sp_meta_put(&b->meta, SP_META_LANGUAGE, t);
                break;
            default:
                break;
            }
            sp_free(t);
        }
    }
    if (!b) {
        sp_buf_free(&authors);
        return;
    }
    if (authors.len)
        sp_meta_put(&b->meta, SP_META_AUTHOR, authors.data);
    sp_buf_free(&authors);
    if ((!title || !*title) && have_name && name_off < len && name_len <= len - name_off) {
        sp_free(title);
        title = mobi_text(m, r0 + name_off, name_len);
    }
    if (title && *title)
        sp_meta_put(&b->meta, SP_META_TITLE, title);
    sp_free(title);
    if (!sp_meta_get(&b->meta, SP_META_LANGUAGE))
        for (size_t i = 0; i < SP_ARRAY_LEN(locales); i++)
            if ((m->locale & 0xFF) == locales[i].id)
                sp_meta_put(&b->meta, SP_META_LANGUAGE, locales[i].code);
}

static int family_of(const struct mobi *m, uint32_t nrec)
{
    if (m->version == 8)
        return SP_FAM_KF8;
    if (m->kf8_index != NO_INDEX && m->kf8_index > 0 && m->kf8_index < nrec)
        return SP_FAM_KF8_COMBO;
    return SP_FAM_MOBI;
}

int sp_mobi_family(const unsigned char *buf, size_t n)
{
    uint32_t nrec = 0, off0 = 0, end0 = 0;
    if (!be16(buf, n, 76, &nrec) || nrec == 0 || !be32(buf, n, PDB_HEADER, &off0) || off0 >= n)
        return SP_FAM_MOBI;
    if (nrec < 2 || !be32(buf, n, PDB_HEADER + 8, &end0) || end0 <= off0 || end0 > n)
        end0 = (uint32_t)(n < 0xFFFFFFFFu ? n : 0xFFFFFFFFu);
    struct mobi m = {0};
    parse_rec0(buf + off0, end0 - off0, &m, NULL);
    return family_of(&m, nrec);
}

static int read_at(int fd, void *buf, size_t n, off_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)buf + got, n - got, off + (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

int sp_book_read_mobi(const char *path, struct sp_book *b, struct sp_err *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        sp_err_set(e, "file", "cannot open %s: %s", path, strerror(errno));
        return SP_ERR;
    }
    int rc = SP_INVALID;
    unsigned char hdr[PDB_HEADER];
    unsigned char *list = NULL, *r0 = NULL;
    uint64_t size = (uint64_t)b->size;
    uint32_t nrec = 0;
    if (size < PDB_HEADER || read_at(fd, hdr, PDB_HEADER, 0) < 0) {
        sp_err_set(e, "file", "damaged PalmDB: header truncated");
        goto out;
    }
    be16(hdr, sizeof hdr, 76, &nrec);
    size_t listlen = (size_t)nrec * 8;
    if (nrec == 0 || PDB_HEADER + listlen > size) {
        sp_err_set(e, "file", "damaged PalmDB: record list does not fit the file");
        goto out;
    }
    list = sp_malloc(listlen);
    if (read_at(fd, list, listlen, PDB_HEADER) < 0) {
        sp_err_set(e, "file", "damaged PalmDB: record list truncated");
        goto out;
    }
    uint32_t off0 = 0, end0 = 0;
    be32(list, listlen, 0, &off0);
    if (nrec > 1)
        be32(list, listlen, 8, &end0);
    else
        end0 = (uint32_t)(size < 0xFFFFFFFFu ? size : 0xFFFFFFFFu);
    if (off0 < PDB_HEADER + listlen || end0 <= off0 || end0 > size) {
        sp_err_set(e, "file", "damaged PalmDB: record 0 lies outside the file");
        goto out;
    }
    size_t len0 = end0 - off0;
    if (len0 > REC0_CAP)
        len0 = REC0_CAP;
    r0 = sp_malloc(len0);
    if (read_at(fd, r0, len0, off0) < 0) {
        sp_err_set(e, "file", "damaged PalmDB: record 0 truncated");
        goto out;
    }

    char name[33];
    memcpy(name, hdr, 32);
    name[32] = '\0';
    if (!memcmp(hdr + 60, "TEXtREAd", 8)) {
        b->family = SP_FAM_PALMDOC;
        char *t = sp_text_cp1252_to_utf8((unsigned char *)name, strlen(name));
        for (char *p = t; *p; p++)
            if (*p == '_')
                *p = ' ';
        sp_meta_put(&b->meta, SP_META_TITLE, t);
        sp_free(t);
        rc = SP_OK;
        goto out;
    }
    struct mobi m = {0};
    parse_rec0(r0, len0, &m, b);
    if (m.damaged || !m.has_mobi) {
        sp_err_set(e, "file", "damaged Mobipocket file: record 0 has no valid MOBI header");
        goto out;
    }
    b->family = family_of(&m, nrec);
    if (m.encryption != 0) {
        b->drm = 1;
        snprintf(b->drm_reason, sizeof b->drm_reason,
                 "the MOBI header's encryption field is %u (%s)", (unsigned)m.encryption,
                 m.encryption == 1 ? "old Mobipocket DRM" : "Mobipocket/Kindle DRM");
    }
    /* the KF8 part of a combined file has its own header and encryption field */
    uint32_t koff = 0;
    unsigned char k[32];
    if (b->family == SP_FAM_KF8_COMBO && be32(list, listlen, (size_t)m.kf8_index * 8, &koff) &&
        koff < size && size - koff >= sizeof k && read_at(fd, k, sizeof k, koff) == 0 &&
        !memcmp(k + 16, "MOBI", 4)) {
        uint32_t kenc = 0;
        be16(k, sizeof k, 12, &kenc);
        if (kenc && !b->drm) {
            b->drm = 1;
            snprintf(b->drm_reason, sizeof b->drm_reason, "the KF8 header's encryption field is %u",
                     (unsigned)kenc);
        }
    }
    char v[16];
    snprintf(v, sizeof v, "%u", (unsigned)m.version);
    sp_book_extra(b, "mobi_version", v);
    snprintf(v, sizeof v, "%u", (unsigned)m.encoding);
    sp_book_extra(b, "text_encoding", v);
    rc = SP_OK;
out:
    sp_free(list);
    sp_free(r0);
    close(fd);
    return rc;
}
