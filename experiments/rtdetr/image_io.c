/* Image files through Debian's libpng and libjpeg-turbo. */
#include "rtdetr/image_io.h"

#include <stdio.h> /* before jpeglib.h, which uses FILE */
#include <jpeglib.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include "dynlab/data.h"

static int read_png(const char *path, FILE *f, uint8_t **rgb, int *w, int *h, char *err, size_t errlen)
{
    png_structp p = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = p ? png_create_info_struct(p) : NULL;
    uint8_t *buf = NULL;
    png_bytep *rows = NULL;
    if (!p || !info) {
        png_destroy_read_struct(&p, NULL, NULL);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    if (setjmp(png_jmpbuf(p))) {
        png_destroy_read_struct(&p, &info, NULL);
        free(buf);
        free(rows);
        snprintf(err, errlen, "%s: corrupt or truncated PNG", path);
        return -1;
    }
    png_set_user_limits(p, RTDETR_MAX_IMAGE_SIDE, RTDETR_MAX_IMAGE_SIDE);
    png_init_io(p, f);
    png_read_info(p, info);
    int ct = png_get_color_type(p, info), bd = png_get_bit_depth(p, info);
    if (bd == 16) png_set_strip_16(p);
    if (ct == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(p);
    if ((ct == PNG_COLOR_TYPE_GRAY || ct == PNG_COLOR_TYPE_GRAY_ALPHA) && bd < 8) png_set_expand_gray_1_2_4_to_8(p);
    if (png_get_valid(p, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(p);
    if (ct == PNG_COLOR_TYPE_GRAY || ct == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(p);
    png_set_strip_alpha(p);
    png_read_update_info(p, info);
    int W = (int)png_get_image_width(p, info), H = (int)png_get_image_height(p, info);
    if (png_get_rowbytes(p, info) != (size_t)W * 3) png_error(p, "unexpected row size");
    buf = malloc((size_t)W * (size_t)H * 3);
    rows = malloc(sizeof(png_bytep) * (size_t)H);
    if (!buf || !rows) png_error(p, "out of memory");
    for (int y = 0; y < H; y++) rows[y] = buf + (size_t)y * (size_t)W * 3;
    png_read_image(p, rows);
    png_read_end(p, NULL);
    png_destroy_read_struct(&p, &info, NULL);
    free(rows);
    *rgb = buf;
    *w = W;
    *h = H;
    return 0;
}

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
} jerr_t;
static void jpeg_fail(j_common_ptr c)
{
    longjmp(((jerr_t *)c->err)->jb, 1);
}

static int read_jpeg(const char *path, FILE *f, uint8_t **rgb, int *w, int *h, char *err, size_t errlen)
{
    struct jpeg_decompress_struct c;
    jerr_t je;
    uint8_t *volatile buf = NULL;
    c.err = jpeg_std_error(&je.pub);
    je.pub.error_exit = jpeg_fail;
    if (setjmp(je.jb)) {
        jpeg_destroy_decompress(&c);
        free(buf);
        snprintf(err, errlen, "%s: corrupt or truncated JPEG", path);
        return -1;
    }
    jpeg_create_decompress(&c);
    jpeg_stdio_src(&c, f);
    jpeg_read_header(&c, TRUE);
    c.out_color_space = JCS_RGB;
    jpeg_start_decompress(&c);
    if (c.output_width > RTDETR_MAX_IMAGE_SIDE || c.output_height > RTDETR_MAX_IMAGE_SIDE ||
        c.output_components != 3) {
        jpeg_destroy_decompress(&c);
        snprintf(err, errlen, "%s: JPEG larger than %d pixels a side or not convertible to RGB", path,
                 RTDETR_MAX_IMAGE_SIDE);
        return -1;
    }
    int W = (int)c.output_width, H = (int)c.output_height;
    buf = malloc((size_t)W * (size_t)H * 3);
    if (!buf) longjmp(je.jb, 1);
    while (c.output_scanline < c.output_height) {
        JSAMPROW row = buf + (size_t)c.output_scanline * (size_t)W * 3;
        jpeg_read_scanlines(&c, &row, 1);
    }
    jpeg_finish_decompress(&c);
    jpeg_destroy_decompress(&c);
    *rgb = buf;
    *w = W;
    *h = H;
    return 0;
}

int image_read_rgb(const char *path, uint8_t **rgb, int *w, int *h, char *err, size_t errlen)
{
    *rgb = NULL;
    int64_t size = 0;
    int fd = dl_open_regular(path, RTDETR_MAX_IMAGE_BYTES, &size, err, errlen);
    if (fd < 0) return -1;
    FILE *f = fdopen(fd, "rb");
    if (!f) { snprintf(err, errlen, "%s: cannot open", path); return -1; }
    unsigned char sig[8] = {0};
    size_t got = fread(sig, 1, 8, f);
    rewind(f);
    int rc;
    if (got == 8 && !png_sig_cmp(sig, 0, 8)) rc = read_png(path, f, rgb, w, h, err, errlen);
    else if (got >= 3 && sig[0] == 0xFF && sig[1] == 0xD8 && sig[2] == 0xFF) rc = read_jpeg(path, f, rgb, w, h, err, errlen);
    else {
        snprintf(err, errlen, "%s: not a PNG or JPEG image", path);
        rc = -1;
    }
    fclose(f);
    return rc;
}

int image_write_png(const char *path, const uint8_t *rgb, int w, int h, char *err, size_t errlen)
{
    FILE *f = fopen(path, "wb");
    if (!f) { snprintf(err, errlen, "cannot write %s", path); return -1; }
    png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = p ? png_create_info_struct(p) : NULL;
    if (!p || !info || setjmp(png_jmpbuf(p))) {
        png_destroy_write_struct(&p, &info);
        fclose(f);
        snprintf(err, errlen, "cannot write %s", path);
        return -1;
    }
    png_init_io(p, f);
    png_set_IHDR(p, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(p, info);
    for (int y = 0; y < h; y++) png_write_row(p, (png_const_bytep)(rgb + (size_t)y * (size_t)w * 3));
    png_write_end(p, NULL);
    png_destroy_write_struct(&p, &info);
    if (fclose(f)) { snprintf(err, errlen, "cannot write %s", path); return -1; }
    return 0;
}

void image_to_input(const uint8_t *rgb, int w, int h, int size, float *out)
{
    for (int y = 0; y < size; y++) {
        double sy = (y + 0.5) * h / size - 0.5;
        if (sy < 0) sy = 0;
        int y0 = (int)sy, y1 = y0 + 1 < h ? y0 + 1 : h - 1;
        double fy = sy - y0;
        for (int x = 0; x < size; x++) {
            double sx = (x + 0.5) * w / size - 0.5;
            if (sx < 0) sx = 0;
            int x0 = (int)sx, x1 = x0 + 1 < w ? x0 + 1 : w - 1;
            double fx = sx - x0;
            for (int c = 0; c < 3; c++) {
                double a = rgb[((size_t)y0 * w + x0) * 3 + c], b = rgb[((size_t)y0 * w + x1) * 3 + c];
                double cc = rgb[((size_t)y1 * w + x0) * 3 + c], d = rgb[((size_t)y1 * w + x1) * 3 + c];
                double v = (a * (1 - fx) + b * fx) * (1 - fy) + (cc * (1 - fx) + d * fx) * fy;
                out[((size_t)c * size + y) * size + x] = (float)(v / 255.0);
            }
        }
    }
}
