/*
 * test_netaddr.c — util/netaddr.c: which addresses a server-side download may connect to.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "util/netaddr.h"

static int public_addr(const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, text, &v4->sin_addr) == 1)
        v4->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1)
        v6->sin6_family = AF_INET6;
    else
        fail_msg("not an address: %s", text);
    return sp_addr_is_public((struct sockaddr *)&ss);
}

static void test_refused(void **state)
{
    const char *refused[] = {
        "127.0.0.1",     "127.255.255.254", "0.0.0.0",        "10.1.2.3",
        "172.16.0.1",    "172.31.255.255",  "192.168.1.1",    "169.254.169.254",
        "100.64.0.1",    "100.127.255.255", "192.0.0.8",      "192.0.2.10",
        "198.18.0.1",    "198.51.100.7",    "203.0.113.9",    "224.0.0.1",
        "239.255.255.250", "240.0.0.1",     "255.255.255.255", "::",
        "::1",           "fc00::1",         "fd12:3456::1",   "fe80::1",
        "fec0::1",       "ff02::1",         "2001:db8::1",    "::ffff:127.0.0.1",
        "::ffff:10.0.0.1", "::ffff:169.254.169.254", "64:ff9b::7f00:1", "::127.0.0.1",
        "100::1",        "3fff::1:0:0:0:0:0",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (public_addr(refused[i]))
            fail_msg("%s must not count as public", refused[i]);
}

static void test_public(void **state)
{
    const char *ok[] = {
        "1.1.1.1",         "8.8.8.8",        "93.184.216.34", "172.15.255.255", "172.32.0.1",
        "100.63.255.255",  "100.128.0.1",    "169.253.0.1",   "192.0.1.1",      "198.20.0.1",
        "223.255.255.255", "2606:4700::1111", "2a00:1450::1", "::ffff:8.8.8.8", "64:ff9b::808:808",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!public_addr(ok[i]))
            fail_msg("%s is public", ok[i]);
    struct sockaddr sa = {.sa_family = AF_UNIX};
    assert_false(sp_addr_is_public(&sa));
    assert_false(sp_addr_is_public(NULL));
}

static void test_format(void **state)
{
    struct sockaddr_in v4 = {.sin_family = AF_INET};
    inet_pton(AF_INET, "192.0.2.1", &v4.sin_addr);
    char out[64];
    sp_addr_format((struct sockaddr *)&v4, out, sizeof out);
    assert_string_equal(out, "192.0.2.1");
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "2001:db8::1", &v6.sin6_addr);
    sp_addr_format((struct sockaddr *)&v6, out, sizeof out);
    assert_string_equal(out, "2001:db8::1");
    struct sockaddr other = {.sa_family = AF_UNIX};
    sp_addr_format(&other, out, sizeof out);
    assert_string_equal(out, "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_public),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
