//! The accessor: how the host reads every instance's state after init.
//!
//! The instrumented component imports one host function, `compsnap-sink: func(tag: u32, data:
//! list<u8>)`, and exports `compsnap-dump: func()`. The dump function lives in an accessor core
//! module instantiated after everything else:
//! - each memory is sent, in chunks, through a copy of the sink canon-lowered *over that
//!   memory*, so the host reads the guest memory in place and nothing is written into it;
//! - globals are stored into a scratch memory first and sent the same way;
//! - each table slot (and reference global) is identified by probing (see `probe`) and sent
//!   as one u64 per slot.

use crate::instrument::{
    global_export, memory_export, table_export, Plan, Record, DROPS_EXPORT, PROBE_OUT_EXPORT,
    PROBING_EXPORT,
};
use crate::parse::{IndexCounts, Scope};
use crate::probe::{
    candidate_types, copy_types, dummy_body, emit_body, identify_body, identify_ref, is_func_ref,
    probe_table, read_out_body, set_probing_body, Ctx, Shift,
};
use anyhow::{bail, Result};
use wasm_encoder::reencode::Reencode;
use wasm_encoder::{
    Alias, BlockType, CanonicalFunctionSection, CanonicalOption, CodeSection, Component,
    ComponentAliasSection, ComponentExportKind, ComponentExportSection, ComponentTypeSection,
    ComponentValType, EntityType, ExportKind, ExportSection, Function, FunctionSection,
    GlobalSection, ImportSection, InstanceSection, Instruction, MemArg, MemArgTarget, MemoryType,
    Module, ModuleArg, ModuleSection, RefType, TableType, TypeSection, ValType,
};

/// The component export the host calls after init to stream all state.
pub const DUMP_EXPORT: &str = "compsnap-dump";

/// Largest chunk passed in one `put` call: 2^10 pages = 64 MiB. Wasmtime charges every byte
/// a host call lifts against a per-call "hostcall fuel" (128 MiB by default), even for a
/// `WasmList` it never copies.
const CHUNK_PAGES: i32 = 1 << 10;

/// A scope's accessor, ready to be appended to its body.
pub struct Accessor {
    module: AccessorModule,
}

impl Accessor {
    pub fn build(scope: &Scope, plan: &Plan) -> Result<Self> {
        Ok(Accessor {
            module: AccessorModule::build(scope, plan)?,
        })
    }

    /// Appends the accessor and its `compsnap-dump` export to a body whose sizes (sink
    /// prepended) are `counts`; returns the size of the component function space after it.
    pub fn append(
        &self,
        scope: &Scope,
        counts: IndexCounts,
        plan: &Plan,
        component: &mut Component,
    ) -> u32 {
        append_sections(scope, counts, plan, &self.module, component);
        counts.component_funcs + 2
    }
}

/// Re-exports the dump functions of child instances: (component instance, [(child's export
/// name, name to export it as)]). `funcs` is the size of the component function space.
pub fn append_reexports(
    component: &mut Component,
    mut funcs: u32,
    children: &[(u32, Vec<(String, String)>)],
) {
    for (instance, names) in children {
        for (name, as_name) in names {
            let mut aliases = ComponentAliasSection::new();
            aliases.alias(Alias::InstanceExport {
                instance: *instance,
                kind: ComponentExportKind::Func,
                name,
            });
            component.section(&aliases);
            let mut exports = ComponentExportSection::new();
            exports.export(as_name, ComponentExportKind::Func, funcs, None);
            component.section(&exports);
            funcs += 2;
        }
    }
}

/// One import of the accessor module, all from instance "a": name, kind and the export of
/// core instance `dfs` it is (or `None` for the scratch memory and the lowered sinks).
struct Arg {
    name: String,
    kind: ExportKind,
    from: ArgFrom,
}

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
    args: Vec<Arg>,
}

/// Index bookkeeping while the accessor module is built.
#[derive(Default)]
struct Spaces {
    types: u32,
    funcs: u32,
    memories: u32,
    globals: u32,
    tables: u32,
}

impl AccessorModule {
    fn build(model: &Scope, plan: &Plan) -> Result<Self> {
        let mut sp = Spaces::default();
        let mut types = TypeSection::new();
        let probes = plan
            .records
            .iter()
            .any(|r| matches!(r, Record::Table { .. } | Record::RefGlobals { .. }));

        // Every module's types, shifted, when identities have to be probed.
        let type_offset = match probes {
            true => copy_types(model, &mut types, &mut sp.types)?,
            false => vec![0; model.instances.len()],
        };
        let ty_put = sp.types;
        types.ty().function([ValType::I32; 3], []);
        let ty_void = ty_put + 1;
        types.ty().function([], []);
        let ty_emit = ty_put + 2;
        types.ty().function([ValType::I64], []);
        let ty_read = ty_put + 3;
        types.ty().function([], [ValType::I64]);
        let ty_set = ty_put + 4;
        types.ty().function([ValType::I32], []);
        let ty_identify = ty_put + 5;
        types
            .ty()
            .function([ValType::Ref(RefType::FUNCREF)], [ValType::I64]);

        let mut imports = ImportSection::new();
        let mut args = Vec::new();
        let import = |imports: &mut ImportSection,
                      args: &mut Vec<Arg>,
                      name: String,
                      ty: EntityType,
                      kind,
                      from| {
            imports.import("a", &name, ty);
            args.push(Arg { name, kind, from });
        };
        import(
            &mut imports,
            &mut args,
            "scratch".into(),
            EntityType::Memory(memory_type(0)),
            ExportKind::Memory,
            ArgFrom::Scratch,
        );
        sp.memories += 1;
        import(
            &mut imports,
            &mut args,
            "put".into(),
            EntityType::Function(ty_put),
            ExportKind::Func,
            ArgFrom::Put(None),
        );
        sp.funcs += 1;

        // Per record: what dump needs to reach it.
        let mut reach: Vec<Reach> = Vec::new();
        for (r, record) in plan.records.iter().enumerate() {
            match record {
                Record::Memory { dfs, memory, drops } => {
                    let export = if *drops {
                        DROPS_EXPORT.to_string()
                    } else {
                        memory_export(*memory)
                    };
                    let memory_arg = args.len();
                    import(
                        &mut imports,
                        &mut args,
                        format!("m{r}"),
                        EntityType::Memory(memory_type(0)),
                        ExportKind::Memory,
                        ArgFrom::Instance { dfs: *dfs, export },
                    );
                    import(
                        &mut imports,
                        &mut args,
                        format!("p{r}"),
                        EntityType::Function(ty_put),
                        ExportKind::Func,
                        ArgFrom::Put(Some(memory_arg)),
                    );
                    reach.push(Reach::Memory {
                        memory: sp.memories,
                        put: sp.funcs,
                    });
                    sp.memories += 1;
                    sp.funcs += 1;
                }
                Record::Globals { dfs, globals } => {
                    let mut list = Vec::new();
                    for (j, (index, ty)) in globals.iter().enumerate() {
                        let gt = wasm_encoder::GlobalType {
                            val_type: *ty,
                            mutable: true,
                            shared: false,
                        };
                        import(
                            &mut imports,
                            &mut args,
                            format!("g{r}_{j}"),
                            EntityType::Global(gt),
                            ExportKind::Global,
                            ArgFrom::Instance {
                                dfs: *dfs,
                                export: global_export(*index),
                            },
                        );
                        list.push((sp.globals, *ty));
                        sp.globals += 1;
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
                    import(
                        &mut imports,
                        &mut args,
                        format!("t{r}"),
                        EntityType::Table(tt),
                        ExportKind::Table,
                        ArgFrom::Instance {
                            dfs: *dfs,
                            export: table_export(*table),
                        },
                    );
                    reach.push(Reach::Table {
                        table: sp.tables,
                        func: is_func_ref(info, &ty.element_type),
                    });
                    sp.tables += 1;
                }
                Record::RefGlobals { dfs, globals } => {
                    let info = model.module_of(*dfs);
                    let mut list = Vec::new();
                    for (j, index) in globals.iter().enumerate() {
                        let g = info.all_globals[*index as usize];
                        let wasmparser::ValType::Ref(rt) = g.content_type else {
                            bail!("global {index} is not a reference");
                        };
                        let val_type =
                            ValType::Ref(Shift(type_offset[*dfs as usize]).ref_type(rt)?);
                        let gt = wasm_encoder::GlobalType {
                            val_type,
                            mutable: true,
                            shared: false,
                        };
                        import(
                            &mut imports,
                            &mut args,
                            format!("rg{r}_{j}"),
                            EntityType::Global(gt),
                            ExportKind::Global,
                            ArgFrom::Instance {
                                dfs: *dfs,
                                export: global_export(*index),
                            },
                        );
                        list.push((sp.globals, is_func_ref(info, &rt)));
                        sp.globals += 1;
                    }
                    reach.push(Reach::RefGlobals(list));
                }
            }
        }
        // Probe flags of every instance.
        let mut flags = Vec::new();
        if probes {
            let i32_mut = wasm_encoder::GlobalType {
                val_type: ValType::I32,
                mutable: true,
                shared: false,
            };
            for instance in &model.instances {
                let dfs = instance.dfs;
                import(
                    &mut imports,
                    &mut args,
                    format!("probing{dfs}"),
                    EntityType::Global(i32_mut),
                    ExportKind::Global,
                    ArgFrom::Instance {
                        dfs,
                        export: PROBING_EXPORT.into(),
                    },
                );
                import(
                    &mut imports,
                    &mut args,
                    format!("out{dfs}"),
                    EntityType::Global(i32_mut),
                    ExportKind::Global,
                    ArgFrom::Instance {
                        dfs,
                        export: PROBE_OUT_EXPORT.into(),
                    },
                );
                flags.push((dfs, sp.globals, sp.globals + 1));
                sp.globals += 2;
            }
        }
        let candidates = if probes {
            candidate_types(model, &type_offset)?
        } else {
            Vec::new()
        };

        // Defined: the buffer pointer, then dump, emit, read_out, set_probing, identify.
        let ptr = sp.globals;
        let f_dump = sp.funcs;
        let f_emit = f_dump + 1;
        let f_read = f_dump + 2;
        let f_set = f_dump + 3;
        let f_identify = f_dump + 4;
        let ctx = Ctx {
            ptr,
            f_emit,
            f_set,
            f_identify,
        };

        let (identify, dummies) = identify_body(
            model,
            &candidates,
            &type_offset,
            f_read,
            f_dump,
            f_identify + 1,
        )?;
        let mut funcs = FunctionSection::new();
        let mut code = CodeSection::new();
        for (ty, body) in [
            (ty_void, dump_body(plan, &reach, &ctx)),
            (ty_emit, emit_body(ptr)),
            (ty_read, read_out_body(&flags)),
            (ty_set, set_probing_body(&flags)),
            (ty_identify, identify),
        ] {
            funcs.function(ty);
            code.function(&body);
        }
        for dummy in &dummies {
            funcs.function(dummy.0);
            code.function(&dummy_body(model, dummy, &type_offset)?);
        }
        // `ref.func` in code needs its targets declared.
        let mut elements = wasm_encoder::ElementSection::new();
        let declared: Vec<u32> = std::iter::once(f_dump)
            .chain((0..dummies.len() as u32).map(|d| f_identify + 1 + d))
            .collect();
        elements.declared(wasm_encoder::Elements::Functions(declared.into()));
        let mut globals = GlobalSection::new();
        globals.global(
            wasm_encoder::GlobalType {
                val_type: ValType::I32,
                mutable: true,
                shared: false,
            },
            &wasm_encoder::ConstExpr::i32_const(0),
        );
        let mut exports = ExportSection::new();
        exports.export("dump", ExportKind::Func, f_dump);

        let mut module = Module::new();
        module.section(&types);
        module.section(&imports);
        module.section(&funcs);
        module.section(&globals);
        module.section(&exports);
        module.section(&elements);
        module.section(&code);
        Ok(AccessorModule { module, args })
    }
}

/// How `dump` reaches one record.
enum Reach {
    Memory { memory: u32, put: u32 },
    Globals(Vec<(u32, ValType)>),
    Table { table: u32, func: bool },
    RefGlobals(Vec<(u32, bool)>),
}

fn dump_body(plan: &Plan, reach: &[Reach], ctx: &Ctx) -> Function {
    use Instruction as I;
    // Locals: 0 pages left, 1 offset, 2 chunk pages, 3 slot, 4 table size.
    let mut f = Function::new([(5, ValType::I32)]);
    let probes = reach
        .iter()
        .any(|r| matches!(r, Reach::Table { .. } | Reach::RefGlobals(_)));
    for (tag, (_, how)) in plan.records.iter().zip(reach).enumerate() {
        let tag = tag as i32;
        match how {
            Reach::Memory { memory, put } => dump_memory(&mut f, tag, *memory, *put),
            Reach::Globals(globals) => {
                for (slot, (global, ty)) in globals.iter().enumerate() {
                    f.instruction(&I::I32Const(slot as i32 * 16));
                    f.instruction(&I::GlobalGet(*global));
                    f.instruction(&store(*ty));
                }
                put_buffer(&mut f, tag, Some(globals.len() as i32 * 16), ctx);
            }
            Reach::Table { .. } | Reach::RefGlobals(_) => {}
        }
    }
    if probes {
        f.instruction(&I::I32Const(1));
        f.instruction(&I::Call(ctx.f_set));
        for (tag, how) in reach.iter().enumerate() {
            let tag = tag as i32;
            match how {
                Reach::Table { table, func } => {
                    f.instruction(&I::I32Const(0));
                    f.instruction(&I::GlobalSet(ctx.ptr));
                    probe_table(&mut f, *table, *func, ctx);
                    put_buffer(&mut f, tag, None, ctx);
                }
                Reach::RefGlobals(globals) => {
                    f.instruction(&I::I32Const(0));
                    f.instruction(&I::GlobalSet(ctx.ptr));
                    for (global, func) in globals {
                        f.instruction(&I::GlobalGet(*global));
                        identify_ref(&mut f, *func, ctx);
                        f.instruction(&I::Call(ctx.f_emit));
                    }
                    put_buffer(&mut f, tag, None, ctx);
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

/// `put(tag, 0, len)` over the scratch memory; `len` defaults to the buffer pointer.
fn put_buffer(f: &mut Function, tag: i32, len: Option<i32>, ctx: &Ctx) {
    f.instruction(&Instruction::I32Const(tag));
    f.instruction(&Instruction::I32Const(0));
    match len {
        Some(len) => f.instruction(&Instruction::I32Const(len)),
        None => f.instruction(&Instruction::GlobalGet(ctx.ptr)),
    };
    f.instruction(&Instruction::Call(0));
}

fn append_sections(
    model: &Scope,
    c: IndexCounts,
    plan: &Plan,
    accessor: &AccessorModule,
    component: &mut Component,
) {
    let instance_of = |dfs: u32| model.instances[dfs as usize].core_instance_index;

    // The sink is prepended to the body (see `tree_edit`); only the dump's type is new.
    let sink = 0;
    let dump_ty = c.component_types;
    let mut types = ComponentTypeSection::new();
    types
        .function()
        .params(Vec::<(&str, ComponentValType)>::new())
        .result(None);
    component.section(&types);

    // Scratch memory for globals and probe results; it grows as needed.
    let max_globals = plan
        .records
        .iter()
        .map(|r| match r {
            Record::Globals { globals, .. } => globals.len(),
            _ => 0,
        })
        .max()
        .unwrap_or(0);
    let scratch_pages = ((max_globals * 16).div_ceil(1 << 16)).max(1) as u64;
    let mut scratch = Module::new();
    let mut mem = wasm_encoder::MemorySection::new();
    mem.memory(memory_type(scratch_pages));
    scratch.section(&mem);
    let mut exports = ExportSection::new();
    exports.export("memory", ExportKind::Memory, 0);
    scratch.section(&exports);
    component.section(&ModuleSection(&scratch));
    let scratch_instance = c.core_instances;
    let mut instances = InstanceSection::new();
    instances.instantiate(c.modules, Vec::<(&str, ModuleArg)>::new());
    component.section(&instances);

    // Alias every item the accessor imports; remember each one's index in the root's space.
    let mut aliases = ComponentAliasSection::new();
    let mut next = [c.core_funcs, c.core_tables, c.core_memories, c.core_globals];
    let slot = |kind: ExportKind| match kind {
        ExportKind::Func => 0,
        ExportKind::Table => 1,
        ExportKind::Memory => 2,
        _ => 3,
    };
    let mut alias =
        |aliases: &mut ComponentAliasSection, instance: u32, kind: ExportKind, name: &str| {
            aliases.alias(Alias::CoreInstanceExport {
                instance,
                kind,
                name,
            });
            let i = next[slot(kind)];
            next[slot(kind)] += 1;
            i
        };
    let scratch_memory = alias(&mut aliases, scratch_instance, ExportKind::Memory, "memory");
    let mut indices = vec![0u32; accessor.args.len()];
    for (a, arg) in accessor.args.iter().enumerate() {
        match &arg.from {
            ArgFrom::Scratch => indices[a] = scratch_memory,
            ArgFrom::Put(_) => {}
            ArgFrom::Instance { dfs, export } => {
                indices[a] = alias(&mut aliases, instance_of(*dfs), arg.kind, export);
            }
        }
    }
    component.section(&aliases);

    // The sink lowered over the scratch memory and over each dumped memory.
    let mut canon = CanonicalFunctionSection::new();
    let mut lowered = next[0];
    for (a, arg) in accessor.args.iter().enumerate() {
        if let ArgFrom::Put(record) = arg.from {
            let memory = match record {
                None => scratch_memory,
                Some(memory_arg) => indices[memory_arg],
            };
            canon.lower(sink, [CanonicalOption::Memory(memory)]);
            indices[a] = lowered;
            lowered += 1;
        }
    }
    component.section(&canon);

    let args_instance = c.core_instances + 1;
    let mut instances = InstanceSection::new();
    instances.export_items(
        accessor
            .args
            .iter()
            .zip(&indices)
            .map(|(arg, index)| (arg.name.as_str(), arg.kind, *index)),
    );
    component.section(&instances);

    component.section(&ModuleSection(&accessor.module));
    let accessor_instance = c.core_instances + 2;
    let mut instances = InstanceSection::new();
    instances.instantiate(c.modules + 1, [("a", ModuleArg::Instance(args_instance))]);
    component.section(&instances);

    let mut aliases = ComponentAliasSection::new();
    aliases.alias(Alias::CoreInstanceExport {
        instance: accessor_instance,
        kind: ExportKind::Func,
        name: "dump",
    });
    component.section(&aliases);
    let mut canon = CanonicalFunctionSection::new();
    canon.lift(lowered, dump_ty, []);
    component.section(&canon);
    let mut exports = ComponentExportSection::new();
    exports.export(
        DUMP_EXPORT,
        ComponentExportKind::Func,
        c.component_funcs,
        None,
    );
    component.section(&exports);
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

pub(crate) fn memarg(align: u32) -> MemArg {
    MemArg {
        offset: 0,
        align,
        target: MemArgTarget::Memory(0),
        ordering: None,
    }
}

/// `put(tag, offset, n << 16)` for every chunk of at most [`CHUNK_PAGES`] pages.
fn dump_memory(f: &mut Function, tag: i32, memory: u32, put: u32) {
    use Instruction as I;
    let (left, offset, n) = (0, 1, 2);
    f.instruction(&I::MemorySize(memory));
    f.instruction(&I::LocalSet(left));
    f.instruction(&I::I32Const(0));
    f.instruction(&I::LocalSet(offset));
    f.instruction(&I::Block(BlockType::Empty));
    f.instruction(&I::Loop(BlockType::Empty));
    f.instruction(&I::LocalGet(left));
    f.instruction(&I::I32Eqz);
    f.instruction(&I::BrIf(1));
    // n = min(left, CHUNK_PAGES)
    f.instruction(&I::LocalGet(left));
    f.instruction(&I::I32Const(CHUNK_PAGES));
    f.instruction(&I::LocalGet(left));
    f.instruction(&I::I32Const(CHUNK_PAGES));
    f.instruction(&I::I32LtU);
    f.instruction(&I::Select);
    f.instruction(&I::LocalSet(n));
    f.instruction(&I::I32Const(tag));
    f.instruction(&I::LocalGet(offset));
    f.instruction(&I::LocalGet(n));
    f.instruction(&I::I32Const(16));
    f.instruction(&I::I32Shl);
    f.instruction(&I::Call(put));
    f.instruction(&I::LocalGet(offset));
    f.instruction(&I::LocalGet(n));
    f.instruction(&I::I32Const(16));
    f.instruction(&I::I32Shl);
    f.instruction(&I::I32Add);
    f.instruction(&I::LocalSet(offset));
    f.instruction(&I::LocalGet(left));
    f.instruction(&I::LocalGet(n));
    f.instruction(&I::I32Sub);
    f.instruction(&I::LocalSet(left));
    f.instruction(&I::Br(0));
    f.instruction(&I::End);
    f.instruction(&I::End);
}

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
