//! The accessor: how the host reads every instance's state after init.
//!
//! The instrumented component imports one host function, `compsnap-sink: func(tag: u32, data:
//! list<u8>)`, and exports `compsnap-dump: func()`. The dump function lives in an accessor core
//! module instantiated after everything else. For each memory it calls a copy of the sink that
//! is canon-lowered *over that memory*, passing `(0, size)`. The host therefore sees the guest
//! memory itself: no copy, and no return area written into guest memory. Globals are stored
//! into a small scratch memory first and sent the same way.

use crate::component_edit::{edit_component, ComponentEdit};
use crate::instrument::{global_export, memory_export, Plan, Record};
use crate::parse::Model;
use anyhow::Result;
use wasm_encoder::{
    Alias, BlockType, CanonicalFunctionSection, CanonicalOption, CodeSection, Component,
    ComponentAliasSection, ComponentExportKind, ComponentExportSection, ComponentImportSection,
    ComponentTypeRef, ComponentTypeSection, ComponentValType, EntityType, ExportKind,
    ExportSection, Function, FunctionSection, ImportSection, InstanceSection, Instruction, MemArg,
    MemoryType, Module, ModuleArg, ModuleSection, PrimitiveValType, TypeSection, ValType,
};

/// The component import through which the accessor streams state to the host.
pub const SINK_IMPORT: &str = "compsnap-sink";
/// The component export the host calls after init to stream all state.
pub const DUMP_EXPORT: &str = "compsnap-dump";

/// Largest chunk passed in one `put` call: 2^14 pages = 1 GiB, so lengths fit in an i32.
const CHUNK_PAGES: i32 = 1 << 14;

/// Re-encodes the component with instrumented modules and the accessor appended to the root.
pub fn append_accessor(
    model: &Model,
    replacements: &[Option<Vec<u8>>],
    plan: &Plan,
) -> Result<Vec<u8>> {
    let append = |component: &mut Component| append_sections(model, plan, component);
    edit_component(
        model.bytes,
        ComponentEdit {
            modules: replacements,
            remove_export: None,
            append: Some(Box::new(append)),
        },
    )
}

fn append_sections(model: &Model, plan: &Plan, component: &mut Component) {
    let c = model.counts;
    let instance_of = |dfs: u32| model.instances[dfs as usize].core_instance_index;

    // Component types: list<u8>, the sink's type, and the dump function's type.
    let list_ty = c.component_types;
    let sink_ty = list_ty + 1;
    let dump_ty = list_ty + 2;
    let mut types = ComponentTypeSection::new();
    types
        .defined_type()
        .list(ComponentValType::Primitive(PrimitiveValType::U8));
    types
        .function()
        .params([
            ("tag", ComponentValType::Primitive(PrimitiveValType::U32)),
            ("data", ComponentValType::Type(list_ty)),
        ])
        .result(None);
    types
        .function()
        .params(Vec::<(&str, ComponentValType)>::new())
        .result(None);
    component.section(&types);

    let sink = c.component_funcs;
    let mut imports = ComponentImportSection::new();
    imports.import(SINK_IMPORT, ComponentTypeRef::Func(sink_ty));
    component.section(&imports);

    // Scratch memory for globals, sized for the largest globals record.
    let max_globals = plan
        .records
        .iter()
        .map(|r| match r {
            Record::Globals { globals, .. } => globals.len(),
            Record::Memory { .. } => 0,
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
    let scratch_module = c.modules;
    let scratch_instance = c.core_instances;
    let mut instances = InstanceSection::new();
    instances.instantiate(scratch_module, Vec::<(&str, ModuleArg)>::new());
    component.section(&instances);

    // Aliases: the scratch memory, every dumped memory, every read global.
    let mut aliases = ComponentAliasSection::new();
    aliases.alias(Alias::CoreInstanceExport {
        instance: scratch_instance,
        kind: ExportKind::Memory,
        name: "memory",
    });
    let mut next_memory = c.core_memories + 1;
    let mut next_global = c.core_globals;
    let mut args: Vec<(String, ExportKind, u32)> =
        vec![("scratch".into(), ExportKind::Memory, c.core_memories)];
    let mut memory_aliases = Vec::new();
    for (r, record) in plan.records.iter().enumerate() {
        match record {
            Record::Memory { dfs, memory } => {
                aliases.alias(Alias::CoreInstanceExport {
                    instance: instance_of(*dfs),
                    kind: ExportKind::Memory,
                    name: &memory_export(*memory),
                });
                args.push((format!("m{r}"), ExportKind::Memory, next_memory));
                memory_aliases.push((r, next_memory));
                next_memory += 1;
            }
            Record::Globals { dfs, globals } => {
                for (j, (index, _)) in globals.iter().enumerate() {
                    aliases.alias(Alias::CoreInstanceExport {
                        instance: instance_of(*dfs),
                        kind: ExportKind::Global,
                        name: &global_export(*index),
                    });
                    args.push((format!("g{r}_{j}"), ExportKind::Global, next_global));
                    next_global += 1;
                }
            }
        }
    }
    component.section(&aliases);

    // One lowered sink over the scratch memory, one over each dumped memory.
    let mut canon = CanonicalFunctionSection::new();
    canon.lower(sink, [CanonicalOption::Memory(c.core_memories)]);
    args.push(("put".into(), ExportKind::Func, c.core_funcs));
    for (k, (r, memory)) in memory_aliases.iter().enumerate() {
        canon.lower(sink, [CanonicalOption::Memory(*memory)]);
        args.push((
            format!("p{r}"),
            ExportKind::Func,
            c.core_funcs + 1 + k as u32,
        ));
    }
    component.section(&canon);
    let lowered = 1 + memory_aliases.len() as u32;

    let args_instance = c.core_instances + 1;
    let mut instances = InstanceSection::new();
    instances.export_items(args.iter().map(|(n, k, i)| (n.as_str(), *k, *i)));
    component.section(&instances);

    component.section(&ModuleSection(&accessor_module(plan)));
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
    canon.lift(c.core_funcs + lowered, dump_ty, []);
    component.section(&canon);
    let mut exports = ComponentExportSection::new();
    exports.export(DUMP_EXPORT, ComponentExportKind::Func, sink + 1, None);
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

/// The accessor module: imports everything from instance "a" and exports `dump`.
fn accessor_module(plan: &Plan) -> Module {
    let mut types = TypeSection::new();
    types.ty().function([ValType::I32; 3], []); // put(tag, ptr, len)
    types.ty().function([], []); // dump

    let mut imports = ImportSection::new();
    imports.import("a", "scratch", EntityType::Memory(memory_type(0)));
    imports.import("a", "put", EntityType::Function(0));
    let mut memory_count = 1u32;
    let mut func_count = 1u32;
    let mut global_count = 0u32;
    // For each record: (memory index, put function) or the globals' indices.
    let mut memories = Vec::new();
    let mut globals = Vec::new();
    for (r, record) in plan.records.iter().enumerate() {
        match record {
            Record::Memory { .. } => {
                imports.import("a", &format!("m{r}"), EntityType::Memory(memory_type(0)));
                imports.import("a", &format!("p{r}"), EntityType::Function(0));
                memories.push((memory_count, func_count));
                memory_count += 1;
                func_count += 1;
            }
            Record::Globals { globals: gs, .. } => {
                let mut indices = Vec::new();
                for (j, (_, ty)) in gs.iter().enumerate() {
                    imports.import(
                        "a",
                        &format!("g{r}_{j}"),
                        EntityType::Global(wasm_encoder::GlobalType {
                            val_type: *ty,
                            mutable: true,
                            shared: false,
                        }),
                    );
                    indices.push((global_count, *ty));
                    global_count += 1;
                }
                globals.push(indices);
            }
        }
    }

    // Locals: 0 pages left, 1 offset, 2 chunk pages.
    let mut dump = Function::new([(3, ValType::I32)]);
    let (mut memories, mut globals) = (memories.into_iter(), globals.into_iter());
    for (tag, record) in plan.records.iter().enumerate() {
        let tag = tag as i32;
        match record {
            Record::Memory { .. } => {
                let Some((memory, put)) = memories.next() else {
                    continue;
                };
                dump_memory(&mut dump, tag, memory, put);
            }
            Record::Globals { .. } => {
                let Some(indices) = globals.next() else {
                    continue;
                };
                for (slot, (global, ty)) in indices.iter().enumerate() {
                    let offset = slot as i32 * 16;
                    dump.instruction(&Instruction::I32Const(offset));
                    dump.instruction(&Instruction::GlobalGet(*global));
                    dump.instruction(&store(*ty));
                }
                dump.instruction(&Instruction::I32Const(tag));
                dump.instruction(&Instruction::I32Const(0));
                dump.instruction(&Instruction::I32Const(indices.len() as i32 * 16));
                dump.instruction(&Instruction::Call(0));
            }
        }
    }
    dump.instruction(&Instruction::End);

    let mut funcs = FunctionSection::new();
    funcs.function(1);
    let mut exports = ExportSection::new();
    exports.export("dump", ExportKind::Func, func_count);
    let mut code = CodeSection::new();
    code.function(&dump);

    let mut module = Module::new();
    module.section(&types);
    module.section(&imports);
    module.section(&funcs);
    module.section(&exports);
    module.section(&code);
    module
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
    let memarg = |align| MemArg {
        offset: 0,
        align,
        target: wasm_encoder::MemArgTarget::Memory(0),
        ordering: None,
    };
    match ty {
        ValType::I32 => Instruction::I32Store(memarg(2)),
        ValType::I64 => Instruction::I64Store(memarg(3)),
        ValType::F32 => Instruction::F32Store(memarg(2)),
        ValType::F64 => Instruction::F64Store(memarg(3)),
        ValType::V128 => Instruction::V128Store(memarg(4)),
        // Reference globals never reach a record; see `instrument`.
        ValType::Ref(_) => Instruction::Drop,
    }
}
