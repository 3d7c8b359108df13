/*
 * metrics.h — process metrics in Prometheus text format. Per-thread/atomic counters and fixed
 * bucket histograms: recording never takes a lock shared with other requests.
 */
#ifndef SP_METRICS_H
#define SP_METRICS_H

#include "util/buf.h"

struct sp_app;

void sp_metrics_init(void);
/* One request began / ended. `route` is the matched pattern (or "unmatched"). */
void sp_metrics_request_begin(void);
void sp_metrics_request_end(const char *route, const char *method, int status, double seconds);
/* Render everything in Prometheus text exposition format. */
void sp_metrics_render(struct sp_app *app, struct sp_buf *out);

#endif
