//! The one reader of component bodies: walks a body's sections and fills its [`Scope`]'s
//! index spaces the way wasmparser's validator counts them, recursing into nested definitions.

use super::{
    parse_module, ComponentOrigin, CoreInstance, CoreInstanceKind, Event, InstanceOrigin,
    ItemOrigin, ModuleOrigin, RootExport, Scope, Site, Sort, Unresolved,
};
use crate::protocol::COMPONENT_PREFIX;
use anyhow::{bail, Context, Result};
use wasmparser::{
    ComponentExternalKind, ComponentOuterAliasKind, ComponentTypeRef, ExternalKind, Instance,
    InstantiationArgKind, Parser, Payload,
};

/// Walks one component body, recursing into nested definitions; pushes scopes in pre-order.
/// An instantiation of a module or component not defined in the body is recorded in
/// [`Scope::unresolved`] (see `inline`), not instantiated.
pub(super) fn walk_body<'a>(
    bytes: &'a [u8],
    path: String,
    parent: Option<usize>,
    scopes: &mut Vec<Option<Scope<'a>>>,
) -> Result<usize> {
    let id = scopes.len();
    scopes.push(None);
    let mut w = BodyWalker {
        scope: Scope::empty(bytes, path),
        instance_entries: 0,
        root: id == 0,
        section: 0,
    };
    w.scope.parent = parent;
    for item in sections(bytes) {
        let (section, payload) = item?;
        w.section = section;
        match payload {
            Payload::ModuleSection {
                unchecked_range, ..
            } => {
                let module_index = w.scope.module_space.len() as u32;
                let info = parse_module(
                    module_index,
                    &bytes[unchecked_range.start as usize..unchecked_range.end as usize],
                )
                .with_context(|| format!("in {}/module {module_index}", w.scope.path))?;
                w.scope
                    .module_space
                    .push(ModuleOrigin::Defined(w.scope.modules.len()));
                w.scope.module_sites.push(None);
                w.scope.modules.push(info);
            }
            Payload::ComponentSection {
                unchecked_range, ..
            } => {
                let index = w.scope.component_space.len() as u32;
                let child = walk_body(
                    &bytes[unchecked_range.start as usize..unchecked_range.end as usize],
                    format!("{}/component {index}", w.scope.path),
                    Some(id),
                    scopes,
                )?;
                w.scope
                    .component_space
                    .push(ComponentOrigin::Defined(child));
                w.scope.component_sites.push(None);
                w.scope.components.push((index, child));
            }
            Payload::CustomSection(reader) if reader.name() == "component-name" => {
                w.names(reader.data(), reader.data_offset());
            }
            other => w.payload(other)?,
        }
    }
    let c = &mut w.scope.counts;
    c.modules = w.scope.module_space.len() as u32;
    c.components = w.scope.component_space.len() as u32;
    c.core_instances = w.scope.core_instances.len() as u32;
    c.core_funcs = w.scope.core_funcs.len() as u32;
    c.core_tables = w.scope.core_tables.len() as u32;
    c.core_memories = w.scope.core_memories.len() as u32;
    c.core_globals = w.scope.core_globals.len() as u32;
    scopes[id] = Some(w.scope);
    Ok(id)
}

/// The top-level sections of a component body, numbered from 1, with the contents of
/// nested modules and components skipped (their headers are sections of the body): the
/// numbering of [`Site`](super::Site)s, which `encode::tree` counts the same way.
pub(super) fn sections(bytes: &[u8]) -> impl Iterator<Item = Result<(u32, Payload<'_>)>> {
    let mut skip = 0usize;
    let mut section = 0u32;
    Parser::new(0).parse_all(bytes).filter_map(move |payload| {
        let payload = match payload {
            Ok(payload) => payload,
            Err(e) => return Some(Err(e.into())),
        };
        if skip > 0 {
            match payload {
                Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => skip += 1,
                Payload::End(_) => skip -= 1,
                _ => {}
            }
            return None;
        }
        match payload {
            Payload::Version { .. } | Payload::End(_) => None,
            payload => {
                section += 1;
                if let Payload::ModuleSection { .. } | Payload::ComponentSection { .. } = payload {
                    skip = 1;
                }
                Some(Ok((section, payload)))
            }
        }
    })
}

struct BodyWalker<'a> {
    scope: Scope<'a>,
    /// Component instance-section entries so far.
    instance_entries: u32,
    /// This body is the input's root, whose imports and exports the host sees.
    root: bool,
    /// The position of the current section among the body's sections, from 1.
    section: u32,
}

impl BodyWalker<'_> {
    fn payload(&mut self, payload: Payload<'_>) -> Result<()> {
        let path = self.scope.path.clone();
        match payload {
            Payload::InstanceSection(reader) => {
                for instance in reader {
                    self.core_instance(instance?)?;
                }
            }
            Payload::CoreTypeSection(reader) => self.scope.counts.core_types += reader.count(),
            Payload::ComponentTypeSection(reader) => {
                self.scope.counts.component_types += reader.count()
            }
            Payload::ComponentImportSection(reader) => {
                for (item, import) in reader.into_iter().enumerate() {
                    let import = import?;
                    let site = Some(Site {
                        section: self.section,
                        item: item as u32,
                    });
                    let name = import.name.full_name().into_owned();
                    check_reserved_component_name(&path, &name, "import")?;
                    if self.root {
                        refuse_root_import(&path, &name, &import.ty)?;
                    }
                    match import.ty {
                        ComponentTypeRef::Module(_) => {
                            self.scope.module_space.push(ModuleOrigin::Imported(name));
                            self.scope.module_sites.push(site);
                        }
                        ComponentTypeRef::Component(_) => {
                            self.scope
                                .component_space
                                .push(ComponentOrigin::Imported(name));
                            self.scope.component_sites.push(site);
                        }
                        ComponentTypeRef::Func(_) => self.scope.counts.component_funcs += 1,
                        ComponentTypeRef::Instance(_) => {
                            self.scope.counts.component_instances += 1;
                            self.scope
                                .component_instance_space
                                .push(InstanceOrigin::Imported(name));
                        }
                        ComponentTypeRef::Type(_) => self.scope.counts.component_types += 1,
                        ComponentTypeRef::Value(_) => {}
                    }
                }
            }
            Payload::ComponentCanonicalSection(reader) => {
                for canon in reader {
                    if matches!(canon?, wasmparser::CanonicalFunction::Lift { .. }) {
                        self.scope.counts.component_funcs += 1;
                    } else {
                        self.scope.core_funcs.push(ItemOrigin::Canon);
                    }
                }
            }
            Payload::ComponentAliasSection(reader) => {
                for (item, alias) in reader.into_iter().enumerate() {
                    let site = Site {
                        section: self.section,
                        item: item as u32,
                    };
                    self.alias(alias?, site);
                }
            }
            Payload::ComponentInstanceSection(reader) => {
                for instance in reader {
                    let index = self.scope.counts.component_instances;
                    self.scope.counts.component_instances += 1;
                    let entry = self.instance_entries;
                    self.instance_entries += 1;
                    let origin = match instance? {
                        wasmparser::ComponentInstance::Instantiate {
                            component_index,
                            args,
                        } => {
                            self.component_instance(index, entry, component_index)?;
                            InstanceOrigin::Instantiated {
                                component: component_index,
                                args: args
                                    .iter()
                                    .map(|a| (a.name.to_string(), a.kind, a.index))
                                    .collect(),
                            }
                        }
                        wasmparser::ComponentInstance::FromExports(items) => {
                            InstanceOrigin::FromExports {
                                entry,
                                items: items
                                    .iter()
                                    .map(|e| (e.name.full_name().into_owned(), e.kind, e.index))
                                    .collect(),
                            }
                        }
                    };
                    self.scope.component_instance_space.push(origin);
                }
            }
            Payload::ComponentExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    let name = export.name.full_name().into_owned();
                    check_reserved_component_name(&path, &name, "export")?;
                    if self.root && export.kind == ComponentExternalKind::Component {
                        bail!(
                            "{path}: exports component definition '{name}' (component {}): \
                             Wasmtime cannot compile a root component that exports a \
                             component, so its init cannot run; export an instance of it \
                             instead",
                            export.index
                        );
                    }
                    let c = self.scope.counts;
                    let entry = match export.kind {
                        ComponentExternalKind::Func => c.component_funcs,
                        ComponentExternalKind::Instance => c.component_instances,
                        ComponentExternalKind::Type => c.component_types,
                        ComponentExternalKind::Module => self.scope.module_space.len() as u32,
                        ComponentExternalKind::Component => self.scope.component_space.len() as u32,
                        ComponentExternalKind::Value => 0,
                    };
                    self.add_component_item(export.kind, Some(export.index), None);
                    self.scope.exports.push(RootExport {
                        name,
                        kind: export.kind,
                        index: export.index,
                        entry,
                    });
                }
            }
            Payload::ComponentStartSection { .. } => bail!(
                "{path}: component start functions are not supported \
                 (their effects happen outside core wasm state)"
            ),
            _ => {}
        }
        Ok(())
    }

    /// Counts an item an export (of the item with index `exported`) or an instance-export
    /// alias (`aliased`: the instance and the export's name, at `site`) adds to a
    /// component-level space.
    fn add_component_item(
        &mut self,
        kind: ComponentExternalKind,
        exported: Option<u32>,
        aliased: Option<(u32, &str, Site)>,
    ) {
        let c = &mut self.scope.counts;
        let site = aliased.map(|(_, _, site)| site);
        let of = |(instance, name, _): (u32, &str, Site)| (instance, name.to_string());
        match kind {
            ComponentExternalKind::Module => {
                self.scope.module_space.push(match (exported, aliased) {
                    (Some(index), _) => ModuleOrigin::Export(index),
                    (None, Some(a)) => {
                        let (instance, name) = of(a);
                        ModuleOrigin::InstanceExport { instance, name }
                    }
                    (None, None) => unreachable!("a module item is an export or an alias"),
                });
                self.scope.module_sites.push(site);
            }
            ComponentExternalKind::Component => {
                self.scope.component_space.push(match (exported, aliased) {
                    (Some(index), _) => ComponentOrigin::Export(index),
                    (None, Some(a)) => {
                        let (instance, name) = of(a);
                        ComponentOrigin::InstanceExport { instance, name }
                    }
                    (None, None) => unreachable!("a component item is an export or an alias"),
                });
                self.scope.component_sites.push(site);
            }
            ComponentExternalKind::Func => c.component_funcs += 1,
            ComponentExternalKind::Instance => {
                c.component_instances += 1;
                self.scope
                    .component_instance_space
                    .push(match (exported, aliased) {
                        (Some(index), _) => InstanceOrigin::Export(index),
                        (None, Some(a)) => {
                            let (instance, name) = of(a);
                            InstanceOrigin::InstanceExport { instance, name }
                        }
                        (None, None) => unreachable!("an instance item is an export or an alias"),
                    });
            }
            ComponentExternalKind::Type => c.component_types += 1,
            ComponentExternalKind::Value => {}
        }
    }

    fn alias(&mut self, alias: wasmparser::ComponentAlias<'_>, site: Site) {
        match alias {
            wasmparser::ComponentAlias::CoreInstanceExport {
                kind,
                instance_index,
                name,
            } => {
                let origin = ItemOrigin::Export {
                    instance: instance_index,
                    name: name.to_string(),
                };
                match kind {
                    ExternalKind::Func | ExternalKind::FuncExact => {
                        self.scope.core_funcs.push(origin)
                    }
                    ExternalKind::Table => self.scope.core_tables.push(origin),
                    ExternalKind::Memory => self.scope.core_memories.push(origin),
                    ExternalKind::Global => self.scope.core_globals.push(origin),
                    ExternalKind::Tag => {}
                }
            }
            wasmparser::ComponentAlias::InstanceExport {
                kind,
                instance_index,
                name,
            } => self.add_component_item(kind, None, Some((instance_index, name, site))),
            wasmparser::ComponentAlias::Outer { kind, count, index } => match kind {
                ComponentOuterAliasKind::CoreModule => {
                    self.scope
                        .module_space
                        .push(ModuleOrigin::Outer { count, index });
                    self.scope.module_sites.push(Some(site));
                }
                ComponentOuterAliasKind::Component => {
                    self.scope
                        .component_space
                        .push(ComponentOrigin::Outer { count, index });
                    self.scope.component_sites.push(Some(site));
                }
                ComponentOuterAliasKind::CoreType => self.scope.counts.core_types += 1,
                ComponentOuterAliasKind::Type => self.scope.counts.component_types += 1,
            },
        }
    }

    fn names(&mut self, data: &[u8], offset: u64) {
        let reader = wasmparser::ComponentNameSectionReader::new(wasmparser::BinaryReader::new(
            data, offset,
        ));
        for section in reader.into_iter().flatten() {
            match section {
                wasmparser::ComponentName::Components(map) => {
                    for naming in map.into_iter().flatten() {
                        self.scope
                            .component_names
                            .insert(naming.index, naming.name.to_string());
                    }
                }
                // wit-component names the modules it links here (the preview1 adapter among
                // them), not in the modules' own name sections.
                wasmparser::ComponentName::CoreModules(map) => {
                    for naming in map.into_iter().flatten() {
                        let source = self.scope.module_space.get(naming.index as usize);
                        if let Some(ModuleOrigin::Defined(ordinal)) = source {
                            let info = &mut self.scope.modules[*ordinal];
                            info.name.get_or_insert_with(|| naming.name.to_string());
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn core_instance(&mut self, instance: Instance<'_>) -> Result<()> {
        let index = self.scope.core_instances.len() as u32;
        let path = &self.scope.path;
        let (module_index, args) = match instance {
            Instance::Instantiate { module_index, args } => (module_index, args),
            Instance::FromExports(exports) => {
                let items = exports
                    .iter()
                    .map(|e| (e.name.to_string(), e.kind, e.index))
                    .collect();
                self.scope
                    .core_instances
                    .push(CoreInstanceKind::FromExports(items));
                return Ok(());
            }
        };
        let args = args
            .iter()
            .filter(|a| a.kind == InstantiationArgKind::Instance)
            .map(|a| (a.name.to_string(), a.index))
            .collect();
        let ordinal = match self.scope.defined_module(module_index) {
            Some(ordinal) => ordinal,
            None => {
                self.scope.unresolved.push(Unresolved {
                    sort: Sort::Module,
                    index: module_index,
                    site: format!("{path}/core instance {index}"),
                });
                // Counted, so later indices stay right; `parse` refuses the model.
                self.scope
                    .core_instances
                    .push(CoreInstanceKind::FromExports(Vec::new()));
                return Ok(());
            }
        };
        let dfs = self.scope.instances.len() as u32;
        self.scope.instances.push(CoreInstance {
            dfs,
            global: dfs,
            module: ordinal,
            core_instance_index: index,
            args,
        });
        self.scope.events.push(Event::Core(dfs));
        self.scope
            .core_instances
            .push(CoreInstanceKind::Instantiated { dfs });
        Ok(())
    }

    fn component_instance(
        &mut self,
        instance: u32,
        entry: u32,
        component_index: u32,
    ) -> Result<()> {
        match self.scope.defined_component(component_index) {
            Some(scope) => self.scope.events.push(Event::Component {
                instance,
                entry,
                scope,
            }),
            None => self.scope.unresolved.push(Unresolved {
                sort: Sort::Component,
                index: component_index,
                site: format!("{}/instance {instance}", self.scope.path),
            }),
        }
        Ok(())
    }
}

/// A root import compsnap's host cannot provide: a core module or component, whose code
/// is not in the input.
fn refuse_root_import(path: &str, name: &str, ty: &ComponentTypeRef) -> Result<()> {
    let what = match ty {
        ComponentTypeRef::Module(_) => "core module",
        ComponentTypeRef::Component(_) => "component",
        _ => return Ok(()),
    };
    bail!(
        "{path}: imports {what} '{name}': its code is not in the input, so compsnap can \
         neither run nor snapshot it; compose the {what} in (wasm-tools compose, wac) and \
         snapshot the result"
    )
}

fn check_reserved_component_name(path: &str, name: &str, what: &str) -> Result<()> {
    if name.starts_with(COMPONENT_PREFIX) {
        bail!(
            "{path}: {what} '{name}' uses the prefix '{COMPONENT_PREFIX}' that compsnap reserves"
        );
    }
    Ok(())
}
