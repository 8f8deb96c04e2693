#ifndef REVSEARCH_CUNWIND_H
#define REVSEARCH_CUNWIND_H
#include <stddef.h>
#include <stdint.h>

/// Writes up to `capacity` return addresses of the calling thread into `ips`,
/// innermost first, skipping `skip` frames; returns how many were written.
int revsearch_capture_stack(uintptr_t *ips, int capacity, int skip);

/// Writes the (mangled) symbol name of the procedure holding `ip` into `buffer`
/// and the offset of `ip` inside it into `offset`; returns 0 on success.
int revsearch_symbol_name(uintptr_t ip, char *buffer, size_t capacity, uintptr_t *offset);

#endif
