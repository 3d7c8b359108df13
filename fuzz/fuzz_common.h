/*
 * fuzz_common.h — helpers shared by the libFuzzer drivers (header-only: each driver is its own
 * executable).
 *
 * Input conventions (the seed corpora in fuzz/corpus/ and fuzz/make_corpus.c follow them):
 *   - drivers that take several strings split the input on NUL bytes: field i is the i-th
 *     NUL-separated piece, already a C string (fz_fields);
 *   - drivers that need a file (the metadata readers open paths) get the bytes in a memfd and
 *     pass "/proc/self/fd/N": no disk I/O, nothing left behind (fz_memfile);
 *   - choices a driver makes (chunk sizes, flags) come from a PRNG seeded by the input, so a
 *     crashing input always replays the same way.
 * An invariant a driver checks is reported with fz_fail(): it prints the reason and aborts,
 * which libFuzzer records as a crash with the input that caused it.
 */
#ifndef SP_FUZZ_COMMON_H
#define SP_FUZZ_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/log.h"

/* The HS256 key of fuzz_jwt (32 bytes with the NUL); make_corpus signs its seed tokens with it. */
#define FZ_JWT_KEY "fuzz-key-0123456789abcdef-fuzz!"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant of the code under test does not hold: say which and abort (a libFuzzer crash). */
static inline void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static inline void fz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz invariant violated: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* Quiet logs: the code under test may warn on every bad input. */
static inline void fz_quiet(void)
{
    sp_log_set_level(SP_LOG_ERROR);
}

/* Up to max NUL-separated fields of data[0..size), as C strings. The fields point into one
 * heap copy (*buf, caller frees with sp_free). Returns the number of fields (≥ 1); missing
 * fields are set to "". */
static inline size_t fz_fields(const uint8_t *data, size_t size, char **fields, size_t max,
                               char **buf)
{
    char *copy = sp_malloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = '\0';
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= size && n < max; i++) {
        if (i == size || copy[i] == '\0') {
            fields[n++] = copy + start;
            start = i + 1;
        }
    }
    size_t got = n;
    while (n < max)
        fields[n++] = copy + size; /* "" */
    *buf = copy;
    return got;
}

/* A NUL-terminated heap copy of the whole input (embedded NULs cut the string short). */
static inline char *fz_cstr(const uint8_t *data, size_t size)
{
    char *s = sp_malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Deterministic PRNG seeded from the input (FNV-1a + xorshift64*). */
struct fz_rng {
    uint64_t s;
};

static inline void fz_rng_seed(struct fz_rng *r, const uint8_t *data, size_t size)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 1099511628211ull;
    r->s = h ? h : 0x9E3779B97F4A7C15ull;
}

static inline uint64_t fz_rng_next(struct fz_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ull;
}

/* 0 .. n-1 (n > 0). */
static inline size_t fz_rng_below(struct fz_rng *r, size_t n)
{
    return (size_t)(fz_rng_next(r) % n);
}

/* The input as a file: a memfd (created once, rewritten per input) and its /proc path. */
static inline const char *fz_memfile(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("sp-fuzz", MFD_CLOEXEC);
        if (fd < 0) {
            perror("memfd_create");
            abort();
        }
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) < 0) {
        perror("ftruncate");
        abort();
    }
    size_t done = 0;
    while (done < size) {
        ssize_t w = pwrite(fd, data + done, size - done, (off_t)done);
        if (w <= 0) {
            perror("pwrite");
            abort();
        }
        done += (size_t)w;
    }
    return path;
}

#endif
