/* The per-step activation arena: a chunked bump allocator (64-byte aligned).
 *
 * Step 1 grows it chunk by chunk as needed. dl_arena_reset() rewinds it; when the
 * step needed more than one chunk, the reset replaces them by a single chunk of the
 * high-water size, so every later step with the same shapes is served from one
 * block without touching the heap. Every malloc is counted (heap_allocs). */
#include <stdlib.h>
#include <string.h>
#include "core/internal.h"

#define DL_ALIGN 64
#define DL_FIRST_CHUNK (1u << 20)

static size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

static void add_chunk(dl_arena *a, size_t cap) {
    if (a->n_chunks == a->cap_chunks) {
        int nc = a->cap_chunks ? 2 * a->cap_chunks : 8;
        dl_chunk *c = realloc(a->chunks, (size_t)nc * sizeof *c);
        if (!c) dl_fatal("out of memory growing the arena chunk list");
        a->chunks = c;
        a->cap_chunks = nc;
        a->heap_allocs++;
    }
    cap = round_up(cap, DL_ALIGN);
    char *p = dl_alloc_big(cap);
    if (!p) dl_fatal("out of memory: arena chunk of %zu bytes", cap);
    a->chunks[a->n_chunks].base = p;
    a->chunks[a->n_chunks].cap = cap;
    a->n_chunks++;
    a->heap_allocs++;
}

void dl_arena_init(dl_arena *a) { memset(a, 0, sizeof *a); }

void dl_arena_free(dl_arena *a) {
    for (int i = 0; i < a->n_chunks; i++) free(a->chunks[i].base);
    free(a->chunks);
    memset(a, 0, sizeof *a);
}

void *dl_arena_alloc(dl_arena *a, size_t bytes) {
    size_t need = round_up(bytes ? bytes : 1, DL_ALIGN);
    while (a->cur < a->n_chunks && a->off + need > a->chunks[a->cur].cap) {
        a->cur++; /* the tail of a full chunk is left unused until the next reset */
        a->off = 0;
    }
    if (a->cur == a->n_chunks) {
        size_t total = 0;
        for (int i = 0; i < a->n_chunks; i++) total += a->chunks[i].cap;
        size_t cap = need > total ? need : total;
        if (cap < DL_FIRST_CHUNK) cap = DL_FIRST_CHUNK;
        add_chunk(a, cap);
        a->cur = a->n_chunks - 1;
        a->off = 0;
    }
    void *p = a->chunks[a->cur].base + a->off;
    a->off += need;
    a->used += need;
    if (a->used > a->high) a->high = a->used;
    return p;
}

void dl_arena_reset(dl_arena *a) {
    if (a->n_chunks > 1) {
        /* Coalesce: one chunk large enough for the whole high-water step. */
        for (int i = 0; i < a->n_chunks; i++) free(a->chunks[i].base);
        a->n_chunks = 0;
        add_chunk(a, a->high);
    }
    a->cur = 0;
    a->off = 0;
    a->used = 0;
}
