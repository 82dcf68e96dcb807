/* Client for OpenAI-compatible chat-completions servers (hosted APIs, vLLM,
 * llama.cpp's server, Ollama, `dynlab serve`) over HTTP(S) with libcurl.
 *
 * Every answer is cached on disk under a key derived from the request body
 * (FNV-1a 64 of the JSON; the stored request is compared on a hit), written
 * atomically before it is used, so an interrupted benchmark resumes without
 * asking twice and nothing already answered is lost. 429, 5xx, timeouts,
 * connection failures and malformed replies are retried with exponential
 * backoff; other 4xx replies fail at once (retrying cannot fix them). */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ioaa/ioaa.h"
#include "ioaa/util.h"

#define MAX_REPLY_BYTES (64u << 20)

static pthread_mutex_t counters = PTHREAD_MUTEX_INITIALIZER;

typedef struct buf {
    char *p;
    size_t n;
    int overflow;
} buf;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud) {
    buf *b = ud;
    size_t m = size * nmemb;
    if (b->n + m > MAX_REPLY_BYTES) {
        b->overflow = 1;
        return 0;
    }
    char *q = realloc(b->p, b->n + m + 1);
    if (!q) return 0;
    b->p = q;
    memcpy(b->p + b->n, ptr, m);
    b->n += m;
    b->p[b->n] = 0;
    return m;
}

void ioaa_cache_path(const ioaa_client *c, const char *request_json, char *out, size_t n) {
    uint64_t h = ioaa_fnv1a(request_json, strlen(request_json));
    snprintf(out, n, "%s/%016llx.json", c->cache_dir, (unsigned long long)h);
}

/* Cached content for this exact request, or NULL. */
static char *cache_get(const ioaa_client *c, const char *request_json) {
    if (!c->cache_dir[0]) return NULL;
    char path[1200], err[300];
    ioaa_cache_path(c, request_json, path, sizeof path);
    char *text = ioaa_read_file(path, MAX_REPLY_BYTES * 2u, NULL, err, sizeof err);
    if (!text) return NULL;
    cJSON *o = cJSON_Parse(text);
    free(text);
    char *content = NULL;
    const cJSON *rq = cJSON_GetObjectItemCaseSensitive(o, "request");
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(o, "content");
    if (cJSON_IsString(rq) && cJSON_IsString(ct) && !strcmp(rq->valuestring, request_json))
        content = strdup(ct->valuestring);
    cJSON_Delete(o);
    return content;
}

static int cache_put(const ioaa_client *c, const char *request_json, const char *content) {
    if (!c->cache_dir[0]) return 0;
    char path[1200];
    ioaa_cache_path(c, request_json, path, sizeof path);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "request", request_json);
    cJSON_AddStringToObject(o, "content", content);
    char *txt = cJSON_Print(o);
    cJSON_Delete(o);
    int rc = txt ? ioaa_write_text(path, txt) : -1;
    free(txt);
    return rc;
}

/* The assistant message of a chat-completions reply, or NULL. */
static char *reply_content(const char *body) {
    cJSON *o = cJSON_Parse(body);
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(o, "choices");
    const cJSON *c0 = cJSON_IsArray(ch) ? cJSON_GetArrayItem(ch, 0) : NULL;
    const cJSON *msg = c0 ? cJSON_GetObjectItemCaseSensitive(c0, "message") : NULL;
    const cJSON *ct = msg ? cJSON_GetObjectItemCaseSensitive(msg, "content") : NULL;
    char *out = cJSON_IsString(ct) ? strdup(ct->valuestring) : NULL;
    cJSON_Delete(o);
    return out;
}

/* The server's error message of an OpenAI-style error body, if any. */
static void error_message(const char *body, char *out, size_t n) {
    cJSON *o = cJSON_Parse(body);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
    const cJSON *m = e ? cJSON_GetObjectItemCaseSensitive(e, "message") : NULL;
    snprintf(out, n, "%s", cJSON_IsString(m) ? m->valuestring : "");
    cJSON_Delete(o);
}

static void sleep_s(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

char *ioaa_complete(ioaa_client *c, const char *request_json, char *err, size_t errlen) {
    char *hit = cache_get(c, request_json);
    if (hit) {
        pthread_mutex_lock(&counters);
        c->n_cached++;
        pthread_mutex_unlock(&counters);
        return hit;
    }
    char url[600], auth[300];
    snprintf(url, sizeof url, "%s/chat/completions", c->base_url);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->api_key);
    double wait = c->backoff_s;
    char last[1000] = "no attempt made";
    for (int attempt = 0; attempt <= c->retries; attempt++) {
        if (attempt > 0) {
            sleep_s(wait);
            wait *= 2;
        }
        CURL *h = curl_easy_init();
        if (!h) {
            snprintf(err, errlen, "cannot initialise libcurl");
            return NULL;
        }
        struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
        if (c->api_key[0]) hdr = curl_slist_append(hdr, auth);
        buf b = {0};
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, request_json);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(c->timeout_s * 1000));
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->timeout_s * 1000));
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        CURLcode cr = curl_easy_perform(h);
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(hdr);
        curl_easy_cleanup(h);
        pthread_mutex_lock(&counters);
        c->n_http++;
        pthread_mutex_unlock(&counters);
        if (cr != CURLE_OK) {
            snprintf(last, sizeof last, "%s: %s", url,
                     b.overflow ? "reply over the 64 MiB limit" : curl_easy_strerror(cr));
            free(b.p);
            continue;
        }
        const char *body = b.p ? b.p : "";
        if (status == 200) {
            char *content = reply_content(body);
            free(b.p);
            if (!content) {
                snprintf(last, sizeof last, "%s: HTTP 200 with a malformed reply (no choices[0].message.content)", url);
                continue;
            }
            if (cache_put(c, request_json, content)) {
                snprintf(err, errlen, "cannot write the response cache in %s", c->cache_dir);
                free(content);
                return NULL;
            }
            return content;
        }
        char msg[256];
        error_message(body, msg, sizeof msg);
        free(b.p);
        snprintf(last, sizeof last, "%s: HTTP %ld%s%s", url, status, msg[0] ? ": " : "", msg);
        if (status != 429 && status < 500) break; /* a bad request stays bad */
    }
    pthread_mutex_lock(&counters);
    c->n_failed++;
    pthread_mutex_unlock(&counters);
    snprintf(err, errlen, "%s (after %d attempt(s))", last, c->retries + 1);
    return NULL;
}
