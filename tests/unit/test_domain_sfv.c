/*
 * test_domain_sfv.c — CRC32 of files, SFV writing and parsing, and ZIP volumes written by
 * libzip with the archive's CRC32 computed while writing (it must equal a re-read), stored
 * members, an exact size prediction, cancellation that leaves nothing, and `unzip -t`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain/sfv.h"
#include "domain/zip_volume.h"
#include "fixtures_books.h"
#include "util/alloc.h"

static void crc_of_files(void **state)
{
    char dir[512], path[600];
    fx_tmpdir(dir, "sfv");
    snprintf(path, sizeof path, "%s/check.txt", dir);
    fx_write(path, "123456789", 9);
    uint32_t crc = 0;
    int64_t size = 0;
    struct sp_err e;
    assert_int_equal(sp_crc32_file(path, &crc, &size, &e), SP_OK);
    assert_int_equal(crc, 0xCBF43926u); /* the CRC-32 check value */
    assert_int_equal(size, 9);
    snprintf(path, sizeof path, "%s/missing", dir);
    assert_int_equal(sp_crc32_file(path, &crc, &size, &e), SP_NOTFOUND);
    fx_sh("rm -rf '%s'", dir);
}

static void sfv_round_trip(void **state)
{
    struct sp_sfv_entry in[2] = {{"abcdef01.zip", 0x0A1B2C3Du}, {"abcdef02.zip", 0xFFFFFFFFu}};
    struct sp_buf b = SP_BUF_INIT;
    sp_sfv_render(in, 2, "made by a test", &b);
    assert_string_equal(b.data, "; made by a test\r\nabcdef01.zip 0A1B2C3D\r\n"
                                "abcdef02.zip FFFFFFFF\r\n");
    struct sp_sfv_entry *out = NULL;
    struct sp_problems p = SP_PROBLEMS_INIT;
    assert_int_equal(sp_sfv_parse(b.data, b.len, &out, "x.sfv", &p), 2);
    assert_int_equal(p.n, 0);
    assert_string_equal(out[1].name, "abcdef02.zip");
    assert_int_equal(out[0].crc, 0x0A1B2C3Du);
    sp_free(out);
    const char *bad = "; c\nfile.zip 12345\nname with space.zip 0a1b2c3d\n\nx.zip zzzzzzzz\n";
    assert_int_equal(sp_sfv_parse(bad, strlen(bad), &out, "x.sfv", &p), 1);
    assert_string_equal(out[0].name, "name with space.zip");
    assert_int_equal(p.n, 2);
    assert_non_null(strstr(p.items[0].message, "line 2"));
    sp_free(out);
    sp_problems_free(&p);

    /* a NUL or control character inside a name is refused, not cut short */
    const char nul[] = "good.zip 0a1b2c3d\nevil.zip\0hidden.zip 0a1b2c3d\nbell\a.zip 01020304\n";
    struct sp_problems q = SP_PROBLEMS_INIT;
    assert_int_equal(sp_sfv_parse(nul, sizeof nul - 1, &out, "x.sfv", &q), 1);
    assert_string_equal(out[0].name, "good.zip");
    assert_int_equal(q.n, 2);
    assert_non_null(strstr(q.items[0].message, "line 2"));
    assert_non_null(strstr(q.items[0].message, "control character"));
    assert_non_null(strstr(q.items[1].message, "line 3"));
    sp_free(out);
    sp_problems_free(&q);
    sp_buf_free(&b);
}

static int cancel_now(void *ctx)
{
    return *(int *)ctx;
}

static void zip_volume_crc_while_writing(void **state)
{
    char dir[512], payload[600], zip[600];
    fx_tmpdir(dir, "zipvol");
    snprintf(payload, sizeof payload, "%s/book.bin", dir);
    size_t n = 3 * 1024 * 1024 + 17;
    unsigned char *data = malloc(n);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        data[i] = (unsigned char)x;
    }
    fx_write(payload, data, n);
    snprintf(zip, sizeof zip, "%s/abcdef01.zip", dir);
    const char *diz = "DISK: [01/01]\r\n";
    struct sp_zip_member m[3] = {{"FILE_ID.DIZ", NULL, diz, strlen(diz), 1700000000},
                                 {"grp-abcdef.nfo", NULL, "nfo\r\n", 5, 1700000000},
                                 {"Some.Book.2020.pdf", payload, NULL, 0, 1700000000}};
    uint32_t crc = 0;
    int64_t size = 0;
    struct sp_err e = {"", ""};
    assert_int_equal(sp_zip_write(zip, m, 3, NULL, &crc, &size, &e), SP_OK);
    uint32_t again = 0;
    int64_t size2 = 0;
    assert_int_equal(sp_crc32_file(zip, &again, &size2, &e), SP_OK);
    assert_int_equal(crc, again);
    assert_int_equal(size, size2);
    int64_t sizes[3] = {(int64_t)strlen(diz), 5, (int64_t)n};
    assert_int_equal(sp_zip_stored_size(m, sizes, 3), size);
    assert_int_equal(fx_sh("unzip -tq '%s' >/dev/null", zip), 0);
    assert_int_equal(fx_sh("unzip -p '%s' Some.Book.2020.pdf | cmp -s - '%s'", zip, payload), 0);
    /* stored, not deflated */
    assert_int_equal(fx_sh("unzip -v '%s' | grep -q 'Stored.*Some.Book.2020.pdf'", zip), 0);

    /* an existing file is never overwritten (nor removed) */
    assert_int_equal(sp_zip_write(zip, m, 3, NULL, &crc, &size, &e), SP_ERR);
    assert_int_equal(access(zip, F_OK), 0);

    /* cancelled: nothing is left */
    snprintf(zip, sizeof zip, "%s/cancel01.zip", dir);
    int stop = 1;
    struct sp_zip_hooks h = {NULL, cancel_now, &stop};
    assert_int_equal(sp_zip_write(zip, m, 3, &h, &crc, &size, &e), SP_AGAIN);
    assert_int_equal(access(zip, F_OK), -1);
    /* a missing payload: an error and nothing left */
    snprintf(zip, sizeof zip, "%s/broken01.zip", dir);
    m[2].path = "/nonexistent/book.pdf";
    assert_int_equal(sp_zip_write(zip, m, 3, NULL, &crc, &size, &e), SP_ERR);
    assert_int_equal(access(zip, F_OK), -1);
    free(data);
    fx_sh("rm -rf '%s'", dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc_of_files),
        cmocka_unit_test(sfv_round_trip),
        cmocka_unit_test(zip_volume_crc_while_writing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
