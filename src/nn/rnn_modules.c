/* Sequence modules: Conv1d (channels-last, weight [out, K, in]), GRU and LSTM
 * layers. Parameter names and initialisation follow PyTorch (torch.nn.Conv1d,
 * torch.nn.GRU / LSTM with num_layers=1, batch_first=True: weight_ih, weight_hh,
 * bias_ih, bias_hh, every entry uniform(-1/sqrt(fan), 1/sqrt(fan))), so a state
 * dict maps one to one (the convolution's weight after permute(0, 2, 1)). */
#include <math.h>
#include <stdio.h>
#include "dynlab/nn.h"
#include "dynlab/rnn.h"

static dl_tensor *uniform_param(dl_params *ps, const char *name, const char *leaf, int ndim, const int *shape,
                                float bound, dl_rng *r) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s.%s", name, leaf);
    dl_tensor *t = dl_param_new(ps, buf, ndim, shape);
    dl_init_uniform(t, r, -bound, bound);
    return t;
}

void dl_conv1d_init(dl_conv1d_m *m, dl_params *ps, const char *name, int in, int out, int k, int padding,
                    int dilation, int bias, dl_rng *r) {
    /* torch.nn.Conv1d: kaiming_uniform(a = sqrt 5) = uniform(+-1/sqrt(fan_in)), same bound for the bias. */
    const float bound = 1.0f / sqrtf((float)(in * k));
    int ws[3] = {out, k, in}, bs[1] = {out};
    m->weight = uniform_param(ps, name, "weight", 3, ws, bound, r);
    m->bias = bias ? uniform_param(ps, name, "bias", 1, bs, bound, r) : NULL;
    m->in = in, m->out = out, m->k = k, m->padding = padding, m->dilation = dilation;
}

dl_tensor *dl_conv1d_fwd(dl_graph *g, const dl_conv1d_m *m, dl_tensor *x) {
    return dl_conv1d(g, x, m->weight, m->bias, m->padding, m->dilation);
}

dl_tensor *dl_conv1d_max_fwd(dl_graph *g, const dl_conv1d_m *m, dl_tensor *x) {
    return dl_conv1d_max(g, x, m->weight, m->bias, m->padding, m->dilation);
}

static void rnn_params(dl_params *ps, const char *name, int gates, int in, int hidden, dl_rng *r, dl_tensor **w_ih,
                       dl_tensor **w_hh, dl_tensor **b_ih, dl_tensor **b_hh) {
    const float bound = 1.0f / sqrtf((float)hidden);
    int si[2] = {gates * hidden, in}, sh[2] = {gates * hidden, hidden}, sb[1] = {gates * hidden};
    *w_ih = uniform_param(ps, name, "weight_ih", 2, si, bound, r);
    *w_hh = uniform_param(ps, name, "weight_hh", 2, sh, bound, r);
    *b_ih = uniform_param(ps, name, "bias_ih", 1, sb, bound, r);
    *b_hh = uniform_param(ps, name, "bias_hh", 1, sb, bound, r);
}

void dl_gru_init(dl_gru_m *m, dl_params *ps, const char *name, int in, int hidden, dl_rng *r) {
    rnn_params(ps, name, 3, in, hidden, r, &m->w_ih, &m->w_hh, &m->b_ih, &m->b_hh);
    m->in = in, m->hidden = hidden;
}

dl_tensor *dl_gru_fwd(dl_graph *g, const dl_gru_m *m, dl_tensor *x, dl_tensor *h0) {
    return dl_gru(g, x, h0, m->w_ih, m->w_hh, m->b_ih, m->b_hh);
}

void dl_lstm_init(dl_lstm_m *m, dl_params *ps, const char *name, int in, int hidden, dl_rng *r) {
    rnn_params(ps, name, 4, in, hidden, r, &m->w_ih, &m->w_hh, &m->b_ih, &m->b_hh);
    m->in = in, m->hidden = hidden;
}

dl_tensor *dl_lstm_fwd(dl_graph *g, const dl_lstm_m *m, dl_tensor *x, dl_tensor *h0, dl_tensor *c0) {
    return dl_lstm(g, x, h0, c0, m->w_ih, m->w_hh, m->b_ih, m->b_hh);
}
