"""Exercise every kind of symbol of the `rich` world, using wasmtime-py.

    python check.py COMPONENT

Prints one line per call.  compsnap.sh (EXAMPLE=rich) runs it on
componentize-py's rich.ref.wasm and on compsnap's rich.snap.wasm and compares
the outputs: a snapshot made with a wrong `symbols` argument to `init` fails
here (an AttributeError in the guest, seen as a trap).
"""

import sys

import wasmtime
from wasmtime import component as wc
from wasmtime.component._types import Record, Variant

IFACE = "example:rich/shapes"


def main() -> int:
    engine = wasmtime.Engine()
    component = wc.Component.from_file(engine, sys.argv[1])
    linker = wc.Linker(engine)
    linker.add_wasip2()
    store = wasmtime.Store(engine)
    wasi = wasmtime.WasiConfig()
    wasi.inherit_stderr()
    store.set_wasi(wasi)
    instance = linker.instantiate(store, component)
    shapes = instance.get_export_index(store, IFACE)

    def call(name, *args, iface=True):
        index = instance.get_export_index(store, name, shapes) if iface else name
        func = instance.get_func(store, index)
        try:
            result = func(store, *args)
            func.post_return(store)
        except Exception as e:  # a trap: report it as a result
            return f"trap: {str(e).splitlines()[0]}"
        if isinstance(result, Variant):
            return f"{result.tag}({result.payload!r})"
        return repr(result)

    def point(x, y):
        r = Record()
        r.x, r.y = x, y
        return r

    print("top", call("top", [3, None], iface=False))
    print("top", call("top", [], iface=False))
    print("top", call("top", [None], iface=False))
    print("describe", call("describe", point(1, -2), point(5, 6), "green", {"read", "exec"}, "hi", (7, "t")))
    print("describe", call("describe", point(0, 0), 9, "blue", set(), None, (0, "")))
    print("describe", call("describe", point(0, 0), None, "red", set(), None, (0, "")))
    print("ping", call("ping"))
    counter = instance.get_func(store, instance.get_export_index(store, "[constructor]counter", shapes))(store, 41)
    print("counter.incr", call("[method]counter.incr", counter))
    made = instance.get_func(store, instance.get_export_index(store, "[static]counter.make", shapes))(store, 4)
    print("counter.make(4).incr", call("[method]counter.incr", made))
    return 0


if __name__ == "__main__":
    sys.exit(main())
