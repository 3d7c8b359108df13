#include "domain/diz.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "domain/text.h"
#include "util/alloc.h"

#define INNER (SP_DIZ_WIDTH - 4) /* "| " + text + " |" */

static void boxed(struct sp_buf *out, const char *text, size_t n)
{
    size_t left = (INNER - n) / 2, right = INNER - n - left;
    sp_buf_puts(out, "| ");
    for (size_t i = 0; i < left; i++)
        sp_buf_putc(out, ' ');
    sp_buf_append(out, text, n);
    for (size_t i = 0; i < right; i++)
        sp_buf_putc(out, ' ');
    sp_buf_puts(out, " |\r\n");
}

/* Wrap ASCII text into centred box lines, at most max_lines (the last cut with "..."). */
static void boxed_wrapped(struct sp_buf *out, const char *text, int max_lines)
{
    size_t n = strlen(text), pos = 0;
    int lines = 0;
    while (pos < n && lines < max_lines) {
        while (pos < n && text[pos] == ' ')
            pos++;
        if (pos >= n)
            break;
        size_t take = n - pos;
        if (take > INNER) {
            take = 0;
            for (size_t i = pos + INNER; i > pos; i--)
                if (text[i] == ' ') {
                    take = i - pos;
                    break;
                }
            if (take == 0)
                take = INNER;
        }
        if (lines + 1 == max_lines && pos + take < n) {
            char cut[INNER + 1];
            size_t k = take > INNER - 3 ? INNER - 3 : take;
            memcpy(cut, text + pos, k);
            memcpy(cut + k, "...", 3);
            boxed(out, cut, k + 3);
            return;
        }
        boxed(out, text + pos, take);
        pos += take;
        lines++;
    }
}

void sp_diz_render(const struct sp_meta *m, const char *format, const char *group, int disk,
                   int disks, struct sp_buf *out)
{
    char rule[SP_DIZ_WIDTH + 1];
    memset(rule, '-', SP_DIZ_WIDTH);
    rule[0] = rule[SP_DIZ_WIDTH - 1] = '+';
    rule[SP_DIZ_WIDTH] = '\0';
    char line[64];

    sp_buf_printf(out, "%s\r\n", rule);
    char *g = sp_text_ascii(group ? group : "");
    int k = snprintf(line, sizeof line, "-=[ %.30s ]=-", g);
    sp_free(g);
    boxed(out, line, (size_t)k);
    boxed(out, "", 0);
    const char *author = sp_meta_get(m, SP_META_AUTHOR);
    if (!author)
        author = sp_meta_get(m, SP_META_PUBLISHER);
    if (author) {
        char *a = sp_text_ascii(author);
        boxed_wrapped(out, a, 4);
        sp_free(a);
    }
    const char *title = sp_meta_get(m, SP_META_TITLE);
    struct sp_buf t = SP_BUF_INIT;
    sp_buf_puts(&t, title ? title : "");
    const char *vol = sp_meta_get(m, SP_META_VOLUME), *iss = sp_meta_get(m, SP_META_ISSUE);
    const char *ed = sp_meta_get(m, SP_META_EDITION);
    if (vol)
        sp_buf_printf(&t, " Vol. %s", vol);
    if (iss)
        sp_buf_printf(&t, " No. %s", iss);
    if (ed)
        sp_buf_printf(&t, " (%s)", ed);
    char *ta = sp_text_ascii(t.data ? t.data : "");
    boxed_wrapped(out, ta, 12);
    sp_free(ta);
    sp_buf_free(&t);
    boxed(out, "", 0);

    const char *lang = sp_meta_get(m, SP_META_LANGUAGE), *src = sp_meta_get(m, SP_META_SOURCE);
    char *la = sp_text_ascii(lang ? lang : "");
    k = snprintf(line, sizeof line, "%d - %.12s - %.8s - %.6s", sp_meta_year(m), la, src ? src : "",
                 format ? format : "");
    sp_free(la);
    boxed(out, line, (size_t)k < INNER ? (size_t)k : INNER);
    boxed(out, "", 0);
    k = snprintf(line, sizeof line, "DISK: [%02d/%02d]", disk % 100, disks % 100);
    boxed(out, line, (size_t)k);
    sp_buf_printf(out, "%s\r\n", rule);
}

/* The disk counter of a DIZ: the last well-formed "DISK: [xx/yy]" (any case) in s[0..n), as
 * *xx and *yy; both stay -1 when there is none. The last one, because the counter closes the DIZ
 * (sp_diz_render puts it below everything else) while the title, author and other text above it
 * may hold the same words, even a whole counter of their own. */
static void disk_counter(const unsigned char *s, size_t n, int *xx, int *yy)
{
    static const char mark[] = "disk: [";
    enum { ML = sizeof mark - 1, LEN = ML + 6 }; /* "DISK: [" "xx/yy]" */
    for (size_t i = n >= LEN ? n - LEN + 1 : 0; i-- > 0;) {
        const unsigned char *d = s + i;
        size_t k = 0;
        while (k < ML && (d[k] | (d[k] >= 'A' && d[k] <= 'Z' ? 0x20 : 0)) == mark[k])
            k++;
        if (k < ML)
            continue;
        d += ML;
        if (d[0] >= '0' && d[0] <= '9' && d[1] >= '0' && d[1] <= '9' && d[2] == '/' &&
            d[3] >= '0' && d[3] <= '9' && d[4] >= '0' && d[4] <= '9' && d[5] == ']') {
            *xx = (d[0] - '0') * 10 + d[1] - '0';
            *yy = (d[3] - '0') * 10 + d[4] - '0';
            return;
        }
    }
}

size_t sp_diz_check(const unsigned char *s, size_t n, const char *group, int disk, int disks,
                    const char *file, struct sp_problems *out)
{
    size_t before = out->n;
#define V(...) sp_problems_add(out, "diz", file, __VA_ARGS__)
    int non_ascii = 0;
    size_t lines = 0, col = 0, widest = 0, widest_line = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == '\n') {
            lines++;
            col = 0;
            continue;
        }
        if (c == '\r')
            continue;
        if (c >= 0x80 || (c < 0x20 && c != '\t') || c == 0x7F)
            non_ascii++;
        col++;
        if (col > widest) {
            widest = col;
            widest_line = lines + 1;
        }
    }
    if (n > 0 && s[n - 1] != '\n')
        lines++;
    if (non_ascii)
        V("FILE_ID.DIZ must be plain ASCII (%d other byte%s)", non_ascii, non_ascii > 1 ? "s" : "");
    if (widest > SP_DIZ_WIDTH)
        V("FILE_ID.DIZ line %zu is %zu columns wide (at most %d)", widest_line, widest,
          SP_DIZ_WIDTH);
    if (lines > SP_DIZ_LINES)
        V("FILE_ID.DIZ has %zu lines (at most %d)", lines, SP_DIZ_LINES);
    int xx = -1, yy = -1;
    disk_counter(s, n, &xx, &yy);
    if (xx < 0)
        V("FILE_ID.DIZ lacks the disk counter 'DISK: [xx/yy]'");
    else if (disks > 0 && (xx != disk || yy != disks))
        V("FILE_ID.DIZ says DISK: [%02d/%02d] but this is volume %02d of %02d", xx, yy, disk,
          disks);
    char *text = sp_strndup((const char *)s, n);
    if (group && *group && !strcasestr(text, group))
        V("FILE_ID.DIZ does not name the group %s", group);
    sp_free(text);
#undef V
    return out->n - before;
}
