//! The behaviours wasmtime-wizer's own core-module tests assert (wasmtime's
//! `crates/wizer/tests`), checked on compsnap with inputs written for this file: each init
//! runs at build time, then the snapshot's `run` export, called in a fresh instance, must
//! return what that test expects. Where Wizer refuses an input (table instructions, segment
//! drops, mutable funcref globals), compsnap must snapshot it instead.

mod common;

use common::wat;

/// Snapshots `input` with `snap`, instantiates the result with the imports the peer's tests
/// define at run time (`x.f`, `env.f`: empty functions) and WASI, and calls `run(args)`.
fn wizen_and_run(snap: &compsnap::Snapshotter, input: &[u8], args: &str) -> anyhow::Result<i32> {
    let output = snap.snapshot(input)?;
    compsnap::validate(&output)?;
    let engine = common::engine();
    let module = wasmtime::Module::new(engine, &output)?;
    let mut linker = wasmtime::Linker::new(engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |c| c)?;
    let mut store = wasmtime::Store::new(engine, wasmtime_wasi::WasiCtx::builder().build_p1());
    let nothing = wasmtime::Func::wrap(&mut store, || {});
    linker.define(&mut store, "x", "f", nothing)?;
    linker.define(&mut store, "env", "f", nothing)?;
    let instance = linker.instantiate(&mut store, &module)?;
    let results = compsnap::call_core(&mut store, &instance, &format!("run{args}"))?
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    match results.as_slice() {
        [wasmtime::Val::I32(v)] => Ok(*v),
        other => anyhow::bail!("expected one i32, got {other:?}"),
    }
}

fn default() -> compsnap::Snapshotter {
    compsnap::Snapshotter::new()
}

fn expect(input: &str, expected: i32) {
    let got = wizen_and_run(&default(), &wat(input), "()").unwrap();
    assert_eq!(got, expected, "{input}");
}

#[test]
fn globals_memories_and_segments() {
    // A mutable global set by the init.
    expect(
        r#"(module (global $g (mut i32) (i32.const 0))
             (func (export "wizer-initialize") (global.set $g (i32.const 42)))
             (func (export "run") (result i32) (global.get $g)))"#,
        42,
    );
    // A store at an offset.
    expect(
        r#"(module (memory 1)
             (func (export "wizer-initialize") (i32.store offset=1337 (i32.const 0) (i32.const 42)))
             (func (export "run") (result i32) (i32.load offset=1337 (i32.const 0))))"#,
        42,
    );
    // Two memories.
    expect(
        r#"(module (memory $a 1) (memory $b 1)
             (func (export "wizer-initialize")
               (i32.store $a offset=1337 (i32.const 0) (i32.const 40))
               (i32.store $b offset=1337 (i32.const 0) (i32.const 2)))
             (func (export "run") (result i32)
               (i32.add (i32.load $a offset=1337 (i32.const 0))
                        (i32.load $b offset=1337 (i32.const 0)))))"#,
        42,
    );
    // The last byte of a memory.
    expect(
        r#"(module (memory 1)
             (func (export "wizer-initialize") (i32.store8 offset=65535 (i32.const 0) (i32.const 42)))
             (func (export "run") (result i32) (i32.load8_u offset=65535 (i32.const 0))))"#,
        42,
    );
    // A byte every 6 bytes over 10 pages: more segments than engines accept, unless merged.
    expect(
        r#"(module (memory 10)
             (func (export "wizer-initialize") (local $i i32)
               (loop $l
                 (i32.store8 (local.get $i) (i32.const 42))
                 (local.set $i (i32.add (local.get $i) (i32.const 6)))
                 (br_if $l (i32.lt_u (local.get $i) (i32.const 655360)))))
             (func (export "run") (result i32) (i32.load8_u (i32.const 655356))))"#,
        42,
    );
    // Mutable and immutable globals mixed.
    expect(
        r#"(module
             (global $a (mut i32) (i32.const 1)) (global $b i32 (i32.const 2))
             (global $c (mut i32) (i32.const 3)) (global $d i32 (i32.const 4))
             (func (export "wizer-initialize")
               (global.set $a (i32.const 42)) (global.set $c (i32.const 43)))
             (func (export "run") (result i32)
               (i32.add (i32.add (global.get $a) (global.get $b))
                        (i32.add (global.get $c) (global.get $d)))))"#,
        42 + 2 + 43 + 4,
    );
    // memory.init at init and again at run: the passive segments survive, the active one is
    // replaced by the snapshot.
    expect(
        r#"(module (memory 1)
             (data $p "\01\02")
             (data (i32.const 0) "\03\04")
             (data $q "\05\06")
             (func (export "wizer-initialize") (memory.init $p (i32.const 2) (i32.const 0) (i32.const 2)))
             (func (export "run") (result i32)
               (memory.init $p (i32.const 4) (i32.const 0) (i32.const 2))
               (memory.init $q (i32.const 6) (i32.const 0) (i32.const 2))
               (i32.add (i32.load (i32.const 0)) (i32.load (i32.const 4)))))"#,
        0x0201_0403 + 0x0605_0201,
    );
}

#[test]
fn bulk_memory_and_simd() {
    let hello = ('h' as i32) + ('w' as i32);
    expect(
        r#"(module (memory $m (data "hello, wizer!"))
             (func (export "wizer-initialize") (memory.copy (i32.const 42) (i32.const 0) (i32.const 13)))
             (func (export "run") (result i32)
               (i32.add (i32.load8_u (i32.const 42)) (i32.load8_u offset=7 (i32.const 42)))))"#,
        hello,
    );
    expect(
        r#"(module (memory 1)
             (func (export "wizer-initialize") (memory.fill (i32.const 42) (i32.const 77) (i32.const 13)))
             (func (export "run") (result i32)
               (i32.add (i32.load8_u (i32.const 42)) (i32.load8_u offset=7 (i32.const 42)))))"#,
        154,
    );
    expect(
        r#"(module (memory 1) (data $d "hello, wizer!")
             (func (export "wizer-initialize") (memory.init $d (i32.const 42) (i32.const 0) (i32.const 13)))
             (func (export "run") (result i32)
               (i32.add (i32.load8_u (i32.const 42)) (i32.load8_u offset=7 (i32.const 42)))))"#,
        hello,
    );
    // A data count section with two active segments, as a bulk-memory toolchain writes it.
    let mut module = wasm_encoder::Module::new();
    let mut types = wasm_encoder::TypeSection::new();
    types.ty().function([], [wasm_encoder::ValType::I32]);
    types.ty().function([], []);
    module.section(&types);
    let mut funcs = wasm_encoder::FunctionSection::new();
    funcs.function(0).function(1);
    module.section(&funcs);
    let mut memories = wasm_encoder::MemorySection::new();
    memories.memory(wasm_encoder::MemoryType {
        minimum: 1,
        maximum: Some(1),
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    module.section(&memories);
    let mut exports = wasm_encoder::ExportSection::new();
    exports.export("run", wasm_encoder::ExportKind::Func, 0);
    exports.export("wizer-initialize", wasm_encoder::ExportKind::Func, 1);
    module.section(&exports);
    module.section(&wasm_encoder::DataCountSection { count: 2 });
    let mut code = wasm_encoder::CodeSection::new();
    let mut run = wasm_encoder::Function::new([]);
    run.instruction(&wasm_encoder::Instruction::I32Const(42))
        .instruction(&wasm_encoder::Instruction::End);
    code.function(&run);
    let mut init = wasm_encoder::Function::new([]);
    init.instruction(&wasm_encoder::Instruction::End);
    code.function(&init);
    module.section(&code);
    let mut data = wasm_encoder::DataSection::new();
    data.active(0, &wasm_encoder::ConstExpr::i32_const(0), [0, 1, 2, 3]);
    data.active(0, &wasm_encoder::ConstExpr::i32_const(4), [5, 6, 7, 8]);
    module.section(&data);
    assert_eq!(
        wizen_and_run(&default(), &module.finish(), "()").unwrap(),
        42
    );

    expect(
        r#"(module (global $g (mut v128) (v128.const i32x4 2 3 5 7))
             (func (export "wizer-initialize") (global.set $g (i32x4.mul (global.get $g) (global.get $g))))
             (func (export "run") (result i32) (i32x4.extract_lane 3 (global.get $g))))"#,
        49,
    );
    // Relaxed SIMD computed the deterministic way, whatever the build machine.
    expect(
        r#"(module (global $g (mut i32) (i32.const 0))
             (func (export "wizer-initialize")
               (global.set $g (i32.reinterpret_f32 (f32x4.extract_lane 0 (f32x4.relaxed_madd
                 (v128.const f32x4 2796203.5 0 0 0)
                 (v128.const f32x4 3.0 0 0 0)
                 (v128.const f32x4 8388611.0 0 0 0))))))
             (func (export "run") (result i32) (global.get $g)))"#,
        0x4b80_0003,
    );
}

/// A reactor's `_initialize` runs first and exactly once, and goes from the output; with
/// `--keep-init-func` the init stays but `_initialize` still goes.
#[test]
fn wasi_reactors() {
    expect(
        r#"(module (global $g (mut i32) (i32.const 0))
             (func (export "_initialize") (global.set $g (i32.const 6)))
             (func (export "wizer-initialize") (global.set $g (i32.mul (global.get $g) (i32.const 7))))
             (func (export "run") (result i32) (global.get $g)))"#,
        42,
    );
    let once = wat(r#"(module (global $g (mut i32) (i32.const 0))
             (func (export "_initialize") (global.set $g (i32.add (global.get $g) (i32.const 1))))
             (func (export "run") (result i32) (global.get $g)))"#);
    let mut snap = default();
    snap.init_func("_initialize");
    assert_eq!(wizen_and_run(&snap, &once, "()").unwrap(), 1);
    let keep = wat(r#"(module (global $g (mut i32) (i32.const 0))
             (func (export "_initialize") (global.set $g (i32.const 1)))
             (func (export "wizer-initialize") (global.set $g (i32.const 2)))
             (func (export "run") (result i32) (global.get $g)))"#);
    let mut snap = default();
    snap.keep_init_func(true);
    assert_eq!(wizen_and_run(&snap, &keep, "()").unwrap(), 2);
    let out = snap.snapshot(&keep).unwrap();
    let exports: Vec<String> = wasmparser::Parser::new(0)
        .parse_all(&out)
        .filter_map(|p| match p.unwrap() {
            wasmparser::Payload::ExportSection(r) => Some(
                r.into_iter()
                    .map(|e| e.unwrap().name.to_string())
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(exports, ["wizer-initialize", "run"]);
}

/// `func_a=func_b` and `func_b=func_c`: func_a is what func_b was, func_b what func_c was,
/// and func_c is gone.
#[test]
fn renames_chain() {
    let input = wat(r#"(module
         (func (export "wizer-initialize"))
         (func (export "func_a") (result i32) (i32.const 1))
         (func (export "func_b") (result i32) (i32.const 2))
         (func (export "func_c") (result i32) (i32.const 3))
         (func (export "run") (result i32) (i32.const 0)))"#);
    let mut snap = default();
    snap.rename_func("func_a", "func_b")
        .rename_func("func_b", "func_c");
    let out = snap.snapshot(&input).unwrap();
    let mut running = common::CoreRunning::new(&out, &[]);
    assert_eq!(running.outcome("func_a()"), "[I32(2)]");
    assert_eq!(running.outcome("func_b()"), "[I32(3)]");
    assert_eq!(running.outcome("func_c()"), "trap");
}

#[test]
fn imports() {
    // An import nobody calls during init is fine; the one the init calls is an error.
    expect(
        r#"(module (import "x" "f" (func))
             (func (export "wizer-initialize"))
             (func (export "run") (result i32) (i32.const 42)))"#,
        42,
    );
    let calls =
        wat(r#"(module (import "x" "f" (func $f)) (func (export "wizer-initialize") (call $f)))"#);
    let err = default().snapshot(&calls).unwrap_err();
    assert!(format!("{err:#}").contains("`x::f`"), "{err:#}");
    // Imported memories, tables and globals are the host's: refused.
    for import in [
        r#"(memory 1)"#,
        r#"(table 0 externref)"#,
        r#"(global (mut i32))"#,
        r#"(global i32)"#,
    ] {
        let input = wat(&format!(
            r#"(module (import "" "" {import}) (func (export "wizer-initialize")))"#
        ));
        assert!(default().snapshot(&input).is_err(), "{import}");
    }
}

/// What Wizer refuses and compsnap snapshots: `table.copy`, `table.get`/`table.set`,
/// `table.grow`, `table.init`, `elem.drop`, `data.drop`, mutable funcref globals.
#[test]
fn what_wizer_refuses_compsnap_snapshots() {
    expect(
        r#"(module (type $r (func (result i32))) (table 3 funcref)
             (func $f (result i32) (i32.const 40)) (func $g (result i32) (i32.const 2))
             (elem (i32.const 0) $f $g)
             (func (export "wizer-initialize") (table.copy (i32.const 2) (i32.const 1) (i32.const 1)))
             (func (export "run") (result i32)
               (i32.add (call_indirect (type $r) (i32.const 0)) (call_indirect (type $r) (i32.const 2)))))"#,
        42,
    );
    expect(
        r#"(module (type $r (func (result i32))) (table 3 funcref)
             (func $f (result i32) (i32.const 7)) (func $g (result i32) (i32.const 42))
             (elem (i32.const 0) $f $g)
             (func (export "wizer-initialize") (table.set (i32.const 0) (table.get (i32.const 1))))
             (func (export "run") (result i32) (call_indirect (type $r) (i32.const 0))))"#,
        42,
    );
    expect(
        r#"(module (type $r (func (result i32))) (table 0 funcref)
             (elem declare func $f) (func $f (result i32) (i32.const 42))
             (func (export "wizer-initialize") (drop (table.grow (ref.func $f) (i32.const 1))))
             (func (export "run") (result i32) (call_indirect (type $r) (i32.const 0))))"#,
        42,
    );
    expect(
        r#"(module (type $r (func (result i32))) (table 3 funcref)
             (func $f (result i32) (i32.const 42)) (elem $e func $f $f $f)
             (func (export "wizer-initialize")
               (table.init $e (i32.const 0) (i32.const 0) (i32.const 3)) (elem.drop $e))
             (func (export "run") (result i32) (call_indirect (type $r) (i32.const 2))))"#,
        42,
    );
    expect(
        r#"(module (memory 1) (data $d "*")
             (func (export "wizer-initialize")
               (memory.init $d (i32.const 9) (i32.const 0) (i32.const 1)) (data.drop $d))
             (func (export "run") (result i32) (i32.load8_u (i32.const 9))))"#,
        42,
    );
    expect(
        r#"(module (type $r (func (result i32))) (global $fg (mut funcref) (ref.null func))
             (elem declare func $f) (func $f (result i32) (i32.const 42))
             (func (export "wizer-initialize") (global.set $fg (ref.func $f)))
             (func (export "run") (result i32) (call_ref $r (ref.cast (ref $r) (global.get $fg)))))"#,
        42,
    );
    // A second table written by an active segment, with reference types.
    expect(
        r#"(module (type $r (func (result i32))) (table 0 funcref) (table $t1 1 funcref)
             (elem (table $t1) (i32.const 0) func $f) (func $f (type $r) (i32.const 42))
             (func (export "wizer-initialize"))
             (func (export "run") (result i32) (call_indirect $t1 (type $r) (i32.const 0))))"#,
        42,
    );
}

/// wasmtime-wizer's 64-bit memory test: the snapshot's data segments take i64 offsets.
#[test]
fn memory64() {
    expect(
        r#"(module (memory i64 1)
             (func (export "wizer-initialize") (i32.store (i64.const 0) (i32.const 10)))
             (func (export "run") (result i32) (i32.load (i64.const 0))))"#,
        10,
    );
}
