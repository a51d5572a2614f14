// A plugin registry whose init registers function pointers in the indirect function table at
// run time, the way a dynamically loading host would: each plugin gets a fresh table slot
// (grown by table_grow.s), and `dispatch` calls through those slots. The number of plugins
// comes from the environment (WASI), so the init genuinely depends on build-time input.
#include <stdint.h>
#include <stdlib.h>

typedef uint32_t (*plugin_fn)(uint32_t);

// table_grow.s: appends `f`'s funcref to the indirect function table, returns its new index.
extern uint32_t registry_table_append(plugin_fn f);

static uint32_t add_one(uint32_t x) { return x + 1; }
static uint32_t twice(uint32_t x) { return x * 2; }
static uint32_t square(uint32_t x) { return x * x; }
static uint32_t negate(uint32_t x) { return 0u - x; }

static plugin_fn builtin[4] = {add_one, twice, square, negate};
static uint32_t slots[64];
static uint32_t count;

__attribute__((export_name("wizer-initialize"))) void init(void) {
    const char *n = getenv("PLUGINS");
    uint32_t wanted = n ? (uint32_t)atoi(n) : 4;
    if (wanted > 64) wanted = 64;
    for (uint32_t i = 0; i < wanted; i++) {
        slots[count++] = registry_table_append(builtin[i % 4]);
    }
}

__attribute__((export_name("dispatch"))) uint32_t dispatch(uint32_t which, uint32_t x) {
    if (count == 0) __builtin_trap();
    plugin_fn f = (plugin_fn)(uintptr_t)slots[which % count];
    return f(x);
}

__attribute__((export_name("plugins"))) uint32_t plugins(void) { return count; }
