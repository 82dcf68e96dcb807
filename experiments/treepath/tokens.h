/* Token format, our reconstruction (docs/papers/treepath.md).
 *
 * Every token is z = [e_x ; e_y ; type ; signal]:
 *   x      the node the token "is at" (matched by the keys), or -1 (zero slot)
 *   y      the node the token points to (read by the traversal head's value)
 *   type   one of TP_T_* (a one-hot "stage/role" part of the embedding)
 *   sig    stage signal s_b = 0 / s_f = 1 (read by the stage head's value)
 *
 *   edge p->c         [e_c ; e_p ; EDGE ; s_b]    (shuffled edge list)
 *   root r            [e_r ; e_r ; ROOT ; s_f]    (root is its own parent; marks the switch)
 *   goal g            [e_g ; 0   ; OUTB ; s_b]    (start of the backward stage)
 *   CoT, stage b      [e_new ; e_prev ; OUTB ; s_b]  (the traversed edge, new node first)
 *   CoT, stage f      [e_new ; e_prev ; OUTF ; s_f]
 * The query of every step is the last token: its node x and its type. */
#ifndef TREEPATH_TOKENS_H
#define TREEPATH_TOKENS_H

#include "treepath/trees.h"

enum { TP_T_EDGE = 0, TP_T_ROOT = 1, TP_T_OUTB = 2, TP_T_OUTF = 3, TP_NTYPES = 4 };
enum { TP_SB = 0, TP_SF = 1 };
enum { TP_TASK_BACKWARD = 0, TP_TASK_FORWARD = 1, TP_TASK_NOCOT = 2 };

#define TP_MAX_SEQ (2 * TP_MAX_NODES + 8)
#define TP_MAX_STEPS (2 * TP_MAX_NODES)

typedef struct tp_token {
    short x, y;
    unsigned char type, sig;
} tp_token;

/* One example with its teacher-forced chain of thought. Query k uses the
 * context tok[0 .. ctx_len[k]-1] and its last token is the query token. */
typedef struct tp_example {
    tp_token tok[TP_MAX_SEQ];
    int n_tok;              /* full teacher-forced sequence length */
    int n_input;            /* edges + root + goal */
    int n_steps;            /* number of queries (outputs) */
    int ctx_len[TP_MAX_STEPS];
    int target_node[TP_MAX_STEPS]; /* label of the node to output */
    int target_sig[TP_MAX_STEPS];  /* stage of that output (forward) */
    int path_len;           /* depth of the goal */
    int edge_of[TP_MAX_STEPS];     /* position of the token holding the answer (traversal) */
} tp_example;

/* Input part: shuffled edges, root token, goal token. Returns n_input. */
int tp_tokens_input(const tp_tree *t, tp_token *tok, dl_rng *r);

/* Outputs of the task as labels and stages (the ground truth chain):
 *   backward: v_1 .. v_L (goal's ancestors up to the root), all s_b
 *   forward:  v_1 .. v_L = root (s_b), then v_{L-1} .. v_0 = goal (s_f)
 *   nocot:    one output, the path node at depth 1 (root's child on the path)
 * Returns the number of outputs. */
int tp_task_outputs(const tp_tree *t, int task, int *node, int *sig);

/* The token appended after output `node` with stage `sig` when the previous
 * query node was `prev` (labels). */
tp_token tp_token_cot(int node, int prev, int sig);

/* Full teacher-forced example (input + ground-truth CoT tokens). */
void tp_example_build(tp_example *ex, const tp_tree *t, int task, dl_rng *r);

#endif
