#include <malloc.h>
#include "CHeap.h"

size_t revsearch_heap_in_use(void) {
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}
