#ifndef REVSEARCH_CHEAP_H
#define REVSEARCH_CHEAP_H
#include <stddef.h>

/// Bytes the C heap has handed out and not taken back: glibc's mallinfo2 uordblks
/// (in-use heap chunks) plus hblkhd (mmapped chunks).
size_t revsearch_heap_in_use(void);

#endif
