//! The accessor: how the host reads every instance's state after init.
//!
//! The instrumented component imports one host function, `compsnap-sink: func(tag: u32, data:
//! list<u8>)`, and exports `compsnap-dump: func()`. The dump function lives in an accessor core
//! module instantiated after everything else:
//! - each memory is sent, in chunks, through a copy of the sink canon-lowered *over that
//!   memory*, so the host reads the guest memory in place and nothing is written into it;
//! - globals are stored into a scratch memory first and sent the same way;
//! - each table slot (and reference global) is identified by probing (see `probe`) and sent
//!   as one u64 per slot; a table no code writes is not sent, its slots are in the plan
//!   ([`Record::KnownTable`]).

use super::identify::{candidate_types, probe_call, ProbeCall};
use super::probe::{add_probe_helpers, identify_ref, is_func_ref, probe_table, Ctx};
use crate::encode::builder::{BodyBuilder, Bound, BoundImports, ModuleBuilder};
use crate::encode::code::{emit, emit_loop, memarg};
use crate::encode::types::Shift;
use crate::model::{InputKind, Scope};
use crate::protocol::{
    global_export, memory_export, table_export, CoreBinding, Plan, Record, CORE_ACCESSOR_MODULE,
    CORE_DUMP_EXPORT, DROPS_EXPORT, DUMP_EXPORT, PROBE_OUT_EXPORT, PROBING_EXPORT, TOO_LARGE,
};
use anyhow::{bail, Result};
use wasm_encoder::reencode::Reencode;
use wasm_encoder::{
    CanonicalOption, EntityType, ExportKind, Function, Instruction, MemoryType, Module, TableType,
    ValType,
};

/// Largest chunk passed in one `put` call: 2^10 pages = 64 MiB. Wasmtime charges every byte
/// a host call lifts against a per-call "hostcall fuel" (128 MiB by default), even for a
/// `WasmList` it never copies.
const CHUNK_PAGES: i32 = 1 << 10;

/// A scope's accessor, ready to be appended to its body.
pub struct Accessor {
    module: AccessorModule,
}

impl Accessor {
    /// The accessor of `scope`. Each memory record says whether the host reads it in place
    /// or the accessor copies it through the scratch memory, chunk by chunk (a 64-bit memory
    /// in a component: the canonical ABI reads 32-bit memories only). For a core module
    /// (`kind`), whose tables the host sees, the host identifies table slots and reference
    /// globals itself, so the accessor sends memories and numeric globals only, and needs
    /// no typed-reference instruction.
    pub fn build(scope: &Scope, plan: &Plan, kind: InputKind) -> Result<Self> {
        Ok(Accessor {
            module: AccessorModule::build(scope, plan, kind == InputKind::Module)?,
        })
    }

    /// Whether the accessor probes with `ref.test` and `call_ref`: typed function
    /// references, which Winch does not compile.
    pub fn typed_probes(&self) -> bool {
        self.module.typed_probes
    }

    /// Appends the accessor and its `compsnap-dump` export to a body (sink prepended).
    pub fn append(&self, scope: &Scope, body: &mut BodyBuilder) {
        append_sections(scope, &self.module, body);
    }

    /// The accessor as a core module the host links itself, for a core module input (one
    /// instance): its bytes and what each import is bound to.
    pub fn into_core(self) -> (Vec<u8>, Vec<(String, CoreBinding)>) {
        let args = &self.module.args;
        let export_of = |arg: usize| match &args[arg].from {
            ArgFrom::Instance { export, .. } => Some(export.clone()),
            _ => None,
        };
        let bindings = args
            .iter()
            .map(|arg| {
                let binding = match &arg.from {
                    ArgFrom::Scratch => CoreBinding::Scratch {
                        pages: self.module.scratch_pages,
                    },
                    ArgFrom::Put(memory) => CoreBinding::Put {
                        memory: memory.and_then(export_of),
                    },
                    ArgFrom::Instance { export, .. } => CoreBinding::Export(export.clone()),
                };
                (arg.name.clone(), binding)
            })
            .collect();
        (self.module.module.finish(), bindings)
    }
}

/// Pages of the accessor's scratch memory: room for the largest record of globals, 16
/// bytes each (it grows as needed for table slots).
fn scratch_pages(plan: &Plan) -> u64 {
    let max_globals = plan
        .records
        .iter()
        .map(|r| match r {
            Record::Globals { globals, .. } => globals.len(),
            _ => 0,
        })
        .max()
        .unwrap_or(0);
    ((max_globals * 16).div_ceil(1 << 16)).max(1) as u64
}

/// Re-exports the dump functions of child instances: (component instance, [(child's export
/// name, name to export it as)]).
pub fn append_reexports(body: &mut BodyBuilder, children: &[(u32, Vec<(String, String)>)]) {
    for (instance, names) in children {
        for (name, as_name) in names {
            let func = body.add_func_alias(*instance, name);
            body.add_func_export(as_name, func);
        }
    }
}

/// What one import of the accessor module (all from instance "a") is bound to.
enum ArgFrom {
    Scratch,
    /// The sink lowered over the scratch memory, or over the memory imported as argument `.0`.
    Put(Option<usize>),
    Instance {
        dfs: u32,
        export: String,
    },
}

struct AccessorModule {
    module: Module,
    args: Vec<Bound<ArgFrom>>,
    /// Pages of the scratch memory the accessor needs.
    scratch_pages: u64,
    /// It probes with `ref.test` and `call_ref` ([`ProbeCall::Typed`]).
    typed_probes: bool,
}

impl AccessorModule {
    fn build(model: &Scope, plan: &Plan, host_probes: bool) -> Result<Self> {
        let mut m = ModuleBuilder::new();
        let probes = !host_probes && plan.probes();

        // Every module's types, shifted, when identities have to be probed.
        let type_offset = match probes {
            true => m.add_types_of(model)?,
            false => vec![0; model.instances.len()],
        };
        let ty_put = m.add_func_type(&[ValType::I32; 3], &[]);
        let ty_void = m.add_func_type(&[], &[]);

        let mut im = Imports {
            m,
            args: BoundImports::new(CORE_ACCESSOR_MODULE),
        };
        let scratch = im.add(
            "scratch".into(),
            EntityType::Memory(memory_type(0)),
            ArgFrom::Scratch,
        );
        let mut scratch_pages = scratch_pages(plan);
        let put = im.add(
            "put".into(),
            EntityType::Function(ty_put),
            ArgFrom::Put(None),
        );
        debug_assert_eq!(put, PUT, "dump calls the scratch `put` as function {PUT}");

        // Per record: what dump needs to reach it.
        let mut reach: Vec<Reach> = Vec::new();
        for (r, record) in plan.records.iter().enumerate() {
            match record {
                record if host_probes && record.is_probed() => reach.push(Reach::Host),
                Record::KnownTable { .. } => reach.push(Reach::Host),
                Record::Memory {
                    dfs,
                    memory,
                    drops,
                    in_place,
                } => {
                    let export = if *drops {
                        DROPS_EXPORT.to_string()
                    } else {
                        memory_export(*memory)
                    };
                    let memory_arg = im.args.bound.len();
                    // The segment-drop record is the instrumentation's own 32-bit memory.
                    let memory64 =
                        !*drops && model.module_of(*dfs).memories[*memory as usize].memory64;
                    let memory_ty = EntityType::Memory(MemoryType {
                        memory64,
                        ..memory_type(0)
                    });
                    let memory = im.item(format!("m{r}"), memory_ty, *dfs, export);
                    let via = (!*in_place).then_some(scratch);
                    let put = match via {
                        Some(_) => {
                            scratch_pages = scratch_pages.max(COPY_PAGES as u64);
                            PUT
                        }
                        None => {
                            let from = ArgFrom::Put(Some(memory_arg));
                            im.add(format!("p{r}"), EntityType::Function(ty_put), from)
                        }
                    };
                    reach.push(Reach::Memory {
                        memory,
                        put,
                        memory64,
                        via,
                    });
                }
                Record::Globals { dfs, globals } => {
                    let mut list = Vec::new();
                    for (j, (index, ty)) in globals.iter().enumerate() {
                        let ty_g = EntityType::Global(mutable(*ty));
                        let global =
                            im.item(format!("g{r}_{j}"), ty_g, *dfs, global_export(*index));
                        list.push((global, *ty));
                    }
                    reach.push(Reach::Globals(list));
                }
                Record::Table { dfs, table } => {
                    let info = model.module_of(*dfs);
                    let ty = info.tables[*table as usize];
                    let element_type =
                        Shift(type_offset[*dfs as usize]).ref_type(ty.element_type)?;
                    let tt = TableType {
                        element_type,
                        table64: ty.table64,
                        minimum: 0,
                        maximum: None,
                        shared: false,
                    };
                    let table = im.item(
                        format!("t{r}"),
                        EntityType::Table(tt),
                        *dfs,
                        table_export(*table),
                    );
                    reach.push(Reach::Table {
                        table,
                        func: is_func_ref(info, &ty.element_type),
                        table64: ty.table64,
                    });
                }
                Record::RefGlobals { dfs, globals } => {
                    let info = model.module_of(*dfs);
                    let mut list = Vec::new();
                    for (j, index) in globals.iter().enumerate() {
                        let g = info.globals[*index as usize];
                        let wasmparser::ValType::Ref(rt) = g.content_type else {
                            bail!("global {index} is not a reference");
                        };
                        let val_type =
                            ValType::Ref(Shift(type_offset[*dfs as usize]).ref_type(rt)?);
                        let ty_g = EntityType::Global(mutable(val_type));
                        let global =
                            im.item(format!("rg{r}_{j}"), ty_g, *dfs, global_export(*index));
                        list.push((global, is_func_ref(info, &rt)));
                    }
                    reach.push(Reach::RefGlobals(list));
                }
            }
        }
        // Probe flags of every instance: (local id, probing, probe_out).
        let mut flags = Vec::new();
        if probes {
            for instance in &model.instances {
                let dfs = instance.dfs;
                let flag = EntityType::Global(mutable(ValType::I32));
                let probing = im.item(format!("probing{dfs}"), flag, dfs, PROBING_EXPORT.into());
                let out = im.item(format!("out{dfs}"), flag, dfs, PROBE_OUT_EXPORT.into());
                flags.push((dfs, probing, out));
            }
        }
        let Imports { mut m, args } = im;
        let args = args.bound;
        let candidates = if probes {
            candidate_types(model, &type_offset)?
        } else {
            Vec::new()
        };

        // Defined: dump; when identities are probed, the buffer pointer, then emit,
        // read_out, set_probing, identify and the dummies identify refers to.
        let call = probes.then(|| probe_call(model, &candidates));
        let f_dump = m.add_func(ty_void);
        let ctx = match call {
            None => None,
            Some(call) => Some(add_probe_helpers(
                &mut m,
                model,
                call,
                &candidates,
                &type_offset,
                &flags,
                f_dump,
            )?),
        };
        m.set_body(f_dump, dump_body(plan, &reach, ctx.as_ref()));
        m.export(CORE_DUMP_EXPORT, ExportKind::Func, f_dump);
        Ok(AccessorModule {
            module: m.finish(),
            args,
            scratch_pages,
            typed_probes: call == Some(ProbeCall::Typed),
        })
    }
}

/// The accessor module while its imports are added.
struct Imports {
    m: ModuleBuilder,
    args: BoundImports<ArgFrom>,
}

impl Imports {
    /// An import bound as `from`; returns its index in the space of its kind.
    fn add(&mut self, name: String, ty: EntityType, from: ArgFrom) -> u32 {
        self.args.add(&mut self.m, name, ty, from)
    }

    /// An import bound to export `export` of instance `dfs` (a local id).
    fn item(&mut self, name: String, ty: EntityType, dfs: u32, export: String) -> u32 {
        self.add(name, ty, ArgFrom::Instance { dfs, export })
    }
}

/// The scratch memory's `put`: the accessor's first import, so function 0.
const PUT: u32 = 0;

fn mutable(val_type: ValType) -> wasm_encoder::GlobalType {
    wasm_encoder::GlobalType {
        val_type,
        mutable: true,
        shared: false,
    }
}

/// How `dump` reaches one record.
enum Reach {
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
    /// Sent by the host, or known without a dump ([`Record::KnownTable`]): not by `dump`.
    Host,
}

fn dump_body(plan: &Plan, reach: &[Reach], probe: Option<&Ctx>) -> Function {
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
                for (slot, (global, ty)) in globals.iter().enumerate() {
                    f.instruction(&I::I32Const(slot as i32 * 16));
                    f.instruction(&I::GlobalGet(*global));
                    f.instruction(&store(*ty));
                }
                put_buffer(&mut f, tag, I::I32Const(globals.len() as i32 * 16));
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

/// `put(tag, 0, len)` over the scratch memory.
fn put_buffer(f: &mut Function, tag: i32, len: Instruction) {
    f.instruction(&Instruction::I32Const(tag));
    f.instruction(&Instruction::I32Const(0));
    f.instruction(&len);
    f.instruction(&Instruction::Call(PUT));
}

fn append_sections(model: &Scope, accessor: &AccessorModule, body: &mut BodyBuilder) {
    let instance_of = |dfs: u32| model.instances[dfs as usize].core_instance_index;

    // The sink is prepended to the body (see `encode::tree`); only the dump's type is new.
    let sink = 0;
    let dump_ty = body.add_void_func_type();

    // Scratch memory for globals and probe results; it grows as needed.
    let mut scratch = Module::new();
    let mut mem = wasm_encoder::MemorySection::new();
    mem.memory(memory_type(accessor.scratch_pages));
    scratch.section(&mem);
    let mut exports = wasm_encoder::ExportSection::new();
    exports.export("memory", ExportKind::Memory, 0);
    scratch.section(&exports);
    let scratch_module = body.add_module(&scratch);
    let scratch_instance = body.add_instantiation(scratch_module, &[]);

    // Alias every item the accessor imports; remember each one's index in the body's space.
    let scratch_memory = body.add_core_alias(scratch_instance, ExportKind::Memory, "memory");
    let mut indices = vec![0u32; accessor.args.len()];
    for (a, arg) in accessor.args.iter().enumerate() {
        match &arg.from {
            ArgFrom::Scratch => indices[a] = scratch_memory,
            ArgFrom::Put(_) => {}
            ArgFrom::Instance { dfs, export } => {
                indices[a] = body.add_core_alias(instance_of(*dfs), arg.kind, export);
            }
        }
    }

    // The sink lowered over the scratch memory and over each dumped memory.
    for (a, arg) in accessor.args.iter().enumerate() {
        if let ArgFrom::Put(record) = arg.from {
            let memory = match record {
                None => scratch_memory,
                Some(memory_arg) => indices[memory_arg],
            };
            indices[a] = body.add_lower(sink, &[CanonicalOption::Memory(memory)]);
        }
    }

    let items: Vec<(&str, ExportKind, u32)> = accessor
        .args
        .iter()
        .zip(&indices)
        .map(|(arg, index)| (arg.name.as_str(), arg.kind, *index))
        .collect();
    let args_instance = body.add_instance_of_items(&items);
    let module = body.add_module(&accessor.module);
    let accessor_instance = body.add_instantiation(module, &[("a", args_instance)]);
    let dump = body.add_core_alias(accessor_instance, ExportKind::Func, CORE_DUMP_EXPORT);
    let lifted = body.add_lift(dump, dump_ty);
    body.add_func_export(DUMP_EXPORT, lifted);
}

fn memory_type(minimum: u64) -> MemoryType {
    MemoryType {
        minimum,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    }
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
        f.instruction(&I::Call(put));
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
            I::Call(put),
            I::Unreachable,
            I::End,
        ],
    );
}

/// Pages a 64-bit memory of a component is copied through the scratch memory in.
const COPY_PAGES: i32 = 16;

fn store(ty: ValType) -> Instruction<'static> {
    match ty {
        ValType::I32 => Instruction::I32Store(memarg(2)),
        ValType::I64 => Instruction::I64Store(memarg(3)),
        ValType::F32 => Instruction::F32Store(memarg(2)),
        ValType::F64 => Instruction::F64Store(memarg(3)),
        ValType::V128 => Instruction::V128Store(memarg(4)),
        // Reference globals go through `Record::RefGlobals`, never here.
        ValType::Ref(_) => Instruction::Unreachable,
    }
}
