#!/usr/bin/env bash
# capture.sh: get the UN-initialized component out of componentize-py 0.25.1,
# with the exact inputs of its init call, so that compsnap can pre-initialize
# it instead of componentize-py's own component-init step.
#
#   examples/python/capture.sh [OUT]     # then OUT/compsnap.sh, or compsnap verify
#
# OUT defaults to examples/python/out (examples/python/out/rich for
# EXAMPLE=rich).  Rerunning into the same OUT rewrites every output.
#
# Why gdb
#   `componentize-py componentize` links libpython, the runtime and the
#   generated bindings into a component, then pre-initializes it in the same
#   process with component-init (`component_init_transform::initialize_staged`),
#   whose closure calls the component's export `exports#init(app-name, symbols,
#   stub-wasi)`.  It has no switch to skip that step, no option to write the
#   stage-1 component, and no hook.  So this script runs componentize-py under
#   gdb in batch mode (capture_gdb.py) and:
#     - at `component_init_transform::instrument(component_stage1: &[u8])`
#       dumps the slice (rsi = pointer, rdx = length, rdi = return slot on
#       x86-64) to NAME.uninit.wasm, and copies every preopened directory
#       (they are open directory fds of the process at that point, in the
#       order python, bundled, 0..N-1, world) before any guest code runs;
#     - at the drop of the `Symbols` value right after `init` returned, decodes
#       it into the WAVE value compsnap passes to `init`;
#     - then lets componentize-py finish, which writes its own initialized
#       component, NAME.ref.wasm, to compare against.
#
# Assumptions (checked where possible; anything else fails loudly)
#   - componentize-py == 0.25.1 exactly (checked): symbol names, the
#     generate() flow, the WASI setup and the Rust memory layout of `Symbols`
#     are those of that release's manylinux x86-64 wheel.
#   - x86-64 Linux, System V calling convention; gdb (with Python), nm
#     (binutils) and python3 >= 3.10 with venv installed; ptrace allowed.
#   - The init environment is what src/lib.rs builds: stdin empty,
#     PYTHONUNBUFFERED=1, PYTHONHOME=/python,
#     PYTHONPATH=/python:/world:/0:...:/N-1:/bundled where /0.. are the python
#     path: the app directory (-p, default ".") then the site-packages of
#     $VIRTUAL_ENV, which this script sets to the venv it uses.  The guest
#     names of the preopens are python, bundled, 0.., world (no leading
#     slash, as componentize-py passes them).  The PYTHONPATH is also looked
#     up in the process memory as a check.
#   - componentize-py runs without --stub-wasi (with it, it would also build a
#     second, stubbed component, and stub-wasi would be true in the call) and
#     with the default world module name (wit_world).
#
# The preopen copies (OUT/preopens)
#   compsnap reads the preopens in place.  A CPython init would write
#   __pycache__/*.pyc next to every module it compiles, and it stats every
#   directory and file (mtimes stay in its import caches), but compsnap's
#   deterministic world makes that harmless: the preopens are read-only for
#   the init (CPython then skips writing bytecode) and every timestamp,
#   inode and listing order it sees is normalized, so compsnap.args can be
#   used in place any number of times, and a fresh copy of preopens/ gives
#   the same snapshot.  preopens/1 (the venv's site-packages, ~100 MB) is an
#   empty directory: the example apps import nothing from it.
#
# Outputs in OUT (NAME is hello, or rich with EXAMPLE=rich)
#   NAME.uninit.wasm       the linked, un-initialized component (stage 1)
#   NAME.ref.wasm          componentize-py's own initialized component
#   preopens/{python,bundled,0,1,world}  the directories preopened for init,
#                          copied before init ran (above)
#   compsnap.args          the compsnap arguments, one per line, paths
#                          relative to OUT; '#input', '#reference' and '#call'
#                          lines (the WAVE calls to check, in order, on one
#                          instance) are for tests
#   compsnap.sh            runs compsnap with compsnap.args, then checks the
#                          snapshot answers like NAME.ref.wasm (wasmtime-py)
#   compsnap-command.txt   the same command lines (snapshot and verify), to read
#   symbols.wave, init-call.wave         the init arguments, as WAVE
#   NAME.uninit.inspect.txt  `compsnap inspect` of the un-initialized component
#   capture.json           what was found where, for debugging
#
# Environment
#   EXAMPLE    hello (default: app/, wit/) or rich (rich/app, rich/wit: a world
#              with every kind of symbol, to check the Symbols decoder)
#   VENV       venv with componentize-py==0.25.1 and wasmtime==50.0.1
#              (wasmtime-py, for the checks); created or fixed up when the
#              versions differ; default examples/python/out/venv
#   COMPSNAP   compsnap binary (default: compsnap on PATH, then
#              ../../target/release/compsnap, ../../target/debug/compsnap,
#              the first that has the inspect subcommand)
set -euo pipefail

CPY_VERSION=0.25.1
WASMTIME_PY_VERSION=50.0.1
APP_NAME=app

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "capture.sh: error: $*" >&2; exit 1; }
say() { echo "capture.sh: $*" >&2; }
sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }  # single-quote for a shell

EXAMPLE=${EXAMPLE:-hello}
case $EXAMPLE in
hello)
    SRC=$HERE
    DEFAULT_OUT=$HERE/out
    # check COMPONENT: print the answers the snapshot must give
    CHECK='"$PY" "$EXAMPLES/invoke.py" "$1" hello World fr:Ada'
    CALLS=('hello("World")' 'hello("fr:Ada")')
    ;;
rich)
    SRC=$HERE/rich
    DEFAULT_OUT=$HERE/out/rich
    CHECK='"$PY" "$EXAMPLES/rich/check.py" "$1"'
    CALLS=('top([some(3), none])'
        'example:rich/shapes#describe({x: 1, y: -2}, square({x: 5, y: 6}), green, {read, exec}, some("hi"), (7, "t"))'
        'example:rich/shapes#describe({x: 0, y: 0}, circle(9), blue, {}, none, (0, ""))'
        'example:rich/shapes#ping()')
    ;;
*) die "EXAMPLE must be hello or rich" ;;
esac
NAME=$EXAMPLE
WORLD=$EXAMPLE

# ---------------------------------------------------------------- tools
[ "$(uname -s)/$(uname -m)" = Linux/x86_64 ] || die "needs x86-64 Linux (registers and symbol layout), not $(uname -s)/$(uname -m)"
command -v gdb >/dev/null || die "gdb not found (Debian/Ubuntu: apt-get install gdb)"
command -v nm >/dev/null || die "nm not found (Debian/Ubuntu: apt-get install binutils)"
command -v python3 >/dev/null || die "python3 not found; needs Python 3.10 or later with venv (Debian/Ubuntu: apt-get install python3 python3-venv)"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
    die "python3 is $(python3 -c 'import sys; print(sys.version.split()[0])' 2>&1); needs 3.10 or later"
gdb -nx -batch -ex 'python import gdb' >/dev/null 2>&1 || die "this gdb has no Python support (needs gdb built with Python)"

OUT=${1:-$DEFAULT_OUT}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
VENV=${VENV:-$HERE/out/venv}

# ---------------------------------------------------------------- venv
versions() {
    "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("componentize-py"), m.version("wasmtime"))' 2>/dev/null || true
}
WANT="$CPY_VERSION $WASMTIME_PY_VERSION"
if [ ! -e "$VENV" ]; then
    say "creating $VENV"
    python3 -m venv "$VENV" || die "python3 -m venv $VENV failed (Debian/Ubuntu: apt-get install python3-venv)"
fi
[ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null ||
    die "$VENV is not a working venv of Python 3.10 or later; remove it (rm -rf $(sq "$VENV")) or set VENV"
have=$(versions)
if [ "$have" != "$WANT" ]; then
    say "installing componentize-py==$CPY_VERSION wasmtime==$WASMTIME_PY_VERSION into $VENV (found: ${have:-not both installed})"
    "$VENV/bin/python" -m pip install -q "componentize-py==$CPY_VERSION" "wasmtime==$WASMTIME_PY_VERSION" ||
        die "pip install into $VENV failed"
    have=$(versions)
    [ "$have" = "$WANT" ] || die "$VENV has componentize-py, wasmtime = '${have}', expected '$WANT'"
else
    say "reusing $VENV (componentize-py $CPY_VERSION, wasmtime $WASMTIME_PY_VERSION)"
fi
VENV=$(cd "$VENV" && pwd)
version=$("$VENV/bin/componentize-py" --version)
[ "$version" = "componentize-py $CPY_VERSION" ] ||
    die "found '$version'; this script only works with componentize-py $CPY_VERSION exactly"

SO=$("$VENV/bin/python" -c 'import componentize_py.componentize_py as m; print(m.__file__)')
# componentize-py appends the first directory named site-packages under $VIRTUAL_ENV/lib.
SITE=$(find "$VENV/lib" -type d -name site-packages -print -quit)
[ -n "$SITE" ] || die "no site-packages under $VENV/lib"

# ---------------------------------------------------------------- clean OUT
# Everything this script writes, so that a rerun never mixes old and new
# files.  Preopens sealed by an earlier version are read-only: make them
# writable to delete them.
STAGE=$OUT/stage
SYMS=$OUT/.capture-syms.txt
[ -d "$OUT/preopens" ] && chmod -R u+w "$OUT/preopens"
rm -rf "$STAGE" "$SYMS" "$OUT/preopens" "$OUT/$NAME.uninit.wasm" "$OUT/$NAME.uninit.wasm.tmp" \
    "$OUT/$NAME.ref.wasm" "$OUT/$NAME.snap.wasm" "$OUT/$NAME.uninit.inspect.txt" \
    "$OUT/symbols.wave" "$OUT/init-call.wave" "$OUT/capture.json" \
    "$OUT/compsnap.args" "$OUT/compsnap.sh" "$OUT/compsnap-command.txt"

# ---------------------------------------------------------------- symbols
nm -C --defined-only "$SO" | awk '
    $2 ~ /^[tT]$/ && $3 == "component_init_transform::instrument" && NF == 3 { print "instrument", $1 }
    $2 ~ /^[tT]$/ && $0 ~ / core::ptr::drop_glue::<componentize_py::exports::exports::Symbols>$/ { print "drop_symbols", $1 }
' >"$SYMS"
[ "$(grep -c '^instrument ' "$SYMS")" = 1 ] || die "component_init_transform::instrument not found (once) in $SO (stripped wheel?)"
grep -q '^drop_symbols ' "$SYMS" || die "drop_glue::<Symbols> not found in $SO"

# ---------------------------------------------------------------- capture
# Run from a copy of the app: the guest writes __pycache__ into its preopens.
mkdir -p "$STAGE/tmp"
cp -r "$SRC/app" "$SRC/wit" "$STAGE/"
rm -rf "$STAGE/app/__pycache__"

say "running componentize-py $CPY_VERSION under gdb (15 to 30 s)"
start=$(date +%s.%N)
(
    cd "$STAGE/app"
    env VIRTUAL_ENV="$VENV" TMPDIR="$STAGE/tmp" \
        CAPTURE_OUT="$OUT" CAPTURE_SYMS="$SYMS" CAPTURE_TMPDIR="$STAGE/tmp" \
        CAPTURE_PYTHON_PATH="$STAGE/app:$SITE" CAPTURE_EMPTY_PATHS="$SITE" CAPTURE_APP_NAME="$APP_NAME" \
        CAPTURE_STUB_WASI=false CAPTURE_UNINIT_NAME="$NAME.uninit.wasm" \
        gdb -batch -nx -iex 'set auto-load python-scripts off' -x "$HERE/capture_gdb.py" \
        --args "$VENV/bin/python" "$VENV/bin/componentize-py" \
        -d ../wit -w "$WORLD" componentize "$APP_NAME" -o "$OUT/$NAME.ref.wasm"
) 2>&1 | grep -v -e '^\[New Thread' -e '^\[Thread' -e '^Using host libthread_db' -e '^\[Inferior' \
    -e '^\[New process' -e '^$' -e '^Catchpoint' -e 'Inferior loaded' -e '_dl_debug_state' -e 'dl-debug.c' >&2 ||
    die "gdb capture failed"
end=$(date +%s.%N)
for f in "$NAME.uninit.wasm" "$NAME.ref.wasm" init-call.wave capture.json; do
    [ -s "$OUT/$f" ] || die "capture did not produce $OUT/$f"
done
rm -rf "$SYMS" "$STAGE"
say "capture took $(python3 -c "print(f'{$end - $start:.1f}')") s"

if [ -f "$SRC/expected-init-call.wave" ] && ! cmp -s "$SRC/expected-init-call.wave" "$OUT/init-call.wave"; then
    say "warning: the init call differs from $SRC/expected-init-call.wave:"
    diff "$SRC/expected-init-call.wave" "$OUT/init-call.wave" >&2 || true
fi

# ---------------------------------------------------------------- compsnap.args
PYTHONPATH_GUEST=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["env"]["PYTHONPATH"])' "$OUT/capture.json")
mapfile -t dirs < <(python3 -c 'import json,sys; [print(p["guest"]) for p in json.load(open(sys.argv[1]))["preopens"]]' "$OUT/capture.json")
ARGS=(--allow-wasi -f "exports#$(cat "$OUT/init-call.wave")"
    --env PYTHONUNBUFFERED=1 --env PYTHONHOME=/python --env "PYTHONPATH=$PYTHONPATH_GUEST")
for g in "${dirs[@]}"; do ARGS+=(--dir "preopens/$g::$g"); done
for a in "${ARGS[@]}" "${CALLS[@]}"; do
    case $a in *$'\n'*) die "argument with a newline: $a" ;; esac
done
{
    echo "# written by examples/python/capture.sh: one compsnap argument per line; '#' lines are for tests"
    echo "#input $NAME.uninit.wasm"
    echo "#reference $NAME.ref.wasm"
    for c in "${CALLS[@]}"; do echo "#call $c"; done
    printf '%s\n' "${ARGS[@]}"
} >"$OUT/compsnap.args"

# ---------------------------------------------------------------- compsnap binary
COMPSNAP_BIN=${COMPSNAP:-}
if [ -z "$COMPSNAP_BIN" ]; then
    for c in "$(command -v compsnap || true)" "$HERE/../../target/release/compsnap" "$HERE/../../target/debug/compsnap"; do
        # skip stale builds without the inspect subcommand
        if [ -n "$c" ] && [ -x "$c" ] && "$c" inspect --help >/dev/null 2>&1; then COMPSNAP_BIN=$c; break; fi
    done
fi
[ -z "$COMPSNAP_BIN" ] || COMPSNAP_BIN=$(cd "$(dirname "$COMPSNAP_BIN")" && pwd)/$(basename "$COMPSNAP_BIN")

# ---------------------------------------------------------------- compsnap.sh
{
    echo '#!/usr/bin/env bash'
    echo "# Generated by capture.sh: pre-initialize $NAME.uninit.wasm with compsnap, with the"
    echo '# arguments in compsnap.args (the init call, environment and preopens componentize-py'
    echo "# 0.25.1 uses), then check that the snapshot answers like componentize-py's $NAME.ref.wasm."
    echo "#   compsnap.sh [OUTPUT]     (default: $NAME.snap.wasm next to this script)"
    echo '#   COMPSNAP=/path/to/compsnap COMPSNAP_FLAGS=-v compsnap.sh'
    echo 'set -euo pipefail'
    echo 'OUT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)'
    printf 'COMPSNAP=${COMPSNAP:-%q}\n' "${COMPSNAP_BIN:-compsnap}"
    printf 'PY=%q\n' "$VENV/bin/python"
    printf 'EXAMPLES=%q\n' "$HERE"
    echo "SNAP=\$(realpath -m -- \"\${1:-\$OUT/$NAME.snap.wasm}\")"
    echo 'cd "$OUT"  # compsnap.args paths are relative to OUT'
    echo 'args=()'
    echo 'while IFS= read -r line; do'
    echo '    case $line in "#input "*) input=${line#"#input "} ;; "#"* | "") ;; *) args+=("$line") ;; esac'
    echo 'done <compsnap.args'
    echo 'start=$(date +%s.%N)'
    echo '"$COMPSNAP" ${COMPSNAP_FLAGS:-} "$input" -o "$SNAP" "${args[@]}" --init-timeout 300'
    echo 'end=$(date +%s.%N)'
    echo 'echo "compsnap.sh: compsnap took $(python3 -c "print(f'"'"'{$end - $start:.1f}'"'"')") s; wrote $SNAP ($(stat -c %s "$SNAP") bytes)" >&2'
    echo "check() { $CHECK; }"
    echo "want=\$(check \"\$OUT/$NAME.ref.wasm\")"
    echo 'got=$(check "$SNAP")'
    echo 'printf "compsnap.sh: reference: %s\ncompsnap.sh: snapshot:  %s\n" "$(echo $want)" "$(echo $got)" >&2'
    echo '[ "$want" = "$got" ] || { echo "compsnap.sh: MISMATCH between the reference and the snapshot" >&2; exit 1; }'
    echo 'echo "compsnap.sh: OK, the snapshot answers like the reference" >&2'
} >"$OUT/compsnap.sh"
chmod +x "$OUT/compsnap.sh"

# ---------------------------------------------------------------- compsnap-command.txt
# The same arguments as compsnap.args, as shell command lines (flag and value on one line).
args_sh() {
    local i=0 n=${#ARGS[@]}
    while [ $i -lt $n ]; do
        case ${ARGS[$i]} in
        -f | --env | --dir) printf ' \\\n  %s %s' "${ARGS[$i]}" "$(sq "${ARGS[$((i + 1))]}")"; i=$((i + 2)) ;;
        *) printf ' \\\n  %s' "${ARGS[$i]}"; i=$((i + 1)) ;;
        esac
    done
}
{
    echo "# compsnap command lines for OUT=$OUT (run them there: the paths are relative;"
    echo '# the arguments are those of compsnap.args)'
    echo
    echo '# snapshot:'
    printf 'cd %s && %s %s -o %s' "$(sq "$OUT")" "$(sq "${COMPSNAP_BIN:-compsnap}")" "$NAME.uninit.wasm" "$NAME.snap.wasm"
    args_sh
    echo
    echo
    echo '# verify (snapshot, then compare the original after init with the snapshot):'
    printf 'cd %s && %s verify %s' "$(sq "$OUT")" "$(sq "${COMPSNAP_BIN:-compsnap}")" "$NAME.uninit.wasm"
    args_sh
    for c in "${CALLS[@]}"; do printf ' \\\n  --call %s' "$(sq "$c")"; done
    echo
} >"$OUT/compsnap-command.txt"

if [ -n "$COMPSNAP_BIN" ]; then
    "$COMPSNAP_BIN" inspect "$OUT/$NAME.uninit.wasm" >"$OUT/$NAME.uninit.inspect.txt" 2>&1 ||
        say "warning: compsnap inspect failed, see $OUT/$NAME.uninit.inspect.txt"
else
    say "warning: no compsnap binary found (set COMPSNAP); compsnap.sh will look for compsnap on PATH"
fi

say "done: $(stat -c %s "$OUT/$NAME.uninit.wasm") bytes un-initialized ($NAME.uninit.wasm), $(stat -c %s "$OUT/$NAME.ref.wasm") bytes initialized by componentize-py ($NAME.ref.wasm), preopens $(du -sh "$OUT/preopens" | cut -f1)"
say "next: $OUT/compsnap.sh   or see $OUT/compsnap-command.txt for compsnap verify"
