# gdb (batch mode) Python script used by capture.sh.  Do not run it directly:
# capture.sh sets the CAPTURE_* environment variables it reads and starts
#
#   gdb -batch -nx -x capture_gdb.py --args PYTHON COMPONENTIZE_PY ... componentize ...
#
# What it does, on componentize-py 0.25.1 / x86-64 Linux only:
#
# 1. Stops when componentize_py.abi3.so is loaded, computes its load address
#    from /proc/PID/maps and puts breakpoints on the symbol addresses that
#    capture.sh found with `nm` (CAPTURE_SYMS):
#      - component_init_transform::instrument(component_stage1: &[u8])
#      - every copy of core::ptr::drop_glue::<componentize_py::exports::exports::Symbols>
# 2. At `instrument`: the System V ABI passes the return slot in rdi and the
#    slice in rsi (pointer) / rdx (length).  The bytes are the linked, not yet
#    initialized component.  It checks the component preamble and writes
#    hello.uninit.wasm.  While stopped there (before any Python code has run,
#    so before the guest writes any __pycache__) it copies every preopened
#    directory.  wasmtime-wasi opens each preopen as a directory fd when
#    `WasiCtxBuilder::preopened_dir` is called, so /proc/PID/fd lists them, in
#    preopen order: python, bundled, 0..N-1 (the python path), world.
#    Temporary directories are identified by content, python-path entries by
#    path (CAPTURE_PYTHON_PATH); those in CAPTURE_EMPTY_PATHS are replaced by
#    an empty directory.  It also scans the process heap for the
#    PYTHONPATH string componentize-py built, to check the derived one.
# 3. At drop_glue::<Symbols> (called from generate()'s init closure right
#    after `call_init` returned): rdi points to the very `Symbols` value that
#    was passed to `init`.  It decodes it into a WAVE value (layout below)
#    and writes symbols.wave and init-call.wave.
# 4. Removes the breakpoints and lets componentize-py finish, which writes the
#    reference (componentize-py-initialized) component as usual.
#
# Memory layout of the Rust values (rustc's layout for this build; checked
# against the drop glue in the 0.25.1 binary, see the disassembly notes in
# README.md):
#   Vec<T>/String  = { cap: u64, ptr: u64, len: u64 }                24 bytes
#   Symbols        = 9 Vecs in declaration order (exports, resources, records,
#                    flags, tuples, variants, enums, options, results)
#   FunctionExport = 80 bytes: kind (72 bytes) + return_style: u8 at 72
#                    (0 none, 1 normal, 2 result)
#   FunctionExportKind: niche in word 0 (cap of static.module):
#     word0 ^ 1<<63 == 0 -> freestanding(function { protocol @8, name @32 })
#     word0 ^ 1<<63 == 1 -> constructor({ module @8, protocol @32 })
#     word0 ^ 1<<63 == 2 -> method(string @8)
#     otherwise          -> static({ module @0, protocol @24, name @48 })
#   Resource 48 {package, name}; Record 72 {package, name, fields};
#   Flags 56 {package, name, u32-count @48}; Tuple 4 {count};
#   Variant 72 {package, name, cases: Vec<Case 32 {name, has-payload @24}>};
#   Enum 56 {package, name, count @48}; OptionKind 1 (0 non-nesting,
#   1 nesting); ResultRecord 2 {has-ok, has-err}.

import json
import os
import re
import shutil
import struct
import sys
import time

import gdb

OUT = os.environ["CAPTURE_OUT"]
SYMS = os.environ["CAPTURE_SYMS"]
TMPDIR = os.path.realpath(os.environ["CAPTURE_TMPDIR"])
PYTHON_PATH = [os.path.realpath(p) for p in os.environ["CAPTURE_PYTHON_PATH"].split(":") if p]
# Python-path entries whose copy is left empty (the venv's site-packages: the
# example apps import nothing from it, and it is ~100 MB).
EMPTY_PATHS = {os.path.realpath(p) for p in os.environ.get("CAPTURE_EMPTY_PATHS", "").split(":") if p}
APP_NAME = os.environ["CAPTURE_APP_NAME"]
STUB_WASI = os.environ.get("CAPTURE_STUB_WASI", "false")
WORLD_MODULE = os.environ.get("CAPTURE_WORLD_MODULE", "wit_world")
UNINIT = os.path.join(OUT, os.environ.get("CAPTURE_UNINIT_NAME", "hello.uninit.wasm"))
PREOPENS = os.path.join(OUT, "preopens")
PREAMBLE = b"\0asm\x0d\0\x01\0"

info = {"componentize_py_so": None, "preopens": [], "notes": []}
t0 = time.time()


def fail(msg):
    sys.stderr.write(f"capture_gdb: error: {msg}\n")
    try:
        gdb.execute("kill")
    except gdb.error:
        pass
    gdb.execute("quit 1")


def log(msg):
    sys.stderr.write(f"capture_gdb: [{time.time() - t0:6.2f}s] {msg}\n")


def alive():
    inf = gdb.selected_inferior()
    return inf is not None and inf.pid != 0


def reg(name):
    return int(gdb.parse_and_eval(f"${name}")) & 0xFFFFFFFFFFFFFFFF


def pc():
    return reg("pc")


for cmd in ("set pagination off", "set confirm off", "set print thread-events off",
            "set auto-load safe-path /nonexistent"):
    try:
        gdb.execute(cmd)
    except gdb.error:
        pass
# Wasmtime handles SIGSEGV/SIGBUS/SIGILL/SIGFPE itself (guard pages, traps).
for sig in ("SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGUSR1", "SIGUSR2", "SIGPIPE"):
    gdb.execute(f"handle {sig} nostop noprint pass")

syms = {}
with open(SYMS) as f:
    for line in f:
        name, off = line.split()
        syms.setdefault(name, []).append(int(off, 16))
if len(syms.get("instrument", [])) != 1 or not syms.get("drop_symbols"):
    fail(f"bad symbol list {SYMS}: {syms}")

# ---------------------------------------------------------------- 1. load
gdb.execute("catch load componentize_py.abi3.so")
gdb.execute("run")
if not alive():
    fail("componentize-py exited before componentize_py.abi3.so was loaded")
pid = gdb.selected_inferior().pid
base = so_path = None
with open(f"/proc/{pid}/maps") as f:
    for line in f:
        fields = line.split()
        if len(fields) >= 6 and fields[5].endswith("componentize_py.abi3.so") and int(fields[2], 16) == 0:
            base = int(fields[0].split("-")[0], 16)
            so_path = fields[5]
            break
if base is None:
    fail("componentize_py.abi3.so is not mapped")
info["componentize_py_so"] = so_path
gdb.execute("delete")
instrument_addr = base + syms["instrument"][0]
drop_addrs = [base + off for off in syms["drop_symbols"]]
gdb.Breakpoint(f"*{instrument_addr:#x}", internal=True)
for a in drop_addrs:
    gdb.Breakpoint(f"*{a:#x}", internal=True)
log(f"componentize_py.abi3.so at {base:#x}; breakpoints set")

# ---------------------------------------------------------------- 2. instrument
gdb.execute("continue")
if not alive():
    fail("componentize-py exited without calling component_init_transform::instrument "
         "(did componentize-py fail? see its output above)")
if pc() != instrument_addr:
    fail(f"stopped at {pc():#x}, expected instrument at {instrument_addr:#x}")
inf = gdb.selected_inferior()
ptr, length = reg("rsi"), reg("rdx")
log(f"at component_init_transform::instrument: rsi={ptr:#x} rdx={length} (rdi={reg('rdi'):#x} is the return slot)")
if not (8 < length < 1 << 32):
    fail(f"implausible slice length {length}")
data = bytes(inf.read_memory(ptr, length))
if not data.startswith(PREAMBLE):
    fail(f"slice does not start with the component preamble: {data[:8]!r}")
os.makedirs(OUT, exist_ok=True)
tmp = UNINIT + ".tmp"
with open(tmp, "wb") as f:
    f.write(data)
os.replace(tmp, UNINIT)
info["uninit"] = {"path": UNINIT, "bytes": length}
log(f"wrote {UNINIT} ({length} bytes)")


def classify_tempdir(path):
    names = set(os.listdir(path))
    if "os.py" in names and "encodings" in names:
        return "python"
    if WORLD_MODULE in names and os.path.isdir(os.path.join(path, WORLD_MODULE)):
        return "world"
    if "componentize_py_types.py" in names or "poll_loop.py" in names:
        return "bundled"
    return None


def copy_tree(src, dst, empty=False):
    # Plain copies, never hard links: a copy must not share a file (or its
    # access time) with the venv it came from.
    if os.path.exists(dst):
        shutil.rmtree(dst)
    if empty:
        os.mkdir(dst)
        return "empty"
    shutil.copytree(src, dst, symlinks=True)
    return "copied"


dir_fds = []
for fd in sorted(int(x) for x in os.listdir(f"/proc/{pid}/fd")):
    try:
        target = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        continue
    if target.startswith("/") and os.path.isdir(target):
        dir_fds.append((fd, target))

os.makedirs(PREOPENS, exist_ok=True)
seen = set()
for fd, target in dir_fds:
    real = os.path.realpath(target)
    if real in seen:
        continue
    if os.path.dirname(real) == TMPDIR:
        guest = classify_tempdir(real)
        if guest is None:
            info["notes"].append(f"unclassified temporary directory {real} (fd {fd}) ignored")
            continue
        how = copy_tree(real, os.path.join(PREOPENS, guest))
    elif real in PYTHON_PATH:
        guest = str(PYTHON_PATH.index(real))
        how = copy_tree(real, os.path.join(PREOPENS, guest), empty=real in EMPTY_PATHS)
    else:
        info["notes"].append(f"directory fd {fd} -> {real} is not a preopen candidate; ignored")
        continue
    seen.add(real)
    info["preopens"].append({"fd": fd, "guest": guest, "host_during_capture": real,
                             "copy": os.path.join(PREOPENS, guest), "how": how})
    log(f"preopen fd {fd}: /{guest} <- {real} ({how})")

order = [p["guest"] for p in info["preopens"]]
expected = ["python", "bundled"] + [str(i) for i in range(len(PYTHON_PATH))] + ["world"]
info["preopen_order_matches_source"] = order == expected
if sorted(order) != sorted(expected):
    fail(f"preopens found {order}, expected {expected}")
if order != expected:
    info["notes"].append(f"preopen fd order {order} differs from the source order {expected}")

# PYTHONPATH as built by componentize-py: scan readable anonymous memory.
derived_pythonpath = ":".join(["/python", "/world"] + [f"/{i}" for i in range(len(PYTHON_PATH))] + ["/bundled"])
found = set()
pat = re.compile(rb"/python:/world:(?:/\d+:)*/bundled")
with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for line in maps:
        fields = line.split()
        lo, hi = (int(x, 16) for x in fields[0].split("-"))
        path = fields[5] if len(fields) >= 6 else ""
        if not fields[1].startswith("rw") or (path and not path.startswith("[heap")):
            continue
        if hi - lo > 1 << 30:
            continue
        try:
            mem.seek(lo)
            chunk = mem.read(hi - lo)
        except OSError:
            continue
        found.update(m.group(0).decode() for m in pat.finditer(chunk))
info["pythonpath_in_memory"] = sorted(found)
info["env"] = {"PYTHONUNBUFFERED": "1", "PYTHONHOME": "/python", "PYTHONPATH": derived_pythonpath}
if found and found != {derived_pythonpath}:
    fail(f"PYTHONPATH in memory {sorted(found)} != derived {derived_pythonpath}")
if not found:
    info["notes"].append("PYTHONPATH string not found in memory; using the one derived from the source")
log(f"PYTHONPATH={derived_pythonpath} (in memory: {sorted(found)})")

# ---------------------------------------------------------------- 3. Symbols
gdb.execute("continue")
if not alive():
    fail("componentize-py exited before dropping the init Symbols (init failed?)")
if pc() not in drop_addrs:
    fail(f"stopped at {pc():#x}, expected drop_glue::<Symbols>")
caller = gdb.selected_frame().older()
caller_name = (caller.name() if caller else None) or ""
if "generate" not in caller_name:
    fail(f"drop_glue::<Symbols> called from {caller_name!r}, expected the init closure of generate()")
sym_ptr = reg("rdi")


def rd(addr, n):
    return bytes(inf.read_memory(addr, n))


def u64s(addr, n):
    return struct.unpack(f"<{n}Q", rd(addr, 8 * n))


def vec(addr):
    cap, p, n = u64s(addr, 3)
    if n > cap or n > 1 << 20:
        fail(f"implausible Vec at {addr:#x}: cap={cap} ptr={p:#x} len={n}")
    return p, n


def string(addr):
    p, n = vec(addr)
    return rd(p, n).decode("utf-8") if n else ""


def wave_str(s):
    out = []
    for ch in s:
        if ch in "\"\\'":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def wave_bool(b):
    if b not in (0, 1):
        fail(f"bad bool byte {b}")
    return "true" if b else "false"


def items(addr, size, decode):
    p, n = vec(addr)
    return [decode(p + i * size) for i in range(n)]


def lst(xs):
    return "[" + ", ".join(xs) + "]"


def function_export(a):
    w0 = u64s(a, 1)[0]
    tag = w0 ^ (1 << 63) if w0 >> 63 else 3
    if tag == 0:
        kind = f"freestanding({{protocol: {wave_str(string(a + 8))}, name: {wave_str(string(a + 32))}}})"
    elif tag == 1:
        kind = f"constructor({{module: {wave_str(string(a + 8))}, protocol: {wave_str(string(a + 32))}}})"
    elif tag == 2:
        kind = f"method({wave_str(string(a + 8))})"
    elif tag == 3:
        kind = (f"static({{module: {wave_str(string(a))}, protocol: {wave_str(string(a + 24))}, "
                f"name: {wave_str(string(a + 48))}}})")
    else:
        fail(f"bad function-export-kind niche {w0:#x}")
    rs = rd(a + 72, 1)[0]
    style = {0: "%none", 1: "normal", 2: "result"}.get(rs)
    if style is None:
        fail(f"bad return-style byte {rs}")
    return f"{{kind: {kind}, return-style: {style}}}"


def pkg_name(a):
    return f"package: {wave_str(string(a))}, name: {wave_str(string(a + 24))}"


def resource(a):
    return "{" + pkg_name(a) + "}"


def record(a):
    fields = items(a + 48, 24, lambda x: wave_str(string(x)))
    return "{" + pkg_name(a) + f", fields: {lst(fields)}}}"


def u32(a):
    return struct.unpack("<I", rd(a, 4))[0]


def flags(a):
    return "{" + pkg_name(a) + f", u32-count: {u32(a + 48)}}}"


def tuple_(a):
    return f"{{count: {u32(a)}}}"


def case(a):
    return f"{{name: {wave_str(string(a))}, has-payload: {wave_bool(rd(a + 24, 1)[0])}}}"


def variant(a):
    return "{" + pkg_name(a) + f", cases: {lst(items(a + 48, 32, case))}}}"


def enum(a):
    return "{" + pkg_name(a) + f", count: {u32(a + 48)}}}"


def option_kind(a):
    b = rd(a, 1)[0]
    return {0: "non-nesting", 1: "nesting"}.get(b) or fail(f"bad option-kind {b}")


def result_record(a):
    ok, err = rd(a, 2)
    return f"{{has-ok: {wave_bool(ok)}, has-err: {wave_bool(err)}}}"


layout = [("exports", 80, function_export), ("resources", 48, resource), ("records", 72, record),
          ("flags", 56, flags), ("tuples", 4, tuple_), ("variants", 72, variant), ("enums", 56, enum),
          ("options", 1, option_kind), ("results", 2, result_record)]
parts, counts = [], {}
for i, (name, size, dec) in enumerate(layout):
    xs = items(sym_ptr + 24 * i, size, dec)
    counts[name] = len(xs)
    parts.append(f"{name}: {lst(xs)}")
symbols_wave = "{" + ", ".join(parts) + "}"
init_call = f"init({wave_str(APP_NAME)}, {symbols_wave}, {STUB_WASI})"
for fname, text in (("symbols.wave", symbols_wave), ("init-call.wave", init_call)):
    with open(os.path.join(OUT, fname), "w") as f:
        f.write(text + "\n")
info["symbols_counts"] = counts
info["symbols_wave"] = symbols_wave
info["init_call_wave"] = init_call
info["app_name"] = APP_NAME
info["stub_wasi"] = STUB_WASI
log(f"symbols (from the live value passed to init): {symbols_wave}")

# ---------------------------------------------------------------- 4. finish
gdb.execute("delete")
info["seconds_to_symbols"] = round(time.time() - t0, 2)
with open(os.path.join(OUT, "capture.json"), "w") as f:
    json.dump(info, f, indent=2)
    f.write("\n")
log("letting componentize-py finish (it writes the reference component)")
gdb.execute("continue")
code = gdb.convenience_variable("_exitcode")
code = int(code) if code is not None else 1
log(f"componentize-py exited with {code}")
gdb.execute(f"quit {code}")
