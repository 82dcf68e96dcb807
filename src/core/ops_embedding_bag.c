/* Embedding bag: the sum or mean of a variable number of table rows per bag
 * (torch.nn.functional.embedding_bag with offsets, include_last_offset=False),
 * without materialising the [n_ids, D] gathered rows. */
#include <string.h>
#include "core/internal.h"
#include "dynlab/rnn.h"

typedef struct bag_saved {
    int *ids, *offsets;
    int n_ids, n_bags, mean;
} bag_saved;

static void bag_range(const bag_saved *s, int b, int *lo, int *hi) {
    *lo = s->offsets[b];
    *hi = b + 1 < s->n_bags ? s->offsets[b + 1] : s->n_ids;
}

/* Bags in order, ids in order inside a bag: the same sums for any thread count. */
static void bag_bwd(dl_graph *g, const dl_rec *r) {
    const bag_saved *s = r->saved;
    dl_tensor *table = r->in[0];
    const int64_t D = table->shape[1];
    float *gt = dl_tensor_grad(g, table);
    const float *dy = r->out->grad;
    for (int b = 0; b < s->n_bags; b++) {
        int lo, hi;
        bag_range(s, b, &lo, &hi);
        if (hi <= lo) continue;
        const float scale = s->mean ? 1.0f / (float)(hi - lo) : 1.0f;
        for (int i = lo; i < hi; i++) dl_k_axpy(scale, dy + b * D, gt + (int64_t)s->ids[i] * D, D);
    }
}

dl_tensor *dl_embedding_bag(dl_graph *g, dl_tensor *table, const int *ids, int n_ids, const int *offsets,
                            int n_bags, int mean) {
    if (table->ndim != 2) dl_fatal("dl_embedding_bag: table must be [V, D]");
    if (n_ids < 0 || n_bags < 0) dl_fatal("dl_embedding_bag: negative count");
    const int V = table->shape[0];
    const int64_t D = table->shape[1];
    for (int b = 0; b < n_bags; b++) {
        const int lo = offsets[b], hi = b + 1 < n_bags ? offsets[b + 1] : n_ids;
        if ((b == 0 && lo != 0) || lo < 0 || hi < lo || hi > n_ids)
            dl_fatal("dl_embedding_bag: offsets must start at 0 and be non-decreasing up to %d (bag %d: %d..%d)",
                     n_ids, b, lo, hi);
    }
    for (int i = 0; i < n_ids; i++)
        if (ids[i] < 0 || ids[i] >= V) dl_fatal("dl_embedding_bag: id %d at %d outside [0, %d)", ids[i], i, V);
    int os[2] = {n_bags, (int)D};
    dl_tensor *out = dl_tensor_new(g, 2, os);
    bag_saved s = {(int *)ids, (int *)offsets, n_ids, n_bags, mean};
    for (int b = 0; b < n_bags; b++) {
        int lo, hi;
        bag_range(&s, b, &lo, &hi);
        float *y = out->data + b * D;
        memset(y, 0, (size_t)D * sizeof(float));
        for (int i = lo; i < hi; i++) dl_k_acc(table->data + (int64_t)ids[i] * D, y, D);
        if (mean && hi > lo) dl_k_scale(y, 1.0f / (float)(hi - lo), D);
    }
    dl_rec *r = dl_record(g, bag_bwd, out, table, NULL, NULL);
    if (r) {
        bag_saved *sv = dl_graph_alloc(g, sizeof *sv);
        *sv = s;
        sv->ids = dl_graph_copy(g, ids, (size_t)n_ids * sizeof(int));
        sv->offsets = dl_graph_copy(g, offsets, (size_t)n_bags * sizeof(int));
        r->saved = sv;
    }
    return out;
}
