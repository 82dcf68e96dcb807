/* MPI process group and the data-parallel gradient all-reduce
 * (docs/scale-out.md). Without DYNLAB_HAVE_MPI every function degrades to a
 * group of one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dist/dist.h"

#ifdef DYNLAB_HAVE_MPI
#include <mpi.h>
#endif

#ifdef DYNLAB_HAVE_MPI
/* Wait for a request by polling with short sleeps: a blocking MPI wait spins
 * at 100% CPU in Open MPI, which on a shared machine takes a core away from
 * the ranks that are still computing (sweep ranks finish at different times). */
static void wait_sleeping(MPI_Request *req) {
    const struct timespec nap = {0, 100000}; /* 0.1 ms */
    for (int done = 0;;) {
        MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (done) return;
        nanosleep(&nap, NULL);
    }
}
#endif

static int g_rank = 0, g_size = 1, g_active = 0, g_started_mpi = 0;
static float *g_flat = NULL; /* packed gradients, kept across steps (no malloc per step) */
static size_t g_flat_cap = 0;

int dl_dist_have_mpi(void) {
#ifdef DYNLAB_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

const char *dl_dist_describe(void) {
#ifdef DYNLAB_HAVE_MPI
    static char buf[MPI_MAX_LIBRARY_VERSION_STRING + 32];
    if (!buf[0]) {
        char v[MPI_MAX_LIBRARY_VERSION_STRING];
        int n = 0;
        MPI_Get_library_version(v, &n);
        char *nl = strpbrk(v, "\n,");
        if (nl) *nl = 0;
        snprintf(buf, sizeof buf, "built with MPI (%s)", v);
    }
    return buf;
#else
    return "built without MPI";
#endif
}

int dl_dist_launched_size(void) {
    static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE",
                                 "MPI_LOCALNRANKS", "SLURM_NTASKS"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && atoi(v) > 0) return atoi(v);
    }
    return 1;
}

int dl_dist_init(int *argc, char ***argv, char *err, size_t errlen) {
    if (g_active || g_started_mpi) return 0;
    int launched = dl_dist_launched_size();
#ifdef DYNLAB_HAVE_MPI
    if (launched <= 1) return 0; /* one process: no MPI runtime needed */
    int provided = 0;
    /* Only the main thread calls MPI; OpenMP threads work inside kernels. */
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        snprintf(err, errlen, "MPI_Init_thread failed");
        return -1;
    }
    g_started_mpi = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    g_active = g_size > 1;
    return 0;
#else
    (void)argc;
    (void)argv;
    if (launched > 1) {
        snprintf(err, errlen,
                 "this binary was built without MPI but was started as one of %d processes "
                 "(mpirun?); rebuild with libopenmpi-dev installed",
                 launched);
        return -1;
    }
    return 0;
#endif
}

void dl_dist_finalize(void) {
#ifdef DYNLAB_HAVE_MPI
    if (g_started_mpi) {
        int fin = 0;
        MPI_Finalized(&fin);
        if (!fin) MPI_Finalize();
    }
#endif
    g_started_mpi = g_active = 0;
    g_rank = 0;
    g_size = 1;
    free(g_flat);
    g_flat = NULL;
    g_flat_cap = 0;
}

int dl_dist_rank(void) { return g_rank; }
int dl_dist_size(void) { return g_size; }
int dl_dist_active(void) { return g_active; }

void dl_dist_abort(int code) {
#ifdef DYNLAB_HAVE_MPI
    if (g_active) MPI_Abort(MPI_COMM_WORLD, code);
#endif
    exit(code);
}

void dl_dist_barrier(void) {
#ifdef DYNLAB_HAVE_MPI
    if (g_active) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

void dl_dist_bcast_int(int *v) {
#ifdef DYNLAB_HAVE_MPI
    if (g_active) {
        MPI_Request req;
        MPI_Ibcast(v, 1, MPI_INT, 0, MPI_COMM_WORLD, &req);
        wait_sleeping(&req);
    }
#else
    (void)v;
#endif
}

int dl_dist_allreduce_grads_extra(dl_params *ps, float *extra, int n_extra) {
    if (!g_active) return 0;
#ifdef DYNLAB_HAVE_MPI
    size_t n = (size_t)(n_extra > 0 ? n_extra : 0);
    for (int i = 0; i < ps->n; i++)
        if (ps->items[i]->requires_grad) n += (size_t)ps->items[i]->size;
    if (n > g_flat_cap) {
        float *p = realloc(g_flat, n * sizeof *p);
        if (!p) return -1;
        g_flat = p;
        g_flat_cap = n;
    }
    /* Pack in store order (identical on every rank). A trainable parameter
     * whose gradient was never touched this step contributes zeros. */
    size_t off = 0;
    for (int i = 0; i < ps->n; i++) {
        dl_tensor *t = ps->items[i];
        if (!t->requires_grad) continue;
        if (t->grad)
            memcpy(g_flat + off, t->grad, (size_t)t->size * sizeof(float));
        else
            memset(g_flat + off, 0, (size_t)t->size * sizeof(float));
        off += (size_t)t->size;
    }
    for (int k = 0; k < n_extra; k++) g_flat[off + (size_t)k] = extra[k];
    if (n > (size_t)0x7fffffff) return -1; /* one call's count is an int */
    /* Non-blocking + polling wait: with more ranks than free cores, a rank
     * spinning in a blocking all-reduce steals the core its partner needs. */
    MPI_Request req;
    if (MPI_Iallreduce(MPI_IN_PLACE, g_flat, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &req) !=
        MPI_SUCCESS)
        return -1;
    wait_sleeping(&req);
    const float inv = 1.0f / (float)g_size;
    off = 0;
    for (int i = 0; i < ps->n; i++) {
        dl_tensor *t = ps->items[i];
        if (!t->requires_grad) continue;
        if (t->grad) {
            const float *src = g_flat + off;
            float *dst = t->grad;
            for (int64_t j = 0; j < t->size; j++) dst[j] = src[j] * inv;
        }
        off += (size_t)t->size;
    }
    for (int k = 0; k < n_extra; k++) extra[k] = g_flat[off + (size_t)k] * inv;
    return 0;
#else
    (void)ps;
    (void)extra;
    (void)n_extra;
    return 0;
#endif
}

int dl_dist_allreduce_grads(dl_params *ps) { return dl_dist_allreduce_grads_extra(ps, NULL, 0); }

int dl_dist_allgather_floats(const float *mine, int n, float *all) {
    if (!g_active) {
        memcpy(all, mine, (size_t)n * sizeof *all);
        return 0;
    }
#ifdef DYNLAB_HAVE_MPI
    MPI_Request req;
    if (MPI_Iallgather(mine, n, MPI_FLOAT, all, n, MPI_FLOAT, MPI_COMM_WORLD, &req) != MPI_SUCCESS)
        return -1;
    wait_sleeping(&req);
    return 0;
#else
    return -1;
#endif
}

uint64_t dl_params_hash(const dl_params *ps) {
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < ps->n; i++) {
        const unsigned char *b = (const unsigned char *)ps->items[i]->data;
        size_t nb = (size_t)ps->items[i]->size * sizeof(float);
        for (size_t j = 0; j < nb; j++) h = (h ^ b[j]) * 1099511628211ull;
    }
    return h;
}

int dl_dist_params_identical(const dl_params *ps, char *msg, size_t msglen) {
    uint64_t mine = dl_params_hash(ps);
    int n = g_active ? g_size : 1;
    uint64_t *all = calloc((size_t)n, sizeof *all);
    if (!all) return 0;
    all[0] = mine;
#ifdef DYNLAB_HAVE_MPI
    if (g_active) MPI_Allgather(&mine, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, MPI_COMM_WORLD);
#endif
    int same = 1;
    size_t used = 0;
    if (msglen) msg[0] = 0;
    for (int r = 0; r < n; r++) {
        if (all[r] != all[0]) same = 0;
        if (used < msglen)
            used += (size_t)snprintf(msg + used, msglen - used, "%srank%d %016llx", r ? ", " : "", r,
                                     (unsigned long long)all[r]);
    }
    free(all);
    return same;
}

char *dl_dist_send_string_to_root(const char *s, int from, int tag) {
    if (!g_active || from == 0) {
        if (g_rank != 0) return NULL;
        size_t n = strlen(s) + 1;
        char *c = malloc(n);
        if (c) memcpy(c, s, n);
        return c;
    }
#ifdef DYNLAB_HAVE_MPI
    MPI_Request req;
    if (g_rank == from) {
        int len = (int)strlen(s) + 1;
        MPI_Isend(&len, 1, MPI_INT, 0, tag, MPI_COMM_WORLD, &req);
        wait_sleeping(&req);
        MPI_Isend(s, len, MPI_CHAR, 0, tag, MPI_COMM_WORLD, &req);
        wait_sleeping(&req);
        return NULL;
    }
    if (g_rank == 0) {
        int len = 0;
        MPI_Irecv(&len, 1, MPI_INT, from, tag, MPI_COMM_WORLD, &req);
        wait_sleeping(&req);
        char *c = malloc((size_t)len > 0 ? (size_t)len : 1);
        if (!c) dl_dist_abort(1);
        MPI_Irecv(c, len, MPI_CHAR, from, tag, MPI_COMM_WORLD, &req);
        wait_sleeping(&req);
        c[len > 0 ? len - 1 : 0] = 0;
        return c;
    }
#endif
    return NULL;
}
