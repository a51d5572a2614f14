//! Re-encoding of a component's root scope, shared by `instrument` and `rewrite`.
//!
//! Root-defined core modules can be swapped for new bytes (by definition order), one root
//! function export can be removed, and sections can be appended at the end. Everything else is
//! re-encoded unchanged; nested modules and components are copied byte for byte.
//!
//! Removing an export is not free: in the component model an export adds a new entry to its
//! sort's index space. Later references to component functions are remapped: the removed
//! entry's own index maps to the function it exported, and every later index moves down by one.

use anyhow::{anyhow, Result};
use wasm_encoder::reencode::{component_utils, Reencode, ReencodeComponent};
use wasm_encoder::{Component, ComponentSectionId, RawSection};
use wasmparser::{ComponentExternalKind, Parser, Payload};

/// Appends sections after the root's last one.
pub type Append<'a> = Box<dyn FnOnce(&mut Component) + 'a>;

pub struct ComponentEdit<'a> {
    /// New bytes for root-defined modules, by definition order; `None` keeps a module.
    pub modules: &'a [Option<Vec<u8>>],
    /// Name of a root function export to remove.
    pub remove_export: Option<&'a str>,
    /// Called once after the last root section, to append more.
    pub append: Option<Append<'a>>,
}

pub fn edit_component(bytes: &[u8], edit: ComponentEdit<'_>) -> Result<Vec<u8>> {
    let mut rewriter = Rewriter {
        modules: edit.modules,
        remove_export: edit.remove_export,
        depth: 0,
        ordinal: 0,
        funcs: 0,
        removed: None,
    };
    let mut component = Component::new();
    rewriter
        .parse_component(&mut component, Parser::new(0), bytes)
        .map_err(|e| match e {
            wasm_encoder::reencode::Error::ParseError(e) => {
                anyhow!("re-encoding the component: {e}")
            }
            e => anyhow!("re-encoding the component: {e:?}"),
        })?;
    if let Some(name) = edit.remove_export {
        if rewriter.removed.is_none() {
            return Err(anyhow!("root: no function export named '{name}' to remove"));
        }
    }
    if let Some(append) = edit.append {
        append(&mut component);
    }
    Ok(component.finish())
}

struct Rewriter<'a> {
    modules: &'a [Option<Vec<u8>>],
    remove_export: Option<&'a str>,
    depth: u32,
    ordinal: usize,
    /// Component functions defined so far in the root, in the *original* numbering.
    funcs: u32,
    /// (index the removed export created, index of the function it exported).
    removed: Option<(u32, u32)>,
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
        let replacement = if self.depth == 0 {
            let ordinal = self.ordinal;
            self.ordinal += 1;
            self.modules.get(ordinal).and_then(|m| m.as_deref())
        } else {
            None
        };
        component.section(&RawSection {
            id: ComponentSectionId::CoreModule as u8,
            data: replacement.unwrap_or(module),
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
        component.section(&RawSection {
            id: ComponentSectionId::Component as u8,
            data: subcomponent,
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
                Payload::ComponentImportSection(reader) => {
                    for import in reader.clone().into_iter().flatten() {
                        if matches!(import.ty, wasmparser::ComponentTypeRef::Func(_)) {
                            self.funcs += 1;
                        }
                    }
                }
                Payload::ComponentAliasSection(reader) => {
                    for alias in reader.clone().into_iter().flatten() {
                        if let wasmparser::ComponentAlias::InstanceExport {
                            kind: ComponentExternalKind::Func,
                            ..
                        } = alias
                        {
                            self.funcs += 1;
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
                Payload::ComponentExportSection(reader) => {
                    let mut section = wasm_encoder::ComponentExportSection::new();
                    for export in reader.clone() {
                        let export = export?;
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
