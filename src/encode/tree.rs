//! Re-encoding of a whole component tree in one pass, shared by `instrument` and `rewrite`.
//!
//! Each component body gets a [`BodyEdit`]: new bytes for the modules it defines, several
//! *versions* of a module or nested definition (one per distinct state of the instances that
//! use it), the host sink prepended, a function export removed, and sections appended.
//! Versions are inserted right after the definition they copy, and the sink's type and import
//! go first, so later entries of those index spaces move up. Every reference is remapped,
//! including `alias outer` references from deeper bodies and inline type declarations into the
//! bodies that moved; a type declaration's own index spaces never move.
//!
//! Removing an export is not free either: in the component model an export adds an entry to
//! its sort's index space. References to the removed entry go to the function it exported,
//! and every later function index moves down by one.

use super::builder::BodyBuilder;
use super::rope::Rope;
use crate::model::{IndexCounts, Site, Sort};
use crate::protocol::SINK_IMPORT;
use anyhow::{anyhow, Result};
pub use edit::{BodyEdit, ExportRemoval};
use wasm_encoder::reencode::{component_utils, Reencode, ReencodeComponent};
use wasm_encoder::{
    Component, ComponentAliasSection, ComponentExportKind, ComponentImportSection,
    ComponentInstanceSection, ComponentSectionId, ComponentTypeRef, ComponentTypeSection,
    ComponentValType, Encode, ExportKind, InstanceSection, ModuleArg, PrimitiveValType, RawSection,
};
use wasmparser::{Parser, Payload};

/// Component types the sink prepends: `list<u8>` and the sink's function type.
const SINK_TYPES: u32 = 2;

impl BodyEdit<'_> {
    fn shifts(&self) -> Shifts {
        let extra = |n: usize| n.saturating_sub(1) as u32;
        let mut shifts = Shifts::default();
        for (index, versions) in &self.modules {
            if versions.len() > 1 {
                shifts.modules.push((index + 1, extra(versions.len())));
            }
        }
        for (index, versions) in &self.components {
            if versions.len() > 1 {
                shifts.components.push((index + 1, extra(versions.len())));
            }
        }
        if self.sink {
            shifts.types.push((0, SINK_TYPES));
            shifts.funcs.push((0, 1));
        }
        shifts.removed_func = self.remove_export.as_ref().map(|r| (r.entry, r.target));
        shifts
    }

    /// The body's index space sizes after this edit, before anything is appended.
    pub fn counts(&self) -> IndexCounts {
        let s = self.shifts();
        let total = |v: &[(u32, u32)]| v.iter().map(|(_, n)| n).sum::<u32>();
        let mut counts = self.counts;
        counts.modules += total(&s.modules);
        counts.components += total(&s.components);
        counts.component_types += total(&s.types);
        counts.component_funcs += total(&s.funcs);
        counts.component_funcs -= u32::from(s.removed_func.is_some());
        counts
    }
}

/// Entries inserted into a body's index spaces: (original index they go before, how many);
/// and the function entry an export removal takes out, with the function it exported.
#[derive(Debug, Clone, Default)]
struct Shifts {
    types: Vec<(u32, u32)>,
    funcs: Vec<(u32, u32)>,
    modules: Vec<(u32, u32)>,
    components: Vec<(u32, u32)>,
    removed_func: Option<(u32, u32)>,
}

impl Shifts {
    /// Where component function `index` goes: the removal first, then the insertions (which,
    /// for functions, are only the sink at 0, so the order does not matter).
    fn func(&self, index: u32) -> u32 {
        let index = match self.removed_func {
            Some((gone, target)) if index == gone => target,
            Some((gone, _)) if index > gone => index - 1,
            _ => index,
        };
        shift(&self.funcs, index)
    }
}

fn shift(inserted: &[(u32, u32)], index: u32) -> u32 {
    index
        + inserted
            .iter()
            .filter(|(at, _)| *at <= index)
            .map(|(_, n)| n)
            .sum::<u32>()
}

/// Re-encodes a whole component (the root body) with `edit`. The modules' ropes go into the
/// result as they are, borrowed pieces included.
pub fn edit_tree<'a>(bytes: &[u8], edit: &BodyEdit<'a>) -> Result<Rope<'a>> {
    encode_body(bytes, edit, &[])
}

/// Encodes one body; `outer` holds the shifts of the enclosing bodies, innermost last.
fn encode_body<'a>(
    bytes: &[u8],
    edit: &BodyEdit<'a>,
    outer: &[Option<Shifts>],
) -> Result<Rope<'a>> {
    let mut frames: Vec<Option<Shifts>> = outer.to_vec();
    frames.push(Some(edit.shifts()));
    let mut encoder = BodyEncoder {
        edit,
        body: frames.len(),
        frames,
        module_ordinal: 0,
        component_ordinal: 0,
        core_instances: 0,
        component_instances: 0,
        error: None,
        removed_export: false,
        removed_item: false,
        section: 0,
        out: Rope::from(Component::new().finish()),
    };
    let mut component = Component::new();
    if edit.sink {
        let mut types = ComponentTypeSection::new();
        types
            .defined_type()
            .list(ComponentValType::Primitive(PrimitiveValType::U8));
        types
            .function()
            .params([
                ("tag", ComponentValType::Primitive(PrimitiveValType::U32)),
                ("data", ComponentValType::Type(0)),
                ("lo", ComponentValType::Primitive(PrimitiveValType::U64)),
                ("hi", ComponentValType::Primitive(PrimitiveValType::U64)),
            ])
            .result(None);
        component.section(&types);
        let mut imports = ComponentImportSection::new();
        imports.import(SINK_IMPORT, ComponentTypeRef::Func(1));
        component.section(&imports);
    }
    let result = encoder.parse_component(&mut component, Parser::new(0), bytes);
    if let Some(e) = encoder.error.take() {
        return Err(e);
    }
    result.map_err(|e| match e {
        wasm_encoder::reencode::Error::ParseError(e) => anyhow!("re-encoding a component: {e}"),
        e => anyhow!("re-encoding a component: {e:?}"),
    })?;
    if let Some(append) = &edit.append {
        let mut body = BodyBuilder::new(&mut component, edit.counts());
        append(&mut body);
        body.finish();
    }
    if let Some(removal) = &edit.remove_export {
        if !encoder.removed_export {
            return Err(anyhow!(
                "no function export named '{}' to remove",
                removal.name
            ));
        }
    }
    if let Some((entry, func)) = &edit.remove_instance_item {
        if !encoder.removed_item {
            return Err(anyhow!(
                "instance-section entry {entry} has no function `{func}` to remove"
            ));
        }
    }
    let mut out = encoder.out;
    out.extend(&sections(component));
    Ok(out)
}

/// The sections `component` holds, without the preamble every component starts with.
fn sections(component: Component) -> Vec<u8> {
    let mut bytes = component.finish();
    bytes.drain(..Component::new().as_slice().len());
    bytes
}

struct BodyEncoder<'e, 'a> {
    edit: &'e BodyEdit<'a>,
    /// One frame per enclosing index-space scope: `Some` for a component body (with what was
    /// inserted into it), `None` for a type declaration or module type.
    frames: Vec<Option<Shifts>>,
    /// `frames.len()` while at the level of this body.
    body: usize,
    module_ordinal: usize,
    component_ordinal: usize,
    core_instances: u32,
    component_instances: u32,
    /// An error from a nested body, which the reencoder's error type cannot carry.
    error: Option<anyhow::Error>,
    /// The edit's export removal and instance item removal happened.
    removed_export: bool,
    removed_item: bool,
    /// The position of the current section among the input body's sections, from 1.
    section: u32,
    /// The body so far, up to the last section [`BodyEncoder::splice`] put in; `component`
    /// holds what follows it.
    out: Rope<'a>,
}

impl<'a> BodyEncoder<'_, 'a> {
    /// Appends the section `id` holding `contents`, after what `component` holds so far,
    /// without copying the contents.
    fn splice(&mut self, component: &mut Component, id: ComponentSectionId, contents: Rope<'a>) {
        let done = std::mem::replace(component, Component::new());
        let tail = self.out.tail();
        tail.extend_from_slice(&sections(done));
        tail.push(id as u8);
        contents.len().encode(tail);
        self.out.append(contents);
    }

    /// Re-encodes a section of the body item by item (`add`), emitting instead, for each item
    /// in [`BodyEdit::replace_sites`], the definition that replaces it.
    fn replacing<'r, T, S>(
        &mut self,
        component: &mut Component,
        reader: wasmparser::SectionLimited<'r, T>,
        mut add: impl FnMut(
            &mut Self,
            &mut S,
            T,
        )
            -> Result<(), wasm_encoder::reencode::Error<std::convert::Infallible>>,
    ) -> Result<(), wasm_encoder::reencode::Error<std::convert::Infallible>>
    where
        T: wasmparser::FromReader<'r>,
        S: Default + wasm_encoder::ComponentSection,
    {
        let mut section = S::default();
        let mut pending = false;
        for (item, entry) in reader.into_iter().enumerate() {
            let entry = entry?;
            let site = Site {
                section: self.section,
                item: item as u32,
            };
            match self.edit.replace_sites.get(&site) {
                Some((sort, definition)) => {
                    if pending {
                        component.section(&std::mem::take(&mut section));
                        pending = false;
                    }
                    let id = match sort {
                        Sort::Module => ComponentSectionId::CoreModule,
                        Sort::Component => ComponentSectionId::Component,
                    };
                    component.section(&RawSection {
                        id: id as u8,
                        data: definition,
                    });
                }
                None => {
                    add(self, &mut section, entry)?;
                    pending = true;
                }
            }
        }
        if pending {
            component.section(&section);
        }
        Ok(())
    }

    fn at_body(&self) -> bool {
        self.frames.len() == self.body
    }

    fn frame(&self, count: u32) -> Option<&Shifts> {
        let at = self.frames.len().checked_sub(1 + count as usize)?;
        self.frames[at].as_ref()
    }

    fn remap(&self, count: u32, pick: fn(&Shifts) -> &[(u32, u32)], index: u32) -> u32 {
        match self.frame(count) {
            Some(s) => shift(pick(s), index),
            None => index,
        }
    }

    /// One entry of the body's core instance section: an instantiation names the version of
    /// its module.
    fn core_instance(
        &mut self,
        section: &mut InstanceSection,
        index: u32,
        instance: wasmparser::Instance<'_>,
    ) {
        match instance {
            wasmparser::Instance::Instantiate { module_index, args } => {
                let version = self.edit.module_version.get(&index).copied().unwrap_or(0);
                let definition = self.edit.module_definitions.get(&module_index);
                let module = self.module_index(definition.copied().unwrap_or(module_index));
                let module = module + version;
                let args: Vec<_> = args
                    .iter()
                    .map(|a| (a.name, ModuleArg::Instance(a.index)))
                    .collect();
                section.instantiate(module, args);
            }
            wasmparser::Instance::FromExports(exports) => {
                let items: Vec<_> = exports
                    .iter()
                    .map(|e| (e.name, ExportKind::from(e.kind), e.index))
                    .collect();
                section.export_items(items);
            }
        }
    }

    /// One entry of the body's component instance section: an instantiation names the version
    /// of its component and gets the sink when its child needs it; an inline-export instance
    /// may lose the removed init function.
    fn component_instance(
        &mut self,
        section: &mut ComponentInstanceSection,
        index: u32,
        instance: wasmparser::ComponentInstance<'_>,
    ) -> Result<(), wasm_encoder::reencode::Error> {
        match instance {
            wasmparser::ComponentInstance::Instantiate {
                component_index,
                args,
            } => {
                let version = self
                    .edit
                    .component_version
                    .get(&index)
                    .copied()
                    .unwrap_or(0);
                let definition = self.edit.component_definitions.get(&component_index);
                let target = self.component_index(definition.copied().unwrap_or(component_index));
                let target = target + version;
                let mut out: Vec<(&str, ComponentExportKind, u32)> = args
                    .iter()
                    .map(|a| {
                        let i = self.component_external_index(a.kind, a.index);
                        (a.name, self.component_export_kind(a.kind), i)
                    })
                    .collect();
                if self.edit.sink_args.contains(&index) {
                    out.push((SINK_IMPORT, ComponentExportKind::Func, 0));
                }
                section.instantiate(target, out);
            }
            wasmparser::ComponentInstance::FromExports(items) => {
                let mut items = items.into_vec();
                if let Some((_, func)) =
                    (self.edit.remove_instance_item.as_ref()).filter(|(e, _)| *e == index)
                {
                    let before = items.len();
                    items.retain(|e| {
                        !(e.kind == wasmparser::ComponentExternalKind::Func
                            && e.name.full_name() == func.as_str())
                    });
                    self.removed_item = items.len() < before;
                }
                let instance = wasmparser::ComponentInstance::FromExports(items.into_boxed_slice());
                self.parse_component_instance(section, instance)?;
            }
        }
        Ok(())
    }

    /// The body's export section, without the removed export and with the ascription of the
    /// instance that lost an item stripped.
    fn export_section(
        &mut self,
        component: &mut Component,
        reader: wasmparser::ComponentExportSectionReader<'_>,
    ) -> Result<(), wasm_encoder::reencode::Error> {
        let mut section = wasm_encoder::ComponentExportSection::new();
        let mut removed = false;
        for export in reader {
            let mut export = export?;
            let name = export.name.full_name();
            match export.kind {
                wasmparser::ComponentExternalKind::Func
                    if !self.removed_export
                        && self.edit.remove_export.as_ref().map(|r| r.name.as_str())
                            == Some(name.as_ref()) =>
                {
                    self.removed_export = true;
                    removed = true;
                    continue;
                }
                wasmparser::ComponentExternalKind::Instance
                    if self.edit.strip_ascription.as_deref() == Some(name.as_ref()) =>
                {
                    export.ty = None;
                }
                _ => {}
            }
            self.parse_component_export(&mut section, export)?;
        }
        if !(removed && section.is_empty()) {
            component.section(&section);
        }
        Ok(())
    }
}

/// The index of the first of `n` new entries of a space that has `*next`, counting them.
fn take(next: &mut u32, n: u32) -> u32 {
    *next += n;
    *next - n
}

/// Re-encodes a section entry by entry into `section`, numbering the entries from `first`.
fn entries<'r, T, S: wasm_encoder::ComponentSection>(
    component: &mut Component,
    mut section: S,
    first: u32,
    reader: wasmparser::SectionLimited<'r, T>,
    mut entry: impl FnMut(&mut S, u32, T) -> Result<(), wasm_encoder::reencode::Error>,
) -> Result<(), wasm_encoder::reencode::Error>
where
    T: wasmparser::FromReader<'r>,
{
    for (index, item) in (first..).zip(reader) {
        entry(&mut section, index, item?)?;
    }
    component.section(&section);
    Ok(())
}

impl Reencode for BodyEncoder<'_, '_> {
    type Error = std::convert::Infallible;
}

impl ReencodeComponent for BodyEncoder<'_, '_> {
    fn push_depth(&mut self) {
        self.frames.push(None);
    }

    fn pop_depth(&mut self) {
        self.frames.pop();
    }

    fn component_type_index(&mut self, index: u32) -> u32 {
        self.remap(0, |s| &s.types, index)
    }

    fn component_func_index(&mut self, index: u32) -> u32 {
        match self.frame(0) {
            Some(s) => s.func(index),
            None => index,
        }
    }

    fn parse_custom_component_name_subsection(
        &mut self,
        names: &mut wasm_encoder::ComponentNameSection,
        section: wasmparser::ComponentName<'_>,
    ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
        let gone = self.frame(0).and_then(|s| s.removed_func).map(|r| r.0);
        match (section, gone) {
            // The removed export's name goes with it; mapping it onto its target would give
            // that index two names.
            (wasmparser::ComponentName::Funcs(map), Some(gone)) => {
                let mut out = wasm_encoder::NameMap::new();
                for naming in map {
                    let naming = naming?;
                    if naming.index != gone {
                        out.append(self.component_func_index(naming.index), naming.name);
                    }
                }
                names.funcs(&out);
                Ok(())
            }
            (section, _) => {
                component_utils::parse_custom_component_name_subsection(self, names, section)
            }
        }
    }

    fn module_index(&mut self, index: u32) -> u32 {
        self.remap(0, |s| &s.modules, index)
    }

    fn component_index(&mut self, index: u32) -> u32 {
        self.remap(0, |s| &s.components, index)
    }

    fn outer_component_type_index(&mut self, count: u32, index: u32) -> u32 {
        self.remap(count, |s| &s.types, index)
    }

    fn outer_module_index(&mut self, count: u32, index: u32) -> u32 {
        self.remap(count, |s| &s.modules, index)
    }

    fn outer_component_index(&mut self, count: u32, index: u32) -> u32 {
        self.remap(count, |s| &s.components, index)
    }

    fn parse_component_submodule(
        &mut self,
        component: &mut Component,
        _parser: Parser,
        module: &[u8],
    ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
        let ordinal = self.module_ordinal;
        self.module_ordinal += 1;
        let versions = self.edit.modules.get(ordinal).map(|m| &m.1[..]);
        match versions {
            Some(versions) if !versions.is_empty() => {
                for rope in versions {
                    self.splice(component, ComponentSectionId::CoreModule, rope.clone());
                }
            }
            _ => {
                component.section(&RawSection {
                    id: ComponentSectionId::CoreModule as u8,
                    data: module,
                });
            }
        }
        Ok(())
    }

    fn parse_component_subcomponent(
        &mut self,
        component: &mut Component,
        _parser: Parser,
        subcomponent: &[u8],
        _whole: &[u8],
    ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
        let ordinal = self.component_ordinal;
        self.component_ordinal += 1;
        let unchanged = BodyEdit::unchanged();
        let versions: Vec<&BodyEdit> = match self.edit.components.get(ordinal) {
            Some((_, versions)) if !versions.is_empty() => versions.iter().collect(),
            _ => vec![&unchanged],
        };
        for edit in versions {
            match encode_body(subcomponent, edit, &self.frames) {
                Ok(rope) => self.splice(component, ComponentSectionId::Component, rope),
                Err(e) => {
                    self.error.get_or_insert(e);
                    return Ok(());
                }
            };
        }
        Ok(())
    }

    fn parse_component_payload(
        &mut self,
        component: &mut Component,
        payload: Payload<'_>,
        whole: &[u8],
    ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
        if self.at_body() && !matches!(payload, Payload::Version { .. } | Payload::End(_)) {
            self.section += 1;
        }
        if self.at_body() && !self.edit.replace_sites.is_empty() {
            match payload {
                Payload::ComponentAliasSection(reader) => {
                    return self.replacing(
                        component,
                        reader,
                        |s, section: &mut ComponentAliasSection, alias| {
                            let alias = s.component_alias(alias)?;
                            section.alias(alias);
                            Ok(())
                        },
                    );
                }
                Payload::ComponentImportSection(reader) => {
                    return self.replacing(
                        component,
                        reader,
                        |s, section: &mut ComponentImportSection, import| {
                            let ty = s.component_type_ref(import.ty)?;
                            section.import(import.name, ty);
                            Ok(())
                        },
                    );
                }
                _ => {}
            }
        }
        if self.at_body() {
            match payload {
                Payload::InstanceSection(reader) => {
                    let first = take(&mut self.core_instances, reader.count());
                    let section = InstanceSection::new();
                    return entries(component, section, first, reader, |s, i, instance| {
                        self.core_instance(s, i, instance);
                        Ok(())
                    });
                }
                Payload::ComponentInstanceSection(reader) => {
                    let first = take(&mut self.component_instances, reader.count());
                    let section = ComponentInstanceSection::new();
                    return entries(component, section, first, reader, |s, i, instance| {
                        self.component_instance(s, i, instance)
                    });
                }
                Payload::ComponentExportSection(reader) => {
                    return self.export_section(component, reader)
                }
                _ => {}
            }
        }
        component_utils::parse_component_payload(self, component, payload, whole)
    }
}

mod edit;
#[cfg(test)]
mod tests;
