//! Core modules, the second front door: the same stages as components, on Wasmtime's core
//! API with WASI preview 1, writing a core module. Each test checks that the snapshot answers
//! what the original answers after its init and holds the same core state byte for byte.

mod common;

use common::{
    check_core, snapshotter, wat, CoreRunning, PROBE_BUILT_ARGUMENTS, TABLES_WITH_INITIALIZERS,
};
use wasmparser::{Validator, WasmFeatures};

/// Every table instruction, funcref and v128 globals, an f32 NaN payload, element and data
/// segment drops, a grown second memory and a start function: what Wizer refuses.
#[test]
fn tables_references_drops_and_memories() {
    let input = wat(r#"
        (module
          (type $r (func (result i32)))
          (memory (export "memory") 1)
          (memory $m2 1)
          (global $g (mut i32) (i32.const 0))
          (global $started (mut i32) (i32.const 0))
          (global $v (mut v128) (v128.const i64x2 0 0))
          (global $nan (mut f32) (f32.const 0))
          (global $fg (mut funcref) (ref.null func))
          (table $t 2 funcref)
          (table $u 4 funcref)
          (elem declare func $a $b $c)
          (elem $seg func $b $a)
          (data $d "hello")
          (func $a (result i32) i32.const 10)
          (func $b (result i32) i32.const 20)
          (func $c (result i32) i32.const 30)
          (func $start (global.set $started (i32.add (global.get $started) (i32.const 1))))
          (start $start)
          (func (export "init")
            (global.set $g (i32.const 42))
            (global.set $v (v128.const i64x2 7 9))
            (global.set $nan (f32.reinterpret_i32 (i32.const 0x7fc01234)))
            (global.set $fg (ref.func $b))
            (drop (table.grow $t (ref.func $a) (i32.const 3)))
            (table.set $t (i32.const 0) (ref.func $b))
            (table.init $t $seg (i32.const 3) (i32.const 0) (i32.const 2))
            (elem.drop $seg)
            (table.fill $u (i32.const 1) (ref.func $c) (i32.const 2))
            (table.copy $u $t (i32.const 3) (i32.const 0) (i32.const 1))
            (memory.init $d (i32.const 100) (i32.const 0) (i32.const 5))
            (data.drop $d)
            (drop (memory.grow $m2 (i32.const 2)))
            (i32.store $m2 (i32.const 131072) (i32.const 99))
            (i32.store (i32.const 200) (i32.const 77)))
          (func (export "run") (param $i i32) (result i32)
            (i32.add (call_indirect $t (type $r) (local.get $i)) (global.get $g)))
          (func (export "u") (param $i i32) (result i32) (call_indirect $u (type $r) (local.get $i)))
          (func (export "fg") (result i32) (call_ref $r (ref.cast (ref $r) (global.get $fg))))
          (func (export "mem") (result i32) (i32.load (i32.const 200)))
          (func (export "m2") (result i32) (i32.load $m2 (i32.const 131072)))
          (func (export "m2size") (result i32) (memory.size $m2))
          (func (export "nan") (result i32) (i32.reinterpret_f32 (global.get $nan)))
          (func (export "v") (result i64) (i64x2.extract_lane 1 (global.get $v)))
          (func (export "started") (result i32) (global.get $started))
          (func (export "size") (result i32) (table.size $t))
          (func (export "again") (table.init $t $seg (i32.const 0) (i32.const 0) (i32.const 1))))
    "#);
    let calls = [
        "run(0)",
        "run(2)",
        "run(3)",
        "run(4)",
        "u(1)",
        "u(2)",
        "u(3)",
        "fg()",
        "mem()",
        "m2()",
        "m2size()",
        "nan()",
        "v()",
        "started()",
        "size()",
        "u(0)",
        "again()",
    ];
    let output = check_core(&snapshotter("init"), &input, "init", &calls, &[]);
    // The start function ran once, at build time; the init export is gone.
    let mut snap = CoreRunning::new(&output, &[]);
    assert_eq!(snap.outcome("started()"), "[I32(1)]");
    assert_eq!(snap.outcome("init()"), "trap");
}

/// An MVP module's snapshot uses no feature the input did not: V8 (ComponentizeJS's
/// `check_init`) and other engines run it as they ran the input.
#[test]
fn an_mvp_input_gives_an_mvp_output() {
    let input = wat(r#"
        (module
          (type $r (func (result i32)))
          (memory (export "memory") 1)
          (global $count (mut i32) (i32.const 0))
          (table 3 funcref)
          (elem (i32.const 0) $one $two)
          (data (i32.const 16) "seed")
          (func $one (result i32) i32.const 1)
          (func $two (result i32) i32.const 2)
          (func (export "wizer.initialize")
            (global.set $count (i32.add (call_indirect (type $r) (i32.const 1)) (i32.const 40)))
            (i32.store (i32.const 16) (i32.const 0x74696e69)))
          (func (export "count") (result i32) (global.get $count))
          (func (export "word") (result i32) (i32.load (i32.const 16)))
          (func (export "call") (param i32) (result i32) (call_indirect (type $r) (local.get 0))))
    "#);
    let mvp = || Validator::new_with_features(WasmFeatures::WASM1);
    mvp().validate_all(&input).expect("the input is MVP");
    let output = check_core(
        &snapshotter("wizer.initialize"),
        &input,
        "wizer.initialize",
        &["count()", "word()", "call(0)", "call(1)", "call(2)"],
        &[],
    );
    mvp()
        .validate_all(&output)
        .expect("the output uses only MVP features");
}

/// A core module compiles with Winch, which compiles several times faster than Cranelift;
/// one that uses what Winch does not support (GC's `ref.cast` here) compiles with
/// Cranelift, which `Stats::compiler` says, naming why; and the compiler never changes the
/// snapshot, tables and reference globals included (the host probes both itself).
#[test]
fn winch_compiles_core_modules_and_cranelift_what_winch_cannot() {
    let module = |extra: &str| {
        wat(&format!(
            r#"(module
              (type $r (func (result i32)))
              (memory (export "memory") 1)
              (global $fg (mut funcref) (ref.null func))
              (table $t 4 funcref)
              (elem declare func $a $b)
              (func $a (result i32) i32.const 10)
              (func $b (param i64 f32) (result i32) i32.const 20)
              (func (export "init")
                (table.set $t (i32.const 1) (ref.func $a))
                (table.set $t (i32.const 3) (ref.func $b))
                (global.set $fg (ref.func $a))
                (i32.store (i32.const 8) (i32.const 5)))
              (func (export "run") (param i32) (result i32)
                (call_indirect $t (type $r) (local.get 0)))
              {extra})"#
        ))
    };
    let mvp = module("");
    let typed = module(
        r#"(func (export "fg") (result i32) (call_ref $r (ref.cast (ref $r) (global.get $fg))))"#,
    );
    for (input, winch) in [(&mvp, true), (&typed, false)] {
        let (compiler, output) = common::fast_and_optimized("init", input);
        match winch {
            true => assert_eq!(compiler, "Winch"),
            false => assert!(
                compiler.starts_with("Cranelift (not Winch: ")
                    && compiler.ends_with("gc support is not enabled (at offset 0x140))"),
                "{compiler}"
            ),
        }
        let expected = check_core(&snapshotter("init"), input, "init", &["run(1)"], &[]);
        assert_eq!(expected, output);
    }
    let output = check_core(&snapshotter("init"), &typed, "init", &["fg()"], &[]);
    assert_eq!(CoreRunning::new(&output, &[]).outcome("fg()"), "[I32(10)]");
}

/// WASI preview 1 during init: stdin, the environment and a preopened directory, as
/// ComponentizeJS's and StarlingMonkey's inits use them.
#[test]
fn wasi_preview1_init_reads_stdin_env_and_files() {
    let dir = std::env::temp_dir().join(format!("compsnap-core-wasi-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/config.txt"), "abc").unwrap();
    let wasm = dir.join("reads.wasm");
    common::c_build::run(
        std::process::Command::new("clang-14")
            .args(["--target=wasm32-wasi", "-mexec-model=reactor", "-O2"])
            .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/wasi_reads.c"))
            .arg("-o")
            .arg(&wasm),
    );
    let input = std::fs::read(&wasm).unwrap();
    let mut snap = snapshotter("wizer.initialize");
    snap.allow_wasi(true)
        .env("MODE", "fast")
        .dir(dir.join("data"), "/data")
        .stdin("three little words");
    let output = snap.snapshot(&input).expect("snapshot");
    let _ = std::fs::remove_dir_all(&dir);
    compsnap::validate(&output).unwrap();
    let mut running = CoreRunning::new(&output, &[]);
    assert_eq!(running.outcome("words()"), "[I32(3)]", "stdin");
    assert_eq!(running.outcome("mode(0)"), "[I32(102)]", "MODE=fast");
    assert_eq!(
        running.outcome("config_len()"),
        "[I32(3)]",
        "/data/config.txt"
    );
    assert_eq!(running.outcome("config(2)"), "[I32(99)]");
    // Without the init the module knows none of it.
    let mut plain = CoreRunning::new(&input, &[]);
    assert_eq!(plain.outcome("words()"), "[I32(0)]");
}

/// The C plugin registry (its init grows the function table through a `table.grow` helper)
/// as a core module, as Wizer users build it.
#[test]
fn c_registry_as_a_core_module() {
    let dir = std::env::temp_dir().join(format!("compsnap-core-c-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = common::c_build::registry_module(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let mut snap = snapshotter("wizer-initialize");
    snap.allow_wasi(true).env("PLUGINS", "6");
    let calls = [
        "plugins()",
        "dispatch(0, 5)",
        "dispatch(3, 5)",
        "dispatch(5, 5)",
    ];
    check_core(
        &snap,
        &input,
        "wizer-initialize",
        &calls,
        &[("PLUGINS", "6")],
    );
}

#[test]
fn errors_name_the_import_and_what_the_host_owns() {
    let calls_import = wat(r#"
        (module
          (import "env" "host_fn" (func $f))
          (func (export "init") (call $f)))
    "#);
    let err = snapshotter("init").snapshot(&calls_import).unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("env::host_fn") && msg.contains("--allow-wasi"),
        "{msg}"
    );
    // An import nobody calls is fine.
    let unused = wat(r#"
        (module
          (import "env" "host_fn" (func $f))
          (global $g (mut i32) (i32.const 0))
          (func (export "init") (global.set $g (i32.const 1)))
          (func (export "g") (result i32) (global.get $g))
          (func (export "f") (call $f)))
    "#);
    check_core(&snapshotter("init"), &unused, "init", &["g()"], &[]);

    let imports_memory = wat(r#"
        (module (import "env" "memory" (memory 1)) (func (export "init")))
    "#);
    let err = snapshotter("init").snapshot(&imports_memory).unwrap_err();
    assert!(
        format!("{err:#}").contains("imports memory `env::memory`"),
        "{err:#}"
    );

    let missing = wat(r#"(module (func (export "other")))"#);
    let err = snapshotter("init").snapshot(&missing).unwrap_err();
    assert!(
        format!("{err:#}").contains("is not exported by the module (its function exports: other)"),
        "{err:#}"
    );
}

/// `--rename-func` and `--keep-init-func`, as Wizer does them; the reactor's `_initialize`
/// runs before the init and goes from the output.
#[test]
fn renames_kept_init_and_the_reactor_initialize() {
    let input = wat(r#"
        (module
          (global $g (mut i32) (i32.const 0))
          (func (export "_initialize") (global.set $g (i32.const 5)))
          (func (export "init") (global.set $g (i32.mul (global.get $g) (i32.const 3))))
          (func (export "run") (result i32) (global.get $g))
          (func (export "_start") (result i32) (i32.const -1)))
    "#);
    let mut snap = snapshotter("init");
    snap.rename_func("_start", "run").keep_init_func(true);
    let output = snap.snapshot(&input).unwrap();
    let mut running = CoreRunning::new(&output, &[]);
    assert_eq!(
        running.outcome("_start()"),
        "[I32(15)]",
        "run renamed over _start"
    );
    assert_eq!(running.outcome("run()"), "trap", "run itself is gone");
    assert_eq!(
        running.outcome("_initialize()"),
        "trap",
        "the reactor init is gone"
    );
    assert_eq!(running.outcome("init()"), "[]", "the init is kept");
}

/// The compile cache covers core modules: the same module snapshotted again is not compiled
/// again (ComponentizeJS hands the same engine to its Wizer for every app), and the output
/// is the same.
#[test]
fn compiled_core_modules_are_cached() {
    let cache = std::env::temp_dir().join(format!("compsnap-core-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let input = wat(r#"
        (module (global $g (mut i32) (i32.const 0))
          (func (export "init") (global.set $g (i32.const 9)))
          (func (export "g") (result i32) (global.get $g)))
    "#);
    let mut snap = snapshotter("init");
    snap.cache_dir(Some(cache.clone()));
    let (first, stats) = snap.snapshot_with_stats(&input).unwrap();
    assert!(!stats.cached);
    let (second, stats) = snap.snapshot_with_stats(&input).unwrap();
    assert!(stats.cached, "the second run loads the compiled module");
    assert_eq!(first, second);
    assert_eq!(CoreRunning::new(&second, &[]).outcome("g()"), "[I32(9)]");
    let _ = std::fs::remove_dir_all(&cache);
}

/// What an init reads of WASI's clocks and randomness: deterministic by default, so the
/// same input gives the same bytes; the host's with `host_world`, as Wizer gives them.
const READS_CLOCKS_AND_RANDOM: &str = r#"
    (module
      (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "clock_time_get"
        (func $clock (param i32 i64 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "init")
        (drop (call $random (i32.const 0) (i32.const 16)))
        (drop (call $clock (i32.const 0) (i64.const 1) (i32.const 16)))
        (drop (call $clock (i32.const 1) (i64.const 1) (i32.const 24))))
      (func (export "wall") (result i64)
        (i64.div_u (i64.load (i32.const 16)) (i64.const 1000000000)))
      (func (export "random") (result i64) (i64.load (i32.const 0))))
"#;

#[test]
fn clocks_and_randomness_are_deterministic_unless_the_host_world_is_asked_for() {
    let input = wat(READS_CLOCKS_AND_RANDOM);
    let mut snap = snapshotter("init");
    snap.allow_wasi(true);
    let (a, b) = (
        snap.snapshot(&input).unwrap(),
        snap.snapshot(&input).unwrap(),
    );
    assert_eq!(a, b, "the same input gives the same bytes");
    let expected_wall = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(compsnap::DEFAULT_WALL);
    let mut running = CoreRunning::new(&a, &[]);
    assert_eq!(running.outcome("wall()"), format!("[I64({expected_wall})]"));

    snap.host_world(true);
    let (c, d) = (
        snap.snapshot(&input).unwrap(),
        snap.snapshot(&input).unwrap(),
    );
    assert_ne!(c, d, "the host's randomness differs from run to run");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let wall = CoreRunning::new(&c, &[]).outcome("wall()");
    let wall: i64 = wall
        .trim_start_matches("[I64(")
        .trim_end_matches(")]")
        .parse()
        .unwrap();
    assert!(
        (now - wall).abs() < 600,
        "the host's clock: {wall} vs {now}"
    );
}

/// Preopened directories are read-only for the init unless the host world is asked for: a
/// build never writes into the user's tree.
#[test]
fn the_init_cannot_write_the_hosts_files_unless_asked() {
    let dir = std::env::temp_dir().join(format!("compsnap-core-writes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let wasm = dir.join("writes.wasm");
    common::c_build::run(
        std::process::Command::new("clang-14")
            .args(["--target=wasm32-wasi", "-mexec-model=reactor", "-O2"])
            .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/wasi_writes.c"))
            .arg("-o")
            .arg(&wasm),
    );
    let input = std::fs::read(&wasm).unwrap();
    let mut snap = snapshotter("wizer.initialize");
    snap.allow_wasi(true).dir(dir.join("data"), "/data");
    let out = snap.snapshot(&input).unwrap();
    assert_eq!(CoreRunning::new(&out, &[]).outcome("wrote()"), "[I32(-1)]");
    assert!(
        !dir.join("data/out.txt").exists(),
        "nothing reached the host"
    );
    snap.host_world(true);
    let out = snap.snapshot(&input).unwrap();
    assert_eq!(CoreRunning::new(&out, &[]).outcome("wrote()"), "[I32(1)]");
    assert!(dir.join("data/out.txt").exists(), "the host world writes");
    let _ = std::fs::remove_dir_all(&dir);
}

/// 64-bit memories (memory64), next to a 32-bit one: the init grows the 64-bit memory and
/// writes both, far apart; the snapshot's segments take i64 offsets and its state matches.
#[test]
fn memory64_next_to_a_32_bit_memory() {
    let input = wat(r#"
        (module
          (memory $small 1)
          (memory $big (export "memory") i64 1)
          (data (memory $big) (i64.const 8) "seed")
          (func (export "wizer.initialize")
            (drop (memory.grow $big (i64.const 3)))
            (i64.store $big (i64.const 0x30000) (i64.const 0x1122334455667788))
            (i32.store $big (i64.const 8) (i32.const 0x64657473))
            (i32.store $small (i32.const 100) (i32.const 7)))
          (func (export "pages") (result i64) (memory.size $big))
          (func (export "far") (result i64) (i64.load $big (i64.const 0x30000)))
          (func (export "near") (result i32) (i32.load $big (i64.const 8)))
          (func (export "small") (result i32) (i32.load $small (i32.const 100))))
    "#);
    let output = check_core(
        &snapshotter("wizer.initialize"),
        &input,
        "wizer.initialize",
        &["pages()", "far()", "near()", "small()"],
        &[],
    );
    let mut running = common::CoreRunning::new(&output, &[]);
    assert_eq!(running.outcome("pages()"), "[I64(4)]");
    assert_eq!(
        running.outcome("far()"),
        format!("[I64({})]", 0x1122334455667788i64)
    );
}

/// A 64-bit table (table64): the init grows it and writes slots with i64 indices; the
/// snapshot's element segments take i64 offsets and every slot keeps its function.
#[test]
fn table64_written_by_the_init() {
    let input = wat(r#"
        (module
          (type $r (func (result i32)))
          (memory (export "memory") 1)
          (table $t i64 2 funcref)
          (func $one (result i32) i32.const 1)
          (func $two (result i32) i32.const 2)
          (elem declare func $one $two)
          (func (export "wizer.initialize")
            (drop (table.grow $t (ref.null func) (i64.const 3)))
            (table.set $t (i64.const 0) (ref.func $two))
            (table.set $t (i64.const 4) (ref.func $one)))
          (func (export "size") (result i64) (table.size $t))
          (func (export "call") (param i64) (result i32) (call_indirect $t (type $r) (local.get 0))))
    "#);
    check_core(
        &snapshotter("wizer.initialize"),
        &input,
        "wizer.initialize",
        &["size()", "call(0)", "call(4)", "call(2)"],
        &[],
    );
}

/// A core module's init that never returns is stopped by the timeout under Winch as under
/// Cranelift (Winch checks Wasmtime's epoch too, so a timeout keeps Winch).
#[test]
fn a_hanging_core_init_is_stopped_by_the_timeout() {
    let timeout = std::time::Duration::from_millis(300);
    let quick = wat(r#"(module (func (export "init")))"#);
    let mut snap = snapshotter("init");
    snap.init_timeout(timeout);
    assert_eq!(
        snap.snapshot_with_stats(&quick).unwrap().1.compiler,
        "Winch"
    );
    let input = wat(r#"(module (func (export "init") (loop br 0)))"#);
    for fast in [true, false] {
        let mut snap = snapshotter("init");
        snap.fast_compile(fast).init_timeout(timeout);
        let msg = format!("{:#}", snap.snapshot(&input).unwrap_err());
        assert!(msg.contains("did not finish within 0.3 s"), "{msg}");
    }
}

/// A core module's tables declared with an initializer expression, as `tests/tables.rs` has
/// them in a component: the snapshot's nullable table has none left, so its null slot stays
/// null; the non-nullable one keeps it.
#[test]
fn core_tables_with_initializer_expressions() {
    let input = wat(&format!("(module {TABLES_WITH_INITIALIZERS})"));
    let calls = [
        "f(0)", "f(1)", "f(2)", "f(3)", "f(4)", "f(5)", "typed(0)", "typed(3)", "sizes()",
    ];
    let output = check_core(&snapshotter("init"), &input, "init", &calls, &[]);
    let mut snap = CoreRunning::new(&output, &[]);
    assert_eq!(snap.outcome("f(2)"), "[I32(0)]");
    assert_eq!(snap.outcome("typed(3)"), "[I32(2)]");
    assert_eq!(snap.outcome("sizes()"), "[I32(64)]");
}

/// A function whose parameter is a struct that needs itself (no value of it can be built) is
/// refused by table and slot, before any output is written.
#[test]
fn core_probe_refuses_an_unbuildable_struct_by_slot() {
    let input = wat(r#"(module
    (type $holds (struct (field (ref $holds))))
    (type $takes (func (param (ref $holds))))
    (table $t 2 funcref)
    (func $f (type $takes))
    (elem declare func $f)
    (func (export "init") (table.set $t (i32.const 1) (ref.func $f))))"#);
    let msg = format!("{:#}", snapshotter("init").snapshot(&input).unwrap_err());
    assert!(msg.contains("table 0 slot 1: parameter 0"), "{msg}");
    assert!(
        msg.contains("reference to a struct type compsnap cannot build"),
        "{msg}"
    );
}

/// The host's probe gives up on a struct whose value takes more nested values than it tries
/// (4^15), and refuses it by slot and parameter.
#[test]
fn core_probe_refuses_a_struct_too_large_to_build() {
    let input = wat(&format!(
        r#"(module
    {types}
    (type $takes (func (param i32) (param (ref $t0))))
    (table $t 1 funcref)
    (func $f (type $takes))
    (elem declare func $f)
    (func (export "init") (table.set $t (i32.const 0) (ref.func $f))))"#,
        types = common::wide_struct_types()
    ));
    let msg = format!("{:#}", snapshotter("init").snapshot(&input).unwrap_err());
    assert!(msg.contains("table 0 slot 0: parameter 1"), "{msg}");
    assert!(msg.contains("cannot build"), "{msg}");
}

/// A core module's table slot holding a function that takes `extern`, array, struct (one with
/// non-nullable reference fields), abstract `struct` and `array`, and function-typed
/// references: the host builds each argument for its probe call; another slot's function
/// returns that struct (its prologue builds one).
#[test]
fn core_probe_builds_extern_array_and_struct_arguments() {
    let input = wat(&format!("(module {PROBE_BUILT_ARGUMENTS})"));
    let output = check_core(&snapshotter("init"), &input, "init", &["run()"], &[]);
    assert_eq!(CoreRunning::new(&output, &[]).outcome("run()"), "[I32(13)]");
}
