"""Call one export of a component, using wasmtime-py.

    python invoke.py COMPONENT FUNC [ARG...]

Compiles COMPONENT once, then for each ARG instantiates it in a fresh store
and calls FUNC(ARG) (FUNC() if no ARG is given), printing the result's repr()
on its own line on stdout; compile and call times go to stderr.  WASI
preview 2 is provided with no preopens and no environment, as a plain
`wasmtime run` would, so an initialized component must not need the
build-time directories any more.  compsnap.sh (written by capture.sh) uses it
to check that the reference component and compsnap's snapshot agree.
"""

import sys
import time

import wasmtime
from wasmtime import component as wc


def main() -> int:
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    path, func_name, *call_args = sys.argv[1:]
    config = wasmtime.Config()
    config.wasm_component_model = True  # the default in wasmtime-py 50; explicit for older ones
    engine = wasmtime.Engine(config)
    t = time.perf_counter()
    component = wc.Component.from_file(engine, path)
    sys.stderr.write(f"invoke.py: {path}: compile {time.perf_counter() - t:.2f} s\n")
    linker = wc.Linker(engine)
    linker.add_wasip2()
    for args in [[a] for a in call_args] or [[]]:
        store = wasmtime.Store(engine)
        wasi = wasmtime.WasiConfig()
        wasi.inherit_stdout()
        wasi.inherit_stderr()
        store.set_wasi(wasi)
        t = time.perf_counter()
        instance = linker.instantiate(store, component)
        func = instance.get_func(store, func_name)
        if func is None:
            sys.stderr.write(f"invoke.py: {path} has no export {func_name!r}\n")
            return 1
        result = func(store, *args)
        func.post_return(store)
        call_s = time.perf_counter() - t
        print(repr(result), flush=True)
        sys.stderr.write(f"invoke.py: {path}: {func_name}{tuple(args)!r}: "
                         f"instantiate+call {call_s * 1000:.1f} ms\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
