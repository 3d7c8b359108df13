#include "util/buf.h"
#include "util/alloc.h"

#include <stdio.h>
#include <string.h>

void sp_buf_reserve(struct sp_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = sp_realloc(b->data, cap);
    b->cap = cap;
}

void sp_buf_append(struct sp_buf *b, const void *data, size_t n)
{
    sp_buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sp_buf_puts(struct sp_buf *b, const char *s)
{
    sp_buf_append(b, s, strlen(s));
}

void sp_buf_putc(struct sp_buf *b, char c)
{
    sp_buf_append(b, &c, 1);
}

void sp_buf_vprintf(struct sp_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n <= 0)
        return;
    sp_buf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void sp_buf_printf(struct sp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sp_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void sp_buf_json_str(struct sp_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    sp_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        unsigned char c = *p;
        switch (c) {
        case '"': sp_buf_append(b, "\\\"", 2); break;
        case '\\': sp_buf_append(b, "\\\\", 2); break;
        case '\n': sp_buf_append(b, "\\n", 2); break;
        case '\r': sp_buf_append(b, "\\r", 2); break;
        case '\t': sp_buf_append(b, "\\t", 2); break;
        default:
            if (c < 0x20) {
                char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                sp_buf_append(b, esc, 6);
            } else {
                sp_buf_putc(b, (char)c);
            }
        }
    }
    sp_buf_putc(b, '"');
}

void sp_buf_reset(struct sp_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *sp_buf_steal(struct sp_buf *b)
{
    char *d = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}

void sp_buf_free(struct sp_buf *b)
{
    sp_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
