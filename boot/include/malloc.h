/* Freestanding stand-in: nothing needed from malloc.h. */
#define alloca __builtin_alloca
#define _alloca __builtin_alloca
