/* Freestanding wasm2c runtime for Zerovisor (replaces wabt's wasm-rt-impl.c).
 * Explicit bounds checks (WASM_RT_MEMCHECK_SIGNAL_HANDLER=0); memory and tables come
 * from zv_alloc_pages (UEFI AllocatePages); traps longjmp back to zv_run_kernel. */
#include "wasm-rt-impl.h"
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "zerovisor.h"

#define PAGE_SIZE 65536
#define MAX_EXCEPTION_SIZE 256
#define MAX_FUNC_TYPES 512
#define MAX_TYPE_VALUES 64

/* Host side (boot/main.zig). */
void *zv_alloc_pages(uint64_t bytes);
void zv_free_pages(void *base, uint64_t bytes);
__attribute__((noreturn)) void zv_abort(void);

#if WASM_RT_USE_STACK_DEPTH_COUNT
uint32_t wasm_rt_call_stack_depth;
uint32_t wasm_rt_saved_call_stack_depth;
#endif

jmp_buf wasm_rt_jmp_buf;

typedef struct FuncType {
  uint32_t param_count, result_count;
  wasm_rt_type_t values[MAX_TYPE_VALUES];
} FuncType;

static FuncType g_func_types[MAX_FUNC_TYPES];
static uint32_t g_func_type_count;
static uint32_t g_active_exception_tag;
static uint8_t g_active_exception[MAX_EXCEPTION_SIZE];
static uint32_t g_active_exception_size;
static jmp_buf *g_unwind_target;

void abort(void) { zv_abort(); }

void wasm_rt_trap(wasm_rt_trap_t code) {
#if WASM_RT_USE_STACK_DEPTH_COUNT
  wasm_rt_call_stack_depth = wasm_rt_saved_call_stack_depth;
#endif
  WASM_RT_LONGJMP(wasm_rt_jmp_buf, code);
}

uint32_t wasm_rt_register_func_type(uint32_t param_count, uint32_t result_count, ...) {
  FuncType t;
  uint32_t n = param_count + result_count, i, j;
  if (n > MAX_TYPE_VALUES) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
  t.param_count = param_count;
  t.result_count = result_count;
  va_list args;
  va_start(args, result_count);
  for (i = 0; i < n; ++i) t.values[i] = va_arg(args, wasm_rt_type_t);
  va_end(args);
  for (i = 0; i < g_func_type_count; ++i) {
    FuncType *o = &g_func_types[i];
    if (o->param_count != param_count || o->result_count != result_count) continue;
    for (j = 0; j < n && o->values[j] == t.values[j]; ++j) {}
    if (j == n) return i + 1;
  }
  if (g_func_type_count == MAX_FUNC_TYPES) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
  g_func_types[g_func_type_count] = t;
  return ++g_func_type_count;
}

uint32_t wasm_rt_register_tag(uint32_t size) {
  static uint32_t s_tag_count = 0;
  if (size > MAX_EXCEPTION_SIZE) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
  return s_tag_count++;
}

void wasm_rt_load_exception(uint32_t tag, uint32_t size, const void *values) {
  if (size > MAX_EXCEPTION_SIZE) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
  g_active_exception_tag = tag;
  g_active_exception_size = size;
  if (size) memcpy(g_active_exception, values, size);
}

WASM_RT_NO_RETURN void wasm_rt_throw(void) {
  WASM_RT_LONGJMP(*g_unwind_target, WASM_RT_TRAP_UNCAUGHT_EXCEPTION);
}

WASM_RT_UNWIND_TARGET *wasm_rt_get_unwind_target(void) { return g_unwind_target; }
void wasm_rt_set_unwind_target(WASM_RT_UNWIND_TARGET *target) { g_unwind_target = target; }
uint32_t wasm_rt_exception_tag(void) { return g_active_exception_tag; }
uint32_t wasm_rt_exception_size(void) { return g_active_exception_size; }
void *wasm_rt_exception(void) { return g_active_exception; }

void wasm_rt_init(void) {}
bool wasm_rt_is_initialized(void) { return true; }
void wasm_rt_free(void) {}

void wasm_rt_allocate_memory(wasm_rt_memory_t *memory, uint32_t initial_pages, uint32_t max_pages) {
  uint64_t bytes = (uint64_t)initial_pages * PAGE_SIZE;
  memory->data = bytes ? zv_alloc_pages(bytes) : 0;
  if (bytes && !memory->data) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
  if (bytes) memset(memory->data, 0, bytes);
  memory->size = (uint32_t)bytes;
  memory->pages = initial_pages;
  memory->max_pages = max_pages;
}

/* Grows by moving to a new block: wasm2c reloads memory->data on every access. */
uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *memory, uint32_t delta) {
  uint32_t old_pages = memory->pages;
  uint64_t new_pages = (uint64_t)old_pages + delta;
  if (delta == 0) return old_pages;
  if (new_pages > memory->max_pages || new_pages > 65536) return (uint32_t)-1;
  uint64_t old_size = (uint64_t)old_pages * PAGE_SIZE, new_size = new_pages * PAGE_SIZE;
  uint8_t *new_data = zv_alloc_pages(new_size);
  if (!new_data) return (uint32_t)-1;
  if (old_size) memcpy(new_data, memory->data, old_size);
  memset(new_data + old_size, 0, new_size - old_size);
  if (memory->data) zv_free_pages(memory->data, old_size);
  memory->data = new_data;
  memory->pages = (uint32_t)new_pages;
  memory->size = (uint32_t)new_size;
  return old_pages;
}

void wasm_rt_free_memory(wasm_rt_memory_t *memory) {
  if (memory->data) zv_free_pages(memory->data, memory->size);
}

#define DEFINE_TABLE_OPS(type)                                                             \
  void wasm_rt_allocate_##type##_table(wasm_rt_##type##_table_t *table, uint32_t elements, \
                                       uint32_t max_elements) {                            \
    uint64_t bytes = (uint64_t)elements * sizeof(wasm_rt_##type##_t);                      \
    table->size = elements;                                                                \
    table->max_size = max_elements;                                                        \
    table->data = bytes ? zv_alloc_pages(bytes) : 0;                                       \
    if (bytes) memset(table->data, 0, bytes);                                              \
  }                                                                                        \
  void wasm_rt_free_##type##_table(wasm_rt_##type##_table_t *table) {                      \
    if (table->data) zv_free_pages(table->data, (uint64_t)table->size * sizeof(wasm_rt_##type##_t)); \
  }                                                                                        \
  uint32_t wasm_rt_grow_##type##_table(wasm_rt_##type##_table_t *table, uint32_t delta,    \
                                       wasm_rt_##type##_t init) {                          \
    (void)table; (void)delta; (void)init;                                                  \
    return (uint32_t)-1; /* porffor never grows tables */                                  \
  }

DEFINE_TABLE_OPS(funcref)
DEFINE_TABLE_OPS(externref)

const char *wasm_rt_strerror(wasm_rt_trap_t trap) {
  switch (trap) {
    case WASM_RT_TRAP_NONE: return "no trap";
    case WASM_RT_TRAP_OOB: return "out-of-bounds memory access (OOB)";
    case WASM_RT_TRAP_INT_OVERFLOW: return "integer overflow (INT_OVERFLOW)";
    case WASM_RT_TRAP_DIV_BY_ZERO: return "integer divide by zero (DIV_BY_ZERO)";
    case WASM_RT_TRAP_INVALID_CONVERSION: return "invalid conversion to integer (INVALID_CONVERSION)";
    case WASM_RT_TRAP_UNREACHABLE: return "unreachable executed (UNREACHABLE)";
    case WASM_RT_TRAP_CALL_INDIRECT: return "invalid call_indirect (CALL_INDIRECT)";
    case WASM_RT_TRAP_UNCAUGHT_EXCEPTION: return "uncaught exception (UNCAUGHT_EXCEPTION)";
#if !WASM_RT_MERGED_OOB_AND_EXHAUSTION_TRAPS
    case WASM_RT_TRAP_EXHAUSTION: return "call stack or memory exhausted (EXHAUSTION)";
#endif
  }
  return "unknown trap";
}

/* The kernel instance and its entry. */
static Z_zv_instance_t g_kernel;

uint8_t *zv_memory_base(void) { return Z_zvZ_Z24(&g_kernel)->data; }
uint32_t zv_memory_size(void) { return Z_zvZ_Z24(&g_kernel)->size; }

/* Instantiates the kernel and runs its exported main(). Returns 0 when main returned,
 * otherwise the trap code that ended it. */
int zv_run_kernel(void) {
  int trap = wasm_rt_impl_try();
  if (trap != 0) return trap;
  wasm_rt_init();
  Z_zv_init_module();
  Z_zv_instantiate(&g_kernel, 0);
  Z_zvZ_m(&g_kernel); /* porffor's module top level: initializes module constants */
  Z_zvZ_main(&g_kernel);
  return 0;
}

/* rint/rintf (round to nearest, ties to even) for wasm2c's f64/f32.nearest: adding and
 * subtracting 2^52 (2^23) rounds in the default SSE rounding mode. */
double rint(double x) {
  if (!(__builtin_fabs(x) < 0x1p52)) return x;
  volatile double big = x >= 0 ? 0x1p52 : -0x1p52;
  double r = (x + big) - big;
  return __builtin_copysign(r, x);
}

float rintf(float x) {
  if (!(__builtin_fabsf(x) < 0x1p23f)) return x;
  volatile float big = x >= 0 ? 0x1p23f : -0x1p23f;
  float r = (x + big) - big;
  return __builtin_copysignf(r, x);
}
