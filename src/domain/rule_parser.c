/* rule_parser.c — scene rule prose → constraints (see rule_parser.h). */
#include "domain/rule_parser.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/json.h"

/* One paragraph: the original text (lines joined by single spaces) and a lower-case copy of
 * the same length, so offsets found in one apply to the other. */
struct para {
    char *text;
    char *low;
    size_t len;
    uint32_t letters; /* bit c - 'a' set when low holds the letter c */
};

struct doc {
    struct para *p;
    size_t n, cap;
    char *head_low; /* the first characters of the text, lower case (title area) */
};

static bool is_word(int c)
{
    return isalnum(c) || c == '_';
}

/* Add a paragraph from raw[0..n) (lines already joined). */
static void para_add(struct doc *d, const char *raw, size_t n)
{
    while (n && raw[0] == ' ')
        raw++, n--;
    while (n && raw[n - 1] == ' ')
        n--;
    if (!n)
        return;
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 32;
        d->p = sp_reallocarray(d->p, d->cap, sizeof *d->p);
    }
    struct para *p = &d->p[d->n++];
    p->text = sp_strndup(raw, n);
    p->low = sp_strndup(raw, n);
    p->len = n;
    p->letters = 0;
    for (size_t i = 0; i < n; i++) {
        p->low[i] = (char)tolower((unsigned char)p->low[i]);
        if (p->low[i] >= 'a' && p->low[i] <= 'z')
            p->letters |= UINT32_C(1) << (p->low[i] - 'a');
    }
}

/* A line that starts a new item: "3.", "3)", "12.", "- ", "* ", "o " after blanks. */
static bool item_start(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] == ' ')
        i++;
    size_t d = i;
    while (i < n && i - d < 3 && isdigit((unsigned char)s[i]))
        i++;
    if (i > d && i < n && (s[i] == '.' || s[i] == ')') && (i + 1 >= n || s[i + 1] == ' '))
        return true;
    return i + 1 < n && (s[i] == '-' || s[i] == '*' || s[i] == '+') && s[i + 1] == ' ';
}

static void split(struct doc *d, const char *text, size_t len)
{
    /* clean: ASCII only (box drawing and accents become blanks), one kind of line end */
    char *t = sp_malloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\r')
            continue;
        t[n++] = c == '\n' ? '\n' : (c < 0x20 || c >= 0x7f) ? ' ' : (char)c;
    }
    t[n] = '\0';
    size_t hl = n < 600 ? n : 600;
    d->head_low = sp_strndup(t, hl);
    for (size_t i = 0; i < hl; i++)
        d->head_low[i] = (char)tolower((unsigned char)d->head_low[i]);

    char *cur = sp_malloc(n + 1);
    size_t cl = 0;
    for (size_t i = 0; i <= n;) {
        size_t e = i;
        while (e < n && t[e] != '\n')
            e++;
        const char *line = t + i;
        size_t ll = e - i;
        bool blank = true;
        for (size_t k = 0; k < ll; k++)
            if (isalnum((unsigned char)line[k]))
                blank = false;
        if (blank || item_start(line, ll)) {
            para_add(d, cur, cl);
            cl = 0;
        }
        if (!blank) {
            if (cl)
                cur[cl++] = ' ';
            for (size_t k = 0; k < ll; k++) {
                /* collapse runs of blanks */
                if (line[k] == ' ' && cl && cur[cl - 1] == ' ')
                    continue;
                cur[cl++] = line[k];
            }
        }
        if (e >= n)
            break;
        i = e + 1;
    }
    para_add(d, cur, cl);
    sp_free(cur);
    sp_free(t);
}

static void doc_free(struct doc *d)
{
    for (size_t i = 0; i < d->n; i++) {
        sp_free(d->p[i].text);
        sp_free(d->p[i].low);
    }
    sp_free(d->p);
    sp_free(d->head_low);
}

/* Offset of `w` (wl bytes) in low[0..len) at or after `from`, or -1. Paragraphs are often
 * short and searched many times: memchr skips to candidates with less setup than strstr or
 * memmem. */
static long find_sub(const char *low, size_t len, const char *w, size_t wl, size_t from)
{
    for (size_t i = from; i + wl <= len; i++) {
        const char *hit = memchr(low + i, w[0], len - wl + 1 - i);
        if (!hit)
            break;
        i = (size_t)(hit - low);
        if (memcmp(low + i, w, wl) == 0)
            return (long)i;
    }
    return -1;
}

/* Can p->low hold `s` at all: has it every lower-case letter of s? Most lookups are in short
 * paragraphs that lack the word; this answers them without searching. */
static bool may_hold(const struct para *p, const char *s)
{
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'z' && !(p->letters & UINT32_C(1) << (*s - 'a')))
            return false;
    return true;
}

/* Offset of the whole word `w` (lower case) in p->low at or after `from`, or -1. */
static long find_word(const struct para *p, const char *w, size_t from)
{
    if (!may_hold(p, w))
        return -1;
    const char *low = p->low;
    size_t len = p->len, wl = strlen(w);
    long at = (long)from - 1;
    while ((at = find_sub(low, len, w, wl, (size_t)(at + 1))) >= 0) {
        size_t i = (size_t)at;
        if (i > 0 && is_word((unsigned char)low[i - 1]))
            continue;
        if (i + wl < len && is_word((unsigned char)low[i + wl]))
            continue;
        return at;
    }
    return -1;
}

static bool has_word(const struct para *p, const char *w)
{
    return find_word(p, w, 0) >= 0;
}

/* (p->low holds no NUL: split() turned control bytes into blanks) */
static bool has_sub(const struct para *p, const char *s)
{
    return may_hold(p, s) && find_sub(p->low, p->len, s, strlen(s), 0) >= 0;
}

/* End of the sentence holding offset `at`: a '.', ';' or '!' followed by a blank, or the end. */
static size_t sentence_end(const struct para *p, size_t at)
{
    for (size_t i = at; i < p->len; i++)
        if ((p->low[i] == '.' || p->low[i] == ';' || p->low[i] == '!') &&
            (i + 1 >= p->len || p->low[i + 1] == ' '))
            return i;
    return p->len;
}

static size_t sentence_start(const struct para *p, size_t at)
{
    for (size_t i = at; i > 0; i--)
        if ((p->low[i - 1] == '.' || p->low[i - 1] == ';' || p->low[i - 1] == '!') &&
            p->low[i] == ' ')
            return i;
    return 0;
}

/* A number at s[i] with optional thousands separators (",", ".", " " before exactly three
 * digits). Returns its value and sets *end; -1 when there is no number there. */
static int64_t number_at(const char *s, size_t len, size_t i, size_t *end)
{
    if (i >= len || !isdigit((unsigned char)s[i]) || (i > 0 && isalnum((unsigned char)s[i - 1])))
        return -1;
    int64_t v = 0;
    size_t k = i;
    while (k < len && isdigit((unsigned char)s[k]) && v < INT64_C(100000000000)) {
        v = v * 10 + (s[k] - '0');
        k++;
    }
    while (k + 3 < len + 1 && (s[k] == ',' || s[k] == '.' || s[k] == ' ') && k + 3 <= len &&
           isdigit((unsigned char)s[k + 1]) && isdigit((unsigned char)s[k + 2]) &&
           isdigit((unsigned char)s[k + 3]) &&
           (k + 4 >= len || !isdigit((unsigned char)s[k + 4])) && v < INT64_C(100000000)) {
        v = v * 1000 + (s[k + 1] - '0') * 100 + (s[k + 2] - '0') * 10 + (s[k + 3] - '0');
        k += 4;
    }
    /* "8.3" and decimals are not counts */
    if (k + 1 < len && s[k] == '.' && isdigit((unsigned char)s[k + 1]))
        return -1;
    *end = k;
    return v;
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Does a unit starting with one of `units` (NULL-terminated) follow the number that ends at ne,
 * past blanks and dashes? */
static bool unit_after(const struct para *p, size_t ne, const char *const *units)
{
    size_t u = ne;
    while (u < p->len && (p->low[u] == ' ' || p->low[u] == '-'))
        u++;
    for (const char *const *un = units; *un; un++)
        if (starts(p->low + u, *un))
            return true;
    return false;
}

/* The first "<number> <unit>" after offset `from` in the same sentence (or the rest of the
 * paragraph), where unit starts with one of `units` (NULL-terminated); `stop` (may be NULL) ends
 * the search early. -1 if none. The scan steps over a number without its unit whole (and the
 * character after it), so where it starts decides which digits can begin a number. */
static int64_t number_before_unit(const struct para *p, size_t from, const char *const *units,
                                  const char *stop, bool paragraph)
{
    size_t end = paragraph ? p->len : sentence_end(p, from);
    long stop_at = stop ? find_sub(p->low, p->len, stop, strlen(stop), from) : -1;
    if (stop_at >= 0 && (size_t)stop_at < end)
        end = (size_t)stop_at;
    for (size_t i = from; i < end; i++) {
        size_t ne;
        int64_t v = number_at(p->low, p->len, i, &ne);
        if (v < 0)
            continue;
        if (unit_after(p, ne, units))
            return v;
        i = ne;
    }
    return -1;
}

/*
 * number_before_unit() for every occurrence of an anchor in one paragraph, in linear time
 * overall. Called once per occurrence, number_before_unit() would rescan the rest of the
 * sentence (or paragraph) each time: quadratic in a long paragraph that repeats its anchor
 * (a 512 KiB rule body of "nfo nfo ..." took minutes). The answers are the same:
 *   - the scan's path depends only on where it starts (it stops early only at `end`), so where
 *     it finds its "<number> <unit>" with no end is remembered for every offset it passed
 *     (memo); a later scan reaching one of those offsets has its answer, and that answer holds
 *     for a bounded scan exactly when it lies before the bound;
 *   - anchors are met in rising order, so the sentence end and the next `stop` found for one
 *     occurrence hold for the next until it passes them, and consecutive occurrences mostly
 *     find the same number.
 */
struct anchor_scan {
    const struct para *p;
    const char *const *units;
    const char *stop;
    bool paragraph;
    uint32_t *memo;     /* [len + 2]: 0 unknown, else 1 + offset of the number, or NO_HIT */
    size_t se_from, se; /* sentence_end(p, se_from) == se */
    size_t st_from, st; /* first `stop` at or after st_from (p->len when none) */
    uint32_t last_hit;  /* the number last returned starts there (NO_HIT: none yet) */
    int64_t last_value; /* and is worth that */
    bool se_known, st_known;
};

#define NO_HIT UINT32_MAX

static void anchor_scan_init(struct anchor_scan *s, const struct para *p, const char *const *units,
                             const char *stop, bool paragraph)
{
    *s = (struct anchor_scan){
        .p = p, .units = units, .stop = stop, .paragraph = paragraph, .last_hit = NO_HIT};
    s->memo = sp_calloc(p->len + 2, sizeof *s->memo);
}

/* Offset where the unbounded scan from `from` finds its "<number> <unit>", or NO_HIT. */
static uint32_t scan_hit(struct anchor_scan *s, size_t from)
{
    const struct para *p = s->p;
    uint32_t hit = NO_HIT;
    size_t i = from;
    /* walk until an offset already known, a number with its unit, or the end */
    while (i < p->len) {
        if (s->memo[i]) {
            hit = s->memo[i] == NO_HIT ? NO_HIT : s->memo[i] - 1;
            break;
        }
        size_t ne;
        if (number_at(p->low, p->len, i, &ne) < 0) {
            i++;
            continue;
        }
        if (unit_after(p, ne, s->units)) {
            hit = (uint32_t)i;
            break;
        }
        i = ne + 1;
    }
    /* the same walk again, recording the answer at every offset it passes */
    uint32_t rec = hit == NO_HIT ? NO_HIT : hit + 1;
    for (size_t k = from; k < i;) {
        s->memo[k] = rec;
        size_t ne;
        k = number_at(p->low, p->len, k, &ne) < 0 ? k + 1 : ne + 1;
    }
    if (i < p->len)
        s->memo[i] = rec;
    return hit;
}

/* number_before_unit(p, from, units, stop, paragraph); fastest for rising `from`. */
static int64_t anchor_scan_at(struct anchor_scan *s, size_t from)
{
    const struct para *p = s->p;
    size_t end = p->len;
    if (!s->paragraph) {
        if (!s->se_known || from < s->se_from || from > s->se) {
            s->se_from = from;
            s->se = sentence_end(p, from);
            s->se_known = true;
        }
        end = s->se;
    }
    if (s->stop) {
        if (!s->st_known || from < s->st_from || from > s->st) {
            long at = find_sub(p->low, p->len, s->stop, strlen(s->stop), from);
            s->st_from = from;
            s->st = at >= 0 ? (size_t)at : p->len;
            s->st_known = true;
        }
        if (s->st < end)
            end = s->st;
    }
    uint32_t hit = scan_hit(s, from);
    if (hit == NO_HIT || hit >= end)
        return -1;
    /* occurrences in a row mostly share their number: read a long one once */
    if (hit != s->last_hit) {
        size_t ne;
        s->last_value = number_at(p->low, p->len, hit, &ne);
        s->last_hit = hit;
    }
    return s->last_value;
}

/* For every occurrence of any anchor, the first number with a unit in its sentence. */
static int64_t anchored(const struct doc *d, const char *const *anchors, const char *const *units,
                        const char *stop, bool paragraph, int64_t lo, int64_t hi)
{
    int64_t found = -1;
    for (size_t pi = 0; pi < d->n && found < 0; pi++) {
        const struct para *p = &d->p[pi];
        struct anchor_scan s;
        bool scanning = false;
        for (const char *const *a = anchors; *a && found < 0; a++) {
            long at = -1;
            while (found < 0 && (at = find_word(p, *a, (size_t)(at + 1))) >= 0) {
                if (!scanning) {
                    anchor_scan_init(&s, p, units, stop, paragraph);
                    scanning = true;
                }
                int64_t v = anchor_scan_at(&s, (size_t)at + strlen(*a));
                if (v >= lo && v <= hi)
                    found = v;
            }
        }
        if (scanning)
            sp_free(s.memo);
    }
    return found;
}

/* Does the sentence holding offset `at` refuse or waive what it names? Sets *end (may be NULL) to
 * that sentence's end: a later offset before it lies in the same sentence. */
static bool negative_sentence(const struct para *p, size_t at, size_t *end)
{
    size_t s = sentence_start(p, at), e = sentence_end(p, at);
    if (end)
        *end = e;
    static const char *const neg[] = {
        "not allowed", "not accepted", "not permitted", "forbidden", "refused",
        "banned",      "prohibited",   "must not",      "no drm",    "without drm",
        "drm-free",    "drm free",     "removed",       "stripped",  "not required",
        "optional",    "not needed",   "never",         NULL};
    char *sent = sp_strndup(p->low + s, e - s);
    bool neg_found = false;
    for (const char *const *n = neg; *n && !neg_found; n++)
        neg_found = strstr(sent, *n) != NULL;
    sp_free(sent);
    return neg_found;
}

/* Scene-style tag spelling: every letter upper case except 'i' (NFOFiX, iNTERNAL, REPACK). */
static bool tag_spelling(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (islower((unsigned char)s[i]) && s[i] != 'i')
            return false;
    return true;
}

/* Find `word` (any case) spelt as a tag somewhere in the document. */
static bool tag_present(const struct doc *d, const char *word)
{
    size_t wl = strlen(word);
    for (size_t pi = 0; pi < d->n; pi++) {
        const struct para *p = &d->p[pi];
        long at = -1;
        while ((at = find_word(p, word, (size_t)(at + 1))) >= 0)
            if (tag_spelling(p->text + at, wl))
                return true;
    }
    return false;
}

/* ---- the constraints ---- */

static void parse_title(const struct doc *d, json_t *o)
{
    const char *h = d->head_low;
    size_t hl = strlen(h);
    /* year: "[2022]" first, else the first plausible year of the title area */
    int year = 0;
    for (size_t i = 0; i + 6 <= hl && !year; i++)
        if (h[i] == '[' && h[i + 5] == ']' && isdigit((unsigned char)h[i + 1]) &&
            isdigit((unsigned char)h[i + 2]) && isdigit((unsigned char)h[i + 3]) &&
            isdigit((unsigned char)h[i + 4]))
            year = atoi(h + i + 1);
    for (size_t i = 0; i + 4 <= hl && !year; i++) {
        size_t e;
        int64_t v = number_at(h, hl, i, &e);
        if (v >= 1995 && v <= 2099 && e - i == 4 && (e >= hl || !isalnum((unsigned char)h[e])))
            year = (int)v;
    }
    if (year)
        json_object_set_new(o, "year", json_integer(year));

    bool ebook = strstr(h, "ebook") || strstr(h, "e-book");
    for (size_t pi = 0; pi < d->n && !ebook; pi++)
        ebook = has_word(&d->p[pi], "ebook") || has_sub(&d->p[pi], "e-book");
    if (ebook)
        json_object_set_new(o, "section", json_string("eBOOK"));

    static const char *const langs[] = {"english", "german",  "french", "spanish",   "italian",
                                        "dutch",   "swedish", "danish", "norwegian", "finnish",
                                        "polish",  "nordic",  NULL};
    static const char *const after[] = {" scene", " ebook",   " e-book", " standard",
                                        " rules", " section", NULL};
    for (const char *const *l = langs; *l; l++) {
        for (const char *const *a = after; *a; a++) {
            char pat[48];
            snprintf(pat, sizeof pat, "%s%s", *l, *a);
            if (strstr(h, pat)) {
                char name[24];
                snprintf(name, sizeof name, "%s", *l);
                name[0] = (char)toupper((unsigned char)name[0]);
                json_object_set_new(o, "scene", json_string(name));
                return;
            }
        }
    }
}

static const struct {
    const char *word; /* lower case */
    const char *name;
    const char *tag; /* dirname FORMAT tag, NULL for PDF */
    bool exact_case; /* only in upper case (the word is also English prose) */
} formats[] = {
    {"pdf", "PDF", NULL, false},  {"epub", "EPUB", "ePUB", false},
    {"cbz", "CBZ", "CBZ", false}, {"cbr", "CBR", "CBR", false},
    {"azw", "AZW", "AZW", false}, {"azw3", "AZW3", "KF8", false},
    {"kf8", "KF8", "KF8", false}, {"mobi", "MOBI", "MOBI", false},
    {"prc", "PRC", "PRC", false}, {"djvu", "DJVU", "DJVU", false},
    {"fb2", "FB2", "FB2", false}, {"lit", "LIT", "LIT", true},
    {"doc", "DOC", "DOC", true},  {"rtf", "RTF", "RTF", true},
    {"txt", "TXT", "TXT", true},
};

static void parse_formats(const struct doc *d, json_t *o)
{
    json_t *list = json_array(), *tags = json_object();
    bool any_tag_talk = false;
    /* the paragraphs about formats, looked up once rather than once per format */
    bool *about = sp_calloc(d->n ? d->n : 1, sizeof *about);
    for (size_t pi = 0; pi < d->n; pi++)
        about[pi] = has_sub(&d->p[pi], "format");
    for (size_t f = 0; f < SP_ARRAY_LEN(formats); f++) {
        bool found = false;
        for (size_t pi = 0; pi < d->n && !found; pi++) {
            const struct para *p = &d->p[pi];
            if (!about[pi])
                continue;
            long at = -1;
            size_t wl = strlen(formats[f].word);
            /* the word again in a refusing sentence already read is refused too (reading the
             * sentence for each of its words would be quadratic) */
            size_t refused_until = 0;
            while (!found && (at = find_word(p, formats[f].word, (size_t)(at + 1))) >= 0) {
                if (formats[f].exact_case && !tag_spelling(p->text + at, wl))
                    continue;
                if ((size_t)at < refused_until || negative_sentence(p, (size_t)at, &refused_until))
                    continue;
                found = true;
            }
        }
        if (!found)
            continue;
        json_array_append_new(list, json_string(formats[f].name));
        if (formats[f].tag)
            json_object_set_new(tags, formats[f].name, json_string(formats[f].tag));
    }
    sp_free(about);
    for (size_t pi = 0; pi < d->n && !any_tag_talk; pi++)
        any_tag_talk = has_word(&d->p[pi], "tag") || has_word(&d->p[pi], "tags");
    if (json_array_size(list))
        json_object_set_new(o, "formats", list);
    else
        json_decref(list);
    if (any_tag_talk && json_object_size(tags))
        json_object_set_new(o, "format_tags", tags);
    else
        json_decref(tags);
}

static void parse_drm(const struct doc *d, json_t *o)
{
    for (size_t pi = 0; pi < d->n; pi++) {
        const struct para *p = &d->p[pi];
        long at = find_word(p, "drm", 0);
        if (at < 0)
            continue;
        bool neg = negative_sentence(p, (size_t)at, NULL);
        size_t s = sentence_start(p, (size_t)at), e = sentence_end(p, (size_t)at);
        char *sent = sp_strndup(p->low + s, e - s);
        bool pos = strstr(sent, "allowed") || strstr(sent, "permitted") || strstr(sent, "accepted");
        sp_free(sent);
        if (neg || pos) {
            json_object_set_new(o, "drm_allowed", json_boolean(!neg));
            return;
        }
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void parse_zip(const struct doc *d, json_t *o)
{
    int64_t sizes[32];
    size_t ns = 0;
    for (size_t pi = 0; pi < d->n; pi++) {
        const struct para *p = &d->p[pi];
        bool about_sizes = has_sub(p, "size") &&
                           (has_sub(p, "zip") || has_sub(p, "volume") || has_sub(p, "archive") ||
                            has_sub(p, "rar") || has_sub(p, "split"));
        if (!about_sizes)
            continue;
        bool millions = has_word(p, "million") || has_word(p, "mb") || has_word(p, "mib");
        size_t i = 0;
        /* the item number of a numbered paragraph is not a size */
        if (isdigit((unsigned char)p->low[0])) {
            while (i < p->len && isdigit((unsigned char)p->low[i]))
                i++;
            if (i < p->len && (p->low[i] == '.' || p->low[i] == ')'))
                i++;
            else
                i = 0;
        }
        for (; i < p->len; i++) {
            size_t ne;
            int64_t v = number_at(p->low, p->len, i, &ne);
            if (v < 0)
                continue;
            size_t u = ne;
            while (u < p->len && p->low[u] == ' ')
                u++;
            const char *unit = p->low + u;
            int64_t bytes = -1;
            if (v > 100000 && v < 1000000)
                bytes = -1; /* neither a count of megabytes nor of bytes */
            else if (v > 100000)
                bytes = v;
            else if (starts(unit, "gb"))
                bytes = v * 1000000000;
            else if (starts(unit, "mb") || starts(unit, "mib") || starts(unit, "million") ||
                     (starts(unit, "m") && !isalpha((unsigned char)unit[1])))
                bytes = v * 1000000;
            else if (starts(unit, "file") || starts(unit, "char") || starts(unit, "col") ||
                     starts(unit, "line") || starts(unit, "%") || starts(unit, "kb") ||
                     starts(unit, "x"))
                bytes = -1;
            else if (v >= 1000000)
                bytes = v;
            else if (millions && v > 0 && v <= 10000)
                bytes = v * 1000000;
            if (bytes >= 1000000 && bytes <= INT64_C(10000000000) && ns < SP_ARRAY_LEN(sizes)) {
                bool dup = false;
                for (size_t k = 0; k < ns; k++)
                    dup |= sizes[k] == bytes;
                if (!dup)
                    sizes[ns++] = bytes;
            }
            i = ne;
        }
    }
    if (ns) {
        qsort(sizes, ns, sizeof sizes[0], cmp_i64);
        json_t *a = json_array();
        for (size_t k = 0; k < ns; k++)
            json_array_append_new(a, json_integer(sizes[k]));
        json_object_set_new(o, "zip_sizes", a);
    }

    static const char *const zip_anchors[] = {"zip",    "zips",    "archive", "archives",
                                              "volume", "volumes", NULL};
    /* "at most 99 files per ZIP": the number is before its unit, the anchor may follow */
    for (size_t pi = 0; pi < d->n; pi++) {
        const struct para *p = &d->p[pi];
        bool zippy = false;
        for (const char *const *a = zip_anchors; *a; a++)
            zippy |= has_word(p, *a);
        if (!zippy)
            continue;
        static const char *const files_unit[] = {"files", "file", NULL};
        int64_t v = number_before_unit(p, 0, files_unit, NULL, false);
        for (size_t from = 0; v < 0 && from < p->len;) {
            size_t e = sentence_end(p, from);
            from = e + 1;
            if (from < p->len)
                v = number_before_unit(p, from, files_unit, NULL, false);
        }
        if (v >= 1 && v <= 100000) {
            json_object_set_new(o, "max_files_per_zip", json_integer(v));
            break;
        }
    }
    for (size_t pi = 0; pi < d->n; pi++) {
        if (has_sub(&d->p[pi], "8.3")) {
            json_object_set_new(o, "zip_names_8_3", json_true());
            break;
        }
    }
    static const char *const chars[] = {"char", NULL};
    static const char *const payload[] = {"payload", NULL};
    int64_t pl = anchored(d, payload, chars, NULL, false, 8, 4096);
    if (pl > 0)
        json_object_set_new(o, "payload_name_max", json_integer(pl));
}

static void parse_names(const struct doc *d, json_t *o)
{
    static const char *const anchors[] = {"directory name",  "dirname",       "dir name",
                                          "dirnames",        "release name",  "folder name",
                                          "directory names", "release names", NULL};
    static const char *const chars[] = {"char", NULL};
    int64_t v = anchored(d, anchors, chars, "payload", true, 8, 4096);
    if (v > 0)
        json_object_set_new(o, "name_max_length", json_integer(v));

    static const char *const allowed[] = {"allowed characters",   "characters allowed",
                                          "valid characters",     "allowed chars",
                                          "permitted characters", NULL};
    for (size_t pi = 0; pi < d->n; pi++) {
        const struct para *p = &d->p[pi];
        for (const char *const *a = allowed; *a; a++) {
            const char *hit = may_hold(p, *a) ? strstr(p->low, *a) : NULL;
            if (!hit)
                continue;
            size_t i = (size_t)(hit - p->low) + strlen(*a);
            char set[64] = "";
            size_t n = 0;
            for (;;) {
                while (i < p->len && (p->text[i] == ' ' || p->text[i] == ':' || p->text[i] == ','))
                    i++;
                const char *t = p->text + i;
                size_t left = p->len - i;
                size_t tl = 0;
                if (left >= 3 &&
                    ((t[0] == 'A' && t[2] == 'Z') || (t[0] == 'a' && t[2] == 'z') ||
                     (t[0] == '0' && t[2] == '9')) &&
                    t[1] == '-')
                    tl = 3;
                else if (left >= 1 && strchr("._-()", t[0]) &&
                         (left == 1 || t[1] == ' ' || t[1] == ','))
                    tl = 1;
                if (!tl || n + tl + 1 >= sizeof set)
                    break;
                memcpy(set + n, t, tl);
                n += tl;
                set[n] = '\0';
                i += tl;
            }
            if (n >= 3) {
                json_object_set_new(o, "name_allowed_chars", json_string(set));
                return;
            }
        }
    }
}

static void parse_tags(const struct doc *d, json_t *o)
{
    static const char *const src[][2] = {
        {"retail", "RETAiL"}, {"scan", "SCAN"}, {"hybrid", "HYBRiD"}};
    json_t *sources = json_array();
    for (size_t s = 0; s < SP_ARRAY_LEN(src); s++) {
        for (size_t pi = 0; pi < d->n; pi++) {
            const struct para *p = &d->p[pi];
            long at = find_word(p, src[s][0], 0);
            if (at >= 0 &&
                (has_word(p, "source") || tag_spelling(p->text + at, strlen(src[s][0])))) {
                json_array_append_new(sources, json_string(src[s][1]));
                break;
            }
        }
    }
    if (json_array_size(sources))
        json_object_set_new(o, "sources", sources);
    else
        json_decref(sources);

    static const char *const extra[][2] = {{"readnfo", "READNFO"}, {"nfofix", "NFOFiX"},
                                           {"dirfix", "DiRFiX"},   {"internal", "iNTERNAL"},
                                           {"proper", "PROPER"},   {"repack", "REPACK"}};
    json_t *tags = json_array();
    for (size_t t = 0; t < SP_ARRAY_LEN(extra); t++)
        if (tag_present(d, extra[t][0]))
            json_array_append_new(tags, json_string(extra[t][1]));
    if (json_array_size(tags))
        json_object_set_new(o, "extra_tags", tags);
    else
        json_decref(tags);

    static const char *const types[][3] = {{"magazine", "magazine", "MAGAZiNE"},
                                           {"comic", "comic", "COMiC"},
                                           {"manga", "manga", "MANGA"}};
    json_t *tt = json_object();
    for (size_t t = 0; t < SP_ARRAY_LEN(types); t++)
        if (tag_present(d, types[t][0]))
            json_object_set_new(tt, types[t][1], json_string(types[t][2]));
    if (json_object_size(tt))
        json_object_set_new(o, "type_tags", tt);
    else
        json_decref(tt);
}

static void parse_nfo_diz(const struct doc *d, json_t *o)
{
    static const char *const nfo[] = {"nfo", NULL};
    static const char *const width[] = {"column", "col", "char", "wide", NULL};
    int64_t v = anchored(d, nfo, width, "diz", false, 20, 1000);
    if (v > 0)
        json_object_set_new(o, "nfo_max_width", json_integer(v));
    bool cp437 = false, ascii = false, crlf = false;
    for (size_t pi = 0; pi < d->n; pi++) {
        const struct para *p = &d->p[pi];
        if (!has_word(p, "nfo"))
            continue;
        cp437 |= has_sub(p, "cp437") || has_sub(p, "cp 437") || has_sub(p, "code page 437");
        crlf |= has_word(p, "crlf") || has_sub(p, "cr/lf") || has_sub(p, "cr lf");
        ascii |= has_word(p, "ascii") && !has_word(p, "diz");
    }
    if (cp437 || ascii)
        json_object_set_new(o, "nfo_encoding", json_string(cp437 ? "CP437" : "ASCII"));
    if (crlf)
        json_object_set_new(o, "nfo_line_end", json_string("CRLF"));

    static const char *const diz[] = {"diz", NULL};
    static const char *const cols[] = {"column", "col", "char", "wide", NULL};
    static const char *const lines[] = {"line", NULL};
    int64_t w = anchored(d, diz, cols, NULL, false, 10, 1000);
    int64_t l = anchored(d, diz, lines, NULL, false, 1, 1000);
    /* "44x30" */
    for (size_t pi = 0; pi < d->n && (w < 0 || l < 0); pi++) {
        const struct para *p = &d->p[pi];
        if (!has_word(p, "diz"))
            continue;
        for (size_t i = 0; i < p->len; i++) {
            size_t e1, e2;
            int64_t a = number_at(p->low, p->len, i, &e1);
            if (a < 0)
                continue;
            size_t k = e1;
            while (k < p->len && p->low[k] == ' ')
                k++;
            if (k < p->len && p->low[k] == 'x') {
                k++;
                while (k < p->len && p->low[k] == ' ')
                    k++;
                int64_t b = -1;
                for (e2 = k; e2 < p->len && isdigit((unsigned char)p->low[e2]) && e2 - k < 4; e2++)
                    b = (b < 0 ? 0 : b * 10) + (p->low[e2] - '0');
                if (b > 0 && a >= 10 && a <= 1000 && b <= 1000) {
                    if (w < 0)
                        w = a;
                    if (l < 0)
                        l = b;
                    break;
                }
            }
            i = e1;
        }
    }
    if (w > 0)
        json_object_set_new(o, "diz_max_width", json_integer(w));
    if (l > 0)
        json_object_set_new(o, "diz_max_lines", json_integer(l));

    for (size_t pi = 0; pi < d->n; pi++) {
        const struct para *p = &d->p[pi];
        long at = find_word(p, "sfv", 0);
        if (at >= 0) {
            json_object_set_new(o, "sfv_required",
                                json_boolean(!negative_sentence(p, (size_t)at, NULL)));
            break;
        }
    }
}

static void parse_mandatory(const struct doc *d, json_t *o)
{
    static const char *const fields[][2] = {
        {"release date", "release_date"},
        {"publish date", "publish_date"},
        {"publication date", "publish_date"},
        {"published date", "publish_date"},
        {"title", "title"},
        {"language", "language"},
        {"source", "source"},
        {"author or publisher", "author_or_publisher"},
        {"author/publisher", "author_or_publisher"},
        {"author", "author"},
        {"publisher", "publisher"},
        {"isbn", "isbn"},
        {"genre", "genre"},
    };
    json_t *list = json_array();
    bool retail_url = false;
    for (size_t pi = 0; pi < d->n; pi++) {
        const struct para *p = &d->p[pi];
        const char *m = may_hold(p, "mandatory") ? strstr(p->low, "mandatory") : NULL;
        const char *r = may_hold(p, "required") ? strstr(p->low, "required") : NULL;
        const char *hit = m && (!r || m < r) ? m : r;
        /* only paragraphs about what is mandatory, not ones that mention it in passing */
        if (!hit || hit - p->low > 40)
            continue;
        bool have_aop = false;
        for (size_t f = 0; f < SP_ARRAY_LEN(fields); f++) {
            if (find_word(p, fields[f][0], 0) < 0)
                continue;
            const char *key = fields[f][1];
            if ((!strcmp(key, "author") || !strcmp(key, "publisher")) && have_aop)
                continue;
            if (!strcmp(key, "author_or_publisher"))
                have_aop = true;
            bool dup = false;
            for (size_t k = 0; k < json_array_size(list); k++)
                dup |= !strcmp(json_string_value(json_array_get(list, k)), key);
            if (!dup)
                json_array_append_new(list, json_string(key));
        }
        retail_url |= has_word(p, "url") && has_word(p, "retail");
    }
    if (json_array_size(list))
        json_object_set_new(o, "mandatory_fields", list);
    else
        json_decref(list);
    if (retail_url)
        json_object_set_new(o, "retail_requires_url", json_true());
}

json_t *sp_rule_parse(const char *text, size_t len)
{
    json_t *o = json_object();
    if (!text || !len)
        return o;
    if (len > SP_RULE_TEXT_MAX)
        len = SP_RULE_TEXT_MAX;
    struct doc d = {0};
    split(&d, text, len);
    parse_title(&d, o);
    parse_formats(&d, o);
    parse_drm(&d, o);
    parse_zip(&d, o);
    parse_names(&d, o);
    parse_tags(&d, o);
    parse_nfo_diz(&d, o);
    parse_mandatory(&d, o);
    doc_free(&d);
    return o;
}

char *sp_rule_spec_text(const char *text)
{
    json_t *o = sp_rule_parse(text, text ? strlen(text) : 0);
    char *s = sp_json_dump(o, NULL);
    json_decref(o);
    return s;
}
