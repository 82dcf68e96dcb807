/* Greedy autoregressive inference and metrics on unseen random trees. */
#include "treepath/infer.h"

#include <stdlib.h>
#include <string.h>

static int argmax(const float *v, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

int tp_decode(const tp_model *m, const tp_tree *t, int task, dl_rng *r, int *pred_node,
              int *pred_sig, float *attn, tp_token *ctx, int *ctx_len) {
    tp_token local[TP_MAX_SEQ];
    tp_token *tok = ctx ? ctx : local;
    int n = tp_tokens_input(t, tok, r);
    int L = t->depth[t->goal];
    int n_out = task == TP_TASK_FORWARD ? 2 * L : task == TP_TASK_BACKWARD ? L : 1;
    int prev = t->label[t->goal];
    float alpha[TP_MAX_SEQ];
    for (int k = 0; k < n_out; k++) {
        float out[TP_MAX_LABELS + 2] = {0};
        for (int h = 0; h < m->n_heads; h++) {
            tp_head_attend(m, h, tok, n, alpha);
            if (attn) memcpy(attn + ((size_t)h * n_out + k) * TP_MAX_SEQ, alpha, sizeof(float) * n);
            for (int j = 0; j < n; j++) tp_value_add(m, h, &tok[j], alpha[j], out);
        }
        int v = argmax(out, m->S);
        int s = m->out_dim > m->S ? argmax(out + m->S, 2) : TP_SB;
        pred_node[k] = v;
        pred_sig[k] = s;
        /* The model's own output (node and stage) becomes the next CoT token. */
        if (k + 1 < n_out) {
            tok[n++] = tp_token_cot(v, prev, s);
            prev = v;
        }
    }
    if (ctx_len) *ctx_len = n;
    return n_out;
}

int tp_query_phase(const tp_example *ex, int k, int task) {
    if (task != TP_TASK_FORWARD) return 0;
    if (ex->target_sig[k] == TP_SB) return 0;
    return k == ex->path_len ? 1 : 2;
}

double tp_batch_loss(const tp_model *m, const tp_batch *b, const float *out, const float *target) {
    return b->n_ex ? tp_sq_loss(m, b, out, target) * b->n_q / b->n_ex : 0.0;
}

void tp_evaluate(const tp_model *m, const tp_tree *trees, const tp_example *ex, int n, int task,
                 uint64_t seed, tp_eval *ev) {
    memset(ev, 0, sizeof *ev);
    ev->n = n;
    dl_rng r;
    dl_rng_init(&r, seed, 0x7e57);
    int ok_path = 0, ok_ans = 0, ok_sw = 0;
    long steps = 0, ok_steps = 0, ok_sig = 0;
    int depth_ok[TP_DEPTH_BINS] = {0};
    for (int i = 0; i < n; i++) {
        int pn[TP_MAX_STEPS], ps[TP_MAX_STEPS], tn[TP_MAX_STEPS], ts[TP_MAX_STEPS];
        int n_out = tp_decode(m, &trees[i], task, &r, pn, ps, NULL, NULL, NULL);
        tp_task_outputs(&trees[i], task, tn, ts);
        int L = trees[i].depth[trees[i].goal];
        int all = 1, ans = 1, sw = 1;
        for (int k = 0; k < n_out; k++) {
            int good = pn[k] == tn[k];
            all &= good;
            ok_steps += good;
            steps++;
            /* forward answer: the root->goal part, outputs L-1 .. 2L-1 */
            if (task != TP_TASK_FORWARD || k >= L - 1) ans &= good;
            if (task == TP_TASK_FORWARD) {
                sw &= ps[k] == ts[k];
                ok_sig += ps[k] == ts[k];
            }
        }
        ok_path += all;
        ok_ans += ans;
        ok_sw += sw;
        int d = L < TP_DEPTH_BINS ? L : TP_DEPTH_BINS - 1;
        ev->by_depth_n[d]++;
        depth_ok[d] += all;
    }
    ev->path_acc = n ? (double)ok_path / n : 0;
    ev->answer_acc = n ? (double)ok_ans / n : 0;
    ev->step_acc = steps ? (double)ok_steps / steps : 0;
    ev->switch_acc = task == TP_TASK_FORWARD && n ? (double)ok_sw / n : 0;
    ev->switch_step_acc = task == TP_TASK_FORWARD && steps ? (double)ok_sig / steps : 0;
    for (int d = 0; d < TP_DEPTH_BINS; d++)
        ev->by_depth_acc[d] = ev->by_depth_n[d] ? (double)depth_ok[d] / ev->by_depth_n[d] : 0;

    /* Teacher-forced loss and attention statistics. */
    tp_batch b;
    tp_batch_init(&b, ex, n);
    size_t no = (size_t)b.n_q * (size_t)m->out_dim;
    float *out = malloc(sizeof(float) * no), *tg = malloc(sizeof(float) * no);
    float *alpha[TP_MAX_HEADS];
    for (int h = 0; h < m->n_heads; h++) alpha[h] = malloc(sizeof(float) * (size_t)(b.a_off[b.n_q] + 1));
    tp_attn_forward(m, &b, out, alpha);
    tp_targets(m, &b, tg);
    ev->test_loss = tp_batch_loss(m, &b, out, tg);
    for (int q = 0; q < b.n_q; q++) {
        const tp_example *e = &ex[b.q_ex[q]];
        int k = b.q_step[q], nctx = e->ctx_len[k];
        int ph = tp_query_phase(e, k, task);
        ev->phase_n[ph]++;
        for (int h = 0; h < m->n_heads; h++) {
            const float *a = alpha[h] + b.a_off[q];
            for (int j = 0; j < nctx; j++) ev->attn_type[h][ph][e->tok[j].type] += a[j];
            if (h == 0 && e->edge_of[k] >= 0) ev->attn_path[ph] += a[e->edge_of[k]];
        }
    }
    for (int ph = 0; ph < 3; ph++) {
        if (!ev->phase_n[ph]) continue;
        ev->attn_path[ph] /= ev->phase_n[ph];
        for (int h = 0; h < m->n_heads; h++)
            for (int ty = 0; ty < TP_NTYPES; ty++) ev->attn_type[h][ph][ty] /= ev->phase_n[ph];
    }
    for (int h = 0; h < m->n_heads; h++) free(alpha[h]);
    free(out);
    free(tg);
    tp_batch_free(&b);
}
