//! Removal of the init export from the rewritten component's root (see `tree_edit` for
//! everything else the rewrite changes).
//!
//! Everything but the export is re-encoded unchanged; nested modules and components are copied
//! byte for byte, except the one nested definition the export may come from.
//!
//! Removing an export is not free: in the component model an export adds a new entry to its
//! sort's index space. Later references to component functions are remapped: the removed
//! entry's own index maps to the function it exported, and every later index moves down by one.

use anyhow::{anyhow, bail, Result};
use wasm_encoder::reencode::{component_utils, Reencode, ReencodeComponent};
use wasm_encoder::{Component, ComponentSectionId, RawSection};
use wasmparser::{ComponentExternalKind, Parser, Payload};

/// A function export to remove.
#[derive(Debug, Clone, Copy)]
pub enum Removal<'a> {
    /// A function exported by the root.
    Root(&'a str),
    /// Function `func` of the instance the root exports as `iface`: an inline-export instance
    /// loses the item; an instance of a nested component (wit-component's shim for an exported
    /// interface) gets a copy of that component without the export.
    FromInstance { iface: &'a str, func: &'a str },
}

/// Re-encodes `bytes` without the function export `remove`.
pub fn remove_export(bytes: &[u8], remove: Removal<'_>) -> Result<Vec<u8>> {
    let mut rewriter = Rewriter {
        remove_export: None,
        depth: 0,
        funcs: 0,
        removed: None,
        components: Vec::new(),
        component_ordinal: 0,
        instances: 0,
        drop_item: None,
        strip_ascription: None,
        dropped_item: false,
    };
    match remove {
        Removal::Root(name) => rewriter.remove_export = Some(name),
        Removal::FromInstance { iface, func } => {
            rewriter.strip_ascription = Some(iface);
            match locate_instance(bytes, iface)? {
                Located::FromExports(index) => rewriter.drop_item = Some((index, func)),
                Located::Instantiated { ordinal, range } => {
                    let nested =
                        remove_export(&bytes[range], Removal::Root(func)).map_err(|e| {
                            anyhow!("removing `{func}` from the component behind `{iface}`: {e}")
                        })?;
                    rewriter.components.resize(ordinal + 1, None);
                    rewriter.components[ordinal] = Some(nested);
                }
            }
        }
    }
    let mut component = Component::new();
    rewriter
        .parse_component(&mut component, Parser::new(0), bytes)
        .map_err(|e| match e {
            wasm_encoder::reencode::Error::ParseError(e) => {
                anyhow!("re-encoding the component: {e}")
            }
            e => anyhow!("re-encoding the component: {e:?}"),
        })?;
    if let Some(name) = rewriter.remove_export {
        if rewriter.removed.is_none() {
            return Err(anyhow!("root: no function export named '{name}' to remove"));
        }
    }
    if let Some((index, func)) = rewriter.drop_item {
        if !rewriter.dropped_item {
            return Err(anyhow!(
                "root: instance {index} has no function `{func}` to remove"
            ));
        }
    }
    Ok(component.finish())
}

struct Rewriter<'a> {
    remove_export: Option<&'a str>,
    depth: u32,
    /// Component functions defined so far in the root, in the *original* numbering.
    funcs: u32,
    /// (index the removed export created, index of the function it exported).
    removed: Option<(u32, u32)>,
    /// New bytes for root-defined components, by definition order.
    components: Vec<Option<Vec<u8>>>,
    component_ordinal: usize,
    /// Component instances defined so far in the root.
    instances: u32,
    /// Drop function `.1` from the inline-export instance with index `.0`.
    drop_item: Option<(u32, &'a str)>,
    dropped_item: bool,
    /// Export whose type ascription goes (its instance type no longer matches).
    strip_ascription: Option<&'a str>,
}

/// What a root instance export is made of.
enum Located {
    FromExports(u32),
    Instantiated {
        ordinal: usize,
        range: std::ops::Range<usize>,
    },
}

/// Finds what the root instance export `iface` refers to.
fn locate_instance(bytes: &[u8], iface: &str) -> Result<Located> {
    enum Inst {
        FromExports,
        Instantiated(u32),
        Same(u32),
        Other,
    }
    enum Comp {
        Defined(usize, std::ops::Range<usize>),
        Same(u32),
        Other,
    }
    let mut instances: Vec<Inst> = Vec::new();
    let mut components: Vec<Comp> = Vec::new();
    let mut defined = 0;
    let mut depth = 0usize;
    let mut target = None;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::ModuleSection { .. } => depth += 1,
            Payload::ComponentSection {
                unchecked_range, ..
            } => {
                if depth == 0 {
                    let range = unchecked_range.start as usize..unchecked_range.end as usize;
                    components.push(Comp::Defined(defined, range));
                    defined += 1;
                }
                depth += 1;
            }
            Payload::End(_) => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            Payload::ComponentImportSection(reader) => {
                for import in reader {
                    match import?.ty {
                        wasmparser::ComponentTypeRef::Instance(_) => instances.push(Inst::Other),
                        wasmparser::ComponentTypeRef::Component(_) => components.push(Comp::Other),
                        _ => {}
                    }
                }
            }
            Payload::ComponentAliasSection(reader) => {
                for alias in reader {
                    match alias? {
                        wasmparser::ComponentAlias::InstanceExport {
                            kind: ComponentExternalKind::Instance,
                            ..
                        } => instances.push(Inst::Other),
                        wasmparser::ComponentAlias::InstanceExport {
                            kind: ComponentExternalKind::Component,
                            ..
                        }
                        | wasmparser::ComponentAlias::Outer {
                            kind: wasmparser::ComponentOuterAliasKind::Component,
                            ..
                        } => components.push(Comp::Other),
                        _ => {}
                    }
                }
            }
            Payload::ComponentInstanceSection(reader) => {
                for instance in reader {
                    instances.push(match instance? {
                        wasmparser::ComponentInstance::FromExports(_) => Inst::FromExports,
                        wasmparser::ComponentInstance::Instantiate {
                            component_index, ..
                        } => Inst::Instantiated(component_index),
                    });
                }
            }
            Payload::ComponentExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    match export.kind {
                        ComponentExternalKind::Instance => {
                            if export.name.full_name() == iface {
                                target = Some(export.index);
                            }
                            instances.push(Inst::Same(export.index));
                        }
                        ComponentExternalKind::Component => {
                            components.push(Comp::Same(export.index))
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let mut index = target.ok_or_else(|| anyhow!("root: no instance export named `{iface}`"))?;
    loop {
        match instances.get(index as usize) {
            Some(Inst::Same(i)) => index = *i,
            Some(Inst::FromExports) => return Ok(Located::FromExports(index)),
            Some(Inst::Instantiated(c)) => {
                let mut c = *c;
                loop {
                    match components.get(c as usize) {
                        Some(Comp::Same(i)) => c = *i,
                        Some(Comp::Defined(ordinal, range)) => {
                            return Ok(Located::Instantiated { ordinal: *ordinal, range: range.clone() })
                        }
                        _ => bail!("root: `{iface}` is an instance of a component whose code is not in this scope"),
                    }
                }
            }
            _ => bail!("root: `{iface}` is an imported or aliased instance; its functions cannot be removed"),
        }
    }
}

impl Reencode for Rewriter<'_> {
    type Error = std::convert::Infallible;
}

impl ReencodeComponent for Rewriter<'_> {
    fn push_depth(&mut self) {
        self.depth += 1;
    }

    fn pop_depth(&mut self) {
        self.depth -= 1;
    }

    fn component_func_index(&mut self, index: u32) -> u32 {
        match self.removed {
            Some((gone, target)) if self.depth == 0 => {
                if index == gone {
                    target
                } else if index > gone {
                    index - 1
                } else {
                    index
                }
            }
            _ => index,
        }
    }

    fn parse_component_submodule(
        &mut self,
        component: &mut Component,
        _parser: Parser,
        module: &[u8],
    ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
        component.section(&RawSection {
            id: ComponentSectionId::CoreModule as u8,
            data: module,
        });
        Ok(())
    }

    fn parse_component_subcomponent(
        &mut self,
        component: &mut Component,
        _parser: Parser,
        subcomponent: &[u8],
        _whole: &[u8],
    ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
        let replacement = if self.depth == 0 {
            let ordinal = self.component_ordinal;
            self.component_ordinal += 1;
            self.components.get(ordinal).and_then(|c| c.as_deref())
        } else {
            None
        };
        component.section(&RawSection {
            id: ComponentSectionId::Component as u8,
            data: replacement.unwrap_or(subcomponent),
        });
        Ok(())
    }

    fn parse_custom_component_name_subsection(
        &mut self,
        names: &mut wasm_encoder::ComponentNameSection,
        section: wasmparser::ComponentName<'_>,
    ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
        match (section, self.removed) {
            // The removed export's name goes with it; mapping it onto its target would give
            // that index two names.
            (wasmparser::ComponentName::Funcs(map), Some((gone, _))) if self.depth == 0 => {
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

    fn parse_component_payload(
        &mut self,
        component: &mut Component,
        payload: Payload<'_>,
        whole: &[u8],
    ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
        if self.depth == 0 {
            match &payload {
                Payload::ComponentAliasSection(reader) => {
                    for alias in reader.clone().into_iter().flatten() {
                        match alias {
                            wasmparser::ComponentAlias::InstanceExport {
                                kind: ComponentExternalKind::Func,
                                ..
                            } => self.funcs += 1,
                            wasmparser::ComponentAlias::InstanceExport {
                                kind: ComponentExternalKind::Instance,
                                ..
                            } => self.instances += 1,
                            _ => {}
                        }
                    }
                }
                Payload::ComponentCanonicalSection(reader) => {
                    for canon in reader.clone().into_iter().flatten() {
                        if matches!(canon, wasmparser::CanonicalFunction::Lift { .. }) {
                            self.funcs += 1;
                        }
                    }
                }
                Payload::ComponentInstanceSection(reader) => {
                    let mut section = wasm_encoder::ComponentInstanceSection::new();
                    for instance in reader.clone() {
                        let mut instance = instance?;
                        let index = self.instances;
                        self.instances += 1;
                        if let (
                            Some((target, func)),
                            wasmparser::ComponentInstance::FromExports(items),
                        ) = (self.drop_item, &instance)
                        {
                            if target == index {
                                let kept: Vec<_> = items
                                    .iter()
                                    .filter(|e| {
                                        !(e.kind == ComponentExternalKind::Func
                                            && e.name.full_name() == func)
                                    })
                                    .cloned()
                                    .collect();
                                self.dropped_item = kept.len() < items.len();
                                instance = wasmparser::ComponentInstance::FromExports(
                                    kept.into_boxed_slice(),
                                );
                            }
                        }
                        self.parse_component_instance(&mut section, instance)?;
                    }
                    component.section(&section);
                    return Ok(());
                }
                Payload::ComponentImportSection(reader) => {
                    for import in reader.clone().into_iter().flatten() {
                        match import.ty {
                            wasmparser::ComponentTypeRef::Func(_) => self.funcs += 1,
                            wasmparser::ComponentTypeRef::Instance(_) => self.instances += 1,
                            _ => {}
                        }
                    }
                }
                Payload::ComponentExportSection(reader) => {
                    let mut section = wasm_encoder::ComponentExportSection::new();
                    for export in reader.clone() {
                        let mut export = export?;
                        if export.kind == ComponentExternalKind::Instance {
                            self.instances += 1;
                            if Some(export.name.full_name().as_ref()) == self.strip_ascription {
                                export.ty = None;
                            }
                        }
                        if export.kind == ComponentExternalKind::Func {
                            if self.removed.is_none()
                                && Some(export.name.full_name().as_ref()) == self.remove_export
                            {
                                self.removed = Some((self.funcs, export.index));
                                self.funcs += 1;
                                continue;
                            }
                            self.funcs += 1;
                        }
                        self.parse_component_export(&mut section, export)?;
                    }
                    if !section.is_empty() {
                        component.section(&section);
                    }
                    return Ok(());
                }
                _ => {}
            }
        }
        component_utils::parse_component_payload(self, component, payload, whole)
    }
}
