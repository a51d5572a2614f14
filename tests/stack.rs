//! The init's Wasm stack. compsnap compiles the init's code cheaply (Winch, or Cranelift
//! unoptimized with its single-pass register allocator), which takes bigger frames than the
//! optimized code Wasmtime's default configuration (wasmtime-wizer's) runs. An init that
//! recurses as deep as that default configuration allows must still run, and on whatever
//! thread the library is called from, however small its stack.

mod common;

use common::{check, check_core, snapshotter, wat};
use wasmtime::{Engine, Instance, Module, Store};

/// A recursion with many values live across each call, so each frame spills. `$rec(n)` sums
/// a few products of every level; `init` runs it `{depth}` deep and keeps the sum.
fn module(depth: u32) -> String {
    format!(
        r#"(module
  (global $sum (mut i64) (i64.const 0))
  (func $rec (param $n i32) (result i64) (local $a i64) (local $b i64) (local $c i64) (local $d i64)
    (if (i32.eqz (local.get $n)) (then (return (i64.const 0))))
    (local.set $a (i64.extend_i32_u (local.get $n)))
    (local.set $b (i64.mul (local.get $a) (i64.const 3)))
    (local.set $c (i64.mul (local.get $b) (local.get $a)))
    (local.set $d (i64.xor (local.get $c) (i64.const 0x5555)))
    (i64.add
      (call $rec (i32.sub (local.get $n) (i32.const 1)))
      (i64.add (i64.add (local.get $a) (local.get $b)) (i64.add (local.get $c) (local.get $d)))))
  (func (export "go") (param i32) (result i64) (call $rec (local.get 0)))
  (func (export "init") (global.set $sum (call $rec (i32.const {depth}))))
  (func (export "sum") (result i64) (global.get $sum)))"#
    )
}

/// The deepest `go(n)` Wasmtime's default configuration runs without exhausting its stack.
fn deepest_under_wasmtime_defaults() -> u32 {
    let engine = Engine::default();
    let module = Module::new(&engine, module(0)).expect("module compiles");
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).expect("instantiate");
    let go = instance
        .get_typed_func::<u32, i64>(&mut store, "go")
        .expect("go");
    let (mut fits, mut overflows) = (1u32, 1u32 << 24);
    assert!(
        go.call(&mut store, overflows).is_err(),
        "the recursion never exhausts the default stack"
    );
    while overflows - fits > 1 {
        let mid = fits + (overflows - fits) / 2;
        match go.call(&mut store, mid) {
            Ok(_) => fits = mid,
            Err(_) => overflows = mid,
        }
    }
    fits
}

/// Runs `f` on a thread with a 512 KiB stack, far less than the Wasm stack compsnap gives an
/// init.
fn on_small_thread<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new()
        .stack_size(512 << 10)
        .spawn(f)
        .expect("thread")
        .join()
        .expect("the thread finished")
}

#[test]
fn an_init_as_deep_as_wasmtime_defaults_allow_runs_on_any_thread() {
    let depth = deepest_under_wasmtime_defaults();
    let core = wat(&module(depth));
    let component = wat(&format!(
        r#"(component
  (core module $m {inner}
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "sum") (result s64) (canon lift (core func $i "sum"))))"#,
        // The module without its opening `(module`; its closing parenthesis closes `core module`.
        inner = module(depth).trim_start_matches("(module")
    ));
    // Compiled fast (Winch, single-pass Cranelift), the recursion takes more than the
    // default 512 KiB of Wasm stack: with `MAX_WASM_STACK` at 512 KiB or 1 MiB this fails.
    let mut outputs = Vec::new();
    for fast in [true, false] {
        let mut snap = snapshotter("init");
        snap.fast_compile(fast);
        for (input, is_core) in [(&core, true), (&component, false)] {
            let expected = match is_core {
                true => check_core(&snap, input, "init", &["sum()"], &[]),
                false => check(&snap, input, "init", &["sum()"]),
            };
            let (s, i) = (snap.clone(), input.clone());
            let output = on_small_thread(move || s.snapshot(&i).expect("snapshot"));
            assert_eq!(output, expected, "the caller's thread changed the snapshot");
            outputs.push(output);
        }
    }
    assert_eq!(
        outputs[..2],
        outputs[2..],
        "the compiler changed the snapshot"
    );
}
