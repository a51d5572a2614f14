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

/// What item `index` of `kind` of instance `of` (a core instance index in `WIRING`)
/// resolves to.
fn wired(of: u32, kind: ExternalKind, index: u32) -> Source {
    let model = model(WIRING);
    let scope = &model.scopes[0];
    resolve(scope, local(scope, of), kind, index).unwrap()
}

/// Item `index` defined by instance `of` of `WIRING`.
fn defined_by(of: u32, index: u32) -> Source {
    let model = model(WIRING);
    let dfs = local(&model.scopes[0], of);
    Source::Defined { dfs, index }
}

#[test]
fn imports_resolve_through_the_wiring() {
    use ExternalKind::{Func, FuncExact, Table};
    assert_eq!(
        defined_by(A, 1),
        Source::Defined { dfs: 1, index: 1 },
        "the provider is not local id 0"
    );
    let cases = [
        (A, Func, 1, defined_by(A, 1), "a defined item is itself"),
        (
            C,
            Func,
            1,
            defined_by(C, 1),
            "`$C`'s own function after its import",
        ),
        (
            D,
            Func,
            0,
            defined_by(A, 1),
            "an alias in an inline-export instance",
        ),
        (B, Func, 0, defined_by(A, 1), "one hop"),
        (
            C,
            Func,
            0,
            defined_by(A, 1),
            "a re-export chain of two hops",
        ),
        (
            C,
            FuncExact,
            0,
            defined_by(A, 1),
            "an exact function import",
        ),
        (
            E,
            Func,
            1,
            Source::Canon { core_func: 1 },
            "a lowered component import",
        ),
        (
            E,
            Func,
            0,
            defined_by(A, 1),
            "the same inline instance as `$d`'s",
        ),
        (T, Table, 0, defined_by(A, 1), "a table import"),
    ];
    for (of, kind, index, expected, case) in cases {
        assert_eq!(wired(of, kind, index), expected, "{case}");
    }
    // Core func space: 0 the alias `$af`, 1 the lowered `$host`.
    assert!(matches!(
        model(WIRING).scopes[0].core_funcs[1],
        ItemOrigin::Canon
    ));
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
