//! Section-level editing of one core module, shared by `instrument` and `rewrite`.
//!
//! Every edit is index-preserving: functions, memories, globals, exports and segments are only
//! appended; memories and tables only change their minimum; a segment that goes away leaves an
//! empty *passive* segment at its index. An empty passive segment behaves exactly like a
//! dropped one, so `table.init`/`memory.init`/`*.drop` indices stay valid, and it is not an
//! active segment, so it cannot stop Wasmtime from folding the active ones into an image.
//! Sections the edit does not touch are copied byte for byte.

use super::rope::Rope;
use crate::parallel::{code_bytes, map_runs};
use anyhow::{Context, Result};
use std::collections::{BTreeSet, HashMap};
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    CodeSection, ConstExpr, DataCountSection, DataSection, ElementSection, Encode, ExportKind,
    ExportSection, Function, FunctionSection, GlobalSection, GlobalType, MemorySection, MemoryType,
    SectionId, TableSection,
};
use wasmparser::{BinaryReader, CodeSectionReader, DataKind, FunctionBody, Parser, Payload};

/// Rewrites one function body (given its function index); `None` keeps the original bytes.
/// Bodies are independent, so a large code section is edited on every core.
pub type BodyEdit<'e> = dyn Fn(u32, &FunctionBody) -> Result<Option<Function>> + Sync + 'e;

/// What to change in a module. `Default` changes nothing; [`ModuleEdit::appending_to`] also
/// knows where appended functions, globals and memories land.
#[derive(Default)]
pub struct ModuleEdit<'e> {
    /// Sizes of the module's function, global and memory spaces.
    sizes: [u32; 3],
    /// Appended functions: type index and body.
    pub extra_funcs: Vec<(u32, Function)>,
    pub extra_memories: Vec<MemoryType>,
    /// Appended after the module's own globals, so existing global indices stay.
    pub extra_globals: Vec<(GlobalType, ConstExpr)>,
    /// New initializers for defined globals, by absolute global index.
    pub global_inits: HashMap<u32, ConstExpr>,
    /// New minimum sizes, by absolute index.
    pub memory_mins: HashMap<u32, u64>,
    pub table_mins: HashMap<u32, u64>,
    pub extra_exports: Vec<(String, ExportKind, u32)>,
    /// Exports to leave out, by name.
    pub removed_exports: BTreeSet<String>,
    /// Function exports to rename: original name → new name.
    pub renamed_exports: HashMap<String, String>,
    pub drop_start: bool,
    /// Replaced active element segments leave an empty passive segment at their index, so
    /// later indices stay. Without it they go: right when no code names a segment, and then
    /// the output needs no bulk-memory encoding an MVP input did not use.
    pub keep_elem_indices: bool,
    /// Function index replacements in element segments and constant expressions.
    pub redirect: HashMap<u32, u32>,
    /// Replaces every active data segment; passive ones are kept unless dropped.
    pub active_data: Option<Vec<DataSegment<'e>>>,
    /// Memories with 64-bit addresses, by absolute index: their segments' offsets are i64.
    pub memory64: BTreeSet<u32>,
    /// Tables with 64-bit indices, by absolute index: their segments' offsets are i64.
    pub table64: BTreeSet<u32>,
    pub dropped_data: BTreeSet<u32>,
    /// Replaces every active element segment; passive and declarative ones are kept unless
    /// dropped.
    pub active_elems: Option<Vec<ElemSegment>>,
    pub dropped_elems: BTreeSet<u32>,
    /// Appended element segments (for example a declaration of appended functions).
    pub extra_elems: Vec<ElemSegment>,
    pub body_edit: Option<Box<BodyEdit<'e>>>,
}

impl ModuleEdit<'_> {
    /// An edit of `info`'s module that appends items: each `append_*` returns the index the
    /// item gets.
    pub fn appending_to(info: &crate::model::ModuleInfo) -> Self {
        let len = |n: usize| n as u32;
        ModuleEdit {
            sizes: [
                len(info.func_types.len()),
                len(info.globals.len()),
                len(info.memories.len()),
            ],
            ..ModuleEdit::default()
        }
    }

    /// Appends a function of type `ty`.
    pub fn append_func(&mut self, ty: u32, body: Function) -> u32 {
        self.extra_funcs.push((ty, body));
        self.sizes[0] + self.extra_funcs.len() as u32 - 1
    }

    /// Appends a global.
    pub fn append_global(&mut self, ty: GlobalType, init: ConstExpr) -> u32 {
        self.extra_globals.push((ty, init));
        self.sizes[1] + self.extra_globals.len() as u32 - 1
    }

    /// Appends a memory.
    pub fn append_memory(&mut self, ty: MemoryType) -> u32 {
        self.extra_memories.push(ty);
        self.sizes[2] + self.extra_memories.len() as u32 - 1
    }

    /// The global section changes.
    fn edits_globals(&self) -> bool {
        !(self.global_inits.is_empty() && self.extra_globals.is_empty() && self.redirect.is_empty())
    }

    /// The export section changes.
    fn edits_exports(&self) -> bool {
        !(self.extra_exports.is_empty()
            && self.removed_exports.is_empty()
            && self.renamed_exports.is_empty())
    }

    /// Adds an export.
    pub fn export(&mut self, name: impl Into<String>, kind: ExportKind, index: u32) {
        self.extra_exports.push((name.into(), kind, index));
    }
}

/// Where section `id` goes in a module: the binary format's order, in which the tag section
/// sits between memory and global, and data count before code.
fn rank(id: SectionId) -> u8 {
    use SectionId::*;
    match id {
        Custom => 0,
        Type => 1,
        Import => 2,
        Function => 3,
        Table => 4,
        Memory => 5,
        Tag => 6,
        Global => 7,
        Export => 8,
        Start => 9,
        Element => 10,
        DataCount => 11,
        Code => 12,
        Data => 13,
    }
}

/// The section with id `id`, if it is a standard one.
fn section_id(id: u8) -> Option<SectionId> {
    use SectionId::*;
    [
        Custom, Type, Import, Function, Table, Memory, Global, Export, Start, Element, Code, Data,
        DataCount, Tag,
    ]
    .into_iter()
    .find(|s| *s as u8 == id)
}

mod segments;

use segments::redirected_const;
pub use segments::{header_len, DataSegment, ElemSegment};

/// Applies `edit` to `bytes` and returns the new module. Sections copied unchanged and the
/// data segments' contents stay borrowed in the rope.
pub fn edit_module<'e>(bytes: &'e [u8], edit: ModuleEdit<'e>) -> Result<Rope<'e>> {
    Editor::new(bytes, edit).run()
}

/// The 8 bytes every module starts with: magic and version 1.
const MODULE_PREAMBLE: [u8; 8] = *b"\0asm\x01\0\0\0";

struct Editor<'e> {
    bytes: &'e [u8],
    edit: ModuleEdit<'e>,
    out: Rope<'e>,
    re: RoundtripReencoder,
    /// Sections (by rank) that still have to be written, because the module lacks them.
    pending: BTreeSet<(u8, SectionId)>,
    imports: Imports,
    has_data_count: bool,
}

#[derive(Default)]
struct Imports {
    funcs: u32,
    memories: u32,
    globals: u32,
    tables: u32,
}

impl<'e> Editor<'e> {
    fn new(bytes: &'e [u8], edit: ModuleEdit<'e>) -> Self {
        let mut missing = Vec::new();
        if !edit.extra_funcs.is_empty() {
            missing.extend([SectionId::Function, SectionId::Code]);
        }
        if !edit.extra_memories.is_empty() {
            missing.push(SectionId::Memory);
        }
        if !edit.extra_globals.is_empty() {
            missing.push(SectionId::Global);
        }
        if !edit.extra_exports.is_empty() {
            missing.push(SectionId::Export);
        }
        let new_elems = edit.active_elems.as_ref().is_some_and(|e| !e.is_empty());
        if new_elems || !edit.extra_elems.is_empty() {
            missing.push(SectionId::Element);
        }
        if edit.active_data.as_ref().is_some_and(|d| !d.is_empty()) {
            missing.push(SectionId::Data);
        }
        let pending = missing.into_iter().map(|id| (rank(id), id)).collect();
        Editor {
            bytes,
            edit,
            out: Rope::from(MODULE_PREAMBLE.to_vec()),
            re: RoundtripReencoder,
            pending,
            imports: Imports::default(),
            has_data_count: false,
        }
    }

    fn run(mut self) -> Result<Rope<'e>> {
        for payload in Parser::new(0).parse_all(self.bytes) {
            let payload = payload?;
            if let Some(id) = payload.as_section().and_then(|(id, _)| section_id(id)) {
                if id != SectionId::Custom {
                    self.flush_pending_before(rank(id));
                }
            }
            self.section(payload)?;
        }
        self.flush_pending_before(u8::MAX);
        Ok(self.out)
    }

    /// Writes every missing section that belongs before a section of rank `next`.
    fn flush_pending_before(&mut self, next: u8) {
        while let Some(&(r, id)) = self.pending.first() {
            if r >= next {
                break;
            }
            self.pending.remove(&(r, id));
            match id {
                SectionId::Function => self.emit(id, self.extra_funcs(FunctionSection::new())),
                SectionId::Memory => self.emit(id, self.extra_memories(MemorySection::new())),
                SectionId::Global => self.emit(id, self.extra_globals(GlobalSection::new())),
                SectionId::Export => self.emit(id, self.extra_exports(ExportSection::new())),
                SectionId::Element => self.emit(id, self.extra_elems(ElementSection::new())),
                SectionId::Code => self.emit(id, self.extra_code(CodeSection::new())),
                SectionId::Data => self.emit_data(DataSection::new()),
                _ => {}
            }
        }
    }

    /// Writes section `id`, which no longer needs to be added.
    fn emit(&mut self, id: SectionId, section: impl wasm_encoder::Section) {
        self.pending.remove(&(rank(id), id));
        self.put(&section);
    }

    fn section(&mut self, payload: Payload<'_>) -> Result<()> {
        let e = &mut self.edit;
        match payload {
            Payload::Version { .. } | Payload::End(_) => {}
            Payload::ImportSection(reader) => {
                for import in reader.clone().into_imports() {
                    match import?.ty {
                        wasmparser::TypeRef::Func(_) | wasmparser::TypeRef::FuncExact(_) => {
                            self.imports.funcs += 1
                        }
                        wasmparser::TypeRef::Memory(_) => self.imports.memories += 1,
                        wasmparser::TypeRef::Global(_) => self.imports.globals += 1,
                        wasmparser::TypeRef::Table(_) => self.imports.tables += 1,
                        wasmparser::TypeRef::Tag(_) => {}
                    }
                }
                self.raw(SectionId::Import, reader.range());
            }
            Payload::FunctionSection(reader) if !e.extra_funcs.is_empty() => {
                let mut s = FunctionSection::new();
                for ty in reader {
                    s.function(ty?);
                }
                self.emit(SectionId::Function, self.extra_funcs(s));
            }
            Payload::TableSection(reader) if !e.table_mins.is_empty() => {
                let mut s = TableSection::new();
                for (i, table) in reader.into_iter().enumerate() {
                    let table = table?;
                    let mut ty = self.re.table_type(table.ty)?;
                    let min = e.table_mins.get(&(self.imports.tables + i as u32));
                    if let Some(min) = min {
                        ty.minimum = *min;
                    }
                    match table.init {
                        // A snapshotted table's segments write every slot that is not null, so
                        // a nullable one needs no initializer, and without it Wasmtime can fold
                        // its segments (it folds none from a table with an initializer on). A
                        // non-nullable one keeps it: every slot is written after it.
                        wasmparser::TableInit::Expr(_)
                            if min.is_some() && ty.element_type.nullable =>
                        {
                            s.table(ty)
                        }
                        wasmparser::TableInit::RefNull => s.table(ty),
                        wasmparser::TableInit::Expr(init) => {
                            s.table_with_init(ty, &self.re.const_expr(init)?)
                        }
                    };
                }
                self.put(&s);
            }
            Payload::MemorySection(reader)
                if !e.memory_mins.is_empty() || !e.extra_memories.is_empty() =>
            {
                let mut s = MemorySection::new();
                for (i, memory) in reader.into_iter().enumerate() {
                    let mut ty = self.re.memory_type(memory?)?;
                    if let Some(min) = e.memory_mins.get(&(self.imports.memories + i as u32)) {
                        ty.minimum = *min;
                    }
                    s.memory(ty);
                }
                self.emit(SectionId::Memory, self.extra_memories(s));
            }
            Payload::GlobalSection(reader) if e.edits_globals() => {
                let mut s = GlobalSection::new();
                for (i, global) in reader.into_iter().enumerate() {
                    let global = global?;
                    let ty = self.re.global_type(global.ty)?;
                    let init = match self
                        .edit
                        .global_inits
                        .remove(&(self.imports.globals + i as u32))
                    {
                        Some(init) => init,
                        None => {
                            redirected_const(&mut self.re, &self.edit.redirect, &global.init_expr)?
                        }
                    };
                    s.global(ty, &init);
                }
                self.emit(SectionId::Global, self.extra_globals(s));
            }
            Payload::ExportSection(reader) if e.edits_exports() => {
                let mut s = ExportSection::new();
                for export in reader {
                    let export = export?;
                    // A renamed function keeps its place even when its old name is also
                    // the destination of another renaming.
                    let renamed = match export.kind {
                        wasmparser::ExternalKind::Func => e.renamed_exports.get(export.name),
                        _ => None,
                    };
                    if renamed.is_none() && e.removed_exports.contains(export.name) {
                        continue;
                    }
                    let name = renamed.map_or(export.name, String::as_str);
                    s.export(name, self.re.export_kind(export.kind)?, export.index);
                }
                self.emit(SectionId::Export, self.extra_exports(s));
            }
            Payload::StartSection { .. } if e.drop_start => {}
            Payload::ElementSection(reader)
                if e.active_elems.is_some()
                    || !e.dropped_elems.is_empty()
                    || !e.redirect.is_empty()
                    || !e.extra_elems.is_empty() =>
            {
                let mut s = ElementSection::new();
                for (i, element) in reader.into_iter().enumerate() {
                    self.element(&mut s, i as u32, element?)?;
                }
                self.emit(SectionId::Element, self.extra_elems(s));
            }
            Payload::DataCountSection { count, range } => {
                self.has_data_count = true;
                match e.active_data.as_ref().map(|added| added.len() as u32) {
                    None => self.raw(SectionId::DataCount, range),
                    // Every original segment keeps its index (see the data section below).
                    Some(added) => self.put(&DataCountSection {
                        count: count + added,
                    }),
                }
            }
            Payload::CodeSectionStart {
                unchecked_range: range,
                ..
            } => {
                if e.body_edit.is_none() && e.extra_funcs.is_empty() {
                    self.raw(SectionId::Code, range);
                } else {
                    let section = self.edited_code(range)?;
                    self.emit(SectionId::Code, self.extra_code(section));
                }
            }
            // The code section was read whole at its start.
            Payload::CodeSectionEntry(_) => {}
            Payload::DataSection(reader)
                if e.active_data.is_some() || !e.dropped_data.is_empty() =>
            {
                let keep_indices = self.has_data_count || has_passive(&reader)?;
                let mut s = DataSection::new();
                for (i, segment) in reader.into_iter().enumerate() {
                    let segment = segment?;
                    match segment.kind {
                        DataKind::Passive if self.edit.dropped_data.contains(&(i as u32)) => {
                            s.passive([]);
                        }
                        DataKind::Passive => {
                            s.passive(segment.data.iter().copied());
                        }
                        DataKind::Active { .. } if self.edit.active_data.is_none() => {
                            s.raw(&self.bytes[usize_range(segment.range)]);
                        }
                        DataKind::Active { .. } if keep_indices => {
                            s.passive([]);
                        }
                        DataKind::Active { .. } => {}
                    }
                }
                self.emit_data(s);
            }
            other => {
                if let Some((id, range)) = other.as_section() {
                    self.raw_id(id, range);
                }
            }
        }
        Ok(())
    }

    /// The module's code section (at `range`) with every body the edit rewrites rewritten.
    fn edited_code(&self, range: std::ops::Range<u64>) -> Result<CodeSection> {
        let bytes = &self.bytes[usize_range(range.clone())];
        let reader = BinaryReader::new(bytes, range.start);
        let bodies = CodeSectionReader::new(reader)?
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        let ranges: Vec<_> = bodies.iter().map(|b| usize_range(b.range())).collect();
        let first = self.imports.funcs;
        // Bodies are independent: edited on every core (see `parallel`).
        let edited: Vec<Option<Function>> = match self.edit.body_edit.as_deref() {
            None => ranges.iter().map(|_| None).collect(),
            Some(f) => map_runs(
                bodies,
                code_bytes,
                || (),
                |_, i, body| {
                    let index = first + i as u32;
                    f(index, &body).with_context(|| format!("function {index}"))
                },
            )?,
        };
        let mut section = CodeSection::new();
        for (range, edited) in ranges.into_iter().zip(edited) {
            match edited {
                Some(function) => section.function(&function),
                None => section.raw(&self.bytes[range]),
            };
        }
        Ok(section)
    }

    // Each `extra_*` appends the edit's new entries to a section of that kind.

    fn extra_funcs(&self, mut s: FunctionSection) -> FunctionSection {
        self.edit.extra_funcs.iter().for_each(|(ty, _)| {
            s.function(*ty);
        });
        s
    }

    fn extra_code(&self, mut s: CodeSection) -> CodeSection {
        self.edit.extra_funcs.iter().for_each(|(_, body)| {
            s.function(body);
        });
        s
    }

    fn extra_memories(&self, mut s: MemorySection) -> MemorySection {
        self.edit.extra_memories.iter().for_each(|m| {
            s.memory(*m);
        });
        s
    }

    fn extra_globals(&self, mut s: GlobalSection) -> GlobalSection {
        for (ty, init) in &self.edit.extra_globals {
            s.global(*ty, init);
        }
        s
    }

    fn extra_exports(&self, mut s: ExportSection) -> ExportSection {
        for (name, kind, index) in &self.edit.extra_exports {
            s.export(name, *kind, *index);
        }
        s
    }

    fn raw(&mut self, id: SectionId, range: std::ops::Range<u64>) {
        self.raw_id(id as u8, range);
    }

    /// Copies a section, custom ones included, byte for byte: its contents stay borrowed.
    fn raw_id(&mut self, id: u8, range: std::ops::Range<u64>) {
        let data = &self.bytes[usize_range(range)];
        let tail = self.out.tail();
        tail.push(id);
        data.len().encode(tail);
        self.out.borrow(data);
    }

    /// Appends `section`, encoded.
    fn put(&mut self, section: &impl wasm_encoder::Section) {
        let tail = self.out.tail();
        tail.push(section.id());
        section.encode(tail);
    }
}

fn usize_range(range: std::ops::Range<u64>) -> std::ops::Range<usize> {
    range.start as usize..range.end as usize
}

fn has_passive(reader: &wasmparser::DataSectionReader<'_>) -> Result<bool> {
    for segment in reader.clone() {
        if matches!(segment?.kind, DataKind::Passive) {
            return Ok(true);
        }
    }
    Ok(false)
}
