//! Stage 5: [`Model`] + [`Snapshot`] + original bytes → the pre-initialized component.
//!
//! Starts from the original module bytes (nothing of the instrumentation survives). For each
//! instantiated module:
//! - memories get the snapshot size as minimum and the snapshot contents as active data
//!   segments, replacing every original active segment (including those that wrote into
//!   imported memories: their contents are in the owner's snapshot);
//! - mutable globals get the snapshot value as initializer;
//! - tables get the snapshot size as minimum, and every slot is written exactly once, by the
//!   first writer that can name its function: the table's owner (function-index segments at
//!   constant offsets, first in the section, which Wasmtime folds into a precomputed table
//!   image; imported functions fold too), else an instance that imports the table (one that
//!   imports the function first), else the restore module (see `restore`);
//! - passive segments dropped during init become empty; start functions go.
//!
//! The init export goes unless it is kept.

mod layout;
mod names;
mod restore;
mod tables;
#[cfg(test)]
mod tests;

use crate::encode::module::ElemSegment;
use crate::encode::module::{edit_module, ModuleEdit};
use crate::encode::rope::Rope;
use crate::encode::tree::{edit_tree, BodyEdit, ExportRemoval};
use crate::model::{InitFunc, LocatedInstance, Model, Node, Scope};
use crate::protocol::restore_export;
use crate::snapshot::{GlobalValue, InstanceState, Snapshot};
use anyhow::{bail, Context, Result};
use layout::{layout, MAX_SEGMENTS};
use names::FuncNames;
use restore::RestorePlan;
use tables::add_export;
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{ConstExpr, ExportKind};

/// How the output is written.
#[derive(Debug, Clone, Copy)]
pub struct RewriteOptions {
    pub keep_init_func: bool,
    /// The longest zero gap kept inside a data segment; `None` splits where a segment
    /// header is shorter than the gap (see `layout`).
    pub max_gap: Option<u64>,
}

/// Per table, how its slots were written; reported by `-v`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableReport {
    /// The DFS id of the table's owner.
    pub dfs: u32,
    /// The table's absolute index in the owner's module.
    pub table: u32,
    /// Slots after init.
    pub slots: usize,
    /// Null slots.
    pub nulls: usize,
    /// Written by the owner with function indices: part of Wasmtime's table image.
    pub folded: usize,
    /// Written by another instance or the restore module.
    pub by_others: usize,
}

/// What sharing byte-identical definitions saved, reported by `-v`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sharing {
    /// Rewritten modules and component definitions emitted once for several instances.
    pub shared: usize,
    /// Bytes not emitted because of it.
    pub bytes_saved: usize,
}

impl Sharing {
    /// The version of `versions` that holds the bytes of `bytes`, adding it when there is
    /// none; says whether it was added.
    fn share<'a>(&mut self, versions: &mut Vec<Rope<'a>>, bytes: Rope<'a>) -> (u32, bool) {
        if let Some(v) = versions.iter().position(|v| v.same_bytes(&bytes)) {
            self.shared += 1;
            self.bytes_saved += bytes.len();
            return (v as u32, false);
        }
        versions.push(bytes);
        (versions.len() as u32 - 1, true)
    }
}

/// The rewritten component, with a report per table and what sharing saved. Its memory
/// contents are still the snapshot's, borrowed.
pub struct Rewritten<'s> {
    pub rope: Rope<'s>,
    pub tables: Vec<TableReport>,
    pub sharing: Sharing,
}

/// Rewrites the component from `snapshot`, whose memory contents the result borrows.
pub fn rewrite<'s>(
    model: &'s Model,
    snapshot: &'s Snapshot,
    init: &InitFunc,
    opts: RewriteOptions,
) -> Result<Rewritten<'s>> {
    let mut out = Rewritten {
        rope: Rope::new(),
        tables: Vec::new(),
        sharing: Sharing::default(),
    };
    // A core init was never a component export; its module keeps the core export.
    let remove = match opts.keep_init_func || init.core.is_some() {
        true => None,
        false => Some(init),
    };
    let edit = node_edit(model, 0, snapshot, opts, remove, &mut out)?;
    out.rope = edit_tree(model.bytes, &edit)?;
    Ok(out)
}

/// How a core module input's exports change (Wizer's `--keep-init-func` and
/// `--rename-func`).
#[derive(Debug, Clone, Default)]
pub struct CoreExports {
    /// Exports to remove (the init function, unless it is kept).
    pub removed: Vec<String>,
    /// `(dst, src)`: export function `src` as `dst`, replacing any export named `dst`.
    pub renamed: Vec<(String, String)>,
}

/// A core module input rewritten: its one instance's module.
pub fn rewrite_core<'s>(
    model: &'s Model,
    snapshot: &'s Snapshot,
    opts: RewriteOptions,
    exports: &CoreExports,
) -> Result<Rewritten<'s>> {
    let view = model.view(0);
    let states: Vec<&InstanceState> = snapshot.instances.iter().collect();
    let out = rewrite_scope(&view, &states, opts, Some(exports))?;
    if out.restore.is_some() {
        bail!("bug: a core module needs a restore module, which only components can hold");
    }
    let mut modules = out.modules.into_iter();
    Ok(Rewritten {
        rope: modules.next().context("bug: no module rewritten")?,
        tables: out.reports,
        sharing: Sharing::default(),
    })
}

/// The removal of `func`, a function export of `scope`.
fn export_removal(scope: &Scope, func: &str) -> Result<ExportRemoval> {
    let export = scope
        .exports
        .iter()
        .find(|e| e.kind == wasmparser::ComponentExternalKind::Func && e.name == func)
        .with_context(|| {
            format!(
                "{}: no function export named '{func}' to remove",
                scope.path
            )
        })?;
    Ok(ExportRemoval {
        name: func.to_string(),
        entry: export.entry,
        target: export.index,
    })
}

/// The edit of one node's body: a version of each module per distinct instance state, a
/// version of each nested definition per distinct child body, and the node's restore module.
///
/// `remove` is the init export to remove from this node (the root), which may sit in the
/// body of one of its children (an exported interface instance made by a nested component).
fn node_edit<'a>(
    model: &'a Model,
    node: usize,
    snapshot: &'a Snapshot,
    opts: RewriteOptions,
    remove: Option<&InitFunc>,
    out: &mut Rewritten,
) -> Result<BodyEdit<'a>> {
    let n = &model.nodes[node];
    let scope = &model.scopes[n.scope];
    let mut edit = BodyEdit::new(scope);
    // The child instance whose body loses the init export.
    let mut remove_in_child = None;
    match remove {
        None => {}
        Some(InitFunc {
            interface: None,
            func,
            ..
        }) => edit.remove_export = Some(export_removal(scope, func)?),
        Some(InitFunc {
            interface: Some(iface),
            func,
            ..
        }) => {
            edit.strip_ascription = Some(iface.clone());
            match scope.locate_instance_export(iface)? {
                LocatedInstance::FromExports { entry } => {
                    edit.remove_instance_item = Some((entry, func.clone()))
                }
                LocatedInstance::Instantiated { instance, scope: s } => {
                    let removal = export_removal(&model.scopes[s], func).map_err(|e| {
                        anyhow::anyhow!(
                            "removing `{func}` from the component behind `{iface}`: {e}"
                        )
                    })?;
                    remove_in_child = Some((instance, removal));
                }
            }
        }
    }
    if !n.live {
        if let Some((instance, removal)) = remove_in_child {
            remove_from_idle_child(model, n, &mut edit, instance, removal)?;
        }
        return Ok(edit);
    }
    let view = model.view(node);
    let states: Vec<&InstanceState> = n
        .dfs
        .iter()
        .map(|d| &snapshot.instances[*d as usize])
        .collect();
    let scope_out = rewrite_scope(&view, &states, opts, None).with_context(|| view.path.clone())?;
    for mut report in scope_out.reports {
        report.dfs = n.dfs[report.dfs as usize];
        out.tables.push(report);
    }
    for (instance, bytes) in scope.instances.iter().zip(scope_out.modules) {
        let versions = &mut edit.modules[instance.module].1;
        let (version, _) = out.sharing.share(versions, bytes);
        edit.module_version
            .insert(instance.core_instance_index, version);
    }
    // Distinct child bodies by their bytes: re-encoding is deterministic, and every version of
    // a definition sits at the same place, so equal bytes here mean equal bytes in the output.
    // A definition this node instantiates once has nothing to be compared with.
    let ordinal_of = |child: &Node| {
        scope
            .components
            .iter()
            .position(|(_, s)| *s == child.scope)
            .context("bug: a child node's definition is not in its parent scope")
    };
    let live_children = n.children.iter().copied().filter(|c| model.nodes[*c].live);
    let mut instantiations = vec![0usize; scope.components.len()];
    for child in live_children.clone() {
        instantiations[ordinal_of(&model.nodes[child])?] += 1;
    }
    let mut seen: Vec<Vec<Rope>> = vec![Vec::new(); scope.components.len()];
    for child in live_children {
        let c = &model.nodes[child];
        let ordinal = ordinal_of(c)?;
        let mut child_edit = node_edit(model, child, snapshot, opts, None, out)?;
        if let Some((_, removal)) =
            remove_in_child.take_if(|(i, _)| Some(*i) == c.instance.map(|i| i.0))
        {
            child_edit.remove_export = Some(removal);
        }
        let entry = c.instance.context("bug: child node without instance")?.1;
        let (version, new) = match instantiations[ordinal] {
            1 => (0, true),
            _ => {
                let bytes = edit_tree(model.scopes[c.scope].bytes, &child_edit)?;
                out.sharing.share(&mut seen[ordinal], bytes)
            }
        };
        if new {
            edit.components[ordinal].1.push(child_edit);
        }
        edit.component_version.insert(entry, version);
    }
    if let Some((instance, removal)) = remove_in_child {
        remove_from_idle_child(model, n, &mut edit, instance, removal)?;
    }
    if let Some(restore) = scope_out.restore {
        edit.append = Some(Box::new(move |body| restore.append(scope, body)));
    }
    Ok(edit)
}

/// Removes an export from the definition behind component instance `instance` of node `n`,
/// which runs no core code: that definition gets one version, without the export.
fn remove_from_idle_child(
    model: &Model,
    n: &Node,
    edit: &mut BodyEdit,
    instance: u32,
    removal: ExportRemoval,
) -> Result<()> {
    let scope = &model.scopes[n.scope];
    let child = n
        .children
        .iter()
        .map(|c| &model.nodes[*c])
        .find(|c| c.instance.map(|i| i.0) == Some(instance))
        .context("bug: the instance behind the init's interface has no node")?;
    let ordinal = scope
        .components
        .iter()
        .position(|(_, s)| *s == child.scope)
        .context("bug: a child node's definition is not in its parent scope")?;
    let mut child_edit = BodyEdit::new(&model.scopes[child.scope]);
    child_edit.remove_export = Some(removal);
    edit.components[ordinal].1 = vec![child_edit];
    Ok(())
}

/// One node's rewritten modules (by local id), restore module and table reports (local ids).
struct ScopeOutput<'s> {
    modules: Vec<Rope<'s>>,
    restore: Option<restore::Restore>,
    reports: Vec<TableReport>,
}

/// Rewrites the modules of one scope, viewed as one of its nodes, from its instances' states.
fn rewrite_scope<'s>(
    model: &Scope<'s>,
    states: &[&'s InstanceState],
    opts: RewriteOptions,
    exports: Option<&CoreExports>,
) -> Result<ScopeOutput<'s>> {
    let names = FuncNames::new(model)?;
    let mut edits: Vec<ModuleEdit> = model
        .instances
        .iter()
        .map(|_| ModuleEdit::default())
        .collect();
    let mut restore = RestorePlan::default();

    for instance in &model.instances {
        let dfs = instance.dfs;
        let info = model.module_of(dfs);
        let state = states[dfs as usize];
        let edit = &mut edits[dfs as usize];
        edit.drop_start = true;
        edit.keep_elem_indices = !info.named_elems.is_empty();
        let mut segments = Vec::new();
        edit.memory64 = (info.memories.iter().enumerate())
            .filter(|(_, m)| m.memory64)
            .map(|(i, _)| i as u32)
            .collect();
        edit.table64 = (info.tables.iter().enumerate())
            .filter(|(_, t)| t.table64)
            .map(|(i, _)| i as u32)
            .collect();
        let cap = MAX_SEGMENTS / state.memories.len().max(1);
        for memory in &state.memories {
            edit.memory_mins.insert(memory.index, memory.pages());
            let memory64 = edit.memory64.contains(&memory.index);
            let runs = &memory.runs;
            segments.extend(layout(memory.index, memory64, runs, opts.max_gap, cap));
        }
        edit.active_data = Some(segments);
        edit.active_elems.get_or_insert_with(Vec::new);
        // `ref.func` targets whose declaration may go with a replaced segment or initializer
        // are declared again, unless a kept declarative segment declares them.
        let undeclared: Vec<u32> = info
            .code_ref_funcs
            .difference(&info.declarative_funcs)
            .copied()
            .collect();
        if !undeclared.is_empty() {
            edit.extra_elems.push(ElemSegment::Declared(undeclared));
        }
        edit.dropped_elems
            .extend(state.dropped_elems.iter().copied());
        edit.dropped_data.extend(state.dropped_data.iter().copied());
        for (index, value) in &state.globals {
            edit.global_inits.insert(*index, const_expr(*value));
        }
        for (index, value) in &state.ref_globals {
            let heap = match info.globals[*index as usize].content_type {
                wasmparser::ValType::Ref(rt) => RoundtripReencoder.ref_type(rt)?.heap_type,
                _ => bail!("global {index} is not a reference"),
            };
            let init = match value {
                None => ConstExpr::ref_null(heap),
                Some(src) => match names.name(dfs, src) {
                    Some(f) => ConstExpr::ref_func(f),
                    None => {
                        // Keep a valid initializer; the restore module sets the value.
                        add_export(
                            info,
                            edit,
                            restore_export("global", *index),
                            ExportKind::Global,
                            *index,
                        );
                        restore.set_global(dfs, *index, *src);
                        ConstExpr::ref_null(heap)
                    }
                },
            };
            edit.global_inits.insert(*index, init);
        }
    }

    let reports = tables::write_tables(model, states, &names, &mut edits, &mut restore)?;

    if let Some(exports) = exports {
        let edit = &mut edits[0];
        edit.removed_exports.extend(exports.removed.iter().cloned());
        for (dst, src) in &exports.renamed {
            // The renamed function takes the place of any export already named `dst`.
            edit.removed_exports.insert(dst.clone());
            edit.renamed_exports.insert(src.clone(), dst.clone());
        }
    }
    let mut modules = Vec::new();
    for (instance, edit) in model.instances.iter().zip(edits) {
        let info = &model.modules[instance.module];
        let bytes = edit_module(info.bytes, edit)
            .with_context(|| format!("rewriting {}", instance.describe(model)))?;
        modules.push(bytes);
    }
    let restore = match restore.is_empty() {
        true => None,
        false => Some(restore.build(model, &names)?),
    };
    Ok(ScopeOutput {
        modules,
        restore,
        reports,
    })
}

fn const_expr(value: GlobalValue) -> ConstExpr {
    match value {
        GlobalValue::I32(v) => ConstExpr::i32_const(v),
        GlobalValue::I64(v) => ConstExpr::i64_const(v),
        GlobalValue::F32(bits) => ConstExpr::f32_const(wasm_encoder::Ieee32::new(bits)),
        GlobalValue::F64(bits) => ConstExpr::f64_const(wasm_encoder::Ieee64::new(bits)),
        GlobalValue::V128(v) => ConstExpr::v128_const(v as i128),
    }
}
