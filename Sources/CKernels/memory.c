// Process memory policy for the lantern executable (see ProcessMemory in Tensors/RecordStorage.swift).
#include "CKernels.h"
#include <stdlib.h>  // defines __GLIBC__ on glibc systems

#if defined(__GLIBC__)
#include <malloc.h>
#include <limits.h>
#endif

void lantern_keep_freed_memory(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_MAX, 0);              // serve large blocks from the heap rather than one mmap each
    mallopt(M_TRIM_THRESHOLD, INT_MAX);  // and keep freed heap memory for the next pass
#endif
}
