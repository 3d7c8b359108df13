/*
 * fuzz_multipart.c — util/multipart.c, the streaming multipart/form-data parser.
 *
 * Input: "<Content-Type value>\n<body>". The boundary comes from the Content-Type through
 * sp_multipart_boundary (a fixed one when that refuses it, so the body is still parsed). The
 * body is parsed three times: in one feed, in random chunk sizes, and byte by byte (bodies up
 * to 8 KiB); the PRNG seeded by the input may also make one part_begin callback stop the parse.
 * Invariant: every split gives the same callbacks (part headers, the concatenated data of each
 * part, part ends), the same result, error message and part count — the parser's contract is
 * that chunking is invisible. Part header strings are NUL-terminated within their arrays.
 */
#include "fuzz_common.h"

#include "util/multipart.h"

struct run {
    uint64_t h;    /* FNV-1a over the callbacks: markers, header fields, part data */
    uint64_t data; /* part data bytes seen */
    int begins, ends;
    int stop_at; /* the part_begin call (1-based) that asks to stop; 0 never */
    int in_part;
};

static void hash(struct run *r, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        r->h = (r->h ^ b[i]) * 1099511628211ull;
}

/* A marker: the running data count goes in too, so data cannot pass for a marker. */
static void log_mark(struct run *r, char kind)
{
    hash(r, &kind, 1);
    hash(r, &r->data, sizeof r->data);
}

static int on_begin(void *ctx, const struct sp_multipart_part *p)
{
    struct run *r = ctx;
    if (r->in_part)
        fz_fail("part_begin while a part is open");
    if (strnlen(p->name, sizeof p->name) == sizeof p->name ||
        strnlen(p->filename, sizeof p->filename) == sizeof p->filename ||
        strnlen(p->content_type, sizeof p->content_type) == sizeof p->content_type)
        fz_fail("a part header field is not NUL-terminated");
    r->begins++;
    r->in_part = 1;
    log_mark(r, 'B');
    hash(r, p->name, strlen(p->name) + 1);
    hash(r, p->filename, strlen(p->filename) + 1);
    hash(r, &p->has_filename, sizeof p->has_filename);
    hash(r, p->content_type, strlen(p->content_type) + 1);
    return r->begins == r->stop_at;
}

static int on_data(void *ctx, const char *data, size_t n)
{
    struct run *r = ctx;
    if (!r->in_part)
        fz_fail("part_data outside a part");
    if (n == 0)
        fz_fail("part_data with no bytes");
    hash(r, data, n);
    r->data += n;
    return 0;
}

static int on_end(void *ctx)
{
    struct run *r = ctx;
    if (!r->in_part)
        fz_fail("part_end without part_begin");
    r->in_part = 0;
    r->ends++;
    log_mark(r, 'E');
    return 0;
}

/* chunk == 0: one feed; SIZE_MAX: random sizes from rng; else that size. */
static void parse(const char *boundary, const char *body, size_t n, size_t chunk,
                  struct fz_rng *rng, struct run *r, int *rc, char *err, size_t errlen, int *parts)
{
    struct sp_multipart_cbs cbs = {on_begin, on_data, on_end, r};
    struct sp_multipart *mp = sp_multipart_new(boundary, &cbs);
    size_t i = 0;
    while (i < n) {
        size_t take = n - i;
        if (chunk == SIZE_MAX)
            take = 1 + fz_rng_below(rng, fz_rng_below(rng, 4) ? 16 : 4096);
        else if (chunk)
            take = chunk;
        if (take > n - i)
            take = n - i;
        sp_multipart_feed(mp, body + i, take); /* feeds after a failure must be ignored */
        i += take;
    }
    if (n == 0)
        sp_multipart_feed(mp, body, 0);
    *rc = sp_multipart_finish(mp);
    snprintf(err, errlen, "%s", sp_multipart_error(mp));
    *parts = sp_multipart_parts(mp);
    sp_multipart_free(mp);
    /* a body of only the closing delimiter is accepted with no part; the upload layer then
     * refuses it for lacking the "file" part */
    if (*rc == SP_OK && (r->in_part || r->begins != r->ends))
        fz_fail("finish said OK with %d parts begun, %d ended", r->begins, r->ends);
    if (*parts != r->begins)
        fz_fail("sp_multipart_parts = %d but %d part_begin callbacks", *parts, r->begins);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_quiet();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 512 * 1024)
        return 0;
    const uint8_t *nl = memchr(data, '\n', size < 512 ? size : 512);
    size_t ctlen = nl ? (size_t)(nl - data) : 0;
    char *ct = fz_cstr(data, ctlen);
    const char *body = (const char *)data + (nl ? ctlen + 1 : 0);
    size_t n = size - (size_t)(body - (const char *)data);

    char boundary[SP_MULTIPART_BOUNDARY_MAX + 1];
    if (sp_multipart_boundary(ct, boundary, sizeof boundary) == SP_OK) {
        size_t bl = strlen(boundary);
        if (bl == 0 || bl > SP_MULTIPART_BOUNDARY_MAX)
            fz_fail("sp_multipart_boundary(\"%s\") gave a %zu-byte boundary", ct, bl);
    } else {
        snprintf(boundary, sizeof boundary, "%s", "fuzzbound");
    }

    struct fz_rng rng;
    fz_rng_seed(&rng, data, size);
    int stop_at = fz_rng_below(&rng, 8) == 0 ? 1 + (int)fz_rng_below(&rng, 3) : 0;

    struct run ref = {1469598103934665603ull, 0, 0, 0, stop_at, 0};
    int ref_rc, ref_parts;
    char ref_err[256];
    parse(boundary, body, n, 0, &rng, &ref, &ref_rc, ref_err, sizeof ref_err, &ref_parts);

    for (int mode = 0; mode < 2; mode++) {
        if (mode == 1 && n > 8192)
            break;
        struct run r = {1469598103934665603ull, 0, 0, 0, stop_at, 0};
        int rc, parts;
        char err[256];
        parse(boundary, body, n, mode == 0 ? SIZE_MAX : 1, &rng, &r, &rc, err, sizeof err, &parts);
        if (rc != ref_rc || parts != ref_parts || strcmp(err, ref_err) != 0 || r.h != ref.h ||
            r.data != ref.data)
            fz_fail("chunking changes the parse (%s): rc %d vs %d, parts %d vs %d, "
                    "error \"%s\" vs \"%s\", %llu vs %llu data bytes, callbacks differ: %d",
                    mode == 0 ? "random chunks" : "byte by byte", rc, ref_rc, parts, ref_parts, err,
                    ref_err, (unsigned long long)r.data, (unsigned long long)ref.data,
                    r.h != ref.h);
    }
    sp_free(ct);
    return 0;
}
