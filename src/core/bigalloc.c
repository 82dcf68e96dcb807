/* Large activation buffers on transparent huge pages.
 *
 * Linux's default THP mode ("madvise") gives 2 MB pages only to regions that ask
 * for them. With 4 KB pages resnet-det's 200 MB of activations span ~50k pages,
 * and the ops that stride across them (NCHW channel planes 16-64 KB apart in the
 * Winograd band copies and im2col, the transforms' scratch) miss the TLB. The
 * graph's arena chunks and op scratch therefore come from here: from 2 MB on they
 * are 2 MB-aligned and their whole huge pages marked MADV_HUGEPAGE; smaller ones
 * stay ordinary 64-byte-aligned allocations. Where the kernel has no THP the
 * advice fails harmlessly. Parameters and optimizer state, read sequentially,
 * stay on 4 KB pages: on this project's virtual machines the first touch of a
 * huge page can be slow (fresh host memory), and it is paid once per process.
 * docs/benchmarks.md has the measured effect. */
#define _DEFAULT_SOURCE
#include <stdlib.h>
#include <sys/mman.h>
#include "core/internal.h"

#define HUGE_PAGE ((size_t)2 << 20)

void *dl_alloc_big(size_t bytes) {
    const size_t n = bytes ? (bytes + 63) / 64 * 64 : 64;
    if (n < HUGE_PAGE) return aligned_alloc(64, n);
    void *p = aligned_alloc(HUGE_PAGE, n);
#ifdef MADV_HUGEPAGE
    /* the whole huge pages only: the tail stays on 4 KB pages, so no buffer
     * grows by more than its alignment */
    if (p) (void)madvise(p, n / HUGE_PAGE * HUGE_PAGE, MADV_HUGEPAGE);
#endif
    return p;
}
