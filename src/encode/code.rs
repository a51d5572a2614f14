//! Small pieces of function bodies shared by the instrumentation's generated code.

use wasm_encoder::{BlockType, Function, Instruction, MemArg, MemArgTarget, ValType};

/// Appends `instructions` to `f`.
pub fn emit(f: &mut Function, instructions: &[Instruction]) {
    for i in instructions {
        f.instruction(i);
    }
}

/// `block loop <exit> br_if 1 <body> br 0 end end`: runs `body` until `exit` leaves true.
pub fn emit_loop(f: &mut Function, exit: &[Instruction], body: impl FnOnce(&mut Function)) {
    emit(
        f,
        &[
            Instruction::Block(BlockType::Empty),
            Instruction::Loop(BlockType::Empty),
        ],
    );
    emit(f, exit);
    f.instruction(&Instruction::BrIf(1));
    body(f);
    emit(f, &[Instruction::Br(0), Instruction::End, Instruction::End]);
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

/// A memory argument for memory 0 with offset 0 and alignment `2^align`.
pub fn memarg(align: u32) -> MemArg {
    MemArg {
        offset: 0,
        align,
        target: MemArgTarget::Memory(0),
        ordering: None,
    }
}
