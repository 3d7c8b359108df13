/* release_pack.c — a release row to an sp_pack_request (see release_pack.h). */
#include "jobs/release_pack.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/nfo.h"
#include "domain/release_name.h"
#include "store/db.h"
#include "store/release_files.h"
#include "store/releases.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"

const char *const sp_release_meta_keys[] = {"title",        "author",       "publisher", "year",
                                            "language",     "source",       "isbn",      "genre",
                                            "release_date", "publish_date", "url",       "edition",
                                            "volume",       "issue",        "book_kind", NULL};

static bool api_key(const char *k)
{
    for (int i = 0; sp_release_meta_keys[i]; i++)
        if (!strcmp(sp_release_meta_keys[i], k))
            return true;
    return false;
}

int sp_meta_from_api_json(const json_t *obj, struct sp_meta *m, const char *prefix,
                          struct sp_err *e)
{
    const char *k;
    json_t *v;
    char field[64];
    json_object_foreach((json_t *)obj, k, v)
    {
        snprintf(field, sizeof field, "%s%s%s", prefix ? prefix : "", prefix ? "." : "", k);
        if (!api_key(k)) {
            sp_err_set(e, field, "unknown metadata field '%s'", k);
            return SP_INVALID;
        }
        if (json_is_null(v))
            continue;
        bool counted = !strcmp(k, "year") || !strcmp(k, "volume") || !strcmp(k, "issue");
        char num[32];
        const char *s;
        if (json_is_string(v)) {
            s = json_string_value(v);
        } else if (counted && json_is_integer(v) && json_integer_value(v) >= 0) {
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
            s = num;
        } else {
            sp_err_set(e, field, "%s must be a string%s", k,
                       counted ? " or a non-negative integer" : "");
            return SP_INVALID;
        }
        struct sp_err fe = {{0}, {0}};
        if (sp_meta_set(m, k, s, &fe) != SP_OK) {
            sp_err_set(e, field, "%s", fe.message);
            return SP_INVALID;
        }
    }
    return SP_OK;
}

json_t *sp_meta_to_api_json(const struct sp_meta *m)
{
    json_t *o = json_object();
    for (int i = 0; sp_release_meta_keys[i]; i++) {
        int f = sp_meta_field_lookup(sp_release_meta_keys[i]);
        const char *v = sp_meta_get(m, f);
        if (!v)
            continue;
        if (f == SP_META_YEAR) {
            char *end;
            long y = strtol(v, &end, 10);
            if (!*end && y >= 1 && y <= 9999)
                json_object_set_new(o, "year", json_integer(y));
            continue;
        }
        json_object_set_new(o, sp_release_meta_keys[i], json_string(v));
    }
    return o;
}

json_t *sp_meta_to_json(const struct sp_meta *m)
{
    json_t *o = json_object();
    for (int i = 0; i < SP_META_COUNT; i++)
        if (sp_meta_get(m, i))
            json_object_set_new(o, sp_meta_field_name(i), json_string(sp_meta_get(m, i)));
    return o;
}

void sp_meta_from_json_loose(const json_t *obj, struct sp_meta *m)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        int f = sp_meta_field_lookup(k);
        if (f >= 0 && json_is_string(v))
            sp_meta_put(m, f, json_string_value(v));
    }
}

void sp_upload_name_sanitize(const char *raw, char *out, size_t outlen)
{
    const char *base = raw ? raw : "";
    for (const char *p = base; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    char *w = sp_dirname_words(base);
    size_t n = strlen(w);
    size_t cap = outlen - 1 < 120 ? outlen - 1 : 120;
    if (n > cap) {
        /* keep the extension (a short last word) and cut the stem */
        const char *dot = strrchr(w, '.');
        size_t el = dot && strlen(dot) <= 10 ? strlen(dot) : 0;
        size_t stem = cap - el;
        while (stem > 0 && w[stem - 1] == '.')
            stem--;
        snprintf(out, outlen, "%.*s%s", (int)stem, w, el ? dot : "");
    } else {
        snprintf(out, outlen, "%s", w);
    }
    sp_free(w);
    /* a name starts with a letter or a digit */
    size_t lead = 0;
    while (out[lead] && !isalnum((unsigned char)out[lead]))
        lead++;
    memmove(out, out + lead, strlen(out + lead) + 1);
    if (!out[0])
        snprintf(out, outlen, "upload");
}

json_t *sp_release_config(const struct sp_release *r)
{
    json_t *j = r->config ? json_loads(r->config, 0, NULL) : NULL;
    if (!json_is_object(j)) {
        json_decref(j);
        j = json_object();
    }
    return j;
}

/* ---- uniqueness callbacks ---- */

/* 8.3 bases chosen by packings running in this process, not yet in release_files. */
static pthread_mutex_t res_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char base[8];
    int year;
    int64_t release_id;
} reserved[64];

static int dirname_taken(void *ctx, const char *dirname)
{
    struct sp_release_pack *p = ctx;
    struct sp_db *db = sp_db_thread();
    return db ? sp_store_dirname_taken(db, dirname, p->release_id) : -1;
}

static int base_taken(void *ctx, const char *base, int year)
{
    struct sp_release_pack *p = ctx;
    struct sp_db *db = sp_db_thread();
    if (!db)
        return -1;
    int t = sp_store_volume_base_taken(db, base, year, p->release_id);
    if (t != 0)
        return t;
    pthread_mutex_lock(&res_lock);
    int free_slot = -1;
    for (size_t i = 0; i < SP_ARRAY_LEN(reserved); i++) {
        if (!reserved[i].base[0]) {
            if (free_slot < 0)
                free_slot = (int)i;
            continue;
        }
        if (reserved[i].year == year && !strcmp(reserved[i].base, base) &&
            reserved[i].release_id != p->release_id) {
            pthread_mutex_unlock(&res_lock);
            return 1;
        }
    }
    /* free: the packer takes the first free base, so reserve it now */
    if (p->reserve && !p->reserved_base[0] && free_slot >= 0) {
        snprintf(reserved[free_slot].base, sizeof reserved[free_slot].base, "%s", base);
        reserved[free_slot].year = year;
        reserved[free_slot].release_id = p->release_id;
        snprintf(p->reserved_base, sizeof p->reserved_base, "%s", base);
        p->reserved_year = year;
    }
    pthread_mutex_unlock(&res_lock);
    return 0;
}

static void unreserve(struct sp_release_pack *p)
{
    if (!p->reserved_base[0])
        return;
    pthread_mutex_lock(&res_lock);
    for (size_t i = 0; i < SP_ARRAY_LEN(reserved); i++) {
        if (reserved[i].year == p->reserved_year && !strcmp(reserved[i].base, p->reserved_base) &&
            reserved[i].release_id == p->release_id) {
            memset(&reserved[i], 0, sizeof reserved[i]);
            break;
        }
    }
    pthread_mutex_unlock(&res_lock);
    p->reserved_base[0] = '\0';
}

void sp_wizard_config_set_upload(json_t *cfg, const char *client_name, const char *stored_as,
                                 int64_t size, const char *format, const char *url)
{
    json_t *up = json_pack("{s:s, s:s, s:I, s:s}", "filename", client_name ? client_name : "",
                           "stored_as", stored_as, "size", (json_int_t)size, "format", format);
    if (url)
        json_object_set_new(up, "url", json_string(url));
    json_object_set_new(cfg, "upload", up);
    json_object_del(cfg, "analysis");
}

static void progress_tramp(void *ctx, int percent, const char *step)
{
    struct sp_release_pack *p = ctx;
    if (p->on_progress)
        p->on_progress(p->user, percent, step);
}

/* ---- prepare ---- */

int sp_release_pack_prepare(const char *data_dir, const struct sp_release *r, const char *job_type,
                            struct sp_release_pack *p, struct sp_err *e)
{
    memset(p, 0, sizeof *p);
    sp_meta_init(&p->meta);
    p->release_id = r->id;
    int rc = SP_INVALID;
    json_t *cfg = sp_release_config(r);
    json_t *meta = r->release_metadata ? json_loads(r->release_metadata, 0, NULL) : NULL;

    if (!r->file_path || !*r->file_path) {
        sp_err_set(e, "file", "no file has been uploaded for release %lld", (long long)r->id);
        goto out;
    }
    int n = r->file_path[0] == '/'
                ? snprintf(p->input, sizeof p->input, "%s", r->file_path)
                : snprintf(p->input, sizeof p->input, "%s/%s", data_dir, r->file_path);
    if (n <= 0 || (size_t)n >= sizeof p->input) {
        sp_err_set(e, "file", "the stored file path is too long");
        goto out;
    }
    const char *slash = strrchr(p->input, '/');
    snprintf(p->input_name, sizeof p->input_name, "%s", slash ? slash + 1 : p->input);
    snprintf(p->out_dir, sizeof p->out_dir, "%s/releases", data_dir);
    snprintf(p->group, sizeof p->group, "%s", r->group ? r->group : "");

    if (json_is_object(meta) &&
        sp_meta_from_api_json(meta, &p->meta, "release_metadata", e) != SP_OK)
        goto out;
    /* what an action adds: tags, the release it fixes, a note */
    static const char *const extra[] = {"tags", "fixes", "notes"};
    for (size_t i = 0; i < SP_ARRAY_LEN(extra); i++) {
        json_t *v = json_object_get(cfg, extra[i]);
        if (json_is_string(v) && sp_meta_set(&p->meta, extra[i], json_string_value(v), e) != SP_OK)
            goto out;
    }

    const char *tid = json_string_value(json_object_get(cfg, "template_id"));
    const char *ttext = json_string_value(json_object_get(cfg, "template"));
    if (tid && !strcmp(tid, "custom") && ttext) {
        p->template_text = sp_strdup(ttext);
    } else if (tid && sp_nfo_template(tid)) {
        snprintf(p->template_name, sizeof p->template_name, "%s", tid);
    } else {
        snprintf(p->template_name, sizeof p->template_name, "%s", sp_nfo_template_names()[0]);
    }
    int64_t zip_size = 0;
    json_t *zs = json_object_get(cfg, "zip_size");
    if (json_is_integer(zs) && sp_zip_size_valid(json_integer_value(zs)))
        zip_size = json_integer_value(zs);

    struct sp_pack_request *rq = &p->rq;
    rq->input = p->input;
    rq->input_name = p->input_name;
    rq->out_dir = p->out_dir;
    rq->group = p->group;
    rq->meta = &p->meta;
    rq->template_text = p->template_text;
    rq->template_name = p->template_text ? NULL : p->template_name;
    rq->zip_size = zip_size;
    rq->dirname_taken = dirname_taken;
    rq->base_taken = base_taken;
    rq->progress = progress_tramp;
    rq->ctx = p;
    rq->nfo_only = job_type && !strcmp(job_type, "nfofix");
    rc = SP_OK;
out:
    json_decref(cfg);
    json_decref(meta);
    return rc;
}

void sp_release_pack_free(struct sp_release_pack *p)
{
    unreserve(p);
    sp_meta_free(&p->meta);
    sp_free(p->template_text);
    p->template_text = NULL;
}

int sp_release_pack_plan(struct sp_release_pack *p, struct sp_pack_result *res,
                         struct sp_problems *problems, struct sp_err *e)
{
    struct sp_pack_request rq = p->rq;
    rq.dry_run = 1;
    rq.progress = NULL;
    rq.cancel = NULL;
    int reserve = p->reserve;
    p->reserve = 0;
    int rc = sp_pack(&rq, res, problems, e);
    p->reserve = reserve;
    return rc;
}
