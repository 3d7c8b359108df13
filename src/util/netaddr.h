/*
 * netaddr.h — classify IP addresses: is this a public unicast address on the Internet?
 * Used to keep server-side downloads (`file_url`) away from the machine itself and its private
 * networks (SSRF), checked on the address actually connected to, after DNS and redirects.
 */
#ifndef SP_NETADDR_H
#define SP_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* true for a global unicast IPv4/IPv6 address; false for loopback, private (RFC 1918, ULA),
 * shared (100.64/10), link-local, multicast, unspecified, broadcast, documentation and
 * benchmarking ranges, reserved space, and IPv4-mapped/NAT64 forms of any of those. Anything
 * that is not AF_INET/AF_INET6 is false. */
bool sp_addr_is_public(const struct sockaddr *sa);

/* The address as text ("192.0.2.1", "2001:db8::1") into out; "?" when it cannot be shown. */
void sp_addr_format(const struct sockaddr *sa, char *out, size_t outlen);

#endif
