#include "domain/metadata.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/alloc.h"

/* Implemented in metadata_mobi.c: the family of a PalmDB whose header + record 0 are in buf. */
int sp_mobi_family(const unsigned char *buf, size_t n);

static const struct {
    const char *name, *tag, *ext;
} formats[] = {
    [SP_FMT_UNKNOWN] = {"unknown", NULL, "bin"}, [SP_FMT_PDF] = {"PDF", NULL, "pdf"},
    [SP_FMT_EPUB] = {"EPUB", "ePUB", "epub"},    [SP_FMT_CBZ] = {"CBZ", "CBZ", "cbz"},
    [SP_FMT_MOBI] = {"MOBI", "MOBI", "mobi"},    [SP_FMT_AZW] = {"AZW", "AZW", "azw"},
    [SP_FMT_KF8] = {"KF8", "KF8", "azw3"},       [SP_FMT_PRC] = {"PRC", "PRC", "prc"},
};

static const char *const family_names[] = {
    [SP_FAM_UNKNOWN] = "unknown", [SP_FAM_PDF] = "PDF",
    [SP_FAM_ZIP] = "ZIP",         [SP_FAM_EPUB] = "EPUB",
    [SP_FAM_CBZ] = "CBZ",         [SP_FAM_MOBI] = "Mobipocket",
    [SP_FAM_KF8] = "KF8",         [SP_FAM_KF8_COMBO] = "Mobipocket+KF8",
    [SP_FAM_PALMDOC] = "PalmDOC",
};

const char *sp_format_name(int f)
{
    return f > 0 && f < (int)SP_ARRAY_LEN(formats) ? formats[f].name : "unknown";
}

const char *sp_format_tag(int f)
{
    return f > 0 && f < (int)SP_ARRAY_LEN(formats) ? formats[f].tag : NULL;
}

const char *sp_format_ext(int f)
{
    return f > 0 && f < (int)SP_ARRAY_LEN(formats) ? formats[f].ext : "bin";
}

const char *sp_family_name(int fam)
{
    return fam > 0 && fam < (int)SP_ARRAY_LEN(family_names) ? family_names[fam] : "unknown";
}

int sp_format_by_tag(const char *tag)
{
    for (int f = 1; f < (int)SP_ARRAY_LEN(formats); f++)
        if (formats[f].tag && !strcmp(formats[f].tag, tag))
            return f;
    return SP_FMT_UNKNOWN;
}

static int ext_is(const char *ext, const char *a, const char *b, const char *c, const char *d)
{
    return (a && !strcmp(ext, a)) || (b && !strcmp(ext, b)) || (c && !strcmp(ext, c)) ||
           (d && !strcmp(ext, d));
}

int sp_format_for(int family, const char *ext)
{
    if (!ext)
        ext = "";
    int none = !*ext;
    switch (family) {
    case SP_FAM_PDF:
        return none || !strcmp(ext, "pdf") ? SP_FMT_PDF : SP_FMT_UNKNOWN;
    case SP_FAM_EPUB:
        return none || !strcmp(ext, "epub") ? SP_FMT_EPUB : SP_FMT_UNKNOWN;
    case SP_FAM_CBZ:
        return none || !strcmp(ext, "cbz") ? SP_FMT_CBZ : SP_FMT_UNKNOWN;
    case SP_FAM_MOBI:
        if (none || !strcmp(ext, "mobi"))
            return SP_FMT_MOBI;
        if (!strcmp(ext, "azw"))
            return SP_FMT_AZW;
        if (!strcmp(ext, "prc"))
            return SP_FMT_PRC;
        return SP_FMT_UNKNOWN;
    case SP_FAM_KF8:
        return none || ext_is(ext, "azw3", "kf8", "azw", NULL) ? SP_FMT_KF8 : SP_FMT_UNKNOWN;
    case SP_FAM_KF8_COMBO:
        if (ext_is(ext, "azw3", "kf8", NULL, NULL))
            return SP_FMT_KF8;
        if (none || !strcmp(ext, "mobi"))
            return SP_FMT_MOBI;
        if (!strcmp(ext, "azw"))
            return SP_FMT_AZW;
        if (!strcmp(ext, "prc"))
            return SP_FMT_PRC;
        return SP_FMT_UNKNOWN;
    case SP_FAM_PALMDOC:
        return none || ext_is(ext, "prc", "pdb", NULL, NULL) ? SP_FMT_PRC : SP_FMT_UNKNOWN;
    default:
        return SP_FMT_UNKNOWN;
    }
}

int sp_family_sniff(const unsigned char *buf, size_t n)
{
    if (n >= 5 && memmem(buf, n < 1024 ? n : 1024, "%PDF-", 5))
        return SP_FAM_PDF;
    if (n >= 4 && !memcmp(buf, "PK\x03\x04", 4)) {
        /* OCF: the first member is "mimetype", stored, holding application/epub+zip */
        static const char mt[] = "application/epub+zip";
        if (n >= 30) {
            size_t nlen = (size_t)buf[26] | (size_t)buf[27] << 8;
            size_t xlen = (size_t)buf[28] | (size_t)buf[29] << 8;
            size_t d = 30 + nlen + xlen;
            if (nlen == 8 && n >= 38 && !memcmp(buf + 30, "mimetype", 8) && d + sizeof mt - 1 <= n &&
                !memcmp(buf + d, mt, sizeof mt - 1))
                return SP_FAM_EPUB;
        }
        return SP_FAM_ZIP;
    }
    if (n >= 78 && !memcmp(buf + 60, "BOOKMOBI", 8))
        return sp_mobi_family(buf, n);
    if (n >= 78 && !memcmp(buf + 60, "TEXtREAd", 8))
        return SP_FAM_PALMDOC;
    return SP_FAM_UNKNOWN;
}

void sp_book_extra(struct sp_book *b, const char *key, const char *value)
{
    if (!value || !*value || b->nextra >= SP_BOOK_MAX_EXTRA)
        return;
    struct sp_kv *kv = &b->extra[b->nextra++];
    snprintf(kv->key, sizeof kv->key, "%s", key);
    kv->value = sp_strdup(value);
}

void sp_book_free(struct sp_book *b)
{
    sp_meta_free(&b->meta);
    for (size_t i = 0; i < b->nextra; i++)
        sp_free(b->extra[i].value);
    b->nextra = 0;
}

/* Lowercase extension of the last path component: 1-10 alphanumerics after the last dot. */
static void name_ext(const char *name, char *out, size_t outlen)
{
    out[0] = '\0';
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        return;
    size_t n = strlen(dot + 1);
    if (n == 0 || n > 10 || n + 1 > outlen)
        return;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)dot[1 + i]))
            return;
    for (size_t i = 0; i <= n; i++)
        out[i] = (char)tolower((unsigned char)dot[1 + i]);
}

static int file_sha256(int fd, char hex[65])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return -1;
    unsigned char *buf = sp_malloc(1 << 20);
    int rc = -1;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        goto out;
    off_t off = 0;
    for (;;) {
        ssize_t r = pread(fd, buf, 1 << 20, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            goto out;
        if (r == 0)
            break;
        EVP_DigestUpdate(ctx, buf, (size_t)r);
        off += r;
    }
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
        goto out;
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    rc = 0;
out:
    sp_free(buf);
    EVP_MD_CTX_free(ctx);
    return rc;
}

int sp_book_analyze(const char *path, const char *name, int flags, struct sp_book *b,
                    struct sp_err *e)
{
    memset(b, 0, sizeof *b);
    sp_meta_init(&b->meta);
    b->ext_ok = 1;
    /* O_NONBLOCK: a FIFO given as the book must not hang us before fstat refuses it */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        sp_err_set(e, "file", "cannot open %s: %s", path, strerror(errno));
        return errno == ENOENT ? SP_NOTFOUND : SP_ERR;
    }
    int rc = SP_OK;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        sp_err_set(e, "file", "cannot stat %s: %s", path, strerror(errno));
        rc = SP_ERR;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        sp_err_set(e, "file", "%s is not a regular file", path);
        rc = SP_INVALID;
        goto out;
    }
    b->size = st.st_size;
    if (b->size == 0) {
        sp_err_set(e, "file", "the file is empty");
        rc = SP_INVALID;
        goto out;
    }
    unsigned char head[4096];
    ssize_t got = pread(fd, head, sizeof head, 0);
    if (got < 0) {
        sp_err_set(e, "file", "cannot read %s: %s", path, strerror(errno));
        rc = SP_ERR;
        goto out;
    }
    b->family = sp_family_sniff(head, (size_t)got);
    switch (b->family) {
    case SP_FAM_PDF:
        rc = sp_book_read_pdf(path, b, e);
        break;
    case SP_FAM_ZIP:
    case SP_FAM_EPUB:
        rc = sp_book_read_zip(path, b, e);
        break;
    case SP_FAM_MOBI:
    case SP_FAM_KF8:
    case SP_FAM_KF8_COMBO:
    case SP_FAM_PALMDOC:
        rc = sp_book_read_mobi(path, b, e);
        break;
    default:
        sp_err_set(e, "file",
                   "not a supported e-book: the content is none of PDF, EPUB, CBZ, "
                   "MOBI/AZW/KF8/PRC");
        rc = SP_INVALID;
    }
    if (rc != SP_OK)
        goto out;
    name_ext(name ? name : path, b->ext, sizeof b->ext);
    b->format = sp_format_for(b->family, b->ext);
    if (b->format == SP_FMT_UNKNOWN) {
        b->ext_ok = 0;
        b->format = sp_format_for(b->family, "");
    }
    if ((flags & SP_ANALYZE_SHA256) && file_sha256(fd, b->sha256) < 0) {
        sp_err_set(e, "file", "cannot read %s: %s", path, strerror(errno));
        rc = SP_ERR;
    }
out:
    close(fd);
    return rc;
}

int sp_book_acceptable(const struct sp_book *b, struct sp_err *e)
{
    if (b->drm) {
        sp_err_set(e, "file", "the %s carries DRM and cannot be packed: %s",
                   sp_format_name(b->format), b->drm_reason);
        return SP_INVALID;
    }
    if (!b->ext_ok) {
        sp_err_set(e, "file", "the extension '.%s' lies: the content is %s (expected .%s)", b->ext,
                   sp_family_name(b->family), sp_format_ext(b->format));
        return SP_INVALID;
    }
    return SP_OK;
}
