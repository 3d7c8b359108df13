/*
 * static.c — the UI page, its top-level assets and the OpenAPI document, served from disk with
 * an ETag (If-None-Match → 304) and streamed from the file descriptor (sendfile).
 *
 * HTML pages are read into memory instead: their Content-Security-Policy allows exactly the
 * inline <style> blocks they hold (by SHA-256 hash), computed from the bytes being sent.
 *
 * Directories are found once at start: cfg.web_dir when set, else ./web, else the source
 * tree's web/ (SP_SOURCE_DIR, defined by CMake). docs/ the same way.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "config.h"
#include "http/http.h"
#include "http/middleware.h"
#include "http/server.h"
#include "util/alloc.h"
#include "util/log.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#ifndef SP_SOURCE_DIR
#define SP_SOURCE_DIR "."
#endif

static char web_dir[1100];
static char docs_dir[1200];

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int has_file(const char *dir, const char *name)
{
    char p[1400];
    struct stat st;
    if (snprintf(p, sizeof p, "%s/%s", dir, name) >= (int)sizeof p)
        return 0;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

void sp_static_init(const struct sp_config *cfg)
{
    if (cfg->web_dir[0] && is_dir(cfg->web_dir))
        snprintf(web_dir, sizeof web_dir, "%s", cfg->web_dir);
    else if (has_file("web", "index.html"))
        snprintf(web_dir, sizeof web_dir, "web");
    else
        snprintf(web_dir, sizeof web_dir, "%s/web", SP_SOURCE_DIR);
    if (cfg->web_dir[0] && strcmp(cfg->web_dir, web_dir) != 0)
        sp_info("web_dir fallback", "%s is not a directory here; serving the UI from %s",
                cfg->web_dir, web_dir);
    if (!has_file(web_dir, "index.html"))
        sp_warn("no UI", "%s/index.html not found: GET / will answer 404", web_dir);

    char sibling[1200];
    snprintf(sibling, sizeof sibling, "%s/../docs", web_dir);
    if (has_file(sibling, "openapi.yaml"))
        snprintf(docs_dir, sizeof docs_dir, "%s", sibling);
    else if (has_file("docs", "openapi.yaml"))
        snprintf(docs_dir, sizeof docs_dir, "docs");
    else
        snprintf(docs_dir, sizeof docs_dir, "%s/docs", SP_SOURCE_DIR);
    sp_debug("static files", "web %s, docs %s", web_dir, docs_dir);
}

/* 1 when the If-None-Match list holds etag (or "*"); weak validators compare equal. */
static int etag_matches(const char *inm, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = inm;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, ",");
        size_t m = n;
        while (m && (p[m - 1] == ' ' || p[m - 1] == '\t'))
            m--;
        const char *v = p;
        if (m > 2 && v[0] == 'W' && v[1] == '/') {
            v += 2;
            m -= 2;
        }
        if ((m == 1 && v[0] == '*') || (m == elen && memcmp(v, etag, elen) == 0))
            return 1;
        p += n;
    }
    return 0;
}

#define MAX_HTML (1024 * 1024)

/* "'sha256-<base64>' " for every <style>...</style> block of html, appended to out. */
static void style_hashes(const char *html, size_t n, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    const char *p = html, *end = html + n;
    while (p < end) {
        const char *open = memmem(p, (size_t)(end - p), "<style", 6);
        if (!open)
            break;
        const char *gt = memchr(open, '>', (size_t)(end - open));
        if (!gt)
            break;
        const char *body = gt + 1;
        const char *close = memmem(body, (size_t)(end - body), "</style>", 8);
        if (!close)
            break;
        unsigned char md[SHA256_DIGEST_LENGTH];
        unsigned char b64[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];
        SHA256((const unsigned char *)body, (size_t)(close - body), md);
        EVP_EncodeBlock(b64, md, SHA256_DIGEST_LENGTH);
        int w = snprintf(out + used, outlen - used, "%s'sha256-%s'", used ? " " : "", b64);
        if (w < 0 || (size_t)w >= outlen - used)
            break;
        used += (size_t)w;
        p = close + 8;
    }
}

/* Serve dir/name with its ETag, or 304, or a JSON 404. */
static int serve_file(struct sp_request *req, struct sp_response *resp, const char *dir,
                      const char *name, const char *ctype)
{
    char path[1400];
    int fd = -1;
    if (snprintf(path, sizeof path, "%s/%s", dir, name) < (int)sizeof path)
        fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        sp_resp_error(resp, 404, "not_found", NULL, "no such file");
        return SP_OK;
    }
    char etag[80];
    snprintf(etag, sizeof etag, "\"%llx-%llx-%llx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL +
                 (unsigned long long)st.st_mtim.tv_nsec,
             (unsigned long long)st.st_ino);
    int html = strncmp(ctype, "text/html", 9) == 0;
    const char *inm = sp_req_header(req, "If-None-Match");
    if (inm && etag_matches(inm, etag)) {
        close(fd);
        sp_resp_take(resp, 304, NULL, NULL, 0);
    } else if (html && st.st_size <= MAX_HTML) {
        size_t size = (size_t)st.st_size, got = 0;
        char *buf = sp_malloc(size + 1);
        while (got < size) {
            ssize_t r = read(fd, buf + got, size - got);
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        close(fd);
        buf[got] = '\0';
        char hashes[1024], csp[1536];
        style_hashes(buf, got, hashes, sizeof hashes);
        sp_resp_csp_html(hashes, csp, sizeof csp);
        sp_resp_take(resp, 200, ctype, buf, got);
        sp_resp_header(resp, "Content-Security-Policy", csp);
    } else {
        sp_resp_file(resp, 200, ctype, fd, 0, (uint64_t)st.st_size);
    }
    sp_resp_header(resp, "ETag", etag);
    sp_resp_header(resp, "Cache-Control", "no-cache");
    return SP_OK;
}

static int h_index(struct sp_request *req, struct sp_response *resp)
{
    return serve_file(req, resp, web_dir, "index.html", "text/html; charset=utf-8");
}

static int h_openapi(struct sp_request *req, struct sp_response *resp)
{
    return serve_file(req, resp, docs_dir, "openapi.yaml", "application/yaml; charset=utf-8");
}

static const struct {
    const char *ext;
    const char *ctype;
} asset_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
};

/* A top-level UI file: a plain name (no dot first, no slash) with a known extension. */
static int h_asset(struct sp_request *req, struct sp_response *resp)
{
    const char *name = sp_req_param(req, "file");
    size_t n = name ? strlen(name) : 0;
    int ok = n > 0 && n <= 128 && name[0] != '.';
    for (size_t i = 0; ok && i < n; i++) {
        char c = name[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '.' || c == '_' || c == '-';
    }
    if (ok) {
        for (size_t i = 0; i < sizeof asset_types / sizeof asset_types[0]; i++) {
            size_t el = strlen(asset_types[i].ext);
            if (n > el && strcasecmp(name + n - el, asset_types[i].ext) == 0)
                return serve_file(req, resp, web_dir, name, asset_types[i].ctype);
        }
    }
    sp_resp_error(resp, 404, "not_found", NULL, "no such endpoint");
    return SP_OK;
}

const struct sp_route sp_routes_static[] = {
    {"GET", "/", h_index, SP_AUTH_NONE, -1, -1},
    {"GET", "/api/openapi.yaml", h_openapi, SP_AUTH_NONE, -1, -1},
    {"GET", "/{file}", h_asset, SP_AUTH_NONE, -1, -1},
    {0},
};
