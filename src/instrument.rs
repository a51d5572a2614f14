//! Stage 2: [`Model`] → instrumented component bytes + the [`Plan`] that says how to read them.
//!
//! Instrumentation is additive, so no index of the original component or its modules moves:
//! - every instantiated module exports its defined memories and mutable globals under
//!   [`CORE_PREFIX`] names;
//! - writes the snapshot cannot represent yet (table mutations, `global.set` of a reference
//!   global) bump an appended counter, so such an init is refused after the fact instead of
//!   being snapshotted wrongly;
//! - an accessor core module, instantiated last, reads all of that and streams it to the host
//!   through one imported sink function (see `accessor`).

use crate::accessor;
use crate::edit::{edit_module, ModuleEdit};
use crate::parse::{CoreInstance, Model, ModuleInfo, CORE_PREFIX};
use anyhow::{Context, Result};
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{ConstExpr, ExportKind, Function, GlobalType, Instruction, ValType};
use wasmparser::{FunctionBody, Operator};

/// What the accessor sends, in order; the host decodes each `put(tag, data)` with it.
#[derive(Debug, Clone)]
pub struct Plan {
    pub records: Vec<Record>,
}

#[derive(Debug, Clone)]
pub enum Record {
    /// The whole byte contents of one defined memory, in chunks of at most 1 GiB.
    Memory { dfs: u32, memory: u32 },
    /// 16 bytes per global, in order; the last two are the write tracker's count and location.
    Globals {
        dfs: u32,
        globals: Vec<(u32, ValType)>,
    },
}

/// Core export names the instrumentation adds.
pub fn memory_export(index: u32) -> String {
    format!("{CORE_PREFIX}_memory{index}")
}
pub fn global_export(index: u32) -> String {
    format!("{CORE_PREFIX}_global{index}")
}

/// Kinds of write the tracker records, for the error message.
pub fn write_kind_name(kind: u32) -> &'static str {
    match kind {
        1 => "table.set",
        2 => "table.grow",
        3 => "table.fill",
        4 => "table.copy",
        5 => "table.init",
        6 => "global.set of a reference-typed global",
        _ => "an unsupported write",
    }
}

/// Instruments every instantiated module and appends the accessor to the root scope.
pub fn instrument(model: &Model) -> Result<(Vec<u8>, Plan)> {
    let mut replacements = vec![None; model.modules.len()];
    let mut records = Vec::new();
    for instance in &model.instances {
        let info = &model.modules[instance.module];
        let (bytes, mut instance_records) = instrument_module(instance, info)
            .with_context(|| format!("instrumenting {}", instance.describe(model)))?;
        replacements[instance.module] = Some(bytes);
        records.append(&mut instance_records);
    }
    let plan = Plan { records };
    let bytes = accessor::append_accessor(model, &replacements, &plan)?;
    Ok((bytes, plan))
}

fn instrument_module(instance: &CoreInstance, info: &ModuleInfo) -> Result<(Vec<u8>, Vec<Record>)> {
    let mut edit = ModuleEdit::default();
    let mut records = Vec::new();
    for (i, _) in info.memories.iter().enumerate() {
        let index = info.imported_memories + i as u32;
        edit.extra_exports
            .push((memory_export(index), ExportKind::Memory, index));
        records.push(Record::Memory {
            dfs: instance.dfs,
            memory: index,
        });
    }
    let mut globals = Vec::new();
    let mut re = RoundtripReencoder;
    for (index, ty) in info.mutable_globals() {
        let ty = re.val_type(ty.content_type)?;
        if matches!(ty, ValType::Ref(_)) {
            continue; // Reference globals are tracked by the write counter instead.
        }
        edit.extra_exports
            .push((global_export(index), ExportKind::Global, index));
        globals.push((index, ty));
    }
    // The write tracker: a counter and the (kind << 32 | function index) of the last write.
    let count = info.imported_globals + info.globals.len() as u32;
    let at = count + 1;
    edit.extra_globals
        .push((mutable(ValType::I32), ConstExpr::i32_const(0)));
    edit.extra_globals
        .push((mutable(ValType::I64), ConstExpr::i64_const(0)));
    for index in [count, at] {
        edit.extra_exports
            .push((global_export(index), ExportKind::Global, index));
    }
    globals.push((count, ValType::I32));
    globals.push((at, ValType::I64));
    records.push(Record::Globals {
        dfs: instance.dfs,
        globals,
    });

    let ref_globals: Vec<bool> = info.all_globals.iter().map(is_ref).collect();
    edit.body_edit = Some(Box::new(move |func, body: &FunctionBody| {
        track_writes(func, body, &ref_globals, count, at)
    }));
    Ok((edit_module(info.bytes, edit)?, records))
}

fn mutable(val_type: ValType) -> GlobalType {
    GlobalType {
        val_type,
        mutable: true,
        shared: false,
    }
}

fn is_ref(g: &wasmparser::GlobalType) -> bool {
    matches!(g.content_type, wasmparser::ValType::Ref(_))
}

/// Which tracked write `op` is, if any.
fn write_kind(op: &Operator, ref_globals: &[bool]) -> Option<u32> {
    Some(match op {
        Operator::TableSet { .. } => 1,
        Operator::TableGrow { .. } => 2,
        Operator::TableFill { .. } => 3,
        Operator::TableCopy { .. } => 4,
        Operator::TableInit { .. } => 5,
        Operator::GlobalSet { global_index }
            if ref_globals.get(*global_index as usize) == Some(&true) =>
        {
            6
        }
        _ => return None,
    })
}

/// Re-encodes `body` with a tracker update before every tracked write; `None` when it has none.
fn track_writes(
    func: u32,
    body: &FunctionBody,
    ref_globals: &[bool],
    count: u32,
    at: u32,
) -> Result<Option<Function>> {
    let mut any = false;
    for op in body.get_operators_reader()? {
        if write_kind(&op?, ref_globals).is_some() {
            any = true;
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    let mut re = RoundtripReencoder;
    let mut locals = Vec::new();
    for local in body.get_locals_reader()? {
        let (n, ty) = local?;
        locals.push((n, re.val_type(ty)?));
    }
    let mut f = Function::new(locals);
    for op in body.get_operators_reader()? {
        let op = op?;
        if let Some(kind) = write_kind(&op, ref_globals) {
            // Stack-neutral, so it can sit right before the write whatever its operands.
            f.instruction(&Instruction::I64Const(((kind as i64) << 32) | func as i64));
            f.instruction(&Instruction::GlobalSet(at));
            f.instruction(&Instruction::GlobalGet(count));
            f.instruction(&Instruction::I32Const(1));
            f.instruction(&Instruction::I32Add);
            f.instruction(&Instruction::GlobalSet(count));
        }
        f.instruction(&re.instruction(op)?);
    }
    Ok(Some(f))
}
