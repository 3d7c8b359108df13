#include "domain/release_name.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domain/metadata.h"
#include "domain/text.h"
#include "util/alloc.h"
#include "util/buf.h"

static int is_sep(char c)
{
    return c == '.' || c == '_' || c == '-';
}

static void put_word_char(struct sp_buf *b, char c)
{
    if (isalnum((unsigned char)c))
        sp_buf_putc(b, c);
    else if (c == '\'' || c == '`')
        return; /* "Don't" → "Dont" */
    else if (c == '&')
        sp_buf_puts(b, ".and.");
    else if (c == '-' || c == '_')
        sp_buf_putc(b, c);
    else
        sp_buf_putc(b, '.');
}

/* Collapse separator runs (a run holding a dot becomes one dot) and trim them at both ends. */
static char *collapse(const char *s)
{
    size_t n = strlen(s);
    char *out = sp_malloc(n + 1);
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        if (!is_sep(s[i])) {
            out[w++] = s[i++];
            continue;
        }
        size_t j = i;
        int dot = 0;
        while (j < n && is_sep(s[j]))
            dot |= s[j++] == '.';
        if (w > 0 && j < n)
            out[w++] = dot ? '.' : s[i];
        i = j;
    }
    out[w] = '\0';
    return out;
}

char *sp_dirname_words(const char *utf8)
{
    struct sp_buf b = SP_BUF_INIT;
    size_t n = strlen(utf8), i = 0;
    sp_buf_reserve(&b, n);
    while (i < n) {
        uint32_t cp;
        sp_utf8_next(utf8, n, &i, &cp);
        if (cp < 0x80) {
            put_word_char(&b, (char)cp);
            continue;
        }
        const char *t = sp_translit(cp);
        for (; t && *t; t++)
            put_word_char(&b, *t);
    }
    char *out = collapse(b.len ? b.data : "");
    sp_buf_free(&b);
    return out;
}

int sp_group_valid(const char *g)
{
    size_t n = g ? strlen(g) : 0;
    if (n < 2 || n > 30 || !isalnum((unsigned char)g[0]) || !isalnum((unsigned char)g[n - 1]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)g[i]) && g[i] != '_' && g[i] != '-')
            return 0;
    return 1;
}

/* ---- building -------------------------------------------------------------------------- */

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

static const char *ordinal_suffix(long n)
{
    if (n % 100 >= 11 && n % 100 <= 13)
        return "th";
    switch (n % 10) {
    case 1:
        return "st";
    case 2:
        return "nd";
    case 3:
        return "rd";
    default:
        return "th";
    }
}

/* Append ".<words>" (or "<words>" when b is empty); nothing when words is empty. */
static void add_part(struct sp_buf *b, const char *words)
{
    if (!words || !*words)
        return;
    if (b->len)
        sp_buf_putc(b, '.');
    sp_buf_puts(b, words);
}

static void add_text(struct sp_buf *b, const char *text)
{
    if (!text)
        return;
    char *w = sp_dirname_words(text);
    add_part(b, w);
    sp_free(w);
}

/* "3" → "No.3"; "NR03" stays; "Vol 2" → "Vol.2" (prefix is "No" or "Vol"). */
static void add_numbered(struct sp_buf *b, const char *prefix, const char *v)
{
    if (!v)
        return;
    char *w = sp_dirname_words(v);
    if (all_digits(w)) {
        char *p = sp_asprintf("%s.%s", prefix, w);
        add_part(b, p);
        sp_free(p);
    } else {
        add_part(b, w);
    }
    sp_free(w);
}

static void add_edition(struct sp_buf *b, const char *ed)
{
    if (!ed)
        return;
    char *w = sp_dirname_words(ed);
    if (!*w) {
        sp_free(w);
        return;
    }
    if (all_digits(w)) {
        long n = strtol(w, NULL, 10);
        char *p = sp_asprintf("%ld%s.Edition", n, ordinal_suffix(n));
        add_part(b, p);
        sp_free(p);
    } else if (!strcasestr(w, "edition")) {
        char *p = sp_asprintf("%s.Edition", w);
        add_part(b, p);
        sp_free(p);
    } else {
        add_part(b, w);
    }
    sp_free(w);
}

/* 1 when `word` is one of the dot-separated words of `words`, any letter case. */
static int has_word(const char *words, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = words; *p;) {
        size_t n = strcspn(p, ".");
        if (n == wl && !strncasecmp(p, word, n))
            return 1;
        p += n;
        p += *p == '.';
    }
    return 0;
}

static void shorten_words(char *w, size_t budget)
{
    if (strlen(w) <= budget)
        return;
    if (w[budget] == '.') {
        w[budget] = '\0';
    } else {
        w[budget] = '\0';
        char *dot = strrchr(w, '.');
        if (dot && dot != w)
            *dot = '\0';
    }
    size_t n = strlen(w);
    while (n > 0 && is_sep(w[n - 1]))
        w[--n] = '\0';
}

int sp_dirname_build(const struct sp_meta *m, int format, const char *group, char *out,
                     size_t outlen, struct sp_err *e)
{
    const char *const *v = (const char *const *)m->v;
    int rc = SP_INVALID;
    struct sp_buf pre = SP_BUF_INIT, post = SP_BUF_INIT, tail = SP_BUF_INIT, all = SP_BUF_INIT;
    char *title = NULL;

    if (!sp_group_valid(group)) {
        sp_err_set(e, "group",
                   "group must be 2-30 characters of A-Z a-z 0-9 _ - and start and "
                   "end with a letter or digit");
        goto out;
    }
    int kind = sp_meta_kind(m), year = sp_meta_year(m), tags = sp_meta_tags(m);
    const char *src = sp_source_canonical(v[SP_META_SOURCE]);
    const struct sp_language *lang = sp_language_find(v[SP_META_LANGUAGE]);
    if (kind < 0) {
        sp_err_set(e, "book_kind", "unknown book_kind");
        goto out;
    }
    if (!year) {
        sp_err_set(e, "year", "the year is required for the dirname");
        goto out;
    }
    if (!src) {
        sp_err_set(e, "source", "source must be RETAiL, SCAN or HYBRiD");
        goto out;
    }
    if (!lang) {
        sp_err_set(e, "language", "a known language is required for the dirname");
        goto out;
    }
    if (tags < 0) {
        sp_err_set(e, "tags", "unknown extra tag");
        goto out;
    }
    title = sp_dirname_words(v[SP_META_TITLE] ? v[SP_META_TITLE] : "");
    if (!*title) {
        sp_err_set(e, "title", "the title has no characters usable in a dirname");
        goto out;
    }

    const char *type_tag = NULL;
    switch (kind) {
    case SP_KIND_FICTION:
        add_text(&pre, v[SP_META_AUTHOR] ? v[SP_META_AUTHOR] : v[SP_META_PUBLISHER]);
        add_edition(&post, v[SP_META_EDITION]);
        break;
    case SP_KIND_TECHNICAL:
        add_text(&pre, v[SP_META_PUBLISHER] ? v[SP_META_PUBLISHER] : v[SP_META_AUTHOR]);
        add_edition(&post, v[SP_META_EDITION]);
        break;
    case SP_KIND_MAGAZINE:
        add_numbered(&post, "No", v[SP_META_ISSUE]);
        type_tag = "MAGAZiNE";
        break;
    case SP_KIND_COMIC:
    case SP_KIND_MANGA: {
        add_numbered(&post, "Vol", v[SP_META_VOLUME]);
        add_numbered(&post, "No", v[SP_META_ISSUE]);
        int mo = v[SP_META_MONTH] ? atoi(v[SP_META_MONTH]) : 0;
        const char *pd = v[SP_META_PUBLISH_DATE];
        if (!mo && pd && strlen(pd) == 10)
            mo = atoi(pd + 5);
        add_part(&post, sp_month_name(mo));
        type_tag = kind == SP_KIND_COMIC ? "COMiC" : "MANGA";
        break;
    }
    case SP_KIND_NEWSPAPER: {
        const char *pd = v[SP_META_PUBLISH_DATE];
        if (!pd || strlen(pd) != 10) {
            sp_err_set(e, "publish_date", "a newspaper needs its full publish_date");
            goto out;
        }
        char *d = sp_asprintf("%d.%s", atoi(pd + 8), sp_month_name(atoi(pd + 5)));
        add_part(&post, d);
        sp_free(d);
        break;
    }
    default:
        break;
    }
    /* the type tag is omitted when the word is already part of the title */
    if (type_tag) {
        const char *word = kind == SP_KIND_MAGAZINE ? "magazine"
                           : kind == SP_KIND_COMIC  ? "comic"
                                                    : "manga";
        if (has_word(title, word))
            type_tag = NULL;
    }

    sp_buf_printf(&tail, "%d", year);
    if (strcmp(lang->name, "English")) {
        char lt[32];
        sp_language_tag(lang, lt, sizeof lt);
        sp_buf_printf(&tail, ".%s", lt);
    }
    sp_buf_printf(&tail, ".%s", src);
    for (int bit = 1; bit <= SP_TAG_REPACK; bit <<= 1)
        if (tags & bit)
            sp_buf_printf(&tail, ".%s", sp_extra_tag_name(bit));
    if (type_tag)
        sp_buf_printf(&tail, ".%s", type_tag);
    if (sp_format_tag(format))
        sp_buf_printf(&tail, ".%s", sp_format_tag(format));
    sp_buf_printf(&tail, ".eBOOK-%s", group);

    size_t fixed = (pre.len ? pre.len + 1 : 0) + (post.len ? post.len + 1 : 0) + 1 + tail.len;
    if (fixed + strlen(title) > SP_DIRNAME_MAX) {
        if (fixed + 1 > SP_DIRNAME_MAX) {
            sp_err_set(e,
                       pre.len > post.len ? (kind == SP_KIND_TECHNICAL ? "publisher" : "author")
                                          : "edition",
                       "the name parts and tags leave no room for the title within %d characters",
                       SP_DIRNAME_MAX);
            goto out;
        }
        shorten_words(title, SP_DIRNAME_MAX - fixed);
    }
    add_part(&all, pre.data);
    add_part(&all, title);
    add_part(&all, post.data);
    add_part(&all, tail.data);
    if (all.len + 1 > outlen) {
        sp_err_set(e, "title", "dirname buffer too small");
        rc = SP_ERR;
        goto out;
    }
    struct sp_problems p = SP_PROBLEMS_INIT;
    if (sp_dirname_validate(all.data, NULL, NULL, &p)) {
        sp_err_set(e, "title", "the dirname '%s' breaks a rule: %s", all.data, p.items[0].message);
        sp_problems_free(&p);
        goto out;
    }
    sp_problems_free(&p);
    memcpy(out, all.data, all.len + 1);
    rc = SP_OK;
out:
    sp_free(title);
    sp_buf_free(&pre);
    sp_buf_free(&post);
    sp_buf_free(&tail);
    sp_buf_free(&all);
    return rc;
}

/* ---- validation ------------------------------------------------------------------------ */

enum { C_NONE, C_LANG, C_SOURCE, C_EXTRA, C_TYPE, C_FORMAT };

static const char *const cat_names[] = {"", "LANGUAGE", "SOURCE", "extra", "TYPE", "FORMAT"};
static const char *const sources[] = {"RETAiL", "SCAN", "HYBRiD"};
static const char *const type_tags[] = {"MAGAZiNE", "COMiC", "MANGA"};
static const char *const format_tags[] = {"ePUB", "CBZ", "KF8", "AZW", "MOBI", "PRC"};

/* Category of a token and its correct spelling (canon), matched in any letter case. */
static int classify(const char *tok, char *canon, size_t canonlen)
{
    for (size_t i = 0; i < SP_ARRAY_LEN(sources); i++)
        if (!strcasecmp(tok, sources[i]))
            return snprintf(canon, canonlen, "%s", sources[i]), C_SOURCE;
    for (int bit = 1; bit <= SP_TAG_REPACK; bit <<= 1)
        if (!strcasecmp(tok, sp_extra_tag_name(bit)))
            return snprintf(canon, canonlen, "%s", sp_extra_tag_name(bit)), C_EXTRA;
    for (size_t i = 0; i < SP_ARRAY_LEN(type_tags); i++)
        if (!strcasecmp(tok, type_tags[i]))
            return snprintf(canon, canonlen, "%s", type_tags[i]), C_TYPE;
    for (size_t i = 0; i < SP_ARRAY_LEN(format_tags); i++)
        if (!strcasecmp(tok, format_tags[i]))
            return snprintf(canon, canonlen, "%s", format_tags[i]), C_FORMAT;
    const struct sp_language *l = sp_language_by_tag_ci(tok);
    if (l) {
        sp_language_tag(l, canon, canonlen);
        return C_LANG;
    }
    return C_NONE;
}

static int is_year_tok(const char *t)
{
    return strlen(t) == 4 && all_digits(t) && atoi(t) >= 1000 && atoi(t) <= 2999;
}

size_t sp_dirname_validate(const char *name, const char *file, struct sp_dirname_info *info,
                           struct sp_problems *out)
{
    size_t before = out->n;
    struct sp_dirname_info tmp;
    if (!info)
        info = &tmp;
    memset(info, 0, sizeof *info);
    info->format = SP_FMT_PDF;
#define V(...) sp_problems_add(out, "dirname", file, __VA_ARGS__)
    size_t n = strlen(name);
    if (n == 0) {
        V("the dirname is empty");
        return out->n - before;
    }
    if (n > SP_DIRNAME_MAX)
        V("the dirname has %zu characters (at most %d)", n, SP_DIRNAME_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum(c) && !is_sep((char)c)) {
            if (c == ' ')
                V("the dirname contains a space (allowed: A-Z a-z 0-9 . _ -)");
            else if (c < 0x20 || c >= 0x7F)
                V("the dirname contains a non-ASCII or control byte 0x%02X at position %zu "
                  "(allowed: A-Z a-z 0-9 . _ -)",
                  c, i + 1);
            else
                V("the dirname contains '%c' at position %zu (allowed: A-Z a-z 0-9 . _ -)", c,
                  i + 1);
            break;
        }
    }
    if (is_sep(name[0]) || is_sep(name[n - 1]))
        V("the dirname must not start or end with '.', '_' or '-'");
    for (size_t i = 0; i + 1 < n; i++)
        if (is_sep(name[i]) && is_sep(name[i + 1])) {
            V("the dirname repeats separators ('%c%c' at position %zu)", name[i], name[i + 1],
              i + 1);
            break;
        }

    /* group */
    const char *mark = NULL;
    for (const char *p = name; (p = strstr(p, ".eBOOK-")); p++)
        mark = p;
    if (!mark) {
        const char *ci = NULL;
        for (const char *p = name; (p = strcasestr(p, ".ebook-")); p++)
            ci = p;
        if (ci) {
            V("the section tag must be spelt 'eBOOK', not '%.5s'", ci + 1);
            mark = ci;
        } else {
            V("the dirname must end with .eBOOK-<GROUP>");
            return out->n - before;
        }
    }
    snprintf(info->group, sizeof info->group, "%s", mark + 7);
    if (!sp_group_valid(mark + 7))
        V("the group '%.40s' is not a valid group name (2-30 of A-Z a-z 0-9 _ -)", mark + 7);

    /* tokens before .eBOOK- */
    size_t hlen = (size_t)(mark - name);
    char *head = sp_strndup(name, hlen);
    size_t cap = hlen / 2 + 2, nt = 0;
    char **tok = sp_mallocarray(cap, sizeof *tok);
    for (char *save = NULL, *t = strtok_r(head, ".", &save); t; t = strtok_r(NULL, ".", &save))
        if (nt < cap)
            tok[nt++] = t;

    /* the tag zone: the longest run of tags at the end */
    size_t zs = nt;
    char canon[32];
    while (zs > 0 && classify(tok[zs - 1], canon, sizeof canon) != C_NONE)
        zs--;
    int last = C_NONE, seen_source = 0, seen_lang = 0, seen_type = 0, seen_fmt = 0;
    for (size_t i = zs; i < nt; i++) {
        int c = classify(tok[i], canon, sizeof canon);
        if (strcmp(tok[i], canon))
            V("the tag '%s' must be spelt '%s'", tok[i], canon);
        if (c < last)
            V("the %s tag '%s' is out of order (order: year, LANGUAGE, SOURCE, extra tags, "
              "TYPE, FORMAT)",
              cat_names[c], canon);
        else
            last = c;
        switch (c) {
        case C_LANG:
            if (seen_lang++)
                V("more than one LANGUAGE tag");
            if (!strcmp(canon, "ENGLiSH"))
                V("no LANGUAGE tag for English releases ('%s')", tok[i]);
            snprintf(info->language, sizeof info->language, "%s", canon);
            break;
        case C_SOURCE:
            if (seen_source++)
                V("more than one SOURCE tag");
            snprintf(info->source, sizeof info->source, "%s", canon);
            break;
        case C_EXTRA: {
            int bit = 0;
            for (int b = 1; b <= SP_TAG_REPACK; b <<= 1)
                if (!strcmp(canon, sp_extra_tag_name(b)))
                    bit = b;
            if (info->tags & bit)
                V("the tag '%s' appears twice", canon);
            info->tags |= bit;
            break;
        }
        case C_TYPE:
            if (seen_type++)
                V("more than one TYPE tag");
            snprintf(info->type_tag, sizeof info->type_tag, "%s", canon);
            break;
        case C_FORMAT:
            if (seen_fmt++)
                V("more than one FORMAT tag");
            snprintf(info->format_tag, sizeof info->format_tag, "%s", canon);
            info->format = sp_format_by_tag(canon);
            break;
        default:
            break;
        }
    }
    if (!seen_source)
        V("the SOURCE tag (RETAiL, SCAN or HYBRiD) is missing after the year");
    size_t np = zs;
    if (zs > 0 && is_year_tok(tok[zs - 1])) {
        info->year = atoi(tok[zs - 1]);
        np = zs - 1;
    } else {
        V("the year (four digits) must stand right before the tags");
    }
    if (np == 0)
        V("the dirname has no name parts before the year");
    size_t w = 0;
    for (size_t i = 0; i < np; i++) {
        int c = classify(tok[i], canon, sizeof canon);
        if (c != C_NONE && !strcmp(tok[i], canon) && c != C_LANG)
            V("the %s tag '%s' stands among the name parts (tags go after the year)", cat_names[c],
              canon);
        int k = snprintf(info->parts + w, sizeof info->parts - w, "%s%s", i ? "." : "", tok[i]);
        if (k > 0 && (size_t)k < sizeof info->parts - w)
            w += (size_t)k;
    }
    sp_free(tok);
    sp_free(head);
#undef V
    return out->n - before;
}

/* ---- 8.3 names ------------------------------------------------------------------------- */

static const char b36[] = "0123456789abcdefghijklmnopqrstuvwxyz";

int sp_short_base(const char *dirname, int year, sp_base_taken_fn taken, void *ctx, char *out,
                  struct sp_err *e)
{
    struct sp_dirname_info info;
    struct sp_problems p = SP_PROBLEMS_INIT;
    sp_dirname_validate(dirname, NULL, &info, &p);
    sp_problems_free(&p);

    char base[SP_BASE_LEN + 1];
    size_t n = 0;
    const char *parts = info.parts;
    /* initials of the words */
    for (const char *s = parts; *s && n < SP_BASE_LEN;) {
        while (*s && !isalnum((unsigned char)*s))
            s++;
        if (*s)
            base[n++] = (char)tolower((unsigned char)*s);
        while (*s && isalnum((unsigned char)*s))
            s++;
    }
    /* then the other letters of the words, in order */
    for (const char *s = parts; *s && n < SP_BASE_LEN;) {
        while (*s && !isalnum((unsigned char)*s))
            s++;
        if (!*s)
            break;
        s++;
        while (*s && isalnum((unsigned char)*s) && n < SP_BASE_LEN)
            base[n++] = (char)tolower((unsigned char)*s++);
        while (*s && isalnum((unsigned char)*s))
            s++;
    }
    char yd[8];
    snprintf(yd, sizeof yd, "%04d", year % 10000);
    size_t need = SP_BASE_LEN - n;
    for (const char *d = yd + 4 - (need < 4 ? need : 4); *d && n < SP_BASE_LEN; d++)
        base[n++] = *d;
    while (n < SP_BASE_LEN)
        base[n++] = 'x';
    base[SP_BASE_LEN] = '\0';

    /* variant 0 is the natural base; then the last 2, then 3 characters count in base 36 */
    char cand[SP_BASE_LEN + 1];
    for (long i = 0; i < 1 + 36L * 36 + 36L * 36 * 36; i++) {
        memcpy(cand, base, sizeof cand);
        if (i > 0 && i <= 36L * 36) {
            long k = i - 1;
            cand[4] = b36[k / 36];
            cand[5] = b36[k % 36];
        } else if (i > 36L * 36) {
            long k = i - 1 - 36L * 36;
            cand[3] = b36[k / 1296];
            cand[4] = b36[(k / 36) % 36];
            cand[5] = b36[k % 36];
        }
        if (i > 0 && !strcmp(cand, base))
            continue;
        int t = taken ? taken(ctx, cand, year) : 0;
        if (t < 0) {
            sp_err_set(e, "", "cannot check whether the 8.3 name %s is taken", cand);
            return SP_ERR;
        }
        if (t == 0) {
            memcpy(out, cand, sizeof cand);
            return SP_OK;
        }
    }
    sp_err_set(e, "", "every 8.3 name variant of '%s' is taken in %d", base, year);
    return SP_CONFLICT;
}

void sp_payload_name(const char *dirname, const char *ext, char *out, size_t outlen)
{
    struct sp_dirname_info info;
    struct sp_problems p = SP_PROBLEMS_INIT;
    sp_dirname_validate(dirname, NULL, &info, &p);
    sp_problems_free(&p);
    char stem[300];
    if (info.year)
        snprintf(stem, sizeof stem, "%s%s%d", info.parts, *info.parts ? "." : "", info.year);
    else
        snprintf(stem, sizeof stem, "%s", *info.parts ? info.parts : "book");
    size_t limit = SP_PAYLOAD_NAME_MAX - 1 - strlen(ext);
    if (strlen(stem) > limit)
        shorten_words(stem, limit);
    snprintf(out, outlen, "%s.%s", stem, ext);
}
