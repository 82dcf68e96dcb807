/* `dynlab detect rtdetr --checkpoint F IMAGE... -o DIR`: run a trained rtdetr
 * checkpoint on PNG/JPEG files, draw its boxes (one colour per class) and
 * write DIR/detections.json with labels and scores. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rtdetr/infer.h"

int dl_cmd_detect(int argc, char **argv);

int dl_cmd_detect(int argc, char **argv)
{
    const char *ckpt = NULL, *out = NULL;
    double thr = 0.3;
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fprintf(argc < 2 ? stderr : stdout,
                "usage: dynlab detect rtdetr --checkpoint F IMAGE... -o DIR [--score-thr T]\n"
                "  draws the detections with score >= T (default 0.3) on each image into DIR/<name>.png\n"
                "  and writes DIR/detections.json (image, label, score, bbox [x, y, w, h] in pixels)\n");
        return argc < 2 ? DL_EXIT_USAGE : DL_EXIT_OK;
    }
    if (strcmp(argv[1], "rtdetr")) {
        fprintf(stderr, "dynlab detect: only 'rtdetr' is a detector (got '%s')\n", argv[1]);
        return DL_EXIT_USAGE;
    }
    char **imgs = calloc((size_t)argc, sizeof(char *));
    int n = 0;
    if (!imgs) return DL_EXIT_FAIL;
    for (int i = 2; i < argc; i++) {
        const char *v;
        if ((v = dl_cli_opt(argc, argv, &i, "--checkpoint"))) ckpt = v;
        else if ((v = dl_cli_opt(argc, argv, &i, "-o"))) out = v;
        else if ((v = dl_cli_opt(argc, argv, &i, "--score-thr"))) {
            char *end;
            thr = strtod(v, &end);
            if (end == v || *end || !(thr >= 0 && thr <= 1)) {
                fprintf(stderr, "dynlab detect: --score-thr must be a number in [0, 1]\n");
                free(imgs);
                return DL_EXIT_USAGE;
            }
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "dynlab detect: unknown option '%s'\n", argv[i]);
            free(imgs);
            return DL_EXIT_USAGE;
        } else imgs[n++] = argv[i];
    }
    if (!ckpt || !out || n == 0) {
        fprintf(stderr, "dynlab detect: need --checkpoint F, -o DIR and at least one image\n");
        free(imgs);
        return DL_EXIT_USAGE;
    }
    char err[1600];
    char cerr[1200];
    if (dl_cli_check_out("-o", out, cerr, sizeof cerr)) {
        fprintf(stderr, "dynlab detect: %s\n", cerr);
        free(imgs);
        return DL_EXIT_USAGE;
    }
    int rc = rtdetr_detect_files(ckpt, imgs, n, out, thr, err, sizeof err);
    free(imgs);
    if (rc) {
        fprintf(stderr, "error: %s\n", err);
        return DL_EXIT_FAIL;
    }
    printf("wrote %d image(s) and detections.json to %s\n", n, out);
    return DL_EXIT_OK;
}
