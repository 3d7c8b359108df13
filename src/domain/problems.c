#include "domain/problems.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/alloc.h"

void sp_problems_add(struct sp_problems *p, const char *field, const char *file, const char *fmt,
                     ...)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->items = sp_reallocarray(p->items, p->cap, sizeof *p->items);
    }
    struct sp_problem *it = &p->items[p->n++];
    snprintf(it->field, sizeof it->field, "%s", field ? field : "");
    snprintf(it->file, sizeof it->file, "%s", file ? file : "");
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = sp_strdup("(message lost: out of memory)");
    va_end(ap);
    it->message = msg;
}

void sp_problems_free(struct sp_problems *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->items[i].message);
    sp_free(p->items);
    p->items = NULL;
    p->n = p->cap = 0;
}
