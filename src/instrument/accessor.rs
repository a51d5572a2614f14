//! The accessor: how the host reads every instance's state after init.
//!
//! The instrumented component imports one host function, `compsnap-sink: func(tag: u32, data:
//! list<u8>, lo: u64, hi: u64)`, and exports `compsnap-dump: func()`. The dump function (its
//! code is `dump`'s) lives in an accessor core module instantiated after everything else:
//! - each memory is sent, in chunks, through a copy of the sink canon-lowered *over that
//!   memory*, so the host reads the guest memory in place and nothing is written into it;
//! - numeric globals go one per call, in the sink's two `u64` parameters, through any of
//!   those lowered sinks: an accessor that probes nothing and reads its memories in place
//!   needs no scratch memory (a module of its own, instantiated first) and no sink lowered
//!   over it. That took the lookup example's compile stage from 1.6 to 1.4 ms (medians of
//!   150 alternating `-v` runs; each lowered sink is a trampoline Cranelift compiles);
//! - each table slot (and reference global) is identified by probing (see `probe`) and sent
//!   as one u64 per slot; a table no code writes is not sent, its slots are in the plan
//!   ([`Record::KnownTable`]).

use super::dump::{dump_body, Reach, COPY_PAGES, PUT};
use super::identify::{candidate_types, probe_call, ProbeCall};
use super::probe::{add_probe_helpers, is_func_ref};
use crate::encode::builder::{BodyBuilder, Bound, BoundImports, ModuleBuilder};
use crate::encode::types::Shift;
use crate::model::{InputKind, Scope};
use crate::protocol::{
    global_export, memory_export, table_export, CoreBinding, Plan, Record, CORE_ACCESSOR_MODULE,
    CORE_DUMP_EXPORT, DROPS_EXPORT, DUMP_EXPORT, PROBE_OUT_EXPORT, PROBING_EXPORT,
};
use anyhow::{bail, Context, Result};
use wasm_encoder::reencode::Reencode;
use wasm_encoder::{
    CanonicalOption, EntityType, ExportKind, MemoryType, Module, TableType, ValType,
};

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
                        memory: export_of(*memory),
                    },
                    ArgFrom::Instance { export, .. } => CoreBinding::Export(export.clone()),
                };
                (arg.name.clone(), binding)
            })
            .collect();
        (self.module.module.finish(), bindings)
    }
}

/// Whether an accessor needs the scratch memory, and the sink lowered over it: to write
/// probed identities in (`probes`), to copy a memory the sink cannot be lowered over, or
/// to send globals through when no memory is sent in place.
fn needs_scratch(plan: &Plan, probes: bool) -> bool {
    let any = |f: fn(&Record) -> bool| plan.records.iter().any(f);
    let copied = any(|r| {
        matches!(
            r,
            Record::Memory {
                in_place: false,
                ..
            }
        )
    });
    let in_place = any(|r| matches!(r, Record::Memory { in_place: true, .. }));
    let globals = any(|r| matches!(r, Record::Globals { .. }));
    probes || copied || (globals && !in_place)
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
    /// The sink lowered over the memory imported as argument `.0` (the scratch memory or a
    /// memory of an instance).
    Put(usize),
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
        let put_params = [
            ValType::I32,
            ValType::I32,
            ValType::I32,
            ValType::I64,
            ValType::I64,
        ];
        let ty_put = m.add_func_type(&put_params, &[]);
        let ty_void = m.add_func_type(&[], &[]);

        let mut im = Imports {
            m,
            args: BoundImports::new(CORE_ACCESSOR_MODULE),
        };
        let scratch = needs_scratch(plan, probes).then(|| {
            let memory = EntityType::Memory(memory_type(0));
            let memory_arg = im.args.bound.len();
            let scratch = im.add("scratch".into(), memory, ArgFrom::Scratch);
            let put = EntityType::Function(ty_put);
            let put = im.add("put".into(), put, ArgFrom::Put(memory_arg));
            debug_assert_eq!(put, PUT, "dump calls the scratch `put` as function {PUT}");
            scratch
        });
        // Table slots and reference globals are written into it; it grows as they need.
        let mut scratch_pages = 1;
        // The put globals are sent through: the scratch one, else a memory's.
        let mut globals_put = scratch.map(|_| PUT);

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
                    let via = match in_place {
                        true => None,
                        false => Some(scratch.context("bug: no scratch memory to copy through")?),
                    };
                    let put = match via {
                        Some(_) => {
                            scratch_pages = scratch_pages.max(COPY_PAGES as u64);
                            PUT
                        }
                        None => {
                            let from = ArgFrom::Put(memory_arg);
                            let put = im.add(format!("p{r}"), EntityType::Function(ty_put), from);
                            globals_put.get_or_insert(put);
                            put
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
        // Without one, there are no globals to send (see `needs_scratch`).
        let globals_put = globals_put.unwrap_or(PUT);
        m.set_body(f_dump, dump_body(plan, &reach, globals_put, ctx.as_ref()));
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

fn mutable(val_type: ValType) -> wasm_encoder::GlobalType {
    wasm_encoder::GlobalType {
        val_type,
        mutable: true,
        shared: false,
    }
}

fn append_sections(model: &Scope, accessor: &AccessorModule, body: &mut BodyBuilder) {
    let instance_of = |dfs: u32| model.instances[dfs as usize].core_instance_index;

    // The sink is prepended to the body (see `encode::tree`); only the dump's type is new.
    let sink = 0;
    let dump_ty = body.add_void_func_type();

    // Alias every item the accessor imports; remember each one's index in the body's space.
    let mut indices = vec![0u32; accessor.args.len()];
    for (a, arg) in accessor.args.iter().enumerate() {
        match &arg.from {
            ArgFrom::Scratch => indices[a] = add_scratch(body, accessor.scratch_pages),
            ArgFrom::Put(_) => {}
            ArgFrom::Instance { dfs, export } => {
                indices[a] = body.add_core_alias(instance_of(*dfs), arg.kind, export);
            }
        }
    }

    // The sink lowered over each memory it reads from.
    for (a, arg) in accessor.args.iter().enumerate() {
        if let ArgFrom::Put(memory_arg) = arg.from {
            indices[a] = body.add_lower(sink, &[CanonicalOption::Memory(indices[memory_arg])]);
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

/// The scratch memory for probe results and copied chunks, in a module of its own (see
/// `needs_scratch`): its index in the body's memory space.
fn add_scratch(body: &mut BodyBuilder, pages: u64) -> u32 {
    let mut scratch = Module::new();
    let mut mem = wasm_encoder::MemorySection::new();
    mem.memory(memory_type(pages));
    scratch.section(&mem);
    let mut exports = wasm_encoder::ExportSection::new();
    exports.export("memory", ExportKind::Memory, 0);
    scratch.section(&exports);
    let module = body.add_module(&scratch);
    let instance = body.add_instantiation(module, &[]);
    body.add_core_alias(instance, ExportKind::Memory, "memory")
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
