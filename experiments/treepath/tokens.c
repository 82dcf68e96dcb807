/* Token sequences, our reconstruction, docs/papers/treepath.md: shuffled edge list, root, goal, CoT. */
#include "treepath/tokens.h"

#include <string.h>

int tp_tokens_input(const tp_tree *t, tp_token *tok, dl_rng *r) {
    int order[TP_MAX_NODES], ne = 0;
    for (int i = 1; i < t->n; i++) order[ne++] = i;
    dl_rng_shuffle_int(r, order, ne);
    int k = 0;
    for (int e = 0; e < ne; e++) {
        int c = order[e];
        tok[k++] = (tp_token){(short)t->label[c], (short)t->label[t->parent[c]], TP_T_EDGE, TP_SB};
    }
    int root = t->label[0];
    tok[k++] = (tp_token){(short)root, (short)root, TP_T_ROOT, TP_SF};
    tok[k++] = (tp_token){(short)t->label[t->goal], -1, TP_T_OUTB, TP_SB};
    return k;
}

int tp_task_outputs(const tp_tree *t, int task, int *node, int *sig) {
    int path[TP_MAX_NODES];
    int L = tp_tree_path(t, path);
    int n = 0;
    if (task == TP_TASK_NOCOT) {
        node[0] = t->label[path[L > 0 ? L - 1 : 0]];
        sig[0] = TP_SF;
        return 1;
    }
    for (int i = 1; i <= L; i++) {
        node[n] = t->label[path[i]];
        sig[n++] = TP_SB;
    }
    if (task == TP_TASK_FORWARD)
        for (int i = L - 1; i >= 0; i--) {
            node[n] = t->label[path[i]];
            sig[n++] = TP_SF;
        }
    return n;
}

tp_token tp_token_cot(int node, int prev, int sig) {
    return (tp_token){(short)node, (short)prev, sig == TP_SF ? TP_T_OUTF : TP_T_OUTB,
                      (unsigned char)sig};
}

void tp_example_build(tp_example *ex, const tp_tree *t, int task, dl_rng *r) {
    ex->n_input = tp_tokens_input(t, ex->tok, r);
    ex->n_tok = ex->n_input;
    int node[TP_MAX_STEPS], sig[TP_MAX_STEPS];
    int n_out = tp_task_outputs(t, task, node, sig);
    ex->path_len = t->depth[t->goal];
    /* NoCoT: a single query at the goal token. Otherwise one query per output,
     * the context growing by the ground-truth CoT token (teacher forcing). */
    int n_steps = task == TP_TASK_NOCOT ? 1 : n_out;
    int prev = t->label[t->goal];
    for (int k = 0; k < n_steps; k++) {
        ex->ctx_len[k] = ex->n_tok;
        ex->target_node[k] = node[k];
        ex->target_sig[k] = sig[k];
        if (k + 1 < n_steps) {
            ex->tok[ex->n_tok++] = tp_token_cot(node[k], prev, sig[k]);
            prev = node[k];
        }
    }
    ex->n_steps = n_steps;
    /* Position of the token a perfect traversal head reads at each step. */
    for (int k = 0; k < n_steps; k++) {
        ex->edge_of[k] = -1;
        const tp_token *q = &ex->tok[ex->ctx_len[k] - 1];
        for (int j = 0; j < ex->ctx_len[k]; j++) {
            const tp_token *z = &ex->tok[j];
            if (z->x != q->x || z->y != ex->target_node[k]) continue;
            int want = (task == TP_TASK_FORWARD && (ex->target_sig[k] == TP_SF)) ? TP_T_OUTB
                                                                                  : TP_T_EDGE;
            if (z->type == want) { ex->edge_of[k] = j; break; }
        }
    }
}
