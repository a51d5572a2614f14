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
//! A scope that instantiates a module or component it does not define (an alias, or an
//! import its parent satisfies) gets a copy of the definition first: `parse::parse_inlining` and
//! the `inline` module.
//!
//! Everything compsnap cannot snapshot is refused here, before any code runs, with an error that
//! names the construct and where it sits.

use anyhow::{bail, Result};
use std::borrow::Cow;
use std::collections::HashMap;
use wasmparser::{ComponentExternalKind, ExternalKind};

mod code_uses;
mod init_func;
mod inline;
mod module;
mod parse;
mod resolve;
mod unwritten_tables;
mod walk;

pub use init_func::{CoreInit, InitFunc};
pub use module::{parse_module, ModuleInfo};
#[cfg(test)]
pub use parse::parse;
pub use parse::parse_inlining;
pub use resolve::{resolve, Source};
pub use unwritten_tables::unwritten_table;

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
    /// The definition this body is nested in (`None` for the root).
    pub parent: Option<usize>,
    /// What each entry of the core module space is.
    pub module_space: Vec<ModuleOrigin>,
    /// Where each entry of the module space and of the component space sits, when it is an
    /// import or an alias (what `inline` replaces with a definition).
    pub module_sites: Vec<Option<Site>>,
    pub component_sites: Vec<Option<Site>>,
    /// Instantiations of modules and components this body does not define.
    pub unresolved: Vec<Unresolved>,
}

/// An entry of a scope's core module space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleOrigin {
    /// A module defined in this body: its ordinal in [`Scope::modules`].
    Defined(usize),
    /// An import, by name.
    Imported(String),
    /// `alias outer count index`.
    Outer { count: u32, index: u32 },
    /// An export of component instance `instance`.
    InstanceExport { instance: u32, name: String },
    /// The export of module `.0` of the same space.
    Export(u32),
}

/// Which index space an unresolved instantiation names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sort {
    Module,
    Component,
}

/// Where an import or alias sits in its body: the section's position among the body's
/// sections (from 1) and the item's position in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Site {
    pub section: u32,
    pub item: u32,
}

/// An instantiation of a module or component a body does not define.
#[derive(Debug, Clone)]
pub struct Unresolved {
    pub sort: Sort,
    /// The index in the body's module or component space.
    pub index: u32,
    /// The instantiation, for errors: `root/component 0/core instance 1`.
    pub site: String,
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
    /// `alias outer count index`.
    Outer { count: u32, index: u32 },
    /// An export of component instance `instance`.
    InstanceExport { instance: u32, name: String },
    /// The export of component `.0` of the same space.
    Export(u32),
}

/// An entry of a scope's component instance space.
#[derive(Debug, Clone)]
pub enum InstanceOrigin {
    /// An imported instance, by name.
    Imported(String),
    /// An instance made of items, at this instance-section entry.
    FromExports {
        /// Its position among the body's instance-section entries.
        entry: u32,
        /// Its items: name, sort and index in that sort's space.
        items: Vec<(String, ComponentExternalKind, u32)>,
    },
    /// An instantiation of component `component` (an index in the component space).
    Instantiated {
        /// The instantiated component's index in the scope's component space.
        component: u32,
        /// Its arguments: name, sort and index in that sort's space.
        args: Vec<(String, ComponentExternalKind, u32)>,
    },
    /// An export of component instance `instance`.
    InstanceExport { instance: u32, name: String },
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
            parent: None,
            module_space: Vec::new(),
            module_sites: Vec::new(),
            component_sites: Vec::new(),
            unresolved: Vec::new(),
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

    /// The ordinal of the module definition that module-space entry `index` is (through
    /// exports of it), if this body defines it.
    pub fn defined_module(&self, index: u32) -> Option<usize> {
        match self
            .module_space
            .get(self.module_definition_index(index) as usize)?
        {
            ModuleOrigin::Defined(ordinal) => Some(*ordinal),
            _ => None,
        }
    }

    /// The module-space index of the definition entry `index` is (through exports of it).
    pub fn module_definition_index(&self, mut index: u32) -> u32 {
        while let Some(ModuleOrigin::Export(i)) = self.module_space.get(index as usize) {
            index = *i;
        }
        index
    }

    /// The scope of the nested definition that component-space entry `index` is (through
    /// exports of it), if this body defines it.
    pub fn defined_component(&self, index: u32) -> Option<usize> {
        match self
            .component_space
            .get(self.component_definition_index(index) as usize)?
        {
            ComponentOrigin::Defined(scope) => Some(*scope),
            _ => None,
        }
    }

    /// The component-space index of the definition entry `index` is (through exports of it).
    pub fn component_definition_index(&self, mut index: u32) -> u32 {
        while let Some(ComponentOrigin::Export(i)) = self.component_space.get(index as usize) {
            index = *i;
        }
        index
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
                Some(InstanceOrigin::FromExports { entry, .. }) => {
                    return Ok(LocatedInstance::FromExports { entry: *entry })
                }
                Some(InstanceOrigin::Instantiated { component, .. }) => {
                    let Some(scope) = self.defined_component(*component) else {
                        bail!(
                            "{path}: `{iface}` is an instance of a component whose code is not \
                             in this scope"
                        );
                    };
                    return Ok(LocatedInstance::Instantiated {
                        instance: index,
                        scope,
                    });
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
