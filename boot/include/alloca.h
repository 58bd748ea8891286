/* Freestanding stand-in: nothing needed from alloca.h. */
#define alloca __builtin_alloca
#define _alloca __builtin_alloca
