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
//!   image; imported functions fold too), else an instance that imports the table, else the
//!   restore module (see `restore`);
//! - passive segments dropped during init become empty; start functions go.
//!
//! The init export goes unless it is kept.

use crate::component_edit::{remove_export, Removal};
use crate::edit::{edit_module, ElemSegment, ModuleEdit};
use crate::init_func::InitFunc;
use crate::instrument::restore_export;
use crate::layout::layout;
use crate::parse::{Model, Node, Scope};
use crate::resolve::{resolve, Source};
use crate::restore::RestorePlan;
use crate::snapshot::{GlobalValue, InstanceState, Snapshot};
use crate::tree_edit::{edit_tree, BodyEdit};
use anyhow::{bail, Context, Result};
use std::collections::{BTreeMap, HashMap};
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{ConstExpr, ExportKind};
use wasmparser::ExternalKind;

/// How the output is written.
#[derive(Debug, Clone, Copy)]
pub struct RewriteOptions {
    pub keep_init_func: bool,
    /// See [`crate::layout::DEFAULT_MAX_GAP`].
    pub max_gap: u64,
}

/// Per table, how its slots were written; reported by `-v`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableReport {
    pub dfs: u32,
    pub table: u32,
    pub slots: usize,
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
    /// The version of `versions` that equals `bytes`, adding it when there is none; says
    /// whether it was added.
    fn share(&mut self, versions: &mut Vec<Vec<u8>>, bytes: Vec<u8>) -> (u32, bool) {
        if let Some(v) = versions.iter().position(|v| *v == bytes) {
            self.shared += 1;
            self.bytes_saved += bytes.len();
            return (v as u32, false);
        }
        versions.push(bytes);
        (versions.len() as u32 - 1, true)
    }
}

/// The rewritten component, with a report per table and what sharing saved.
pub struct Rewritten {
    pub bytes: Vec<u8>,
    pub tables: Vec<TableReport>,
    pub sharing: Sharing,
}

pub fn rewrite(
    model: &Model,
    snapshot: &Snapshot,
    init: &InitFunc,
    opts: RewriteOptions,
) -> Result<Rewritten> {
    let mut out = Rewritten {
        bytes: Vec::new(),
        tables: Vec::new(),
        sharing: Sharing::default(),
    };
    let edit = node_edit(model, 0, snapshot, opts, &mut out)?;
    let bytes = edit_tree(model.bytes, &edit)?;
    // A core init was never a component export; its module keeps the core export.
    let remove = match (&init.interface, opts.keep_init_func || init.core.is_some()) {
        (_, true) => None,
        (None, false) => Some(Removal::Root(&init.func)),
        (Some(iface), false) => Some(Removal::FromInstance {
            iface,
            func: &init.func,
        }),
    };
    out.bytes = match remove {
        None => bytes,
        Some(remove) => remove_export(&bytes, remove)?,
    };
    Ok(out)
}

/// The edit of one node's body: a version of each module per distinct instance state, a
/// version of each nested definition per distinct child body, and the node's restore module.
fn node_edit<'a>(
    model: &'a Model,
    node: usize,
    snapshot: &Snapshot,
    opts: RewriteOptions,
    out: &mut Rewritten,
) -> Result<BodyEdit<'a>> {
    let n = &model.nodes[node];
    let scope = &model.scopes[n.scope];
    let mut edit = BodyEdit::new(scope);
    if !n.live {
        return Ok(edit);
    }
    let view = model.view(node);
    let states: Vec<&InstanceState> = n
        .dfs
        .iter()
        .map(|d| &snapshot.instances[*d as usize])
        .collect();
    let scope_out = rewrite_scope(&view, &states, opts).with_context(|| view.path.clone())?;
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
    let mut seen: Vec<Vec<Vec<u8>>> = vec![Vec::new(); scope.components.len()];
    for child in live_children {
        let c = &model.nodes[child];
        let ordinal = ordinal_of(c)?;
        let child_edit = node_edit(model, child, snapshot, opts, out)?;
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
    if let Some(restore) = scope_out.restore {
        let counts = edit.counts(scope.counts);
        edit.append = Some(Box::new(move |component| {
            restore.append(scope, counts, component)
        }));
    }
    Ok(edit)
}

/// One node's rewritten modules (by local id), restore module and table reports (local ids).
struct ScopeOutput {
    modules: Vec<Vec<u8>>,
    restore: Option<crate::restore::Restore>,
    reports: Vec<TableReport>,
}

/// Rewrites the modules of one scope, viewed as one of its nodes, from its instances' states.
fn rewrite_scope(
    model: &Scope,
    states: &[&InstanceState],
    opts: RewriteOptions,
) -> Result<ScopeOutput> {
    let names = FuncNames::new(model)?;
    let mut edits: Vec<ModuleEdit> = model
        .instances
        .iter()
        .map(|_| ModuleEdit::default())
        .collect();
    let mut restore = RestorePlan::default();
    let mut reports = Vec::new();

    for instance in &model.instances {
        let dfs = instance.dfs;
        let info = model.module_of(dfs);
        let state = states[dfs as usize];
        let edit = &mut edits[dfs as usize];
        edit.drop_start = true;
        let mut segments = Vec::new();
        for memory in &state.memories {
            edit.memory_mins.insert(memory.index, memory.pages());
            segments.extend(layout(memory.index, &memory.runs, opts.max_gap));
        }
        edit.active_data = Some(segments);
        edit.active_elems.get_or_insert_with(Vec::new);
        if !info.code_ref_funcs.is_empty() {
            let funcs = info.code_ref_funcs.iter().copied().collect();
            edit.extra_elems.push(ElemSegment::Declared(funcs));
        }
        edit.dropped_elems
            .extend(state.dropped_elems.iter().copied());
        edit.dropped_data.extend(state.dropped_data.iter().copied());
        for (index, value) in &state.globals {
            edit.global_inits.insert(*index, const_expr(*value));
        }
        for (index, value) in &state.ref_globals {
            let heap = match info.all_globals[*index as usize].content_type {
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

    // Table slots: pick a writer for each, then emit segments per writer.
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
            for (slot, value) in table.slots.iter().enumerate() {
                let slot = slot as u32;
                let Some(src) = value else {
                    report.nulls += 1;
                    continue;
                };
                if let Some(f) = names.name(owner, src) {
                    writes
                        .entry((owner, table.index))
                        .or_default()
                        .push((slot, f));
                    match foldable {
                        true => report.folded += 1,
                        false => report.by_others += 1,
                    }
                    continue;
                }
                report.by_others += 1;
                let importer = names
                    .table_importers(owner, table.index)
                    .iter()
                    .find_map(|&(w, t)| names.name(w, src).map(|f| (w, t, f)));
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
            // Foldable segments go first: Wasmtime stops folding at the first one it cannot.
            if defined && plain {
                let at = segments
                    .iter()
                    .take_while(|s| matches!(s, ElemSegment::ActiveFuncs { .. }))
                    .count();
                segments.insert(at, segment);
            } else {
                segments.push(segment);
            }
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

/// Adds an export unless the module (or the edit) already has it: a snapshot of a snapshot
/// keeps the restore exports it already has.
fn add_export(
    info: &crate::module_info::ModuleInfo,
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

/// Consecutive slots, split at gaps; `slots` is sorted by slot.
pub(crate) fn runs(slots: &[(u32, u32)]) -> Vec<&[(u32, u32)]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=slots.len() {
        if i == slots.len() || slots[i].0 != slots[i - 1].0 + 1 {
            out.push(&slots[start..i]);
            start = i;
        }
    }
    out
}

/// Whether table `table` of instance `dfs` holds plain (nullable, untyped) funcrefs, the only
/// element type index-form segments can initialize.
fn is_plain_funcref(model: &Scope, dfs: u32, table: u32) -> bool {
    let ty = model.module_of(dfs).tables[table as usize].element_type;
    ty == wasmparser::RefType::FUNCREF
}

/// Which function index, if any, names a canonical function inside each instance; and which
/// instances import each table.
pub struct FuncNames {
    names: Vec<HashMap<Source, u32>>,
    importers: HashMap<(u32, u32), Vec<(u32, u32)>>,
}

impl FuncNames {
    fn new(model: &Scope) -> Result<Self> {
        let mut names = Vec::new();
        let mut importers: HashMap<(u32, u32), Vec<(u32, u32)>> = HashMap::new();
        for instance in &model.instances {
            let dfs = instance.dfs;
            let info = model.module_of(dfs);
            let mut map = HashMap::new();
            for i in 0..info.imported_funcs {
                let src = resolve(model, dfs, ExternalKind::Func, i).with_context(|| {
                    format!("{}: function import {i}", instance.describe(model))
                })?;
                map.entry(src).or_insert(i);
            }
            names.push(map);
            for t in 0..info.imported_tables {
                if let Source::Defined { dfs: owner, index } =
                    resolve(model, dfs, ExternalKind::Table, t)?
                {
                    importers.entry((owner, index)).or_default().push((dfs, t));
                }
            }
        }
        Ok(FuncNames { names, importers })
    }

    /// The index under which instance `dfs` can refer to `src`.
    pub fn name(&self, dfs: u32, src: &Source) -> Option<u32> {
        match src {
            Source::Defined { dfs: d, index } if *d == dfs => Some(*index),
            _ => self.names.get(dfs as usize)?.get(src).copied(),
        }
    }

    /// Instances (and their table index) that import table `table` of `owner`.
    pub fn table_importers(&self, owner: u32, table: u32) -> &[(u32, u32)] {
        self.importers
            .get(&(owner, table))
            .map_or(&[], |v| v.as_slice())
    }

    /// Some instance and function index through which `src` is imported, for its type.
    pub fn any_name(&self, src: &Source) -> Option<(u32, u32)> {
        if let Source::Defined { dfs, index } = src {
            return Some((*dfs, *index));
        }
        self.names
            .iter()
            .enumerate()
            .find_map(|(dfs, m)| m.get(src).map(|f| (dfs as u32, *f)))
    }
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
