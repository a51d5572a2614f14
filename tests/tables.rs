//! Funcref tables and reference globals: every kind of table write during init, tables shared
//! between instances, funcrefs that cross instances, host functions in tables, typed tables.
//! Each test checks calls through the tables and the canonical identity of every slot.

mod common;

use common::{check, snapshotter, wat, Running, PROBE_BUILT_ARGUMENTS, TABLES_WITH_INITIALIZERS};

#[test]
fn every_table_instruction_and_segment_drops() {
    let input = wat(r#"
(component
  (core module $m
    (type $ii (func (param i32) (result i32)))
    (table $t 2 funcref)
    (memory 1)
    (func $a (type $ii) (i32.add (local.get 0) (i32.const 1)))
    (func $b (type $ii) (i32.mul (local.get 0) (i32.const 2)))
    (func $c (type $ii) (i32.sub (local.get 0) (i32.const 3)))
    (elem $p funcref (ref.func $c) (ref.func $a) (ref.func $b))
    (elem $keep funcref (ref.func $b))
    (elem (i32.const 0) func $a)
    (data $pd "xyz")
    (data $keepd "kk")
    (func (export "init")
      (drop (table.grow $t (ref.func $b) (i32.const 3)))
      (table.set $t (i32.const 1) (ref.func $c))
      (table.fill $t (i32.const 3) (ref.null func) (i32.const 1))
      (table.init $t $p (i32.const 2) (i32.const 0) (i32.const 1))
      (elem.drop $p)
      (table.copy $t $t (i32.const 4) (i32.const 0) (i32.const 1))
      (data.drop $pd))
    (func (export "call") (param i32 i32) (result i32)
      (call_indirect $t (type $ii) (local.get 1) (local.get 0)))
    (func (export "size") (result i32) (table.size $t))
    (func (export "is-null") (param i32) (result i32) (ref.is_null (table.get $t (local.get 0))))
    (func (export "reinit") (result i32)
      (table.init $t $keep (i32.const 3) (i32.const 0) (i32.const 1))
      (call_indirect $t (type $ii) (i32.const 10) (i32.const 3)))
    (func (export "mem-init-kept") (result i32)
      (memory.init $keepd (i32.const 0) (i32.const 0) (i32.const 2))
      (i32.load8_u (i32.const 1)))
    (func (export "mem-init-dropped") (memory.init $pd (i32.const 0) (i32.const 0) (i32.const 1)))
    (func (export "init-dropped") (table.init $t $p (i32.const 0) (i32.const 0) (i32.const 1))))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "call") (param "slot" u32) (param "x" u32) (result u32) (canon lift (core func $i "call")))
  (func (export "size") (result u32) (canon lift (core func $i "size")))
  (func (export "is-null") (param "slot" u32) (result u32) (canon lift (core func $i "is-null")))
  (func (export "reinit") (result u32) (canon lift (core func $i "reinit")))
  (func (export "mem-init-kept") (result u32) (canon lift (core func $i "mem-init-kept")))
  (func (export "mem-init-dropped") (canon lift (core func $i "mem-init-dropped")))
  (func (export "init-dropped") (canon lift (core func $i "init-dropped")))
)"#);
    let calls = [
        "size()",
        "call(0, 10)",
        "call(1, 10)",
        "call(2, 10)",
        "is-null(3)",
        "call(4, 10)",
        "mem-init-kept()",
        "reinit()",
    ];
    let out = check(&snapshotter("init"), &input, "init", &calls);
    let mut run = Running::new(&out);
    assert_eq!(run.call("size()"), "[U32(5)]");
    assert_eq!(run.call("call(1, 10)"), "[U32(7)]");
    assert_eq!(run.call("call(2, 10)"), "[U32(7)]");
    assert_eq!(run.call("is-null(3)"), "[U32(1)]");
    // Dropped segments stay dropped (a non-empty init from them traps), survivors work.
    assert_eq!(run.call("reinit()"), "[U32(20)]");
    assert!(Running::new(&out).try_call("init-dropped()").is_err());
    assert!(Running::new(&out).try_call("mem-init-dropped()").is_err());
    assert_eq!(
        Running::new(&out).call("mem-init-kept()"),
        format!("[U32({})]", b'k')
    );
}

#[test]
fn table_shared_between_instances() {
    // A defines the table; B imports it and writes its own functions and A's into it.
    let input = wat(r#"
(component
  (core module $a
    (type $v (func (result i32)))
    (table (export "tab") 1 funcref)
    (func $seven (export "seven") (type $v) (i32.const 7))
    (elem (i32.const 0) func $seven)
    (func (export "call") (param i32) (result i32) (call_indirect (type $v) (local.get 0))))
  (core instance $ia (instantiate $a))
  (core module $b
    (type $v (func (result i32)))
    (import "a" "tab" (table $t 1 funcref))
    (import "a" "seven" (func $seven (type $v)))
    (func $eleven (type $v) (i32.const 11))
    (elem declare func $eleven $seven)
    (func (export "init")
      (drop (table.grow $t (ref.func $eleven) (i32.const 2)))
      (table.set $t (i32.const 2) (ref.func $seven))
      (table.set $t (i32.const 0) (ref.func $eleven))))
  (core instance $ib (instantiate $b (with "a" (instance $ia))))
  (func (export "init") (canon lift (core func $ib "init")))
  (func (export "call") (param "slot" u32) (result u32) (canon lift (core func $ia "call")))
)"#);
    let out = check(
        &snapshotter("init"),
        &input,
        "init",
        &["call(0)", "call(1)", "call(2)"],
    );
    assert_eq!(Running::new(&out).call("call(2)"), "[U32(7)]");
}

#[test]
fn funcref_passed_into_a_private_table_is_restored() {
    // A passes its function as a funcref into B, which stores it in a table nobody else can
    // reach. Neither A nor B can write that slot from a segment: the restore module does.
    let input = wat(r#"
(component
  (core module $b
    (type $v (func (result i32)))
    (table $private 1 funcref)
    (func (export "keep") (param funcref) (table.set $private (i32.const 0) (local.get 0)))
    (func (export "call") (result i32) (call_indirect $private (type $v) (i32.const 0))))
  (core instance $ib (instantiate $b))
  (core module $a
    (type $v (func (result i32)))
    (import "b" "keep" (func $keep (param funcref)))
    (func $secret (type $v) (i32.const 1234))
    (elem declare func $secret)
    (func (export "init") (call $keep (ref.func $secret))))
  (core instance $ia (instantiate $a (with "b" (instance $ib))))
  (func (export "init") (canon lift (core func $ia "init")))
  (func (export "call") (result u32) (canon lift (core func $ib "call")))
)"#);
    let out = check(&snapshotter("init"), &input, "init", &["call()"]);
    assert_eq!(Running::new(&out).call("call()"), "[U32(1234)]");
}

const HOST_IN_TABLE: &str = r#"
(component
  (import "count" (func $count (result u32)))
  (type $res (resource (rep i32)))
  (core func $count_lowered (canon lower (func $count)))
  (core func $drop (canon resource.drop $res))
  (core module $m
    (type $v (func (result i32)))
    (import "host" "count" (func $count (type $v)))
    (import "host" "drop" (func $drop (param i32)))
    (table $t 2 funcref)
    (global $seen (mut i32) (i32.const 0))
    (elem declare func $count $drop)
    (func (export "init")
      (global.set $seen (call $count))
      (table.set $t (i32.const 0) (ref.func $count))
      (table.set $t (i32.const 1) (ref.func $drop)))
    (func (export "via-table") (result i32) (call_indirect $t (type $v) (i32.const 0)))
    (func (export "seen") (result i32) (global.get $seen))
    (func (export "drop-is-set") (result i32) (i32.eqz (ref.is_null (table.get $t (i32.const 1))))))
  (core instance $i (instantiate $m (with "host" (instance
    (export "count" (func $count_lowered))
    (export "drop" (func $drop))))))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "via-table") (result u32) (canon lift (core func $i "via-table")))
  (func (export "seen") (result u32) (canon lift (core func $i "seen")))
  (func (export "drop-is-set") (result u32) (canon lift (core func $i "drop-is-set")))
)"#;

/// A linker whose `count` import counts its calls in the store.
fn counting_linker() -> wasmtime::component::Linker<u32> {
    let mut linker = wasmtime::component::Linker::<u32>::new(common::engine());
    linker
        .root()
        .func_wrap(
            "count",
            |mut store: wasmtime::StoreContextMut<'_, u32>, (): ()| {
                *store.data_mut() += 1;
                Ok((*store.data(),))
            },
        )
        .unwrap();
    linker
}

#[test]
fn host_functions_in_tables_are_never_called_by_the_probe() {
    let input = wat(HOST_IN_TABLE);
    let mut linker = counting_linker();
    let mut store = wasmtime::Store::new(common::engine(), 0u32);
    let out = snapshotter("init")
        .snapshot_with(&input, &mut store, &mut linker)
        .unwrap();
    assert_eq!(
        *store.data(),
        1,
        "init called the host once; probing must not call it"
    );

    // The snapshot's slot 0 is the host function itself: calling through it reaches the host.
    let component = wasmtime::component::Component::new(common::engine(), &out).unwrap();
    let mut linker = counting_linker();
    let mut store = wasmtime::Store::new(common::engine(), 100u32);
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let via = instance
        .get_typed_func::<(), (u32,)>(&mut store, "via-table")
        .unwrap();
    assert_eq!(via.call(&mut store, ()).unwrap(), (101,));
    let seen = instance
        .get_typed_func::<(), (u32,)>(&mut store, "seen")
        .unwrap();
    assert_eq!(seen.call(&mut store, ()).unwrap(), (1,));
    let set = instance
        .get_typed_func::<(), (u32,)>(&mut store, "drop-is-set")
        .unwrap();
    assert_eq!(set.call(&mut store, ()).unwrap(), (1,));
    let _ = linker.root();
}

#[test]
fn funcref_globals_and_null_extern_references() {
    let input = wat(r#"
(component
  (core module $m
    (type $v (func (result i32)))
    (global $g (mut funcref) (ref.null func))
    (global $e (mut externref) (ref.null extern))
    (table $x 3 externref)
    (func $five (type $v) (i32.const 5))
    (elem declare func $five)
    (func (export "init")
      (global.set $g (ref.func $five))
      (drop (table.grow $x (ref.null extern) (i32.const 2))))
    (func (export "call-global") (result i32) (call_ref $v (ref.cast (ref $v) (global.get $g))))
    (func (export "extern-size") (result i32) (table.size $x)))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "call-global") (result u32) (canon lift (core func $i "call-global")))
  (func (export "extern-size") (result u32) (canon lift (core func $i "extern-size")))
)"#);
    let out = check(
        &snapshotter("init"),
        &input,
        "init",
        &["call-global()", "extern-size()"],
    );
    assert_eq!(Running::new(&out).call("call-global()"), "[U32(5)]");
    assert_eq!(Running::new(&out).call("extern-size()"), "[U32(5)]");
}

#[test]
fn non_null_extern_reference_is_refused() {
    let input = wat(r#"
(component
  (core module $m
    (global $e (mut externref) (ref.null extern))
    (table $x 1 externref)
    (func (export "init") (param externref)))
  (core module $n
    (table $x (export "x") 1 anyref)
    (func (export "init") (table.set $x (i32.const 0) (ref.i31 (i32.const 3)))))
  (core instance $i (instantiate $n))
  (func (export "init") (canon lift (core func $i "init")))
)"#);
    let msg = format!("{:#}", snapshotter("init").snapshot(&input).unwrap_err());
    assert!(msg.contains("table 0"), "{msg}");
    assert!(
        msg.contains("slot 0 holds a non-null non-function reference"),
        "{msg}"
    );
    assert!(msg.contains("dfs id 0"), "{msg}");
}

#[test]
fn typed_tables_rec_groups_and_subtypes() {
    // Two types with the same shape but different rec groups are different types; a declared
    // subtype is its own type. The probe must call each with its exact type.
    let input = wat(r#"
(component
  (core module $m
    (rec (type $a (func (param i32) (result i32))) (type $pad (func)))
    (type $plain (func (param i32) (result i32)))
    (type $s (sub (func (param i64) (result i64))))
    (type $s2 (sub $s (func (param i64) (result i64))))
    (table $typed 1 (ref null $plain))
    (table $any 4 funcref)
    (func $fa (type $a) (i32.add (local.get 0) (i32.const 100)))
    (func $fp (type $plain) (i32.add (local.get 0) (i32.const 200)))
    (func $fs (type $s) (i64.add (local.get 0) (i64.const 300)))
    (func $fs2 (type $s2) (i64.add (local.get 0) (i64.const 400)))
    (elem declare func $fa $fp $fs $fs2)
    (func (export "init")
      (table.set $typed (i32.const 0) (ref.func $fp))
      (table.set $any (i32.const 0) (ref.func $fa))
      (table.set $any (i32.const 1) (ref.func $fp))
      (table.set $any (i32.const 2) (ref.func $fs))
      (table.set $any (i32.const 3) (ref.func $fs2)))
    (func (export "run") (result i64)
      (i64.add
        (i64.extend_i32_u
          (i32.add (call_indirect $any (type $a) (i32.const 1) (i32.const 0))
            (i32.add (call_indirect $any (type $plain) (i32.const 2) (i32.const 1))
                     (call_ref $plain (i32.const 3) (table.get $typed (i32.const 0))))))
        (i64.add (call_indirect $any (type $s) (i64.const 4) (i32.const 2))
                 (call_indirect $any (type $s2) (i64.const 5) (i32.const 3))))))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "run") (result s64) (canon lift (core func $i "run")))
)"#);
    let out = check(&snapshotter("init"), &input, "init", &["run()"]);
    assert_eq!(
        Running::new(&out).call("run()"),
        format!("[S64({})]", 101 + 202 + 203 + 304 + 405)
    );
}

#[test]
fn non_nullable_reference_parameters_get_built_values() {
    // The probe must call these with values of their parameter types: a function of type
    // $v, any function, an i31, and a nullable typed reference (whose type index lives in the
    // module's own type space, not the accessor's).
    let input = wat(r#"
(component
  ;; Instantiated first, so $m's types sit at a non-zero offset in the accessor's copy.
  (core module $pad (type (func)) (type (func (param i64))) (table 1 funcref) (func (type 0)))
  (core instance $p (instantiate $pad))
  (core module $m
    (type $v (func (result i32)))
    (type $takes (func (param (ref $v)) (param (ref func)) (param (ref i31)) (param (ref null $v)) (result i32)))
    (table $t 2 funcref)
    (func $seven (type $v) (i32.const 7))
    (func $f (type $takes)
      (i32.add (call_ref $v (local.get 0)) (i31.get_s (local.get 2))))
    (elem declare func $f $seven)
    (func (export "init")
      (table.set $t (i32.const 0) (ref.func $f))
      (table.set $t (i32.const 1) (ref.func $seven)))
    (func (export "run") (result i32)
      (call_indirect $t (type $takes)
        (ref.func $seven) (ref.func $seven) (ref.i31 (i32.const 5)) (ref.null $v) (i32.const 0))))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "run") (result u32) (canon lift (core func $i "run")))
)"#);
    let out = check(&snapshotter("init"), &input, "init", &["run()"]);
    assert_eq!(Running::new(&out).call("run()"), "[U32(12)]");
}

/// Parameters of reference types the probe builds without a function: `extern` (an i31
/// converted), an array type (empty), a struct type with default fields, a struct type with
/// non-nullable reference fields (built field by field), the abstract `struct` and `array`
/// (one of the module's own types), and a function type returning a non-nullable `extern`
/// (its dummy builds one); and a probed function returning that struct (its prologue builds
/// one).
#[test]
fn extern_array_and_struct_parameters_get_built_values() {
    let input = wat(&format!(
        r#"(component
  (core module $m {PROBE_BUILT_ARGUMENTS})
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "run") (result u32) (canon lift (core func $i "run"))))"#
    ));
    let out = check(&snapshotter("init"), &input, "init", &["run()"]);
    assert_eq!(Running::new(&out).call("run()"), "[U32(13)]");
}

#[test]
fn unbuildable_parameter_is_refused_by_name() {
    let input = wat(r#"
(component
  (core module $m
    (type $holds (struct (field (ref $holds))))
    (type $takes (func (param (ref $holds))))
    (table $t 1 funcref)
    (func $f (type $takes))
    (elem declare func $f)
    (func (export "init") (table.set $t (i32.const 0) (ref.func $f))))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
)"#);
    let msg = format!("{:#}", snapshotter("init").snapshot(&input).unwrap_err());
    assert!(
        msg.contains("function 0 takes a non-nullable reference parameter"),
        "{msg}"
    );
    assert!(msg.contains("dfs id 0"), "{msg}");
}

/// Functions that take and return a value no probe can build, put in a table by an active
/// segment only: no code writes the table, so nothing is probed, no prologue has to return
/// such a value, and the table is snapshotted as it is.
#[test]
fn unbuildable_values_in_a_table_no_code_writes_are_fine() {
    let input = wat(r#"
(component
  (core module $m
    (type $holds (struct (field (ref $holds))))
    (type $takes (func (param (ref $holds)) (result (ref $holds))))
    (type $r (func (result i32)))
    (table $t 2 funcref)
    (global $g (mut i32) (i32.const 0))
    (func $f (type $takes) (local.get 0))
    (func $seven (type $r) (i32.add (global.get $g) (i32.const 7)))
    (elem (i32.const 0) func $f $seven)
    (func (export "init") (global.set $g (i32.const 10)))
    (func (export "run") (result i32) (call_indirect $t (type $r) (i32.const 1))))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "run") (result u32) (canon lift (core func $i "run")))
)"#);
    let out = check(&snapshotter("init"), &input, "init", &["run()"]);
    assert_eq!(Running::new(&out).call("run()"), "[U32(17)]");
}

/// A struct type whose value takes more nested values than the probe tries (4^15): it gives
/// up after a bounded number and refuses the function by name.
#[test]
fn struct_too_large_to_build_is_refused_by_name() {
    let input = wat(&format!(
        r#"(component
  (core module $m
    {types}
    (type $takes (func (param (ref $t0))))
    (table $t 1 funcref)
    (func $f (type $takes))
    (elem declare func $f)
    (func (export "init") (table.set $t (i32.const 0) (ref.func $f))))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init"))))"#,
        types = common::wide_struct_types()
    ));
    let msg = format!("{:#}", snapshotter("init").snapshot(&input).unwrap_err());
    assert!(
        msg.contains("function 0 takes a non-nullable reference parameter"),
        "{msg}"
    );
}

#[test]
fn large_table_filled_in_a_loop_with_null_holes() {
    // 50 000 slots: four functions of two types, every seventh slot left null.
    let input = wat(r#"
(component
  (core module $m
    (type $ii (func (param i32) (result i32)))
    (type $ll (func (param i64) (result i64)))
    (table $t 0 funcref)
    (func $a (type $ii) (i32.add (local.get 0) (i32.const 1)))
    (func $b (type $ii) (i32.add (local.get 0) (i32.const 2)))
    (func $c (type $ll) (i64.add (local.get 0) (i64.const 3)))
    (func $d (type $ll) (i64.add (local.get 0) (i64.const 4)))
    (elem declare func $a $b $c $d)
    (func (export "init") (local $i i32)
      (drop (table.grow $t (ref.null func) (i32.const 50000)))
      (loop $l
        (if (i32.rem_u (local.get $i) (i32.const 7))
          (then
            (table.set $t (local.get $i)
              (select (result funcref)
                (select (result funcref) (ref.func $a) (ref.func $b) (i32.and (local.get $i) (i32.const 1)))
                (select (result funcref) (ref.func $c) (ref.func $d) (i32.and (local.get $i) (i32.const 1)))
                (i32.and (local.get $i) (i32.const 2))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const 50000)))))
    (func (export "sum") (result i64) (local $i i32) (local $s i64)
      (loop $l
        (if (i32.eqz (ref.is_null (table.get $t (local.get $i))))
          (then
            (if (i32.and (local.get $i) (i32.const 2))
              (then (local.set $s (i64.add (local.get $s)
                (i64.extend_i32_u (call_indirect $t (type $ii) (local.get $i) (local.get $i))))))
              (else (local.set $s (i64.add (local.get $s)
                (call_indirect $t (type $ll) (i64.extend_i32_u (local.get $i)) (local.get $i))))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (table.size $t))))
      (local.get $s)))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "sum") (result s64) (canon lift (core func $i "sum")))
)"#);
    check(&snapshotter("init"), &input, "init", &["sum()"]);
}

/// Found by the wasm-smith fuzz target: a function declared only by what the rewrite replaces
/// (an active element segment, a funcref global's initializer) and named by `ref.func` in
/// code stays declared.
#[test]
fn regression_ref_func_declared_only_by_a_replaced_active_segment() {
    let input = wat(r#"
(component
  (core module $m
    (type $v (func (result i32)))
    (table $t 1 funcref)
    (func $f (type $v) (i32.const 9))
    (func $g (type $v) (i32.const 4))
    (elem (i32.const 0) func $f)
    (elem declare func $g)
    (func (export "init") (table.set $t (i32.const 0) (ref.func $g)))
    (func (export "run") (result i32)
      (i32.add (call_ref $v (ref.func $f)) (call_indirect $t (type $v) (i32.const 0)))))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "run") (result u32) (canon lift (core func $i "run")))
)"#);
    let out = check(&snapshotter("init"), &input, "init", &["run()"]);
    assert_eq!(Running::new(&out).call("run()"), "[U32(13)]");
}

#[test]
fn regression_ref_func_declared_only_by_a_replaced_global_initializer() {
    let input = wat(r#"
(component
  (core module $m
    (type $v (func (result i32)))
    (global $g (mut funcref) (ref.func $f))
    (func $f (type $v) (i32.const 9))
    (func (export "init") (global.set $g (ref.null func)))
    (func (export "run") (result i32)
      (i32.add (call_ref $v (ref.func $f)) (ref.is_null (global.get $g)))))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "run") (result u32) (canon lift (core func $i "run")))
)"#);
    let out = check(&snapshotter("init"), &input, "init", &["run()"]);
    assert_eq!(Running::new(&out).call("run()"), "[U32(10)]");
}

/// A snapshot (kept init) can be snapshotted again: its restore exports are accepted, not
/// duplicated, and the second snapshot starts in the same state as the first.
#[test]
fn snapshot_of_a_snapshot() {
    let input = wat(r#"
(component
  (core module $b
    (type $v (func (result i32)))
    (table $private 1 funcref)
    (global $n (mut i32) (i32.const 0))
    (func (export "keep") (param funcref)
      (table.set $private (i32.const 0) (local.get 0))
      (global.set $n (i32.add (global.get $n) (i32.const 1))))
    (func (export "call") (result i32)
      (i32.add (global.get $n) (call_indirect $private (type $v) (i32.const 0)))))
  (core instance $ib (instantiate $b))
  (core module $a
    (type $v (func (result i32)))
    (import "b" "keep" (func $keep (param funcref)))
    (func $secret (type $v) (i32.const 1000))
    (elem declare func $secret)
    (func (export "init") (call $keep (ref.func $secret))))
  (core instance $ia (instantiate $a (with "b" (instance $ib))))
  (func (export "init") (canon lift (core func $ia "init")))
  (func (export "call") (result u32) (canon lift (core func $ib "call")))
)"#);
    let mut snap = snapshotter("init");
    snap.keep_init_func(true);
    let once = check(&snap, &input, "init", &["call()"]);
    assert_eq!(Running::new(&once).call("call()"), "[U32(1001)]");
    // Running init again on the snapshot registers the function a second time.
    let twice = check(&snap, &once, "init", &["call()"]);
    assert_eq!(Running::new(&twice).call("call()"), "[U32(1002)]");
}

/// A 64-bit table in a component, written by its owner and by an instance that imports it
/// (its own function in a slot of the owner's table).
#[test]
fn table64_shared_between_instances() {
    let input = wat(r#"
(component
  (core module $owner
    (type $r (func (result i32)))
    (table $t (export "tab") i64 2 funcref)
    (func $a (result i32) i32.const 10)
    (elem declare func $a)
    (func (export "init") (table.set $t (i64.const 1) (ref.func $a)))
    (func (export "call") (param i64) (result i32) (call_indirect $t (type $r) (local.get 0))))
  (core instance $o (instantiate $owner))
  (core module $user
    (import "o" "tab" (table $t i64 2 funcref))
    (func $b (result i32) i32.const 20)
    (elem declare func $b)
    (func (export "init") (table.set $t (i64.const 0) (ref.func $b))))
  (core instance $u (instantiate $user (with "o" (instance $o))))
  (core module $driver
    (import "o" "init" (func $oi)) (import "u" "init" (func $ui))
    (func (export "init") (call $oi) (call $ui)))
  (core instance $d (instantiate $driver (with "o" (instance $o)) (with "u" (instance $u))))
  (func (export "init") (canon lift (core func $d "init")))
  (func (export "call") (param "i" u64) (result s32) (canon lift (core func $o "call"))))
"#);
    check(
        &snapshotter("init"),
        &input,
        "init",
        &["call(0)", "call(1)"],
    );
}

/// Tables declared with an initializer expression: the nullable one loses its initializer,
/// so that its null slot stays null and Wasmtime folds its segments; the non-nullable one
/// keeps it, every slot being written after it.
#[test]
fn tables_with_initializer_expressions() {
    let input = wat(&format!(
        r#"(component
  (core module $m {TABLES_WITH_INITIALIZERS})
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "f") (param "i" u32) (result u32) (canon lift (core func $i "f")))
  (func (export "typed") (param "i" u32) (result u32) (canon lift (core func $i "typed")))
  (func (export "sizes") (result u32) (canon lift (core func $i "sizes"))))"#
    ));
    let calls = [
        "f(0)", "f(1)", "f(2)", "f(3)", "f(4)", "f(5)", "typed(0)", "typed(1)", "typed(2)",
        "typed(3)", "sizes()",
    ];
    let out = check(&snapshotter("init"), &input, "init", &calls);
    let mut snap = Running::new(&out);
    let got: Vec<String> = calls.iter().map(|c| snap.call(c)).collect();
    let want = ["1", "2", "0", "1", "3", "3", "3", "1", "1", "2", "64"];
    let want: Vec<String> = want.iter().map(|n| format!("[U32({n})]")).collect();
    assert_eq!(got, want);
    let inits = table_inits(&out);
    assert_eq!(inits, [false, true], "which tables keep an initializer");
    let (_, stats) = snapshotter("init").snapshot_with_stats(&input).unwrap();
    let funcref = stats.tables.iter().find(|t| t.table == 0).unwrap();
    assert_eq!((funcref.slots, funcref.nulls, funcref.folded), (6, 1, 5));
}

/// Whether each defined table of the output's modules has an initializer expression.
pub fn table_inits(bytes: &[u8]) -> Vec<bool> {
    let mut inits = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let wasmparser::Payload::TableSection(reader) = payload.unwrap() {
            for table in reader {
                let init = table.unwrap().init;
                inits.push(matches!(init, wasmparser::TableInit::Expr(_)));
            }
        }
    }
    inits
}
