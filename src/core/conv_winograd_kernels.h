/* Per-tile transforms of Winograd's minimal filtering F(4x4, 3x3) (Lavin & Gray
 * 2016, "Fast Algorithms for Convolutional Neural Networks", section 4 and the
 * F(4x4, 3x3) matrices of its section 4.2 / appendix, interpolation points
 * 0, 1, -1, 2, -2 and infinity):
 *   Y = A^T [ (G g G^T) (.) (B^T d B) ] A
 * for a 6x6 input tile d, a 3x3 filter g and a 4x4 output tile Y, with
 *   B^T = [4  0 -5  0 1 0;  0 -4 -4  1 1 0;  0  4 -4 -1 1 0;
 *          0 -2 -1  2 1 0;  0  2 -1 -2 1 0;  0  4  0 -5 0 1]
 *   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
 *   A^T = [1 1 1 1 1 0;  0 1 -1 2 -2 0;  0 1 1 4 4 0;  0 1 -1 8 -8 1].
 * The gradients follow by transposing each linear map: dL/dU = A dY A^T (.) V
 * summed over tiles, dL/dg = G^T dU G.
 *
 * Every transform works on 16 channels at once (one channel per vector lane,
 * channels contiguous in memory), written with GCC/clang vector extensions so
 * the same source compiles to AVX-512 (one zmm per vector) under WK_ATTR =
 * target("avx512f") and to SSE elsewhere. Vectors are passed by pointer only
 * (no by-value vector arguments, whose ABI differs between the two builds).
 * This header is included twice by ops_conv_winograd.c with WK(name) naming the
 * two versions. */

typedef float wk_v16 __attribute__((vector_size(64)));

/* unaligned vector load into v / store of v (memcpy compiles to one vmovups) */
#define WK_LD(v, p) memcpy(&(v), (p), sizeof(wk_v16))
#define WK_ST(p, v) memcpy((p), &(v), sizeof(wk_v16))

/* B^T applied to six vectors d[0], d[s], ..., d[5 s] -> o[0], o[os], ..., o[5 os]. */
#define WK_BT6(d, s, o, os)                                                              \
    do {                                                                                \
        const wk_v16 d0 = (d)[0], d1 = (d)[(s)], d2 = (d)[2 * (s)], d3 = (d)[3 * (s)],  \
                     d4 = (d)[4 * (s)], d5 = (d)[5 * (s)];                              \
        const wk_v16 a = d4 - 4.0f * d2, b = d3 - 4.0f * d1, c = d4 - d2, e = 2.0f * (d3 - d1); \
        (o)[0] = 4.0f * d0 - 5.0f * d2 + d4;                                            \
        (o)[(os)] = a + b;                                                              \
        (o)[2 * (os)] = a - b;                                                          \
        (o)[3 * (os)] = c + e;                                                          \
        (o)[4 * (os)] = c - e;                                                          \
        (o)[5 * (os)] = 4.0f * d1 - 5.0f * d3 + d5;                                     \
    } while (0)

/* A^T applied to six vectors -> four. */
#define WK_AT4(m, s, o, os)                                                              \
    do {                                                                                \
        const wk_v16 m0 = (m)[0], m1 = (m)[(s)], m2 = (m)[2 * (s)], m3 = (m)[3 * (s)],  \
                     m4 = (m)[4 * (s)], m5 = (m)[5 * (s)];                              \
        const wk_v16 p12 = m1 + m2, d12 = m1 - m2, p34 = m3 + m4, d34 = m3 - m4;        \
        (o)[0] = m0 + p12 + p34;                                                        \
        (o)[(os)] = d12 + 2.0f * d34;                                                   \
        (o)[2 * (os)] = p12 + 4.0f * p34;                                               \
        (o)[3 * (os)] = d12 + 8.0f * d34 + m5;                                          \
    } while (0)

/* A (= (A^T)^T) applied to four vectors -> six. */
#define WK_A6(y, s, o, os)                                                               \
    do {                                                                                \
        const wk_v16 y0 = (y)[0], y1 = (y)[(s)], y2 = (y)[2 * (s)], y3 = (y)[3 * (s)];  \
        const wk_v16 e = y0 + y2, f = y1 + y3, h = y0 + 4.0f * y2, k = 2.0f * y1 + 8.0f * y3; \
        (o)[0] = y0;                                                                    \
        (o)[(os)] = e + f;                                                              \
        (o)[2 * (os)] = e - f;                                                          \
        (o)[3 * (os)] = h + k;                                                          \
        (o)[4 * (os)] = h - k;                                                          \
        (o)[5 * (os)] = y3;                                                             \
    } while (0)

/* G applied to three vectors -> six. */
#define WK_G6(g, s, o, os)                                                               \
    do {                                                                                \
        const wk_v16 g0 = (g)[0], g1 = (g)[(s)], g2 = (g)[2 * (s)];                     \
        const wk_v16 p = g0 + g2, q = g0 * (1.0f / 24.0f) + g2 * (1.0f / 6.0f);         \
        (o)[0] = g0 * 0.25f;                                                            \
        (o)[(os)] = (p + g1) * (-1.0f / 6.0f);                                          \
        (o)[2 * (os)] = (p - g1) * (-1.0f / 6.0f);                                      \
        (o)[3 * (os)] = q + g1 * (1.0f / 12.0f);                                        \
        (o)[4 * (os)] = q - g1 * (1.0f / 12.0f);                                        \
        (o)[5 * (os)] = g2;                                                             \
    } while (0)

/* G^T applied to six vectors -> three. */
#define WK_GT3(u, s, o, os)                                                              \
    do {                                                                                \
        const wk_v16 u0 = (u)[0], u1 = (u)[(s)], u2 = (u)[2 * (s)], u3 = (u)[3 * (s)],  \
                     u4 = (u)[4 * (s)], u5 = (u)[5 * (s)];                              \
        (o)[0] = u0 * 0.25f - (u1 + u2) * (1.0f / 6.0f) + (u3 + u4) * (1.0f / 24.0f);   \
        (o)[(os)] = (u2 - u1) * (1.0f / 6.0f) + (u3 - u4) * (1.0f / 12.0f);             \
        (o)[2 * (os)] = (u3 + u4 - u1 - u2) * (1.0f / 6.0f) + u5;                       \
    } while (0)

/* Input tile: V[xi] = (B^T d B)[xi] for the 6x6 tile at xp (NHWC rows of row_stride
 * floats, channel stride 1, pixel stride cp), channels [0, cp) in steps of 16;
 * element xi of channel c goes to V[xi vs + c]. */
WK_ATTR static void WK(wk_input_tile)(const float *xp, int64_t row_stride, int cp, float *V, int64_t vs) {
    for (int c0 = 0; c0 < cp; c0 += 16) {
        wk_v16 d[36], t[36], o[6];
        for (int k = 0; k < 6; k++)
            for (int l = 0; l < 6; l++) WK_LD(d[k * 6 + l], xp + k * row_stride + (int64_t)l * cp + c0);
        for (int l = 0; l < 6; l++) WK_BT6(d + l, 6, t + l, 6); /* columns: t = B^T d */
        for (int i = 0; i < 6; i++) {                          /* rows: V = t B */
            WK_BT6(t + i * 6, 1, o, 1);
            for (int j = 0; j < 6; j++) WK_ST(V + (i * 6 + j) * vs + c0, o[j]);
        }
    }
}

/* Output tile: the 4x4 Y = A^T m A of 16 channels from m[xi] = M[xi ms + c0 + lane];
 * y[(a 4 + b) 16 + lane]. */
WK_ATTR static void WK(wk_output_tile)(const float *M, int64_t ms, int c0, float *y) {
    wk_v16 m[36], t[24], o[4];
    for (int x = 0; x < 36; x++) WK_LD(m[x], M + x * ms + c0);
    for (int l = 0; l < 6; l++) WK_AT4(m + l, 6, t + l, 6); /* t[a][l] = A^T m */
    for (int a = 0; a < 4; a++) {
        WK_AT4(t + a * 6, 1, o, 1);
        for (int b = 0; b < 4; b++) WK_ST(y + (a * 4 + b) * 16, o[b]);
    }
}

/* Output-gradient tile for the weight gradient: Z = A dy A^T for the 4x4 tile at
 * dyp (NHWC rows of row_stride floats, pixel stride cp), channels [0, cp). */
WK_ATTR static void WK(wk_grad_tile)(const float *dyp, int64_t row_stride, int cp, float *Z, int64_t zs) {
    for (int c0 = 0; c0 < cp; c0 += 16) {
        wk_v16 d[16], t[24], o[6];
        for (int a = 0; a < 4; a++)
            for (int b = 0; b < 4; b++) WK_LD(d[a * 4 + b], dyp + a * row_stride + (int64_t)b * cp + c0);
        for (int b = 0; b < 4; b++) WK_A6(d + b, 4, t + b, 4); /* t[i][b] */
        for (int i = 0; i < 6; i++) {
            WK_A6(t + i * 4, 1, o, 1);
            for (int j = 0; j < 6; j++) WK_ST(Z + (i * 6 + j) * zs + c0, o[j]);
        }
    }
}

/* Filter transform of 16 filters: g[k gs + lane] (k = 3x3 position; position
 * 8 - k when rot, the filter rotated by 180 degrees) -> U[xi us + lane] = (G g G^T)[xi]. */
WK_ATTR static void WK(wk_filter_tile)(const float *g, int64_t gs, int rot, float *U, int64_t us) {
    wk_v16 gv[9], t[18], o[6];
    for (int k = 0; k < 9; k++) WK_LD(gv[k], g + (rot ? 8 - k : k) * gs);
    for (int l = 0; l < 3; l++) WK_G6(gv + l, 3, t + l, 3); /* t[i][l] = G g */
    for (int i = 0; i < 6; i++) {
        WK_G6(t + i * 3, 1, o, 1);
        for (int j = 0; j < 6; j++) WK_ST(U + (i * 6 + j) * us, o[j]);
    }
}

/* Filter-gradient back-transform of 16 filters: dg[k 16 + lane] = (G^T du G)[k]
 * from du[xi us + lane]. */
WK_ATTR static void WK(wk_filter_grad_tile)(const float *du, int64_t us, float *dg) {
    wk_v16 u[36], t[18], o[3];
    for (int x = 0; x < 36; x++) WK_LD(u[x], du + x * us);
    for (int l = 0; l < 6; l++) WK_GT3(u + l, 6, t + l, 6); /* t[k][l] = G^T u, k < 3 */
    for (int k = 0; k < 3; k++) {
        WK_GT3(t + k * 6, 1, o, 1);
        for (int j = 0; j < 3; j++) WK_ST(dg + (k * 3 + j) * 16, o[j]);
    }
}

/* ---- F(2x2, 3x3) (Lavin & Gray 2016, section 4.1, points 0, 1, -1, infinity):
 *   B^T = [1 0 -1 0;  0 1 1 0;  0 -1 1 0;  0 1 0 -1]
 *   G   = [1 0 0;  1/2 1/2 1/2;  1/2 -1/2 1/2;  0 0 1]
 *   A^T = [1 1 1 0;  0 1 -1 -1]
 * 16 products per 2x2 output tile instead of 36 multiplies; the transforms hold
 * only 1 and 1/2, so rounding errors grow far less than with F(4x4, 3x3). Used
 * where the maps are small: it makes 4x the tiles of F(4x4, 3x3), so the 16 GEMMs
 * have rows enough to pay for the transformed filters (16/9 of the weights). */

#define WK2_BT4(d, s, o, os)                                                             \
    do {                                                                                \
        const wk_v16 d0 = (d)[0], d1 = (d)[(s)], d2 = (d)[2 * (s)], d3 = (d)[3 * (s)];  \
        (o)[0] = d0 - d2;                                                               \
        (o)[(os)] = d1 + d2;                                                            \
        (o)[2 * (os)] = d2 - d1;                                                        \
        (o)[3 * (os)] = d1 - d3;                                                        \
    } while (0)

#define WK2_AT2(m, s, o, os)                                                             \
    do {                                                                                \
        const wk_v16 m0 = (m)[0], m1 = (m)[(s)], m2 = (m)[2 * (s)], m3 = (m)[3 * (s)];  \
        (o)[0] = m0 + m1 + m2;                                                          \
        (o)[(os)] = m1 - m2 - m3;                                                       \
    } while (0)

#define WK2_A4(y, s, o, os)                                                              \
    do {                                                                                \
        const wk_v16 y0 = (y)[0], y1 = (y)[(s)];                                        \
        (o)[0] = y0;                                                                    \
        (o)[(os)] = y0 + y1;                                                            \
        (o)[2 * (os)] = y0 - y1;                                                        \
        (o)[3 * (os)] = -y1;                                                            \
    } while (0)

#define WK2_G4(g, s, o, os)                                                              \
    do {                                                                                \
        const wk_v16 g0 = (g)[0], g1 = (g)[(s)], g2 = (g)[2 * (s)];                     \
        const wk_v16 p = (g0 + g2) * 0.5f, h = g1 * 0.5f;                               \
        (o)[0] = g0;                                                                    \
        (o)[(os)] = p + h;                                                              \
        (o)[2 * (os)] = p - h;                                                          \
        (o)[3 * (os)] = g2;                                                             \
    } while (0)

#define WK2_GT3(u, s, o, os)                                                             \
    do {                                                                                \
        const wk_v16 u0 = (u)[0], u1 = (u)[(s)], u2 = (u)[2 * (s)], u3 = (u)[3 * (s)];  \
        const wk_v16 p = (u1 + u2) * 0.5f;                                              \
        (o)[0] = u0 + p;                                                                \
        (o)[(os)] = (u1 - u2) * 0.5f;                                                   \
        (o)[2 * (os)] = p + u3;                                                         \
    } while (0)

/* The F(2x2, 3x3) counterparts of the five transforms above, same arguments
 * (4x4 input tiles, 2x2 output tiles; y keeps the 4x4 layout y[(a 4 + b) 16 + lane]
 * with a, b < 2, the other rows untouched). */
WK_ATTR static void WK(wk2_input_tile)(const float *xp, int64_t row_stride, int cp, float *V, int64_t vs) {
    for (int c0 = 0; c0 < cp; c0 += 16) {
        wk_v16 d[16], t[16], o[4];
        for (int k = 0; k < 4; k++)
            for (int l = 0; l < 4; l++) WK_LD(d[k * 4 + l], xp + k * row_stride + (int64_t)l * cp + c0);
        for (int l = 0; l < 4; l++) WK2_BT4(d + l, 4, t + l, 4);
        for (int i = 0; i < 4; i++) {
            WK2_BT4(t + i * 4, 1, o, 1);
            for (int j = 0; j < 4; j++) WK_ST(V + (i * 4 + j) * vs + c0, o[j]);
        }
    }
}

WK_ATTR static void WK(wk2_output_tile)(const float *M, int64_t ms, int c0, float *y) {
    wk_v16 m[16], t[8], o[2];
    for (int x = 0; x < 16; x++) WK_LD(m[x], M + x * ms + c0);
    for (int l = 0; l < 4; l++) WK2_AT2(m + l, 4, t + l, 4);
    for (int a = 0; a < 2; a++) {
        WK2_AT2(t + a * 4, 1, o, 1);
        for (int b = 0; b < 2; b++) WK_ST(y + (a * 4 + b) * 16, o[b]);
    }
}

WK_ATTR static void WK(wk2_grad_tile)(const float *dyp, int64_t row_stride, int cp, float *Z, int64_t zs) {
    for (int c0 = 0; c0 < cp; c0 += 16) {
        wk_v16 d[4], t[8], o[4];
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++) WK_LD(d[a * 2 + b], dyp + a * row_stride + (int64_t)b * cp + c0);
        for (int b = 0; b < 2; b++) WK2_A4(d + b, 2, t + b, 2); /* t[i][b] */
        for (int i = 0; i < 4; i++) {
            WK2_A4(t + i * 2, 1, o, 1);
            for (int j = 0; j < 4; j++) WK_ST(Z + (i * 4 + j) * zs + c0, o[j]);
        }
    }
}

WK_ATTR static void WK(wk2_filter_tile)(const float *g, int64_t gs, int rot, float *U, int64_t us) {
    wk_v16 gv[9], t[12], o[4];
    for (int k = 0; k < 9; k++) WK_LD(gv[k], g + (rot ? 8 - k : k) * gs);
    for (int l = 0; l < 3; l++) WK2_G4(gv + l, 3, t + l, 3); /* t[i][l] = G g */
    for (int i = 0; i < 4; i++) {
        WK2_G4(t + i * 3, 1, o, 1);
        for (int j = 0; j < 4; j++) WK_ST(U + (i * 4 + j) * us, o[j]);
    }
}

WK_ATTR static void WK(wk2_filter_grad_tile)(const float *du, int64_t us, float *dg) {
    wk_v16 u[16], t[12], o[3];
    for (int x = 0; x < 16; x++) WK_LD(u[x], du + x * us);
    for (int l = 0; l < 4; l++) WK2_GT3(u + l, 4, t + l, 4); /* t[k][l] = G^T u, k < 3 */
    for (int k = 0; k < 3; k++) {
        WK2_GT3(t + k * 4, 1, o, 1);
        for (int j = 0; j < 3; j++) WK_ST(dg + (k * 3 + j) * 16, o[j]);
    }
}
