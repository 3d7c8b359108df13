/*
 * netaddr.c — see netaddr.h. Ranges from the IANA special-purpose address registries
 * (RFC 6890 and its updates).
 */
#include "util/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static bool v4_public(uint32_t a) /* host byte order */
{
    static const struct {
        uint32_t net;
        int bits;
    } deny[] = {
        {0x00000000u, 8},  /* "this network" */
        {0x0A000000u, 8},  /* 10/8 private */
        {0x64400000u, 10}, /* 100.64/10 shared (carrier NAT) */
        {0x7F000000u, 8},  /* loopback */
        {0xA9FE0000u, 16}, /* 169.254/16 link-local (cloud metadata lives here) */
        {0xAC100000u, 12}, /* 172.16/12 private */
        {0xC0000000u, 24}, /* 192.0.0/24 protocol assignments */
        {0xC0000200u, 24}, /* 192.0.2/24 documentation */
        {0xC0586300u, 24}, /* 192.88.99/24 6to4 relay (deprecated) */
        {0xC0A80000u, 16}, /* 192.168/16 private */
        {0xC6120000u, 15}, /* 198.18/15 benchmarking */
        {0xC6336400u, 24}, /* 198.51.100/24 documentation */
        {0xCB007100u, 24}, /* 203.0.113/24 documentation */
        {0xE0000000u, 4},  /* multicast */
        {0xF0000000u, 4},  /* reserved, broadcast */
    };
    for (size_t i = 0; i < sizeof deny / sizeof deny[0]; i++) {
        uint32_t mask = deny[i].bits ? ~0u << (32 - deny[i].bits) : 0;
        if ((a & mask) == deny[i].net)
            return false;
    }
    return true;
}

bool sp_addr_is_public(const struct sockaddr *sa)
{
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return v4_public(ntohl(in->sin_addr.s_addr));
    }
    if (sa->sa_family != AF_INET6)
        return false;
    const uint8_t *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    if (!memcmp(b, mapped, 12) || !memcmp(b, nat64, 12)) {
        uint32_t a = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
        return v4_public(a);
    }
    static const uint8_t zero[16] = {0};
    if (!memcmp(b, zero, 15) && (b[15] == 0 || b[15] == 1)) /* :: and ::1 */
        return false;
    if (!memcmp(b, zero, 12)) /* deprecated IPv4-compatible ::a.b.c.d */
        return false;
    if ((b[0] & 0xfe) == 0xfc) /* fc00::/7 unique local */
        return false;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* fe80::/10 link-local */
        return false;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) /* fec0::/10 site-local (deprecated) */
        return false;
    if (b[0] == 0xff) /* multicast */
        return false;
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) /* 2001:db8::/32 docs */
        return false;
    if (b[0] == 0x01 && b[1] == 0x00 && !memcmp(b + 2, zero, 6)) /* 100::/64 discard */
        return false;
    if (b[0] == 0x3f && b[1] == 0xff && (b[2] & 0xf0) == 0) /* 3fff::/20 documentation */
        return false;
    return (b[0] & 0xe0) == 0x20; /* 2000::/3 is the global unicast space */
}

void sp_addr_format(const struct sockaddr *sa, char *out, size_t outlen)
{
    const char *r = NULL;
    if (sa && sa->sa_family == AF_INET)
        r = inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)outlen);
    else if (sa && sa->sa_family == AF_INET6)
        r = inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
                      (socklen_t)outlen);
    if (!r && outlen)
        snprintf(out, outlen, "?");
}
