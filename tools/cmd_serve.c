/* `dynlab serve gpt --checkpoint F`: an OpenAI-compatible chat-completions
 * server (POST /v1/chat/completions, GET /v1/models) for a trained gpt run,
 * so LLM benchmarks (the ioaa system) run end to end offline. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "ioaa/ioaa.h"

static ioaa_server *g_server;

static void on_signal(int sig) {
    (void)sig;
    if (g_server) ioaa_server_stop(g_server); /* an atomic store: async-signal-safe */
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: dynlab serve gpt --checkpoint F [--host 127.0.0.1] [--port 8080]\n"
            "                        [--max-tokens N] [--max-requests N]\n"
            "\n"
            "Serves the gpt model of a run directory (F = RUN/checkpoint.safetensors; RUN/config.json\n"
            "gives its shape and corpus) as the model \"dynlab-gpt\" with the OpenAI chat-completions\n"
            "API: POST /v1/chat/completions, GET /v1/models. Bad requests get OpenAI-style JSON\n"
            "errors with 4xx codes. --max-tokens caps each answer (default 400 characters);\n"
            "--max-requests N stops after N answers (tests). Stop with Ctrl-C.\n");
}

static int parse_int(const char *s, int lo, int hi, int *out) {
    char *e;
    long v = strtol(s, &e, 10);
    if (e == s || *e || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

int dl_cmd_serve(int argc, char **argv) {
    const char *model = NULL, *ckpt = NULL, *host = "127.0.0.1";
    int port = 8080, max_tokens = 400, max_requests = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return DL_EXIT_OK;
        } else if ((v = dl_cli_opt(argc, argv, &i, "--checkpoint"))) {
            ckpt = v;
        } else if ((v = dl_cli_opt(argc, argv, &i, "--host"))) {
            host = v;
        } else if ((v = dl_cli_opt(argc, argv, &i, "--port"))) {
            if (parse_int(v, 0, 65535, &port)) {
                fprintf(stderr, "dynlab serve: --port expects an integer in [0, 65535], got '%s'\n", v);
                return DL_EXIT_USAGE;
            }
        } else if ((v = dl_cli_opt(argc, argv, &i, "--max-tokens"))) {
            if (parse_int(v, 1, 100000, &max_tokens)) {
                fprintf(stderr, "dynlab serve: --max-tokens expects an integer in [1, 100000], got '%s'\n", v);
                return DL_EXIT_USAGE;
            }
        } else if ((v = dl_cli_opt(argc, argv, &i, "--max-requests"))) {
            if (parse_int(v, 0, 1000000000, &max_requests)) {
                fprintf(stderr, "dynlab serve: --max-requests expects a non-negative integer, got '%s'\n", v);
                return DL_EXIT_USAGE;
            }
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "dynlab serve: unknown option '%s' (see dynlab serve --help)\n", argv[i]);
            return DL_EXIT_USAGE;
        } else if (!model) {
            model = argv[i];
        } else {
            fprintf(stderr, "dynlab serve: one model only (got '%s' and '%s')\n", model, argv[i]);
            return DL_EXIT_USAGE;
        }
    }
    if (!model || strcmp(model, "gpt")) {
        fprintf(stderr, "dynlab serve: the model to serve must be 'gpt' (got '%s')\n",
                model ? model : "nothing");
        return DL_EXIT_USAGE;
    }
    if (!ckpt) {
        fprintf(stderr, "dynlab serve: --checkpoint F is required\n");
        return DL_EXIT_USAGE;
    }
    char err[1024];
    g_server = ioaa_server_open(ckpt, host, port, max_tokens, err, sizeof err);
    if (!g_server) {
        fprintf(stderr, "dynlab serve: %s\n", err);
        return DL_EXIT_FAIL;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    fprintf(stderr, "dynlab serve: model %s on http://%s:%d/v1 (Ctrl-C stops)\n",
            ioaa_server_model(g_server), host, ioaa_server_port(g_server));
    printf("port %d\n", ioaa_server_port(g_server));
    fflush(stdout);
    ioaa_server_serve(g_server, max_requests);
    fprintf(stderr, "dynlab serve: stopped after %d completion(s)\n", ioaa_server_completions(g_server));
    ioaa_server_close(g_server);
    return DL_EXIT_OK;
}
