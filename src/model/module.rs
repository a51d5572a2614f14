//! What compsnap needs to know about one core module, read once by `parse`.
//!
//! Besides sizes and types this finds the module's *declared* functions: every function that
//! can become a funcref (element segment items, `ref.func` in code and constant expressions,
//! exports). Only those need a probe prologue or, when imported, a shim.

use super::code_uses::{code_uses, CodeUse};
use crate::parallel::{code_bytes, map_runs};
use crate::protocol::{CORE_PREFIX, RESTORE_PREFIX};
use anyhow::{bail, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use wasmparser::{
    CompositeInnerType, ElementItems, ExternalKind, GlobalType, MemoryType, Operator, Parser,
    Payload, TableInit, TableType, TypeRef, ValType,
};

#[derive(Debug, Clone)]
pub struct Import {
    pub module: String,
    pub name: String,
    pub kind: ExternalKind,
}

/// Parameters and results of a function type.
#[derive(Debug, Clone, Default)]
pub struct Signature {
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
}

/// An active element segment: what it writes into which table at instantiation.
#[derive(Clone)]
pub struct ActiveElem<'a> {
    /// The table, by absolute index.
    pub table: u32,
    pub offset: wasmparser::ConstExpr<'a>,
    pub items: ElementItems<'a>,
}

impl std::fmt::Debug for ActiveElem<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = match &self.items {
            ElementItems::Functions(r) => r.count(),
            ElementItems::Expressions(_, r) => r.count(),
        };
        (f.debug_struct("ActiveElem"))
            .field("table", &self.table)
            .field("offset", &self.offset)
            .field("items", &count)
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct ModuleInfo<'a> {
    /// Index in the root scope's core module space.
    pub module_index: u32,
    pub bytes: &'a [u8],
    pub imports: Vec<Import>,
    pub imported_funcs: u32,
    pub imported_tables: u32,
    pub imported_memories: u32,
    pub imported_globals: u32,
    /// Type index of every function, imported ones first.
    pub func_types: Vec<u32>,
    /// Signature of every type index (`None` for struct and array types).
    pub signatures: Vec<Option<Signature>>,
    /// Array types, by type index: a probe passes an empty one (`array.new_fixed`).
    pub array_types: BTreeSet<u32>,
    /// Struct types whose fields all have a default value, by type index: a probe passes one
    /// made by `struct.new_default`.
    pub default_structs: BTreeSet<u32>,
    /// The field types of every other struct type, by type index: a probe builds one field by
    /// field (`struct.new`) where it can build a value of each.
    pub struct_fields: BTreeMap<u32, Vec<wasmparser::StorageType>>,
    /// Byte range of the type section, copied whole wherever a type's identity matters.
    pub type_section: Option<Range<usize>>,
    /// Every memory, imported ones first, by absolute index.
    pub memories: Vec<MemoryType>,
    /// Every global, imported ones first, by absolute index.
    pub globals: Vec<GlobalType>,
    /// The initializer of every defined global, by index among the defined ones.
    pub global_inits: Vec<wasmparser::ConstExpr<'a>>,
    /// Every table, imported ones first, by absolute index.
    pub tables: Vec<TableType>,
    /// Defined tables with an initializer expression, by absolute index. Wasmtime folds no
    /// element segment from the first one that writes such a table on.
    pub table_init_exprs: BTreeSet<u32>,
    pub start: Option<u32>,
    pub exports: Vec<(String, ExternalKind, u32)>,
    /// Functions that can become funcrefs, by absolute index.
    pub declared: BTreeSet<u32>,
    /// The declared functions a funcref value is made of here: those element segments,
    /// `ref.func` and initializer expressions name. An exported function is declared too
    /// (it gets a prologue), but it reaches another instance's table or global only as that
    /// instance's import, whose shim stands for it there.
    pub referenced: BTreeSet<u32>,
    /// Function types alone in their rec group, final, without a supertype, not shared and
    /// naming no other type: those whose identity is their parameters and results, as in
    /// the MVP.
    pub plain_func_types: BTreeSet<u32>,
    /// Functions named by `ref.func` in code. The rewrite declares them again, since what
    /// declared them (an active segment, a global initializer) may be replaced.
    pub code_ref_funcs: BTreeSet<u32>,
    /// Functions the module's declarative element segments declare; the rewrite keeps those
    /// segments, so these need no new declaration.
    pub declarative_funcs: BTreeSet<u32>,
    /// Defined functions whose code holds a `ref.func`, `elem.drop` or `data.drop`, by
    /// absolute index: the only bodies instrumentation may have to re-encode.
    pub ref_or_drop_funcs: BTreeSet<u32>,
    pub elem_count: u32,
    pub data_count: u32,
    /// The active element segments, in order.
    pub active_elems: Vec<ActiveElem<'a>>,
    /// Tables, by absolute index, that code can write (`table.set`, `table.grow`,
    /// `table.fill`, `table.copy` into it, `table.init`, and the atomic writes): a table no
    /// instance's code writes holds after init what instantiation put in it.
    pub written_tables: BTreeSet<u32>,
    /// Segments whose contents no code can reach after instantiation: active and declarative
    /// ones (dropped at instantiation) and empty passive ones. Code cannot tell them from
    /// segments dropped during init.
    pub inert_elems: Vec<u32>,
    pub inert_data: Vec<u32>,
    /// Segments code names (`table.init`, `elem.drop`, `memory.init`, `data.drop`): the only
    /// ones whose dropped state can matter.
    pub named_elems: BTreeSet<u32>,
    pub named_data: BTreeSet<u32>,
    /// Code uses `elem.drop` or `data.drop`.
    pub drops_segments: bool,
    /// The module's name from its name section, or the component's, if any.
    pub name: Option<String>,
    /// Global names from the name section.
    pub global_names: Vec<(u32, String)>,
}

/// The name wit-component gives the WASI preview1 adapter it links in.
const PREVIEW1_ADAPTER: &str = "wit-component:adapter:wasi_snapshot_preview1";

impl ModuleInfo<'_> {
    /// wit-component's WASI preview1 adapter. Its globals point at state holding WASI resource
    /// handles, which belong to the init's run and mean nothing in a later instance.
    pub fn is_preview1_adapter(&self) -> bool {
        self.name.as_deref() == Some(PREVIEW1_ADAPTER)
    }

    pub fn global_index(&self, name: &str) -> Option<u32> {
        self.global_names
            .iter()
            .find(|(_, n)| n == name)
            .map(|(i, _)| *i)
    }

    /// Absolute indices and types of the mutable globals this module defines.
    pub fn mutable_globals(&self) -> impl Iterator<Item = (u32, GlobalType)> + '_ {
        defined(&self.globals, self.imported_globals).filter(|(_, g)| g.mutable)
    }

    /// Absolute indices and types of the memories this module defines.
    pub fn defined_memories(&self) -> impl Iterator<Item = (u32, MemoryType)> + '_ {
        defined(&self.memories, self.imported_memories)
    }

    /// Absolute indices and types of the tables this module defines.
    pub fn defined_tables(&self) -> impl Iterator<Item = (u32, TableType)> + '_ {
        defined(&self.tables, self.imported_tables)
    }

    /// The type of function `func`, when it is a function type.
    pub fn signature(&self, func: u32) -> Option<&Signature> {
        let ty = *self.func_types.get(func as usize)?;
        self.signatures.get(ty as usize)?.as_ref()
    }

    /// The `n`-th import of `kind`.
    pub fn import_of(&self, kind: ExternalKind, n: u32) -> Option<&Import> {
        self.imports
            .iter()
            .filter(|i| i.kind == kind)
            .nth(n as usize)
    }

    pub fn export_index(&self, name: &str, kind: ExternalKind) -> Option<u32> {
        self.exports
            .iter()
            .find(|(n, k, _)| n == name && *k == kind)
            .map(|(_, _, i)| *i)
    }
}

/// The entries of an index space (imports first) past its `imported` ones, with their indices.
fn defined<T: Copy>(space: &[T], imported: u32) -> impl Iterator<Item = (u32, T)> + '_ {
    (imported..).zip(space.iter().skip(imported as usize).copied())
}

/// Reads the parts of a core module that instrumentation and rewriting depend on.
pub fn parse_module(module_index: u32, bytes: &[u8]) -> Result<ModuleInfo<'_>> {
    let mut info = ModuleInfo {
        module_index,
        bytes,
        imports: Vec::new(),
        imported_funcs: 0,
        imported_tables: 0,
        imported_memories: 0,
        imported_globals: 0,
        func_types: Vec::new(),
        signatures: Vec::new(),
        array_types: BTreeSet::new(),
        default_structs: BTreeSet::new(),
        struct_fields: BTreeMap::new(),
        type_section: None,
        memories: Vec::new(),
        globals: Vec::new(),
        global_inits: Vec::new(),
        tables: Vec::new(),
        table_init_exprs: BTreeSet::new(),
        start: None,
        exports: Vec::new(),
        declared: BTreeSet::new(),
        referenced: BTreeSet::new(),
        plain_func_types: BTreeSet::new(),
        code_ref_funcs: BTreeSet::new(),
        declarative_funcs: BTreeSet::new(),
        ref_or_drop_funcs: BTreeSet::new(),
        elem_count: 0,
        active_elems: Vec::new(),
        written_tables: BTreeSet::new(),
        data_count: 0,
        inert_elems: Vec::new(),
        inert_data: Vec::new(),
        named_elems: BTreeSet::new(),
        named_data: BTreeSet::new(),
        drops_segments: false,
        name: None,
        global_names: Vec::new(),
    };
    let mut bodies = Vec::new();
    // Exported functions, declared once every other reason to declare one is known.
    let mut exported = BTreeSet::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::TypeSection(reader) => {
                let range = reader.range();
                info.type_section = Some(range.start as usize..range.end as usize);
                for group in reader {
                    let group = group?;
                    let alone = group.types().len() == 1;
                    for sub in group.into_types() {
                        let index = info.signatures.len() as u32;
                        if alone && is_plain_func(&sub) {
                            info.plain_func_types.insert(index);
                        }
                        match &sub.composite_type.inner {
                            CompositeInnerType::Array(_) => {
                                info.array_types.insert(index);
                            }
                            CompositeInnerType::Struct(s)
                                if s.fields
                                    .iter()
                                    .all(|f| f.element_type.unpack().is_defaultable()) =>
                            {
                                info.default_structs.insert(index);
                            }
                            CompositeInnerType::Struct(s) => {
                                let fields = s.fields.iter().map(|f| f.element_type).collect();
                                info.struct_fields.insert(index, fields);
                            }
                            _ => {}
                        }
                        info.signatures.push(match &sub.composite_type.inner {
                            CompositeInnerType::Func(f) => Some(Signature {
                                params: f.params().to_vec(),
                                results: f.results().to_vec(),
                            }),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import?;
                    let kind = match import.ty {
                        TypeRef::Func(ty) | TypeRef::FuncExact(ty) => {
                            info.imported_funcs += 1;
                            info.func_types.push(ty);
                            ExternalKind::Func
                        }
                        TypeRef::Table(ty) => {
                            info.imported_tables += 1;
                            info.tables.push(ty);
                            ExternalKind::Table
                        }
                        TypeRef::Memory(ty) => {
                            info.imported_memories += 1;
                            info.memories.push(ty);
                            ExternalKind::Memory
                        }
                        TypeRef::Global(ty) => {
                            info.imported_globals += 1;
                            info.globals.push(ty);
                            ExternalKind::Global
                        }
                        TypeRef::Tag(_) => ExternalKind::Tag,
                    };
                    info.imports.push(Import {
                        module: import.module.to_string(),
                        name: import.name.to_string(),
                        kind,
                    });
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    info.func_types.push(ty?);
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    let table = table?;
                    if let TableInit::Expr(expr) = &table.init {
                        info.table_init_exprs.insert(info.tables.len() as u32);
                        declare_const_expr(&mut info.declared, expr)?;
                    }
                    info.tables.push(table.ty);
                }
            }
            Payload::MemorySection(reader) => {
                for (i, memory) in reader.into_iter().enumerate() {
                    let memory = memory?;
                    let index = info.imported_memories as usize + i;
                    if memory.shared {
                        bail!("memory {index}: shared memories are not supported");
                    }
                    info.memories.push(memory);
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader {
                    let global = global?;
                    if global.ty.shared && global.ty.mutable {
                        let index = info.globals.len();
                        bail!("global {index}: shared mutable globals are not supported");
                    }
                    info.globals.push(global.ty);
                    declare_const_expr(&mut info.declared, &global.init_expr)?;
                    info.global_inits.push(global.init_expr);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    if export.name.starts_with(CORE_PREFIX)
                        && !export.name.starts_with(RESTORE_PREFIX)
                    {
                        bail!(
                            "export '{}' uses the prefix '{CORE_PREFIX}' that compsnap reserves",
                            export.name
                        );
                    }
                    if export.kind == ExternalKind::Func {
                        exported.insert(export.index);
                    }
                    info.exports
                        .push((export.name.to_string(), export.kind, export.index));
                }
            }
            Payload::StartSection { func, .. } => info.start = Some(func),
            Payload::ElementSection(reader) => {
                for element in reader {
                    let element = element?;
                    let empty = match &element.items {
                        ElementItems::Functions(f) => f.count() == 0,
                        ElementItems::Expressions(_, e) => e.count() == 0,
                    };
                    if empty || !matches!(element.kind, wasmparser::ElementKind::Passive) {
                        info.inert_elems.push(info.elem_count);
                    }
                    info.elem_count += 1;
                    if let wasmparser::ElementKind::Active {
                        table_index,
                        offset_expr,
                    } = &element.kind
                    {
                        info.active_elems.push(ActiveElem {
                            table: table_index.unwrap_or(0),
                            offset: offset_expr.clone(),
                            items: element.items.clone(),
                        });
                    }
                    let mut named = BTreeSet::new();
                    match element.items {
                        ElementItems::Functions(funcs) => {
                            for f in funcs {
                                named.insert(f?);
                            }
                        }
                        ElementItems::Expressions(_, exprs) => {
                            for expr in exprs {
                                declare_const_expr(&mut named, &expr?)?;
                            }
                        }
                    }
                    if let wasmparser::ElementKind::Declared = element.kind {
                        info.declarative_funcs.extend(&named);
                    }
                    info.declared.extend(named);
                }
            }
            Payload::DataSection(reader) => {
                for (i, segment) in reader.into_iter().enumerate() {
                    let segment = segment?;
                    if segment.data.is_empty()
                        || !matches!(segment.kind, wasmparser::DataKind::Passive)
                    {
                        info.inert_data.push(i as u32);
                    }
                    info.data_count += 1;
                }
            }
            Payload::CustomSection(section) if section.name() == "name" => {
                if let wasmparser::KnownCustom::Name(names) = section.as_known() {
                    for name in names.into_iter().flatten() {
                        match name {
                            wasmparser::Name::Module { name, .. } => {
                                info.name = Some(name.to_string())
                            }
                            wasmparser::Name::Global(map) => {
                                for naming in map.into_iter().flatten() {
                                    info.global_names.push((naming.index, naming.name.into()));
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
            Payload::CodeSectionEntry(body) => bodies.push(body),
            _ => {}
        }
    }
    // A 10 MB module's code is most of the bytes: its bodies are read on every core.
    let uses = map_runs(bodies, code_bytes, || (), |_, _, body| code_uses(&body))?;
    for (i, body_uses) in uses.into_iter().enumerate() {
        let func = info.imported_funcs + i as u32;
        for code_use in body_uses {
            match code_use {
                CodeUse::RefFunc(function_index) => {
                    info.declared.insert(function_index);
                    info.code_ref_funcs.insert(function_index);
                    info.ref_or_drop_funcs.insert(func);
                }
                CodeUse::ElemDrop(elem_index) => {
                    info.drops_segments = true;
                    info.named_elems.insert(elem_index);
                    info.ref_or_drop_funcs.insert(func);
                }
                CodeUse::DataDrop(data_index) => {
                    info.drops_segments = true;
                    info.named_data.insert(data_index);
                    info.ref_or_drop_funcs.insert(func);
                }
                CodeUse::TableInit(elem_index) => {
                    info.named_elems.insert(elem_index);
                }
                CodeUse::MemoryInit(data_index) => {
                    info.named_data.insert(data_index);
                }
                CodeUse::TableWrite(table) => {
                    info.written_tables.insert(table);
                }
            }
        }
    }
    info.referenced = info.declared.clone();
    info.declared.extend(exported);
    Ok(info)
}

/// Whether `sub` is a plain function type (see [`ModuleInfo::plain_func_types`]), once it
/// is alone in its rec group.
fn is_plain_func(sub: &wasmparser::SubType) -> bool {
    let names_no_type = |t: &ValType| match t {
        ValType::Ref(r) => !r.is_concrete_type_ref(),
        _ => true,
    };
    match &sub.composite_type.inner {
        CompositeInnerType::Func(f) => {
            sub.is_final
                && sub.supertype_idxs.is_empty()
                && !sub.composite_type.shared
                && sub.composite_type.descriptor_idx.is_none()
                && sub.composite_type.describes_idx.is_none()
                && f.params().iter().chain(f.results()).all(names_no_type)
        }
        _ => false,
    }
}

fn declare_const_expr(declared: &mut BTreeSet<u32>, expr: &wasmparser::ConstExpr) -> Result<()> {
    for op in expr.get_operators_reader() {
        if let Operator::RefFunc { function_index } = op? {
            declared.insert(function_index);
        }
    }
    Ok(())
}
