#include "domain/nfo.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "domain/text.h"
#include "util/alloc.h"
#include "util/json.h"

#define MAX_NEST 16

static const char *const computed_names[] = {
    [SP_NFO_RELEASE - SP_META_COUNT] = "release", [SP_NFO_GROUP - SP_META_COUNT] = "group",
    [SP_NFO_FORMAT - SP_META_COUNT] = "format",   [SP_NFO_DISKS - SP_META_COUNT] = "disks",
    [SP_NFO_SIZE - SP_META_COUNT] = "size",       [SP_NFO_PAYLOAD - SP_META_COUNT] = "payload",
    [SP_NFO_PACKER - SP_META_COUNT] = "packer",
};

int sp_nfo_var_index(const char *name)
{
    int f = sp_meta_field_lookup(name);
    if (f >= 0)
        return f;
    for (size_t i = 0; i < SP_ARRAY_LEN(computed_names); i++)
        if (!strcmp(computed_names[i], name))
            return SP_META_COUNT + (int)i;
    return -1;
}

const char *sp_nfo_var_name(int i)
{
    if (i >= 0 && i < SP_META_COUNT)
        return sp_meta_field_name(i);
    if (i >= SP_META_COUNT && i < SP_NFO_COUNT)
        return computed_names[i - SP_META_COUNT];
    return "";
}

/* ---- CP437 ----------------------------------------------------------------------------- */

/* CP437's graphic characters in the control range (and ⌂), which glibc maps to controls.
 * Bytes that terminals and viewers act on (BEL, BS, TAB, LF, VT, FF, CR, SUB, ESC) are only
 * decoded, never written. */
static const struct {
    uint32_t cp;
    unsigned char byte;
    int encode;
} glyphs[] = {
    {0x263A, 0x01, 1}, {0x263B, 0x02, 1}, {0x2665, 0x03, 1}, {0x2666, 0x04, 1}, {0x2663, 0x05, 1},
    {0x2660, 0x06, 1}, {0x2022, 0x07, 0}, {0x25D8, 0x08, 0}, {0x25CB, 0x09, 0}, {0x25D9, 0x0A, 0},
    {0x2642, 0x0B, 0}, {0x2640, 0x0C, 0}, {0x266A, 0x0D, 0}, {0x266B, 0x0E, 1}, {0x263C, 0x0F, 1},
    {0x25BA, 0x10, 1}, {0x25C4, 0x11, 1}, {0x2195, 0x12, 1}, {0x203C, 0x13, 1}, {0x00B6, 0x14, 1},
    {0x00A7, 0x15, 1}, {0x25AC, 0x16, 1}, {0x21A8, 0x17, 1}, {0x2191, 0x18, 1}, {0x2193, 0x19, 1},
    {0x2192, 0x1A, 0}, {0x2190, 0x1B, 0}, {0x221F, 0x1C, 1}, {0x2194, 0x1D, 1}, {0x25B2, 0x1E, 1},
    {0x25BC, 0x1F, 1}, {0x2302, 0x7F, 1}, {0x2022, 0xF9, 1}, /* a bullet writes as CP437's ∙ */
};

static uint32_t high_half[128];
static pthread_once_t high_once = PTHREAD_ONCE_INIT;

static void high_init(void)
{
    iconv_t cd = iconv_open("UTF-8", "CP437");
    for (int i = 0; i < 128; i++) {
        high_half[i] = '?';
        if (cd == (iconv_t)-1)
            continue;
        char in = (char)(0x80 + i), out[8];
        char *ip = &in, *op = out;
        size_t il = 1, ol = sizeof out;
        if (iconv(cd, &ip, &il, &op, &ol) != (size_t)-1) {
            size_t k = 0;
            uint32_t cp;
            if (sp_utf8_next(out, (size_t)(op - out), &k, &cp))
                high_half[i] = cp;
        }
    }
    if (cd != (iconv_t)-1)
        iconv_close(cd);
}

static void encode_fallback(uint32_t cp, struct sp_buf *out)
{
    for (size_t i = 0; i < SP_ARRAY_LEN(glyphs); i++)
        if (glyphs[i].cp == cp && glyphs[i].encode) {
            sp_buf_putc(out, (char)glyphs[i].byte);
            return;
        }
    if (cp == 0x2192) {
        sp_buf_puts(out, "->");
        return;
    }
    if (cp == 0x2190) {
        sp_buf_puts(out, "<-");
        return;
    }
    const char *t = sp_translit(cp);
    sp_buf_puts(out, t ? t : "?");
}

void sp_cp437_encode(const char *utf8, size_t n, struct sp_buf *out)
{
    iconv_t cd = iconv_open("CP437", "UTF-8");
    char *in = (char *)utf8;
    size_t inleft = n;
    while (inleft > 0) {
        if (cd == (iconv_t)-1)
            goto fallback;
        sp_buf_reserve(out, inleft + 16);
        char *o = out->data + out->len;
        size_t oleft = out->cap - out->len - 1;
        size_t r = iconv(cd, &in, &inleft, &o, &oleft);
        out->len = (size_t)(o - out->data);
        out->data[out->len] = '\0';
        if (r != (size_t)-1)
            break;
        if (errno == E2BIG)
            continue;
    fallback:;
        /* EILSEQ/EINVAL (or no converter): handle one character ourselves */
        size_t i = (size_t)(in - utf8);
        uint32_t cp;
        if (!sp_utf8_next(utf8, n, &i, &cp))
            sp_buf_putc(out, '?');
        else if (cp < 0x80)
            sp_buf_putc(out, (char)cp);
        else
            encode_fallback(cp, out);
        in = (char *)utf8 + i;
        inleft = n - i;
    }
    if (cd != (iconv_t)-1)
        iconv_close(cd);
}

void sp_cp437_decode(const unsigned char *s, size_t n, struct sp_buf *out)
{
    pthread_once(&high_once, high_init);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c >= 0x80) {
            sp_utf8_put(out, high_half[c - 0x80]);
        } else if (c == '\r' || c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7F)) {
            sp_buf_putc(out, (char)c);
        } else {
            uint32_t cp = ' ';
            for (size_t k = 0; k < SP_ARRAY_LEN(glyphs); k++)
                if (glyphs[k].byte == c)
                    cp = glyphs[k].cp;
            sp_utf8_put(out, cp);
        }
    }
}

/* ---- template parsing ------------------------------------------------------------------ */

enum { SEG_TEXT, SEG_VAR, SEG_IF, SEG_ENDIF };

struct seg {
    int kind;
    size_t off, len; /* SEG_TEXT: bytes of the line */
    int var;
};

struct line {
    char *text; /* CP437, tabs expanded */
    size_t len;
    struct seg *segs;
    size_t nsegs;
    int sections; /* holds a section tag */
};

struct piece {
    const char *p;
    size_t len;
    int var; /* -1 for template text */
};

static int set_err(struct sp_err *e, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int set_err(struct sp_err *e, unsigned line, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sp_err_set(e, "template", "line %u: %s", line, msg);
    return SP_INVALID;
}

/* Convert one template line to CP437 with tabs expanded, and check its characters. */
static int convert_line(const char *s, size_t n, unsigned lineno, struct sp_buf *out,
                        struct sp_err *e)
{
    if (!sp_utf8_valid(s, n) && n) {
        for (size_t i = 0; i < n; i++)
            if (!s[i])
                return set_err(e, lineno, "the template contains a NUL byte");
        return set_err(e, lineno, "the template is not valid UTF-8");
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7F)
            return set_err(e, lineno, "control character 0x%02X in the template", c);
    }
    struct sp_buf raw = SP_BUF_INIT;
    sp_cp437_encode(s, n, &raw);
    size_t col = 0;
    for (size_t i = 0; i < raw.len; i++) {
        if (raw.data[i] == '\t') {
            do {
                sp_buf_putc(out, ' ');
                col++;
            } while (col % 8);
        } else {
            sp_buf_putc(out, raw.data[i]);
            col++;
        }
    }
    sp_buf_free(&raw);
    if (!out->data)
        sp_buf_append(out, "", 0);
    return SP_OK;
}

static void add_seg(struct line *l, int kind, size_t off, size_t len, int var)
{
    l->segs = sp_reallocarray(l->segs, l->nsegs + 1, sizeof *l->segs);
    l->segs[l->nsegs++] = (struct seg){kind, off, len, var};
}

static int parse_line(struct line *l, unsigned lineno, struct sp_err *e)
{
    size_t i = 0, text_start = 0;
    const char *s = l->text;
    while (i + 1 < l->len) {
        if (s[i] != '{' || s[i + 1] != '{') {
            i++;
            continue;
        }
        const char *close = NULL;
        for (size_t k = i + 2; k + 1 < l->len; k++)
            if (s[k] == '}' && s[k + 1] == '}') {
                close = s + k;
                break;
            }
        if (!close)
            return set_err(e, lineno, "'{{' without a closing '}}'");
        if (i > text_start)
            add_seg(l, SEG_TEXT, text_start, i - text_start, -1);
        const char *a = s + i + 2, *b = close;
        while (a < b && *a == ' ')
            a++;
        while (b > a && b[-1] == ' ')
            b--;
        char name[64];
        size_t nl = (size_t)(b - a);
        if (nl >= sizeof name)
            nl = sizeof name - 1;
        memcpy(name, a, nl);
        name[nl] = '\0';
        if (!strcmp(name, "/if")) {
            add_seg(l, SEG_ENDIF, 0, 0, -1);
            l->sections = 1;
        } else if (!strncmp(name, "#if ", 4) || !strncmp(name, "#if\t", 4)) {
            const char *v = name + 4;
            while (*v == ' ')
                v++;
            int idx = sp_nfo_var_index(v);
            if (idx < 0)
                return set_err(e, lineno, "unknown field '%s' in {{#if}}", v);
            add_seg(l, SEG_IF, 0, 0, idx);
            l->sections = 1;
        } else {
            int idx = sp_nfo_var_index(name);
            if (idx < 0)
                return set_err(e, lineno, "unknown field {{%s}}", name);
            add_seg(l, SEG_VAR, 0, 0, idx);
        }
        i = (size_t)(close - s) + 2;
        text_start = i;
    }
    if (text_start < l->len)
        add_seg(l, SEG_TEXT, text_start, l->len - text_start, -1);
    return SP_OK;
}

/* ---- rendering ------------------------------------------------------------------------- */

static void put_line(struct sp_buf *out, const char *s, size_t n)
{
    while (n > 0 && s[n - 1] == ' ')
        n--;
    sp_buf_append(out, s, n);
    sp_buf_append(out, "\r\n", 2);
}

static int is_break(char c)
{
    return c == '.' || c == '/' || c == '-' || c == '_' || c == '&' || c == '?' || c == '=' ||
           c == ',' || c == ';';
}

/* Split s[0..n) into chunks of at most width columns, at spaces, else after a break char. */
static size_t wrap(const char *s, size_t n, size_t width, size_t (*chunks)[2], size_t max)
{
    size_t pos = 0, k = 0;
    while (pos < n && k < max) {
        if (k > 0)
            while (pos < n && s[pos] == ' ')
                pos++;
        if (pos >= n)
            break;
        if (n - pos <= width) {
            chunks[k][0] = pos, chunks[k][1] = n - pos, k++;
            break;
        }
        size_t cut = 0;
        for (size_t i = pos + width; i > pos; i--)
            if (s[i] == ' ') {
                cut = i;
                break;
            }
        if (cut > pos) {
            chunks[k][0] = pos, chunks[k][1] = cut - pos, k++;
            pos = cut + 1;
            continue;
        }
        for (size_t i = pos + width - 1; i > pos; i--)
            if (is_break(s[i])) {
                cut = i + 1;
                break;
            }
        if (cut <= pos)
            cut = pos + width;
        chunks[k][0] = pos, chunks[k][1] = cut - pos, k++;
        pos = cut;
    }
    return k;
}

static int emit(struct sp_buf *out, struct sp_buf *line, unsigned lineno, struct sp_err *e)
{
    size_t n = line->len;
    while (n > 0 && line->data[n - 1] == ' ')
        n--;
    if (n > SP_NFO_WIDTH)
        return set_err(e, lineno, "the line renders %zu columns (at most 80)", n);
    put_line(out, line->data ? line->data : "", n);
    sp_buf_reset(line);
    return SP_OK;
}

static int render_pieces(struct piece *pc, size_t np, unsigned lineno, struct sp_buf *out,
                         struct sp_err *e)
{
    size_t total = 0, widest = 0, wi = (size_t)-1;
    int multiline = 0;
    for (size_t i = 0; i < np; i++) {
        total += pc[i].len;
        if (pc[i].var >= 0 && memchr(pc[i].p, '\n', pc[i].len)) {
            multiline = 1;
            wi = i;
        }
        if (pc[i].var >= 0 && pc[i].len > widest && !multiline) {
            widest = pc[i].len;
            wi = i;
        }
    }
    struct sp_buf line = SP_BUF_INIT;
    int rc = SP_OK;
    if ((total <= SP_NFO_WIDTH && !multiline) || wi == (size_t)-1) {
        for (size_t i = 0; i < np; i++)
            sp_buf_append(&line, pc[i].p, pc[i].len);
        rc = emit(out, &line, lineno, e);
        sp_buf_free(&line);
        return rc;
    }
    struct sp_buf prefix = SP_BUF_INIT, suffix = SP_BUF_INIT;
    for (size_t i = 0; i < wi; i++)
        sp_buf_append(&prefix, pc[i].p, pc[i].len);
    for (size_t i = wi + 1; i < np; i++)
        sp_buf_append(&suffix, pc[i].p, pc[i].len);
    size_t slen = suffix.len;
    while (slen > 0 && suffix.data[slen - 1] == ' ')
        slen--;
    if (prefix.len + slen + 8 > SP_NFO_WIDTH) {
        rc = set_err(e, lineno,
                     "the line renders %zu columns (at most 80) and leaves no room "
                     "to wrap its value",
                     total);
        goto out;
    }
    size_t width = SP_NFO_WIDTH - prefix.len - slen;
    /* continuation lines: the prefix up to its first letter or digit, then blanks */
    char *cont = sp_malloc(prefix.len + 1);
    int blank = 0;
    for (size_t i = 0; i < prefix.len; i++) {
        if (isalnum((unsigned char)prefix.data[i]))
            blank = 1;
        cont[i] = blank ? ' ' : prefix.data[i];
    }
    const char *v = pc[wi].p;
    size_t vn = pc[wi].len, nout = 0;
    size_t(*chunks)[2] = sp_mallocarray(vn + 1, sizeof *chunks);
    size_t nchunks = 0;
    for (size_t start = 0; start <= vn;) {
        const char *nl = memchr(v + start, '\n', vn - start);
        size_t end = nl ? (size_t)(nl - v) : vn;
        size_t k = wrap(v + start, end - start, width, chunks + nchunks, vn + 1 - nchunks);
        for (size_t j = 0; j < k; j++)
            chunks[nchunks + j][0] += start;
        if (k == 0 && nchunks < vn + 1) /* keep an empty value line */
            chunks[nchunks][0] = start, chunks[nchunks][1] = 0, k = 1;
        nchunks += k;
        start = end + 1;
        if (!nl)
            break;
    }
    for (size_t j = 0; j < nchunks && rc == SP_OK; j++, nout++) {
        if (j == 0)
            sp_buf_append(&line, prefix.data ? prefix.data : "", prefix.len);
        else
            sp_buf_append(&line, cont, prefix.len);
        sp_buf_append(&line, v + chunks[j][0], chunks[j][1]);
        if (j + 1 == nchunks)
            sp_buf_append(&line, suffix.data ? suffix.data : "", suffix.len);
        rc = emit(out, &line, lineno, e);
    }
    sp_free(chunks);
    sp_free(cont);
out:
    sp_buf_free(&prefix);
    sp_buf_free(&suffix);
    sp_buf_free(&line);
    return rc;
}

int sp_nfo_render(const char *tmpl, const struct sp_nfo_vars *vars, struct sp_buf *out,
                  unsigned char *rendered, struct sp_err *e)
{
    int rc = SP_OK;
    struct line *lines = NULL;
    size_t nlines = 0;
    struct sp_buf val[SP_NFO_COUNT];
    int cond[MAX_NEST];
    unsigned opened_at[MAX_NEST];
    size_t depth = 0;
    struct piece *pc = NULL;
    size_t pcap = 0;

    memset(val, 0, sizeof val);
    if (rendered)
        memset(rendered, 0, SP_NFO_COUNT);
    /* values → CP437, control characters other than newlines → spaces */
    for (int i = 0; i < SP_NFO_COUNT; i++) {
        const char *v = vars ? vars->value[i] : NULL;
        if (!v || !*v)
            continue;
        char *c = sp_text_clean_utf8(v, strlen(v));
        for (char *p = c; *p; p++)
            if (*p == '\t')
                *p = ' ';
        sp_cp437_encode(c, strlen(c), &val[i]);
        sp_free(c);
    }
    /* split into lines (LF, CRLF or CR) and parse */
    size_t tn = strlen(tmpl);
    for (size_t pos = 0; pos <= tn;) {
        size_t end = pos;
        while (end < tn && tmpl[end] != '\n' && tmpl[end] != '\r')
            end++;
        if (end == tn && pos == tn && nlines > 0)
            break; /* no empty line after a final newline */
        lines = sp_reallocarray(lines, nlines + 1, sizeof *lines);
        struct line *l = &lines[nlines++];
        memset(l, 0, sizeof *l);
        struct sp_buf b = SP_BUF_INIT;
        rc = convert_line(tmpl + pos, end - pos, (unsigned)nlines, &b, e);
        l->text = b.data ? b.data : sp_strdup("");
        l->len = b.len;
        if (rc == SP_OK)
            rc = parse_line(l, (unsigned)nlines, e);
        if (rc != SP_OK)
            goto out;
        if (end < tn && tmpl[end] == '\r' && end + 1 < tn && tmpl[end + 1] == '\n')
            end++;
        pos = end + 1;
    }

    for (size_t li = 0; li < nlines; li++) {
        struct line *l = &lines[li];
        unsigned lineno = (unsigned)li + 1;
        int active_start = depth == 0 || cond[depth - 1];
        size_t np = 0;
        int nonblank = 0;
        for (size_t si = 0; si < l->nsegs; si++) {
            struct seg *s = &l->segs[si];
            int active = depth == 0 || cond[depth - 1];
            if (s->kind == SEG_IF) {
                if (depth == MAX_NEST) {
                    rc = set_err(e, lineno, "sections nest deeper than 16");
                    goto out;
                }
                opened_at[depth] = lineno;
                cond[depth] = active && val[s->var].len > 0;
                depth++;
                continue;
            }
            if (s->kind == SEG_ENDIF) {
                if (depth == 0) {
                    rc = set_err(e, lineno, "{{/if}} without an open {{#if}}");
                    goto out;
                }
                depth--;
                continue;
            }
            if (!active)
                continue;
            if (np == pcap) {
                pcap = pcap ? pcap * 2 : 16;
                pc = sp_reallocarray(pc, pcap, sizeof *pc);
            }
            if (s->kind == SEG_TEXT) {
                pc[np++] = (struct piece){l->text + s->off, s->len, -1};
                for (size_t k = 0; k < s->len; k++)
                    nonblank |= l->text[s->off + k] != ' ';
            } else {
                struct sp_buf *v = &val[s->var];
                pc[np++] = (struct piece){v->data ? v->data : "", v->len, s->var};
                if (v->len) {
                    nonblank = 1;
                    if (rendered)
                        rendered[s->var] = 1;
                }
            }
        }
        /* a line with a section tag that renders blank disappears (standalone tags) */
        if (l->sections ? !nonblank : !active_start)
            continue;
        rc = render_pieces(pc, np, lineno, out, e);
        if (rc != SP_OK)
            goto out;
    }
    if (depth > 0)
        rc = set_err(e, opened_at[depth - 1], "{{#if}} is never closed by {{/if}}");
out:
    if (rc != SP_OK && rendered)
        memset(rendered, 0, SP_NFO_COUNT);
    for (size_t i = 0; i < nlines; i++) {
        sp_free(lines[i].text);
        sp_free(lines[i].segs);
    }
    sp_free(lines);
    sp_free(pc);
    for (int i = 0; i < SP_NFO_COUNT; i++)
        sp_buf_free(&val[i]);
    return rc;
}

int sp_nfo_check_required(const unsigned char *r, const struct sp_meta *m, struct sp_err *e)
{
    static const int always[] = {SP_NFO_RELEASE,   SP_META_RELEASE_DATE, SP_META_PUBLISH_DATE,
                                 SP_META_LANGUAGE, SP_META_SOURCE,       SP_NFO_DISKS,
                                 SP_NFO_SIZE};
    for (size_t i = 0; i < SP_ARRAY_LEN(always); i++)
        if (!r[always[i]])
            goto missing_i;
    if (!r[SP_META_AUTHOR] && !r[SP_META_PUBLISHER]) {
        sp_err_set(e, "template", "the NFO must show {{author}} or {{publisher}}");
        return SP_INVALID;
    }
    const char *src = sp_meta_get(m, SP_META_SOURCE);
    if (src && !strcmp(src, "RETAiL") && !r[SP_META_URL]) {
        sp_err_set(e, "template", "the NFO of a RETAiL release must show {{url}}");
        return SP_INVALID;
    }
    int kind = sp_meta_kind(m);
    if (kind == SP_KIND_MAGAZINE && !r[SP_META_ISSUE]) {
        sp_err_set(e, "template", "the NFO of a magazine must show {{issue}}");
        return SP_INVALID;
    }
    if ((kind == SP_KIND_COMIC || kind == SP_KIND_MANGA) && !r[SP_META_ISSUE] &&
        !r[SP_META_VOLUME]) {
        sp_err_set(e, "template", "the NFO of a %s must show {{volume}} or {{issue}}",
                   sp_kind_name(kind));
        return SP_INVALID;
    }
    int tags = sp_meta_tags(m);
    if (tags > 0 && (tags & SP_TAGS_NEED_FIXES) && !r[SP_META_FIXES]) {
        sp_err_set(e, "template",
                   "a PROPER/REPACK/NFOFiX/DiRFiX NFO must name the release it "
                   "fixes: {{fixes}}");
        return SP_INVALID;
    }
    return SP_OK;
missing_i:
    for (size_t i = 0; i < SP_ARRAY_LEN(always); i++)
        if (!r[always[i]]) {
            sp_err_set(e, "template", "the NFO must show {{%s}} (a mandatory field)",
                       sp_nfo_var_name(always[i]));
            break;
        }
    return SP_INVALID;
}
