/* Large buffers on transparent huge pages.
 *
 * Linux's default THP mode ("madvise") gives 2 MB pages only to regions that ask
 * for them. With 4 KB pages resnet-det's 400 MB of parameters, gradients,
 * optimizer state and activations span ~100k pages, and the ops that stride
 * across them (filter rows 18 KB apart in the Winograd filter transforms and
 * weight gradients, NCHW channel planes 16-64 KB apart in the band copies and
 * im2col) miss the TLB. Parameters, optimizer state, replica gradients, the
 * graph's arena chunks and op scratch therefore come from here: from 2 MB on
 * they are 2 MB-aligned and their whole huge pages marked MADV_HUGEPAGE (the
 * tail stays on 4 KB pages, so nothing grows by more than its alignment);
 * smaller ones stay ordinary 64-byte-aligned allocations. Where the kernel has
 * no THP the advice fails harmlessly.
 * Measured (docs/benchmarks.md): resnet-det's 1-thread step 367 -> 336 ms with
 * all of these (357 with the arena and scratch only), cnn-fmnist 53 -> 51; the
 * price is the first touch of the huge pages, which on this project's virtual
 * machines (fresh host memory) added 0-3.5 s to resnet-det's start-up and 5-12%
 * to the test suite, which therefore runs with DYNLAB_HUGEPAGES=0. */
#define _DEFAULT_SOURCE
#include <stdlib.h>
#include <sys/mman.h>
#include "core/internal.h"

#define HUGE_PAGE ((size_t)2 << 20)

/* DYNLAB_HUGEPAGES=0 turns the advice off (read once): short runs whose start-up
 * matters more than the steps, such as the test suite. The dynlab command rejects
 * values other than 0 and 1 before it starts (tools/dynlab.c). */
int dl_hugepages_on(void) {
    static int on = -1; /* a benign race: every thread computes the same answer */
    if (on < 0) {
        const char *e = getenv("DYNLAB_HUGEPAGES");
        on = !(e && e[0] == '0' && e[1] == '\0');
    }
    return on;
}

void *dl_alloc_big(size_t bytes) {
    const size_t n = bytes ? (bytes + 63) / 64 * 64 : 64;
    if (n < HUGE_PAGE || !dl_hugepages_on()) return aligned_alloc(64, n);
    void *p = NULL; /* posix_memalign: aligned_alloc wants the size a multiple of the alignment */
    if (posix_memalign(&p, HUGE_PAGE, n)) return NULL;
#ifdef MADV_HUGEPAGE
    /* the whole huge pages only: the tail stays on 4 KB pages, so no buffer
     * grows by more than its alignment */
    if (p) (void)madvise(p, n / HUGE_PAGE * HUGE_PAGE, MADV_HUGEPAGE);
#endif
    return p;
}
