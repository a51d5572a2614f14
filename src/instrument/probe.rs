//! The probe: identifying the function in a table slot from inside Wasm.
//!
//! Funcrefs cannot be compared, so the accessor asks each one who it is. Every instrumented
//! function starts with a prologue that, while its instance's `probing` flag is set, stores
//! its own index in `probe_out` and returns default results. The accessor calls a slot's
//! function (`identify`, see `identify.rs`) with default arguments and every flag set, then
//! reads which instance's `probe_out` changed. This file holds the accessor's side of that:
//! the loop over a table's slots, the helpers that set the flags and read the report, and
//! the buffer the codes go to. A core module input's host sees its tables and calls the
//! slots itself (`engine::host_probe`); the prologues are the same.

use super::identify::{dummy_body, identify_body, identify_indirect_body, ProbeCall};
use crate::encode::builder::ModuleBuilder;
use crate::encode::code::{emit, emit_loop, memarg};
use crate::model::{ModuleInfo, Scope};
use crate::protocol::{SLOT_NON_FUNC, SLOT_NULL, SLOT_UNIDENTIFIED};
use anyhow::Result;
use wasm_encoder::{BlockType, Function, Instruction, RefType, TableType, ValType};

pub(crate) struct Ctx {
    pub ptr: u32,
    pub f_emit: u32,
    pub f_set: u32,
    pub f_identify: u32,
}

pub(crate) fn is_func_ref(info: &ModuleInfo, rt: &wasmparser::RefType) -> bool {
    match rt.heap_type() {
        wasmparser::HeapType::Abstract { ty, .. } => {
            matches!(
                ty,
                wasmparser::AbstractHeapType::Func | wasmparser::AbstractHeapType::NoFunc
            )
        }
        wasmparser::HeapType::Concrete(idx) | wasmparser::HeapType::Exact(idx) => idx
            .as_module_index()
            .and_then(|i| info.signatures.get(i as usize))
            .is_some_and(|s| s.is_some()),
    }
}

/// Writes one u64 per slot of `table` into the scratch memory from address 0 on, and sets
/// `ptr` to their end. The memory grows once, to the table's size, before the loop: a slot
/// costs its probe and one store, not a call that checks the memory's size (on a 100 000 slot
/// table the dump took 2.7–3.0 instead of 3.2–3.3 ms). A table too large for the scratch
/// memory traps.
pub(crate) fn probe_table(f: &mut Function, table: u32, func: bool, table64: bool, ctx: &Ctx) {
    use Instruction as I;
    let (pages, slot, size) = (0, 3, 4);
    // A 64-bit table's size and slots are i64; its slots are counted in 32 bits.
    f.instruction(&I::TableSize(table));
    if table64 {
        f.instruction(&I::I32WrapI64);
    }
    f.instruction(&I::LocalSet(size));
    // pages = ceil(size * 8 / 64 KiB), computed in 64 bits.
    emit(
        f,
        &[
            I::LocalGet(size),
            I::I64ExtendI32U,
            I::I64Const(3),
            I::I64Shl,
            I::I64Const(65_535),
            I::I64Add,
            I::I64Const(16),
            I::I64ShrU,
            I::I32WrapI64,
            I::LocalTee(pages),
            I::MemorySize(0),
            I::I32GtU,
            I::If(BlockType::Empty),
            I::LocalGet(pages),
            I::MemorySize(0),
            I::I32Sub,
            I::MemoryGrow(0),
            I::I32Const(-1),
            I::I32Eq,
            I::If(BlockType::Empty),
            I::Unreachable,
            I::End,
            I::End,
            I::I32Const(0),
            I::LocalSet(slot),
        ],
    );
    let exit = [I::LocalGet(slot), I::LocalGet(size), I::I32GeU];
    emit_loop(f, &exit, |f| {
        emit(f, &[I::LocalGet(slot), I::I32Const(3), I::I32Shl]);
        f.instruction(&I::LocalGet(slot));
        if table64 {
            f.instruction(&I::I64ExtendI32U);
        }
        f.instruction(&I::TableGet(table));
        identify_ref(f, func, ctx);
        emit(
            f,
            &[
                I::I64Store(memarg(3)),
                I::LocalGet(slot),
                I::I32Const(1),
                I::I32Add,
                I::LocalSet(slot),
            ],
        );
    });
    emit(
        f,
        &[
            I::LocalGet(size),
            I::I32Const(3),
            I::I32Shl,
            I::GlobalSet(ctx.ptr),
        ],
    );
}

/// Turns the reference on the stack into its slot encoding.
pub(crate) fn identify_ref(f: &mut Function, func: bool, ctx: &Ctx) {
    use Instruction as I;
    if func {
        f.instruction(&I::Call(ctx.f_identify));
    } else {
        f.instruction(&I::RefIsNull);
        f.instruction(&I::If(BlockType::Result(ValType::I64)));
        f.instruction(&I::I64Const(SLOT_NULL));
        f.instruction(&I::Else);
        f.instruction(&I::I64Const(SLOT_NON_FUNC));
        f.instruction(&I::End);
    }
}

/// `read_out() -> i64`: `(dfs << 32) | probe_out` of the instance that reported, reset.
pub(crate) fn read_out_body(flags: &[(u32, u32, u32)]) -> Function {
    use Instruction as I;
    let mut f = Function::new([]);
    for &(dfs, _, out) in flags {
        f.instruction(&I::GlobalGet(out));
        f.instruction(&I::I32Const(-1));
        f.instruction(&I::I32Ne);
        f.instruction(&I::If(BlockType::Empty));
        f.instruction(&I::GlobalGet(out));
        f.instruction(&I::I64ExtendI32U);
        f.instruction(&I::I64Const((dfs as i64) << 32));
        f.instruction(&I::I64Or);
        f.instruction(&I::I32Const(-1));
        f.instruction(&I::GlobalSet(out));
        f.instruction(&I::Return);
        f.instruction(&I::End);
    }
    f.instruction(&I::I64Const(SLOT_UNIDENTIFIED));
    f.instruction(&I::End);
    f
}

pub(crate) fn set_probing_body(flags: &[(u32, u32, u32)]) -> Function {
    let mut f = Function::new([]);
    for &(_, probing, _) in flags {
        f.instruction(&Instruction::LocalGet(0));
        f.instruction(&Instruction::GlobalSet(probing));
    }
    f.instruction(&Instruction::End);
    f
}

/// `emit(v: i64)`: appends to the scratch buffer, growing it as needed.
pub(crate) fn emit_body(ptr: u32) -> Function {
    use Instruction as I;
    let mut f = Function::new([]);
    f.instruction(&I::GlobalGet(ptr));
    f.instruction(&I::I32Const(8));
    f.instruction(&I::I32Add);
    f.instruction(&I::MemorySize(0));
    f.instruction(&I::I32Const(16));
    f.instruction(&I::I32Shl);
    f.instruction(&I::I32GtU);
    f.instruction(&I::If(BlockType::Empty));
    f.instruction(&I::I32Const(16));
    f.instruction(&I::MemoryGrow(0));
    f.instruction(&I::Drop);
    f.instruction(&I::End);
    f.instruction(&I::GlobalGet(ptr));
    f.instruction(&I::LocalGet(0));
    f.instruction(&I::I64Store(memarg(3)));
    f.instruction(&I::GlobalGet(ptr));
    f.instruction(&I::I32Const(8));
    f.instruction(&I::I32Add);
    f.instruction(&I::GlobalSet(ptr));
    f.instruction(&I::End);
    f
}

/// Adds what probing identities takes to the accessor (types, the buffer pointer, the
/// helper functions and the dummies `identify` refers to) and returns their indices.
pub(crate) fn add_probe_helpers(
    m: &mut ModuleBuilder,
    model: &Scope,
    call: ProbeCall,
    candidates: &[(u32, u32, u32)],
    type_offset: &[u32],
    flags: &[(u32, u32, u32)],
    f_dump: u32,
) -> Result<Ctx> {
    let ty_emit = m.add_func_type(&[ValType::I64], &[]);
    let ty_read = m.add_func_type(&[], &[ValType::I64]);
    let ty_set = m.add_func_type(&[ValType::I32], &[]);
    let ty_identify = m.add_func_type(&[ValType::Ref(RefType::FUNCREF)], &[ValType::I64]);
    let mutable_i32 = wasm_encoder::GlobalType {
        val_type: ValType::I32,
        mutable: true,
        shared: false,
    };
    let ptr = m.add_global(mutable_i32, &wasm_encoder::ConstExpr::i32_const(0));
    let f_emit = m.add_func(ty_emit);
    let f_read = m.add_func(ty_read);
    let f_set = m.add_func(ty_set);
    let f_identify = m.add_func(ty_identify);
    let (identify, dummies) = match call {
        ProbeCall::Typed => identify_body(
            model,
            candidates,
            type_offset,
            f_read,
            f_dump,
            m.next_func(),
        )?,
        ProbeCall::Indirect(_) | ProbeCall::Nothing => {
            let slot = m.add_table(TableType {
                element_type: RefType::FUNCREF,
                table64: false,
                minimum: 1,
                maximum: Some(1),
                shared: false,
            });
            let body = identify_indirect_body(model, call, type_offset, f_read, slot)?;
            (body, Vec::new())
        }
    };
    m.set_body(f_emit, emit_body(ptr));
    m.set_body(f_read, read_out_body(flags));
    m.set_body(f_set, set_probing_body(flags));
    m.set_body(f_identify, identify);
    // `ref.func` in code needs its targets declared.
    let mut declared = vec![f_dump];
    for dummy in &dummies {
        let f = m.add_func(dummy.0);
        m.set_body(f, dummy_body(model, dummy, type_offset)?);
        declared.push(f);
    }
    m.elements()
        .declared(wasm_encoder::Elements::Functions(declared.into()));
    Ok(Ctx {
        ptr,
        f_emit,
        f_set,
        f_identify,
    })
}
