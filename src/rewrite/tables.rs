//! Table slots: which instance writes each slot, and the element segments it writes.
//!
//! Each slot is written exactly once, by the first writer that can name its function: the
//! table's owner (function-index segments at constant offsets, first in the section, which
//! Wasmtime folds into a precomputed table image; imported functions fold too), else an
//! instance that imports the table (one that imports the function first: Wasmtime made that
//! funcref when it linked the import, where an instance's own function costs a funcref made
//! at instantiation), else the restore module (see `restore`).

use super::layout::runs;
use super::names::FuncNames;
use super::restore::RestorePlan;
use super::TableReport;
use crate::encode::module::{ElemSegment, ModuleEdit};
use crate::model::{ModuleInfo, Scope, Source};
use crate::protocol::restore_export;
use crate::snapshot::InstanceState;
use anyhow::Result;
use std::collections::BTreeMap;
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::ExportKind;

/// Picks a writer for every slot of every table of the scope's instances (local ids), and adds
/// the segments, minimum sizes and restore writes to `edits` and `restore`.
pub(super) fn write_tables(
    model: &Scope,
    states: &[&InstanceState],
    names: &FuncNames,
    edits: &mut [ModuleEdit],
    restore: &mut RestorePlan,
) -> Result<Vec<TableReport>> {
    let mut reports = Vec::new();
    let mut writes: BTreeMap<(u32, u32), Vec<(u32, u32)>> = BTreeMap::new(); // (writer, table) → (slot, func)
    for instance in &model.instances {
        let owner = instance.dfs;
        for table in &states[owner as usize].tables {
            let mut report = TableReport {
                dfs: owner,
                table: table.index,
                slots: table.slots.len(),
                ..Default::default()
            };
            edits[owner as usize]
                .table_mins
                .insert(table.index, table.slots.len() as u64);
            // Index-form writes by the owner fold only when they are function indices into a
            // funcref table; typed tables need expressions and are replayed, so they count as
            // written by others.
            let foldable = is_plain_funcref(model, owner, table.index);
            // The owner writes most slots: they gather here, not through the map per slot.
            let mut own = Vec::with_capacity(table.slots.len());
            for (slot, value) in table.slots.iter().enumerate() {
                let slot = slot as u32;
                let Some(src) = value else {
                    report.nulls += 1;
                    continue;
                };
                if let Some(f) = names.name(owner, src) {
                    own.push((slot, f));
                    match foldable {
                        true => report.folded += 1,
                        false => report.by_others += 1,
                    }
                    continue;
                }
                report.by_others += 1;
                // An importer that names the function by one of its own imports writes a
                // funcref Wasmtime already made when it linked that import; one that names its
                // own function makes Wasmtime create the funcref at instantiation.
                let importers = names.table_importers(owner, table.index);
                let named = |&(w, t): &(u32, u32)| names.name(w, src).map(|f| (w, t, f));
                let by_import =
                    |&(w, _, f): &(u32, u32, u32)| f < model.module_of(w).imported_funcs;
                let importer = (importers.iter().filter_map(named).find(by_import))
                    .or_else(|| importers.iter().find_map(named));
                match importer {
                    Some((w, t, f)) => writes.entry((w, t)).or_default().push((slot, f)),
                    None => {
                        if let Source::Defined { dfs, index } = src {
                            let (info, edit) = (model.module_of(*dfs), &mut edits[*dfs as usize]);
                            add_export(
                                info,
                                edit,
                                restore_export("func", *index),
                                ExportKind::Func,
                                *index,
                            );
                        }
                        let (info, edit) = (model.module_of(owner), &mut edits[owner as usize]);
                        add_export(
                            info,
                            edit,
                            restore_export("table", table.index),
                            ExportKind::Table,
                            table.index,
                        );
                        restore.write_slot(owner, table.index, slot, *src);
                    }
                }
            }
            if !own.is_empty() {
                writes.entry((owner, table.index)).or_default().extend(own);
            }
            reports.push(report);
        }
    }
    for ((writer, table), mut slots) in writes {
        slots.sort_unstable();
        let info = model.module_of(writer);
        let plain = is_plain_funcref(model, writer, table);
        let ty = RoundtripReencoder.ref_type(info.tables[table as usize].element_type)?;
        let defined = table >= info.imported_tables;
        let segments = edits[writer as usize]
            .active_elems
            .get_or_insert_with(Vec::new);
        for run in runs(&slots) {
            let offset = run[0].0;
            let funcs: Vec<u32> = run.iter().map(|(_, f)| *f).collect();
            let segment = if plain {
                ElemSegment::ActiveFuncs {
                    table,
                    offset,
                    funcs,
                }
            } else {
                ElemSegment::ActiveExprs {
                    table,
                    offset,
                    ty,
                    funcs,
                }
            };
            // Foldable segments (function indices into a defined funcref table) go first:
            // Wasmtime stops folding at the first one it cannot, such as a write into an
            // imported table.
            if defined && plain {
                let imported = info.imported_tables;
                let at = segments
                    .iter()
                    .take_while(|s| {
                        matches!(s, ElemSegment::ActiveFuncs { table, .. } if *table >= imported)
                    })
                    .count();
                segments.insert(at, segment);
            } else {
                segments.push(segment);
            }
        }
    }

    Ok(reports)
}

/// Adds an export unless the module (or the edit) already has it: a snapshot of a snapshot
/// keeps the restore exports it already has.
pub(super) fn add_export(
    info: &ModuleInfo,
    edit: &mut ModuleEdit,
    name: String,
    kind: ExportKind,
    index: u32,
) {
    let exists = info.exports.iter().any(|(n, _, _)| *n == name)
        || edit.extra_exports.iter().any(|(n, _, _)| *n == name);
    if !exists {
        edit.extra_exports.push((name, kind, index));
    }
}

/// Whether table `table` of instance `dfs` holds plain (nullable, untyped) funcrefs, the only
/// element type index-form segments can initialize.
fn is_plain_funcref(model: &Scope, dfs: u32, table: u32) -> bool {
    let ty = model.module_of(dfs).tables[table as usize].element_type;
    ty == wasmparser::RefType::FUNCREF
}

#[cfg(test)]
mod tests;
