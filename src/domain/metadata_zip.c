/* metadata_zip.c — EPUB (OCF container, OPF package, encryption/rights) and CBZ
 * (images, ComicInfo.xml) through libzip and expat. Members are read with hard size caps;
 * XML with entity declarations is refused (no entity expansion tricks). */
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zip.h>

#include "domain/metadata.h"
#include "domain/text.h"
#include "util/alloc.h"
#include "util/buf.h"

#define CAP_SMALL (256 * 1024)    /* mimetype, container.xml, encryption.xml, rights */
#define CAP_OPF (8 * 1024 * 1024) /* package document */
#define CAP_COMICINFO (1024 * 1024)
#define CAP_TEXT (64 * 1024) /* character data kept per element */

#define NS_DC "http://purl.org/dc/elements/1.1/"

/* ---- a small SAX layer over expat ------------------------------------------------------ */

struct xml_doc;
typedef void (*xml_start_fn)(struct xml_doc *d, const char *ns, const char *local,
                             const char **attrs);
typedef void (*xml_end_fn)(struct xml_doc *d, const char *ns, const char *local, const char *text);

struct xml_doc {
    xml_start_fn start;
    xml_end_fn end;
    void *user;
    int depth;
    struct sp_buf text;
    XML_Parser parser;
    int refused; /* entity declaration seen */
};

/* Split an expat NS name "uri|local" into ns (copied into nsbuf) and local. */
static const char *split_name(const char *name, char *nsbuf, size_t nslen)
{
    const char *bar = strrchr(name, '|');
    if (!bar) {
        nsbuf[0] = '\0';
        return name;
    }
    size_t n = (size_t)(bar - name);
    if (n >= nslen)
        n = nslen - 1;
    memcpy(nsbuf, name, n);
    nsbuf[n] = '\0';
    return bar + 1;
}

/* Attribute value by local name (namespace ignored), or NULL. */
static const char *xml_attr(const char **attrs, const char *local)
{
    for (size_t i = 0; attrs && attrs[i]; i += 2) {
        const char *bar = strrchr(attrs[i], '|');
        const char *ln = bar ? bar + 1 : attrs[i];
        if (!strcmp(ln, local))
            return attrs[i + 1];
    }
    return NULL;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct xml_doc *d = ud;
    char ns[256];
    const char *local = split_name(name, ns, sizeof ns);
    d->depth++;
    sp_buf_reset(&d->text);
    if (d->start)
        d->start(d, ns, local, (const char **)attrs);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    struct xml_doc *d = ud;
    char ns[256];
    const char *local = split_name(name, ns, sizeof ns);
    if (d->end)
        d->end(d, ns, local, d->text.data ? d->text.data : "");
    sp_buf_reset(&d->text);
    d->depth--;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    struct xml_doc *d = ud;
    if (len > 0 && d->text.len + (size_t)len <= CAP_TEXT)
        sp_buf_append(&d->text, s, (size_t)len);
}

static void XMLCALL on_entity(void *ud, const XML_Char *name, int pe, const XML_Char *value,
                              int vlen, const XML_Char *base, const XML_Char *sysid,
                              const XML_Char *pubid, const XML_Char *notation)
{
    struct xml_doc *d = ud;
    d->refused = 1;
    XML_StopParser(d->parser, XML_FALSE);
}

/* Parse buf; 0 on success, -1 with msg filled. */
static int xml_parse(struct xml_doc *d, const char *buf, size_t n, char *msg, size_t msglen)
{
    XML_Parser p = XML_ParserCreateNS(NULL, '|');
    if (!p) {
        snprintf(msg, msglen, "out of memory");
        return -1;
    }
    d->parser = p;
    d->depth = 0;
    d->refused = 0;
    XML_SetUserData(p, d);
    XML_SetElementHandler(p, on_start, on_end);
    XML_SetCharacterDataHandler(p, on_text);
    XML_SetEntityDeclHandler(p, on_entity);
    XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
    int rc = 0;
    if (n > (size_t)INT32_MAX || XML_Parse(p, buf, (int)n, XML_TRUE) != XML_STATUS_OK) {
        if (d->refused)
            snprintf(msg, msglen, "XML declares entities (refused)");
        else
            snprintf(msg, msglen, "XML error at line %lu: %s",
                     (unsigned long)XML_GetCurrentLineNumber(p),
                     XML_ErrorString(XML_GetErrorCode(p)));
        rc = -1;
    }
    XML_ParserFree(p);
    sp_buf_free(&d->text);
    return rc;
}

/* ---- reading members ------------------------------------------------------------------- */

/* Locate a member by exact name, then case-insensitively. -1 when absent. */
static zip_int64_t locate(zip_t *za, const char *name, zip_flags_t extra)
{
    zip_int64_t i = zip_name_locate(za, name, extra);
    if (i < 0)
        i = zip_name_locate(za, name, ZIP_FL_NOCASE | extra);
    return i;
}

/* Read a whole member of at most cap bytes (NUL-terminated). NULL with msg on failure. */
static char *read_member(zip_t *za, zip_int64_t idx, size_t cap, size_t *len, char *msg,
                         size_t msglen)
{
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(za, (zip_uint64_t)idx, 0, &st) < 0 || !(st.valid & ZIP_STAT_SIZE)) {
        snprintf(msg, msglen, "cannot read a ZIP member: %s", zip_strerror(za));
        return NULL;
    }
    const char *name = (st.valid & ZIP_STAT_NAME) ? st.name : "?";
    if (st.size > cap) {
        snprintf(msg, msglen, "%s is too large (%llu bytes, limit %zu)", name,
                 (unsigned long long)st.size, cap);
        return NULL;
    }
    zip_file_t *zf = zip_fopen_index(za, (zip_uint64_t)idx, 0);
    if (!zf) {
        snprintf(msg, msglen, "cannot open %s: %s", name, zip_strerror(za));
        return NULL;
    }
    size_t want = (size_t)st.size;
    char *buf = sp_malloc(want + 1);
    size_t got = 0;
    while (got < want) {
        zip_int64_t r = zip_fread(zf, buf + got, want - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    int bad = got != want;
    if (bad)
        snprintf(msg, msglen, "cannot read %s: %s", name, zip_file_strerror(zf));
    zip_fclose(zf);
    if (bad) {
        sp_free(buf);
        return NULL;
    }
    buf[got] = '\0';
    *len = got;
    return buf;
}

/* ---- container.xml --------------------------------------------------------------------- */

struct container {
    char *path;
    int typed; /* path came from a rootfile with the OPF media type */
};

static void container_start(struct xml_doc *d, const char *ns, const char *local,
                            const char **attrs)
{
    struct container *c = d->user;
    if (strcmp(local, "rootfile"))
        return;
    const char *fp = xml_attr(attrs, "full-path");
    const char *mt = xml_attr(attrs, "media-type");
    if (!fp || !*fp)
        return;
    int typed = mt && !strcmp(mt, "application/oebps-package+xml");
    if (!c->path || (typed && !c->typed)) {
        sp_free(c->path);
        c->path = sp_strdup(fp);
        c->typed = typed;
    }
}

/* ---- OPF package document -------------------------------------------------------------- */

struct opf {
    struct sp_book *b;
    int in_metadata;
    int ncreators;
    int have_title, have_date, have_lang, have_isbn, have_publisher, have_desc;
    struct sp_buf creators, subjects;
    char *id_scheme; /* opf:scheme of the current dc:identifier */
    char *role;      /* opf:role of the current dc:creator */
    char *event;     /* opf:event of the current dc:date */
};

static int isbn_from(const char *v, const char *scheme, char *out, size_t outlen)
{
    const char *s = v;
    if (!strncasecmp(s, "urn:isbn:", 9))
        s += 9;
    else if (!strncasecmp(s, "isbn:", 5) || !strncasecmp(s, "isbn ", 5))
        s += 5;
    /* a bare 10-digit number is only an ISBN when the package says so */
    int prefixed = s != v || (scheme && !strcasecmp(scheme, "ISBN"));
    size_t n = 0;
    for (; *s; s++) {
        int ok = (*s >= '0' && *s <= '9') || *s == 'X' || *s == 'x' || *s == '-' || *s == ' ';
        if (!ok || n + 1 >= outlen)
            return 0;
        out[n++] = *s;
    }
    out[n] = '\0';
    if (!sp_isbn_valid(out))
        return 0;
    size_t digits = 0;
    for (const char *p = out; *p; p++)
        digits += *p != '-' && *p != ' ';
    return prefixed || digits == 13;
}

static void opf_start(struct xml_doc *d, const char *ns, const char *local, const char **attrs)
{
    struct opf *o = d->user;
    if (!strcmp(local, "metadata")) {
        o->in_metadata = 1;
        return;
    }
    if (!o->in_metadata || strcmp(ns, NS_DC))
        return;
    if (!strcmp(local, "identifier")) {
        sp_free(o->id_scheme);
        const char *sc = xml_attr(attrs, "scheme");
        o->id_scheme = sc ? sp_strdup(sc) : NULL;
    } else if (!strcmp(local, "creator")) {
        sp_free(o->role);
        const char *r = xml_attr(attrs, "role");
        o->role = r ? sp_strdup(r) : NULL;
    } else if (!strcmp(local, "date")) {
        sp_free(o->event);
        const char *ev = xml_attr(attrs, "event");
        o->event = ev ? sp_strdup(ev) : NULL;
    }
}

static void opf_end(struct xml_doc *d, const char *ns, const char *local, const char *text)
{
    struct opf *o = d->user;
    if (!strcmp(local, "metadata")) {
        o->in_metadata = 0;
        return;
    }
    if (!o->in_metadata || strcmp(ns, NS_DC))
        return;
    char *t = sp_text_squash(sp_text_clean_utf8(text, strlen(text)));
    struct sp_meta *m = &o->b->meta;
    if (!*t)
        goto out;
    if (!strcmp(local, "title") && !o->have_title) {
        sp_meta_put(m, SP_META_TITLE, t);
        o->have_title = 1;
    } else if (!strcmp(local, "creator")) {
        int author = !o->role || !strcasecmp(o->role, "aut");
        if (author && o->ncreators < 4) {
            if (o->creators.len)
                sp_buf_puts(&o->creators, " & ");
            sp_buf_puts(&o->creators, t);
            o->ncreators++;
        }
    } else if (!strcmp(local, "publisher") && !o->have_publisher) {
        sp_meta_put(m, SP_META_PUBLISHER, t);
        o->have_publisher = 1;
    } else if (!strcmp(local, "date")) {
        int pub = !o->event || !strcasecmp(o->event, "publication") ||
                  !strcasecmp(o->event, "original-publication");
        if (pub && !o->have_date) {
            sp_meta_put(m, SP_META_PUBLISH_DATE, t);
            o->have_date = 1;
        }
    } else if (!strcmp(local, "language") && !o->have_lang) {
        sp_meta_put(m, SP_META_LANGUAGE, t);
        o->have_lang = 1;
    } else if (!strcmp(local, "identifier") && !o->have_isbn) {
        char isbn[32];
        if (isbn_from(t, o->id_scheme, isbn, sizeof isbn)) {
            sp_meta_put(m, SP_META_ISBN, isbn);
            o->have_isbn = 1;
        }
    } else if (!strcmp(local, "subject")) {
        if (o->subjects.len + strlen(t) + 2 <= 200) {
            if (o->subjects.len)
                sp_buf_puts(&o->subjects, ", ");
            sp_buf_puts(&o->subjects, t);
        }
    } else if (!strcmp(local, "description") && !o->have_desc) {
        sp_book_extra(o->b, "description", t);
        o->have_desc = 1;
    }
out:
    sp_free(t);
}

/* ---- encryption.xml -------------------------------------------------------------------- */

struct encryption {
    char *algorithm;
    int drm;
    char reason[160];
};

static int is_font_path(const char *uri)
{
    static const char *const exts[] = {".ttf", ".otf", ".woff", ".woff2", ".fon", ".pfb"};
    size_t n = strlen(uri);
    for (size_t i = 0; i < SP_ARRAY_LEN(exts); i++) {
        size_t k = strlen(exts[i]);
        if (n >= k && !strcasecmp(uri + n - k, exts[i]))
            return 1;
    }
    return 0;
}

static void enc_start(struct xml_doc *d, const char *ns, const char *local, const char **attrs)
{
    struct encryption *en = d->user;
    if (!strcmp(local, "EncryptedData")) {
        sp_free(en->algorithm);
        en->algorithm = NULL;
    } else if (!strcmp(local, "EncryptionMethod")) {
        const char *a = xml_attr(attrs, "Algorithm");
        sp_free(en->algorithm);
        en->algorithm = a ? sp_strdup(a) : NULL;
    } else if (!strcmp(local, "CipherReference")) {
        const char *uri = xml_attr(attrs, "URI");
        const char *alg = en->algorithm ? en->algorithm : "";
        int obfuscation = !strcmp(alg, "http://www.idpf.org/2008/embedding") ||
                          !strcmp(alg, "http://ns.adobe.com/pdf/enc#RC");
        if (!en->drm && (!obfuscation || !uri || !is_font_path(uri))) {
            en->drm = 1;
            char *u = sp_text_ascii(uri ? uri : "?");
            snprintf(en->reason, sizeof en->reason, "META-INF/encryption.xml encrypts %.100s", u);
            sp_free(u);
        }
    }
}

/* ---- ComicInfo.xml --------------------------------------------------------------------- */

struct comicinfo {
    struct sp_book *b;
    char *series, *title, *year, *month, *day;
    int manga;
};

static void ci_end(struct xml_doc *d, const char *ns, const char *local, const char *text)
{
    struct comicinfo *ci = d->user;
    if (d->depth != 2)
        return;
    char *t = sp_text_squash(sp_text_clean_utf8(text, strlen(text)));
    struct sp_meta *m = &ci->b->meta;
    char **keep = NULL;
    if (!*t) {
        sp_free(t);
        return;
    }
    if (!strcmp(local, "Series"))
        keep = &ci->series;
    else if (!strcmp(local, "Title"))
        keep = &ci->title;
    else if (!strcmp(local, "Year"))
        keep = &ci->year;
    else if (!strcmp(local, "Month"))
        keep = &ci->month;
    else if (!strcmp(local, "Day"))
        keep = &ci->day;
    else if (!strcmp(local, "Volume"))
        sp_meta_put(m, SP_META_VOLUME, t);
    else if (!strcmp(local, "Number"))
        sp_meta_put(m, SP_META_ISSUE, t);
    else if (!strcmp(local, "Writer"))
        sp_meta_put(m, SP_META_AUTHOR, t);
    else if (!strcmp(local, "Publisher"))
        sp_meta_put(m, SP_META_PUBLISHER, t);
    else if (!strcmp(local, "LanguageISO"))
        sp_meta_put(m, SP_META_LANGUAGE, t);
    else if (!strcmp(local, "Genre"))
        sp_meta_put(m, SP_META_GENRE, t);
    else if (!strcmp(local, "GTIN") && sp_isbn_valid(t))
        sp_meta_put(m, SP_META_ISBN, t);
    else if (!strcmp(local, "Web"))
        sp_book_extra(ci->b, "web", t);
    else if (!strcmp(local, "Manga"))
        ci->manga = !strncasecmp(t, "Yes", 3);
    if (keep) {
        sp_free(*keep);
        *keep = t;
    } else {
        sp_free(t);
    }
}

static int num_in(const char *s, int lo, int hi)
{
    if (!s)
        return 0;
    char *end;
    long v = strtol(s, &end, 10);
    return end != s && !*end && v >= lo && v <= hi ? (int)v : 0;
}

static void comicinfo_apply(struct comicinfo *ci)
{
    struct sp_meta *m = &ci->b->meta;
    const char *name = ci->series ? ci->series : ci->title;
    if (name)
        sp_meta_put(m, SP_META_TITLE, name);
    int y = num_in(ci->year, 1000, 2999), mo = num_in(ci->month, 1, 12),
        dd = num_in(ci->day, 1, 31);
    char buf[16];
    if (y && mo && dd) {
        snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, mo, dd);
        sp_meta_put(m, SP_META_PUBLISH_DATE, buf);
    } else if (y) {
        snprintf(buf, sizeof buf, "%04d", y);
        sp_meta_put(m, SP_META_PUBLISH_DATE, buf);
    }
    if (mo) {
        snprintf(buf, sizeof buf, "%d", mo);
        sp_meta_put(m, SP_META_MONTH, buf);
    }
    sp_meta_put(m, SP_META_BOOK_KIND, ci->manga ? "manga" : "comic");
    sp_free(ci->series);
    sp_free(ci->title);
    sp_free(ci->year);
    sp_free(ci->month);
    sp_free(ci->day);
}

/* ---- the reader ------------------------------------------------------------------------ */

static int is_image_name(const char *name)
{
    static const char *const exts[] = {".jpg", ".jpeg", ".png",  ".gif", ".webp",
                                       ".bmp", ".jxl",  ".avif", ".tif", ".tiff"};
    if (strstr(name, "__MACOSX/"))
        return 0;
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    if (base[0] == '.')
        return 0;
    size_t n = strlen(base);
    for (size_t i = 0; i < SP_ARRAY_LEN(exts); i++) {
        size_t k = strlen(exts[i]);
        if (n > k && !strcasecmp(base + n - k, exts[i]))
            return 1;
    }
    return 0;
}

static int read_epub(zip_t *za, struct sp_book *b, struct sp_err *e)
{
    char msg[200];
    size_t len = 0;
    int rc = SP_INVALID;
    char *container = NULL, *opfbuf = NULL;
    struct container c = {0};
    struct opf o = {.b = b};

    if (locate(za, "META-INF/rights.xml", 0) >= 0) {
        b->drm = 1;
        snprintf(b->drm_reason, sizeof b->drm_reason,
                 "META-INF/rights.xml is present (rights-managed EPUB)");
    }
    zip_int64_t ei = locate(za, "META-INF/encryption.xml", 0);
    if (ei >= 0) {
        struct encryption en = {0};
        char *x = read_member(za, ei, CAP_SMALL, &len, msg, sizeof msg);
        struct xml_doc d = {.start = enc_start, .user = &en};
        if (!x || xml_parse(&d, x, len, msg, sizeof msg) < 0) {
            en.drm = 1;
            snprintf(en.reason, sizeof en.reason, "META-INF/encryption.xml is unreadable (%s)",
                     msg);
        }
        sp_free(x);
        sp_free(en.algorithm);
        if (en.drm && !b->drm) {
            b->drm = 1;
            snprintf(b->drm_reason, sizeof b->drm_reason, "%s", en.reason);
        }
    }

    zip_int64_t ci = locate(za, "META-INF/container.xml", 0);
    if (ci < 0) {
        sp_err_set(e, "file", "damaged EPUB: META-INF/container.xml is missing");
        goto out;
    }
    container = read_member(za, ci, CAP_SMALL, &len, msg, sizeof msg);
    struct xml_doc cd = {.start = container_start, .user = &c};
    if (!container || xml_parse(&cd, container, len, msg, sizeof msg) < 0) {
        sp_err_set(e, "file", "damaged EPUB: META-INF/container.xml: %s", msg);
        goto out;
    }
    if (!c.path) {
        sp_err_set(e, "file", "damaged EPUB: container.xml names no package document");
        goto out;
    }
    zip_int64_t oi = locate(za, c.path, 0);
    if (oi < 0) {
        char *p = sp_text_ascii(c.path);
        sp_err_set(e, "file", "damaged EPUB: package document %.80s is missing", p);
        sp_free(p);
        goto out;
    }
    opfbuf = read_member(za, oi, CAP_OPF, &len, msg, sizeof msg);
    struct xml_doc od = {.start = opf_start, .end = opf_end, .user = &o};
    if (!opfbuf || xml_parse(&od, opfbuf, len, msg, sizeof msg) < 0) {
        sp_err_set(e, "file", "damaged EPUB: package document: %s", msg);
        goto out;
    }
    if (o.creators.len)
        sp_meta_put(&b->meta, SP_META_AUTHOR, o.creators.data);
    if (o.subjects.len)
        sp_meta_put(&b->meta, SP_META_GENRE, o.subjects.data);
    sp_book_extra(b, "package", c.path);
    rc = SP_OK;
out:
    sp_buf_free(&o.creators);
    sp_buf_free(&o.subjects);
    sp_free(o.id_scheme);
    sp_free(o.role);
    sp_free(o.event);
    sp_free(c.path);
    sp_free(container);
    sp_free(opfbuf);
    return rc;
}

static int read_cbz(zip_t *za, struct sp_book *b, struct sp_err *e)
{
    zip_int64_t ci = locate(za, "ComicInfo.xml", ZIP_FL_NODIR);
    if (ci < 0)
        return SP_OK;
    char msg[200];
    size_t len = 0;
    char *x = read_member(za, ci, CAP_COMICINFO, &len, msg, sizeof msg);
    struct comicinfo info = {.b = b};
    struct xml_doc d = {.end = ci_end, .user = &info};
    int rc = SP_OK;
    if (!x || xml_parse(&d, x, len, msg, sizeof msg) < 0) {
        sp_err_set(e, "file", "damaged CBZ: ComicInfo.xml: %s", msg);
        rc = SP_INVALID;
    }
    comicinfo_apply(&info);
    sp_free(x);
    return rc;
}

int sp_book_read_zip(const char *path, struct sp_book *b, struct sp_err *e)
{
    int zerr = 0;
    zip_t *za = zip_open(path, ZIP_RDONLY, &zerr);
    if (!za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        sp_err_set(e, "file", "damaged ZIP container: %s", zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return SP_INVALID;
    }
    int rc = SP_OK;
    zip_int64_t n = zip_get_num_entries(za, 0);
    int encrypted = 0, images = 0;
    for (zip_int64_t i = 0; i < n; i++) {
        zip_stat_t st;
        zip_stat_init(&st);
        if (zip_stat_index(za, (zip_uint64_t)i, 0, &st) < 0)
            continue;
        if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
            encrypted = 1;
        if ((st.valid & ZIP_STAT_NAME) && is_image_name(st.name))
            images++;
    }
    int epub = b->family == SP_FAM_EPUB;
    if (!epub) {
        zip_int64_t mi = locate(za, "mimetype", 0);
        if (mi >= 0) {
            char msg[200];
            size_t len = 0;
            char *mt = read_member(za, mi, 256, &len, msg, sizeof msg);
            if (mt && !strcmp(sp_text_squash(mt), "application/epub+zip"))
                epub = 1;
            sp_free(mt);
        }
        if (locate(za, "META-INF/container.xml", 0) >= 0)
            epub = 1;
    }
    if (epub) {
        b->family = SP_FAM_EPUB;
        rc = read_epub(za, b, e);
    } else if (images > 0) {
        b->family = SP_FAM_CBZ;
        b->images = images;
        rc = read_cbz(za, b, e);
        char cnt[16];
        snprintf(cnt, sizeof cnt, "%d", images);
        sp_meta_put(&b->meta, SP_META_PAGES, cnt);
    } else {
        sp_err_set(e, "file",
                   "a ZIP archive that is neither an EPUB (no OCF mimetype or container) nor a "
                   "CBZ (no images)");
        rc = SP_INVALID;
    }
    if (rc == SP_OK && encrypted && !b->drm) {
        b->drm = 1;
        snprintf(b->drm_reason, sizeof b->drm_reason, "ZIP members are password-encrypted");
    }
    zip_discard(za);
    return rc;
}
