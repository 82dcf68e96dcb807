/* MPI scale-out: process group, data-parallel gradient all-reduce, sweep.
 *
 * Everything here also builds without MPI (DYNLAB_HAVE_MPI undefined): then
 * the group is always one process, dl_dist_have_mpi() is 0 and the
 * all-reduce is a no-op. See docs/scale-out.md. */
#ifndef DYNLAB_DIST_H
#define DYNLAB_DIST_H

#include <stddef.h>
#include <stdint.h>
#include "dynlab/core.h"

/* 1 when this binary was built with MPI. */
int dl_dist_have_mpi(void);
/* "Open MPI v4.1.4, ..." or "built without MPI". */
const char *dl_dist_describe(void);
/* Number of processes the launcher (mpirun/srun) started, read from its
 * environment (OMPI_COMM_WORLD_SIZE, PMI_SIZE, PMIX_SIZE...); 1 when none. */
int dl_dist_launched_size(void);

/* Initialise MPI when the process was started by a launcher with more than
 * one process, else stay a group of one without touching MPI (so a plain
 * single-process run never loads the MPI runtime). Idempotent. Returns 0, or
 * -1 with one line in err (e.g. launched by mpirun but built without MPI). */
int dl_dist_init(int *argc, char ***argv, char *err, size_t errlen);
void dl_dist_finalize(void);
int dl_dist_rank(void);
int dl_dist_size(void);
/* 1 once dl_dist_init has started MPI with more than one process. */
int dl_dist_active(void);
/* Abort every process of the group (after a fatal error on one rank). */
void dl_dist_abort(int code);
void dl_dist_barrier(void);
/* Rank 0's value of *v on every rank. */
void dl_dist_bcast_int(int *v);

/* Data parallel: replace every trainable parameter's gradient by its mean
 * over the ranks. All grads (plus `n_extra` floats in `extra`, e.g. the
 * local loss, also averaged) are packed into one flat float buffer and
 * reduced by ONE MPI_Allreduce(SUM), then scaled by 1/size. Parameters are
 * visited in store order, which is the same on every rank. No-op for a
 * group of one. Returns 0, or -1 when MPI fails. */
int dl_dist_allreduce_grads_extra(dl_params *ps, float *extra, int n_extra);
int dl_dist_allreduce_grads(dl_params *ps);

/* Concatenate every rank's `n` floats in rank order into all[n * size] on
 * every rank (one MPI_Allgather; a group of one copies). Returns 0, or -1
 * when MPI fails. Used for per-sample losses that weight a global batch. */
int dl_dist_allgather_floats(const float *mine, int n, float *all);

/* 64-bit FNV-1a hash of the bytes of every parameter (trainable or not) in
 * store order: equal hashes <=> bitwise equal weights. */
uint64_t dl_params_hash(const dl_params *ps);
/* Gather every rank's dl_params_hash on all ranks; writes "rank0 H0, rank1
 * H1 ..." into msg and returns 1 when all are equal, 0 otherwise. */
int dl_dist_params_identical(const dl_params *ps, char *msg, size_t msglen);

/* Send a NUL-terminated string from rank `from` to rank 0 (tag = job);
 * on rank 0 returns a malloc'd copy (caller frees), elsewhere NULL. */
char *dl_dist_send_string_to_root(const char *s, int from, int tag);

#endif
