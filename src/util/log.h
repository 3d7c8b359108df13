/*
 * log.h — structured JSON logs, one line per event on stderr.
 *
 * Level comes from SP_LOG_LEVEL (debug|info|warn|error; default info) via sp_log_set_level().
 * Lines are written with a single write(2) so concurrent threads never interleave.
 */
#ifndef SP_LOG_H
#define SP_LOG_H

#include <jansson.h>

enum sp_log_level { SP_LOG_DEBUG = 0, SP_LOG_INFO, SP_LOG_WARN, SP_LOG_ERROR };

void sp_log_set_level(int level);
/* Parse "debug"/"info"/"warn"/"error"; returns -1 when unknown. */
int sp_log_level_parse(const char *s);
int sp_log_enabled(int level);
/* Log msg plus printf-formatted text (goes to the "detail" field). */
void sp_log(int level, const char *msg, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Log msg plus the members of `fields` (a JSON object; reference stolen, may be NULL). */
void sp_log_j(int level, const char *msg, json_t *fields);
/* Write an already-formatted JSON line (no trailing newline needed) atomically. */
void sp_log_raw(const char *line, size_t len);

#define sp_debug(...) sp_log(SP_LOG_DEBUG, __VA_ARGS__)
#define sp_info(...) sp_log(SP_LOG_INFO, __VA_ARGS__)
#define sp_warn(...) sp_log(SP_LOG_WARN, __VA_ARGS__)
#define sp_error(...) sp_log(SP_LOG_ERROR, __VA_ARGS__)

#endif
