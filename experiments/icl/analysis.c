/* Measurements on traces: half-way times, sign changes of the step-to-step
 * difference, and the two-segment (broken-line) fit of log steps vs log L. */
#include <math.h>
#include "icl/icl.h"

int icl_half_way(const double *x, int n) {
    if (n < 2) return -1;
    const double mid = 0.5 * (x[0] + x[n - 1]);
    const int up = x[n - 1] > x[0];
    for (int i = 0; i < n; i++)
        if (up ? x[i] >= mid : x[i] <= mid) return i;
    return -1;
}

int icl_sign_changes(const double *x, int n, double tol) {
    int changes = 0, last = 0;
    for (int i = 1; i < n; i++) {
        double df = x[i] - x[i - 1];
        if (fabs(df) <= tol) continue;
        int s = df > 0 ? 1 : -1;
        if (last && s != last) changes++;
        last = s;
    }
    return changes;
}

int icl_turns(const double *x, int n, double h) {
    if (n < 2 || !(h > 0)) return 0;
    int dir = 0, turns = 0;
    double ext = x[0];
    for (int i = 1; i < n; i++) {
        if (dir == 0) {
            if (x[i] - ext >= h) { dir = 1; ext = x[i]; }
            else if (ext - x[i] >= h) { dir = -1; ext = x[i]; }
        } else if (dir > 0) {
            if (x[i] > ext) ext = x[i];
            else if (ext - x[i] >= h) { turns++; dir = -1; ext = x[i]; }
        } else {
            if (x[i] < ext) ext = x[i];
            else if (x[i] - ext >= h) { turns++; dir = 1; ext = x[i]; }
        }
    }
    return turns;
}

/* Least squares of y = c + s x; returns SSE. */
static double line(const double *x, const double *y, int n, double *s, double *c) {
    double mx = 0, my = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
    mx /= n; my /= n;
    for (int i = 0; i < n; i++) { sxx += (x[i] - mx) * (x[i] - mx); sxy += (x[i] - mx) * (y[i] - my); }
    *s = sxx > 0 ? sxy / sxx : 0;
    *c = my - *s * mx;
    double e = 0;
    for (int i = 0; i < n; i++) e += (y[i] - *c - *s * x[i]) * (y[i] - *c - *s * x[i]);
    return e;
}

/* Continuous broken line y = c + s1 x + (s2 - s1) max(0, x - xb): for a given
 * break xb it is linear in (c, s1, s2 - s1), solved by the 3x3 normal equations. */
static double broken(const double *x, const double *y, int n, double xb, double *s1, double *s2, double *c) {
    double M[3][4] = {{0}};
    for (int i = 0; i < n; i++) {
        double f[3] = {1, x[i], fmax(0, x[i] - xb)};
        for (int a = 0; a < 3; a++) {
            for (int b = 0; b < 3; b++) M[a][b] += f[a] * f[b];
            M[a][3] += f[a] * y[i];
        }
    }
    for (int col = 0; col < 3; col++) { /* Gauss-Jordan with partial pivoting */
        int p = col;
        for (int r = col + 1; r < 3; r++) if (fabs(M[r][col]) > fabs(M[p][col])) p = r;
        if (fabs(M[p][col]) < 1e-12) return INFINITY;
        for (int k = 0; k < 4; k++) { double t = M[col][k]; M[col][k] = M[p][k]; M[p][k] = t; }
        for (int r = 0; r < 3; r++) {
            if (r == col) continue;
            double f = M[r][col] / M[col][col];
            for (int k = 0; k < 4; k++) M[r][k] -= f * M[col][k];
        }
    }
    *c = M[0][3] / M[0][0];
    *s1 = M[1][3] / M[1][1];
    *s2 = *s1 + M[2][3] / M[2][2];
    double e = 0;
    for (int i = 0; i < n; i++) {
        double r = y[i] - (*c + *s1 * x[i] + (*s2 - *s1) * fmax(0, x[i] - xb));
        e += r * r;
    }
    return e;
}

void icl_fit_break(const double *x, const double *y, int n, icl_break_fit *f) {
    f->sse1 = line(x, y, n, &f->slope1, &f->icept1);
    f->sse2 = INFINITY;
    f->slope_lo = f->slope_hi = f->slope1;
    f->x_break = f->y_break = NAN;
    if (n < 4) return;
    /* break between the 2nd and the (n-1)th point (sorted x), 200 grid points */
    const double lo = x[1], hi = x[n - 2];
    for (int g = 0; g <= 200; g++) {
        double xb = lo + (hi - lo) * g / 200.0, s1 = 0, s2 = 0, c = 0;
        double e = broken(x, y, n, xb, &s1, &s2, &c);
        if (e < f->sse2) {
            f->sse2 = e; f->slope_lo = s1; f->slope_hi = s2; f->x_break = xb; f->y_break = c + s1 * xb;
        }
    }
}
