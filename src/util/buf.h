/*
 * buf.h — a growable byte buffer (always NUL-terminated for convenience).
 */
#ifndef SP_BUF_H
#define SP_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct sp_buf {
    char *data; /* NUL-terminated; NULL until first append */
    size_t len;
    size_t cap;
};

#define SP_BUF_INIT {NULL, 0, 0}

void sp_buf_reserve(struct sp_buf *b, size_t extra);
void sp_buf_append(struct sp_buf *b, const void *data, size_t n);
void sp_buf_puts(struct sp_buf *b, const char *s);
void sp_buf_putc(struct sp_buf *b, char c);
void sp_buf_printf(struct sp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sp_buf_vprintf(struct sp_buf *b, const char *fmt, va_list ap);
/* Append s as a JSON string literal including the quotes. */
void sp_buf_json_str(struct sp_buf *b, const char *s);
void sp_buf_reset(struct sp_buf *b);
/* Hand the heap string to the caller (may be NULL if empty and never grown) and reset. */
char *sp_buf_steal(struct sp_buf *b);
void sp_buf_free(struct sp_buf *b);

#endif
