// Local-only unwinding: no ptrace support is needed and the fast paths are used.
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include "CUnwind.h"

int revsearch_capture_stack(uintptr_t *ips, int capacity, int skip) {
    void *frames[256];
    int limit = capacity + skip + 1;
    if (limit > 256) limit = 256;
    int n = unw_backtrace(frames, limit);
    int written = 0;
    // Frame 0 is this function itself.
    for (int i = 1 + skip; i < n && written < capacity; i++) {
        ips[written++] = (uintptr_t)frames[i];
    }
    return written;
}

int revsearch_symbol_name(uintptr_t ip, char *buffer, size_t capacity, uintptr_t *offset) {
    unw_context_t context;
    unw_cursor_t cursor;
    if (unw_getcontext(&context) != 0) return -1;
    if (unw_init_local(&cursor, &context) != 0) return -1;
    // A return address points after the call; look up the byte before it so a call
    // that ends a function is attributed to that function.
    if (unw_set_reg(&cursor, UNW_REG_IP, (unw_word_t)(ip - 1)) != 0) return -1;
    unw_word_t off = 0;
    int status = unw_get_proc_name(&cursor, buffer, capacity, &off);
    *offset = (uintptr_t)off + 1;
    return status;
}
