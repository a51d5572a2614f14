//! Stage 1: component bytes → [`Model`].
//!
//! The model has two halves. [`Scope`]s are the component *definitions*: the root body and
//! every nested `(component ...)`, each with its own index spaces, tracked the way wasmparser's
//! validator does. [`Node`]s are the *instantiation tree*: the root, and one node per
//! `instantiate` of a nested definition (a definition instantiated twice appears twice). Every
//! instantiated core instance gets a DFS id: pre-order over the tree, in instantiation order.
//!
//! Instrumentation works per definition (the same code serves every instantiation), snapshots
//! and rewrites per node. It is plain data over the input bytes, so `instrument` and `rewrite`
//! can be tested without an engine.
//!
//! Everything compsnap cannot snapshot is refused here, before any code runs, with an error that
//! names the construct and where it sits.

use anyhow::{bail, Context, Result};
use std::borrow::Cow;
use std::collections::HashMap;
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
    /// Component definitions in pre-order of definition; `scopes[0]` is the root.
    pub scopes: Vec<Scope<'a>>,
    /// The instantiation tree in pre-order; `nodes[0]` is the root.
    pub nodes: Vec<Node>,
    /// Number of instantiated core instances in the whole tree (DFS ids `0..instance_count`).
    pub instance_count: u32,
}

/// One instantiation of a scope.
#[derive(Debug, Clone)]
pub struct Node {
    pub scope: usize,
    /// Where it sits, for errors: `root/instance 2 (component "consumer")`.
    pub path: String,
    /// DFS id of each of the scope's core instances, by local id.
    pub dfs: Vec<u32>,
    /// Child nodes, one per `instantiate` of a nested definition, in the scope's order.
    pub children: Vec<usize>,
    /// The component instance (in the parent scope) this node is, and its position among
    /// the parent body's instance-section entries; `None` for the root.
    pub instance: Option<(u32, u32)>,
    /// Whether any core instance runs in this node or below it.
    pub live: bool,
}

impl Model<'_> {
    pub fn root(&self) -> &Scope<'_> {
        &self.scopes[0]
    }

    /// The node's scope, with paths and DFS ids of that node in its error messages.
    pub fn view(&self, node: usize) -> Cow<'_, Scope<'_>> {
        let node = &self.nodes[node];
        let scope = &self.scopes[node.scope];
        if scope.path == node.path {
            return Cow::Borrowed(scope);
        }
        let mut view = scope.clone();
        view.path = node.path.clone();
        for (instance, dfs) in view.instances.iter_mut().zip(&node.dfs) {
            instance.global = *dfs;
        }
        Cow::Owned(view)
    }

    /// The core instance with DFS id `dfs`: its node and local id.
    pub fn locate(&self, dfs: u32) -> Option<(usize, u32)> {
        self.nodes.iter().enumerate().find_map(|(n, node)| {
            let local = node.dfs.iter().position(|d| *d == dfs)?;
            Some((n, local as u32))
        })
    }

    /// Human-readable location of the core instance with DFS id `dfs`.
    pub fn describe(&self, dfs: u32) -> String {
        match self.locate(dfs) {
            Some((node, local)) => {
                let view = self.view(node);
                view.instances[local as usize].describe(&view)
            }
            None => format!("dfs id {dfs}"),
        }
    }
}

/// One component body: the root or a nested definition.
#[derive(Clone)]
pub struct Scope<'a> {
    pub id: usize,
    pub parent: Option<usize>,
    /// The component's bytes, header included.
    pub bytes: &'a [u8],
    /// Where it sits: the first node that instantiates it, else its definition.
    pub path: String,
    /// Core modules defined in this body, in definition order ("ordinal").
    pub modules: Vec<ModuleInfo<'a>>,
    /// The core instances this body instantiates, by local id (instantiation order).
    pub instances: Vec<CoreInstance>,
    /// Final sizes of the index spaces (where appended items land).
    pub counts: IndexCounts,
    /// The body's exports, in order: name, kind and the index the export refers to.
    pub exports: Vec<RootExport>,
    /// The core instance space.
    pub core_instances: Vec<CoreInstanceKind>,
    /// Where each entry of the core func, table, memory and global spaces comes from.
    pub core_funcs: Vec<ItemOrigin>,
    pub core_tables: Vec<ItemOrigin>,
    pub core_memories: Vec<ItemOrigin>,
    pub core_globals: Vec<ItemOrigin>,
    /// Nested definitions, by definition ordinal: (component space index, scope id).
    pub components: Vec<(u32, usize)>,
    /// Core and component instantiations, in order.
    pub events: Vec<Event>,
    /// Names of component space entries, from the `component-name` section.
    pub component_names: HashMap<u32, String>,
}

/// An instantiation inside a scope.
#[derive(Debug, Clone, Copy)]
pub enum Event {
    /// The core instance with this local id.
    Core(u32),
    /// Component instance `instance` instantiates the nested definition `scope`; `entry` is
    /// its position among the body's instance-section entries.
    Component {
        instance: u32,
        entry: u32,
        scope: usize,
    },
}

/// An entry of a scope's core instance space.
#[derive(Debug, Clone)]
pub enum CoreInstanceKind {
    /// `instantiate`: the instantiated instance's local id.
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

impl Scope<'_> {
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

/// Sizes of a scope's index spaces once its whole body is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexCounts {
    pub core_funcs: u32,
    pub core_memories: u32,
    pub core_globals: u32,
    pub core_tables: u32,
    pub core_instances: u32,
    pub core_types: u32,
    pub modules: u32,
    pub components: u32,
    pub component_funcs: u32,
    pub component_types: u32,
    pub component_instances: u32,
}

/// One instantiation of a core module inside a scope.
#[derive(Debug, Clone)]
pub struct CoreInstance {
    /// Local id: the position among the scope's instantiations, which is what the
    /// instrumentation and the per-scope stages use as "dfs".
    pub dfs: u32,
    /// DFS id in the whole tree (of the node the scope is viewed as).
    pub global: u32,
    /// Ordinal into [`Scope::modules`].
    pub module: usize,
    /// Index of this instance in its scope's core instance space.
    pub core_instance_index: u32,
    /// Instantiation arguments: import module name → core instance index.
    pub args: Vec<(String, u32)>,
}

impl CoreInstance {
    /// Human-readable location, used in every error about this instance.
    pub fn describe(&self, scope: &Scope) -> String {
        format!(
            "{}/core instance {} (module {}), dfs id {}",
            scope.path,
            self.core_instance_index,
            scope.modules[self.module].module_index,
            self.global
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
    let mut scopes = Vec::new();
    walk_body(bytes, None, "root".into(), &mut scopes)?;
    let mut scopes: Vec<Scope> = scopes.into_iter().map(|s| s.expect("walked")).collect();
    debug_assert_eq!(
        (
            scopes[0].counts.core_funcs,
            scopes[0].counts.core_instances,
            scopes[0].counts.modules,
            scopes[0].counts.component_funcs,
            scopes[0].counts.component_types,
            scopes[0].counts.component_instances,
        ),
        (
            types.function_count(),
            types.core_instance_count(),
            types.module_count(),
            types.component_function_count(),
            types.component_type_count(),
            types.component_instance_count(),
        ),
        "index space counting disagrees with the validator"
    );

    let mut nodes = Vec::new();
    let mut next_dfs = 0;
    build_node(&scopes, 0, "root".into(), None, &mut nodes, &mut next_dfs);
    // Each scope speaks, in errors, as the first node that instantiates it.
    let mut named = vec![false; scopes.len()];
    for node in &nodes {
        if !std::mem::replace(&mut named[node.scope], true) {
            let scope = &mut scopes[node.scope];
            scope.path = node.path.clone();
            for (instance, dfs) in scope.instances.iter_mut().zip(&node.dfs) {
                instance.global = *dfs;
            }
        }
    }
    Ok(Model {
        bytes,
        scopes,
        nodes,
        instance_count: next_dfs,
    })
}

fn build_node(
    scopes: &[Scope],
    scope: usize,
    path: String,
    instance: Option<(u32, u32)>,
    nodes: &mut Vec<Node>,
    next_dfs: &mut u32,
) -> bool {
    let id = nodes.len();
    nodes.push(Node {
        scope,
        path: path.clone(),
        dfs: Vec::new(),
        children: Vec::new(),
        instance,
        live: false,
    });
    let s = &scopes[scope];
    let mut live = !s.instances.is_empty();
    for event in &s.events {
        match *event {
            Event::Core(_) => {
                nodes[id].dfs.push(*next_dfs);
                *next_dfs += 1;
            }
            Event::Component {
                instance,
                entry,
                scope: child,
            } => {
                let index = s.components.iter().find(|c| c.1 == child).map(|c| c.0);
                let name = match index.and_then(|i| s.component_names.get(&i)) {
                    Some(name) => format!("component {name:?}"),
                    None => format!("component {}", index.unwrap_or(u32::MAX)),
                };
                let child_path = format!("{path}/instance {instance} ({name})");
                let child_id = nodes.len();
                live |= build_node(
                    scopes,
                    child,
                    child_path,
                    Some((instance, entry)),
                    nodes,
                    next_dfs,
                );
                nodes[id].children.push(child_id);
            }
        }
    }
    nodes[id].live = live;
    live
}

/// Where an entry of a scope's core module space came from.
enum ModuleSource {
    Defined(usize),
    Imported(String),
    Aliased,
}

/// Where an entry of a scope's component space came from.
enum ComponentSource {
    /// A nested definition: its scope id.
    Defined(usize),
    Imported(String),
    Aliased,
}

/// Walks one component body, recursing into nested definitions; pushes scopes in pre-order.
fn walk_body<'a>(
    bytes: &'a [u8],
    parent: Option<usize>,
    path: String,
    scopes: &mut Vec<Option<Scope<'a>>>,
) -> Result<usize> {
    let id = scopes.len();
    scopes.push(None);
    let mut w = BodyWalker {
        scope: Scope {
            id,
            parent,
            bytes,
            path,
            modules: Vec::new(),
            instances: Vec::new(),
            counts: IndexCounts::default(),
            exports: Vec::new(),
            core_instances: Vec::new(),
            core_funcs: Vec::new(),
            core_tables: Vec::new(),
            core_memories: Vec::new(),
            core_globals: Vec::new(),
            components: Vec::new(),
            events: Vec::new(),
            component_names: HashMap::new(),
        },
        module_space: Vec::new(),
        component_space: Vec::new(),
        instance_entries: 0,
    };
    let mut skip = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload?;
        if skip > 0 {
            match payload {
                Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => skip += 1,
                Payload::End(_) => skip -= 1,
                _ => {}
            }
            continue;
        }
        match payload {
            Payload::ModuleSection {
                unchecked_range, ..
            } => {
                let module_index = w.module_space.len() as u32;
                let info = parse_module(
                    module_index,
                    &bytes[unchecked_range.start as usize..unchecked_range.end as usize],
                )
                .with_context(|| format!("in {}/module {module_index}", w.scope.path))?;
                w.module_space
                    .push(ModuleSource::Defined(w.scope.modules.len()));
                w.scope.modules.push(info);
                skip = 1;
            }
            Payload::ComponentSection {
                unchecked_range, ..
            } => {
                let index = w.component_space.len() as u32;
                let child = walk_body(
                    &bytes[unchecked_range.start as usize..unchecked_range.end as usize],
                    Some(id),
                    format!("{}/component {index}", w.scope.path),
                    scopes,
                )?;
                w.component_space.push(ComponentSource::Defined(child));
                w.scope.components.push((index, child));
                skip = 1;
            }
            Payload::CustomSection(reader) if reader.name() == "component-name" => {
                w.names(reader.data(), reader.data_offset());
            }
            other => w.payload(other)?,
        }
    }
    let c = &mut w.scope.counts;
    c.modules = w.module_space.len() as u32;
    c.components = w.component_space.len() as u32;
    c.core_instances = w.scope.core_instances.len() as u32;
    c.core_funcs = w.scope.core_funcs.len() as u32;
    c.core_tables = w.scope.core_tables.len() as u32;
    c.core_memories = w.scope.core_memories.len() as u32;
    c.core_globals = w.scope.core_globals.len() as u32;
    scopes[id] = Some(w.scope);
    Ok(id)
}

struct BodyWalker<'a> {
    scope: Scope<'a>,
    module_space: Vec<ModuleSource>,
    component_space: Vec<ComponentSource>,
    /// Component instance-section entries so far.
    instance_entries: u32,
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
                for import in reader {
                    let import = import?;
                    let name = import.name.full_name().into_owned();
                    check_reserved_component_name(&path, &name, "import")?;
                    match import.ty {
                        ComponentTypeRef::Module(_) => {
                            self.module_space.push(ModuleSource::Imported(name))
                        }
                        ComponentTypeRef::Component(_) => {
                            self.component_space.push(ComponentSource::Imported(name))
                        }
                        ComponentTypeRef::Func(_) => self.scope.counts.component_funcs += 1,
                        ComponentTypeRef::Instance(_) => self.scope.counts.component_instances += 1,
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
                for alias in reader {
                    self.alias(alias?);
                }
            }
            Payload::ComponentInstanceSection(reader) => {
                for instance in reader {
                    let index = self.scope.counts.component_instances;
                    self.scope.counts.component_instances += 1;
                    let entry = self.instance_entries;
                    self.instance_entries += 1;
                    if let wasmparser::ComponentInstance::Instantiate {
                        component_index, ..
                    } = instance?
                    {
                        self.component_instance(index, entry, component_index)?;
                    }
                }
            }
            Payload::ComponentExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    let name = export.name.full_name().into_owned();
                    check_reserved_component_name(&path, &name, "export")?;
                    self.add_component_item(export.kind);
                    self.scope.exports.push(RootExport {
                        name,
                        kind: export.kind,
                        index: export.index,
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

    /// Counts an item an export or alias adds to a component-level space.
    fn add_component_item(&mut self, kind: ComponentExternalKind) {
        let c = &mut self.scope.counts;
        match kind {
            ComponentExternalKind::Module => self.module_space.push(ModuleSource::Aliased),
            ComponentExternalKind::Component => self.component_space.push(ComponentSource::Aliased),
            ComponentExternalKind::Func => c.component_funcs += 1,
            ComponentExternalKind::Instance => c.component_instances += 1,
            ComponentExternalKind::Type => c.component_types += 1,
            ComponentExternalKind::Value => {}
        }
    }

    fn alias(&mut self, alias: wasmparser::ComponentAlias<'_>) {
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
            wasmparser::ComponentAlias::InstanceExport { kind, .. } => {
                self.add_component_item(kind)
            }
            wasmparser::ComponentAlias::Outer { kind, .. } => match kind {
                ComponentOuterAliasKind::CoreModule => {
                    self.module_space.push(ModuleSource::Aliased)
                }
                ComponentOuterAliasKind::Component => {
                    self.component_space.push(ComponentSource::Aliased)
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
                        let source = self.module_space.get(naming.index as usize);
                        if let Some(ModuleSource::Defined(ordinal)) = source {
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
        let ordinal = match self.module_space.get(module_index as usize) {
            Some(ModuleSource::Defined(ordinal)) => *ordinal,
            Some(ModuleSource::Imported(name)) => bail!(
                "{path}/core instance {index}: instantiates imported core module '{name}' \
                 (module {module_index}); its code is not in the component, so it cannot be \
                 snapshotted"
            ),
            Some(ModuleSource::Aliased) | None => bail!(
                "{path}/core instance {index}: instantiates module {module_index}, which is an \
                 alias (of another component instance's export, or of an outer component's \
                 module); compsnap snapshots modules instantiated in the scope that defines them"
            ),
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
        let path = &self.scope.path;
        match self.component_space.get(component_index as usize) {
            Some(ComponentSource::Defined(scope)) => {
                self.scope.events.push(Event::Component {
                    instance,
                    entry,
                    scope: *scope,
                });
                Ok(())
            }
            Some(ComponentSource::Imported(name)) => bail!(
                "{path}/instance {instance}: instantiates imported component '{name}' \
                 (component {component_index}); its code is not in the component, so it cannot \
                 be snapshotted"
            ),
            Some(ComponentSource::Aliased) | None => bail!(
                "{path}/instance {instance}: instantiates component {component_index}, which is \
                 an alias (of another component instance's export, or of an outer component's \
                 definition); compsnap snapshots components instantiated in the scope that \
                 defines them"
            ),
        }
    }
}

fn check_reserved_component_name(path: &str, name: &str, what: &str) -> Result<()> {
    if name.starts_with(COMPONENT_PREFIX) {
        bail!(
            "{path}: {what} '{name}' uses the prefix '{COMPONENT_PREFIX}' that compsnap reserves"
        );
    }
    Ok(())
}
