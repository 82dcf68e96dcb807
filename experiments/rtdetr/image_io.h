/* PNG (libpng) and JPEG (libjpeg-turbo) images as 8-bit RGB, and resizing to
 * the detector's square float input. */
#ifndef RTDETR_IMAGE_IO_H
#define RTDETR_IMAGE_IO_H

#include <stddef.h>
#include <stdint.h>

/* Largest image file accepted and largest side (pixels). */
#define RTDETR_MAX_IMAGE_BYTES (256LL << 20)
#define RTDETR_MAX_IMAGE_SIDE 16384

/* Reads a PNG or JPEG (chosen by the file's signature) into *rgb (malloc'ed,
 * h*w*3 bytes, row-major). Gray, palette, 16-bit and alpha are converted. */
int image_read_rgb(const char *path, uint8_t **rgb, int *w, int *h, char *err, size_t errlen);
int image_write_png(const char *path, const uint8_t *rgb, int w, int h, char *err, size_t errlen);
/* Bilinear resize of rgb (w x h) to a planar float image [3, size, size] in [0, 1]. */
void image_to_input(const uint8_t *rgb, int w, int h, int size, float *out);

#endif
