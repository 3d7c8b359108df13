/*
 * time.h — clocks and RFC 3339 timestamps (UTC, with Z).
 */
#ifndef SP_TIME_H
#define SP_TIME_H

#include <stddef.h>
#include <stdint.h>

/* Wall clock, milliseconds / seconds since the epoch. */
int64_t sp_time_now_ms(void);
int64_t sp_time_now(void);
/* Monotonic clock in nanoseconds (for durations). */
int64_t sp_time_mono_ns(void);
/* "2026-11-27T11:41:06Z" from epoch seconds. out must hold 21+ bytes. */
void sp_time_rfc3339(int64_t epoch_s, char *out, size_t outlen);
/* "2026-11-27T11:41:06.123Z" from epoch milliseconds. */
void sp_time_rfc3339_ms(int64_t epoch_ms, char *out, size_t outlen);
/* Parse RFC 3339 (Z or ±hh:mm offset, optional fraction) or a plain YYYY-MM-DD date.
 * Returns 0 and sets *epoch_s, or -1 when malformed or out of range. */
int sp_time_parse(const char *s, int64_t *epoch_s);
/* Validate an ISO calendar date YYYY-MM-DD (real day of a real month). */
int sp_time_valid_date(const char *s);

#endif
