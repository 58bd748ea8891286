/* Freestanding stand-in: nothing needed from intrin.h. */
#define alloca __builtin_alloca
#define _alloca __builtin_alloca
