/* Dataset readers: IDX (MNIST / Fashion-MNIST), text corpora. Errors are one
 * line in err naming the file and the problem; no partial results. */
#ifndef DYNLAB_DATA_H
#define DYNLAB_DATA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* IDX file (optionally gzip-compressed). dims[0..ndim) and raw u8 data. */
typedef struct dl_idx {
    int ndim;
    int dims[4];
    uint8_t *data;   /* malloc'ed, product(dims) bytes */
    int64_t count;   /* product(dims) */
} dl_idx;
int dl_idx_read(const char *path, dl_idx *out, char *err, size_t errlen);
void dl_idx_free(dl_idx *x);

/* Fashion-MNIST from Debian's dataset-fashion-mnist (or DYNLAB_FASHION_MNIST
 * dir): images [n, 28, 28] as floats in [0,1], labels [n]. split: "train"/"test". */
typedef struct dl_mnist {
    int n, h, w;
    float *images;
    uint8_t *labels;
} dl_mnist;
int dl_fashion_mnist_load(const char *split, int max_n, dl_mnist *out, char *err, size_t errlen);
void dl_mnist_free(dl_mnist *m);

/* Whole file into memory (NUL-terminated). Only regular files of at most
 * DL_READ_FILE_MAX bytes (the error names the limit). */
#define DL_READ_FILE_MAX ((int64_t)1 << 30)
char *dl_read_file(const char *path, size_t *len, char *err, size_t errlen);
/* Same with a caller's limit (bytes, > 0). */
char *dl_read_file_max(const char *path, int64_t max_bytes, size_t *len, char *err, size_t errlen);

/* Open `path` for reading as a file descriptor, refusing anything that is not
 * a regular file (a FIFO would block forever, /dev/zero never ends, a
 * directory cannot be read) and files above max_bytes (0: no limit). The open
 * does not block on a FIFO. Returns the descriptor (blocking mode) and
 * *size, or -1 with one line in err: "<path>: cannot open: ...",
 * "<path>: not a regular file (a FIFO)", "<path>: 17 MiB, more than the
 * 16 MiB limit". */
int dl_open_regular(const char *path, int64_t max_bytes, int64_t *size, char *err, size_t errlen);
/* "16 MiB", "1 GiB", "512 bytes": a limit as the error messages print it. */
void dl_format_bytes(int64_t n, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
