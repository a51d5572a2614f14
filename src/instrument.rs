//! Stage 2: [`Model`] → instrumented component bytes + the [`Plan`] that says how to read them.
//!
//! Instrumentation is additive, so no index of the original component or its modules moves.
//! For every instantiated module it adds:
//! - exports of every defined memory, mutable global and table, under [`CORE_PREFIX`] names;
//! - two probe globals, `probing` and `probe_out`;
//! - a probe prologue on every function that can become a funcref: while `probing` is set, the
//!   function stores its own index in `probe_out` and returns default results, so the accessor
//!   can learn which function a table slot holds by calling it;
//! - a shim for every imported function that can become a funcref (same prologue, then a call
//!   of the import), with every `ref.func` and element item naming the import redirected to it,
//!   so a probe never reaches a host function;
//! - when code drops segments, a byte per segment in an appended memory, set before each
//!   `elem.drop`/`data.drop`.
//!
//! Each scope that instantiates modules gets the host sink prepended and its own accessor (see
//! `accessor`) appended; each scope re-exports its children's accessors, so the host reaches
//! every core instance of the tree from the root. The same instrumented code serves every
//! instantiation of a definition, so accessors report instances by their local id.

use crate::accessor;
use crate::accessor::DUMP_EXPORT;
use crate::edit::{edit_module, ElemSegment, ModuleEdit};
use crate::init_func::{CoreInit, CORE_INIT_EXPORT};
use crate::module_info::ModuleInfo;
use crate::parse::{CoreInstance, Event, IndexCounts, Model, CORE_PREFIX, RESTORE_PREFIX};
use crate::tree_edit::{edit_tree, BodyEdit};
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    Alias, BlockType, CanonicalFunctionSection, CanonicalOption, Component, ComponentAliasSection,
    ComponentExportKind, ComponentExportSection, ComponentTypeSection, ComponentValType, ConstExpr,
    ExportKind, Function, GlobalType, Instruction, MemArg, MemArgTarget, MemoryType, ValType,
};
use wasmparser::{FunctionBody, Operator};

/// What one scope's accessor sends, in order; the host decodes each `put(tag, data)` with it.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub records: Vec<Record>,
}

#[derive(Debug, Clone)]
pub enum Record {
    /// The whole byte contents of one memory, in chunks of at most 64 MiB. `drops` marks the
    /// appended drop-tracking memory (one byte per element segment, then per data segment).
    Memory { dfs: u32, memory: u32, drops: bool },
    /// Mutable numeric globals, 16 bytes each.
    Globals {
        dfs: u32,
        globals: Vec<(u32, ValType)>,
    },
    /// One u64 per slot of a defined table: see [`SLOT_NULL`] and friends.
    Table { dfs: u32, table: u32 },
    /// One u64 per mutable reference-typed global, encoded like table slots.
    RefGlobals { dfs: u32, globals: Vec<u32> },
}

impl Record {
    /// The same record for instance `dfs` of the same module.
    fn for_instance(&self, dfs: u32) -> Record {
        let mut record = self.clone();
        match &mut record {
            Record::Memory { dfs: d, .. }
            | Record::Globals { dfs: d, .. }
            | Record::Table { dfs: d, .. }
            | Record::RefGlobals { dfs: d, .. } => *d = dfs,
        }
        record
    }
}

/// Slot encodings sent by the accessor; any other value is `(dfs << 32) | function index`.
pub const SLOT_NULL: i64 = -1;
pub const SLOT_UNKNOWN_TYPE: i64 = -2;
pub const SLOT_UNIDENTIFIED: i64 = -3;
pub const SLOT_NON_FUNC: i64 = -4;

pub fn memory_export(index: u32) -> String {
    format!("{CORE_PREFIX}_memory{index}")
}
pub fn global_export(index: u32) -> String {
    format!("{CORE_PREFIX}_global{index}")
}
pub fn table_export(index: u32) -> String {
    format!("{CORE_PREFIX}_table{index}")
}
/// Exports the output keeps for the restore module (see `restore`).
pub fn restore_export(kind: &str, index: u32) -> String {
    format!("{RESTORE_PREFIX}{kind}{index}")
}
pub const PROBING_EXPORT: &str = "__compsnap_probing";
pub const PROBE_OUT_EXPORT: &str = "__compsnap_probe_out";
pub const DROPS_EXPORT: &str = "__compsnap_drops";

/// What the host reads from the instrumented component: a [`Plan`] per scope definition, and
/// the exports that dump each node.
#[derive(Debug, Clone, Default)]
pub struct TreePlan {
    /// By scope id; empty for scopes with no core instances.
    pub scopes: Vec<Plan>,
    /// Every node with core instances, in pre-order: its dump export.
    pub dumps: Vec<Dump>,
}

#[derive(Debug, Clone)]
pub struct Dump {
    pub node: usize,
    pub scope: usize,
    pub export: String,
}

/// Instruments every instantiated module of every instantiated scope, gives each such scope an
/// accessor, and re-exports every accessor up to the root. A core init function is lifted and
/// exported from the root as [`CORE_INIT_EXPORT`].
pub fn instrument(model: &Model, core_init: Option<&CoreInit>) -> Result<(Vec<u8>, TreePlan)> {
    let live = live_scopes(model);
    let mut plans = vec![Plan::default(); model.scopes.len()];
    let edit = instrument_scope(model, 0, &live, &mut plans, core_init.cloned())?;
    let bytes = edit_tree(model.bytes, &edit)?;
    // The root's dump exports, in pre-order, are those of the nodes with core instances.
    let nodes = model
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, node)| node.live && !model.scopes[node.scope].instances.is_empty());
    let dumps = nodes
        .zip(dump_suffixes(model, 0, &live))
        .map(|((n, node), suffix)| Dump {
            node: n,
            scope: node.scope,
            export: format!("{DUMP_EXPORT}{suffix}"),
        })
        .collect();
    Ok((
        bytes,
        TreePlan {
            scopes: plans,
            dumps,
        },
    ))
}

/// Scopes that some node instantiates and that run core code in or below themselves.
fn live_scopes(model: &Model) -> Vec<bool> {
    let mut live = vec![false; model.scopes.len()];
    for node in &model.nodes {
        live[node.scope] |= node.live;
    }
    live
}

/// The dump export suffixes a live scope's instances have, in pre-order: `""` for its own
/// accessor, then `-c<k>…` for the k-th live child instantiation's.
fn dump_suffixes(model: &Model, scope: usize, live: &[bool]) -> Vec<String> {
    let s = &model.scopes[scope];
    let mut out = Vec::new();
    if !s.instances.is_empty() {
        out.push(String::new());
    }
    let children = s.events.iter().filter_map(|e| match e {
        Event::Component { scope, .. } if live[*scope] => Some(*scope),
        _ => None,
    });
    for (k, child) in children.enumerate() {
        for suffix in dump_suffixes(model, child, live) {
            out.push(format!("-c{k}{suffix}"));
        }
    }
    out
}

fn instrument_scope<'a>(
    model: &'a Model,
    id: usize,
    live: &[bool],
    plans: &mut [Plan],
    core_init: Option<CoreInit>,
) -> Result<BodyEdit<'a>> {
    let scope = &model.scopes[id];
    let mut edit = BodyEdit::new(scope);
    if !live[id] {
        return Ok(edit);
    }
    edit.sink = true;
    let mut records = Vec::new();
    // The same instrumented code serves every instance of a module; only the records, which
    // name the instance, differ.
    let mut module_records: Vec<Option<Vec<Record>>> = vec![None; scope.modules.len()];
    for instance in &scope.instances {
        let first = &mut module_records[instance.module];
        if first.is_none() {
            let info = &scope.modules[instance.module];
            let (bytes, instance_records) = instrument_module(instance, info)
                .with_context(|| format!("instrumenting {}", instance.describe(scope)))?;
            edit.modules[instance.module].1.push(bytes);
            *first = Some(instance_records);
        }
        let first = first.as_deref().unwrap_or_default();
        records.extend(first.iter().map(|r| r.for_instance(instance.dfs)));
    }
    let plan = Plan { records };
    for (ordinal, (_, child)) in scope.components.iter().enumerate() {
        if live[*child] {
            let child_edit = instrument_scope(model, *child, live, plans, None)?;
            edit.components[ordinal].1.push(child_edit);
        }
    }
    // Each live child instantiation gets the sink, and its dumps are re-exported.
    let mut reexports = Vec::new();
    for event in &scope.events {
        if let Event::Component {
            instance,
            entry,
            scope: child,
        } = *event
        {
            if live[child] {
                edit.sink_args.insert(entry);
                let k = reexports.len();
                let names = dump_suffixes(model, child, live)
                    .into_iter()
                    .map(|s| {
                        (
                            format!("{DUMP_EXPORT}{s}"),
                            format!("{DUMP_EXPORT}-c{k}{s}"),
                        )
                    })
                    .collect::<Vec<_>>();
                reexports.push((instance, names));
            }
        }
    }
    let accessor = match scope.instances.is_empty() {
        true => None,
        false => Some(accessor::Accessor::build(scope, &plan)?),
    };
    let counts = edit.counts(scope.counts);
    let plan_for_append = plan.clone();
    edit.append = Some(Box::new(move |component| {
        let counts = match &core_init {
            Some(init) => lift_core_init(component, counts, init),
            None => counts,
        };
        let mut funcs = counts.component_funcs;
        if let Some(accessor) = &accessor {
            funcs = accessor.append(scope, counts, &plan_for_append, component);
        }
        accessor::append_reexports(component, funcs, &reexports);
    }));
    plans[id] = plan;
    Ok(edit)
}

/// Lifts `init` as a `func()` and exports it; returns the counts after the added entries.
fn lift_core_init(component: &mut Component, mut c: IndexCounts, init: &CoreInit) -> IndexCounts {
    let mut aliases = ComponentAliasSection::new();
    aliases.alias(Alias::CoreInstanceExport {
        instance: init.core_instance,
        kind: ExportKind::Func,
        name: &init.export,
    });
    component.section(&aliases);
    let mut types = ComponentTypeSection::new();
    types
        .function()
        .params(Vec::<(&str, ComponentValType)>::new())
        .result(None);
    component.section(&types);
    let mut canon = CanonicalFunctionSection::new();
    canon.lift(
        c.core_funcs,
        c.component_types,
        Vec::<CanonicalOption>::new(),
    );
    component.section(&canon);
    let mut exports = ComponentExportSection::new();
    exports.export(
        CORE_INIT_EXPORT,
        ComponentExportKind::Func,
        c.component_funcs,
        None,
    );
    component.section(&exports);
    c.core_funcs += 1;
    c.component_types += 1;
    // The lifted function, then the export's own entry.
    c.component_funcs += 2;
    c
}

fn instrument_module(instance: &CoreInstance, info: &ModuleInfo) -> Result<(Vec<u8>, Vec<Record>)> {
    let dfs = instance.dfs;
    let mut edit = ModuleEdit::default();
    let mut records = Vec::new();
    let mut re = RoundtripReencoder;

    for (i, _) in info.memories.iter().enumerate() {
        let index = info.imported_memories + i as u32;
        edit.extra_exports
            .push((memory_export(index), ExportKind::Memory, index));
        records.push(Record::Memory {
            dfs,
            memory: index,
            drops: false,
        });
    }
    let mut numeric = Vec::new();
    let mut refs = Vec::new();
    for (index, ty) in info.mutable_globals() {
        edit.extra_exports
            .push((global_export(index), ExportKind::Global, index));
        match re.val_type(ty.content_type)? {
            ValType::Ref(_) => refs.push(index),
            ty => numeric.push((index, ty)),
        }
    }
    if !numeric.is_empty() {
        records.push(Record::Globals {
            dfs,
            globals: numeric,
        });
    }
    for (table, _) in info.defined_tables() {
        edit.extra_exports
            .push((table_export(table), ExportKind::Table, table));
        records.push(Record::Table { dfs, table });
    }
    if !refs.is_empty() {
        records.push(Record::RefGlobals { dfs, globals: refs });
    }

    // Probe globals.
    let probing = info.imported_globals + info.globals.len() as u32;
    let probe_out = probing + 1;
    let mutable_i32 = GlobalType {
        val_type: ValType::I32,
        mutable: true,
        shared: false,
    };
    edit.extra_globals
        .push((mutable_i32, ConstExpr::i32_const(0)));
    edit.extra_globals
        .push((mutable_i32, ConstExpr::i32_const(-1)));
    edit.extra_exports
        .push((PROBING_EXPORT.into(), ExportKind::Global, probing));
    edit.extra_exports
        .push((PROBE_OUT_EXPORT.into(), ExportKind::Global, probe_out));

    // Shims for imported functions that can become funcrefs.
    let first_shim = info.func_types.len() as u32;
    let mut shims = Vec::new();
    for &f in info.declared.iter().filter(|f| **f < info.imported_funcs) {
        let shim = first_shim + shims.len() as u32;
        edit.redirect.insert(f, shim);
        let body = shim_body(info, f, probing, probe_out)?;
        edit.extra_funcs.push((info.func_types[f as usize], body));
        shims.push(shim);
    }
    if !shims.is_empty() {
        edit.extra_elems.push(ElemSegment::Declared(shims));
    }

    // Drop tracking.
    let drops = info.drops_segments.then(|| {
        let memory = info.imported_memories + info.memories.len() as u32;
        let bytes = (info.elem_count + info.data_count) as u64;
        edit.extra_memories.push(MemoryType {
            minimum: bytes.div_ceil(1 << 16).max(1),
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        edit.extra_exports
            .push((DROPS_EXPORT.into(), ExportKind::Memory, memory));
        records.push(Record::Memory {
            dfs,
            memory,
            drops: true,
        });
        memory
    });

    let redirect = edit.redirect.clone();
    let probe = Probe { probing, probe_out };
    edit.body_edit = Some(Box::new(move |func, body: &FunctionBody| {
        let prologue = info.declared.contains(&func).then_some(&probe);
        edit_body(info, func, body, prologue, &redirect, drops)
    }));
    Ok((edit_module(info.bytes, edit)?, records))
}

struct Probe {
    probing: u32,
    probe_out: u32,
}

/// Re-encodes `body` with a probe prologue, redirected `ref.func`s and drop tracking, or
/// returns `None` when none of that applies.
fn edit_body(
    info: &ModuleInfo,
    func: u32,
    body: &FunctionBody,
    prologue: Option<&Probe>,
    redirect: &HashMap<u32, u32>,
    drops: Option<u32>,
) -> Result<Option<Function>> {
    let touches = |op: &Operator| match op {
        Operator::RefFunc { function_index } => redirect.contains_key(function_index),
        Operator::ElemDrop { .. } | Operator::DataDrop { .. } => drops.is_some(),
        _ => false,
    };
    if prologue.is_none() {
        let mut any = false;
        for op in body.get_operators_reader()? {
            if touches(&op?) {
                any = true;
                break;
            }
        }
        if !any {
            return Ok(None);
        }
    }
    let mut re = RoundtripReencoder;
    let mut locals = Vec::new();
    for local in body.get_locals_reader()? {
        let (n, ty) = local?;
        locals.push((n, re.val_type(ty)?));
    }
    let mut f = Function::new(locals);
    if let Some(probe) = prologue {
        emit_prologue(&mut f, info, func, func, probe)?;
    }
    for op in body.get_operators_reader()? {
        let op = op?;
        match (&op, drops) {
            (Operator::RefFunc { function_index }, _) => {
                let target = *redirect.get(function_index).unwrap_or(function_index);
                f.instruction(&Instruction::RefFunc(target));
                continue;
            }
            (Operator::ElemDrop { elem_index }, Some(memory)) => {
                mark_dropped(&mut f, memory, *elem_index);
            }
            (Operator::DataDrop { data_index }, Some(memory)) => {
                mark_dropped(&mut f, memory, info.elem_count + data_index);
            }
            _ => {}
        }
        f.instruction(&re.instruction(op)?);
    }
    Ok(Some(f))
}

/// `memory[byte] = 1`; stack-neutral, so it can precede the drop whatever its operands.
fn mark_dropped(f: &mut Function, memory: u32, byte: u32) {
    f.instruction(&Instruction::I32Const(byte as i32));
    f.instruction(&Instruction::I32Const(1));
    f.instruction(&Instruction::I32Store8(MemArg {
        offset: 0,
        align: 0,
        target: MemArgTarget::Memory(memory),
        ordering: None,
    }));
}

/// `if probing { probe_out = report; return <defaults> }`, for function `func`.
fn emit_prologue(
    f: &mut Function,
    info: &ModuleInfo,
    func: u32,
    report: u32,
    probe: &Probe,
) -> Result<()> {
    let sig = info
        .signature(func)
        .with_context(|| format!("function {func} has no function type"))?;
    let mut re = RoundtripReencoder;
    f.instruction(&Instruction::GlobalGet(probe.probing));
    f.instruction(&Instruction::If(BlockType::Empty));
    f.instruction(&Instruction::I32Const(report as i32));
    f.instruction(&Instruction::GlobalSet(probe.probe_out));
    for ty in &sig.results {
        let ty = re.val_type(*ty)?;
        let Some(default) = default_value(ty) else {
            bail!(
                "function {func} returns a non-nullable reference, so it cannot be probed \
                 (its table slot identity cannot be read)"
            );
        };
        f.instruction(&default);
    }
    f.instruction(&Instruction::Return);
    f.instruction(&Instruction::End);
    Ok(())
}

/// A shim for imported function `import`: the prologue reporting `import`, then the call.
fn shim_body(info: &ModuleInfo, import: u32, probing: u32, probe_out: u32) -> Result<Function> {
    let sig = info
        .signature(import)
        .with_context(|| format!("imported function {import} has no function type"))?;
    let mut f = Function::new([]);
    emit_prologue(&mut f, info, import, import, &Probe { probing, probe_out })?;
    for i in 0..sig.params.len() as u32 {
        f.instruction(&Instruction::LocalGet(i));
    }
    f.instruction(&Instruction::Call(import));
    f.instruction(&Instruction::End);
    Ok(f)
}

/// The default value of `ty`, if it has one (non-nullable references do not).
pub fn default_value(ty: ValType) -> Option<Instruction<'static>> {
    Some(match ty {
        ValType::I32 => Instruction::I32Const(0),
        ValType::I64 => Instruction::I64Const(0),
        ValType::F32 => Instruction::F32Const(0.0.into()),
        ValType::F64 => Instruction::F64Const(0.0.into()),
        ValType::V128 => Instruction::V128Const(0),
        ValType::Ref(r) if r.nullable => Instruction::RefNull(r.heap_type),
        ValType::Ref(_) => return None,
    })
}
