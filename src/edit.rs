//! Section-level editing of one core module, shared by `instrument` and `rewrite`.
//!
//! Every edit is index-preserving: globals and exports are only appended, memories only change
//! their minimum, and data segments that code can name (`memory.init`, `data.drop`) keep their
//! index. Sections the edit does not touch are copied byte for byte, so a module passes through
//! unchanged when the edit is empty.

use anyhow::{Context, Result};
use std::collections::HashMap;
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    CodeSection, ConstExpr, DataCountSection, DataSection, ExportKind, ExportSection, Function,
    GlobalSection, GlobalType, MemorySection, Module, RawSection,
};
use wasmparser::{DataKind, FunctionBody, Parser, Payload};

/// Rewrites one function body; `None` keeps the original bytes.
pub type BodyEdit<'e> = dyn FnMut(u32, &FunctionBody) -> Result<Option<Function>> + 'e;

/// What to change in a module. `Default` changes nothing.
#[derive(Default)]
pub struct ModuleEdit<'e> {
    /// Appended after the module's own globals, so existing global indices stay.
    pub extra_globals: Vec<(GlobalType, ConstExpr)>,
    /// New initializers for defined globals, by absolute global index.
    pub global_inits: HashMap<u32, ConstExpr>,
    /// New minimum page counts for defined memories, by absolute memory index.
    pub memory_mins: HashMap<u32, u64>,
    pub extra_exports: Vec<(String, ExportKind, u32)>,
    pub drop_start: bool,
    /// Replaces every active data segment; passive segments are kept.
    pub active_data: Option<Vec<DataSegment>>,
    pub body_edit: Option<Box<BodyEdit<'e>>>,
}

/// An active data segment with a constant offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSegment {
    pub memory: u32,
    pub offset: u32,
    pub bytes: Vec<u8>,
}

/// The canonical section order, to know where a missing section must be inserted.
fn rank(id: u8) -> u8 {
    match id {
        1 => 1,   // type
        2 => 2,   // import
        3 => 3,   // function
        4 => 4,   // table
        5 => 5,   // memory
        13 => 6,  // tag
        6 => 7,   // global
        7 => 8,   // export
        8 => 9,   // start
        9 => 10,  // element
        12 => 11, // data count
        10 => 12, // code
        11 => 13, // data
        _ => 0,
    }
}

const GLOBAL_RANK: u8 = 7;
const EXPORT_RANK: u8 = 8;

/// Applies `edit` to `bytes` and returns the new module.
pub fn edit_module(bytes: &[u8], mut edit: ModuleEdit<'_>) -> Result<Vec<u8>> {
    let mut out = Module::new();
    let mut re = RoundtripReencoder;
    let mut globals_done = edit.extra_globals.is_empty();
    let mut exports_done = edit.extra_exports.is_empty();
    let mut data_done = edit.active_data.is_none();
    let mut imported_funcs = 0u32;
    let mut code: Option<(CodeSection, u32, u32)> = None; // section, remaining, next func index
    let mut has_data_count = false;

    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload?;
        if let Some((id, _)) = payload.as_section() {
            let r = rank(id);
            if r > GLOBAL_RANK && !globals_done {
                out.section(&extra_global_section(&edit.extra_globals));
                globals_done = true;
            }
            if r > EXPORT_RANK && !exports_done {
                out.section(&extra_export_section(&edit.extra_exports));
                exports_done = true;
            }
        }
        match payload {
            Payload::Version { .. } => {}
            Payload::ImportSection(reader) => {
                for import in reader.clone().into_imports() {
                    if matches!(
                        import?.ty,
                        wasmparser::TypeRef::Func(_) | wasmparser::TypeRef::FuncExact(_)
                    ) {
                        imported_funcs += 1;
                    }
                }
                copy_raw(&mut out, bytes, 2, reader.range());
            }
            Payload::MemorySection(reader) if !edit.memory_mins.is_empty() => {
                let mut section = MemorySection::new();
                let first = imported_memories(bytes)?;
                for (i, memory) in reader.into_iter().enumerate() {
                    let mut ty = re.memory_type(memory?)?;
                    if let Some(min) = edit.memory_mins.get(&(first + i as u32)) {
                        ty.minimum = *min;
                    }
                    section.memory(ty);
                }
                out.section(&section);
            }
            Payload::GlobalSection(reader)
                if !edit.global_inits.is_empty() || !edit.extra_globals.is_empty() =>
            {
                let mut section = GlobalSection::new();
                let first = imported_globals(bytes)?;
                for (i, global) in reader.into_iter().enumerate() {
                    let global = global?;
                    let ty = re.global_type(global.ty)?;
                    let init = match edit.global_inits.remove(&(first + i as u32)) {
                        Some(init) => init,
                        None => re.const_expr(global.init_expr)?,
                    };
                    section.global(ty, &init);
                }
                for (ty, init) in &edit.extra_globals {
                    section.global(*ty, init);
                }
                out.section(&section);
                globals_done = true;
            }
            Payload::ExportSection(reader) if !edit.extra_exports.is_empty() => {
                let mut section = ExportSection::new();
                for export in reader {
                    let export = export?;
                    section.export(export.name, re.export_kind(export.kind)?, export.index);
                }
                for (name, kind, index) in &edit.extra_exports {
                    section.export(name, *kind, *index);
                }
                out.section(&section);
                exports_done = true;
            }
            Payload::StartSection { .. } if edit.drop_start => {}
            Payload::DataCountSection { range, .. } => {
                has_data_count = true;
                if edit.active_data.is_none() {
                    copy_raw(&mut out, bytes, 12, range);
                } else {
                    // Code may name data segments, so every index is kept (see the data
                    // section below) and the new segments come after them.
                    let added = edit.active_data.as_ref().map_or(0, |d| d.len() as u32);
                    out.section(&DataCountSection {
                        count: count_data(bytes)? + added,
                    });
                }
            }
            Payload::CodeSectionStart { count, .. } => {
                code = Some((CodeSection::new(), count, imported_funcs));
                if count == 0 {
                    out.section(&CodeSection::new());
                    code = None;
                }
            }
            Payload::CodeSectionEntry(body) => {
                let Some((section, remaining, index)) = code.as_mut() else {
                    continue;
                };
                let edited = match edit.body_edit.as_mut() {
                    Some(f) => f(*index, &body).with_context(|| format!("function {index}"))?,
                    None => None,
                };
                match edited {
                    Some(function) => section.function(&function),
                    None => section.raw(&bytes[usize_range(body.range())]),
                };
                *index += 1;
                *remaining -= 1;
                if *remaining == 0 {
                    if let Some((section, _, _)) = code.take() {
                        out.section(&section);
                    }
                }
            }
            Payload::DataSection(reader) if edit.active_data.is_some() => {
                // Without a data count section no code names a segment; without passive
                // segments nothing could name one after instantiation either.
                let keep_indices = has_data_count || has_passive(&reader)?;
                let mut section = DataSection::new();
                for segment in reader {
                    let segment = segment?;
                    match segment.kind {
                        DataKind::Passive => {
                            section.passive(segment.data.iter().copied());
                        }
                        DataKind::Active { memory_index, .. } if keep_indices => {
                            // Emptied but kept, so `memory.init`/`data.drop` indices still match.
                            section.active(memory_index, &ConstExpr::i32_const(0), []);
                        }
                        DataKind::Active { .. } => {}
                    }
                }
                for segment in edit.active_data.take().unwrap_or_default() {
                    push_active(&mut section, &segment);
                }
                out.section(&section);
                data_done = true;
            }
            Payload::End(_) => {}
            other => {
                if let Some((id, range)) = other.as_section() {
                    copy_raw(&mut out, bytes, id, range);
                }
            }
        }
    }
    if !globals_done {
        out.section(&extra_global_section(&edit.extra_globals));
    }
    if !exports_done {
        out.section(&extra_export_section(&edit.extra_exports));
    }
    if !data_done {
        let segments = edit.active_data.take().unwrap_or_default();
        if !segments.is_empty() {
            let mut section = DataSection::new();
            for segment in &segments {
                push_active(&mut section, segment);
            }
            out.section(&section);
        }
    }
    Ok(out.finish())
}

fn push_active(section: &mut DataSection, segment: &DataSegment) {
    section.active(
        segment.memory,
        &ConstExpr::i32_const(segment.offset as i32),
        segment.bytes.iter().copied(),
    );
}

fn copy_raw(out: &mut Module, bytes: &[u8], id: u8, range: std::ops::Range<u64>) {
    out.section(&RawSection {
        id,
        data: &bytes[usize_range(range)],
    });
}

fn usize_range(range: std::ops::Range<u64>) -> std::ops::Range<usize> {
    range.start as usize..range.end as usize
}

fn extra_global_section(globals: &[(GlobalType, ConstExpr)]) -> GlobalSection {
    let mut section = GlobalSection::new();
    for (ty, init) in globals {
        section.global(*ty, init);
    }
    section
}

fn extra_export_section(exports: &[(String, ExportKind, u32)]) -> ExportSection {
    let mut section = ExportSection::new();
    for (name, kind, index) in exports {
        section.export(name, *kind, *index);
    }
    section
}

fn has_passive(reader: &wasmparser::DataSectionReader<'_>) -> Result<bool> {
    for segment in reader.clone() {
        if matches!(segment?.kind, DataKind::Passive) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Number of data segments in the module.
fn count_data(bytes: &[u8]) -> Result<u32> {
    for payload in Parser::new(0).parse_all(bytes) {
        if let Payload::DataSection(reader) = payload? {
            return Ok(reader.count());
        }
    }
    Ok(0)
}

fn imported_memories(bytes: &[u8]) -> Result<u32> {
    count_imports(bytes, |ty| matches!(ty, wasmparser::TypeRef::Memory(_)))
}

fn imported_globals(bytes: &[u8]) -> Result<u32> {
    count_imports(bytes, |ty| matches!(ty, wasmparser::TypeRef::Global(_)))
}

fn count_imports(bytes: &[u8], pred: impl Fn(&wasmparser::TypeRef) -> bool) -> Result<u32> {
    for payload in Parser::new(0).parse_all(bytes) {
        if let Payload::ImportSection(reader) = payload? {
            let mut n = 0;
            for import in reader.into_imports() {
                if pred(&import?.ty) {
                    n += 1;
                }
            }
            return Ok(n);
        }
    }
    Ok(0)
}
