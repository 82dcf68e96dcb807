/* safetensors files (8-byte little-endian header length, JSON header, raw
 * little-endian data), readable by PyTorch's safetensors loader; and the
 * training checkpoint built on them (parameters, optimizer state, step, RNG),
 * written atomically (temp file, fsync, rename). */
#ifndef DYNLAB_CHECKPOINT_H
#define DYNLAB_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>
#include "dynlab/core.h"
#include "dynlab/optim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writer: add F32 (or I64 for counters) arrays, then write atomically. */
typedef struct dl_st_writer dl_st_writer;
dl_st_writer *dl_st_writer_new(void);
void dl_st_add_f32(dl_st_writer *w, const char *name, const float *data, int ndim, const int *shape);
void dl_st_add_i64(dl_st_writer *w, const char *name, const int64_t *data, int64_t n);
void dl_st_add_meta(dl_st_writer *w, const char *key, const char *value); /* __metadata__ */
int dl_st_write(dl_st_writer *w, const char *path, char *err, size_t errlen);
void dl_st_writer_free(dl_st_writer *w);

/* Reader: whole file validated on open (regular file, header bounds, offsets,
 * dtype sizes, and the data section's CRC-32 when the metadata records one:
 * dl_st_write always does, under the key "dynlab_crc32"). */
typedef struct dl_st_file dl_st_file;
dl_st_file *dl_st_open(const char *path, char *err, size_t errlen);
void dl_st_close(dl_st_file *f);
int dl_st_count(const dl_st_file *f);
const char *dl_st_name(const dl_st_file *f, int i);
/* F32 tensor by name: pointer into the file buffer + shape; NULL if absent or not F32. */
const float *dl_st_get_f32(const dl_st_file *f, const char *name, int *ndim, int *shape);
const int64_t *dl_st_get_i64(const dl_st_file *f, const char *name, int64_t *n);
const char *dl_st_meta(const dl_st_file *f, const char *key);
int dl_st_has_checksum(const dl_st_file *f); /* 1 when the file's data checksum was verified */

/* Training checkpoint: every parameter by name, optimizer state as
 * "<name>.adam_m"/"<name>.adam_v"/"<name>.momentum", "step", and RNG state. */
int dl_checkpoint_save(const char *path, const dl_params *ps, const dl_optim *o, int64_t step,
                       const uint64_t *rng_state, int n_rng, char *err, size_t errlen);
/* Loads into existing params/optimizer (names and shapes must match). */
int dl_checkpoint_load(const char *path, dl_params *ps, dl_optim *o, int64_t *step,
                       uint64_t *rng_state, int n_rng, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
