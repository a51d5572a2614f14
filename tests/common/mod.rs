//! Test harness: run components in Wasmtime the way a user would, and compare an original
//! (instantiated, then init) with its snapshot (instantiated only).
#![allow(dead_code)]

pub mod c_build;

use std::sync::OnceLock;
use wasmtime::component::{Component, Instance, Linker};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxView, WasiView};

pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.wasm_multi_memory(true);
        config.wasm_memory64(true);
        Engine::new(&config).expect("engine")
    })
}

pub struct Host {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// An instantiated component. Imports trap, unless `env` asks for WASI with that environment.
pub struct Running {
    store: Store<Host>,
    instance: Instance,
}

impl Running {
    pub fn new(bytes: &[u8]) -> Self {
        Self::with_wasi(bytes, None)
    }

    pub fn with_wasi(bytes: &[u8], env: Option<&[(&str, &str)]>) -> Self {
        Self::try_with_wasi(bytes, env).expect("instantiate")
    }

    pub fn try_with_wasi(bytes: &[u8], env: Option<&[(&str, &str)]>) -> anyhow::Result<Self> {
        let component = Component::new(engine(), bytes)?;
        let mut linker = Linker::<Host>::new(engine());
        let mut wasi = WasiCtx::builder();
        if let Some(env) = env {
            wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
            // The WASI interfaces wasmtime-wasi lacks (ComponentizeJS imports wasi:http).
            compsnap::stub_unprovided_wasi(&mut linker, &component, engine())?;
            for (k, v) in env {
                wasi.env(k, v);
            }
        } else {
            // Not after WASI: an exact-name trap would shadow WASI's semver-compatible names.
            linker.define_unknown_imports_as_traps(&component)?;
        }
        let host = Host {
            wasi: wasi.build(),
            table: ResourceTable::new(),
        };
        let mut store = Store::new(engine(), host);
        let instance = linker.instantiate(&mut store, &component)?;
        Ok(Running { store, instance })
    }

    /// Calls `name(args)` (WAVE arguments; `iface#name` for interface exports) and returns
    /// the results in Debug form.
    pub fn call(&mut self, call: &str) -> String {
        self.try_call(call)
            .unwrap_or_else(|e| panic!("calling {call}: {e:?}"))
    }

    /// The results, or `trap` when the call fails (a trap poisons the instance, so calls that
    /// trap belong at the end of a list).
    pub fn outcome(&mut self, call: &str) -> String {
        self.try_call(call).unwrap_or_else(|_| "trap".to_string())
    }

    pub fn try_call(&mut self, call: &str) -> anyhow::Result<String> {
        let results = compsnap::call(&mut self.store, &self.instance, call)?
            .map_err(|trap| anyhow::anyhow!("{trap:?}"))?;
        Ok(format!("{results:?}"))
    }
}

/// Root export names of a component.
pub fn root_exports(bytes: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut depth = 0;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.expect("parse") {
            wasmparser::Payload::ModuleSection { .. }
            | wasmparser::Payload::ComponentSection { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth -= 1,
            wasmparser::Payload::ComponentExportSection(r) if depth == 0 => {
                for e in r {
                    names.push(e.expect("export").name.full_name().into_owned());
                }
            }
            _ => {}
        }
    }
    names
}

/// Snapshots `input` with `snap`, then checks that the snapshot, instantiated without init,
/// has exactly the core state the original has after init and answers `calls` the same way.
/// Returns the snapshot.
pub fn check(snap: &compsnap::Snapshotter, input: &[u8], init: &str, calls: &[&str]) -> Vec<u8> {
    check_with_env(snap, input, init, calls, None)
}

pub fn check_with_env(
    snap: &compsnap::Snapshotter,
    input: &[u8],
    init: &str,
    calls: &[&str],
    env: Option<&[(&str, &str)]>,
) -> Vec<u8> {
    let output = snap.snapshot(input).expect("snapshot");
    compsnap::validate(&output).expect("output validates");
    assert_image_friendly(&output);

    let mut original = Running::with_wasi(input, env);
    original.call(init);
    let expected: Vec<String> = calls.iter().map(|c| original.outcome(c)).collect();

    // The snapshot runs with no WASI at all: anything it needed from init is baked in.
    let mut snapshot = Running::new(&output);
    let got: Vec<String> = calls.iter().map(|c| snapshot.outcome(c)).collect();
    assert_eq!(
        got, expected,
        "calls on the snapshot differ from the original after init"
    );

    let before = snap
        .state(input, true)
        .expect("state of the original after init");
    let mut plain = snap.clone();
    plain.allow_wasi(false);
    let after = plain.state(&output, false).expect("state of the snapshot");
    if let Some(diff) = state_diff(&before, &after) {
        panic!("the snapshot's core state differs from the original's after init: {diff}");
    }
    output
}

/// The first difference between two states (see `Snapshot::diff`).
pub fn state_diff(
    before: &compsnap::snapshot::Snapshot,
    after: &compsnap::snapshot::Snapshot,
) -> Option<String> {
    before.diff(after)
}

/// The init function's name without arguments.
pub fn init_name(init: &str) -> &str {
    init.split('(').next().unwrap_or(init)
}

/// Every data segment of every module is active, has a constant `i32.const` offset and lies
/// inside its memory's minimum (and targets a memory the module defines): the conditions for
/// Wasmtime's copy-on-write memory image. Emptied placeholders (length 0) are allowed anywhere.
pub fn assert_image_friendly(component: &[u8]) {
    for payload in wasmparser::Parser::new(0).parse_all(component) {
        let wasmparser::Payload::ModuleSection {
            unchecked_range, ..
        } = payload.unwrap()
        else {
            continue;
        };
        let module = &component[unchecked_range.start as usize..unchecked_range.end as usize];
        let mut imported_memories = 0;
        let mut mins = Vec::new();
        for p in wasmparser::Parser::new(0).parse_all(module) {
            match p.unwrap() {
                wasmparser::Payload::ImportSection(r) => {
                    for i in r.into_imports() {
                        if let wasmparser::TypeRef::Memory(_) = i.unwrap().ty {
                            imported_memories += 1;
                        }
                    }
                }
                wasmparser::Payload::MemorySection(r) => {
                    for m in r {
                        mins.push(m.unwrap().initial);
                    }
                }
                wasmparser::Payload::DataSection(r) => {
                    for d in r {
                        let d = d.unwrap();
                        let wasmparser::DataKind::Active {
                            memory_index,
                            offset_expr,
                        } = d.kind
                        else {
                            continue;
                        };
                        if d.data.is_empty() {
                            continue;
                        }
                        let mut ops = offset_expr.get_operators_reader();
                        // `i64.const` in a 64-bit memory.
                        let value = match ops.read().unwrap() {
                            wasmparser::Operator::I32Const { value } => value as u32 as u64,
                            wasmparser::Operator::I64Const { value } => value as u64,
                            _ => panic!("data segment offset is not a constant"),
                        };
                        assert!(
                            memory_index >= imported_memories,
                            "segment into an imported memory"
                        );
                        let defined = (memory_index - imported_memories) as usize;
                        let end = value + d.data.len() as u64;
                        assert!(
                            end <= mins[defined] * 65536,
                            "segment ends at {end}, past the minimum"
                        );
                    }
                }
                _ => {}
            }
        }
    }
}

/// A snapshotter calling `init`.
pub fn snapshotter(init: &str) -> compsnap::Snapshotter {
    let mut s = compsnap::Snapshotter::new();
    s.init_func(init);
    s
}

/// Snapshots `input` compiled fast (the default) and with `--optimize-init`, checks that the
/// optimized run compiled with Cranelift and wrote the same bytes, and returns the fast run's
/// compiler (`Stats::compiler`) and output.
pub fn fast_and_optimized(init: &str, input: &[u8]) -> (String, Vec<u8>) {
    let (output, stats) = snapshotter(init).snapshot_with_stats(input).unwrap();
    let mut optimized = snapshotter(init);
    optimized.fast_compile(false);
    let (cranelift, optimized) = optimized.snapshot_with_stats(input).unwrap();
    assert_eq!(optimized.compiler, "Cranelift");
    assert_eq!(output, cranelift, "the compiler changed the snapshot");
    (stats.compiler, output)
}

/// A core module body for the table-initializer tests (`tests/tables.rs`, `tests/core.rs`): a funcref table and a non-nullable
/// typed table, each with an initializer expression, written, nulled and grown by the init.
/// `f(i)` is the number of slot `i`'s function (0 for null), `typed(i)` the same for the typed
/// table, `sizes()` ten times the first table's size plus the second's.
pub const TABLES_WITH_INITIALIZERS: &str = r#"
    (type $t (func (result i32)))
    (func $a (type $t) (i32.const 1))
    (func $b (type $t) (i32.const 2))
    (func $c (type $t) (i32.const 3))
    (table $f 4 funcref (ref.func $a))
    (table $typed 3 (ref $t) (ref.func $a))
    (elem declare func $b $c)
    (func (export "init")
      (table.set $f (i32.const 1) (ref.func $b))
      (table.set $f (i32.const 2) (ref.null func))
      (drop (table.grow $f (ref.func $c) (i32.const 2)))
      (table.set $typed (i32.const 0) (ref.func $c))
      (drop (table.grow $typed (ref.func $b) (i32.const 1))))
    (func (export "f") (param i32) (result i32)
      (if (result i32) (ref.is_null (table.get $f (local.get 0)))
        (then (i32.const 0))
        (else (call_indirect $f (type $t) (local.get 0)))))
    (func (export "typed") (param i32) (result i32)
      (call_ref $t (table.get $typed (local.get 0))))
    (func (export "sizes") (result i32)
      (i32.add (i32.mul (table.size $f) (i32.const 10)) (table.size $typed)))
"#;

/// The seeds a generated-case test runs: `$CASES` of them (else `default`) from `$FIRST` (else
/// 0), so a long run can go past the seeds already run.
pub fn seed_slice(cases: &str, first: &str, default: u64) -> std::ops::Range<u64> {
    let var = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (cases, first) = (var(cases, default), var(first, 0));
    first..first + cases
}

/// A core module body for the probe-argument tests (`tests/tables.rs`, `tests/core.rs`): slot 0
/// holds `$f`, which takes `extern`, array, struct and function-typed references (that
/// function type returning a non-nullable `extern`), a struct with non-nullable reference
/// fields, and abstract `struct` and `array` references; slot 1 holds `$mk`, which returns
/// that struct. `run()` calls both through the table (13).
pub const PROBE_BUILT_ARGUMENTS: &str = r#"
    (type $bytes (array (mut i8)))
    (type $pair (struct (field (mut i32)) (field (ref null $bytes))))
    (type $boxed (struct (field (ref $pair)) (field (ref extern)) (field i8) (field (ref $bytes))))
    (type $gives (func (result (ref extern))))
    (type $takes (func (param (ref extern)) (param (ref $bytes)) (param (ref $pair))
                       (param (ref $gives)) (param (ref $boxed)) (param (ref struct))
                       (param (ref array)) (result i32)))
    (type $makes (func (result (ref $boxed))))
    (table $t 2 funcref)
    (func $f (type $takes)
      (i32.add
        (i32.add (array.len (local.get 1)) (struct.get $pair 0 (local.get 2)))
        (i32.add (struct.get $pair 0 (struct.get $boxed 0 (local.get 4)))
          (i32.add (ref.test (ref $pair) (local.get 5)) (array.len (local.get 6))))))
    (func $ext (type $gives) (extern.convert_any (ref.i31 (i32.const 1))))
    (func $mk (type $makes)
      (struct.new $boxed
        (struct.new $pair (i32.const 1) (ref.null $bytes))
        (extern.convert_any (ref.i31 (i32.const 2)))
        (i32.const 0)
        (array.new_default $bytes (i32.const 0))))
    (elem declare func $f $ext $mk)
    (func (export "init")
      (table.set $t (i32.const 0) (ref.func $f))
      (table.set $t (i32.const 1) (ref.func $mk)))
    (func (export "run") (result i32)
      (i32.add
        (call_indirect $t (type $takes)
          (extern.convert_any (ref.i31 (i32.const 9)))
          (array.new_default $bytes (i32.const 3))
          (struct.new $pair (i32.const 4) (ref.null $bytes))
          (ref.func $ext)
          (struct.new $boxed
            (struct.new $pair (i32.const 2) (ref.null $bytes))
            (extern.convert_any (ref.i31 (i32.const 3)))
            (i32.const 0)
            (array.new_default $bytes (i32.const 0)))
          (struct.new $pair (i32.const 0) (ref.null $bytes))
          (array.new_default $bytes (i32.const 2))
          (i32.const 0))
        (struct.get $pair 0 (struct.get $boxed 0 (call_indirect $t (type $makes) (i32.const 1))))))
"#;

/// Struct types `$t15` down to `$t0`, each with four non-nullable fields of the next (`$t15`
/// holds an i32): building a `$t0` field by field takes 4^15 values, more than the probe tries.
pub fn wide_struct_types() -> String {
    let mut types = String::new();
    for level in (0..16).rev() {
        let field = match level {
            15 => "(field i32)".to_string(),
            _ => format!("(field (ref $t{}))", level + 1),
        };
        types += &format!("(type $t{level} (struct {field} {field} {field} {field}))\n");
    }
    types
}

pub fn wat(text: &str) -> Vec<u8> {
    wat::parse_str(text).expect("test WAT parses")
}

/// Makes `module` a component of world `world` in the WIT package `wit`, the way a toolchain
/// does (with the WASI preview1 reactor adapter when `wasi` is set).
#[allow(unused_imports)] // Not every test binary builds components from modules.
pub use c_build::wit_component;

/// An instantiated core module, as a user's host runs a Wizer-style snapshot: WASI preview 1
/// (empty unless `env` is given) and traps for every other import.
pub struct CoreRunning {
    store: Store<wasmtime_wasi::p1::WasiP1Ctx>,
    instance: wasmtime::Instance,
}

impl CoreRunning {
    pub fn new(bytes: &[u8], env: &[(&str, &str)]) -> Self {
        let module = wasmtime::Module::new(engine(), bytes).expect("module compiles");
        let mut linker = wasmtime::Linker::new(engine());
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |c| c).unwrap();
        linker.define_unknown_imports_as_traps(&module).unwrap();
        let mut wasi = WasiCtx::builder();
        for (k, v) in env {
            wasi.env(k, v);
        }
        let mut store = Store::new(engine(), wasi.build_p1());
        let instance = linker
            .instantiate(&mut store, &module)
            .expect("instantiate");
        CoreRunning { store, instance }
    }

    /// Runs what a Wizer-style init runs: the reactor's `_initialize`, if any, then `init`.
    pub fn init(&mut self, init: &str) {
        for name in ["_initialize", init] {
            if let Ok(f) = self
                .instance
                .get_typed_func::<(), ()>(&mut self.store, name)
            {
                f.call(&mut self.store, ()).expect("init");
            }
        }
    }

    /// Calls `name(args)` (WAVE) and returns the results in Debug form, or `trap`.
    pub fn outcome(&mut self, call: &str) -> String {
        match compsnap::call_core(&mut self.store, &self.instance, call) {
            Ok(Ok(results)) => format!("{results:?}"),
            _ => "trap".to_string(),
        }
    }
}

/// [`check`] for a core module: the snapshot, instantiated without init, answers `calls` as
/// the original does after `_initialize` and the init, and has exactly its core state.
pub fn check_core(
    snap: &compsnap::Snapshotter,
    input: &[u8],
    init: &str,
    calls: &[&str],
    env: &[(&str, &str)],
) -> Vec<u8> {
    let output = snap.snapshot(input).expect("snapshot");
    compsnap::validate(&output).expect("output validates");
    let mut original = CoreRunning::new(input, env);
    original.init(init);
    let expected: Vec<String> = calls.iter().map(|c| original.outcome(c)).collect();
    let mut snapshot = CoreRunning::new(&output, &[]);
    let got: Vec<String> = calls.iter().map(|c| snapshot.outcome(c)).collect();
    assert_eq!(
        got, expected,
        "calls on the snapshot differ from the original after init"
    );
    let before = snap.state(input, true).expect("state after init");
    let mut plain = snap.clone();
    plain.allow_wasi(false);
    let after = plain.state(&output, false).expect("state of the snapshot");
    if let Some(diff) = before.diff(&after) {
        panic!("the snapshot's core state differs from the original's after init: {diff}");
    }
    output
}
