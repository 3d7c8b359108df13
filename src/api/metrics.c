/* metrics.c — GET /metrics: every process metric in Prometheus text exposition format 0.0.4.
 * Access (loopback or token) is decided by the middleware from SP_AUTH_METRICS. */
#include "api/api.h"
#include "obs/metrics.h"
#include "util/buf.h"

static int handle_metrics(struct sp_request *req, struct sp_response *resp)
{
    struct sp_buf b = SP_BUF_INIT;
    sp_metrics_render(req->app, &b);
    size_t len = b.len;
    sp_resp_take(resp, 200, "text/plain; version=0.0.4; charset=utf-8", sp_buf_steal(&b), len);
    sp_resp_header(resp, "Cache-Control", "no-store");
    return SP_OK;
}

const struct sp_route sp_routes_metrics[] = {
    {"GET", "/metrics", handle_metrics, SP_AUTH_METRICS, -1, -1},
    {0},
};
