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
use wasmparser::{ComponentExternalKind, ExternalKind, Parser, Validator, WasmFeatures};

mod init_func;
mod module;
mod resolve;
mod walk;

pub use init_func::{CoreInit, InitFunc};
pub use module::{parse_module, ModuleInfo};
pub use resolve::{resolve, Source};

/// The parsed input component.
pub struct Model<'a> {
    /// A component, or a core module (one scope, one instance).
    pub kind: InputKind,
    /// The input's bytes.
    pub bytes: &'a [u8],
    /// Component definitions in pre-order of definition; `scopes[0]` is the root.
    pub scopes: Vec<Scope<'a>>,
    /// The instantiation tree in pre-order; `nodes[0]` is the root.
    pub nodes: Vec<Node>,
    /// Number of instantiated core instances in the whole tree (DFS ids `0..instance_count`).
    pub instance_count: u32,
}

/// The two kinds of input compsnap takes: both go through the same stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A component: a tree of scopes and instances.
    Component,
    /// A core module: one scope holding the module and one instance of it, whose imports
    /// the host provides (WASI preview 1, say), as Wizer takes it.
    Module,
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
    /// What each entry of the component space is.
    pub component_space: Vec<ComponentOrigin>,
    /// What each entry of the component instance space is.
    pub component_instance_space: Vec<InstanceOrigin>,
    /// Core and component instantiations, in order.
    pub events: Vec<Event>,
    /// Names of component space entries, from the `component-name` section.
    pub component_names: HashMap<u32, String>,
    /// The instances' imports come from the host, not from other instances: the scope of a
    /// core module input. Each imported function is then its own identity.
    pub host_imports: bool,
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

/// An entry of a scope's component space.
#[derive(Debug, Clone)]
pub enum ComponentOrigin {
    /// A nested definition: its scope id.
    Defined(usize),
    /// An import, by name.
    Imported(String),
    /// An alias (of an instance's export, or of an outer component's definition).
    Aliased,
    /// The export of component `.0` of the same space.
    Export(u32),
}

/// An entry of a scope's component instance space.
#[derive(Debug, Clone)]
pub enum InstanceOrigin {
    /// An imported instance.
    Imported,
    /// An instance made of items, at this instance-section entry.
    FromExports {
        /// Its position among the body's instance-section entries.
        entry: u32,
    },
    /// An instantiation of component `component` (an index in the component space).
    Instantiated {
        /// The instantiated component's index in the scope's component space.
        component: u32,
    },
    /// An alias of another instance's export.
    Aliased,
    /// The export of instance `.0` of the same space.
    Export(u32),
}

/// What a scope's instance export is made of (see [`Scope::locate_instance_export`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocatedInstance {
    /// An inline-export instance at this instance-section entry.
    FromExports {
        /// Its position among the body's instance-section entries.
        entry: u32,
    },
    /// Component instance `instance`, an instantiation of the nested definition `scope`.
    Instantiated {
        /// The component instance index.
        instance: u32,
        /// The instantiated definition's scope id.
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

impl<'a> Scope<'a> {
    /// A body with nothing in it yet.
    pub fn empty(bytes: &'a [u8], path: String) -> Self {
        Scope {
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
            component_space: Vec::new(),
            component_instance_space: Vec::new(),
            events: Vec::new(),
            component_names: HashMap::new(),
            host_imports: false,
        }
    }
}

impl Scope<'_> {
    /// The scope's core item space of `kind`.
    pub fn items(&self, kind: ExternalKind) -> &[ItemOrigin] {
        match kind {
            ExternalKind::Func | ExternalKind::FuncExact => &self.core_funcs,
            ExternalKind::Table => &self.core_tables,
            ExternalKind::Memory => &self.core_memories,
            ExternalKind::Global => &self.core_globals,
            ExternalKind::Tag => &[],
        }
    }

    /// The module instance `dfs` (a local id) instantiates.
    pub fn module_of(&self, dfs: u32) -> &ModuleInfo<'_> {
        &self.modules[self.instances[dfs as usize].module]
    }

    /// Follows the instance export `iface` to the instance it is made of.
    pub fn locate_instance_export(&self, iface: &str) -> Result<LocatedInstance> {
        let path = &self.path;
        let Some(export) = self
            .exports
            .iter()
            .find(|e| e.kind == ComponentExternalKind::Instance && e.name == iface)
        else {
            bail!("{path}: no instance export named `{iface}`");
        };
        let mut index = export.index;
        loop {
            match self.component_instance_space.get(index as usize) {
                Some(InstanceOrigin::Export(i)) => index = *i,
                Some(InstanceOrigin::FromExports { entry }) => {
                    return Ok(LocatedInstance::FromExports { entry: *entry })
                }
                Some(InstanceOrigin::Instantiated { component }) => {
                    let mut c = *component;
                    loop {
                        match self.component_space.get(c as usize) {
                            Some(ComponentOrigin::Export(i)) => c = *i,
                            Some(ComponentOrigin::Defined(scope)) => {
                                return Ok(LocatedInstance::Instantiated {
                                    instance: index,
                                    scope: *scope,
                                })
                            }
                            _ => bail!(
                                "{path}: `{iface}` is an instance of a component whose code is \
                                 not in this scope"
                            ),
                        }
                    }
                }
                _ => bail!(
                    "{path}: `{iface}` is an imported or aliased instance; its functions cannot \
                     be removed"
                ),
            }
        }
    }
}

/// One export of a component body.
#[derive(Debug, Clone)]
pub struct RootExport {
    /// The export's name.
    pub name: String,
    /// Its sort.
    pub kind: ComponentExternalKind,
    /// The index of the item it exports.
    pub index: u32,
    /// The index the export itself creates in its sort's space.
    pub entry: u32,
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
        return parse_core(bytes);
    }
    if !Parser::is_component(bytes) {
        bail!(
            "input is neither a WebAssembly component nor a core module (bad magic number or \
             version)"
        );
    }
    let types = Validator::new_with_features(WasmFeatures::all())
        .validate_all(bytes)
        .context("input component does not validate")?;
    let types = types.as_ref();
    let mut scopes = Vec::new();
    walk::walk_body(bytes, "root".into(), &mut scopes)?;
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
        kind: InputKind::Component,
        bytes,
        scopes,
        nodes,
        instance_count: next_dfs,
    })
}

/// Parses and validates `bytes` as a core module: the model of a tree with one scope and one
/// instance, whose function imports the host provides. What the host owns (imported
/// memories, tables and mutable globals) cannot be snapshotted and is refused.
fn parse_core(bytes: &[u8]) -> Result<Model<'_>> {
    Validator::new_with_features(WasmFeatures::all())
        .validate_all(bytes)
        .context("input module does not validate")?;
    let path = "module".to_string();
    let info = parse_module(0, bytes).with_context(|| path.clone())?;
    let mut globals = info.globals.iter();
    for import in &info.imports {
        let what = match import.kind {
            ExternalKind::Memory => "memory",
            ExternalKind::Table => "table",
            ExternalKind::Global if globals.next().is_some_and(|g| g.mutable) => "mutable global",
            _ => continue,
        };
        bail!(
            "{path}: imports {what} `{}::{}`; its state belongs to the host, so it cannot be \
             snapshotted (only function imports and immutable globals can be imported)",
            import.module,
            import.name
        );
    }
    let mut scope = Scope::empty(bytes, path.clone());
    scope.host_imports = true;
    scope.modules.push(info);
    scope.instances.push(CoreInstance {
        dfs: 0,
        global: 0,
        module: 0,
        core_instance_index: 0,
        args: Vec::new(),
    });
    scope
        .core_instances
        .push(CoreInstanceKind::Instantiated { dfs: 0 });
    scope.events.push(Event::Core(0));
    scope.counts.modules = 1;
    scope.counts.core_instances = 1;
    let node = Node {
        scope: 0,
        path,
        dfs: vec![0],
        children: Vec::new(),
        instance: None,
        live: true,
    };
    Ok(Model {
        kind: InputKind::Module,
        bytes,
        scopes: vec![scope],
        nodes: vec![node],
        instance_count: 1,
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
