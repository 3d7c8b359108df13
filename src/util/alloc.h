/*
 * alloc.h — allocation that never returns NULL (as Redis zmalloc, Kore kore_malloc).
 *
 * On out-of-memory these log one line and abort: there are no untested OOM branches in the
 * callers. sp_mallocarray/sp_reallocarray check n*size for overflow the same way.
 */
#ifndef SP_ALLOC_H
#define SP_ALLOC_H

#include <stddef.h>

void *sp_malloc(size_t n);
void *sp_calloc(size_t n, size_t size);
void *sp_realloc(void *p, size_t n);
void *sp_mallocarray(size_t n, size_t size);
void *sp_reallocarray(void *p, size_t n, size_t size);
char *sp_strdup(const char *s);
char *sp_strndup(const char *s, size_t n);
/* printf into a new heap string (caller frees). */
char *sp_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sp_free(void *p);

#endif
