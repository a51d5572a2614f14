//! Stage 1: component bytes → [`Model`].
//!
//! The model is the component's *instantiation tree*: which core modules it defines, which of
//! them are instantiated and in what order, each instantiation numbered with its DFS id. It is
//! plain data over the input bytes, so `instrument` and `rewrite` can be tested without an engine.
//!
//! Everything compsnap cannot snapshot is refused here, before any code runs, with an error that
//! names the construct and where it sits.

use anyhow::{bail, Context, Result};
use wasmparser::{
    ComponentExternalKind, ComponentOuterAliasKind, ComponentTypeRef, ExternalKind, Instance,
    InstantiationArgKind, Parser, Payload, Validator, WasmFeatures,
};

pub use crate::module_info::{parse_module, ModuleInfo};

/// Prefix of every core export name compsnap adds while instrumenting.
pub const CORE_PREFIX: &str = "__compsnap";
/// Prefix of the core exports a snapshot keeps for its restore module. Allowed in inputs, so a
/// snapshot can be snapshotted again; never added twice.
pub const RESTORE_PREFIX: &str = "__compsnap_restore_";
/// Prefix of every component import/export name compsnap adds while instrumenting.
pub const COMPONENT_PREFIX: &str = "compsnap-";

/// The parsed input component.
pub struct Model<'a> {
    pub bytes: &'a [u8],
    /// Core modules defined in the root scope, in definition order ("ordinal").
    pub modules: Vec<ModuleInfo<'a>>,
    /// Every instantiated core instance, indexed by DFS id.
    pub instances: Vec<CoreInstance>,
    /// Final sizes of the root scope's index spaces (where appended items land).
    pub counts: IndexCounts,
    /// The root scope's exports, in order: name, kind and the index the export refers to.
    pub root_exports: Vec<RootExport>,
    /// The root's core instance space.
    pub core_instances: Vec<CoreInstanceKind>,
    /// Where each entry of the root's core func, table, memory and global spaces comes from.
    pub core_funcs: Vec<ItemOrigin>,
    pub core_tables: Vec<ItemOrigin>,
    pub core_memories: Vec<ItemOrigin>,
    pub core_globals: Vec<ItemOrigin>,
}

/// An entry of a scope's core instance space.
#[derive(Debug, Clone)]
pub enum CoreInstanceKind {
    /// `instantiate`: the instantiated instance's DFS id.
    Instantiated { dfs: u32 },
    /// An instance made of existing items: (name, kind, index in the scope's space).
    FromExports(Vec<(String, ExternalKind, u32)>),
}

/// Where an entry of a scope's core item space comes from.
#[derive(Debug, Clone)]
pub enum ItemOrigin {
    /// `alias core export`: an export of a core instance (index in the scope's space).
    Export { instance: u32, name: String },
    /// A canonical function (`canon lower`, a built-in like `resource.drop`).
    Canon,
}

impl Model<'_> {
    pub fn items(&self, kind: ExternalKind) -> &[ItemOrigin] {
        match kind {
            ExternalKind::Func | ExternalKind::FuncExact => &self.core_funcs,
            ExternalKind::Table => &self.core_tables,
            ExternalKind::Memory => &self.core_memories,
            ExternalKind::Global => &self.core_globals,
            ExternalKind::Tag => &[],
        }
    }

    pub fn module_of(&self, dfs: u32) -> &ModuleInfo<'_> {
        &self.modules[self.instances[dfs as usize].module]
    }
}

#[derive(Debug, Clone)]
pub struct RootExport {
    pub name: String,
    pub kind: ComponentExternalKind,
    pub index: u32,
}

/// Sizes of the root scope's index spaces once the whole component is read.
#[derive(Debug, Clone, Copy, Default)]
pub struct IndexCounts {
    pub core_funcs: u32,
    pub core_memories: u32,
    pub core_globals: u32,
    pub core_tables: u32,
    pub core_instances: u32,
    pub core_types: u32,
    pub modules: u32,
    pub component_funcs: u32,
    pub component_types: u32,
    pub component_instances: u32,
}

/// One instantiation of a core module.
#[derive(Debug, Clone)]
pub struct CoreInstance {
    pub dfs: u32,
    /// Ordinal into [`Model::modules`].
    pub module: usize,
    /// Index of this instance in its scope's core instance space.
    pub core_instance_index: u32,
    /// Instantiation arguments: import module name → core instance index.
    pub args: Vec<(String, u32)>,
}

impl CoreInstance {
    /// Human-readable location, used in every error about this instance.
    pub fn describe(&self, model: &Model) -> String {
        format!(
            "root/core instance {} (module {}), dfs id {}",
            self.core_instance_index, model.modules[self.module].module_index, self.dfs
        )
    }
}

/// Parses and validates `bytes` as a component and builds its model.
pub fn parse(bytes: &[u8]) -> Result<Model<'_>> {
    if Parser::is_core_wasm(bytes) {
        bail!(
            "expected a component, found a core module: wrap it first \
             (for example with `wasm-tools component new`)"
        );
    }
    if !Parser::is_component(bytes) {
        bail!("input is not a WebAssembly component (bad magic number or version)");
    }
    let types = Validator::new_with_features(WasmFeatures::all())
        .validate_all(bytes)
        .context("input component does not validate")?;
    let types = types.as_ref();
    let counts = IndexCounts {
        core_funcs: types.function_count(),
        core_memories: types.memory_count(),
        core_globals: types.global_count(),
        core_tables: types.table_count(),
        core_instances: types.core_instance_count(),
        core_types: types.core_type_count_in_component(),
        modules: types.module_count(),
        component_funcs: types.component_function_count(),
        component_types: types.component_type_count(),
        component_instances: types.component_instance_count(),
    };
    let mut walker = RootWalker::default();
    walker.walk(bytes)?;
    Ok(Model {
        bytes,
        modules: walker.modules,
        instances: walker.instances,
        counts,
        root_exports: walker.root_exports,
        core_instances: walker.core_instances,
        core_funcs: walker.core_funcs,
        core_tables: walker.core_tables,
        core_memories: walker.core_memories,
        core_globals: walker.core_globals,
    })
}

/// Where an entry of the root's core module space came from.
enum ModuleSource {
    Defined(usize),
    Imported(String),
    Aliased,
}

/// Where an entry of the root's component space came from.
enum ComponentSource {
    /// A nested definition; `true` when it instantiates core modules somewhere inside.
    Defined {
        instantiates_core: bool,
    },
    Imported(String),
    Aliased,
}

#[derive(Default)]
struct RootWalker<'a> {
    modules: Vec<ModuleInfo<'a>>,
    module_space: Vec<ModuleSource>,
    component_space: Vec<ComponentSource>,
    core_instances: Vec<CoreInstanceKind>,
    core_funcs: Vec<ItemOrigin>,
    core_tables: Vec<ItemOrigin>,
    core_memories: Vec<ItemOrigin>,
    core_globals: Vec<ItemOrigin>,
    instances: Vec<CoreInstance>,
    root_exports: Vec<RootExport>,
    /// Bodies open below the root: `None` for a module, `Some(instantiates_core)` for a
    /// nested component.
    frames: Vec<Option<bool>>,
}

impl<'a> RootWalker<'a> {
    fn walk(&mut self, bytes: &'a [u8]) -> Result<()> {
        for payload in Parser::new(0).parse_all(bytes) {
            let payload = payload?;
            match payload {
                Payload::ModuleSection {
                    unchecked_range, ..
                } => {
                    if self.frames.is_empty() {
                        let module_index = self.module_space.len() as u32;
                        let info = parse_module(
                            module_index,
                            &bytes[unchecked_range.start as usize..unchecked_range.end as usize],
                        )
                        .with_context(|| format!("in root/module {module_index}"))?;
                        self.module_space
                            .push(ModuleSource::Defined(self.modules.len()));
                        self.modules.push(info);
                    }
                    self.frames.push(None);
                }
                Payload::ComponentSection { .. } => self.frames.push(Some(false)),
                Payload::End(_) => {
                    if let Some(Some(inner)) = self.frames.pop() {
                        match self.frames.last_mut() {
                            Some(Some(outer)) => *outer |= inner,
                            Some(None) => {}
                            None => self.component_space.push(ComponentSource::Defined {
                                instantiates_core: inner,
                            }),
                        }
                    }
                }
                Payload::InstanceSection(reader) => {
                    for instance in reader {
                        let instance = instance?;
                        if let Some(frame) = self.frames.last_mut() {
                            if matches!(instance, Instance::Instantiate { .. }) {
                                *frame = Some(true);
                            }
                            continue;
                        }
                        self.root_core_instance(instance)?;
                    }
                }
                _ if !self.frames.is_empty() => {}
                Payload::ComponentImportSection(reader) => {
                    for import in reader {
                        let import = import?;
                        let name = import.name.full_name().into_owned();
                        check_reserved_component_name(&name, "import")?;
                        match import.ty {
                            ComponentTypeRef::Module(_) => {
                                self.module_space.push(ModuleSource::Imported(name))
                            }
                            ComponentTypeRef::Component(_) => {
                                self.component_space.push(ComponentSource::Imported(name))
                            }
                            _ => {}
                        }
                    }
                }
                Payload::ComponentCanonicalSection(reader) => {
                    for canon in reader {
                        if !matches!(canon?, wasmparser::CanonicalFunction::Lift { .. }) {
                            self.core_funcs.push(ItemOrigin::Canon);
                        }
                    }
                }
                Payload::ComponentAliasSection(reader) => {
                    for alias in reader {
                        match alias? {
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
                                        self.core_funcs.push(origin)
                                    }
                                    ExternalKind::Table => self.core_tables.push(origin),
                                    ExternalKind::Memory => self.core_memories.push(origin),
                                    ExternalKind::Global => self.core_globals.push(origin),
                                    ExternalKind::Tag => {}
                                }
                            }
                            wasmparser::ComponentAlias::InstanceExport {
                                kind: ComponentExternalKind::Module,
                                ..
                            }
                            | wasmparser::ComponentAlias::Outer {
                                kind: ComponentOuterAliasKind::CoreModule,
                                ..
                            } => self.module_space.push(ModuleSource::Aliased),
                            wasmparser::ComponentAlias::InstanceExport {
                                kind: ComponentExternalKind::Component,
                                ..
                            }
                            | wasmparser::ComponentAlias::Outer {
                                kind: ComponentOuterAliasKind::Component,
                                ..
                            } => self.component_space.push(ComponentSource::Aliased),
                            _ => {}
                        }
                    }
                }
                Payload::ComponentInstanceSection(reader) => {
                    for instance in reader {
                        if let wasmparser::ComponentInstance::Instantiate {
                            component_index, ..
                        } = instance?
                        {
                            self.check_component_instantiation(component_index)?;
                        }
                    }
                }
                Payload::ComponentExportSection(reader) => {
                    for export in reader {
                        let export = export?;
                        let name = export.name.full_name().into_owned();
                        check_reserved_component_name(&name, "export")?;
                        match export.kind {
                            ComponentExternalKind::Module => {
                                self.module_space.push(ModuleSource::Aliased)
                            }
                            ComponentExternalKind::Component => {
                                self.component_space.push(ComponentSource::Aliased)
                            }
                            _ => {}
                        }
                        self.root_exports.push(RootExport {
                            name,
                            kind: export.kind,
                            index: export.index,
                        });
                    }
                }
                Payload::ComponentStartSection { .. } => {
                    bail!(
                        "root: component start functions are not supported \
                         (their effects happen outside core wasm state)"
                    )
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn root_core_instance(&mut self, instance: Instance<'_>) -> Result<()> {
        let index = self.core_instances.len() as u32;
        let (module_index, args) = match instance {
            Instance::Instantiate { module_index, args } => (module_index, args),
            Instance::FromExports(exports) => {
                let mut items = Vec::new();
                for export in exports.iter() {
                    items.push((export.name.to_string(), export.kind, export.index));
                }
                self.core_instances
                    .push(CoreInstanceKind::FromExports(items));
                return Ok(());
            }
        };
        let args = args
            .iter()
            .filter(|a| a.kind == InstantiationArgKind::Instance)
            .map(|a| (a.name.to_string(), a.index))
            .collect();
        let ordinal = match self.module_space.get(module_index as usize) {
            Some(ModuleSource::Defined(ordinal)) => *ordinal,
            Some(ModuleSource::Imported(name)) => bail!(
                "root/core instance {index}: instantiates imported core module '{name}' \
                 (module {module_index}); its code is not in the component, so it cannot be \
                 snapshotted"
            ),
            Some(ModuleSource::Aliased) | None => bail!(
                "root/core instance {index}: instantiates module {module_index}, which comes \
                 from another component instance; its code is not in this scope"
            ),
        };
        if let Some(previous) = self.instances.iter().find(|i| i.module == ordinal) {
            bail!(
                "root/core instance {index}: module {module_index} is already instantiated as \
                 core instance {}; modules instantiated more than once are not supported yet",
                previous.core_instance_index
            );
        }
        let dfs = self.instances.len() as u32;
        self.instances.push(CoreInstance {
            dfs,
            module: ordinal,
            core_instance_index: index,
            args,
        });
        self.core_instances
            .push(CoreInstanceKind::Instantiated { dfs });
        Ok(())
    }

    fn check_component_instantiation(&self, component_index: u32) -> Result<()> {
        match self.component_space.get(component_index as usize) {
            Some(ComponentSource::Defined {
                instantiates_core: true,
            }) => bail!(
                "root: nested component {component_index} instantiates core modules; \
                 snapshotting nested components is not supported yet"
            ),
            Some(ComponentSource::Imported(name)) => bail!(
                "root: instantiates imported component '{name}' (component {component_index}); \
                 its code is not in the component, so it cannot be snapshotted"
            ),
            Some(ComponentSource::Aliased) => bail!(
                "root: instantiates component {component_index}, which comes from another \
                 component instance; its code is not in this scope"
            ),
            _ => Ok(()),
        }
    }
}

fn check_reserved_component_name(name: &str, what: &str) -> Result<()> {
    if name.starts_with(COMPONENT_PREFIX) {
        bail!("root: {what} '{name}' uses the prefix '{COMPONENT_PREFIX}' that compsnap reserves");
    }
    Ok(())
}
