#include "domain/text.h"

#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/common.h"

int sp_utf8_next(const char *str, size_t n, size_t *i, uint32_t *cp)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t p = *i;
    unsigned char c = s[p];
    if (c < 0x80) {
        *cp = c;
        *i = p + 1;
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if ((c & 0xE0) == 0xC0) {
        len = 2, v = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, v = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        goto bad;
    }
    if (p + len > n)
        goto bad;
    for (size_t k = 1; k < len; k++) {
        if ((s[p + k] & 0xC0) != 0x80)
            goto bad;
        v = (v << 6) | (s[p + k] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        goto bad;
    *cp = v;
    *i = p + len;
    return 1;
bad:
    *cp = 0xFFFD;
    *i = p + 1;
    return 0;
}

void sp_utf8_put(struct sp_buf *b, uint32_t cp)
{
    char o[4];
    if (cp < 0x80) {
        o[0] = (char)cp;
        sp_buf_append(b, o, 1);
    } else if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        sp_buf_append(b, o, 2);
    } else if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        sp_buf_append(b, o, 3);
    } else {
        o[0] = (char)(0xF0 | (cp >> 18));
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (char)(0x80 | (cp & 0x3F));
        sp_buf_append(b, o, 4);
    }
}

/* The buffer's string, or "" when nothing was appended (reserve alone leaves no NUL). */
static char *text_out(struct sp_buf *b)
{
    if (b->len)
        return sp_buf_steal(b);
    sp_buf_free(b);
    return sp_strdup("");
}

/* U+00A0..U+00FF. Symbols a title does not need (currency, §, ¶, °, ¬) have no entry. */
static const char *const latin1[96] = {
    " ",  "!",  "c", NULL, NULL, NULL, "|",  NULL, "",  "(c)", "a", "\"", NULL,  "",    "(R)", "-",
    NULL, "+-", "2", "3",  "'",  "u",  NULL, ".",  ",", "1",   "o", "\"", "1/4", "1/2", "3/4", "?",
    "A",  "A",  "A", "A",  "A",  "A",  "AE", "C",  "E", "E",   "E", "E",  "I",   "I",   "I",   "I",
    "D",  "N",  "O", "O",  "O",  "O",  "O",  "x",  "O", "U",   "U", "U",  "U",   "Y",   "TH",  "ss",
    "a",  "a",  "a", "a",  "a",  "a",  "ae", "c",  "e", "e",   "e", "e",  "i",   "i",   "i",   "i",
    "d",  "n",  "o", "o",  "o",  "o",  "o",  "/",  "o", "u",   "u", "u",  "u",   "y",   "th",  "y",
};

/* U+0100..U+017F, Latin Extended-A. */
static const char *const latin_ext_a[128] = {
    "A", "a", "A",  "a",  "A", "a", "C", "c", "C", "c", "C", "c", "C", "c", "D", "d",
    "D", "d", "E",  "e",  "E", "e", "E", "e", "E", "e", "E", "e", "G", "g", "G", "g",
    "G", "g", "G",  "g",  "H", "h", "H", "h", "I", "i", "I", "i", "I", "i", "I", "i",
    "I", "i", "IJ", "ij", "J", "j", "K", "k", "k", "L", "l", "L", "l", "L", "l", "L",
    "l", "L", "l",  "N",  "n", "N", "n", "N", "n", "n", "N", "n", "O", "o", "O", "o",
    "O", "o", "OE", "oe", "R", "r", "R", "r", "R", "r", "S", "s", "S", "s", "S", "s",
    "S", "s", "T",  "t",  "T", "t", "T", "t", "U", "u", "U", "u", "U", "u", "U", "u",
    "U", "u", "U",  "u",  "W", "w", "Y", "y", "Y", "Z", "z", "Z", "z", "Z", "z", "s",
};

/* U+0410..U+044F, Cyrillic А..я (scholarly-simple romanisation). */
static const char *const cyrillic[64] = {
    "A", "B", "V", "G", "D", "E",  "Zh", "Z",  "I",  "Y",    "K", "L", "M", "N", "O",  "P",
    "R", "S", "T", "U", "F", "Kh", "Ts", "Ch", "Sh", "Shch", "",  "Y", "",  "E", "Yu", "Ya",
    "a", "b", "v", "g", "d", "e",  "zh", "z",  "i",  "y",    "k", "l", "m", "n", "o",  "p",
    "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "",  "y", "",  "e", "yu", "ya",
};

struct tr {
    uint32_t cp;
    const char *s;
};

/* Everything else, sorted by code point for bsearch. */
static const struct tr misc[] = {
    {0x0192, "f"},   {0x0218, "S"},  {0x0219, "s"},   {0x021A, "T"}, {0x021B, "t"},  {0x02BC, "'"},
    {0x02C6, "^"},   {0x02DC, "~"},  {0x0401, "E"},   {0x0451, "e"}, {0x1E9E, "SS"}, {0x2000, " "},
    {0x2001, " "},   {0x2002, " "},  {0x2003, " "},   {0x2004, " "}, {0x2005, " "},  {0x2006, " "},
    {0x2007, " "},   {0x2008, " "},  {0x2009, " "},   {0x200A, " "}, {0x200B, ""},   {0x200C, ""},
    {0x200D, ""},    {0x2010, "-"},  {0x2011, "-"},   {0x2012, "-"}, {0x2013, "-"},  {0x2014, "-"},
    {0x2015, "-"},   {0x2018, "'"},  {0x2019, "'"},   {0x201A, ","}, {0x201B, "'"},  {0x201C, "\""},
    {0x201D, "\""},  {0x201E, "\""}, {0x201F, "\""},  {0x2020, "+"}, {0x2021, "+"},  {0x2022, "*"},
    {0x2024, "."},   {0x2025, ".."}, {0x2026, "..."}, {0x202F, " "}, {0x2030, "%"},  {0x2032, "'"},
    {0x2033, "\""},  {0x2039, "<"},  {0x203A, ">"},   {0x2044, "/"}, {0x205F, " "},  {0x2060, ""},
    {0x20AC, "EUR"}, {0x2122, "TM"}, {0x2212, "-"},   {0x3000, " "}, {0xFEFF, ""},
};

static int tr_cmp(const void *k, const void *e)
{
    uint32_t a = *(const uint32_t *)k, b = ((const struct tr *)e)->cp;
    return a < b ? -1 : a > b;
}

const char *sp_translit(uint32_t cp)
{
    if (cp >= 0xA0 && cp <= 0xFF)
        return latin1[cp - 0xA0];
    if (cp >= 0x100 && cp <= 0x17F)
        return latin_ext_a[cp - 0x100];
    if (cp >= 0x410 && cp <= 0x44F)
        return cyrillic[cp - 0x410];
    const struct tr *t = bsearch(&cp, misc, SP_ARRAY_LEN(misc), sizeof misc[0], tr_cmp);
    return t ? t->s : NULL;
}

char *sp_text_ascii(const char *utf8)
{
    struct sp_buf b = SP_BUF_INIT;
    size_t n = strlen(utf8), i = 0;
    sp_buf_reserve(&b, n);
    while (i < n) {
        uint32_t cp;
        sp_utf8_next(utf8, n, &i, &cp);
        if (cp < 0x80) {
            sp_buf_putc(&b, (cp < 0x20 || cp == 0x7F) ? ' ' : (char)cp);
        } else {
            const char *t = sp_translit(cp);
            if (t)
                sp_buf_puts(&b, t);
        }
    }
    char *out = text_out(&b);
    return sp_text_squash(out);
}

static const uint16_t cp1252_hi[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

char *sp_text_cp1252_to_utf8(const unsigned char *s, size_t n)
{
    struct sp_buf b = SP_BUF_INIT;
    sp_buf_reserve(&b, n);
    for (size_t i = 0; i < n; i++) {
        unsigned c = s[i];
        if (c == 0)
            continue;
        if (c >= 0x80 && c < 0xA0) {
            if (cp1252_hi[c - 0x80])
                sp_utf8_put(&b, cp1252_hi[c - 0x80]);
        } else {
            sp_utf8_put(&b, c);
        }
    }
    return text_out(&b);
}

char *sp_text_clean_utf8(const char *s, size_t n)
{
    struct sp_buf b = SP_BUF_INIT;
    sp_buf_reserve(&b, n);
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        if (!sp_utf8_next(s, n, &i, &cp) || cp == 0)
            continue;
        if ((cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0x7F || (cp >= 0x80 && cp < 0xA0))
            cp = ' ';
        sp_utf8_put(&b, cp);
    }
    return text_out(&b);
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char *sp_text_squash(char *s)
{
    char *w = s;
    int pending = 0;
    for (const char *r = s; *r; r++) {
        if (is_space((unsigned char)*r)) {
            pending = w != s;
            continue;
        }
        if (pending)
            *w++ = ' ';
        pending = 0;
        *w++ = *r;
    }
    *w = '\0';
    return s;
}

size_t sp_utf8_len(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80)
            n++;
    return n;
}
