//! Following a module or component entry of a scope to its definition, through the
//! instantiation tree: an import through the arguments of the instantiation that gave it,
//! an outer alias to the enclosing definition, an instance export into the definition that
//! made the instance.

use super::super::{ComponentOrigin, InstanceOrigin, ModuleOrigin, Node, Scope, Sort};
use anyhow::{bail, Context, Result};
use wasmparser::ComponentExternalKind;

/// A definition found in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Def {
    Module { scope: usize, ordinal: usize },
    Component { scope: usize },
}

/// Each node's parent node.
pub(super) fn parent_nodes(nodes: &[Node]) -> Vec<Option<usize>> {
    let mut parents = vec![None; nodes.len()];
    for (n, node) in nodes.iter().enumerate() {
        for c in &node.children {
            parents[*c] = Some(n);
        }
    }
    parents
}

/// The walked input, for following items to their definitions.
pub(super) struct Tree<'t, 'a> {
    pub(super) scopes: &'t [Scope<'a>],
    pub(super) nodes: &'t [Node],
    pub(super) parents: &'t [Option<usize>],
}

impl Tree<'_, '_> {
    /// Follows entry `index` of `scope`'s module or component space to its definition.
    /// `node` is the instantiation of `scope` the entry is seen from: imports need it.
    pub(super) fn resolve(
        &self,
        scope: usize,
        node: Option<usize>,
        sort: Sort,
        index: u32,
    ) -> Result<Def> {
        let s = &self.scopes[scope];
        match sort {
            Sort::Module => match s.module_space.get(index as usize) {
                Some(ModuleOrigin::Defined(ordinal)) => Ok(Def::Module {
                    scope,
                    ordinal: *ordinal,
                }),
                Some(ModuleOrigin::Export(i)) => self.resolve(scope, node, sort, *i),
                Some(ModuleOrigin::Imported(name)) => self.import(scope, node, sort, name),
                Some(ModuleOrigin::Outer { count, index }) => {
                    self.outer(scope, node, sort, *count, *index)
                }
                Some(ModuleOrigin::InstanceExport { instance, name }) => {
                    self.instance_export(scope, node, *instance, name, sort)
                }
                None => bail!("{}: no module {index}", s.path),
            },
            Sort::Component => match s.component_space.get(index as usize) {
                Some(ComponentOrigin::Defined(d)) => Ok(Def::Component { scope: *d }),
                Some(ComponentOrigin::Export(i)) => self.resolve(scope, node, sort, *i),
                Some(ComponentOrigin::Imported(name)) => self.import(scope, node, sort, name),
                Some(ComponentOrigin::Outer { count, index }) => {
                    self.outer(scope, node, sort, *count, *index)
                }
                Some(ComponentOrigin::InstanceExport { instance, name }) => {
                    self.instance_export(scope, node, *instance, name, sort)
                }
                None => bail!("{}: no component {index}", s.path),
            },
        }
    }

    /// The import `name` of `scope`: what the instantiation `node` passed for it.
    fn import(&self, scope: usize, node: Option<usize>, sort: Sort, name: &str) -> Result<Def> {
        let path = &self.scopes[scope].path;
        let (parent, instance) = self.arguments_of(scope, node)?;
        let kind = match sort {
            Sort::Module => ComponentExternalKind::Module,
            Sort::Component => ComponentExternalKind::Component,
        };
        let index = self
            .argument(parent, instance, name, kind)
            .with_context(|| format!("{path}: import '{name}'"))?;
        self.resolve(self.nodes[parent].scope, Some(parent), sort, index)
    }

    /// The parent node of `node` and the component instance (in the parent's scope) that
    /// `node` is.
    fn arguments_of(&self, scope: usize, node: Option<usize>) -> Result<(usize, u32)> {
        let path = &self.scopes[scope].path;
        let Some(node) = node else {
            bail!("{path}: an import of a component that is itself reached through an alias")
        };
        let parent = self.parents[node].with_context(|| {
            format!("{path}: imported by the root, so its code is not in the input")
        })?;
        let (instance, _) = self.nodes[node]
            .instance
            .context("bug: a child node without its instance")?;
        Ok((parent, instance))
    }

    /// The argument `name` of sort `kind` that component instance `instance` of `node`'s
    /// scope was instantiated with.
    fn argument(
        &self,
        node: usize,
        instance: u32,
        name: &str,
        kind: ComponentExternalKind,
    ) -> Result<u32> {
        let s = &self.scopes[self.nodes[node].scope];
        match s.component_instance_space.get(instance as usize) {
            Some(InstanceOrigin::Instantiated { args, .. }) => args
                .iter()
                .find(|(n, k, _)| n == name && *k == kind)
                .map(|(_, _, i)| *i)
                .with_context(|| {
                    format!("{}/instance {instance} gives no argument '{name}'", s.path)
                }),
            _ => bail!(
                "bug: {}/instance {instance} is not an instantiation",
                s.path
            ),
        }
    }

    /// `alias outer count index` in `scope`: the entry of the enclosing definition, seen from
    /// the node that instantiates it around `node`, if there is one.
    fn outer(
        &self,
        scope: usize,
        node: Option<usize>,
        sort: Sort,
        count: u32,
        index: u32,
    ) -> Result<Def> {
        let mut target = scope;
        for _ in 0..count {
            target = self.scopes[target].parent.with_context(|| {
                format!("{}: alias outer beyond the root", self.scopes[scope].path)
            })?;
        }
        let mut around = node;
        while let Some(n) = around {
            if self.nodes[n].scope == target {
                break;
            }
            around = self.parents[n];
        }
        self.resolve(target, around, sort, index)
    }

    /// Export `name` (of sort `sort`) of component instance `instance` of `scope`.
    fn instance_export(
        &self,
        scope: usize,
        node: Option<usize>,
        instance: u32,
        name: &str,
        sort: Sort,
    ) -> Result<Def> {
        let kind = match sort {
            Sort::Module => ComponentExternalKind::Module,
            Sort::Component => ComponentExternalKind::Component,
        };
        let (scope, node, index) = self.item_of(scope, node, instance, name, kind)?;
        self.resolve(scope, node, sort, index)
    }

    /// Where item `name` of sort `kind` of component instance `instance` of `scope` is
    /// defined: the scope, the node it is seen from and its index in that scope's space.
    fn item_of(
        &self,
        scope: usize,
        node: Option<usize>,
        instance: u32,
        name: &str,
        kind: ComponentExternalKind,
    ) -> Result<(usize, Option<usize>, u32)> {
        let s = &self.scopes[scope];
        match s.component_instance_space.get(instance as usize) {
            Some(InstanceOrigin::Instantiated { component, .. }) => {
                let Def::Component { scope: d } =
                    self.resolve(scope, node, Sort::Component, *component)?
                else {
                    bail!("bug: a component resolved to a module");
                };
                let export = self.scopes[d]
                    .exports
                    .iter()
                    .find(|e| e.name == name && e.kind == kind)
                    .with_context(|| {
                        format!("{}/instance {instance} exports no '{name}'", s.path)
                    })?;
                // The node of that instantiation, when the definition is the scope's own.
                let child = node.and_then(|n| {
                    self.nodes[n].children.iter().copied().find(|c| {
                        self.nodes[*c].instance.map(|i| i.0) == Some(instance)
                            && self.nodes[*c].scope == d
                    })
                });
                Ok((d, child, export.index))
            }
            Some(InstanceOrigin::FromExports { items, .. }) => items
                .iter()
                .find(|(n, k, _)| n == name && *k == kind)
                .map(|(_, _, i)| (scope, node, *i))
                .with_context(|| format!("{}/instance {instance} holds no '{name}'", s.path)),
            Some(InstanceOrigin::Export(i)) => self.item_of(scope, node, *i, name, kind),
            Some(InstanceOrigin::Imported(import)) => {
                let (parent, instance) = self.arguments_of(scope, node)?;
                let given = self
                    .argument(parent, instance, import, ComponentExternalKind::Instance)
                    .with_context(|| format!("{}: import '{import}'", s.path))?;
                self.item_of(self.nodes[parent].scope, Some(parent), given, name, kind)
            }
            Some(InstanceOrigin::InstanceExport {
                instance: outer,
                name: export,
            }) => {
                let instance_kind = ComponentExternalKind::Instance;
                let (scope, node, instance) =
                    self.item_of(scope, node, *outer, export, instance_kind)?;
                self.item_of(scope, node, instance, name, kind)
            }
            None => bail!("{}: no instance {instance}", s.path),
        }
    }
}
