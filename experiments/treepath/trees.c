/* Tree generators, docs/papers/treepath.md (training trees, Assumption 3) and the
 * (test trees: 0-3 children per node, unique labels [S]). */
#include "treepath/trees.h"

#include <string.h>

static void assign_labels(tp_tree *t, int S, dl_rng *r) {
    /* Labels without replacement: the first n entries of a uniform permutation. */
    int perm[TP_MAX_LABELS];
    for (int i = 0; i < S; i++) perm[i] = i;
    dl_rng_shuffle_int(r, perm, S);
    for (int i = 0; i < t->n; i++) t->label[i] = perm[i];
}

static int pick_leaf(const tp_tree *t, dl_rng *r) {
    int leaves[TP_MAX_NODES], nl = 0;
    for (int i = 1; i < t->n; i++)
        if (t->nchild[i] == 0) leaves[nl++] = i;
    if (nl == 0) return -1;
    return leaves[dl_rng_below(r, (uint32_t)nl)];
}

void tp_tree_perfect(tp_tree *t, int m, int S, dl_rng *r) {
    memset(t, 0, sizeof *t);
    t->n = (1 << (m + 1)) - 1;
    for (int i = 0; i < t->n; i++) {
        t->parent[i] = i == 0 ? -1 : (i - 1) / 2;
        t->depth[i] = i == 0 ? 0 : t->depth[(i - 1) / 2] + 1;
        t->nchild[i] = 2 * i + 1 < t->n ? 2 : 0;
    }
    assign_labels(t, S, r);
    /* Leaves are the last 2^m nodes. */
    int first_leaf = (1 << m) - 1;
    t->goal = first_leaf + (int)dl_rng_below(r, (uint32_t)(1 << m));
    if (m == 0) t->goal = 0;
}

void tp_tree_random(tp_tree *t, int S, int max_children, int min_nodes, int max_depth, dl_rng *r) {
    if (min_nodes < 2) min_nodes = 2;
    if (min_nodes > S) min_nodes = S;
    for (;;) {
        memset(t, 0, sizeof *t);
        int cap = min_nodes + (int)dl_rng_below(r, (uint32_t)(S - min_nodes + 1));
        t->n = 1;
        t->parent[0] = -1;
        /* Breadth-first: node i's children are appended in order. */
        for (int i = 0; i < t->n && t->n < cap; i++) {
            int k = (int)dl_rng_below(r, (uint32_t)(max_children + 1));
            for (int c = 0; c < k && t->n < cap; c++) {
                int j = t->n++;
                t->parent[j] = i;
                t->depth[j] = t->depth[i] + 1;
                t->nchild[i]++;
            }
        }
        if (t->n < 2) continue;
        int g = pick_leaf(t, r);
        if (g < 0) continue;
        if (max_depth > 0 && t->depth[g] > max_depth) continue;
        t->goal = g;
        assign_labels(t, S, r);
        return;
    }
}

int tp_tree_path(const tp_tree *t, int *path) {
    int len = 0, v = t->goal;
    path[0] = v;
    while (t->parent[v] >= 0) {
        v = t->parent[v];
        path[++len] = v;
    }
    return len;
}

int tp_tree_check(const tp_tree *t, int S) {
    if (t->n < 1 || t->n > TP_MAX_NODES || t->n > S) return -1;
    int seen[TP_MAX_LABELS] = {0};
    int nchild[TP_MAX_NODES] = {0};
    for (int i = 0; i < t->n; i++) {
        if (t->label[i] < 0 || t->label[i] >= S) return -2;
        if (seen[t->label[i]]++) return -3;
        if (i == 0) {
            if (t->parent[0] != -1 || t->depth[0] != 0) return -4;
        } else {
            int p = t->parent[i];
            if (p < 0 || p >= i) return -5;
            if (t->depth[i] != t->depth[p] + 1) return -6;
            nchild[p]++;
        }
    }
    for (int i = 0; i < t->n; i++)
        if (nchild[i] != t->nchild[i]) return -7;
    if (t->goal < 0 || t->goal >= t->n || t->nchild[t->goal] != 0) return -8;
    return 0;
}

void tp_tree_relabel(tp_tree *t, const int *perm) {
    for (int i = 0; i < t->n; i++) t->label[i] = perm[t->label[i]];
}
