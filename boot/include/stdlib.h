#ifndef ZV_STDLIB_H
#define ZV_STDLIB_H
#include <stddef.h>
__attribute__((noreturn)) void abort(void);
#endif
