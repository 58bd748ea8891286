#ifndef ZV_STRING_H
#define ZV_STRING_H
#include <stddef.h>
/* Provided by Zig's compiler_rt. */
void *memcpy(void *dest, const void *src, size_t n);
void *memmove(void *dest, const void *src, size_t n);
void *memset(void *dest, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
#endif
