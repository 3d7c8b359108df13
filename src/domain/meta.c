#include "domain/meta.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domain/text.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/time.h"

/* The one table of metadata fields: name, NFO label, maximum length in bytes. */
static const struct {
    const char *name;
    const char *label;
    size_t maxlen;
} fields[SP_META_COUNT] = {
    [SP_META_TITLE] = {"title", "Title", 1000},
    [SP_META_AUTHOR] = {"author", "Author", 500},
    [SP_META_PUBLISHER] = {"publisher", "Publisher", 500},
    [SP_META_YEAR] = {"year", "Year", 4},
    [SP_META_LANGUAGE] = {"language", "Language", 64},
    [SP_META_SOURCE] = {"source", "Source", 16},
    [SP_META_ISBN] = {"isbn", "ISBN", 32},
    [SP_META_ISSN] = {"issn", "ISSN", 16},
    [SP_META_GENRE] = {"genre", "Genre", 200},
    [SP_META_RELEASE_DATE] = {"release_date", "Release date", 32},
    [SP_META_PUBLISH_DATE] = {"publish_date", "Publish date", 40},
    [SP_META_STORE_DATE] = {"store_date", "Store date", 32},
    [SP_META_URL] = {"url", "URL", 2000},
    [SP_META_SHOP_URL] = {"shop_url", "Shop URL", 2000},
    [SP_META_EDITION] = {"edition", "Edition", 64},
    [SP_META_VOLUME] = {"volume", "Volume", 32},
    [SP_META_ISSUE] = {"issue", "Issue", 32},
    [SP_META_MONTH] = {"month", "Month", 16},
    [SP_META_BOOK_KIND] = {"book_kind", "Type", 16},
    [SP_META_PAGES] = {"pages", "Pages", 6},
    [SP_META_TAGS] = {"tags", "Tags", 128},
    [SP_META_FIXES] = {"fixes", "Fixes", 255},
    [SP_META_NOTES] = {"notes", "Notes", 4000},
};

static const char *const kind_names[] = {"fiction", "technical", "magazine",
                                         "comic",   "manga",     "newspaper"};

static const char *const tag_names[] = {"READNFO",  "NFOFiX", "DiRFiX",
                                        "iNTERNAL", "PROPER", "REPACK"};

static const char *const month_names[12] = {"January",   "February", "March",    "April",
                                            "May",       "June",     "July",     "August",
                                            "September", "October",  "November", "December"};

static const struct sp_language languages[] = {
    {"en", "eng", "English"},       {"fr", "fra fre", "French"}, {"de", "deu ger", "German"},
    {"es", "spa", "Spanish"},       {"it", "ita", "Italian"},    {"nl", "nld dut", "Dutch"},
    {"sv", "swe", "Swedish"},       {"da", "dan", "Danish"},     {"no", "nor nob nno", "Norwegian"},
    {"fi", "fin", "Finnish"},       {"pl", "pol", "Polish"},     {"pt", "por", "Portuguese"},
    {"ru", "rus", "Russian"},       {"ja", "jpn", "Japanese"},   {"zh", "zho chi", "Chinese"},
    {"ko", "kor", "Korean"},        {"hu", "hun", "Hungarian"},  {"cs", "ces cze", "Czech"},
    {"sk", "slk slo", "Slovak"},    {"sl", "slv", "Slovenian"},  {"hr", "hrv", "Croatian"},
    {"sr", "srp", "Serbian"},       {"bg", "bul", "Bulgarian"},  {"ro", "ron rum", "Romanian"},
    {"el", "ell gre", "Greek"},     {"tr", "tur", "Turkish"},    {"he", "heb", "Hebrew"},
    {"ar", "ara", "Arabic"},        {"uk", "ukr", "Ukrainian"},  {"ca", "cat", "Catalan"},
    {"et", "est", "Estonian"},      {"lv", "lav", "Latvian"},    {"lt", "lit", "Lithuanian"},
    {"is", "isl ice", "Icelandic"}, {"la", "lat", "Latin"},      {"hi", "hin", "Hindi"},
    {"id", "ind", "Indonesian"},    {"vi", "vie", "Vietnamese"}, {"th", "tha", "Thai"},
    {"fa", "fas per", "Persian"},   {"ga", "gle", "Irish"},      {"eo", "epo", "Esperanto"},
    {"af", "afr", "Afrikaans"},     {"nb", "nob", "Norwegian"},  {"nn", "nno", "Norwegian"},
};

void sp_meta_init(struct sp_meta *m)
{
    memset(m, 0, sizeof *m);
}

void sp_meta_free(struct sp_meta *m)
{
    for (int i = 0; i < SP_META_COUNT; i++) {
        sp_free(m->v[i]);
        m->v[i] = NULL;
    }
}

void sp_meta_copy(struct sp_meta *dst, const struct sp_meta *src)
{
    if (dst == src)
        return;
    sp_meta_free(dst);
    for (int i = 0; i < SP_META_COUNT; i++)
        dst->v[i] = src->v[i] ? sp_strdup(src->v[i]) : NULL;
}

void sp_meta_merge(struct sp_meta *dst, const struct sp_meta *src)
{
    for (int i = 0; i < SP_META_COUNT; i++) {
        if (!src->v[i])
            continue;
        sp_free(dst->v[i]);
        dst->v[i] = sp_strdup(src->v[i]);
    }
}

int sp_meta_field_lookup(const char *name)
{
    for (int i = 0; name && i < SP_META_COUNT; i++)
        if (!strcmp(fields[i].name, name))
            return i;
    return -1;
}

const char *sp_meta_field_name(int f)
{
    return f >= 0 && f < SP_META_COUNT ? fields[f].name : "";
}

const char *sp_meta_field_label(int f)
{
    return f >= 0 && f < SP_META_COUNT ? fields[f].label : "";
}

/* Clean a value: control characters → spaces (notes keep line breaks), squash, trim. */
static char *clean_value(int f, const char *value)
{
    char *c = sp_text_clean_utf8(value, strlen(value));
    if (f == SP_META_NOTES) {
        /* keep the author's line breaks, trim each line's trailing blanks */
        char *w = c;
        for (char *r = c; *r; r++) {
            if (*r == '\n')
                while (w > c && (w[-1] == ' ' || w[-1] == '\t'))
                    w--;
            *w++ = *r == '\t' ? ' ' : *r;
        }
        *w = '\0';
        while (w > c && (w[-1] == '\n' || w[-1] == ' '))
            *--w = '\0';
        char *s = c;
        while (*s == '\n' || *s == ' ')
            s++;
        memmove(c, s, strlen(s) + 1);
        return c;
    }
    return sp_text_squash(c);
}

void sp_meta_put(struct sp_meta *m, int f, const char *value)
{
    if (f < 0 || f >= SP_META_COUNT)
        return;
    sp_free(m->v[f]);
    m->v[f] = NULL;
    if (!value)
        return;
    char *c = clean_value(f, value);
    if (strlen(c) > fields[f].maxlen) {
        /* trusted extractors: cut at a character boundary */
        size_t n = fields[f].maxlen;
        while (n > 0 && ((unsigned char)c[n] & 0xC0) == 0x80)
            n--;
        c[n] = '\0';
    }
    if (!*c) {
        sp_free(c);
        return;
    }
    m->v[f] = c;
}

int sp_meta_set(struct sp_meta *m, const char *name, const char *value, struct sp_err *e)
{
    int f = sp_meta_field_lookup(name);
    if (f < 0) {
        sp_err_set(e, "meta", "unknown metadata field '%s'", name ? name : "");
        return SP_INVALID;
    }
    if (!value) {
        sp_meta_put(m, f, NULL);
        return SP_OK;
    }
    size_t n = strlen(value);
    if (!sp_utf8_valid(value, n)) {
        sp_err_set(e, name, "%s is not valid UTF-8", name);
        return SP_INVALID;
    }
    char *c = clean_value(f, value);
    size_t len = strlen(c);
    sp_free(c);
    if (len > fields[f].maxlen) {
        sp_err_set(e, name, "%s must be at most %zu bytes", name, fields[f].maxlen);
        return SP_INVALID;
    }
    sp_meta_put(m, f, value);
    return SP_OK;
}

const char *sp_meta_get(const struct sp_meta *m, int f)
{
    return f >= 0 && f < SP_META_COUNT ? m->v[f] : NULL;
}

/* ---- enumerations ---------------------------------------------------------------------- */

const char *sp_kind_name(int kind)
{
    return kind >= 0 && kind < (int)SP_ARRAY_LEN(kind_names) ? kind_names[kind] : "";
}

int sp_kind_parse(const char *s)
{
    if (!s)
        return SP_KIND_FICTION;
    for (size_t i = 0; i < SP_ARRAY_LEN(kind_names); i++)
        if (!strcasecmp(s, kind_names[i]))
            return (int)i;
    if (!strcasecmp(s, "book") || !strcasecmp(s, "novel"))
        return SP_KIND_FICTION;
    if (!strcasecmp(s, "tech") || !strcasecmp(s, "nonfiction") || !strcasecmp(s, "non-fiction"))
        return SP_KIND_TECHNICAL;
    return -1;
}

int sp_meta_kind(const struct sp_meta *m)
{
    return sp_kind_parse(m->v[SP_META_BOOK_KIND]);
}

const char *sp_extra_tag_name(int bit)
{
    for (size_t i = 0; i < SP_ARRAY_LEN(tag_names); i++)
        if (bit == (1 << i))
            return tag_names[i];
    return "";
}

static int tag_parse(const char *w, size_t n)
{
    for (size_t i = 0; i < SP_ARRAY_LEN(tag_names); i++)
        if (strlen(tag_names[i]) == n && !strncasecmp(w, tag_names[i], n))
            return 1 << i;
    return -1;
}

int sp_meta_tags(const struct sp_meta *m)
{
    const char *s = m->v[SP_META_TAGS];
    int bits = 0;
    while (s && *s) {
        size_t skip = strspn(s, " ,;.");
        s += skip;
        size_t n = strcspn(s, " ,;.");
        if (!n)
            break;
        int b = tag_parse(s, n);
        if (b < 0)
            return -1;
        bits |= b;
        s += n;
    }
    return bits;
}

const char *sp_source_canonical(const char *s)
{
    if (!s)
        return NULL;
    if (!strcasecmp(s, "RETAiL"))
        return "RETAiL";
    if (!strcasecmp(s, "SCAN"))
        return "SCAN";
    if (!strcasecmp(s, "HYBRiD"))
        return "HYBRiD";
    return NULL;
}

const char *sp_month_name(int month)
{
    return month >= 1 && month <= 12 ? month_names[month - 1] : NULL;
}

static int month_parse(const char *s)
{
    if (!s)
        return 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (end != s && !*end)
        return v >= 1 && v <= 12 ? (int)v : 0;
    size_t n = strlen(s);
    for (int i = 0; i < 12 && n >= 3; i++)
        if (!strncasecmp(s, month_names[i], n))
            return i + 1;
    return 0;
}

/* ---- languages ------------------------------------------------------------------------- */

static int word_in(const char *list, const char *w, size_t n)
{
    while (*list) {
        size_t k = strcspn(list, " ");
        if (k == n && !strncasecmp(list, w, n))
            return 1;
        list += k;
        list += strspn(list, " ");
    }
    return 0;
}

void sp_language_tag(const struct sp_language *l, char *out, size_t outlen)
{
    size_t i = 0;
    for (const char *p = l->name; *p && i + 1 < outlen; p++) {
        char c = (char)toupper((unsigned char)*p);
        out[i++] = c == 'I' ? 'i' : c;
    }
    if (outlen)
        out[i < outlen ? i : outlen - 1] = '\0';
}

const struct sp_language *sp_language_find(const char *s)
{
    if (!s || !*s)
        return NULL;
    size_t n = strcspn(s, "-_ ");
    int full = s[n] == '\0' || s[n] == ' ';
    for (size_t i = 0; i < SP_ARRAY_LEN(languages); i++) {
        const struct sp_language *l = &languages[i];
        if (n == 2 && !strncasecmp(s, l->code2, 2))
            return l;
        if (n == 3 && word_in(l->code3, s, 3))
            return l;
    }
    if (!full)
        return NULL;
    for (size_t i = 0; i < SP_ARRAY_LEN(languages); i++)
        if (!strcasecmp(s, languages[i].name))
            return &languages[i];
    return NULL;
}

const struct sp_language *sp_language_by_tag(const char *tag)
{
    char t[32];
    for (size_t i = 0; i < SP_ARRAY_LEN(languages); i++) {
        sp_language_tag(&languages[i], t, sizeof t);
        if (!strcmp(t, tag))
            return &languages[i];
    }
    return NULL;
}

const struct sp_language *sp_language_by_tag_ci(const char *tag)
{
    char t[32];
    for (size_t i = 0; i < SP_ARRAY_LEN(languages); i++) {
        sp_language_tag(&languages[i], t, sizeof t);
        if (!strcasecmp(t, tag))
            return &languages[i];
    }
    return NULL;
}

/* ---- identifiers ----------------------------------------------------------------------- */

/* Copy the ISBN/ISSN characters of s (digits, X) into out; -1 on any other character. */
static int id_chars(const char *s, char *out, size_t outlen)
{
    size_t n = 0;
    for (; *s; s++) {
        if (*s == '-' || *s == ' ')
            continue;
        if (!isdigit((unsigned char)*s) && *s != 'X' && *s != 'x')
            return -1;
        if (n + 1 >= outlen)
            return -1;
        out[n++] = (char)toupper((unsigned char)*s);
    }
    out[n] = '\0';
    return (int)n;
}

int sp_isbn_valid(const char *s)
{
    char d[20];
    int n = s ? id_chars(s, d, sizeof d) : -1;
    if (n == 10) {
        int sum = 0;
        for (int i = 0; i < 10; i++) {
            int v;
            if (d[i] == 'X') {
                if (i != 9)
                    return 0;
                v = 10;
            } else {
                v = d[i] - '0';
            }
            sum += v * (10 - i);
        }
        return sum % 11 == 0;
    }
    if (n == 13) {
        int sum = 0;
        for (int i = 0; i < 13; i++) {
            if (d[i] == 'X')
                return 0;
            sum += (d[i] - '0') * (i % 2 ? 3 : 1);
        }
        return sum % 10 == 0 && (!strncmp(d, "978", 3) || !strncmp(d, "979", 3));
    }
    return 0;
}

int sp_issn_valid(const char *s)
{
    char d[12];
    if (!s || id_chars(s, d, sizeof d) != 8)
        return 0;
    int sum = 0;
    for (int i = 0; i < 8; i++) {
        int v;
        if (d[i] == 'X') {
            if (i != 7)
                return 0;
            v = 10;
        } else {
            v = d[i] - '0';
        }
        sum += v * (8 - i);
    }
    return sum % 11 == 0;
}

/* ---- normalisation --------------------------------------------------------------------- */

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* 1 when s is "YYYY" with a plausible year. */
static int is_year(const char *s)
{
    if (!s || strlen(s) != 4 || !all_digits(s, 4))
        return 0;
    int y = atoi(s);
    return y >= 1000 && y <= 2999;
}

/* ISO date-ish text → "YYYY-MM-DD" (when a real date leads the value) or "YYYY". */
static void normalize_date(struct sp_meta *m, int f, int allow_year)
{
    char *s = m->v[f];
    if (!s)
        return;
    size_t n = strlen(s);
    if (n > 10 && (s[10] == 'T' || s[10] == ' ' || s[10] == 't')) {
        char d[11];
        memcpy(d, s, 10);
        d[10] = '\0';
        if (sp_time_valid_date(d))
            s[10] = '\0';
        return;
    }
    if (!allow_year)
        return;
    if ((n == 7 && s[4] == '-' && all_digits(s + 5, 2)) && all_digits(s, 4))
        s[4] = '\0';
}

void sp_meta_normalize(struct sp_meta *m)
{
    const char *src = sp_source_canonical(m->v[SP_META_SOURCE]);
    if (src)
        sp_meta_put(m, SP_META_SOURCE, src);
    const struct sp_language *l = sp_language_find(m->v[SP_META_LANGUAGE]);
    if (!l && m->v[SP_META_LANGUAGE])
        l = sp_language_by_tag(m->v[SP_META_LANGUAGE]);
    if (l)
        sp_meta_put(m, SP_META_LANGUAGE, l->name);
    int kind = m->v[SP_META_BOOK_KIND] ? sp_meta_kind(m) : -1;
    if (kind >= 0)
        sp_meta_put(m, SP_META_BOOK_KIND, kind_names[kind]);
    int tags = sp_meta_tags(m);
    if (tags > 0) {
        char buf[128] = "";
        for (size_t i = 0; i < SP_ARRAY_LEN(tag_names); i++)
            if (tags & (1 << i)) {
                if (*buf)
                    strcat(buf, ",");
                strcat(buf, tag_names[i]);
            }
        sp_meta_put(m, SP_META_TAGS, buf);
    }
    normalize_date(m, SP_META_RELEASE_DATE, 0);
    normalize_date(m, SP_META_STORE_DATE, 0);
    normalize_date(m, SP_META_PUBLISH_DATE, 1);
    char id[20];
    if (m->v[SP_META_ISBN] && sp_isbn_valid(m->v[SP_META_ISBN]) &&
        id_chars(m->v[SP_META_ISBN], id, sizeof id) > 0)
        sp_meta_put(m, SP_META_ISBN, id);
    if (m->v[SP_META_ISSN] && sp_issn_valid(m->v[SP_META_ISSN]) &&
        id_chars(m->v[SP_META_ISSN], id, sizeof id) == 8) {
        char f[10];
        snprintf(f, sizeof f, "%.4s-%.4s", id, id + 4);
        sp_meta_put(m, SP_META_ISSN, f);
    }
    int mo = month_parse(m->v[SP_META_MONTH]);
    if (mo) {
        char b[4];
        snprintf(b, sizeof b, "%d", mo);
        sp_meta_put(m, SP_META_MONTH, b);
    }
    if (!m->v[SP_META_YEAR]) {
        const char *pd = m->v[SP_META_PUBLISH_DATE];
        if (pd && strlen(pd) >= 4) {
            char y[5] = {pd[0], pd[1], pd[2], pd[3], 0};
            if (is_year(y))
                sp_meta_put(m, SP_META_YEAR, y);
        }
    }
}

int sp_meta_year(const struct sp_meta *m)
{
    if (is_year(m->v[SP_META_YEAR]))
        return atoi(m->v[SP_META_YEAR]);
    const char *pd = m->v[SP_META_PUBLISH_DATE];
    if (pd && strlen(pd) >= 4 && all_digits(pd, 4) && (pd[4] == '\0' || pd[4] == '-')) {
        int y = atoi(pd);
        if (y >= 1000 && y <= 2999)
            return y;
    }
    return 0;
}

/* ---- validation ------------------------------------------------------------------------ */

static int valid_url(const char *s)
{
    if (strncasecmp(s, "http://", 7) && strncasecmp(s, "https://", 8))
        return 0;
    const char *host = strstr(s, "://") + 3;
    if (!*host || *host == '/')
        return 0;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '"' || *p == '<' || *p == '>')
            return 0;
    return 1;
}

static int has_nonascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 1;
    return 0;
}

static int has_alnum(const char *s)
{
    for (; *s; s++)
        if (isalnum((unsigned char)*s))
            return 1;
    return 0;
}

size_t sp_meta_validate(const struct sp_meta *m, struct sp_problems *out)
{
    size_t before = out->n;
    const char *const *v = (const char *const *)m->v;
#define P(f, ...) sp_problems_add(out, fields[f].name, NULL, __VA_ARGS__)

    if (!v[SP_META_TITLE])
        P(SP_META_TITLE, "title is required");
    else if (!has_alnum(v[SP_META_TITLE]) && !has_nonascii(v[SP_META_TITLE]))
        P(SP_META_TITLE, "title must contain a letter or a digit");
    if (!v[SP_META_AUTHOR] && !v[SP_META_PUBLISHER])
        sp_problems_add(out, "author", NULL, "an author or a publisher is required");

    if (!v[SP_META_LANGUAGE])
        P(SP_META_LANGUAGE, "language is required");
    else if (!sp_language_find(v[SP_META_LANGUAGE]) && !sp_language_by_tag(v[SP_META_LANGUAGE]))
        P(SP_META_LANGUAGE, "unknown language '%s' (use an ISO 639 code such as 'fr' or a name)",
          v[SP_META_LANGUAGE]);

    const char *src = sp_source_canonical(v[SP_META_SOURCE]);
    if (!v[SP_META_SOURCE])
        P(SP_META_SOURCE, "source is required (RETAiL, SCAN or HYBRiD)");
    else if (!src)
        P(SP_META_SOURCE, "source must be RETAiL, SCAN or HYBRiD, not '%s'", v[SP_META_SOURCE]);

    if (!v[SP_META_RELEASE_DATE])
        P(SP_META_RELEASE_DATE, "release_date is required (YYYY-MM-DD)");
    else if (!sp_time_valid_date(v[SP_META_RELEASE_DATE]))
        P(SP_META_RELEASE_DATE, "release_date must be an ISO date YYYY-MM-DD, not '%s'",
          v[SP_META_RELEASE_DATE]);

    const char *pd = v[SP_META_PUBLISH_DATE];
    if (!pd)
        P(SP_META_PUBLISH_DATE, "publish_date is required (YYYY-MM-DD or YYYY)");
    else if (!sp_time_valid_date(pd) && !is_year(pd))
        P(SP_META_PUBLISH_DATE, "publish_date must be an ISO date YYYY-MM-DD or a year, not '%s'",
          pd);

    if (v[SP_META_YEAR] && !is_year(v[SP_META_YEAR]))
        P(SP_META_YEAR, "year must be four digits, not '%s'", v[SP_META_YEAR]);
    else if (!sp_meta_year(m) && pd)
        P(SP_META_YEAR, "year is required (set year or publish_date)");

    if (v[SP_META_STORE_DATE] && !sp_time_valid_date(v[SP_META_STORE_DATE]))
        P(SP_META_STORE_DATE, "store_date must be an ISO date YYYY-MM-DD");

    if (src && !strcmp(src, "RETAiL") && !v[SP_META_URL])
        P(SP_META_URL, "a RETAiL release needs a proof/source url");
    if (v[SP_META_URL] && !valid_url(v[SP_META_URL]))
        P(SP_META_URL, "url must be an http(s) URL without spaces");
    if (v[SP_META_SHOP_URL] && !valid_url(v[SP_META_SHOP_URL]))
        P(SP_META_SHOP_URL, "shop_url must be an http(s) URL without spaces");

    if (v[SP_META_ISBN] && !sp_isbn_valid(v[SP_META_ISBN]))
        P(SP_META_ISBN, "'%s' is not a valid ISBN-10 or ISBN-13 (check digit)", v[SP_META_ISBN]);
    if (v[SP_META_ISSN] && !sp_issn_valid(v[SP_META_ISSN]))
        P(SP_META_ISSN, "'%s' is not a valid ISSN (check digit)", v[SP_META_ISSN]);

    if (v[SP_META_PAGES]) {
        const char *p = v[SP_META_PAGES];
        if (!all_digits(p, strlen(p)) || atoi(p) < 1)
            P(SP_META_PAGES, "pages must be a positive whole number");
    }
    if (v[SP_META_MONTH] && !month_parse(v[SP_META_MONTH]))
        P(SP_META_MONTH, "month must be 1-12 or a month name");
    if (v[SP_META_VOLUME] && !has_alnum(v[SP_META_VOLUME]))
        P(SP_META_VOLUME, "volume must contain a letter or a digit");
    if (v[SP_META_ISSUE] && !has_alnum(v[SP_META_ISSUE]))
        P(SP_META_ISSUE, "issue must contain a letter or a digit");

    int kind = sp_meta_kind(m);
    if (kind < 0)
        P(SP_META_BOOK_KIND,
          "book_kind must be fiction, technical, magazine, comic, manga or newspaper");
    else if (kind == SP_KIND_MAGAZINE && !v[SP_META_ISSUE])
        P(SP_META_ISSUE, "a magazine needs its issue (e.g. 3 or NR03)");
    else if ((kind == SP_KIND_COMIC || kind == SP_KIND_MANGA) && !v[SP_META_ISSUE] &&
             !v[SP_META_VOLUME])
        P(SP_META_VOLUME, "a %s needs its volume or issue number", kind_names[kind]);
    else if (kind == SP_KIND_NEWSPAPER && pd && !sp_time_valid_date(pd))
        P(SP_META_PUBLISH_DATE, "a newspaper needs its full publish_date (YYYY-MM-DD)");

    int tags = sp_meta_tags(m);
    if (tags < 0)
        P(SP_META_TAGS, "tags must be among READNFO, NFOFiX, DiRFiX, iNTERNAL, PROPER, REPACK");
    else if ((tags & SP_TAGS_NEED_FIXES) && !v[SP_META_FIXES])
        P(SP_META_FIXES, "a PROPER, REPACK, NFOFiX or DiRFiX release must name the release it "
                         "fixes (fixes)");
    if (v[SP_META_FIXES]) {
        for (const char *p = v[SP_META_FIXES]; *p; p++)
            if (!isalnum((unsigned char)*p) && !strchr("._-", *p)) {
                P(SP_META_FIXES, "fixes must be a release dirname (A-Z a-z 0-9 . _ -)");
                break;
            }
    }
#undef P
    return out->n - before;
}

int sp_meta_check(const struct sp_meta *m, struct sp_err *e)
{
    struct sp_problems p = SP_PROBLEMS_INIT;
    int rc = SP_OK;
    if (sp_meta_validate(m, &p)) {
        sp_err_set(e, p.items[0].field, "%s", p.items[0].message);
        rc = SP_INVALID;
    }
    sp_problems_free(&p);
    return rc;
}
