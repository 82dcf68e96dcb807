/* Trees for path-finding (docs/papers/treepath.md: training trees and the test set).
 *
 * Node 0 is the root; parent[] holds node indices (-1 for the root). Every
 * node carries a label drawn without replacement from [0, S). */
#ifndef TREEPATH_TREES_H
#define TREEPATH_TREES_H

#include "dynlab/rng.h"

#define TP_MAX_NODES 128
#define TP_MAX_LABELS 128

typedef struct tp_tree {
    int n;                        /* number of nodes */
    int label[TP_MAX_NODES];      /* distinct labels in [0, S) */
    int parent[TP_MAX_NODES];     /* parent index, -1 for node 0 (root) */
    int depth[TP_MAX_NODES];      /* root = 0 */
    int nchild[TP_MAX_NODES];
    int goal;                     /* node index of the goal (a leaf) */
} tp_tree;

/* Perfect binary tree of depth m (2^(m+1)-1 nodes, m edges root->leaf),
 * labels a uniform injection into [0, S), goal a uniform leaf. Requires
 * 2^(m+1)-1 <= S. */
void tp_tree_perfect(tp_tree *t, int m, int S, dl_rng *r);

/* Random tree for testing: breadth-first growth where each node gets a
 * uniform number of children in [0, max_children], stopping at n_cap nodes
 * (n_cap uniform in [min_nodes, S]); re-drawn until the goal depth (a uniform
 * leaf) is at least 1 and at most max_depth (0 = no limit). */
void tp_tree_random(tp_tree *t, int S, int max_children, int min_nodes, int max_depth, dl_rng *r);

/* Goal -> root path as node indices: path[0] = goal, path[len] = root.
 * Returns len = depth of the goal. `path` must hold depth+1 entries. */
int tp_tree_path(const tp_tree *t, int *path);

/* Check the invariants (labels distinct and in range, parent before child,
 * depths consistent, goal is a leaf). Returns 0 or a negative code. */
int tp_tree_check(const tp_tree *t, int S);

/* Apply a label permutation perm[old] = new (used by the symmetry check). */
void tp_tree_relabel(tp_tree *t, const int *perm);

#endif
