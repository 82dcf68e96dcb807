/* Winograd F(4x4, 3x3) convolution (ops_conv_winograd.c), used by dl_conv2d for
 * 3x3, stride-1, dilation-1, ungrouped convolutions when dl_conv2d_set_algo /
 * DYNLAB_CONV_ALGO select it (include/dynlab/conv.h). Internal to src/core. */
#ifndef DYNLAB_CORE_CONV_WINOGRAD_H
#define DYNLAB_CORE_CONV_WINOGRAD_H

#include "core/internal.h"

/* The output tile size m of F(m x m, 3x3) (4 or 2) a convolution of this
 * geometry runs through under the current algorithm setting (auto: where it
 * measured faster than im2col), or 0 for im2col. */
int dl_wino_use(int N, int C, int H, int W, int Cout, int KH, int KW, int stride, int pad, int dil, int groups);

/* y[N, Co, OH, OW] = conv2d(x [N, C, H, W], w [Co, C, 3, 3], padding pad) + bias. */
void dl_wino_forward(dl_graph *g, int m, const float *x, const float *w, const float *bias, int N, int C, int H, int W,
                     int Co, int pad, float *y);

/* gw += dL/dw and gx += dL/dx (either may be NULL) from dy [N, Co, OH, OW];
 * = instead of += when gw_fresh / gx_fresh (old contents not read). */
void dl_wino_backward(dl_graph *g, int m, const float *x, const float *w, const float *dy, int N, int C, int H, int W,
                      int Co, int pad, float *gw, int gw_fresh, float *gx, int gx_fresh);

#endif
