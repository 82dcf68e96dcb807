/* `dynlab eval rtdetr --data DIR (--checkpoint F | --results R.json)`: COCO
 * evaluation exactly as pycocotools' COCOeval (experiments/rtdetr/cocoeval.c)
 * of a trained checkpoint, or of any detector's COCO results file, on a
 * COCO-format folder (DIR/annotations.json + images). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rtdetr/coco.h"
#include "rtdetr/cocoeval.h"
#include "rtdetr/infer.h"

int dl_cmd_eval(int argc, char **argv);

static void usage(FILE *f)
{
    fprintf(f, "usage: dynlab eval rtdetr --data DIR (--checkpoint F | --results R.json) [options]\n"
               "\n"
               "  --data DIR         COCO-format folder: DIR/annotations.json, image file_names relative to DIR\n"
               "  --checkpoint F     a trained rtdetr checkpoint (runs/rtdetr/.../checkpoint.safetensors)\n"
               "  --results R.json   evaluate a COCO results file (list of image_id, category_id, bbox, score)\n"
               "  --score-thr T      score threshold for precision and recall (default 0.3, as the run)\n"
               "  --json FILE        write the stats as JSON\n"
               "  -o FILE            with --checkpoint: write the detections as a COCO results file\n"
               "\n"
               "Prints AP, AP50, AP75, APs/m/l, AR1/10/100, ARs/m/l as pycocotools' COCOeval.summarize()\n"
               "defines them, and precision/recall at IoU 0.5 and the score threshold.\n");
}

int dl_cmd_eval(int argc, char **argv)
{
    const char *data = NULL, *ckpt = NULL, *results = NULL, *json = NULL, *out = NULL;
    double thr = 0.3; /* the run's stated threshold (claims.score_thr) */
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? DL_EXIT_USAGE : DL_EXIT_OK;
    }
    if (strcmp(argv[1], "rtdetr")) {
        fprintf(stderr, "dynlab eval: only 'rtdetr' has an evaluator (got '%s')\n", argv[1]);
        return DL_EXIT_USAGE;
    }
    for (int i = 2; i < argc; i++) {
        const char *v;
        if ((v = dl_cli_opt(argc, argv, &i, "--data"))) data = v;
        else if ((v = dl_cli_opt(argc, argv, &i, "--checkpoint"))) ckpt = v;
        else if ((v = dl_cli_opt(argc, argv, &i, "--results"))) results = v;
        else if ((v = dl_cli_opt(argc, argv, &i, "--json"))) json = v;
        else if ((v = dl_cli_opt(argc, argv, &i, "-o"))) out = v;
        else if ((v = dl_cli_opt(argc, argv, &i, "--score-thr"))) {
            char *end;
            thr = strtod(v, &end);
            if (end == v || *end || !(thr >= 0 && thr <= 1)) {
                fprintf(stderr, "dynlab eval: --score-thr must be a number in [0, 1]\n");
                return DL_EXIT_USAGE;
            }
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return DL_EXIT_OK;
        } else {
            fprintf(stderr, "dynlab eval: unknown option '%s' (see dynlab eval --help)\n", argv[i]);
            return DL_EXIT_USAGE;
        }
    }
    if (!data || (!ckpt == !results)) {
        fprintf(stderr, "dynlab eval: need --data DIR and exactly one of --checkpoint F, --results R.json\n");
        return DL_EXIT_USAGE;
    }
    char path[1200], err[1400];
    snprintf(path, sizeof path, "%s/annotations.json", data);
    coco_dataset ds;
    if (coco_read(path, &ds, err, sizeof err)) {
        fprintf(stderr, "error: %s\n", err);
        return DL_EXIT_FAIL;
    }
    coco_det *dets = NULL;
    int nd = 0, rc = DL_EXIT_FAIL;
    if (results) {
        if (coco_read_results(results, &ds, &dets, &nd, err, sizeof err)) {
            fprintf(stderr, "error: %s\n", err);
            goto done;
        }
    } else {
        if (rtdetr_predict_dataset(ckpt, data, &ds, &dets, &nd, err, sizeof err)) {
            fprintf(stderr, "error: %s\n", err);
            goto done;
        }
        if (out && coco_write_results(out, dets, nd, err, sizeof err)) {
            fprintf(stderr, "error: %s\n", err);
            goto done;
        }
    }
    long *imgs = malloc(sizeof(long) * (size_t)(ds.n_images + 1)), *cats = malloc(sizeof(long) * (size_t)ds.n_cats);
    coco_stats st;
    if (!imgs || !cats) { free(imgs); free(cats); fprintf(stderr, "error: out of memory\n"); goto done; }
    for (int i = 0; i < ds.n_images; i++) imgs[i] = ds.images[i].id;
    for (int i = 0; i < ds.n_cats; i++) cats[i] = ds.cats[i].id;
    int erc = coco_evaluate(ds.anns, ds.n_anns, dets, nd, imgs, ds.n_images, cats, ds.n_cats, &st);
    free(imgs); free(cats);
    if (erc) { fprintf(stderr, "error: out of memory in the evaluation\n"); goto done; }
    double p, r;
    coco_precision_recall(ds.anns, ds.n_anns, dets, nd, 0.5, thr, &p, &r);
    static const char *names[12] = {
        "Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]",
        "Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ]",
        "Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ]",
        "Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ]",
        "Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ]",
        "Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ]",
        "Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ]",
        "Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets= 10 ]",
        "Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]",
        "Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ]",
        "Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ]",
        "Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ]"};
    printf("%d images, %d annotations, %d detections\n", ds.n_images, ds.n_anns, nd);
    for (int s = 0; s < 12; s++) printf(" %s = %.3f\n", names[s], st.stats[s]);
    printf(" Precision @[ IoU=0.50 | score>=%.2f ] = %.3f\n Recall    @[ IoU=0.50 | score>=%.2f ] = %.3f\n", thr,
           p, thr, r);
    if (json) {
        FILE *f = fopen(json, "w");
        if (!f) { fprintf(stderr, "error: cannot write %s\n", json); goto done; }
        fprintf(f, "{\"stats\": [");
        for (int s = 0; s < 12; s++) fprintf(f, "%s%.17g", s ? ", " : "", st.stats[s]);
        fprintf(f, "], \"precision\": %.17g, \"recall\": %.17g, \"score_thr\": %.17g}\n", p, r, thr);
        if (fclose(f)) { fprintf(stderr, "error: cannot write %s\n", json); goto done; }
    }
    rc = DL_EXIT_OK;
done:
    free(dets);
    coco_free(&ds);
    return rc;
}
