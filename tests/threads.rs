//! compsnap runs guest code on threads of its own, one per core and kept for the process, and
//! drops a finished guest of at most 16 MiB of memory on them while the caller goes on (a
//! larger one before it returns). Callers on many threads at once, more than there are guest
//! threads, must each get the snapshot a lone caller gets: of a component and of a core
//! module, whose guest is dropped later (small) or at once (large).

mod common;

use common::{check, check_core, snapshotter, wat};

/// An init that grows memory to `pages` pages, writes a word into its first and its last
/// page and sets a global; `check` adds them up.
fn core_module(pages: u32) -> String {
    let last = pages as u64 * 65536 - 8;
    format!(
        r#"(module
  (memory (export "memory") 1)
  (global $g (mut i64) (i64.const 0))
  (func (export "init")
    (drop (memory.grow (i32.const {grow})))
    (i64.store (i32.const 64) (i64.const 0x0102030405060708))
    (i64.store (i32.const {last}) (i64.const {pages}))
    (global.set $g (i64.const 77)))
  (func (export "check") (result i64)
    (i64.add (global.get $g)
      (i64.add (i64.load (i32.const 64)) (i64.load (i32.const {last}))))))"#,
        grow = pages - 1,
    )
}

/// [`core_module`] in a component that lifts `init` and `check`.
fn component(pages: u32) -> String {
    let module = core_module(pages).replacen("(module", "(core module $m", 1);
    format!(
        r#"(component
  {module}
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "check") (result s64) (canon lift (core func $i "check"))))"#
    )
}

#[test]
fn callers_on_many_threads_at_once_each_get_what_a_lone_caller_gets() {
    // 2 pages: dropped on a guest thread later. 321 pages (20 MiB): dropped at once.
    let components = [wat(&component(2)), wat(&component(321))];
    let modules = [wat(&core_module(2)), wat(&core_module(321))];
    let snap = snapshotter("init");
    let mut inputs = Vec::new();
    for input in &components {
        let expected = check(&snap, input, "init", &["check()"]);
        inputs.push((input, expected));
    }
    for input in &modules {
        let expected = check_core(&snap, input, "init", &["check()"], &[]);
        inputs.push((input, expected));
    }
    let callers = 2 * std::thread::available_parallelism().map_or(1, |n| n.get()) + 2;
    std::thread::scope(|scope| {
        for caller in 0..callers {
            let (snap, inputs) = (&snap, &inputs);
            scope.spawn(move || {
                for round in 0..3 {
                    // Each caller starts at another input, so all kinds run at once.
                    for k in 0..inputs.len() {
                        let (input, expected) = &inputs[(caller + round + k) % inputs.len()];
                        let output = snap.snapshot(input).expect("snapshot");
                        assert!(
                            output == *expected,
                            "caller {caller}, round {round}: the snapshot differs from a lone \
                             caller's"
                        );
                    }
                }
            });
        }
    });
}
