//! Tests of the tree re-encoder: inserted module and component versions move the indices
//! `alias outer` references (one and two levels deep) and instantiations name, a removed
//! function export renumbers every later function reference (and drops its name), and the
//! prepended sink comes first and shifts the body's own types and functions.

use super::*;
use crate::model::Scope;
use crate::model::{parse, Model};
use wasmparser::{
    ComponentAlias, ComponentExternalKind, ComponentName, ComponentOuterAliasKind, Encoding,
    KnownCustom,
};

fn model(wat: &str) -> Model<'static> {
    let bytes = wat::parse_str(wat).expect("test WAT parses");
    parse(Box::leak(bytes.into_boxed_slice())).expect("test component is accepted")
}

fn module_bytes(wat: &str) -> Vec<u8> {
    wat::parse_str(wat).expect("test module parses")
}

/// Calls `f` with every payload that sits directly in a component body, and the body's
/// nesting depth (1 for the root).
fn for_each_body_payload(bytes: &[u8], mut f: impl FnMut(usize, &Payload)) {
    let mut stack: Vec<Encoding> = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.expect("output parses");
        match &payload {
            Payload::Version { encoding, .. } => {
                stack.push(*encoding);
                continue;
            }
            Payload::End(_) => {
                stack.pop();
                continue;
            }
            _ => {}
        }
        if stack.last() == Some(&Encoding::Component) {
            f(stack.len(), &payload);
        }
    }
}

/// Every `alias outer` of a component body: (depth, kind, count, index).
fn outer_aliases(bytes: &[u8]) -> Vec<(usize, ComponentOuterAliasKind, u32, u32)> {
    let mut out = Vec::new();
    for_each_body_payload(bytes, |depth, payload| {
        if let Payload::ComponentAliasSection(reader) = payload {
            for alias in reader.clone() {
                if let ComponentAlias::Outer { kind, count, index } = alias.unwrap() {
                    out.push((depth, kind, count, index));
                }
            }
        }
    });
    out
}

/// The module index of every core instantiation in the root body, in order.
fn root_instantiations(bytes: &[u8]) -> Vec<u32> {
    let mut out = Vec::new();
    for_each_body_payload(bytes, |depth, payload| {
        if let (1, Payload::InstanceSection(reader)) = (depth, payload) {
            for instance in reader.clone() {
                if let wasmparser::Instance::Instantiate { module_index, .. } = instance.unwrap() {
                    out.push(module_index);
                }
            }
        }
    });
    out
}

/// The root body's exports: (name, kind, index).
fn root_exports(bytes: &[u8]) -> Vec<(String, ComponentExternalKind, u32)> {
    let mut out = Vec::new();
    for_each_body_payload(bytes, |depth, payload| {
        if let (1, Payload::ComponentExportSection(reader)) = (depth, payload) {
            for export in reader.clone() {
                let export = export.unwrap();
                out.push((
                    export.name.full_name().into_owned(),
                    export.kind,
                    export.index,
                ));
            }
        }
    });
    out
}

/// The function items of the root body's inline-export instances: (name, index).
fn root_instance_funcs(bytes: &[u8]) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for_each_body_payload(bytes, |depth, payload| {
        if let (1, Payload::ComponentInstanceSection(reader)) = (depth, payload) {
            for instance in reader.clone() {
                if let wasmparser::ComponentInstance::FromExports(items) = instance.unwrap() {
                    for item in items.iter() {
                        if item.kind == ComponentExternalKind::Func {
                            out.push((item.name.full_name().into_owned(), item.index));
                        }
                    }
                }
            }
        }
    });
    out
}

/// The root body's component function names: (index, name).
fn root_func_names(bytes: &[u8]) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    for_each_body_payload(bytes, |depth, payload| {
        let (1, Payload::CustomSection(reader)) = (depth, payload) else {
            return;
        };
        let KnownCustom::ComponentName(names) = reader.as_known() else {
            return;
        };
        for subsection in names {
            if let ComponentName::Funcs(map) = subsection.unwrap() {
                for naming in map {
                    let naming = naming.unwrap();
                    out.push((naming.index, naming.name.to_string()));
                }
            }
        }
    });
    out
}

/// A root with two modules and a nested component that aliases the second one.
const OUTER_MODULE: &str = r#"
    (component
      (core module $a (func (export "f")))
      (core module $b (func (export "g")))
      (core instance (instantiate $a))
      (core instance (instantiate $b))
      (component $inner
        (alias outer 1 1 (core module $m))
        (export "m" (core module $m))
      )
    )"#;

/// `model`'s root re-encoded with `edit`; the result must validate.
fn reencode(model: &Model, edit: &BodyEdit) -> Vec<u8> {
    let out = edit_tree(model.bytes, edit).unwrap().into_bytes();
    crate::output::validate(&out).unwrap();
    out
}

/// `model`'s root re-encoded with `versions` copies of its first module in its place.
fn with_copies_of_module_0(model: &Model, versions: usize) -> Vec<u8> {
    let scope = &model.scopes[0];
    let mut edit = BodyEdit::new(scope);
    edit.modules[0].1 = vec![scope.modules[0].bytes.to_vec().into(); versions];
    reencode(model, &edit)
}

#[test]
fn module_versions_move_outer_aliases_and_instantiations() {
    let model = model(OUTER_MODULE);
    assert_eq!(
        outer_aliases(model.bytes),
        [(2, ComponentOuterAliasKind::CoreModule, 1, 1)],
        "the input names module 1"
    );
    let scope = &model.scopes[0];
    let a = scope.modules[0].bytes.to_vec();
    let variant = module_bytes(r#"(module (func (export "f")) (func (export "extra")))"#);
    let mut edit = BodyEdit::new(scope);
    edit.modules[0].1 = vec![a.into(), variant.into()];
    // Core instance 0 instantiates the second version of module 0.
    edit.module_version.insert(0, 1);
    let out = reencode(&model, &edit);

    assert_eq!(
        outer_aliases(&out),
        [(2, ComponentOuterAliasKind::CoreModule, 1, 2)],
        "module 1 moved to 2 behind the inserted version"
    );
    assert_eq!(root_instantiations(&out), [1, 2]);
    assert_eq!(edit.counts().modules, scope.counts.modules + 1);
}

#[test]
fn outer_alias_two_levels_deep_moves() {
    let model = model(
        r#"
        (component
          (core module $a (func (export "f")))
          (core module $b (func (export "g")))
          (component $mid
            (component $inner
              (alias outer 2 1 (core module $m))
              (export "m" (core module $m))
            )
          )
        )"#,
    );
    let out = with_copies_of_module_0(&model, 3);
    assert_eq!(
        outer_aliases(&out),
        [(3, ComponentOuterAliasKind::CoreModule, 2, 3)],
        "two inserted versions move module 1 to 3, seen two bodies out"
    );
}

#[test]
fn outer_alias_of_the_own_body_is_not_moved_by_the_parent() {
    // `alias outer 0` names the body's own space: the root's insertions must not touch it,
    // while `alias outer 1` of the same index does move.
    let model = model(
        r#"
        (component
          (core module $a)
          (core module $b)
          (component $inner
            (core module $own)
            (core module $own2)
            (alias outer 0 1 (core module $self))
            (alias outer 1 1 (core module $parent))
            (export "s" (core module $self))
            (export "p" (core module $parent))
          )
        )"#,
    );
    let out = with_copies_of_module_0(&model, 2);
    assert_eq!(
        outer_aliases(&out),
        [
            (2, ComponentOuterAliasKind::CoreModule, 0, 1),
            (2, ComponentOuterAliasKind::CoreModule, 1, 2),
        ]
    );
}

#[test]
fn component_versions_move_outer_component_aliases() {
    let model = model(
        r#"
        (component
          (component $x)
          (component $z)
          (component $y
            (alias outer 1 1 (component $c))
            (export "c" (component $c))
          )
        )"#,
    );
    let scope = &model.scopes[0];
    let x_scope = scope.components[0].1;
    let mut edit = BodyEdit::new(scope);
    edit.components[0].1 = vec![
        BodyEdit::new(&model.scopes[x_scope]),
        BodyEdit::new(&model.scopes[x_scope]),
    ];
    assert_eq!(edit.counts().components, scope.counts.components + 1);
    let moved = [(2, ComponentOuterAliasKind::Component, 1, 2)];
    assert_eq!(outer_aliases(&reencode(&model, &edit)), moved);
}

#[test]
fn sink_moves_outer_type_aliases() {
    let model = model(
        r#"
        (component
          (type $t (func))
          (component $inner
            (alias outer 1 0 (type $tt))
            (import "f" (func (type $tt)))
          )
        )"#,
    );
    let mut edit = BodyEdit::new(&model.scopes[0]);
    edit.sink = true;
    let out = reencode(&model, &edit);
    assert_eq!(
        outer_aliases(&out),
        [(2, ComponentOuterAliasKind::Type, 1, 2)],
        "the sink's two types go before type 0"
    );
}

/// Func space: 0 `$f`, 1 export "a", 2 `$g`, 3 export "b", 4 export "c".
const EXPORTS: &str = r#"
    (component
      (core module $m (func (export "f")) (func (export "g")))
      (core instance $i (instantiate $m))
      (type $t (func))
      (alias core export $i "f" (core func $cf))
      (alias core export $i "g" (core func $cg))
      (func $f (type $t) (canon lift (core func $cf)))
      (export $ea "a" (func $f))
      (func $g (type $t) (canon lift (core func $cg)))
      (export $eb "b" (func $g))
      (export "c" (func $ea))
      (instance $inst (export "x" (func $g)) (export "y" (func $ea)))
      (export "i" (instance $inst))
    )"#;

fn removal(scope: &Scope, name: &str) -> ExportRemoval {
    let export = scope.exports.iter().find(|e| e.name == name).unwrap();
    ExportRemoval {
        name: name.into(),
        entry: export.entry,
        target: export.index,
    }
}

#[test]
fn removing_an_export_renumbers_later_functions() {
    let model = model(EXPORTS);
    let scope = &model.scopes[0];
    let removal = removal(scope, "a");
    assert_eq!((removal.entry, removal.target), (1, 0));
    assert!(root_func_names(model.bytes).contains(&(1, "ea".into())));

    let mut edit = BodyEdit::new(scope);
    edit.remove_export = Some(removal);
    let out = reencode(&model, &edit);

    let func = ComponentExternalKind::Func;
    let exports = root_exports(&out);
    assert_eq!(
        exports,
        [
            ("b".into(), func, 1),
            ("c".into(), func, 0),
            ("i".into(), ComponentExternalKind::Instance, 0),
        ],
        "`b` (was 2) moves down, `c` (named the removed entry) goes to its target"
    );
    assert_eq!(
        root_instance_funcs(&out),
        [("x".into(), 1), ("y".into(), 0)]
    );
    let names = root_func_names(&out);
    assert!(
        names.iter().all(|(_, n)| n != "ea"),
        "the removed entry's name goes: {names:?}"
    );
    assert!(names.contains(&(0, "f".into())), "{names:?}");
    assert!(names.contains(&(1, "g".into())), "{names:?}");
    assert!(names.contains(&(2, "eb".into())), "{names:?}");
    assert_eq!(
        edit.counts().component_funcs,
        scope.counts.component_funcs - 1
    );
}

#[test]
fn removing_a_missing_export_is_an_error() {
    let model = model(EXPORTS);
    let mut edit = BodyEdit::new(&model.scopes[0]);
    edit.remove_export = Some(ExportRemoval {
        name: "nope".into(),
        entry: 1,
        target: 0,
    });
    let err = edit_tree(model.bytes, &edit).unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn sink_comes_first_and_shifts_types_and_funcs() {
    let wat = r#"
        (component
          (type $t (func))
          (import "x" (func $x (type $t)))
          (export "y" (func $x))
          (core module $m)
        )"#;
    let model = model(wat);
    let scope = &model.scopes[0];
    let mut edit = BodyEdit::new(scope);
    edit.sink = true;
    let out = reencode(&model, &edit);

    let mut sections = Vec::new();
    for_each_body_payload(&out, |depth, payload| {
        if depth != 1 {
            return;
        }
        match payload {
            Payload::ComponentTypeSection(r) => sections.push(format!("types {}", r.count())),
            Payload::ComponentImportSection(r) => {
                for import in r.clone() {
                    let import = import.unwrap();
                    let ty = match import.ty {
                        wasmparser::ComponentTypeRef::Func(t) => t,
                        other => panic!("unexpected import type {other:?}"),
                    };
                    sections.push(format!("import {} {ty}", import.name.full_name()));
                }
            }
            _ => {}
        }
    });
    assert_eq!(
        sections,
        [
            "types 2".to_string(),
            format!("import {SINK_IMPORT} 1"),
            "types 1".into(),
            "import x 2".into(),
        ]
    );
    assert_eq!(
        root_exports(&out),
        [("y".into(), ComponentExternalKind::Func, 1)],
        "the import `x` moved from func 0 to 1"
    );
    let counts = edit.counts();
    assert_eq!(counts.component_types, scope.counts.component_types + 2);
    assert_eq!(counts.component_funcs, scope.counts.component_funcs + 1);
}

#[test]
fn sink_and_export_removal_compose() {
    let model = model(EXPORTS);
    let scope = &model.scopes[0];
    let mut edit = BodyEdit::new(scope);
    edit.sink = true;
    edit.remove_export = Some(removal(scope, "a"));
    let out = reencode(&model, &edit);
    let func = ComponentExternalKind::Func;
    assert_eq!(
        root_exports(&out),
        [
            ("b".into(), func, 2),
            ("c".into(), func, 1),
            ("i".into(), ComponentExternalKind::Instance, 0),
        ],
        "removal first (2 → 1, 1 → 0), then the sink import at 0 (+1)"
    );
    assert_eq!(edit.counts().component_funcs, scope.counts.component_funcs);
}

#[test]
fn unchanged_edit_round_trips() {
    let model = model(OUTER_MODULE);
    let edit = BodyEdit::new(&model.scopes[0]);
    let out = reencode(&model, &edit);
    assert_eq!(
        outer_aliases(&out),
        [(2, ComponentOuterAliasKind::CoreModule, 1, 1)]
    );
    assert_eq!(root_instantiations(&out), [0, 1]);
    assert_eq!(edit.counts(), model.scopes[0].counts);
}
