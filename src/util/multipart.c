/* multipart.c — streaming multipart/form-data parser (see multipart.h). */
#include "util/multipart.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/alloc.h"

#define OUT_BUF 65536
#define DELIM_MAX (4 + SP_MULTIPART_BOUNDARY_MAX)

enum {
    ST_PREAMBLE = 0, /* before the first delimiter: bytes are ignored */
    ST_AFTER_DELIM,  /* just after a delimiter: "--" (end), CRLF (a part), or padding */
    ST_AFTER_DASH,   /* one '-' seen after a delimiter */
    ST_AFTER_CR,     /* CR seen after a delimiter */
    ST_HEADERS,      /* a part's header block, up to the empty line */
    ST_DATA,         /* a part's body */
    ST_DONE,         /* after the closing delimiter: the epilogue is ignored */
    ST_FAILED,
};

struct sp_multipart {
    struct sp_multipart_cbs cb;
    char delim[DELIM_MAX + 1]; /* CRLF "--" boundary */
    size_t dlen;
    size_t fail[DELIM_MAX + 1]; /* KMP: fail[m] = longest proper border of delim[0..m) */
    size_t matched;             /* bytes of delim matched so far */
    int state;
    int rc; /* sticky failure: SP_INVALID or SP_ERR */
    int parts;
    int in_part; /* part_begin called, part_end not yet */
    char err[200];
    size_t hlen;
    char hdr[SP_MULTIPART_HEADER_MAX];
    size_t olen;
    char out[OUT_BUF];
};

/* ---- boundary ---- */

static int bchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           strchr("'()+_,-./:=? ", c) != NULL;
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Parse one "; key=value" parameter at p (after the ';'): key into k, value (unquoted, escapes
 * resolved) into v. Returns the position after it, or NULL when malformed. */
static const char *param(const char *p, char *k, size_t klen, char *v, size_t vlen)
{
    p = skip_ws(p);
    size_t n = 0;
    while (*p && *p != '=' && *p != ';' && *p != ' ' && *p != '\t') {
        if (n + 1 < klen)
            k[n++] = *p;
        p++;
    }
    k[n] = '\0';
    p = skip_ws(p);
    if (*p != '=' || n == 0)
        return NULL;
    p = skip_ws(p + 1);
    n = 0;
    if (*p == '"') {
        p++;
        while (*p && *p != '"') {
            if (*p == '\\' && p[1])
                p++;
            if (n + 1 < vlen)
                v[n++] = *p;
            p++;
        }
        if (*p != '"')
            return NULL;
        p++;
    } else {
        while (*p && *p != ';' && *p != ' ' && *p != '\t') {
            if (n + 1 < vlen)
                v[n++] = *p;
            p++;
        }
    }
    v[n] = '\0';
    p = skip_ws(p);
    if (*p && *p != ';')
        return NULL;
    return p;
}

int sp_multipart_boundary(const char *ct, char *out, size_t outlen)
{
    if (!ct || outlen < SP_MULTIPART_BOUNDARY_MAX + 1)
        return SP_INVALID;
    ct = skip_ws(ct);
    size_t tl = strcspn(ct, ";");
    while (tl && (ct[tl - 1] == ' ' || ct[tl - 1] == '\t'))
        tl--;
    if (tl != 19 || strncasecmp(ct, "multipart/form-data", 19) != 0)
        return SP_INVALID;
    const char *p = ct + strcspn(ct, ";");
    int found = 0;
    while (*p == ';') {
        char k[32], v[128];
        p = param(p + 1, k, sizeof k, v, sizeof v);
        if (!p)
            return SP_INVALID;
        if (strcasecmp(k, "boundary") != 0)
            continue;
        size_t n = strlen(v);
        if (n == 0 || n > SP_MULTIPART_BOUNDARY_MAX || v[n - 1] == ' ')
            return SP_INVALID;
        for (size_t i = 0; i < n; i++)
            if (!bchar((unsigned char)v[i]))
                return SP_INVALID;
        memcpy(out, v, n + 1);
        found = 1;
    }
    return found ? SP_OK : SP_INVALID;
}

/* ---- parser ---- */

struct sp_multipart *sp_multipart_new(const char *boundary, const struct sp_multipart_cbs *cbs)
{
    struct sp_multipart *mp = sp_calloc(1, sizeof *mp);
    if (cbs)
        mp->cb = *cbs;
    size_t bl = boundary ? strlen(boundary) : 0;
    if (bl > SP_MULTIPART_BOUNDARY_MAX)
        bl = SP_MULTIPART_BOUNDARY_MAX;
    memcpy(mp->delim, "\r\n--", 4);
    memcpy(mp->delim + 4, boundary ? boundary : "", bl);
    mp->dlen = 4 + bl;
    mp->delim[mp->dlen] = '\0';
    /* KMP borders: fail[m] for a match of m bytes */
    mp->fail[0] = mp->fail[1] = 0;
    size_t k = 0;
    for (size_t m = 1; m < mp->dlen; m++) {
        while (k > 0 && mp->delim[m] != mp->delim[k])
            k = mp->fail[k];
        if (mp->delim[m] == mp->delim[k])
            k++;
        mp->fail[m + 1] = k;
    }
    /* the body may start with the delimiter without its CRLF */
    mp->matched = 2;
    mp->state = ST_PREAMBLE;
    if (!bl) {
        mp->state = ST_FAILED;
        mp->rc = SP_INVALID;
        snprintf(mp->err, sizeof mp->err, "the multipart boundary is empty");
    }
    return mp;
}

void sp_multipart_free(struct sp_multipart *mp)
{
    sp_free(mp);
}

const char *sp_multipart_error(const struct sp_multipart *mp)
{
    return mp->err;
}

int sp_multipart_parts(const struct sp_multipart *mp)
{
    return mp->parts;
}

static int fail(struct sp_multipart *mp, int rc, const char *msg)
{
    if (mp->state != ST_FAILED) {
        mp->state = ST_FAILED;
        mp->rc = rc;
        snprintf(mp->err, sizeof mp->err, "%s", msg);
    }
    return rc;
}

static int flush(struct sp_multipart *mp)
{
    if (!mp->olen)
        return SP_OK;
    size_t n = mp->olen;
    mp->olen = 0;
    if (mp->cb.part_data && mp->cb.part_data(mp->cb.ctx, mp->out, n) != 0)
        return fail(mp, SP_ERR, "the upload was stopped");
    return SP_OK;
}

/* Part body bytes (ignored before the first delimiter). */
static int emit(struct sp_multipart *mp, const char *p, size_t n)
{
    if (mp->state != ST_DATA)
        return SP_OK;
    while (n) {
        size_t room = OUT_BUF - mp->olen;
        size_t take = n < room ? n : room;
        memcpy(mp->out + mp->olen, p, take);
        mp->olen += take;
        p += take;
        n -= take;
        if (mp->olen == OUT_BUF && flush(mp) != SP_OK)
            return mp->rc;
    }
    return SP_OK;
}

static int end_part(struct sp_multipart *mp)
{
    if (flush(mp) != SP_OK)
        return mp->rc;
    if (mp->in_part) {
        mp->in_part = 0;
        if (mp->cb.part_end && mp->cb.part_end(mp->cb.ctx) != 0)
            return fail(mp, SP_ERR, "the upload was stopped");
    }
    return SP_OK;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* RFC 5987 ext-value "charset'lang'pct-encoded" → UTF-8 into out. 0, or -1 when malformed or
 * in a charset other than UTF-8 / ISO-8859-1. */
static int ext_value(const char *v, char *out, size_t outlen)
{
    const char *q1 = strchr(v, '\'');
    const char *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
    if (!q2)
        return -1;
    size_t cl = (size_t)(q1 - v);
    int utf8 = cl == 5 && strncasecmp(v, "utf-8", 5) == 0;
    int latin1 = cl == 10 && strncasecmp(v, "iso-8859-1", 10) == 0;
    if (!utf8 && !latin1)
        return -1;
    size_t n = 0;
    for (const char *p = q2 + 1; *p; p++) {
        int c = (unsigned char)*p;
        if (c == '%') {
            int h = hexval(p[1]), l = h >= 0 ? hexval(p[2]) : -1;
            if (h < 0 || l < 0)
                return -1;
            c = h * 16 + l;
            p += 2;
        }
        if (latin1 && c >= 0x80) {
            if (n + 3 > outlen)
                break;
            out[n++] = (char)(0xC0 | (c >> 6));
            out[n++] = (char)(0x80 | (c & 0x3F));
        } else {
            if (n + 2 > outlen)
                break;
            out[n++] = (char)c;
        }
    }
    out[n] = '\0';
    return 0;
}

/* Parse the header block hdr[0..len) (CRLF-separated lines; obsolete line folding is not
 * accepted) into p. 0, or -1 (mp failed). */
static int parse_headers(struct sp_multipart *mp, char *hdr, size_t len,
                         struct sp_multipart_part *p)
{
    memset(p, 0, sizeof *p);
    hdr[len] = '\0';
    int have_cd = 0, have_ext = 0;
    char *line = hdr;
    while (line && *line) {
        char *next = strstr(line, "\r\n");
        if (next) {
            *next = '\0';
            next += 2;
        }
        char *colon = strchr(line, ':');
        if (!colon || colon == line) {
            fail(mp, SP_INVALID, "a part header line is malformed");
            return -1;
        }
        *colon = '\0';
        const char *val = skip_ws(colon + 1);
        if (strcasecmp(line, "Content-Disposition") == 0) {
            have_cd = 1;
            size_t tl = strcspn(val, ";");
            char type[32];
            snprintf(type, sizeof type, "%.*s", (int)(tl < 31 ? tl : 31), val);
            for (size_t i = strlen(type); i && (type[i - 1] == ' ' || type[i - 1] == '\t'); i--)
                type[i - 1] = '\0';
            if (strcasecmp(type, "form-data") != 0) {
                fail(mp, SP_INVALID, "a part's Content-Disposition is not form-data");
                return -1;
            }
            const char *q = val + tl;
            while (*q == ';') {
                char k[32], v[1024];
                q = param(q + 1, k, sizeof k, v, sizeof v);
                if (!q) {
                    fail(mp, SP_INVALID, "a part's Content-Disposition is malformed");
                    return -1;
                }
                if (!strcasecmp(k, "name")) {
                    snprintf(p->name, sizeof p->name, "%s", v);
                } else if (!strcasecmp(k, "filename") && !have_ext) {
                    snprintf(p->filename, sizeof p->filename, "%s", v);
                    p->has_filename = 1;
                } else if (!strcasecmp(k, "filename*")) {
                    char dec[512];
                    if (ext_value(v, dec, sizeof dec) == 0) {
                        snprintf(p->filename, sizeof p->filename, "%s", dec);
                        p->has_filename = 1;
                        have_ext = 1;
                    }
                }
            }
        } else if (strcasecmp(line, "Content-Type") == 0) {
            snprintf(p->content_type, sizeof p->content_type, "%s", val);
        }
        line = next;
    }
    if (!have_cd) {
        fail(mp, SP_INVALID, "a part has no Content-Disposition header");
        return -1;
    }
    return 0;
}

static int begin_part(struct sp_multipart *mp)
{
    struct sp_multipart_part p;
    if (parse_headers(mp, mp->hdr, mp->hlen, &p) != 0)
        return mp->rc;
    mp->parts++;
    mp->in_part = 1;
    if (mp->cb.part_begin && mp->cb.part_begin(mp->cb.ctx, &p) != 0)
        return fail(mp, SP_ERR, "the upload was stopped");
    return SP_OK;
}

int sp_multipart_feed(struct sp_multipart *mp, const char *data, size_t n)
{
    size_t i = 0;
    while (i < n) {
        switch (mp->state) {
        case ST_FAILED:
            return mp->rc;
        case ST_DONE:
            i = n; /* epilogue */
            break;
        case ST_PREAMBLE:
        case ST_DATA: {
            if (mp->matched == 0) {
                /* only a CR can start the delimiter: copy everything before the next one */
                const char *cr = memchr(data + i, '\r', n - i);
                size_t end = cr ? (size_t)(cr - data) : n;
                if (end > i && emit(mp, data + i, end - i) != SP_OK)
                    return mp->rc;
                i = end;
                if (!cr)
                    break;
            }
            char c = data[i++];
            while (mp->matched > 0 && mp->delim[mp->matched] != c) {
                size_t f = mp->fail[mp->matched];
                /* the bytes falling out of the match were data after all */
                if (emit(mp, mp->delim, mp->matched - f) != SP_OK)
                    return mp->rc;
                mp->matched = f;
            }
            if (mp->delim[mp->matched] == c) {
                mp->matched++;
            } else if (emit(mp, &c, 1) != SP_OK) {
                return mp->rc;
            }
            if (mp->matched == mp->dlen) {
                mp->matched = 0;
                if (mp->state == ST_DATA && end_part(mp) != SP_OK)
                    return mp->rc;
                mp->state = ST_AFTER_DELIM;
            }
            break;
        }
        case ST_AFTER_DELIM: {
            char c = data[i++];
            if (c == '-')
                mp->state = ST_AFTER_DASH;
            else if (c == '\r')
                mp->state = ST_AFTER_CR;
            else if (c != ' ' && c != '\t')
                return fail(mp, SP_INVALID, "a multipart boundary line is malformed");
            break;
        }
        case ST_AFTER_DASH:
            if (data[i++] != '-')
                return fail(mp, SP_INVALID, "a multipart boundary line is malformed");
            mp->state = ST_DONE;
            break;
        case ST_AFTER_CR:
            if (data[i++] != '\n')
                return fail(mp, SP_INVALID, "a multipart boundary line is malformed");
            mp->state = ST_HEADERS;
            mp->hlen = 0;
            break;
        case ST_HEADERS: {
            char c = data[i++];
            if (mp->hlen + 1 >= sizeof mp->hdr)
                return fail(mp, SP_INVALID, "a part's headers are too long");
            mp->hdr[mp->hlen++] = c;
            size_t h = mp->hlen;
            if (c != '\n' || h < 2 || mp->hdr[h - 2] != '\r')
                break;
            if (h == 2 || (h >= 4 && !memcmp(mp->hdr + h - 4, "\r\n\r\n", 4))) {
                /* the empty line: headers end (h - 2 bytes, each line ending in CRLF) */
                if (h == 2)
                    mp->hlen = 0;
                else
                    mp->hlen = h - 2;
                if (begin_part(mp) != SP_OK)
                    return mp->rc;
                mp->state = ST_DATA;
                mp->matched = 0;
            }
            break;
        }
        }
    }
    if (mp->state == ST_FAILED)
        return mp->rc;
    return flush(mp);
}

int sp_multipart_finish(struct sp_multipart *mp)
{
    if (mp->state == ST_FAILED)
        return mp->rc;
    if (mp->state != ST_DONE)
        return fail(mp, SP_INVALID,
                    mp->parts ? "the multipart body ended before its closing "
                                "boundary (an interrupted upload?)"
                              : "the multipart body holds no part");
    return SP_OK;
}
