//! Tests of the table-writer choice: the owner writes what it can name (folded, in
//! function-index segments split at null holes), an importing instance writes what only it can
//! name, the restore module gets the rest (with the exports it needs), and an instance's
//! foldable segments come before all its others.

use super::*;
use crate::encode::module::edit_module;
use crate::model::Model;
use crate::snapshot::TableState;

fn model(wat: &str) -> Model<'static> {
    let bytes = wat::parse_str(wat).expect("test WAT parses");
    crate::model::parse(Box::leak(bytes.into_boxed_slice())).expect("test component is accepted")
}

fn defined(dfs: u32, index: u32) -> Option<Source> {
    Some(Source::Defined { dfs, index })
}

fn table(index: u32, slots: Vec<Option<Source>>) -> TableState {
    TableState { index, slots }
}

fn state(tables: Vec<TableState>) -> InstanceState<'static> {
    InstanceState {
        tables,
        ..Default::default()
    }
}

struct Written<'e> {
    reports: Vec<TableReport>,
    edits: Vec<ModuleEdit<'e>>,
    restore: RestorePlan,
}

/// Runs `write_tables` on the root scope with `states` (by local id).
fn write<'e>(scope: &Scope, states: &[InstanceState]) -> Written<'e> {
    let names = FuncNames::new(scope).unwrap();
    let mut edits: Vec<ModuleEdit> = scope.instances.iter().map(|_| Default::default()).collect();
    let mut restore = RestorePlan::default();
    let states: Vec<&InstanceState> = states.iter().collect();
    let reports = write_tables(scope, &states, &names, &mut edits, &mut restore).unwrap();
    Written {
        reports,
        edits,
        restore,
    }
}

/// Applies each edit to its instance's module and validates the result.
fn validate_modules(scope: &Scope, edits: Vec<ModuleEdit>) {
    for (instance, edit) in scope.instances.iter().zip(edits) {
        let bytes = edit_module(scope.module_of(instance.dfs).bytes, edit)
            .unwrap()
            .into_bytes();
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(&bytes)
            .unwrap_or_else(|e| panic!("instance {}: {e}", instance.dfs));
    }
}

/// Local ids: 0 `$o` owns table 0 (8 slots) and defines functions 1 "fo" and 2 "fo2" after
/// importing a lowered host function (0); 1 `$t` defines function 1 "ft", which nobody
/// imports; 2 `$i` imports `$t`'s table (0) and `$o`'s (1), `$o`'s "fo" (function 0), and
/// defines function 1 "fi".
const WRITERS: &str = r#"
    (component
      (import "host" (func $host))
      (core func $lowered (canon lower (func $host)))
      (core instance $h (export "h" (func $lowered)))
      (core module $O
        (import "h" "h" (func))
        (table (export "t") 8 funcref)
        (func (export "fo"))
        (func (export "fo2")))
      (core module $T
        (table (export "tt") 1 funcref)
        (func)
        (func (export "ft")))
      (core module $I
        (import "t" "tt" (table 1 funcref))
        (import "o" "t" (table 8 funcref))
        (import "o" "fo" (func))
        (func (export "fi")))
      (core instance $o (instantiate $O (with "h" (instance $h))))
      (core instance $t (instantiate $T))
      (core instance $i (instantiate $I (with "o" (instance $o)) (with "t" (instance $t))))
    )"#;

const O: u32 = 0;
const T: u32 = 1;
const I: u32 = 2;

fn writers_states() -> Vec<InstanceState<'static>> {
    let slots = vec![
        defined(O, 2),                        // 0: the owner's own
        defined(O, 2),                        // 1: the owner's own
        None,                                 // 2: a hole
        defined(I, 1),                        // 3: only the importer can name it
        defined(T, 1),                        // 4: nobody who can write the table names it
        defined(O, 1),                        // 5: the owner's own, imported by `$i` too
        Some(Source::Canon { core_func: 0 }), // 6: imported by the owner
        defined(T, 1),                        // 7: as 4
    ];
    vec![state(vec![table(0, slots)]), state(vec![]), state(vec![])]
}

#[test]
fn each_slot_goes_to_the_first_writer_that_can_name_it() {
    let model = model(WRITERS);
    let scope = &model.scopes[0];
    assert_eq!(
        scope
            .instances
            .iter()
            .map(|i| i.core_instance_index)
            .collect::<Vec<_>>(),
        [1, 2, 3],
        "fixture layout"
    );
    let Written {
        reports,
        edits,
        restore,
    } = write(scope, &writers_states());

    assert_eq!(
        reports,
        [TableReport {
            dfs: O,
            table: 0,
            slots: 8,
            nulls: 1,
            folded: 4,
            by_others: 3,
        }]
    );
    assert_eq!(edits[O as usize].table_mins.get(&0), Some(&8));

    // The owner: two runs, split at the hole (slot 2) and at the slots others write (3, 4).
    assert_eq!(
        edits[O as usize].active_elems.as_deref(),
        Some(
            &[
                ElemSegment::ActiveFuncs {
                    table: 0,
                    offset: 0,
                    funcs: vec![2, 2],
                },
                ElemSegment::ActiveFuncs {
                    table: 0,
                    offset: 5,
                    funcs: vec![1, 0],
                },
            ][..]
        )
    );
    // The importer writes slot 3 through its own index of the table (1) and of the function.
    assert_eq!(
        edits[I as usize].active_elems.as_deref(),
        Some(
            &[ElemSegment::ActiveFuncs {
                table: 1,
                offset: 3,
                funcs: vec![1],
            }][..]
        )
    );
    assert!(
        edits[T as usize].active_elems.is_none(),
        "`$t` writes nothing"
    );

    // Slots 4 and 7 go to the restore module, which needs the function and the table
    // exported, once each.
    assert!(!restore.is_empty());
    assert_eq!(
        edits[T as usize].extra_exports,
        [(restore_export("func", 1), ExportKind::Func, 1)]
    );
    assert_eq!(
        edits[O as usize].extra_exports,
        [(restore_export("table", 0), ExportKind::Table, 0)]
    );
    assert!(edits[I as usize].extra_exports.is_empty());

    validate_modules(scope, edits);
}

#[test]
fn a_table_every_writer_can_fill_needs_no_restore() {
    let model = model(WRITERS);
    let scope = &model.scopes[0];
    let slots = vec![defined(O, 1), None, None, defined(I, 1)];
    let states = vec![state(vec![table(0, slots)]), state(vec![]), state(vec![])];
    let Written {
        reports,
        edits,
        restore,
    } = write(scope, &states);
    assert!(restore.is_empty());
    assert!(edits.iter().all(|e| e.extra_exports.is_empty()));
    assert_eq!(
        (reports[0].folded, reports[0].nulls, reports[0].by_others),
        (1, 2, 1)
    );
    assert_eq!(edits[O as usize].table_mins.get(&0), Some(&4));
}

#[test]
fn an_empty_or_all_null_table_writes_no_segment() {
    let model = model(WRITERS);
    let scope = &model.scopes[0];
    let states = vec![
        state(vec![table(0, vec![None, None])]),
        state(vec![table(0, vec![None])]),
        state(vec![]),
    ];
    let Written { reports, edits, .. } = write(scope, &states);
    assert_eq!(reports.len(), 2);
    assert_eq!((reports[0].nulls, reports[0].folded), (2, 0));
    assert_eq!(
        (reports[1].dfs, reports[1].slots, reports[1].nulls),
        (T, 1, 1)
    );
    assert!(edits.iter().all(|e| e.active_elems.is_none()));
    // The sizes are still recorded (a table may have grown to hold only nulls).
    assert_eq!(edits[O as usize].table_mins.get(&0), Some(&2));
    assert_eq!(edits[T as usize].table_mins.get(&0), Some(&1));
}

/// `$o` owns a typed table 0 and a plain funcref table 1.
const TYPED: &str = r#"
    (component
      (core module $O
        (type $sig (func))
        (table 2 (ref null $sig))
        (table 2 funcref)
        (func (type $sig))
        (elem declare func 0))
      (core instance $o (instantiate $O))
    )"#;

#[test]
fn foldable_segments_come_before_expression_segments() {
    let model = model(TYPED);
    let scope = &model.scopes[0];
    let states = vec![state(vec![
        table(0, vec![defined(0, 0), defined(0, 0)]),
        table(1, vec![defined(0, 0), None]),
    ])];
    let Written { reports, edits, .. } = write(scope, &states);
    // A typed table is written with expressions, which do not fold.
    assert_eq!((reports[0].folded, reports[0].by_others), (0, 2));
    assert_eq!((reports[1].folded, reports[1].nulls), (1, 1));
    let segments = edits[0].active_elems.as_deref().unwrap();
    assert_eq!(segments.len(), 2);
    assert_eq!(
        segments[0],
        ElemSegment::ActiveFuncs {
            table: 1,
            offset: 0,
            funcs: vec![0],
        },
        "the foldable segment of table 1 goes before table 0's: {segments:?}"
    );
    assert!(
        matches!(
            &segments[1],
            ElemSegment::ActiveExprs { table: 0, offset: 0, funcs, .. } if funcs == &[0, 0]
        ),
        "{segments:?}"
    );
    validate_modules(scope, edits);
}

/// `$o` owns table 0; `$i` imports it (its table 0) and owns table 1.
const IMPORTER_OWNS_TOO: &str = r#"
    (component
      (core module $O
        (table (export "t") 2 funcref)
        (func (export "fo")))
      (core module $I
        (import "o" "t" (table 2 funcref))
        (table 2 funcref)
        (func (export "fi")))
      (core instance $o (instantiate $O))
      (core instance $i (instantiate $I (with "o" (instance $o))))
    )"#;

#[test]
fn an_owners_foldable_segments_precede_its_writes_into_imported_tables() {
    let model = model(IMPORTER_OWNS_TOO);
    let scope = &model.scopes[0];
    // `$o`'s table holds `$i`'s function, which only `$i` can name; `$i`'s own table holds it
    // too.
    let states = vec![
        state(vec![table(0, vec![defined(1, 0), None])]),
        state(vec![table(1, vec![defined(1, 0), None])]),
    ];
    let Written { reports, edits, .. } = write(scope, &states);
    assert_eq!(reports[1].folded, 1);
    let segments = edits[1].active_elems.as_deref().unwrap();
    assert_eq!(
        segments,
        [
            ElemSegment::ActiveFuncs {
                table: 1,
                offset: 0,
                funcs: vec![0],
            },
            ElemSegment::ActiveFuncs {
                table: 0,
                offset: 0,
                funcs: vec![0],
            },
        ],
        "the segment of the defined table 1 must come first"
    );
}

#[test]
fn an_importer_writes_into_the_imported_table() {
    // The part of the case above that holds today: the importer, not the restore module,
    // writes the slot only it can name, through its own index of the table.
    let model = model(IMPORTER_OWNS_TOO);
    let scope = &model.scopes[0];
    let states = vec![
        state(vec![table(0, vec![None, defined(1, 0)])]),
        state(vec![]),
    ];
    let written = write(scope, &states);
    assert!(written.restore.is_empty());
    assert_eq!(written.reports[0].by_others, 1);
    let edits = &written.edits;
    assert!(edits[0].active_elems.is_none());
    assert_eq!(
        edits[1].active_elems.as_deref(),
        Some(
            &[ElemSegment::ActiveFuncs {
                table: 0,
                offset: 1,
                funcs: vec![0],
            }][..]
        )
    );
    validate_modules(scope, written.edits);
}

#[test]
fn add_export_keeps_an_existing_export() {
    let model = model(WRITERS);
    let scope = &model.scopes[0];
    let info = scope.module_of(O);
    let mut edit = ModuleEdit::default();
    // The module already exports "t"; a second "t" would not validate.
    add_export(info, &mut edit, "t".into(), ExportKind::Table, 0);
    assert!(edit.extra_exports.is_empty());
    add_export(info, &mut edit, "x".into(), ExportKind::Table, 0);
    add_export(info, &mut edit, "x".into(), ExportKind::Table, 0);
    assert_eq!(
        edit.extra_exports,
        [("x".to_string(), ExportKind::Table, 0)]
    );
}

/// `$a` and `$b` both import `$o`'s table; `$a` defines "fa", which `$b` imports. A slot
/// holding "fa" goes to `$b`, which names it by its import: the funcref Wasmtime made when it
/// linked that import is written as is, where `$a` writing its own function would make Wasmtime
/// create it at instantiation (measured on componentize-py: instantiation 4% faster).
#[test]
fn an_importer_naming_the_function_by_import_is_preferred() {
    let model = model(
        r#"(component
          (core module $O (table (export "t") 2 funcref))
          (core module $A
            (import "o" "t" (table 2 funcref))
            (func (export "fa")))
          (core module $B
            (import "o" "t" (table 2 funcref))
            (import "a" "fa" (func))
            (func))
          (core instance $o (instantiate $O))
          (core instance $a (instantiate $A (with "o" (instance $o))))
          (core instance $b (instantiate $B (with "o" (instance $o)) (with "a" (instance $a))))
        )"#,
    );
    let scope = &model.scopes[0];
    let (a, b) = (1, 2);
    // Slot 0 holds "fa", which both can name; slot 1 `$b`'s own function, only `$b` can.
    let slots = vec![defined(a, 0), defined(b, 1)];
    let states = vec![state(vec![table(0, slots)]), state(vec![]), state(vec![])];
    let Written { edits, restore, .. } = write(scope, &states);
    assert!(restore.is_empty());
    assert!(
        edits[a as usize].active_elems.is_none(),
        "`$a` writes nothing"
    );
    assert_eq!(
        edits[b as usize].active_elems.as_deref(),
        Some(
            &[ElemSegment::ActiveFuncs {
                table: 0,
                offset: 0,
                funcs: vec![0, 1],
            }][..]
        )
    );
    validate_modules(scope, edits);
}
