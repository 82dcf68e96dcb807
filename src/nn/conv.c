/* Convolution and batch-norm modules with torch.nn.Conv2d / BatchNorm2d's
 * parameter names, layouts and default initialisation, so state dicts map one
 * to one (the running statistics included). */
#include <math.h>
#include <stdio.h>
#include "core/internal.h"
#include "dynlab/conv.h"
#include "dynlab/nn.h"

void dl_conv2d_init(dl_conv2d_m *m, dl_params *ps, const char *name, int in, int out, int kernel, int stride,
                    int padding, int dilation, int groups, int bias, dl_rng *r) {
    if (groups < 1 || in % groups || out % groups)
        dl_fatal("conv2d %s: %d -> %d channels do not split into %d groups", name, in, out, groups);
    char buf[256];
    int ws[4] = {out, in / groups, kernel, kernel}, bs[1] = {out};
    /* torch.nn.Conv2d.reset_parameters: kaiming_uniform_(a=sqrt(5)) gives
     * U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the bias uses the same bound. */
    const float bound = 1.0f / sqrtf((float)(in / groups * kernel * kernel));
    snprintf(buf, sizeof buf, "%s.weight", name);
    m->weight = dl_param_new(ps, buf, 4, ws);
    dl_init_uniform(m->weight, r, -bound, bound);
    m->bias = NULL;
    if (bias) {
        snprintf(buf, sizeof buf, "%s.bias", name);
        m->bias = dl_param_new(ps, buf, 1, bs);
        dl_init_uniform(m->bias, r, -bound, bound);
    }
    m->in = in, m->out = out, m->kernel = kernel, m->stride = stride, m->padding = padding;
    m->dilation = dilation, m->groups = groups;
}

dl_tensor *dl_conv2d_fwd(dl_graph *g, const dl_conv2d_m *m, dl_tensor *x) {
    return dl_conv2d(g, x, m->weight, m->bias, m->stride, m->padding, m->dilation, m->groups);
}

void dl_batchnorm_init(dl_batchnorm_m *m, dl_params *ps, const char *name, int channels) {
    char buf[256];
    int s[1] = {channels};
    snprintf(buf, sizeof buf, "%s.weight", name);
    m->weight = dl_param_new(ps, buf, 1, s);
    dl_init_const(m->weight, 1.0f);
    snprintf(buf, sizeof buf, "%s.bias", name);
    m->bias = dl_param_new(ps, buf, 1, s);
    snprintf(buf, sizeof buf, "%s.running_mean", name);
    m->running_mean = dl_buffer_new(ps, buf, 1, s);
    snprintf(buf, sizeof buf, "%s.running_var", name);
    m->running_var = dl_buffer_new(ps, buf, 1, s);
    dl_init_const(m->running_var, 1.0f);
    m->momentum = 0.1f, m->eps = 1e-5f; /* torch.nn.BatchNorm2d defaults */
}

dl_tensor *dl_batchnorm_fwd(dl_graph *g, const dl_batchnorm_m *m, dl_tensor *x) {
    return dl_batchnorm(g, x, m->weight, m->bias, m->running_mean, m->running_var, m->momentum, m->eps);
}
