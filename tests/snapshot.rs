//! End to end: snapshot a component, run the result without init, and compare it with the
//! original after init (call results and every byte of core state).

mod common;

use common::{check, check_with_env, init_name, root_exports, snapshotter, wat, Running};
use compsnap::Snapshotter;

#[test]
fn bundled_example_runs_without_init() {
    let input = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/lookup.wat")).unwrap();
    let input = compsnap::read_input(&input).unwrap().into_owned();
    let out = check(
        &Snapshotter::new(),
        &input,
        "wizer-initialize",
        &["run(0)", "run(3)", "run(4)"],
    );
    assert!(!root_exports(&out).contains(&"wizer-initialize".to_string()));
    // The original traps when run before init, the snapshot does not: the work is baked in.
    assert!(Running::new(&input).try_call("run(0)").is_err());
}

const THREE_MODULES: &str = r#"
(component
  (core module $a
    (memory (export "mem") 1)
    (global (export "g") (mut i32) (i32.const 10))
    (global $own (mut i64) (i64.const 0))
    (func (export "init-a")
      (i32.store (i32.const 100) (i32.const 0xAAAA))
      (global.set $own (i64.const -5)))
    (func (export "own") (result i64) global.get $own))
  (core instance $ia (instantiate $a))
  (core module $b
    (import "a" "mem" (memory 1))
    (import "a" "g" (global $g (mut i32)))
    (global $bg (mut f32) (f32.const 0))
    ;; An active segment into the imported memory, overwritten by init below: it must not be
    ;; replayed over the snapshot.
    (data (i32.const 200) "bbbb")
    (func (export "init-b")
      (i32.store (i32.const 204) (i32.const 0xBBBB))
      (global.set $g (i32.add (global.get $g) (i32.const 5)))
      (global.set $bg (f32.const 2.5)))
    (func (export "bg") (result f32) global.get $bg))
  (core instance $ib (instantiate $b (with "a" (instance $ia))))
  (core module $c
    (import "a" "mem" (memory 1))
    (import "a" "g" (global $g (mut i32)))
    (import "a" "init-a" (func $init_a))
    (import "b" "init-b" (func $init_b))
    (global $cg (mut f64) (f64.const 0))
    (func (export "init")
      call $init_a
      call $init_b
      (i32.store8 (i32.const 200) (i32.const 0x7a))
      (global.set $g (i32.mul (global.get $g) (i32.const 3)))
      (global.set $cg (f64.const 1e100)))
    (func (export "sum") (result i64)
      (i64.add
        (i64.extend_i32_u
          (i32.add (i32.add (i32.load (i32.const 100)) (i32.load (i32.const 204)))
                   (i32.add (i32.load (i32.const 200)) (global.get $g))))
        (i64.trunc_f64_s (f64.div (global.get $cg) (f64.const 1e90))))))
  (core instance $ic (instantiate $c (with "a" (instance $ia)) (with "b" (instance $ib))))
  (func (export "init") (canon lift (core func $ic "init")))
  (func (export "sum") (result s64) (canon lift (core func $ic "sum")))
  (func (export "own") (result s64) (canon lift (core func $ia "own")))
  (func (export "bg") (result f32) (canon lift (core func $ib "bg")))
)"#;

#[test]
fn three_modules_sharing_memory_and_globals() {
    let out = check(
        &snapshotter("init"),
        &wat(THREE_MODULES),
        "init",
        &["sum()", "own()", "bg()"],
    );
    assert_eq!(Running::new(&out).call("sum()"), "[S64(11650706700)]");
}

#[test]
fn two_memories_one_grown() {
    let input = wat(r#"
(component
  (core module $m
    (memory $m0 1)
    (memory $m1 1 10)
    (func (export "init")
      (drop (memory.grow $m1 (i32.const 3)))
      (i32.store $m1 (i32.const 200000) (i32.const 77))
      (i32.store $m0 (i32.const 8) (i32.const 5)))
    (func (export "probe") (result i32)
      (i32.add (i32.mul (memory.size $m1) (i32.const 1000))
               (i32.add (i32.load $m1 (i32.const 200000)) (i32.load $m0 (i32.const 8))))))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "probe") (result u32) (canon lift (core func $i "probe")))
)"#);
    let out = check(&snapshotter("init"), &input, "init", &["probe()"]);
    assert_eq!(Running::new(&out).call("probe()"), "[U32(4082)]");
}

/// Core modules in a component, nested ones included.
fn core_modules(component: &[u8]) -> usize {
    wasmparser::Parser::new(0)
        .parse_all(component)
        .filter(|p| matches!(p, Ok(wasmparser::Payload::ModuleSection { .. })))
        .count()
}

#[test]
fn globals_of_every_type_go_beside_a_memory_sent_in_place() {
    // Every numeric type, with high bits set in both halves of the v128 and a NaN payload,
    // next to a memory: the accessor sends each global in the sink's two u64 parameters
    // through the sink lowered over that memory, and needs no scratch memory.
    let input = wat(r#"
(component
  (core module $m
    (memory 1)
    (global $a (mut i32) (i32.const 0))
    (global $b (mut i64) (i64.const 0))
    (global $c (mut f32) (f32.const 0))
    (global $d (mut f64) (f64.const 0))
    (global $v (mut v128) (v128.const i64x2 0 0))
    (func (export "init")
      (i32.store (i32.const 64) (i32.const 7))
      (global.set $a (i32.const -2))
      (global.set $b (i64.const -3))
      (global.set $c (f32.const -nan:0x7fffff))
      (global.set $d (f64.const nan:0x8000000000001))
      (global.set $v (v128.const i64x2 0x8000000000000001 -2)))
    (func (export "ints") (result i64)
      (i64.add (i64.extend_i32_s (global.get $a)) (global.get $b)))
    (func (export "f32-bits") (result i32) (i32.reinterpret_f32 (global.get $c)))
    (func (export "f64-bits") (result i64) (i64.reinterpret_f64 (global.get $d)))
    (func (export "lo") (result i64) (i64x2.extract_lane 0 (global.get $v)))
    (func (export "hi") (result i64) (i64x2.extract_lane 1 (global.get $v)))
    (func (export "mem") (result i32) (i32.load (i32.const 64))))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "ints") (result s64) (canon lift (core func $i "ints")))
  (func (export "f32-bits") (result u32) (canon lift (core func $i "f32-bits")))
  (func (export "f64-bits") (result u64) (canon lift (core func $i "f64-bits")))
  (func (export "lo") (result u64) (canon lift (core func $i "lo")))
  (func (export "hi") (result u64) (canon lift (core func $i "hi")))
  (func (export "mem") (result u32) (canon lift (core func $i "mem")))
)"#);
    let instrumented = compsnap::internals::instrument(&input, "init").unwrap();
    assert_eq!(
        core_modules(&instrumented),
        2,
        "the input's module and the accessor"
    );
    let calls = [
        "ints()",
        "f32-bits()",
        "f64-bits()",
        "lo()",
        "hi()",
        "mem()",
    ];
    let out = check(&snapshotter("init"), &input, "init", &calls);
    let mut run = Running::new(&out);
    assert_eq!(run.call("ints()"), "[S64(-5)]");
    assert_eq!(run.call("f32-bits()"), format!("[U32({})]", 0xffff_ffffu32));
    assert_eq!(
        run.call("f64-bits()"),
        format!("[U64({})]", 0x7ff8_0000_0000_0001u64)
    );
    assert_eq!(
        run.call("lo()"),
        format!("[U64({})]", 0x8000_0000_0000_0001u64)
    );
    assert_eq!(run.call("hi()"), format!("[U64({})]", u64::MAX - 1));
    assert_eq!(run.call("mem()"), "[U32(7)]");
}

#[test]
fn v128_and_nan_payload_globals() {
    let input = wat(r#"
(component
  (core module $m
    (global $v (mut v128) (v128.const i64x2 0 0))
    (global $nan (mut f32) (f32.const 0))
    (global $fixed i32 (i32.const 9))
    (func (export "init")
      (global.set $v (v128.const i32x4 1 2 3 4))
      (global.set $nan (f32.const nan:0x200001)))
    (func (export "lanes") (result i32)
      (i32.add
        (i32.add (i32x4.extract_lane 0 (global.get $v))
                 (i32.mul (i32x4.extract_lane 1 (global.get $v)) (i32.const 10)))
        (i32.add (i32.mul (i32x4.extract_lane 2 (global.get $v)) (i32.const 100))
                 (i32.mul (i32x4.extract_lane 3 (global.get $v)) (i32.const 1000)))))
    (func (export "nan-bits") (result i32) (i32.reinterpret_f32 (global.get $nan)))
    (func (export "fixed") (result i32) global.get $fixed))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "lanes") (result u32) (canon lift (core func $i "lanes")))
  (func (export "nan-bits") (result u32) (canon lift (core func $i "nan-bits")))
  (func (export "fixed") (result u32) (canon lift (core func $i "fixed")))
)"#);
    let out = check(
        &snapshotter("init"),
        &input,
        "init",
        &["lanes()", "nan-bits()", "fixed()"],
    );
    let mut run = Running::new(&out);
    assert_eq!(run.call("lanes()"), "[U32(4321)]");
    assert_eq!(run.call("nan-bits()"), format!("[U32({})]", 0x7fa0_0001u32));
}

#[test]
fn start_function_effect_is_counted_once() {
    let input = wat(r#"
(component
  (core module $m
    (global $count (mut i32) (i32.const 0))
    (func $start (global.set $count (i32.add (global.get $count) (i32.const 1))))
    (start $start)
    (func (export "init") (global.set $count (i32.add (global.get $count) (i32.const 100))))
    (func (export "count") (result i32) global.get $count))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "count") (result u32) (canon lift (core func $i "count")))
)"#);
    let out = check(&snapshotter("init"), &input, "init", &["count()"]);
    assert_eq!(Running::new(&out).call("count()"), "[U32(101)]");
}

const WITH_STRINGS: &str = r#"
(component
  (core module $m
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 1024))
    (global $product (mut i32) (i32.const 0))
    (global $name_len (mut i32) (i32.const 0))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (global.get $heap))
      (global.set $heap (i32.add (global.get $heap) (local.get 3)))
      local.get $p)
    (func (export "setup") (param $a i32) (param $b i32) (param $ptr i32) (param $len i32)
      (global.set $product (i32.mul (local.get $a) (local.get $b)))
      (global.set $name_len (local.get $len))
      (memory.copy (i32.const 64) (local.get $ptr) (local.get $len)))
    (func (export "get") (result i32)
      (i32.add (i32.mul (global.get $product) (i32.const 100))
               (i32.add (global.get $name_len) (i32.load8_u (i32.const 64))))))
  (core instance $i (instantiate $m))
  (func (export "setup") (param "a" u32) (param "b" u32) (param "name" string)
    (canon lift (core func $i "setup") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
  (func (export "get") (result u32) (canon lift (core func $i "get")))
)"#;

#[test]
fn init_with_wave_arguments() {
    let init = r#"setup(7, 6, "hello")"#;
    let out = check(&snapshotter(init), &wat(WITH_STRINGS), init, &["get()"]);
    // 42 * 100 + len("hello") + 'h'
    assert_eq!(Running::new(&out).call("get()"), "[U32(4309)]");
    assert!(!root_exports(&out).contains(&init_name(init).to_string()));
}

#[test]
fn init_with_missing_arguments_is_refused() {
    let err = snapshotter("setup")
        .snapshot(&wat(WITH_STRINGS))
        .unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("takes 3 parameter(s)"), "{msg}");
    let err = snapshotter("setup(1, 2, 3)")
        .snapshot(&wat(WITH_STRINGS))
        .unwrap_err();
    assert!(format!("{err:#}").contains("bad WAVE arguments"), "{err:#}");
}

const USES_WASI_ENV: &str = r#"
(component
  (type $pair (tuple string string))
  (type $list (list $pair))
  (import "wasi:cli/environment@0.2.0" (instance $env
    (export "get-environment" (func (result $list)))))
  (core module $mem
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 4096))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $heap) (i32.const 7)) (i32.const -8)))
      (global.set $heap (i32.add (local.get $p) (local.get 3)))
      local.get $p))
  (core instance $memi (instantiate $mem))
  (core func $lowered (canon lower (func $env "get-environment")
    (memory (core memory $memi "memory")) (realloc (core func $memi "realloc"))))
  (core module $m
    (import "env" "get-environment" (func $get_env (param i32)))
    (import "mem" "memory" (memory 1))
    (global $count (mut i32) (i32.const 0))
    (global $first_len (mut i32) (i32.const 0))
    (func (export "init")
      (call $get_env (i32.const 16))
      (global.set $count (i32.load (i32.const 20)))
      ;; first tuple: key ptr, key len, value ptr, value len
      (if (global.get $count)
        (then (global.set $first_len (i32.load offset=12 (i32.load (i32.const 16)))))))
    (func (export "summary") (result i32)
      (i32.add (i32.mul (global.get $count) (i32.const 100)) (global.get $first_len))))
  (core instance $libc (instantiate $m
    (with "env" (instance (export "get-environment" (func $lowered))))
    (with "mem" (instance $memi))))
  (func (export "init") (canon lift (core func $libc "init")))
  (func (export "summary") (result u32) (canon lift (core func $libc "summary")))
)"#;

#[test]
fn wasi_denied_names_the_import() {
    let err = snapshotter("init")
        .snapshot(&wat(USES_WASI_ENV))
        .unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("wasi:cli/environment@0.2.0#get-environment"),
        "{msg}"
    );
    assert!(msg.contains("--allow-wasi"), "{msg}");
}

#[test]
fn wasi_allowed_bakes_what_init_read() {
    let mut snap = snapshotter("init");
    snap.allow_wasi(true).env("GREETING", "hello");
    let env: &[(&str, &str)] = &[("GREETING", "hello")];
    let out = check_with_env(
        &snap,
        &wat(USES_WASI_ENV),
        "init",
        &["summary()"],
        Some(env),
    );
    assert_eq!(Running::new(&out).call("summary()"), "[U32(105)]");
}

#[test]
fn snapshots_are_deterministic() {
    let mut snap = snapshotter("init");
    let a = snap.snapshot(&wat(THREE_MODULES)).unwrap();
    let b = snap.snapshot(&wat(THREE_MODULES)).unwrap();
    assert_eq!(a, b);
    // The output comes from the state, never from how Wasmtime compiled the code.
    let c = snap
        .parallel_compilation(false)
        .snapshot(&wat(THREE_MODULES))
        .unwrap();
    assert_eq!(a, c);
}

#[test]
fn trapping_init_reports_the_trap() {
    let input = wat(r#"
(component
  (core module $m
    (func $deep unreachable)
    (func (export "init") call $deep))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
)"#);
    let msg = format!("{:#}", snapshotter("init").snapshot(&input).unwrap_err());
    assert!(msg.contains("init function `init` failed"), "{msg}");
    assert!(msg.contains("unreachable"), "{msg}");
}

#[test]
fn hanging_init_is_stopped_by_the_timeout() {
    let input = wat(r#"
(component
  (core module $m (func (export "init") (loop br 0)))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
)"#);
    let mut snap = snapshotter("init");
    snap.init_timeout(std::time::Duration::from_millis(300));
    let msg = format!("{:#}", snap.snapshot(&input).unwrap_err());
    assert!(msg.contains("did not finish within 0.3 s"), "{msg}");
}

#[test]
fn interface_qualified_init() {
    let input = wat(r#"
(component
  (core module $m
    (global $x (mut i32) (i32.const 0))
    (func (export "init") (global.set $x (i32.const 12)))
    (func (export "get") (result i32) global.get $x))
  (core instance $i (instantiate $m))
  (func $init (canon lift (core func $i "init")))
  (instance $setup (export "init" (func $init)))
  (export "my:pkg/setup@0.1.0" (instance $setup))
  (func (export "get") (result u32) (canon lift (core func $i "get")))
)"#);
    // compsnap's, and wasmtime-wizer's spelling with the version after the function.
    for spec in [
        "my:pkg/setup@0.1.0#init",
        "my:pkg/setup@0.1.0.init",
        "my:pkg/setup.init@0.1.0",
    ] {
        let mut snap = snapshotter(spec);
        snap.keep_init_func(true);
        let out = check(&snap, &input, "my:pkg/setup@0.1.0#init", &["get()"]);
        assert_eq!(Running::new(&out).call("get()"), "[U32(12)]");
        assert!(Running::new(&out)
            .try_call("my:pkg/setup@0.1.0#init()")
            .is_ok());
    }
    // Without --keep-init-func the function leaves the exported instance.
    let out = check(
        &snapshotter("my:pkg/setup@0.1.0#init"),
        &input,
        "my:pkg/setup@0.1.0#init",
        &["get()"],
    );
    assert_eq!(Running::new(&out).call("get()"), "[U32(12)]");
    let err = Running::new(&out)
        .try_call("my:pkg/setup@0.1.0#init()")
        .unwrap_err();
    assert!(format!("{err}").contains("no export"), "{err}");
}

#[test]
fn init_inside_a_wit_component_interface_is_removed() {
    // wit-component exports an interface through an instance of a nested shim component.
    let wit = r#"package test:app;
        interface setup { init: func(); other: func() -> u32; }
        world app { export setup; export run: func() -> u32; }"#;
    let module = wat(r#"(module
        (global $x (mut i32) (i32.const 1))
        (func (export "test:app/setup#init") (global.set $x (i32.const 30)))
        (func (export "test:app/setup#other") (result i32) (i32.add (global.get $x) (i32.const 1)))
        (func (export "run") (result i32) (global.get $x)))"#);
    let input = common::wit_component(&module, wit, "app", false);
    let init = "test:app/setup#init";
    let out = check(
        &snapshotter(init),
        &input,
        init,
        &["run()", "test:app/setup#other()"],
    );
    let mut run = Running::new(&out);
    assert_eq!(run.call("run()"), "[U32(30)]");
    assert_eq!(run.call("test:app/setup#other()"), "[U32(31)]");
    assert!(Running::new(&out)
        .try_call("test:app/setup#init()")
        .is_err());
}

#[test]
fn kept_init_export_stays() {
    let mut snap = snapshotter("init");
    snap.keep_init_func(true);
    let out = snap.snapshot(&wat(THREE_MODULES)).unwrap();
    assert!(root_exports(&out).contains(&"init".to_string()));
}

#[test]
fn removing_the_init_export_renumbers_later_functions() {
    // The init export sits before other exports and a function defined after it, and a later
    // export re-exports the init's own export index: all must still point at the right thing.
    let input = wat(r#"
(component
  (core module $m
    (global $x (mut i32) (i32.const 0))
    (func (export "init") (global.set $x (i32.const 5)))
    (func (export "get") (result i32) global.get $x))
  (core instance $i (instantiate $m))
  (func $init (canon lift (core func $i "init")))
  (export $init_export "init" (func $init))
  (func $get (result u32) (canon lift (core func $i "get")))
  (export "get" (func $get))
  (instance $again (export "init-again" (func $init_export)) (export "get-again" (func $get)))
  (export "again" (instance $again))
)"#);
    let out = check(
        &snapshotter("init"),
        &input,
        "init",
        &["get()", "again#get-again()"],
    );
    assert_eq!(root_exports(&out), ["get", "again"]);
    assert_eq!(Running::new(&out).call("again#get-again()"), "[U32(5)]");
}

#[test]
fn wit_component_shape_keeps_the_core_export_that_the_init_lifts() {
    // wit-component lifts the root export `wizer-initialize` from the core export of the same
    // name. Removing the core export as well (what `wasmtime wizer` 48 does) leaves a dangling
    // alias; compsnap removes only the component export.
    let wit = r#"
        package test:app;
        world app {
            export wizer-initialize: func();
            export run: func() -> u32;
        }"#;
    let module = wat(r#"
        (module
          (memory (export "memory") 1)
          (global $n (mut i32) (i32.const 0))
          (func (export "wizer-initialize")
            (i32.store (i32.const 1024) (i32.const 40))
            (global.set $n (i32.const 2)))
          (func (export "run") (result i32)
            (i32.add (i32.load (i32.const 1024)) (global.get $n))))"#);
    let input = common::wit_component(&module, wit, "app", false);
    let out = check(&Snapshotter::new(), &input, "wizer-initialize", &["run()"]);
    assert_eq!(root_exports(&out), ["run"]);
    assert_eq!(Running::new(&out).call("run()"), "[U32(42)]");
    let text = wasmprinter::print_bytes(&out).unwrap();
    assert!(
        text.contains(r#"(export "wizer-initialize" (func"#),
        "the core export stays"
    );
}

#[test]
fn embedder_brings_its_own_linker_and_store() {
    let input = wat(r#"
(component
  (import "host-config" (func $cfg (result u32)))
  (core func $cfg_lowered (canon lower (func $cfg)))
  (core module $m
    (import "host" "config" (func $config (result i32)))
    (global $v (mut i32) (i32.const 0))
    (func (export "init") (global.set $v (i32.mul (call $config) (i32.const 2))))
    (func (export "get") (result i32) global.get $v))
  (core instance $i (instantiate $m (with "host" (instance (export "config" (func $cfg_lowered))))))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "get") (result u32) (canon lift (core func $i "get")))
)"#);
    let engine = common::engine();
    let mut linker = wasmtime::component::Linker::<u32>::new(engine);
    linker
        .root()
        .func_wrap(
            "host-config",
            |store: wasmtime::StoreContextMut<'_, u32>, (): ()| Ok((*store.data(),)),
        )
        .unwrap();
    let mut store = wasmtime::Store::new(engine, 21u32);
    let out = snapshotter("init")
        .snapshot_with(&input, &mut store, &mut linker)
        .unwrap();
    // The snapshot's host import traps, so 42 can only come from the baked global.
    assert_eq!(Running::new(&out).call("get()"), "[U32(42)]");
}

#[test]
fn max_memory_stops_a_runaway_init() {
    let input = wat(r#"
(component
  (core module $m
    (memory 1)
    (func (export "init") (loop (br_if 0 (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
)"#);
    let mut snap = snapshotter("init");
    snap.max_memory(4 << 20);
    let msg = format!("{:#}", snap.snapshot(&input).unwrap_err());
    assert!(msg.contains("beyond --max-memory 4194304 bytes"), "{msg}");
}

#[test]
fn passive_data_segments_keep_their_indices() {
    // Segment 0 is active (replaced by the snapshot), segment 1 passive: `memory.init 1` after
    // the snapshot must still find the passive bytes at index 1.
    let input = wat(r#"
(component
  (core module $m
    (memory 1)
    (data (i32.const 0) "active")
    (data $p "passive!")
    (func (export "init") (i32.store8 (i32.const 0) (i32.const 65)))
    (func (export "later") (result i32)
      (memory.init $p (i32.const 100) (i32.const 0) (i32.const 8))
      (i32.add (i32.load8_u (i32.const 107)) (i32.load8_u (i32.const 0)))))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "later") (result u32) (canon lift (core func $i "later")))
)"#);
    let out = check(&snapshotter("init"), &input, "init", &["later()"]);
    assert_eq!(
        Running::new(&out).call("later()"),
        format!("[U32({})]", b'!' + b'A')
    );
}

#[test]
fn memory_larger_than_the_hostcall_limit_crosses_chunks() {
    // 2100 pages (~131 MiB): more than Wasmtime's 128 MiB per-call transfer limit, and three
    // 64 MiB chunks, with data on both sides of each chunk boundary.
    let input = wat(r#"
(component
  (core module $m
    (memory 2100)
    (func (export "init")
      (i32.store (i32.const 100) (i32.const 1234))
      (i32.store (i32.const 67108860) (i32.const -1))
      (i32.store (i32.const 134217728) (i32.const 5678))
      (i32.store (i32.const 137625596) (i32.const 91011)))
    (func (export "get") (result i32)
      (i32.add (i32.add (i32.load (i32.const 100)) (i32.load (i32.const 67108860)))
        (i32.add (i32.load (i32.const 134217728)) (i32.load (i32.const 137625596))))))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "get") (result u32) (canon lift (core func $i "get")))
)"#);
    let out = check(&snapshotter("init"), &input, "init", &["get()"]);
    assert_eq!(
        Running::new(&out).call("get()"),
        format!("[U32({})]", 1234 + 5678 + 91011 - 1)
    );
}

const CORE_INIT: &str = r#"
(component
  (core module $m
    (memory (export "memory") 1)
    (global $g (mut i32) (i32.const 0))
    (func (export "componentize.wizer")
      (global.set $g (i32.const 42))
      (i32.store (i32.const 16) (i32.const 7)))
    (func (export "get") (result i32) (i32.add (global.get $g) (i32.load (i32.const 16)))))
  (core instance $i (instantiate $m))
  (core module $twice (func (export "setup")))
  (core instance (instantiate $twice))
  (core instance (instantiate $twice))
  (func (export "get") (result s32) (canon lift (core func $i "get"))))"#;

#[test]
fn core_init_function_that_the_component_does_not_lift() {
    // ComponentizeJS keeps its init, `componentize.wizer`, as a core export only: compsnap
    // lifts it for the run, and the output neither calls it again nor exports anything new.
    let input = wat(CORE_INIT);
    let snap = snapshotter("componentize.wizer");
    let out = snap.snapshot(&input).unwrap();
    compsnap::validate(&out).unwrap();
    assert_eq!(Running::new(&input).call("get()"), "[S32(0)]");
    assert_eq!(Running::new(&out).call("get()"), "[S32(49)]");
    assert_eq!(root_exports(&out), ["get"]);
    let before = snap.state(&input, true).unwrap();
    let after = snap.state(&out, false).unwrap();
    assert_eq!(common::state_diff(&before, &after), None);
}

#[test]
fn core_init_function_errors_name_the_instances() {
    let input = wat(CORE_INIT);
    let err = |init: &str| format!("{:#}", snapshotter(init).snapshot(&input).unwrap_err());
    let e = err("setup");
    assert!(e.contains("several core instances export it"), "{e}");
    assert!(e.contains("dfs id 1") && e.contains("dfs id 2"), "{e}");
    let e = err("componentize.wizer(1)");
    assert!(e.contains("takes no WAVE arguments"), "{e}");
    let e = err("memory");
    assert!(
        e.contains("not exported by the component, nor by any core instance"),
        "{e}"
    );
}

const IMPORTS_WASI_HTTP: &str = r#"
(component
  (import "wasi:io/streams@0.2.0" (instance $io (export "input-stream" (type (sub resource)))))
  (alias export $io "input-stream" (type $is))
  (import "wasi:http/types@0.2.0" (instance $http
    (alias outer 1 $is (type $is2))
    (export "input-stream" (type (eq $is2)))
    (export "fields" (type $f (sub resource)))
    (export "[constructor]fields" (func (result (own $f))))))
  (core func $new (canon lower (func $http "[constructor]fields")))
  (core module $m
    (import "h" "new" (func $new (result i32)))
    (global $g (mut i32) (i32.const 0))
    (func (export "init") (global.set $g (i32.const 5)))
    (func (export "touch") (global.set $g (call $new)))
    (func (export "get") (result i32) (global.get $g)))
  (core instance $i (instantiate $m (with "h" (instance (export "new" (func $new))))))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "touch") (canon lift (core func $i "touch")))
  (func (export "get") (result u32) (canon lift (core func $i "get"))))"#;

#[test]
fn wasi_interfaces_wasmtime_does_not_provide_are_stubbed() {
    // ComponentizeJS's engine always imports wasi:http, which wasmtime-wasi does not
    // implement, and whose types borrow wasi:io's resources. An init that never calls it
    // snapshots; one that does gets an error naming the import.
    let mut snap = snapshotter("init");
    snap.allow_wasi(true);
    let out = snap.snapshot(&wat(IMPORTS_WASI_HTTP)).unwrap();
    compsnap::validate(&out).unwrap();
    let mut touch = snapshotter("touch");
    touch.allow_wasi(true);
    let e = format!("{:#}", touch.snapshot(&wat(IMPORTS_WASI_HTTP)).unwrap_err());
    assert!(
        e.contains("wasi:http/types@0.2.0#[constructor]fields"),
        "{e}"
    );
}

/// A 64-bit memory inside a component: the canonical ABI reads 32-bit memories only, so the
/// accessor copies it through its scratch memory, 16 pages at a time (20 pages here, two
/// chunks); the snapshot's segments take i64 offsets.
#[test]
fn memory64_in_a_component() {
    let input = wat(r#"
(component
  (core module $m
    (memory $small 1)
    (memory $big (export "mem") i64 1)
    ;; Sent through the scratch memory's sink, which the 64-bit memory is copied through.
    (global $g (mut i64) (i64.const 0))
    (func (export "init")
      (global.set $g (i64.const -7))
      (drop (memory.grow $big (i64.const 19)))
      (i64.store $big (i64.const 0x130000) (i64.const 0x1122334455667788))
      (i32.store $big (i64.const 8) (i32.const 77))
      (i32.store $small (i32.const 100) (i32.const 7)))
    (func (export "far") (result i64) (i64.load $big (i64.const 0x130000)))
    (func (export "pages") (result i64) (memory.size $big))
    (func (export "small") (result i32) (i32.load $small (i32.const 100)))
    (func (export "g") (result i64) (global.get $g)))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "g") (result s64) (canon lift (core func $i "g")))
  (func (export "far") (result u64) (canon lift (core func $i "far")))
  (func (export "pages") (result u64) (canon lift (core func $i "pages")))
  (func (export "small") (result u32) (canon lift (core func $i "small"))))
"#);
    let out = check(
        &snapshotter("init"),
        &input,
        "init",
        &["far()", "pages()", "small()", "g()"],
    );
    let mut running = common::Running::new(&out);
    assert_eq!(running.call("pages()"), "[U64(20)]");
    assert_eq!(running.call("g()"), "[S64(-7)]");
    assert_eq!(
        running.call("far()"),
        format!("[U64({})]", 0x1122334455667788u64)
    );
}

#[test]
fn a_component_compiles_with_winch_unless_it_probes_functions_of_several_types() {
    let component = |body: &str| {
        wat(&format!(
            r#"
(component
  (core module $m
    (type $r (func (result i32)))
    (memory (export "memory") 1)
    (global $g (mut i32) (i32.const 0))
    (func $five (type $r) (i32.const 5))
    {body}
    (func (export "g") (result i32) (global.get $g)))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "run") (result u32) (canon lift (core func $i "run")))
  (func (export "g") (result u32) (canon lift (core func $i "g"))))
"#
        ))
    };
    // No table: the accessor reads memory and globals only, and Winch compiles it all.
    let plain = component(
        r#"(func (export "init")
             (global.set $g (i32.const 7))
             (i32.store (i32.const 8) (i32.const 9)))
           (func (export "run") (result i32) (i32.load (i32.const 8)))"#,
    );
    // A table written at init with functions of one type (the exported functions, of
    // other types, reach no table): its slots are probed with `call_indirect`, and Winch
    // compiles it all.
    let table = component(
        r#"(table $t 1 funcref) (elem declare func $five)
           (func (export "init")
             (global.set $g (i32.const 7))
             (table.set $t (i32.const 0) (ref.func $five)))
           (func (export "run") (result i32) (call_indirect $t (type $r) (i32.const 0)))"#,
    );
    // A table that can hold functions of two types: its slots are probed with `ref.test`
    // and `call_ref`, which Winch does not compile, so Cranelift compiles the component and
    // Winch is not tried.
    let two_types = component(
        r#"(table $t 2 funcref) (elem declare func $five $neg)
           (func $neg (param i32) (result i32) (i32.sub (i32.const 0) (local.get 0)))
           (func (export "init")
             (global.set $g (i32.const 7))
             (table.set $t (i32.const 0) (ref.func $five))
             (table.set $t (i32.const 1) (ref.func $neg)))
           (func (export "run") (result i32)
             (i32.add (call_indirect $t (type $r) (i32.const 0))
               (call_indirect $t (param i32) (result i32) (i32.const 3) (i32.const 1))))"#,
    );
    // Functions of two types, put in the table by an active segment only: no code writes
    // it, so its slots are known without a probe, and Winch compiles it all.
    let segment_only = component(
        r#"(table $t 2 funcref) (elem (i32.const 0) func $five $neg)
           (func $neg (param i32) (result i32) (i32.sub (i32.const 0) (local.get 0)))
           (func (export "init") (global.set $g (i32.const 7)))
           (func (export "run") (result i32)
             (i32.add (call_indirect $t (type $r) (i32.const 0))
               (call_indirect $t (param i32) (result i32) (i32.const 3) (i32.const 1))))"#,
    );
    // No table, but a tail call, which Winch does not support: Cranelift, saying why.
    let tail = component(
        r#"(func (export "init") (global.set $g (i32.const 7)))
           (func (export "run") (result i32) (return_call $five))"#,
    );
    for (input, compiler) in [
        (&plain, "Winch"),
        (&table, "Winch"),
        (&two_types, "Cranelift"),
        (&segment_only, "Winch"),
        (&tail, "Cranelift (not Winch: "),
    ] {
        let (used, output) = common::fast_and_optimized("init", input);
        assert!(
            used.starts_with(compiler) && (compiler.ends_with(": ") || used == compiler),
            "{compiler}: {used}"
        );
        let snap = snapshotter("init");
        assert_eq!(check(&snap, input, "init", &["run()", "g()"]), output);
    }
    let (used, _) = common::fast_and_optimized("init", &tail);
    assert!(used.contains("tail call"), "{used}");
}
