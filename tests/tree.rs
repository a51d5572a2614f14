//! The instantiation tree: modules instantiated several times, nested components instantiated
//! once or several times, compositions, and errors that name where in the tree they are.

mod common;

use common::{check, snapshotter, wat};

/// A module instantiated twice whose instances are driven into different states; returns the
/// component. `second` is the argument the second instance's setup gets.
fn twice(second: i32) -> Vec<u8> {
    wat(&format!(
        r#"
(component
  (core module $m
    (type $r (func (result i32)))
    (memory (export "mem") 1)
    (global $g (mut i32) (i32.const 0))
    (table $t 4 funcref)
    (func $a (result i32) i32.const 10)
    (func $b (result i32) i32.const 20)
    (elem declare func $a $b)
    (func (export "setup") (param i32)
      (global.set $g (local.get 0))
      (i32.store (i32.const 100) (i32.mul (local.get 0) (i32.const 3)))
      (if (i32.eq (local.get 0) (i32.const 1))
        (then (table.set $t (i32.const 0) (ref.func $a)))
        (else (table.set $t (i32.const 2) (ref.func $b)))))
    (func (export "read") (result i32)
      (i32.add (global.get $g) (i32.load (i32.const 100))))
    (func (export "slot") (param i32) (result i32)
      (call_indirect $t (type $r) (local.get 0))))
  (core instance $x (instantiate $m))
  (core instance $y (instantiate $m))
  (core module $driver
    (import "x" "setup" (func $sx (param i32)))
    (import "y" "setup" (func $sy (param i32)))
    (func (export "init") (call $sx (i32.const 1)) (call $sy (i32.const {second}))))
  (core instance $d (instantiate $driver (with "x" (instance $x)) (with "y" (instance $y))))
  (func (export "init") (canon lift (core func $d "init")))
  (func (export "read-x") (result u32) (canon lift (core func $x "read")))
  (func (export "read-y") (result u32) (canon lift (core func $y "read")))
  (func (export "slot-x") (param "i" u32) (result u32) (canon lift (core func $x "slot")))
  (func (export "slot-y") (param "i" u32) (result u32) (canon lift (core func $y "slot"))))
"#
    ))
}

/// Core module sections (`modules`) or nested component sections directly in the root body.
fn root_sections(component: &[u8], modules: bool) -> usize {
    let mut depth = 0;
    let mut count = 0;
    for payload in wasmparser::Parser::new(0).parse_all(component) {
        let module = match payload.unwrap() {
            wasmparser::Payload::ModuleSection { .. } => true,
            wasmparser::Payload::ComponentSection { .. } => false,
            wasmparser::Payload::End(_) => {
                depth = depth.max(1) - 1;
                continue;
            }
            _ => continue,
        };
        count += usize::from(depth == 0 && module == modules);
        depth += 1;
    }
    count
}

fn root_modules(component: &[u8]) -> usize {
    root_sections(component, true)
}

fn root_components(component: &[u8]) -> usize {
    root_sections(component, false)
}

#[test]
fn module_instantiated_twice_keeps_two_states() {
    let input = twice(2);
    let calls = [
        "read-x()",
        "read-y()",
        "slot-x(0)",
        "slot-y(2)",
        "slot-x(2)",
        "slot-y(0)",
    ];
    let output = check(&snapshotter("init"), &input, "init", &calls);
    // Each instance gets its own rewritten module: $m twice, the driver once.
    assert_eq!(root_modules(&input), 2);
    assert_eq!(root_modules(&output), 3);
}

#[test]
fn instances_that_end_in_the_same_state_share_one_module() {
    let input = twice(1);
    let (output, stats) = snapshotter("init").snapshot_with_stats(&input).unwrap();
    check(
        &snapshotter("init"),
        &input,
        "init",
        &["read-x()", "read-y()"],
    );
    assert_eq!(
        root_modules(&output),
        2,
        "identical rewritten modules are emitted once"
    );
    assert_eq!(stats.sharing.shared, 1);
    assert!(stats.sharing.bytes_saved > 0);
}

/// Two instances of one nested definition, reached during init through a sibling driver wired
/// in the root (a component cannot call into a component instance nested inside itself while
/// it runs).
fn counters(bump_a: u32, bump_b: u32) -> Vec<u8> {
    wat(&format!(
        r#"
(component
  (component $counter
    (core module $m
      (memory (export "mem") 1)
      (global $n (mut i32) (i32.const 0))
      (func (export "bump") (param i32)
        (global.set $n (i32.add (global.get $n) (local.get 0)))
        (i32.store (i32.const 8) (i32.mul (global.get $n) (i32.const 10))))
      (func (export "get") (result i32)
        (i32.add (global.get $n) (i32.load (i32.const 8)))))
    (core instance $i (instantiate $m))
    (func (export "bump") (param "by" u32) (canon lift (core func $i "bump")))
    (func (export "get") (result u32) (canon lift (core func $i "get"))))
  (component $driver
    (import "a" (instance $a (export "bump" (func (param "by" u32)))))
    (import "b" (instance $b (export "bump" (func (param "by" u32)))))
    (core func $ba (canon lower (func $a "bump")))
    (core func $bb (canon lower (func $b "bump")))
    (core module $dm
      (import "a" "bump" (func $ba (param i32)))
      (import "b" "bump" (func $bb (param i32)))
      (global $runs (mut i32) (i32.const 0))
      (func (export "init")
        (global.set $runs (i32.add (global.get $runs) (i32.const 1)))
        (call $ba (i32.const {bump_a}))
        (call $bb (i32.const {bump_b})))
      (func (export "runs") (result i32) (global.get $runs)))
    (core instance $d (instantiate $dm
      (with "a" (instance (export "bump" (func $ba))))
      (with "b" (instance (export "bump" (func $bb))))))
    (func (export "init") (canon lift (core func $d "init")))
    (func (export "runs") (result u32) (canon lift (core func $d "runs"))))
  (instance $c1 (instantiate $counter))
  (instance $c2 (instantiate $counter))
  (instance $drv (instantiate $driver (with "a" (instance $c1)) (with "b" (instance $c2))))
  (export "init" (func $drv "init"))
  (export "runs" (func $drv "runs"))
  (export "get-1" (func $c1 "get"))
  (export "get-2" (func $c2 "get")))
"#
    ))
}

#[test]
fn nested_component_instantiated_twice_gets_a_definition_per_state() {
    let input = counters(5, 7);
    let output = check(
        &snapshotter("init"),
        &input,
        "init",
        &["get-1()", "get-2()", "runs()"],
    );
    // $counter twice (two states), $driver once.
    assert_eq!(root_components(&input), 2);
    assert_eq!(root_components(&output), 3);
    let mut snap = common::Running::new(&output);
    assert_eq!(snap.call("get-1()"), "[U32(55)]");
    assert_eq!(snap.call("get-2()"), "[U32(77)]");
    assert_eq!(snap.call("runs()"), "[U32(1)]");
}

#[test]
fn nested_instances_in_the_same_state_share_a_definition() {
    let input = counters(4, 4);
    let (output, stats) = snapshotter("init").snapshot_with_stats(&input).unwrap();
    check(
        &snapshotter("init"),
        &input,
        "init",
        &["get-1()", "get-2()"],
    );
    assert_eq!(root_components(&output), 2);
    assert_eq!(stats.sharing.shared, 1);
    eprintln!(
        "shared {} definitions, saved {} bytes; output {} bytes",
        stats.sharing.shared,
        stats.sharing.bytes_saved,
        output.len()
    );
}

#[test]
fn dfs_ids_follow_instantiation_order_through_the_tree() {
    let input = counters(1, 2);
    let tree = compsnap::internals::tree(&input).unwrap();
    // root → c1 (dfs 0) → c2 (dfs 1) → driver (dfs 2).
    assert_eq!(tree.instances.len(), 3);
    assert_eq!(tree.nodes, 4);
    assert_eq!(
        tree.instances[2],
        "root/instance 2 (component \"driver\")/core instance 2 (module 0), dfs id 2"
    );
    assert_eq!(
        tree.instances[1],
        "root/instance 1 (component \"counter\")/core instance 0 (module 0), dfs id 1"
    );
}

#[test]
fn errors_name_the_path_in_the_tree() {
    // A function that the init puts in a table and that returns a non-nullable reference
    // cannot be probed; it sits in the second instance of a nested component.
    let input = wat(r#"
(component
  (component $plain
    (core module $m (memory 1))
    (core instance (instantiate $m)))
  (component $consumer
    (core module $ok (global (mut i32) (i32.const 0)))
    (core module $m
      (type $f (func))
      (func $k (type $f))
      (elem declare func $k $r)
      (func $r (result (ref $f)) (ref.func $k))
      (table 1 funcref)
      (func (export "init") (table.set 0 (i32.const 0) (ref.func $r))))
    (core instance (instantiate $ok))
    (core instance $i (instantiate $m))
    (func (export "init") (canon lift (core func $i "init"))))
  (instance (instantiate $plain))
  (instance $c (instantiate $consumer))
  (export "init" (func $c "init")))
"#);
    let err = snapshotter("init").snapshot(&input).unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains(
            "root/instance 1 (component \"consumer\")/core instance 1 (module 1), dfs id 2"
        ),
        "{msg}"
    );
}

/// A nested component's imported component or module that its parent satisfies with a
/// definition of its own is snapshotted (tests/definitions.rs checks the state); only what
/// the root imports has no code in the input.
#[test]
fn imported_components_and_modules_given_by_the_parent_are_followed() {
    let input = wat(r#"
(component
  (component $outer
    (import "c" (component $c))
    (instance (instantiate $c)))
  (component $inner)
  (instance (instantiate $outer (with "c" (component $inner))))
  (core module $init (func (export "init")))
  (core instance $ii (instantiate $init))
  (func (export "init") (canon lift (core func $ii "init"))))
"#);
    let out = snapshotter("init").snapshot(&input).expect("snapshot");
    compsnap::validate(&out).unwrap();

    let input = wat(r#"
(component
  (component $outer
    (import "m" (core module $m))
    (core instance (instantiate $m)))
  (core module $inner)
  (instance (instantiate $outer (with "m" (core module $inner))))
  (core module $init (func (export "init")))
  (core instance $ii (instantiate $init))
  (func (export "init") (canon lift (core func $ii "init"))))
"#);
    let out = snapshotter("init").snapshot(&input).expect("snapshot");
    compsnap::validate(&out).unwrap();

    let input =
        wat(r#"(component (import "m" (core module $m)) (core instance (instantiate $m)))"#);
    let err = format!("{:#}", snapshotter("init").snapshot(&input).unwrap_err());
    assert!(
        err.contains("root: imports core module 'm': its code is not in the input"),
        "{err}"
    );
}

#[test]
fn index_space_aliases_survive() {
    // Outer aliases of modules, components and types, modules and components exported and
    // aliased back, instances made of exports: none instantiates, all must survive the
    // sink's prepended type and the versions inserted before them.
    let input = wat(r#"
(component $root
  (type $u (func (result u32)))
  (core module $m
    (global $g (mut i32) (i32.const 0))
    (func (export "set") (param i32) (global.set $g (local.get 0)))
    (func (export "get") (result i32) (global.get $g)))
  (core module $unused)
  (component $empty)
  (component $wrap
    (alias outer $root $u (type $u2))
    (alias outer $root $unused (core module $um))
    (alias outer $root $empty (component $ec))
    (export "ec" (component $ec))
    (import "f" (func $f (type $u2)))
    (core module $n
      (global $g (mut i32) (i32.const 0))
      (func (export "set") (global.set $g (i32.const 9)))
      (func (export "get") (result i32) (global.get $g)))
    (core instance $i (instantiate $n))
    (func (export "set") (canon lift (core func $i "set")))
    (func (export "get") (type $u2) (canon lift (core func $i "get")))
    (export "um" (core module $um)))
  (core instance $a (instantiate $m))
  (core instance $b (instantiate $m))
  (core instance $ab (export "get-a" (func $a "get")) (export "get-b" (func $b "get")))
  (func $ga (type $u) (canon lift (core func $a "get")))
  (instance $w (instantiate $wrap (with "f" (func $ga))))
  (core module $setter
    (import "a" "set" (func $sa (param i32)))
    (import "b" "set" (func $sb (param i32)))
    (func $init (call $sa (i32.const 3)) (call $sb (i32.const 4)))
    (start $init))
  (core instance $st (instantiate $setter (with "a" (instance $a)) (with "b" (instance $b))))
  (component $driver
    (import "w" (instance $w (export "set" (func))))
    (core func $s (canon lower (func $w "set")))
    (core module $dm
      (import "w" "set" (func $s))
      (func (export "init") (call $s)))
    (core instance $d (instantiate $dm (with "w" (instance (export "set" (func $s))))))
    (func (export "init") (canon lift (core func $d "init"))))
  (instance $drv (instantiate $driver (with "w" (instance $w))))
  (export "init" (func $drv "init"))
  (instance $both-getters (export "a" (func $ga)) (export "w" (func $w "get")))
  (export "getters" (instance $both-getters))
  (func (export "get-a") (type $u) (canon lift (core func $ab "get-a")))
  (func (export "get-b") (type $u) (canon lift (core func $ab "get-b")))
  (export "get-w" (func $w "get")))
"#);
    check(
        &snapshotter("init"),
        &input,
        "init",
        &["get-a()", "get-b()", "get-w()"],
    );
}
