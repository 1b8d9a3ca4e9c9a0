#include "CKernels.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void lantern_keep_freed_memory(void) {
#if defined(__GLIBC__)
    // Serve large blocks from the heap rather than fresh mmap regions, and never trim the heap:
    // a freed block is then reused by the next forward pass without page faults.
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, -1);
#endif
}
