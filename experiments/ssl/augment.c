/* Data augmentation t ~ T giving the two views of each example (SimCLR,
 * Chen et al. 2020, section 3 and appendix A; the tabular ones after SCARF/VIME):
 * images: random resized crop (area fraction U(crop_lo, 1), aspect ratio
 * log-uniform in [3/4, 4/3], resized back), random shift (pad-and-crop),
 * horizontal flip, colour distortion (for one channel: brightness and contrast
 * jitter, applied with probability jitter_p), Gaussian noise, random erasing;
 * tables: feature masking, Gaussian jitter (sigma times the feature std), mix-up
 * with a random row (lambda ~ U(lo, 1)). */
#include <math.h>
#include <string.h>
#include "ssl/ssl.h"

/* out(y, x) = in(y - dy, x - dx), zero outside: a random crop of the zero-padded image. */
void ssl_aug_shift(const float *in, float *out, int h, int w, int dy, int dx)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int sy = y - dy, sx = x - dx;
            out[y * w + x] = (sy >= 0 && sy < h && sx >= 0 && sx < w) ? in[sy * w + sx] : 0.f;
        }
}

void ssl_aug_flip(const float *in, float *out, int h, int w)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) out[y * w + x] = in[y * w + (w - 1 - x)];
}

void ssl_aug_noise(float *x, int n, float sigma, dl_rng *r)
{
    for (int i = 0; i < n; i++) x[i] += sigma * (float)dl_rng_normal(r);
}

/* Random erasing (Zhong et al. 2020): a rectangle set to zero. */
void ssl_aug_erase(float *x, int h, int w, int y0, int x0, int eh, int ew)
{
    for (int y = y0; y < y0 + eh && y < h; y++)
        for (int xx = x0; xx < x0 + ew && xx < w; xx++) x[y * w + xx] = 0.f;
}

/* Bilinear source of output index i of n along one axis of the crop [lo, lo + len):
 * the lower and upper source indices and the weight of the upper one (pixel
 * centres aligned, clamped to the crop). */
static void crop_axis(int i, int n, int lo, int len, int *i0, int *i1, float *frac)
{
    float s = lo + ((float)i + 0.5f) * (float)len / (float)n - 0.5f;
    if (s < (float)lo) s = (float)lo;
    if (s > (float)(lo + len - 1)) s = (float)(lo + len - 1);
    *i0 = (int)s;
    *i1 = *i0 + 1 < lo + len ? *i0 + 1 : *i0;
    *frac = s - (float)*i0;
}

void ssl_aug_crop_resize(const float *in, float *out, int h, int w, int y0, int x0, int ch, int cw)
{
    for (int y = 0; y < h; y++) {
        int a, a1, b, b1;
        float fy, fx;
        crop_axis(y, h, y0, ch, &a, &a1, &fy);
        for (int x = 0; x < w; x++) {
            crop_axis(x, w, x0, cw, &b, &b1, &fx);
            out[y * w + x] = (1 - fy) * ((1 - fx) * in[a * w + b] + fx * in[a * w + b1]) +
                             fy * ((1 - fx) * in[a1 * w + b] + fx * in[a1 * w + b1]);
        }
    }
}

void ssl_aug_color(float *x, int n, float b, float c)
{
    double m = 0;
    for (int i = 0; i < n; i++) {
        x[i] = fminf(1.f, fmaxf(0.f, x[i] * b));
        m += x[i];
    }
    m /= n;
    for (int i = 0; i < n; i++) x[i] = fminf(1.f, fmaxf(0.f, c * x[i] + (1.f - c) * (float)m));
}

/* torchvision's RandomResizedCrop box: up to 10 tries, else the whole image. */
static void crop_box(int h, int w, double lo, dl_rng *r, int *y0, int *x0, int *ch, int *cw)
{
    for (int t = 0; t < 10; t++) {
        double area = h * w * (lo + (1 - lo) * dl_rng_uniform(r));
        double ar = exp(log(3.0 / 4.0) + (log(4.0 / 3.0) - log(3.0 / 4.0)) * dl_rng_uniform(r));
        int cw_ = (int)lround(sqrt(area * ar)), ch_ = (int)lround(sqrt(area / ar));
        if (cw_ >= 1 && ch_ >= 1 && cw_ <= w && ch_ <= h) {
            *y0 = (int)dl_rng_below(r, (uint32_t)(h - ch_ + 1));
            *x0 = (int)dl_rng_below(r, (uint32_t)(w - cw_ + 1));
            *ch = ch_; *cw = cw_;
            return;
        }
    }
    *y0 = 0; *x0 = 0; *ch = h; *cw = w;
}

void ssl_aug_image(const ssl_cfg *c, const float *in, float *out, int h, int w, dl_rng *r)
{
    float tmp[64 * 64], cr[64 * 64];
    if (c->img_crop_lo > 0) {
        int y0, x0, ch, cw;
        crop_box(h, w, c->img_crop_lo, r, &y0, &x0, &ch, &cw);
        ssl_aug_crop_resize(in, cr, h, w, y0, x0, ch, cw);
        in = cr;
    }
    int k = (int)c->img_shift;
    int dy = k > 0 ? (int)dl_rng_below(r, (uint32_t)(2 * k + 1)) - k : 0;
    int dx = k > 0 ? (int)dl_rng_below(r, (uint32_t)(2 * k + 1)) - k : 0;
    ssl_aug_shift(in, tmp, h, w, dy, dx);
    if (dl_rng_uniform(r) < c->img_flip) ssl_aug_flip(tmp, out, h, w);
    else memcpy(out, tmp, sizeof(float) * (size_t)h * w);
    if (c->img_jitter_p > 0 && dl_rng_uniform(r) < c->img_jitter_p) {
        float b = (float)(1 + c->img_brightness * (2 * dl_rng_uniform(r) - 1));
        float ct = (float)(1 + c->img_contrast * (2 * dl_rng_uniform(r) - 1));
        ssl_aug_color(out, h * w, b, ct);
    }
    if (c->img_noise > 0) ssl_aug_noise(out, h * w, (float)c->img_noise, r);
    if (dl_rng_uniform(r) < c->img_erase) {
        int eh = 4 + (int)dl_rng_below(r, (uint32_t)(h / 3)), ew = 4 + (int)dl_rng_below(r, (uint32_t)(w / 3));
        ssl_aug_erase(out, h, w, (int)dl_rng_below(r, (uint32_t)(h - eh + 1)),
                      (int)dl_rng_below(r, (uint32_t)(w - ew + 1)), eh, ew);
    }
}

/* Each feature is replaced by 0 (the standardised mean) with probability p. */
void ssl_aug_mask(float *x, int d, float p, dl_rng *r)
{
    for (int j = 0; j < d; j++)
        if (dl_rng_uniformf(r) < p) x[j] = 0.f;
}

void ssl_aug_table_noise(float *x, const float *std, int d, float sigma, dl_rng *r)
{
    for (int j = 0; j < d; j++) x[j] += sigma * (std ? std[j] : 1.f) * (float)dl_rng_normal(r);
}

/* x <- lambda x + (1 - lambda) other. */
void ssl_aug_mix(float *x, const float *other, int d, float lambda)
{
    for (int j = 0; j < d; j++) x[j] = lambda * x[j] + (1.f - lambda) * other[j];
}

void ssl_aug_table(const ssl_cfg *c, const float *in, const float *other, const float *std, float *out, int d,
                   dl_rng *r)
{
    memcpy(out, in, sizeof(float) * (size_t)d);
    float lambda = (float)(c->tab_mix_lo + (1.0 - c->tab_mix_lo) * dl_rng_uniform(r));
    ssl_aug_mix(out, other, d, lambda);
    ssl_aug_table_noise(out, std, d, (float)c->tab_noise, r);
    ssl_aug_mask(out, d, (float)c->tab_mask, r);
}
