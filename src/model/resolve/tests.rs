//! Tests of import resolution: imports followed through `alias core export` items of
//! inline-export instances, re-export chains across instances, `canon lower`ed component
//! imports, table imports, and imports whose module no argument supplies.

use super::*;
use crate::model::Model;

fn model(wat: &str) -> Model<'static> {
    let bytes = wat::parse_str(wat).expect("test WAT parses");
    crate::model::parse(Box::leak(bytes.into_boxed_slice()))
        .unwrap_or_else(|e| panic!("test component is refused: {e:#}"))
}

/// Local id of the instance at core instance index `index`.
fn local(scope: &Scope, index: u32) -> u32 {
    scope
        .instances
        .iter()
        .find(|i| i.core_instance_index == index)
        .expect("an instantiation")
        .dfs
}

/// Local ids 0 `$pad` (unrelated), 1 `$a` (defines function 1 "f" and table 1 "t"), 2 `$b`
/// (re-exports `$a`'s "f"), 3 `$c` (imports "f" from `$b`), 4 `$d` (imports "f" from an
/// inline-export instance of an alias of `$a`'s "f"), 5 `$e` (imports a lowered component
/// import), 6 `$t` (imports `$a`'s table).
const WIRING: &str = r#"
    (component
      (import "host" (func $host))
      (core module $Pad (func (export "p")))
      (core module $A
        (func)
        (func (export "f"))
        (table 1 funcref)
        (table (export "t") 2 funcref))
      (core module $B
        (import "a" "f" (func $f))
        (export "f" (func $f)))
      (core module $C
        (import "b" "f" (func))
        (func))
      (core module $D (import "x" "f" (func)))
      (core module $E
        (import "x" "f" (func))
        (import "y" "h" (func)))
      (core module $T
        (import "a" "t" (table 1 funcref)))

      (core instance $pad (instantiate $Pad))
      (core instance $a (instantiate $A))
      (core instance $b (instantiate $B (with "a" (instance $a))))
      (core instance $c (instantiate $C (with "b" (instance $b))))
      (alias core export $a "f" (core func $af))
      (core instance $x (export "f" (func $af)))
      (core instance $d (instantiate $D (with "x" (instance $x))))
      (core func $lowered (canon lower (func $host)))
      (core instance $y (export "h" (func $lowered)))
      (core instance $e (instantiate $E (with "x" (instance $x)) (with "y" (instance $y))))
      (core instance $t (instantiate $T (with "a" (instance $a))))
    )"#;

/// Core instance indices in `WIRING`.
const A: u32 = 1;
const B: u32 = 2;
const C: u32 = 3;
const D: u32 = 5;
const E: u32 = 7;
const T: u32 = 8;

#[test]
fn defined_items_resolve_to_themselves() {
    let model = model(WIRING);
    let scope = &model.scopes[0];
    let a = local(scope, A);
    assert_eq!(
        resolve(scope, a, ExternalKind::Func, 1).unwrap(),
        Source::Defined { dfs: a, index: 1 }
    );
    // `$C`'s import is function 0, its own function 1.
    let c = local(scope, C);
    assert_eq!(
        resolve(scope, c, ExternalKind::Func, 1).unwrap(),
        Source::Defined { dfs: c, index: 1 }
    );
}

#[test]
fn alias_in_an_inline_export_instance_resolves_to_the_provider() {
    let model = model(WIRING);
    let scope = &model.scopes[0];
    let (a, d) = (local(scope, A), local(scope, D));
    assert_eq!(a, 1, "the provider is not local id 0");
    assert_eq!(
        resolve(scope, d, ExternalKind::Func, 0).unwrap(),
        Source::Defined { dfs: a, index: 1 }
    );
}

#[test]
fn re_export_chain_resolves_to_the_definition() {
    let model = model(WIRING);
    let scope = &model.scopes[0];
    let (a, b, c) = (local(scope, A), local(scope, B), local(scope, C));
    let expected = Source::Defined { dfs: a, index: 1 };
    assert_eq!(resolve(scope, b, ExternalKind::Func, 0).unwrap(), expected);
    assert_eq!(resolve(scope, c, ExternalKind::Func, 0).unwrap(), expected);
}

#[test]
fn func_exact_resolves_like_func() {
    let model = model(WIRING);
    let scope = &model.scopes[0];
    let (a, c) = (local(scope, A), local(scope, C));
    assert_eq!(
        resolve(scope, c, ExternalKind::FuncExact, 0).unwrap(),
        Source::Defined { dfs: a, index: 1 }
    );
}

#[test]
fn lowered_component_import_resolves_to_its_canon_func() {
    let model = model(WIRING);
    let scope = &model.scopes[0];
    let e = local(scope, E);
    // Core func space: 0 the alias `$af`, 1 the lowered `$host`.
    assert!(matches!(scope.core_funcs[1], ItemOrigin::Canon));
    assert_eq!(
        resolve(scope, e, ExternalKind::Func, 1).unwrap(),
        Source::Canon { core_func: 1 }
    );
    // Its other import, through the same inline instance as `$d`'s, is still `$a`'s.
    assert_eq!(
        resolve(scope, e, ExternalKind::Func, 0).unwrap(),
        Source::Defined {
            dfs: local(scope, A),
            index: 1
        }
    );
}

#[test]
fn table_import_resolves_to_the_owners_table() {
    let model = model(WIRING);
    let scope = &model.scopes[0];
    let (a, t) = (local(scope, A), local(scope, T));
    assert_eq!(
        resolve(scope, t, ExternalKind::Table, 0).unwrap(),
        Source::Defined { dfs: a, index: 1 }
    );
}

#[test]
fn unsupplied_import_module_is_an_error() {
    let model = model(WIRING);
    let mut scope = model.scopes[0].clone();
    let c = local(&scope, C);
    // A valid component supplies every import; drop the argument to get the case.
    scope.instances[c as usize].args.clear();
    let err = resolve(&scope, c, ExternalKind::Func, 0).unwrap_err();
    assert!(err.to_string().contains("'b'"), "{err}");
    assert!(err.to_string().contains("not supplied"), "{err}");
}

#[test]
fn missing_import_index_is_an_error() {
    let model = model(WIRING);
    let mut scope = model.scopes[0].clone();
    let d = local(&scope, D);
    // `$D` has one function import; claim a second.
    let module = scope.instances[d as usize].module;
    scope.modules[module].imported_funcs = 2;
    assert!(resolve(&scope, d, ExternalKind::Func, 1).is_err());
}

#[test]
fn resolution_inside_a_nested_scope_uses_local_ids() {
    let model = model(
        r#"
        (component
          (core module $Pad)
          (core instance (instantiate $Pad))
          (component $inner
            (core module $A (func) (func (export "f")))
            (core module $B (import "a" "f" (func)))
            (core instance $a (instantiate $A))
            (core instance $b (instantiate $B (with "a" (instance $a))))
          )
          (instance (instantiate $inner))
        )"#,
    );
    let inner = &model.scopes[1];
    assert_eq!(
        model.nodes[1].dfs,
        [1, 2],
        "global DFS ids differ from local ids"
    );
    assert_eq!(
        resolve(inner, 1, ExternalKind::Func, 0).unwrap(),
        Source::Defined { dfs: 0, index: 1 }
    );
}
