/* test_multipart.c — util/multipart.c: parts and their bytes come out identical whatever the chunk
 * split, bytes that look like the start of a boundary stay data, the boundary parameter is read
 * per RFC 2046, filename* is decoded, and malformed or truncated bodies are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/alloc.h"
#include "util/buf.h"
#include "util/common.h"
#include "util/multipart.h"

#define MAXPARTS 8

struct got {
    int nparts, ended;
    struct sp_multipart_part part[MAXPARTS];
    struct sp_buf data[MAXPARTS];
    int stop_after_bytes; /* >0: ask to stop once this many bytes arrived */
    size_t total;
};

static int on_begin(void *ctx, const struct sp_multipart_part *p)
{
    struct got *g = ctx;
    assert_true(g->nparts < MAXPARTS);
    g->part[g->nparts++] = *p;
    return 0;
}

static int on_data(void *ctx, const char *d, size_t n)
{
    struct got *g = ctx;
    assert_true(g->nparts > 0);
    sp_buf_append(&g->data[g->nparts - 1], d, n);
    g->total += n;
    return g->stop_after_bytes && g->total >= (size_t)g->stop_after_bytes;
}

static int on_end(void *ctx)
{
    struct got *g = ctx;
    g->ended++;
    return 0;
}

static void got_free(struct got *g)
{
    for (int i = 0; i < MAXPARTS; i++)
        sp_buf_free(&g->data[i]);
}

/* Parse body in chunks of `chunk` bytes (0 = all at once); returns finish()'s result. */
static int parse(const char *boundary, const char *body, size_t len, size_t chunk, struct got *g)
{
    struct sp_multipart_cbs cbs = {on_begin, on_data, on_end, g};
    struct sp_multipart *mp = sp_multipart_new(boundary, &cbs);
    int rc = SP_OK;
    if (!chunk)
        chunk = len ? len : 1;
    for (size_t off = 0; off < len && rc == SP_OK; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        rc = sp_multipart_feed(mp, body + off, n);
    }
    if (rc == SP_OK)
        rc = sp_multipart_finish(mp);
    sp_multipart_free(mp);
    return rc;
}

static const char form[] =
    "preamble to ignore\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"title\"\r\n"
    "\r\n"
    "Les Misérables\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"a b.epub\"\r\n"
    "Content-Type: application/epub+zip\r\n"
    "\r\n"
    "PK\x03\x04 data\r\n--Xy not yet\r\n--XyQ? still data\r\r\n-\r\n"
    "\r\n"
    "--XyZ--\r\n"
    "epilogue to ignore";

static void check_form(struct got *g)
{
    assert_int_equal(g->nparts, 2);
    assert_int_equal(g->ended, 2);
    assert_string_equal(g->part[0].name, "title");
    assert_false(g->part[0].has_filename);
    assert_int_equal(g->data[0].len, strlen("Les Misérables"));
    assert_memory_equal(g->data[0].data, "Les Misérables", g->data[0].len);
    assert_string_equal(g->part[1].name, "file");
    assert_true(g->part[1].has_filename);
    assert_string_equal(g->part[1].filename, "a b.epub");
    assert_string_equal(g->part[1].content_type, "application/epub+zip");
    static const char want[] = "PK\x03\x04 data\r\n--Xy not yet\r\n--XyQ? still data\r\r\n-\r\n";
    assert_int_equal(g->data[1].len, sizeof want - 1);
    assert_memory_equal(g->data[1].data, want, sizeof want - 1);
}

static void test_every_chunk_size(void **state)
{
    (void)state;
    size_t len = sizeof form - 1;
    for (size_t chunk = 0; chunk <= len; chunk++) {
        struct got g = {0};
        assert_int_equal(parse("XyZ", form, len, chunk, &g), SP_OK);
        check_form(&g);
        got_free(&g);
    }
}

/* Deterministic pseudo-random bytes rich in CR, LF and '-' (the delimiter's bytes). */
static void noisy(char *buf, size_t n, uint32_t seed)
{
    static const char alphabet[] = "\r\n-\r-B\nbx\r\n--b";
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] =
            (seed >> 16) % 3 ? alphabet[(seed >> 8) % (sizeof alphabet - 1)] : (char)(seed >> 24);
    }
}

static void test_binary_payload_survives(void **state)
{
    (void)state;
    const char *boundary = "bnd--b";
    size_t plen = 300000;
    char *payload = sp_malloc(plen);
    noisy(payload, plen, 7);
    /* the payload must not contain the delimiter itself */
    assert_null(memmem(payload, plen, "\r\n--bnd--b", 10));
    struct sp_buf body = SP_BUF_INIT;
    sp_buf_printf(&body,
                  "--%s\r\nContent-Disposition: form-data; name=\"file\"; "
                  "filename=\"x.pdf\"\r\n\r\n",
                  boundary);
    sp_buf_append(&body, payload, plen);
    sp_buf_printf(&body, "\r\n--%s--\r\n", boundary);
    size_t chunks[] = {1, 2, 3, 7, 64, 4096, 65536, 65537, 0};
    for (size_t k = 0; k < SP_ARRAY_LEN(chunks); k++) {
        struct got g = {0};
        assert_int_equal(parse(boundary, body.data, body.len, chunks[k], &g), SP_OK);
        assert_int_equal(g.nparts, 1);
        assert_int_equal(g.data[0].len, plen);
        assert_memory_equal(g.data[0].data, payload, plen);
        got_free(&g);
    }
    sp_buf_free(&body);
    sp_free(payload);
}

static void test_boundary_parameter(void **state)
{
    (void)state;
    char b[SP_MULTIPART_BOUNDARY_MAX + 1];
    assert_int_equal(sp_multipart_boundary("multipart/form-data; boundary=abc", b, sizeof b),
                     SP_OK);
    assert_string_equal(b, "abc");
    assert_int_equal(
        sp_multipart_boundary("Multipart/Form-Data;charset=utf-8; BOUNDARY=\"a b:c\"", b, sizeof b),
        SP_OK);
    assert_string_equal(b, "a b:c");
    assert_int_equal(sp_multipart_boundary("multipart/form-data", b, sizeof b), SP_INVALID);
    assert_int_equal(sp_multipart_boundary("multipart/mixed; boundary=x", b, sizeof b), SP_INVALID);
    assert_int_equal(sp_multipart_boundary("application/json", b, sizeof b), SP_INVALID);
    assert_int_equal(sp_multipart_boundary("multipart/form-data; boundary=", b, sizeof b),
                     SP_INVALID);
    assert_int_equal(
        sp_multipart_boundary("multipart/form-data; boundary=\"unterminated", b, sizeof b),
        SP_INVALID);
    assert_int_equal(sp_multipart_boundary("multipart/form-data; boundary=a{b", b, sizeof b),
                     SP_INVALID);
    char longb[120];
    memset(longb, 'x', sizeof longb);
    snprintf(longb, sizeof longb, "multipart/form-data; boundary=%071d", 0);
    assert_int_equal(sp_multipart_boundary(longb, b, sizeof b), SP_INVALID);
    assert_int_equal(sp_multipart_boundary(NULL, b, sizeof b), SP_INVALID);
}

static void test_filename_star_is_decoded(void **state)
{
    (void)state;
    static const char body[] =
        "--b\r\n"
        "Content-Disposition: form-data; name=file; filename=\"fallback.pdf\"; "
        "filename*=UTF-8''%E2%82%AC%20r%C3%A9sum%C3%A9.pdf\r\n\r\n"
        "x\r\n--b\r\n"
        "content-disposition: form-data; name=\"latin\"; filename*=iso-8859-1'fr'caf%E9.txt\r\n"
        "\r\n\r\n--b--";
    struct got g = {0};
    assert_int_equal(parse("b", body, sizeof body - 1, 0, &g), SP_OK);
    assert_int_equal(g.nparts, 2);
    assert_string_equal(g.part[0].filename, "€ résumé.pdf");
    assert_string_equal(g.part[1].filename, "café.txt");
    assert_int_equal(g.data[1].len, 0);
    got_free(&g);
}

static void test_truncated_body_is_refused(void **state)
{
    (void)state;
    size_t cut = strstr(form, "--XyZ--") - form; /* everything before the closing boundary */
    for (size_t n = 0; n < cut; n += 13) {
        struct got g = {0};
        assert_int_equal(parse("XyZ", form, n, 5, &g), SP_INVALID);
        got_free(&g);
    }
    struct got g = {0};
    assert_int_equal(parse("other", form, sizeof form - 1, 0, &g), SP_INVALID);
    assert_int_equal(g.nparts, 0);
    got_free(&g);
}

static void test_malformed_parts_are_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "--b\r\nContent-Type: text/plain\r\n\r\nno disposition\r\n--b--",
        "--b\r\nContent-Disposition: attachment; name=x\r\n\r\nx\r\n--b--",
        "--b\r\nContent-Disposition: form-data; name=\"open\r\n\r\nx\r\n--b--",
        "--b\r\nno colon here\r\n\r\nx\r\n--b--",
        "--bX\r\n\r\n",
        "--b-x",
        "--b\rx",
    };
    for (size_t i = 0; i < SP_ARRAY_LEN(bad); i++) {
        struct got g = {0};
        struct sp_multipart_cbs cbs = {on_begin, on_data, on_end, &g};
        struct sp_multipart *mp = sp_multipart_new("b", &cbs);
        int rc = sp_multipart_feed(mp, bad[i], strlen(bad[i]));
        if (rc == SP_OK)
            rc = sp_multipart_finish(mp);
        assert_int_equal(rc, SP_INVALID);
        assert_true(strlen(sp_multipart_error(mp)) > 0);
        /* later input is ignored once refused */
        assert_int_equal(sp_multipart_feed(mp, "--b--", 5), SP_INVALID);
        sp_multipart_free(mp);
        got_free(&g);
    }
    /* headers beyond the cap */
    struct sp_buf body = SP_BUF_INIT;
    sp_buf_puts(&body, "--b\r\nContent-Disposition: form-data; name=x\r\nX-Pad: ");
    for (int i = 0; i < SP_MULTIPART_HEADER_MAX; i++)
        sp_buf_putc(&body, 'a');
    sp_buf_puts(&body, "\r\n\r\nx\r\n--b--");
    struct got g = {0};
    assert_int_equal(parse("b", body.data, body.len, 1000, &g), SP_INVALID);
    got_free(&g);
    sp_buf_free(&body);
}

static void test_callback_can_stop(void **state)
{
    (void)state;
    struct got g = {.stop_after_bytes = 3};
    assert_int_equal(parse("XyZ", form, sizeof form - 1, 1, &g), SP_ERR);
    got_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_chunk_size),
        cmocka_unit_test(test_binary_payload_survives),
        cmocka_unit_test(test_boundary_parameter),
        cmocka_unit_test(test_filename_star_is_decoded),
        cmocka_unit_test(test_truncated_body_is_refused),
        cmocka_unit_test(test_malformed_parts_are_refused),
        cmocka_unit_test(test_callback_can_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
