#include "util/log.h"
#include "util/buf.h"
#include "util/time.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static atomic_int log_level = SP_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void sp_log_set_level(int level)
{
    if (level >= SP_LOG_DEBUG && level <= SP_LOG_ERROR)
        atomic_store(&log_level, level);
}

int sp_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (s && strcasecmp(s, level_names[i]) == 0)
            return i;
    if (s && strcasecmp(s, "warning") == 0)
        return SP_LOG_WARN;
    return -1;
}

int sp_log_enabled(int level)
{
    return level >= atomic_load(&log_level);
}

void sp_log_raw(const char *line, size_t len)
{
    /* one write per line: atomic for pipes/files up to PIPE_BUF, and in practice beyond */
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, line, len);
        if (n <= 0)
            return;
        line += n;
        len -= (size_t)n;
    }
}

static void start_line(struct sp_buf *b, int level, const char *msg)
{
    char ts[40];
    sp_time_rfc3339_ms(sp_time_now_ms(), ts, sizeof ts);
    sp_buf_puts(b, "{\"ts\":\"");
    sp_buf_puts(b, ts);
    sp_buf_puts(b, "\",\"level\":\"");
    sp_buf_puts(b, level_names[level]);
    sp_buf_puts(b, "\",\"msg\":");
    sp_buf_json_str(b, msg);
}

void sp_log(int level, const char *msg, const char *fmt, ...)
{
    if (!sp_log_enabled(level))
        return;
    struct sp_buf b = SP_BUF_INIT;
    start_line(&b, level, msg);
    if (fmt && *fmt) {
        struct sp_buf d = SP_BUF_INIT;
        va_list ap;
        va_start(ap, fmt);
        sp_buf_vprintf(&d, fmt, ap);
        va_end(ap);
        sp_buf_puts(&b, ",\"detail\":");
        sp_buf_json_str(&b, d.data ? d.data : "");
        sp_buf_free(&d);
    }
    sp_buf_puts(&b, "}\n");
    sp_log_raw(b.data, b.len);
    sp_buf_free(&b);
}

void sp_log_j(int level, const char *msg, json_t *fields)
{
    if (!sp_log_enabled(level)) {
        json_decref(fields);
        return;
    }
    struct sp_buf b = SP_BUF_INIT;
    start_line(&b, level, msg);
    if (fields && json_object_size(fields) > 0) {
        char *s = json_dumps(fields, JSON_COMPACT);
        if (s && s[0] == '{' && s[1] != '}') {
            sp_buf_putc(&b, ',');
            sp_buf_puts(&b, s + 1); /* drop the opening brace; keep the closing one */
            b.len--;                /* ...then drop the closing brace, re-added below */
            b.data[b.len] = '\0';
        }
        free(s);
    }
    json_decref(fields);
    sp_buf_puts(&b, "}\n");
    sp_log_raw(b.data, b.len);
    sp_buf_free(&b);
}
