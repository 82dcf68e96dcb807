/* dynlab image ops: 2-D convolution, pooling, batch normalisation, SiLU,
 * upsampling and bilinear point sampling, on NCHW float32 tensors, with the
 * module helpers (conv2d, batchnorm2d) built on them.
 *
 * Every op follows PyTorch's definition (torch.nn.functional of the same name)
 * so weights and results carry over one to one; tests/test_conv_torch.c checks
 * forward values and gradients against it, tests/test_conv_grad.c checks every
 * backward by finite differences. Results are identical for any thread count. */
#ifndef DYNLAB_CONV_H
#define DYNLAB_CONV_H

#include "dynlab/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* F.conv2d: x [N, C, H, W], w [Cout, C/groups, KH, KW], bias [Cout] or NULL ->
 * [N, Cout, OH, OW], OH = (H + 2 padding - dilation (KH - 1) - 1) / stride + 1.
 * Runs as GEMMs on im2col columns (1x1 stride-1 convolutions read x directly),
 * or by Winograd F(4x4, 3x3) or F(2x2, 3x3) (see dl_conv2d_set_algo). */
dl_tensor *dl_conv2d(dl_graph *g, dl_tensor *x, dl_tensor *w, dl_tensor *bias, int stride, int padding,
                     int dilation, int groups);
/* Convolution algorithm, a process-wide setting read by dl_conv2d when it records
 * a convolution (default: the environment variable DYNLAB_CONV_ALGO = auto,
 * im2col, winograd or winograd2; auto when unset). DL_CONV_WINOGRAD runs every 3x3,
 * stride-1, dilation-1, ungrouped convolution with padding <= 2 (forward, input
 * and weight gradients) by Winograd's F(4x4, 3x3) (Lavin & Gray 2016) and all
 * others by im2col; DL_CONV_WINOGRAD2 the same by F(2x2, 3x3); DL_CONV_AUTO takes
 * Winograd where that measured faster than im2col (at least 16 input and output
 * channels and 16 2x2 output tiles), F(4x4, 3x3) or F(2x2, 3x3) by a cost model
 * fitted to measurements (F(4x4) from 8 4x4 tiles on full tiles, e.g. 512 channels
 * on 8x8 maps from batch 2; F(2x2) where fewer, or where 4x4 tiles would be
 * mostly padding); docs/benchmarks.md gives the
 * speed and the rounding error (about 1e-5 of the output scale for F(4x4, 3x3),
 * 1e-6 for F(2x2, 3x3) and im2col). dl_conv2d_uses_winograd returns the tile
 * size (4 or 2), 0 for im2col. Set it before building graphs, not while another
 * thread runs one. */
enum { DL_CONV_AUTO = 0, DL_CONV_IM2COL = 1, DL_CONV_WINOGRAD = 2, DL_CONV_WINOGRAD2 = 3 };
void dl_conv2d_set_algo(int algo);
int dl_conv2d_get_algo(void);
/* "auto" / "im2col" / "winograd" / "winograd2" -> DL_CONV_*, or -1. */
int dl_conv2d_algo_parse(const char *s);
/* Tests only: tile blocks of about n floats (0: default); the portable transforms
 * instead of the AVX-512 ones (on = 1). */
void dl_conv2d_set_winograd_block_floats(int64_t n);
void dl_conv2d_winograd_force_generic(int on);
/* Tests only: the portable stride-2 im2col / col2im loops instead of the AVX-512
 * kernels (on = 1). */
void dl_conv2d_force_generic(int on);
/* Tests only: the portable max-pool loops instead of the AVX-512 kernels (on = 1). */
void dl_pool_force_generic(int on);

/* The output tile size (4: F(4x4, 3x3), 2: F(2x2, 3x3)) when dl_conv2d would run
 * this convolution by Winograd under the current setting, 0 for im2col. */
int dl_conv2d_uses_winograd(const dl_tensor *x, const dl_tensor *w, int stride, int padding, int dilation,
                            int groups);

/* Multiply-adds x2 of one dl_conv2d forward (for GFLOP/s figures; a Winograd
 * convolution does fewer multiplies, so FLOPs / time is then an effective rate). */
double dl_conv2d_flops(const dl_tensor *x, const dl_tensor *w, int stride, int padding, int dilation,
                       int groups);

/* F.max_pool2d (padding counts as -inf) and F.avg_pool2d (count_include_pad=True,
 * PyTorch's default): x [N, C, H, W], square kernel, OH = (H + 2 padding - kernel) / stride + 1.
 * padding <= kernel / 2, as PyTorch requires. */
dl_tensor *dl_max_pool2d(dl_graph *g, dl_tensor *x, int kernel, int stride, int padding);
dl_tensor *dl_avg_pool2d(dl_graph *g, dl_tensor *x, int kernel, int stride, int padding);
/* Mean over H, W: [N, C, H, W] -> [N, C] (F.adaptive_avg_pool2d(x, 1).flatten(1)). */
dl_tensor *dl_global_avg_pool2d(dl_graph *g, dl_tensor *x);

/* Batch normalisation (Ioffe & Szegedy 2015, Algorithm 1) over axis 1 of x
 * [N, C], [N, C, L] or [N, C, H, W]. When the graph is in training mode it
 * normalises with the batch mean and biased variance and, if running_mean /
 * running_var [C] are given, updates them as PyTorch does:
 *   running = (1 - momentum) running + momentum * batch statistic
 * (unbiased variance). Under dl_replicas only replica 0 updates them, from its
 * own micro-batch (what data-parallel PyTorch without SyncBatchNorm keeps).
 * Outside training mode it normalises with the running statistics (required).
 * gamma/beta [C] may be NULL. */
dl_tensor *dl_batchnorm(dl_graph *g, dl_tensor *x, dl_tensor *gamma, dl_tensor *beta, dl_tensor *running_mean,
                        dl_tensor *running_var, float momentum, float eps);

/* max(0, dl_batchnorm(...)) as one op (same arguments and semantics, then
 * F.relu; at a batch-norm output of exactly 0 the gradient is 0, as PyTorch's).
 * One pass over the activations less in each direction than dl_relu(dl_batchnorm()). */
dl_tensor *dl_batchnorm_relu(dl_graph *g, dl_tensor *x, dl_tensor *gamma, dl_tensor *beta, dl_tensor *running_mean,
                             dl_tensor *running_var, float momentum, float eps);

/* SiLU (swish): x * sigmoid(x) (Elfwing et al. 2018; Ramachandran et al. 2017). */
dl_tensor *dl_silu(dl_graph *g, dl_tensor *x);

/* F.interpolate to [N, C, OH, OW]: mode DL_UPSAMPLE_NEAREST (source index
 * floor(dst * in / out)) or DL_UPSAMPLE_BILINEAR (align_corners=False: source
 * coordinate (dst + 0.5) in / out - 0.5, clamped at 0). */
enum { DL_UPSAMPLE_NEAREST = 0, DL_UPSAMPLE_BILINEAR = 1 };
dl_tensor *dl_upsample2d(dl_graph *g, dl_tensor *x, int out_h, int out_w, int mode);

/* Bilinear sampling of map [N, C, H, W] at points [N, P, 2] given as normalised
 * (x, y) in [-1, 1] (x along W, y along H) -> [N, P, C]: F.grid_sample(map,
 * points.view(N, 1, P, 2), mode="bilinear", padding_mode="zeros",
 * align_corners=False) with the result permuted to points-major. Gradients
 * flow to the map and to the points. */
dl_tensor *dl_grid_sample(dl_graph *g, dl_tensor *map, dl_tensor *points);

/* ---- modules ------------------------------------------------------------- */
typedef struct dl_conv2d_m {
    dl_tensor *weight; /* [out, in/groups, k, k] as torch.nn.Conv2d */
    dl_tensor *bias;   /* [out] or NULL */
    int in, out, kernel, stride, padding, dilation, groups;
} dl_conv2d_m;
/* Weights and bias drawn as torch.nn.Conv2d's default: U(-b, b), b = 1/sqrt(fan_in)
 * (kaiming_uniform with a = sqrt(5)). */
void dl_conv2d_init(dl_conv2d_m *m, dl_params *ps, const char *name, int in, int out, int kernel, int stride,
                    int padding, int dilation, int groups, int bias, dl_rng *r);
dl_tensor *dl_conv2d_fwd(dl_graph *g, const dl_conv2d_m *m, dl_tensor *x);

/* torch.nn.BatchNorm2d (also [N, C] / [N, C, L] inputs): weight 1, bias 0,
 * running_mean 0, running_var 1, momentum 0.1, eps 1e-5. The running
 * statistics are parameters of the store with requires_grad = 0, named
 * "<name>.running_mean" / "<name>.running_var", so checkpoints carry them and
 * optimizers skip them. The graph's training mode picks batch or running statistics. */
typedef struct dl_batchnorm_m {
    dl_tensor *weight, *bias, *running_mean, *running_var;
    float momentum, eps;
} dl_batchnorm_m;
void dl_batchnorm_init(dl_batchnorm_m *m, dl_params *ps, const char *name, int channels);
dl_tensor *dl_batchnorm_fwd(dl_graph *g, const dl_batchnorm_m *m, dl_tensor *x);

#ifdef __cplusplus
}
#endif
#endif
