/* `dynlab serve gpt`: an OpenAI-compatible HTTP server for a trained `gpt`
 * run (POST /v1/chat/completions, GET /v1/models), so the benchmark runs end
 * to end against a real model server offline.
 *
 * One connection at a time (the benchmark client's concurrency queues in the
 * listen backlog). Bad requests get OpenAI-style JSON errors with 4xx codes
 * and the server carries on; reads are bounded in size and time. Sampling is
 * deterministic: the RNG is keyed by the request's seed and a hash of its
 * messages, so the same request always gets the same answer. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "dynlab/checkpoint.h"
#include "dynlab/experiment.h"
#include "dynlab/nn.h"
#include "dynlab/rng.h"
#include "gpt/gpt.h"
#include "ioaa/ioaa.h"
#include "ioaa/util.h"

#define MAX_HEADER (64 * 1024)
#define MAX_BODY (4 * 1024 * 1024)
#define MODEL_NAME "dynlab-gpt"

extern const dl_experiment dl_exp_gpt;

struct ioaa_server {
    int fd, port, max_tokens;
    atomic_int stop;
    int completions;
    gpt_corpus corpus;
    gpt_cfg cfg;
    dl_params ps;
    dl_gpt model;
    dl_graph *g;
};

/* run_dir/config.json of the checkpoint's run: the model's shape and corpus. */
static int load_model(ioaa_server *s, const char *ckpt, char *err, size_t errlen) {
    char dir[1024], path[1100], sub[512];
    snprintf(dir, sizeof dir, "%s", ckpt);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    snprintf(path, sizeof path, "%s/config.json", dir);
    char *json = ioaa_read_file(path, 1u << 24, NULL, sub, sizeof sub);
    if (!json) {
        snprintf(err, errlen, "the checkpoint's run directory has no usable config.json (%s)", sub);
        return -1;
    }
    dl_config_defaults(dl_exp_gpt.schema, &s->cfg);
    int rc = dl_config_apply_json(dl_exp_gpt.schema, &s->cfg, json, sub, sizeof sub);
    free(json);
    if (rc) {
        snprintf(err, errlen, "%s is not a gpt run's config: %s", path, sub);
        return -1;
    }
    if (gpt_corpus_load(&s->corpus, s->cfg.data_path, s->cfg.val_frac, s->cfg.seq_len, sub,
                        sizeof sub)) {
        snprintf(err, errlen, "corpus of the served model: %s", sub);
        return -1;
    }
    dl_gpt_config mc = {.vocab = s->corpus.vocab, .seq_len = s->cfg.seq_len,
                        .d_model = s->cfg.d_model, .heads = s->cfg.heads,
                        .layers = s->cfg.layers, .mlp_mult = s->cfg.mlp_mult, .dropout = 0};
    dl_params_init(&s->ps);
    dl_rng r;
    dl_rng_init(&r, 0, 0);
    dl_gpt_init(&s->model, &s->ps, &mc, &r);
    int64_t step = 0;
    uint64_t rng_state[3];
    if (dl_checkpoint_load(ckpt, &s->ps, NULL, &step, rng_state, 3, sub, sizeof sub)) {
        snprintf(err, errlen, "%s", sub);
        return -1;
    }
    s->g = dl_graph_new();
    dl_graph_set_training(s->g, 0);
    dl_graph_set_grad_enabled(s->g, 0);
    return 0;
}

ioaa_server *ioaa_server_open(const char *checkpoint, const char *host, int port, int max_tokens,
                              char *err, size_t errlen) {
    ioaa_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->fd = -1;
    s->max_tokens = max_tokens;
    if (load_model(s, checkpoint, err, errlen)) {
        ioaa_server_close(s);
        return NULL;
    }
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        snprintf(err, errlen, "--host '%s' is not an IPv4 address", host);
        ioaa_server_close(s);
        return NULL;
    }
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) || listen(s->fd, 64)) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port, strerror(errno));
        ioaa_server_close(s);
        return NULL;
    }
    socklen_t len = sizeof a;
    getsockname(s->fd, (struct sockaddr *)&a, &len);
    s->port = ntohs(a.sin_port);
    return s;
}

int ioaa_server_port(const ioaa_server *s) { return s->port; }
const char *ioaa_server_model(const ioaa_server *s) { return MODEL_NAME; }
int ioaa_server_completions(const ioaa_server *s) { return s->completions; }
void ioaa_server_stop(ioaa_server *s) { atomic_store(&s->stop, 1); }

void ioaa_server_close(ioaa_server *s) {
    if (!s) return;
    if (s->fd >= 0) close(s->fd);
    if (s->g) {
        dl_graph_free(s->g);
        dl_gpt_free(&s->model);
        dl_params_free(&s->ps);
    }
    if (s->corpus.train) gpt_corpus_free(&s->corpus);
    free(s);
}

static int send_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void reply(int fd, int status, const char *body) {
    const char *reason = status == 200 ? "OK" : status == 400 ? "Bad Request" : status == 404 ? "Not Found"
                       : status == 405 ? "Method Not Allowed" : status == 413 ? "Payload Too Large"
                                                                              : "Error";
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, reason, strlen(body));
    if (send_all(fd, head, (size_t)n) == 0) send_all(fd, body, strlen(body));
}

static void reply_error(int fd, int status, const char *type, const char *code, const char *msg) {
    cJSON *o = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "message", msg);
    cJSON_AddStringToObject(e, "type", type);
    if (code) cJSON_AddStringToObject(e, "code", code);
    else cJSON_AddNullToObject(e, "code");
    char *t = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    reply(fd, status, t ? t : "{}");
    free(t);
}

/* Replace every byte that is not part of a well-formed UTF-8 sequence by
 * '?': a character-level model can emit half a multi-byte character, and the
 * reply must be valid JSON text for strict clients. */
static void sanitize_utf8(char *s) {
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 : (*p >> 3) == 30 ? 4 : 0;
        int ok = n > 0;
        for (int i = 1; ok && i < n; i++) ok = (p[i] & 0xC0) == 0x80;
        if (ok && n == 2 && *p < 0xC2) ok = 0;                       /* overlong */
        if (ok && n == 3 && *p == 0xE0 && p[1] < 0xA0) ok = 0;       /* overlong */
        if (ok && n == 3 && *p == 0xED && p[1] >= 0xA0) ok = 0;      /* surrogates */
        if (ok && n == 4 && (*p > 0xF4 || (*p == 0xF0 && p[1] < 0x90) || (*p == 0xF4 && p[1] >= 0x90)))
            ok = 0;
        if (!ok) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
}

/* Sample up to max_tokens characters continuing `prompt` (its last seq_len
 * known characters are the context). */
static char *generate(ioaa_server *s, const char *prompt, double temperature, int max_tokens,
                      uint64_t seed) {
    const int T = s->cfg.seq_len, V = s->corpus.vocab;
    int *seq = malloc((size_t)(4 * T + max_tokens + 1) * sizeof *seq);
    double *p = malloc((size_t)V * sizeof *p);
    char *text = malloc((size_t)max_tokens + 1);
    if (!seq || !p || !text) {
        free(seq), free(p), free(text);
        return NULL;
    }
    int n = 0;
    size_t plen = strlen(prompt);
    for (size_t i = plen > (size_t)T * 4 ? plen - (size_t)T * 4 : 0; i < plen; i++) {
        int id = s->corpus.id_of[(unsigned char)prompt[i]];
        if (id >= 0) seq[n++] = id;
    }
    if (n > T) {
        memmove(seq, seq + n - T, (size_t)T * sizeof *seq);
        n = T;
    }
    if (n == 0) seq[n++] = s->corpus.id_of['\n'] >= 0 ? s->corpus.id_of['\n'] : 0;
    dl_rng r;
    dl_rng_init(&r, seed, 7);
    int L = 0;
    for (int k = 0; k < max_tokens; k++) {
        int ctx = n < T ? n : T;
        dl_tensor *logits = dl_gpt_fwd(s->g, &s->model, seq + n - ctx, 1, ctx);
        const float *last = logits->data + (size_t)(ctx - 1) * V;
        int pick = 0;
        if (temperature <= 0) {
            for (int v = 1; v < V; v++)
                if (last[v] > last[pick]) pick = v;
        } else {
            double mx = -INFINITY, z = 0;
            for (int v = 0; v < V; v++) mx = fmax(mx, last[v] / temperature);
            for (int v = 0; v < V; v++) z += p[v] = exp(last[v] / temperature - mx);
            double u = dl_rng_uniform(&r) * z, acc = 0;
            pick = V - 1;
            for (int v = 0; v < V; v++) {
                acc += p[v];
                if (u < acc) {
                    pick = v;
                    break;
                }
            }
        }
        dl_graph_reset(s->g);
        seq[n++] = pick;
        text[L++] = (char)s->corpus.byte_of[pick];
    }
    text[L] = 0;
    sanitize_utf8(text);
    free(seq);
    free(p);
    return text;
}

static void handle_completion(ioaa_server *s, int fd, const char *body) {
    cJSON *o = cJSON_Parse(body);
    if (!cJSON_IsObject(o)) {
        reply_error(fd, 400, "invalid_request_error", NULL, "the request body is not a JSON object");
        cJSON_Delete(o);
        return;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(o, "model");
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(o, "messages");
    const cJSON *temp = cJSON_GetObjectItemCaseSensitive(o, "temperature");
    const cJSON *maxt = cJSON_GetObjectItemCaseSensitive(o, "max_tokens");
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(o, "seed");
    char msg[256];
    if (!cJSON_IsString(model)) {
        reply_error(fd, 400, "invalid_request_error", NULL, "'model' must be a string");
    } else if (strcmp(model->valuestring, MODEL_NAME)) {
        snprintf(msg, sizeof msg, "The model '%.100s' does not exist (this server has '%s')",
                 model->valuestring, MODEL_NAME);
        reply_error(fd, 404, "invalid_request_error", "model_not_found", msg);
    } else if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) < 1) {
        reply_error(fd, 400, "invalid_request_error", NULL, "'messages' must be a non-empty array");
    } else if (temp && (!cJSON_IsNumber(temp) || temp->valuedouble < 0 || temp->valuedouble > 2)) {
        reply_error(fd, 400, "invalid_request_error", NULL, "'temperature' must be a number in [0, 2]");
    } else if (maxt && (!cJSON_IsNumber(maxt) || maxt->valuedouble < 1 || maxt->valuedouble > 1e6)) {
        reply_error(fd, 400, "invalid_request_error", NULL, "'max_tokens' must be a positive integer");
    } else {
        const cJSON *m;
        const char *last_user = NULL;
        int ok = 1;
        cJSON_ArrayForEach(m, msgs) {
            const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
            const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
            if (!cJSON_IsString(role) || !cJSON_IsString(content)) ok = 0;
            else if (!strcmp(role->valuestring, "user")) last_user = content->valuestring;
        }
        if (!ok || !last_user) {
            reply_error(fd, 400, "invalid_request_error", NULL,
                        "every message needs string 'role' and 'content', and one must be from the user");
        } else {
            int want = maxt ? (int)maxt->valuedouble : s->max_tokens;
            if (want > s->max_tokens) want = s->max_tokens;
            double t = temp ? temp->valuedouble : 1.0;
            char *msgs_txt = cJSON_PrintUnformatted(msgs);
            uint64_t key = ioaa_fnv1a(msgs_txt, strlen(msgs_txt)) ^
                           (seed && cJSON_IsNumber(seed) ? (uint64_t)seed->valuedouble : 0);
            free(msgs_txt);
            char *text = generate(s, last_user, t, want, key);
            cJSON *r = cJSON_CreateObject();
            char id[48];
            snprintf(id, sizeof id, "chatcmpl-%016llx", (unsigned long long)key);
            cJSON_AddStringToObject(r, "id", id);
            cJSON_AddStringToObject(r, "object", "chat.completion");
            cJSON_AddNumberToObject(r, "created", (double)time(NULL));
            cJSON_AddStringToObject(r, "model", MODEL_NAME);
            cJSON *choices = cJSON_AddArrayToObject(r, "choices");
            cJSON *c0 = cJSON_CreateObject();
            cJSON_AddNumberToObject(c0, "index", 0);
            cJSON *mm = cJSON_AddObjectToObject(c0, "message");
            cJSON_AddStringToObject(mm, "role", "assistant");
            cJSON_AddStringToObject(mm, "content", text ? text : "");
            cJSON_AddStringToObject(c0, "finish_reason", "length");
            cJSON_AddItemToArray(choices, c0);
            cJSON *usage = cJSON_AddObjectToObject(r, "usage");
            cJSON_AddNumberToObject(usage, "prompt_tokens", (double)strlen(last_user));
            cJSON_AddNumberToObject(usage, "completion_tokens", want);
            cJSON_AddNumberToObject(usage, "total_tokens", (double)strlen(last_user) + want);
            char *out = cJSON_PrintUnformatted(r);
            cJSON_Delete(r);
            reply(fd, 200, out ? out : "{}");
            free(out);
            free(text);
            s->completions++;
        }
    }
    cJSON_Delete(o);
}

/* Read one request (headers + Content-Length body) and answer it. */
static void handle(ioaa_server *s, int fd) {
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char *req = malloc(MAX_HEADER + 1);
    if (!req) return;
    size_t n = 0;
    char *end = NULL;
    while (n < MAX_HEADER && !end) {
        ssize_t r = recv(fd, req + n, MAX_HEADER - n, 0);
        if (r <= 0) break;
        n += (size_t)r;
        req[n] = 0;
        end = strstr(req, "\r\n\r\n");
    }
    if (!end) {
        if (n >= MAX_HEADER) reply_error(fd, 413, "invalid_request_error", NULL, "headers over 64 KiB");
        else if (n > 0) reply_error(fd, 400, "invalid_request_error", NULL, "incomplete HTTP request");
        free(req);
        return;
    }
    char method[8] = "", target[256] = "";
    if (sscanf(req, "%7s %255s", method, target) != 2) {
        reply_error(fd, 400, "invalid_request_error", NULL, "malformed request line");
        free(req);
        return;
    }
    long clen = 0;
    for (char *h = strstr(req, "\r\n"); h && h < end; h = strstr(h + 2, "\r\n"))
        if (!strncasecmp(h + 2, "Content-Length:", 15)) clen = strtol(h + 17, NULL, 10);
    if (!strcmp(target, "/v1/models") && !strcmp(method, "GET")) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"object\":\"list\",\"data\":[{\"id\":\"%s\",\"object\":\"model\",\"owned_by\":\"dynlab\"}]}",
                 MODEL_NAME);
        reply(fd, 200, body);
    } else if (!strcmp(target, "/v1/chat/completions")) {
        if (strcmp(method, "POST")) {
            reply_error(fd, 405, "invalid_request_error", NULL, "use POST");
        } else if (clen < 0 || clen > MAX_BODY) {
            reply_error(fd, 413, "invalid_request_error", NULL, "request body over 4 MiB");
        } else {
            size_t have = n - (size_t)(end + 4 - req);
            char *body = malloc((size_t)clen + 1);
            if (body) {
                size_t got = have < (size_t)clen ? have : (size_t)clen;
                memcpy(body, end + 4, got);
                while (got < (size_t)clen) {
                    ssize_t r = recv(fd, body + got, (size_t)clen - got, 0);
                    if (r <= 0) break;
                    got += (size_t)r;
                }
                body[got] = 0;
                if (got < (size_t)clen)
                    reply_error(fd, 400, "invalid_request_error", NULL, "request body shorter than Content-Length");
                else
                    handle_completion(s, fd, body);
                free(body);
            }
        }
    } else {
        reply_error(fd, 404, "invalid_request_error", NULL, "unknown endpoint");
    }
    free(req);
}

int ioaa_server_serve(ioaa_server *s, int max_requests) {
    while (!atomic_load(&s->stop)) {
        if (max_requests > 0 && s->completions >= max_requests) break;
        struct pollfd pf = {s->fd, POLLIN, 0};
        int r = poll(&pf, 1, 100);
        if (r <= 0) continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0) continue;
        handle(s, c);
        close(c);
    }
    close(s->fd); /* as a killed server: further connections are refused */
    s->fd = -1;
    return 0;
}
