/* Freestanding math for wasm2c output. floor/ceil/trunc/sqrt/fabs/fmod/round come from
 * Zig's compiler_rt; the rest are builtins. signbit and isnan cast to double so that
 * wasm2c's FMIN/FMAX also compile when dead code hands them an integer. */
#ifndef ZV_MATH_H
#define ZV_MATH_H
double floor(double); float floorf(float);
double ceil(double); float ceilf(float);
double trunc(double); float truncf(float);
double sqrt(double); float sqrtf(float);
double fabs(double); float fabsf(float);
double fmod(double, double);
double round(double);
#define nearbyint(x) __builtin_rint(x)
#define nearbyintf(x) __builtin_rintf(x)
#define isnan(x) __builtin_isnan((double)(x))
#define signbit(x) __builtin_signbit((double)(x))
#define copysign(x, y) __builtin_copysign(x, y)
#define copysignf(x, y) __builtin_copysignf(x, y)
#define INFINITY __builtin_inff()
#define NAN __builtin_nanf("")
#endif
