//! Modules and components that reach the scope instantiating them through an alias or an
//! import (`alias outer`, an export of another instance, a nested component's import its
//! parent satisfies): compsnap follows each to its definition, copies it into that scope
//! and snapshots it like any other. Each case checks the snapshot's calls and core state
//! against the original after init.

mod common;

use common::{check, snapshotter, wat};

/// A module whose init leaves 7 in a global and 42 in memory; `get` answers 49 after it.
const MODULE: &str = r#"
    (core module $m
      (memory (export "mem") 1)
      (global $g (mut i32) (i32.const 0))
      (func (export "init") (global.set $g (i32.const 7)) (i32.store (i32.const 8) (i32.const 42)))
      (func (export "get") (result i32) (i32.add (global.get $g) (i32.load (i32.const 8)))))"#;

/// The core module type of [`MODULE`].
const MODULE_TYPE: &str = r#"
    (core type $mt (module
      (export "mem" (memory 1))
      (export "init" (func))
      (export "get" (func (result i32)))))"#;

/// `$c`: a component that imports a module of [`MODULE_TYPE`] as "m", instantiates it and
/// lifts its `init` and `get`.
fn importer() -> String {
    format!(
        r#"(component $c
    {MODULE_TYPE}
    (import "m" (core module $im (type $mt)))
    (core instance $i (instantiate $im))
    {LIFTS})"#
    )
}

/// Lifts `init` and `get` of core instance `$i`.
const LIFTS: &str = r#"
    (func (export "init") (canon lift (core func $i "init")))
    (func (export "get") (result u32) (canon lift (core func $i "get")))"#;

/// The root's exports, from component instance `$ci`.
const ROOT_EXPORTS: &str = r#"
  (alias export $ci "init" (func $init))
  (alias export $ci "get" (func $get))
  (export "init" (func $init))
  (export "get" (func $get))"#;

fn snapshot_checks(input: &str) -> Vec<u8> {
    let input = wat(input);
    check(&snapshotter("init"), &input, "init", &["get()"])
}

#[test]
fn a_nested_component_instantiates_its_parents_module_through_alias_outer() {
    snapshot_checks(&format!(
        r#"(component $root
  {MODULE}
  (component $c
    (alias outer $root $m (core module $mm))
    (core instance $i (instantiate $mm))
    {LIFTS})
  (instance $ci (instantiate $c))
  {ROOT_EXPORTS})"#
    ));
}

#[test]
fn a_module_exported_by_another_instance_is_instantiated() {
    snapshot_checks(&format!(
        r#"(component
  (component $lib
    {MODULE}
    (export "m" (core module $m)))
  (instance $l (instantiate $lib))
  (alias export $l "m" (core module $lm))
  (component $c
    (import "m" (core module $im {MODULE_TYPE_REF}))
    (core instance $i (instantiate $im))
    {LIFTS})
  (instance $ci (instantiate $c (with "m" (core module $lm))))
  {ROOT_EXPORTS})"#,
        MODULE_TYPE_REF = r#"(export "mem" (memory 1)) (export "init" (func)) (export "get" (func (result i32)))"#
    ));
}

#[test]
fn the_root_instantiates_a_module_another_instance_exports() {
    snapshot_checks(&format!(
        r#"(component
  (component $lib
    {MODULE}
    (export "m" (core module $m)))
  (instance $l (instantiate $lib))
  (alias export $l "m" (core module $lm))
  (core instance $i (instantiate $lm))
  {LIFTS})"#
    ));
}

#[test]
fn a_nested_components_module_import_is_the_parents_definition() {
    snapshot_checks(&format!(
        r#"(component
  {MODULE}
  {importer}
  (instance $ci (instantiate $c (with "m" (core module $m))))
  {ROOT_EXPORTS})"#,
        importer = importer()
    ));
}

#[test]
fn an_exported_module_entry_is_instantiated_in_its_own_scope() {
    snapshot_checks(&format!(
        r#"(component
  (component $c
    {MODULE}
    (export $e "m" (core module $m))
    (core instance $i (instantiate $e))
    {LIFTS})
  (instance $ci (instantiate $c))
  {ROOT_EXPORTS})"#
    ));
}

/// A component with a module and its lifts, no outer aliases.
fn leaf() -> String {
    format!(
        r#"(component $leaf
    {MODULE}
    (core instance $i (instantiate $m))
    {LIFTS})"#
    )
}

#[test]
fn a_nested_component_instantiates_its_parents_component_through_alias_outer() {
    snapshot_checks(&format!(
        r#"(component $root
  {leaf}
  (component $mid
    (alias outer $root $leaf (component $l))
    (instance $li (instantiate $l))
    (alias export $li "init" (func $init))
    (alias export $li "get" (func $get))
    (export "init" (func $init))
    (export "get" (func $get)))
  (instance $ci (instantiate $mid))
  {ROOT_EXPORTS})"#,
        leaf = leaf()
    ));
}

#[test]
fn a_nested_components_component_import_is_the_parents_definition() {
    snapshot_checks(&format!(
        r#"(component
  {leaf}
  (component $mid
    (import "c" (component $l
      (export "init" (func))
      (export "get" (func (result u32)))))
    (instance $li (instantiate $l))
    (alias export $li "init" (func $init))
    (alias export $li "get" (func $get))
    (export "init" (func $init))
    (export "get" (func $get)))
  (instance $ci (instantiate $mid (with "c" (component $leaf))))
  {ROOT_EXPORTS})"#,
        leaf = leaf()
    ));
}

/// A module of [`MODULE`]'s type whose `get` answers 5 (its init is never called).
const OTHER: &str = r#"(core module $other
    (memory (export "mem") 1)
    (global $g (mut i32) (i32.const 5))
    (func (export "init") (global.set $g (i32.const 11)))
    (func (export "get") (result i32) (global.get $g)))"#;

/// The root's exports: [`ROOT_EXPORTS`] from `$ci`, and `get2` from `$cj`.
const GET2: &str = r#"(alias export $cj "get" (func $get2))
  (export "get2" (func $get2))
  (alias export $ci "init" (func $init))
  (alias export $ci "get" (func $get))
  (export "init" (func $init))
  (export "get" (func $get))"#;

/// The snapshot answers as the original after init: 49 from `$ci`'s module, 5 from `$cj`'s.
fn check_both(input: &[u8]) {
    let out = check(&snapshotter("init"), input, "init", &["get()", "get2()"]);
    let mut running = common::Running::new(&out);
    assert_eq!(running.call("get()"), "[U32(49)]");
    assert_eq!(running.call("get2()"), "[U32(5)]");
}

/// A component that imports a module and is instantiated with two different ones: it gets
/// one version per module, each instantiation names its own, and both keep their state.
#[test]
fn different_modules_for_one_import_give_two_versions() {
    let input = wat(&format!(
        r#"(component
  {MODULE}
  {OTHER}
  {importer}
  (instance $cj (instantiate $c (with "m" (core module $other))))
  (instance $ci (instantiate $c (with "m" (core module $m))))
  {GET2})"#,
        importer = importer()
    ));
    check_both(&input);
}

/// The same, one level down: the component that imports the module is instantiated once in a
/// component that is itself instantiated twice, with different modules. The middle component
/// is split into two versions first, then each copy of the inner one gets its module.
#[test]
fn different_modules_two_levels_down_give_two_versions_of_each() {
    let input = wat(&format!(
        r#"(component
  {MODULE}
  {OTHER}
  (component $p
    {MODULE_TYPE}
    (import "m" (core module $pm (type $mt)))
    {importer}
    (instance $inner (instantiate $c (with "m" (core module $pm))))
    (alias export $inner "init" (func $init))
    (alias export $inner "get" (func $get))
    (export "init" (func $init))
    (export "get" (func $get)))
  (instance $cj (instantiate $p (with "m" (core module $other))))
  (instance $ci (instantiate $p (with "m" (core module $m))))
  {GET2})"#,
        importer = importer()
    ));
    check_both(&input);
}

/// The copied component names a type of the root through `alias outer`: in its copy, one
/// level deeper, the alias counts one more level.
#[test]
fn a_copied_component_keeps_naming_the_types_around_it() {
    snapshot_checks(&format!(
        r#"(component $root
  (type $get-type (func (result u32)))
  (component $leaf
    (alias outer $root $get-type (type $gt))
    {MODULE}
    (core instance $i (instantiate $m))
    (func (export "init") (canon lift (core func $i "init")))
    (func (export "get") (type $gt) (canon lift (core func $i "get"))))
  (component $mid
    (alias outer $root $leaf (component $l))
    (instance $li (instantiate $l))
    (alias export $li "init" (func $init))
    (alias export $li "get" (func $get))
    (export "init" (func $init))
    (export "get" (func $get)))
  (instance $ci (instantiate $mid))
  {ROOT_EXPORTS})"#
    ));
}

/// A module exported by an instance that is itself an export of another instance, handed to
/// a nested component as an instance import.
#[test]
fn a_module_reached_through_instances_of_instances() {
    snapshot_checks(&format!(
        r#"(component
  (component $lib
    (component $inner
      {MODULE}
      (export "m" (core module $m)))
    (instance $in (instantiate $inner))
    (export "inner" (instance $in)))
  (instance $l (instantiate $lib))
  (alias export $l "inner" (instance $li))
  (component $c
    (import "lib" (instance $imp
      (export "m" (core module {MODULE_TYPE_REF}))))
    (alias export $imp "m" (core module $im))
    (core instance $i (instantiate $im))
    {LIFTS})
  (instance $ci (instantiate $c (with "lib" (instance $li))))
  {ROOT_EXPORTS})"#,
        MODULE_TYPE_REF = r#"(export "mem" (memory 1)) (export "init" (func)) (export "get" (func (result i32)))"#
    ));
}
