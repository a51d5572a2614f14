//! Instrumentation of one core module: state exports, probe globals, probe prologues, shims
//! for imported functions that can become funcrefs, and drop tracking. Purely additive: no
//! index of the original module moves.

use crate::encode::code::default_value;
use crate::encode::module::{edit_module, ElemSegment, ModuleEdit};
use crate::model::{CoreInstance, InputKind, ModuleInfo};
use crate::protocol::{
    global_export, memory_export, table_export, Record, DROPS_EXPORT, PROBE_OUT_EXPORT,
    PROBING_EXPORT,
};
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    BlockType, ConstExpr, ExportKind, Function, GlobalType, Instruction, MemArg, MemArgTarget,
    MemoryType, ValType,
};
use wasmparser::{FunctionBody, Operator};

/// In a component (`kind`), the accessor reaches the host through the canonical ABI, which
/// reads 32-bit memories only: a 64-bit memory is copied through the scratch memory. Probe
/// globals, prologues and shims serve only a probe: without `probe` (nothing in the scope is
/// probed) the module gets none.
pub(super) fn instrument_module(
    instance: &CoreInstance,
    info: &ModuleInfo,
    kind: InputKind,
    probe: bool,
) -> Result<(Vec<u8>, Vec<Record>)> {
    let dfs = instance.dfs;
    let mut edit = ModuleEdit::appending_to(info);
    let mut records = Vec::new();
    let mut re = RoundtripReencoder;

    for (index, memory) in info.defined_memories() {
        edit.export(memory_export(index), ExportKind::Memory, index);
        records.push(Record::Memory {
            dfs,
            memory: index,
            drops: false,
            in_place: !(kind == InputKind::Component && memory.memory64),
        });
    }
    let mut numeric = Vec::new();
    let mut refs = Vec::new();
    for (index, ty) in info.mutable_globals() {
        edit.export(global_export(index), ExportKind::Global, index);
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
        edit.export(table_export(table), ExportKind::Table, table);
        records.push(Record::Table { dfs, table });
    }
    if !refs.is_empty() {
        records.push(Record::RefGlobals { dfs, globals: refs });
    }

    // Probe globals, and shims for imported functions that can become funcrefs.
    let probe = match probe {
        true => Some(add_probe_globals_and_shims(info, &mut edit)?),
        false => None,
    };

    // Drop tracking.
    let drops = info.drops_segments.then(|| {
        let bytes = (info.elem_count + info.data_count) as u64;
        let memory = edit.append_memory(MemoryType {
            minimum: bytes.div_ceil(1 << 16).max(1),
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        edit.export(DROPS_EXPORT, ExportKind::Memory, memory);
        // The instrumentation's own memory is 32-bit.
        records.push(Record::Memory {
            dfs,
            memory,
            drops: true,
            in_place: true,
        });
        memory
    });

    let redirect = edit.redirect.clone();
    edit.body_edit = Some(Box::new(move |func, body: &FunctionBody| {
        let prologue = probe.as_ref().filter(|_| info.declared.contains(&func));
        edit_body(info, func, body, prologue, &redirect, drops)
    }));
    Ok((edit_module(info.bytes, edit)?.into_bytes(), records))
}

/// Appends and exports the probe globals, and a shim (redirected to) for every imported
/// function that can become a funcref.
fn add_probe_globals_and_shims(info: &ModuleInfo, edit: &mut ModuleEdit) -> Result<Probe> {
    let mutable_i32 = GlobalType {
        val_type: ValType::I32,
        mutable: true,
        shared: false,
    };
    let probing = edit.append_global(mutable_i32, ConstExpr::i32_const(0));
    let probe_out = edit.append_global(mutable_i32, ConstExpr::i32_const(-1));
    edit.export(PROBING_EXPORT, ExportKind::Global, probing);
    edit.export(PROBE_OUT_EXPORT, ExportKind::Global, probe_out);
    let mut shims = Vec::new();
    for &f in info.declared.iter().filter(|f| **f < info.imported_funcs) {
        let body = shim_body(info, f, probing, probe_out)?;
        let shim = edit.append_func(info.func_types[f as usize], body);
        edit.redirect.insert(f, shim);
        shims.push(shim);
    }
    if !shims.is_empty() {
        edit.extra_elems.push(ElemSegment::Declared(shims));
    }
    Ok(Probe { probing, probe_out })
}

struct Probe {
    probing: u32,
    probe_out: u32,
}

/// `body` with a probe prologue, redirected `ref.func`s and drop tracking, or `None` when none
/// of that applies. A body that only gets the prologue keeps its code as it is, byte for
/// byte: the prologue goes between its locals and its first instruction. Only the few bodies
/// with a redirected `ref.func` or a tracked drop are re-encoded instruction by instruction.
/// Splicing took the instrument stage from 101–134 to 25–34 ms on StarlingMonkey's engine
/// module (10.5 MB), and from 106–120 to 42–53 ms on componentize-py's component, whose
/// instrumented bytes grew from 10.55 to 10.85 MB: re-encoding had shortened the padded
/// LEB128 numbers its linker leaves in the code.
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
    let mut touched = false;
    if info.ref_or_drop_funcs.contains(&func) {
        for op in body.get_operators_reader()? {
            if touches(&op?) {
                touched = true;
                break;
            }
        }
    }
    if prologue.is_none() && !touched {
        return Ok(None);
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
    if !touched {
        let code = body.get_binary_reader_for_operators()?.original_position();
        let start = (code - body.range().start) as usize;
        f.raw(body.as_bytes()[start..].iter().copied());
        return Ok(Some(f));
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
        if let Some(default) = default_value(ty) {
            f.instruction(&default);
            continue;
        }
        if !matches!(ty, ValType::Ref(r) if super::identify::build_ref(f, info, 0, r)) {
            bail!(
                "function {func} returns a non-nullable reference of a type compsnap cannot \
                 build a value of (only i31, eq, any, extern, arrays, structs whose fields have \
                 defaults or are references of these kinds, and abstract structs and arrays \
                 where the module has such a type), so it cannot be probed (its table slot \
                 identity cannot be read)"
            );
        }
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

#[cfg(test)]
mod tests {
    use wasm_encoder::{CodeSection, ExportSection, FunctionSection, Module, TypeSection};

    /// A probed function gets its prologue in front of its code, which stays byte for byte
    /// what it was: here an `i32.const 5` whose number a linker padded to five bytes, which
    /// re-encoding would shorten.
    #[test]
    fn a_probed_body_keeps_its_code_bytes() {
        let code = [0x41, 0x85, 0x80, 0x80, 0x80, 0x00, 0x0b]; // i32.const 5 (padded), end
        let mut module = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], [wasm_encoder::ValType::I32]);
        module.section(&types);
        let mut funcs = FunctionSection::new();
        funcs.function(0);
        module.section(&funcs);
        let mut exports = ExportSection::new();
        exports.export("f", wasm_encoder::ExportKind::Func, 0);
        module.section(&exports);
        let mut bodies = CodeSection::new();
        let mut body = vec![0x00]; // no locals
        body.extend(code);
        bodies.raw(&body);
        module.section(&bodies);
        let bytes = module.finish();

        let model = crate::model::parse(&bytes).unwrap();
        assert!(model.scopes[0].modules[0].declared.contains(&0));
        let out = super::super::instrument_core(&model).unwrap();
        let mut first = None;
        for payload in wasmparser::Parser::new(0).parse_all(&out.module) {
            if let wasmparser::Payload::CodeSectionEntry(body) = payload.unwrap() {
                first.get_or_insert(body.as_bytes().to_vec());
            }
        }
        let first = first.expect("a code section");
        assert!(first.len() > body.len(), "no prologue: {first:02x?}");
        assert_eq!(first[0], 0x00, "locals: {first:02x?}");
        assert!(first.ends_with(&code), "code changed: {first:02x?}");
    }
}
