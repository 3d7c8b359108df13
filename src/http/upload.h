/*
 * upload.h — the server side of streamed uploads (internal to src/http; handlers use
 * sp_req_upload() from http.h).
 *
 * server.c calls, for each request:
 *   sp_upload_begin  once the headers are in: decides whether the body is streamed (an upload
 *                    route, POST, multipart/form-data). For such a request it authenticates
 *                    the caller and checks the route's permission and the declared size now,
 *                    before any byte is stored, then opens the temporary file.
 *   sp_upload_feed   for every chunk of the body: parsed and written as it arrives.
 *   sp_upload_end    when the body is complete, before the handler runs.
 * The temporary file is removed when the request ends unless the handler kept it.
 */
#ifndef SP_HTTP_UPLOAD_H
#define SP_HTTP_UPLOAD_H

#include <stddef.h>

#include "http/http.h"

/* 0: not a streamed upload (read the body as usual); 1: streaming; -1: refused, `resp` holds
 * the answer (401, 403, 413, 400, 500) to send at once, closing the connection. */
int sp_upload_begin(struct sp_request *req, const char *content_type, struct sp_response *resp);
/* 0 on success; -1 when the upload must stop now (too large, malformed, disk error): resp holds
 * the answer to send at once, closing the connection. */
int sp_upload_feed(struct sp_request *req, const char *data, size_t n, struct sp_response *resp);
/* The body is complete: finish parsing and record the outcome for sp_req_upload(). */
void sp_upload_end(struct sp_request *req);

#endif
