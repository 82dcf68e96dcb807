/* The run: the linear part (claims C1-C4), then the deep part on Fashion-MNIST
 * (claim C5 on the split family; the rotated family is reported). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dynlab/data.h"
#include "dynlab/run.h"
#include "rehearsal/rehearsal.h"

int rh_run(const void *cfgv, dl_run *run);

static int deep_part(const rh_cfg *c, dl_run *run)
{
    char err[512];
    dl_mnist tr, te;
    if (dl_fashion_mnist_load("train", c->data_subset, &tr, err, sizeof err)) {
        dl_log(run, "error: rehearsal: %s", err);
        return -1;
    }
    if (dl_fashion_mnist_load("test", c->data_subset, &te, err, sizeof err)) {
        dl_log(run, "error: rehearsal: %s", err);
        dl_mnist_free(&tr);
        return -1;
    }
    const char *fams[2];
    int nf = 0;
    if (strcmp(c->family, "rotated")) fams[nf++] = "split";
    if (strcmp(c->family, "split")) fams[nf++] = "rotated";
    rh_deep_summary D[2];
    memset(D, 0, sizeof D);
    int rc = 0, k;
    for (k = 0; k < nf && !rc; k++) {
        rc = rh_deep_phase(c, run, fams[k], &tr, &te, &D[k]);
        if (rc) break;
        if (!strcmp(fams[k], "split")) rh_deep_claims(c, run, &D[k]);
        else rh_deep_report_rotated(run, &D[k]);
    }
    if (!rc) rh_deep_plots(run, D, nf);
    for (int i = 0; i < 2; i++) rh_deep_summary_free(&D[i]);
    dl_mnist_free(&tr);
    dl_mnist_free(&te);
    return rc;
}

int rh_run(const void *cfgv, dl_run *run)
{
    const rh_cfg *c = cfgv;
    if (!c->lin_enable && !c->deep_enable) {
        dl_log(run, "error: rehearsal: linear.enable and deep.enable are both false: nothing to run");
        return -1;
    }
    if (dl_run_untrained(run)) dl_log(run, "rehearsal: untrained control: no minimum-norm update, no SGD step");
    if (c->lin_enable) {
        rh_lin_results *L = calloc(1, sizeof *L);
        if (!L) { dl_log(run, "error: rehearsal: out of memory"); return -1; }
        if (rh_linear_phase(c, run, L)) { free(L); return -1; }
        rh_linear_claims(c, run, L);
        rh_linear_plots(c, run, L);
        free(L);
    }
    if (c->deep_enable && deep_part(c, run)) return -1;
    return 0;
}
