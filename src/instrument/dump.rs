//! The accessor's `dump` function: what it calls, record by record, to send a scope's state
//! through the sink (see [`SINK_IMPORT`](crate::protocol::SINK_IMPORT) for what each call
//! carries). `accessor` decides how each record is reached ([`Reach`]); this writes the
//! code.

use super::probe::{identify_ref, probe_table, Ctx};
use crate::encode::code::{emit, emit_loop};
use crate::protocol::{Plan, TOO_LARGE};
use wasm_encoder::{Function, Instruction, ValType};

/// Largest chunk passed in one `put` call: 2^10 pages = 64 MiB. Wasmtime charges every byte
/// a host call lifts against a per-call "hostcall fuel" (128 MiB by default), even for a
/// `WasmList` it never copies.
const CHUNK_PAGES: i32 = 1 << 10;

/// The scratch memory's `put`: the accessor's first import, so function 0.
pub(super) const PUT: u32 = 0;

/// How `dump` reaches one record.
pub(super) enum Reach {
    Memory {
        memory: u32,
        put: u32,
        memory64: bool,
        /// The scratch memory the chunks are copied to before `put` (a 64-bit memory in a
        /// component).
        via: Option<u32>,
    },
    Globals(Vec<(u32, ValType)>),
    Table {
        table: u32,
        func: bool,
        table64: bool,
    },
    RefGlobals(Vec<(u32, bool)>),
    /// Sent by the host, or known without a dump
    /// ([`Record::KnownTable`](crate::protocol::Record::KnownTable)): not by `dump`.
    Host,
}

/// `globals_put` is the sink globals go through, one per call.
pub(super) fn dump_body(
    plan: &Plan,
    reach: &[Reach],
    globals_put: u32,
    probe: Option<&Ctx>,
) -> Function {
    use Instruction as I;
    // Locals: 0 pages left (a table's pages, when probing), 1 offset, 2 chunk pages, 3 slot,
    // 4 table size.
    let mut f = Function::new([(5, ValType::I32)]);
    for (tag, (_, how)) in plan.records.iter().zip(reach).enumerate() {
        let tag = tag as i32;
        match how {
            Reach::Memory {
                memory,
                put,
                memory64,
                via,
            } => dump_memory(&mut f, tag, *memory, *put, *memory64, *via),
            Reach::Globals(globals) => {
                for (global, ty) in globals {
                    // put(tag, 0, 0, lo, hi): an empty list, the value in lo and hi.
                    emit(&mut f, &[I::I32Const(tag), I::I32Const(0), I::I32Const(0)]);
                    value_bits(&mut f, *global, *ty);
                    f.instruction(&I::Call(globals_put));
                }
            }
            Reach::Table { .. } | Reach::RefGlobals(_) | Reach::Host => {}
        }
    }
    if let Some(ctx) = probe {
        f.instruction(&I::I32Const(1));
        f.instruction(&I::Call(ctx.f_set));
        for (tag, how) in reach.iter().enumerate() {
            let tag = tag as i32;
            match how {
                Reach::Table {
                    table,
                    func,
                    table64,
                } => {
                    probe_table(&mut f, *table, *func, *table64, ctx);
                    put_buffer(&mut f, tag, I::GlobalGet(ctx.ptr));
                }
                Reach::RefGlobals(globals) => {
                    f.instruction(&I::I32Const(0));
                    f.instruction(&I::GlobalSet(ctx.ptr));
                    for (global, func) in globals {
                        f.instruction(&I::GlobalGet(*global));
                        identify_ref(&mut f, *func, ctx);
                        f.instruction(&I::Call(ctx.f_emit));
                    }
                    put_buffer(&mut f, tag, I::GlobalGet(ctx.ptr));
                }
                _ => {}
            }
        }
        f.instruction(&I::I32Const(0));
        f.instruction(&I::Call(ctx.f_set));
    }
    f.instruction(&I::End);
    f
}

/// `put(tag, 0, len, 0, 0)` over the scratch memory.
fn put_buffer(f: &mut Function, tag: i32, len: Instruction) {
    use Instruction as I;
    emit(f, &[I::I32Const(tag), I::I32Const(0), len]);
    emit(f, &[I::I64Const(0), I::I64Const(0), I::Call(PUT)]);
}

/// `put(tag, offset, n << 16)` for every chunk of at most [`CHUNK_PAGES`] pages. A 64-bit
/// memory's size is wrapped to 32 bits, after a check that it holds at most 4 GiB. With
/// `via` (a 64-bit memory in a component, which the sink cannot be lowered over), each chunk
/// of at most [`COPY_PAGES`] is first copied to the start of that scratch memory, and `put`
/// from there.
fn dump_memory(
    f: &mut Function,
    tag: i32,
    memory: u32,
    put: u32,
    memory64: bool,
    via: Option<u32>,
) {
    use Instruction as I;
    let (left, offset, n) = (0, 1, 2);
    if memory64 {
        refuse_beyond_4gib(f, tag, memory, put);
    }
    f.instruction(&I::MemorySize(memory));
    if memory64 {
        f.instruction(&I::I32WrapI64);
    }
    emit(f, &[I::LocalSet(left), I::I32Const(0), I::LocalSet(offset)]);
    emit_loop(f, &[I::LocalGet(left), I::I32Eqz], |f| {
        // n = min(left, chunk)
        let chunk = I::I32Const(match via {
            Some(_) => COPY_PAGES,
            None => CHUNK_PAGES,
        });
        emit(
            f,
            &[
                I::LocalGet(left),
                chunk.clone(),
                I::LocalGet(left),
                chunk,
                I::I32LtU,
            ],
        );
        emit(f, &[I::Select, I::LocalSet(n)]);
        let bytes = [I::LocalGet(n), I::I32Const(16), I::I32Shl];
        match via {
            // memory.copy scratch[0..] <- memory[offset..]; put(tag, 0, n << 16)
            Some(scratch) => {
                emit(f, &[I::I32Const(0), I::LocalGet(offset), I::I64ExtendI32U]);
                emit(f, &bytes);
                f.instruction(&I::MemoryCopy {
                    dst_mem: scratch,
                    src_mem: memory,
                });
                emit(f, &[I::I32Const(tag), I::I32Const(0)]);
            }
            // put(tag, offset, n << 16)
            None => emit(f, &[I::I32Const(tag), I::LocalGet(offset)]),
        }
        emit(f, &bytes);
        emit(f, &[I::I64Const(0), I::I64Const(0), I::Call(put)]);
        // offset += n << 16; left -= n
        f.instruction(&I::LocalGet(offset));
        emit(f, &bytes);
        emit(f, &[I::I32Add, I::LocalSet(offset)]);
        emit(
            f,
            &[
                I::LocalGet(left),
                I::LocalGet(n),
                I::I32Sub,
                I::LocalSet(left),
            ],
        );
    });
}

/// A 64-bit memory of more than 2^16 pages: `put(tag | TOO_LARGE, 0, 0)`, which the host
/// answers with an error naming the memory.
fn refuse_beyond_4gib(f: &mut Function, tag: i32, memory: u32, put: u32) {
    use Instruction as I;
    emit(
        f,
        &[
            I::MemorySize(memory),
            I::I64Const(1 << 16),
            I::I64GtU,
            I::If(wasm_encoder::BlockType::Empty),
            I::I32Const((tag as u32 | TOO_LARGE) as i32),
            I::I32Const(0),
            I::I32Const(0),
            I::I64Const(0),
            I::I64Const(0),
            I::Call(put),
            I::Unreachable,
            I::End,
        ],
    );
}

/// Pages a 64-bit memory of a component is copied through the scratch memory in.
pub(super) const COPY_PAGES: i32 = 16;

/// Pushes the value of numeric `global` as two i64, `lo` and `hi`: the bits a 16-byte
/// little-endian store of it writes, zero-extended.
fn value_bits(f: &mut Function, global: u32, ty: ValType) {
    use Instruction as I;
    let get = I::GlobalGet(global);
    let zero = I::I64Const(0);
    match ty {
        ValType::I32 => emit(f, &[get, I::I64ExtendI32U, zero]),
        ValType::I64 => emit(f, &[get, zero]),
        ValType::F32 => emit(f, &[get, I::I32ReinterpretF32, I::I64ExtendI32U, zero]),
        ValType::F64 => emit(f, &[get, I::I64ReinterpretF64, zero]),
        ValType::V128 => emit(
            f,
            &[
                get.clone(),
                I::I64x2ExtractLane(0),
                get,
                I::I64x2ExtractLane(1),
            ],
        ),
        // Reference globals go through `Record::RefGlobals`, never here.
        ValType::Ref(_) => emit(f, &[I::Unreachable]),
    }
}
