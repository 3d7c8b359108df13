/*
 * middleware.h — the chain every request goes through (internal to src/http):
 *   begin:    request id, client IP, metrics begin (sp_mw_begin)
 *   dispatch: CORS preflight, route (404/405), auth (401), permission (403), per-user rate
 *             limit (429), body check (400), handler (sp_mw_dispatch)
 *   end:      access log line, metrics end (sp_mw_end)
 */
#ifndef SP_MIDDLEWARE_H
#define SP_MIDDLEWARE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "http/http.h"
#include "util/common.h"

struct sp_config;

/* Parse cfg.trusted_proxies (comma-separated IPs and CIDRs) and set up the per-user rate limit
 * (cfg.rate_limit_per_min; 0 = off). SP_OK or SP_INVALID with e. */
int sp_mw_init(const struct sp_config *cfg, struct sp_err *e);

/* Fill req->request_id (the client's X-Request-Id when it is 1..64 chars of [A-Za-z0-9._-],
 * else a new unique id), req->client_ip (the peer address, or the X-Forwarded-For client when
 * the peer is a trusted proxy), req->start_ns, and count the request as in flight. */
void sp_mw_begin(struct sp_request *req, const struct sockaddr *peer);

/* Route and run the request. Returns SP_OK when resp holds the answer, SP_AGAIN when the
 * handler parked the request (sp_req_suspend) for a worker to answer. */
int sp_mw_dispatch(struct sp_request *req, struct sp_response *resp);

/* The request is over: one JSON access-log line (one write) and the metrics. status 0 means the
 * client went away before an answer was queued (logged as 499). */
void sp_mw_end(const struct sp_request *req, int status, uint64_t bytes);

/* Locate the UI directory (cfg.web_dir, ./web, or the source tree's web/) and docs/ for the
 * static routes (static.c). Logs where they were found. */
void sp_static_init(const struct sp_config *cfg);

/* 1 when s is an acceptable client-supplied request id. */
int sp_mw_request_id_ok(const char *s);

/* Client address after trusted-proxy processing of xff (may be NULL) into out (64 bytes). */
void sp_mw_client_ip(const struct sockaddr *peer, const char *xff, char *out, size_t outlen);

#endif
