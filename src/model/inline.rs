//! Stage 0, when needed: every module and component a scope instantiates gets its
//! definition in that scope.
//!
//! A scope may instantiate a module or component it does not define: an `alias outer` of
//! an enclosing definition, an export of another instance, or an import its parent
//! satisfies with a definition of its own. The rest of compsnap instruments and rewrites
//! modules where they are defined, so this stage first copies each such definition into
//! the scope, in place of the alias or import: a definition adds one entry to its index
//! space where the alias or import did, so no index of the body changes, and a module is
//! closed, so its copy means the same. Only what truly has no code in the input (a module
//! or component the root imports) is refused, by the walk.
//!
//! The definition is found by following the instantiation tree: an import through the
//! arguments of the instantiation that gave it, an outer alias to the enclosing
//! definition, an instance export into the definition that made the instance. A scope
//! instantiated several times must get the same definition each time (one copy serves all).
//! Components are copied only when they name nothing outside themselves (no escaping
//! `alias outer`), which is what a copy could change.

use super::parse::build_node;
use super::{walk, ComponentOrigin, InstanceOrigin, ModuleOrigin, Node, Scope, Site, Sort};
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use wasm_encoder::RawSection;
use wasmparser::{ComponentExternalKind, Parser, Payload};

/// Rounds of copying: a copied component may itself instantiate what it does not define.
const MAX_ROUNDS: usize = 8;

/// A definition found in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Def {
    Module { scope: usize, ordinal: usize },
    Component { scope: usize },
}

/// `bytes` with the definitions copied in (see the module docs).
pub(super) fn inline(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut current = bytes.to_vec();
    for _ in 0..MAX_ROUNDS {
        let next = {
            let mut scopes = Vec::new();
            walk::walk_body(&current, "root".into(), None, &mut scopes)?;
            let scopes: Vec<Scope> = scopes.into_iter().map(|s| s.expect("walked")).collect();
            let mut nodes = Vec::new();
            build_node(&scopes, 0, "root".into(), None, &mut nodes, &mut 0);
            let copies = plan(&scopes, &nodes)?;
            if copies.is_empty() {
                return Ok(current);
            }
            emit_body(&current, 0, &scopes, &copies)?
        };
        current = next;
    }
    bail!("components nested in components instantiate aliases more than {MAX_ROUNDS} levels deep")
}

/// Per scope, the definitions to copy in place of its imports and aliases.
type Copies = HashMap<usize, HashMap<Site, (Sort, Vec<u8>)>>;

fn plan(scopes: &[Scope], nodes: &[Node]) -> Result<Copies> {
    let parents = parent_nodes(nodes);
    let t = Tree {
        scopes,
        nodes,
        parents: &parents,
    };
    let mut copies: Copies = HashMap::new();
    for (id, scope) in scopes.iter().enumerate() {
        let instantiations: Vec<usize> =
            (0..nodes.len()).filter(|n| nodes[*n].scope == id).collect();
        for u in &scope.unresolved {
            let mut found: Option<(Def, usize)> = None;
            for &n in &instantiations {
                let def = t.resolve(id, Some(n), u.sort, u.index).with_context(|| {
                    format!(
                        "{}: following {} to its definition",
                        u.site,
                        what(u.sort, u.index)
                    )
                })?;
                match found {
                    None => found = Some((def, n)),
                    Some((other, first)) if other != def => bail!(
                        "{}: instantiates {}, which is a different definition in {} and in {}; \
                         compsnap copies one definition into each component",
                        u.site,
                        what(u.sort, u.index),
                        nodes[first].path,
                        nodes[n].path
                    ),
                    Some(_) => {}
                }
            }
            let Some((def, _)) = found else { continue };
            let entry = match u.sort {
                Sort::Module => scope.module_definition_index(u.index),
                Sort::Component => scope.component_definition_index(u.index),
            };
            let site = match u.sort {
                Sort::Module => scope.module_sites[entry as usize],
                Sort::Component => scope.component_sites[entry as usize],
            }
            .with_context(|| format!("bug: {} has no site", what(u.sort, entry)))?;
            let bytes = match def {
                Def::Module { scope, ordinal } => scopes[scope].modules[ordinal].bytes.to_vec(),
                Def::Component { scope: d } => match escaping_alias(scopes[d].bytes)? {
                    None => scopes[d].bytes.to_vec(),
                    // Its outer aliases name items of the definitions around it: the copy,
                    // nested deeper, counts the extra levels.
                    Some(alias) => match levels_between(scopes, id, scopes[d].parent) {
                        Some(delta) => deeper(scopes[d].bytes, delta)?,
                        None => bail!(
                            "{}: instantiates {}, defined at {}, which aliases items of the \
                             components around it ({alias}), and they are not around {}; \
                             compsnap cannot copy such a definition there",
                            u.site,
                            what(u.sort, u.index),
                            scopes[d].path,
                            scope.path
                        ),
                    },
                },
            };
            copies.entry(id).or_default().insert(site, (u.sort, bytes));
        }
    }
    Ok(copies)
}

fn what(sort: Sort, index: u32) -> String {
    match sort {
        Sort::Module => format!("module {index}"),
        Sort::Component => format!("component {index}"),
    }
}

/// Each node's parent node.
fn parent_nodes(nodes: &[Node]) -> Vec<Option<usize>> {
    let mut parents = vec![None; nodes.len()];
    for (n, node) in nodes.iter().enumerate() {
        for c in &node.children {
            parents[*c] = Some(n);
        }
    }
    parents
}

/// The walked input, for following items to their definitions.
struct Tree<'t, 'a> {
    scopes: &'t [Scope<'a>],
    nodes: &'t [Node],
    parents: &'t [Option<usize>],
}

impl Tree<'_, '_> {
    /// Follows entry `index` of `scope`'s module or component space to its definition.
    /// `node` is the instantiation of `scope` the entry is seen from: imports need it.
    fn resolve(&self, scope: usize, node: Option<usize>, sort: Sort, index: u32) -> Result<Def> {
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
        let s = &self.scopes[scope];
        let kind = match sort {
            Sort::Module => ComponentExternalKind::Module,
            Sort::Component => ComponentExternalKind::Component,
        };
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
                self.resolve(d, child, sort, export.index)
            }
            Some(InstanceOrigin::FromExports { items, .. }) => {
                let index = items
                    .iter()
                    .find(|(n, k, _)| n == name && *k == kind)
                    .map(|(_, _, i)| *i)
                    .with_context(|| format!("{}/instance {instance} holds no '{name}'", s.path))?;
                self.resolve(scope, node, sort, index)
            }
            Some(InstanceOrigin::Export(i)) => self.instance_export(scope, node, *i, name, sort),
            Some(InstanceOrigin::Imported(import)) => {
                let (parent, instance) = self.arguments_of(scope, node)?;
                let given = self
                    .argument(parent, instance, import, ComponentExternalKind::Instance)
                    .with_context(|| format!("{}: import '{import}'", s.path))?;
                self.instance_export(self.nodes[parent].scope, Some(parent), given, name, sort)
            }
            Some(InstanceOrigin::InstanceExport {
                instance: outer,
                name: export,
            }) => {
                let (scope, node, instance) =
                    self.exported_instance(scope, node, *outer, export)?;
                self.instance_export(scope, node, instance, name, sort)
            }
            None => bail!("{}: no instance {instance}", s.path),
        }
    }

    /// The instance that export `name` of component instance `instance` of `scope` is: its
    /// scope, the node it is seen from and its index there.
    fn exported_instance(
        &self,
        scope: usize,
        node: Option<usize>,
        instance: u32,
        name: &str,
    ) -> Result<(usize, Option<usize>, u32)> {
        let s = &self.scopes[scope];
        let kind = ComponentExternalKind::Instance;
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
                        format!(
                            "{}/instance {instance} exports no instance '{name}'",
                            s.path
                        )
                    })?;
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
                .with_context(|| {
                    format!("{}/instance {instance} holds no instance '{name}'", s.path)
                }),
            Some(InstanceOrigin::Export(i)) => self.exported_instance(scope, node, *i, name),
            Some(InstanceOrigin::Imported(import)) => {
                let (parent, instance) = self.arguments_of(scope, node)?;
                let given = self
                    .argument(parent, instance, import, kind)
                    .with_context(|| format!("{}: import '{import}'", s.path))?;
                self.exported_instance(self.nodes[parent].scope, Some(parent), given, name)
            }
            Some(InstanceOrigin::InstanceExport {
                instance: outer,
                name: export,
            }) => {
                let (scope, node, instance) =
                    self.exported_instance(scope, node, *outer, export)?;
                self.exported_instance(scope, node, instance, name)
            }
            None => bail!("{}: no instance {instance}", s.path),
        }
    }
}

/// How many levels `from` sits below `ancestor` (0 when they are the same scope); `None`
/// when `ancestor` does not enclose it.
fn levels_between(scopes: &[Scope], from: usize, ancestor: Option<usize>) -> Option<u32> {
    let ancestor = ancestor?;
    let mut at = from;
    let mut levels = 0;
    while at != ancestor {
        at = scopes[at].parent?;
        levels += 1;
    }
    Some(levels)
}

/// `component` re-encoded for a place `delta` levels deeper than its definition: every
/// `alias outer` that leaves it counts `delta` more.
fn deeper(component: &[u8], delta: u32) -> Result<Vec<u8>> {
    use wasm_encoder::reencode::ReencodeComponent;
    let mut out = wasm_encoder::Component::new();
    let mut shift = Deeper { depth: 0, delta };
    shift
        .parse_component(&mut out, Parser::new(0), component)
        .map_err(|e| anyhow::anyhow!("re-encoding a copied component: {e:?}"))?;
    Ok(out.finish())
}

/// See [`deeper`]. Nested core modules are copied byte for byte.
struct Deeper {
    depth: u32,
    delta: u32,
}

impl wasm_encoder::reencode::Reencode for Deeper {
    type Error = std::convert::Infallible;
}

impl wasm_encoder::reencode::ReencodeComponent for Deeper {
    fn push_depth(&mut self) {
        self.depth += 1;
    }

    fn pop_depth(&mut self) {
        self.depth -= 1;
    }

    fn component_alias<'a>(
        &mut self,
        alias: wasmparser::ComponentAlias<'a>,
    ) -> Result<wasm_encoder::Alias<'a>, wasm_encoder::reencode::Error<Self::Error>> {
        let mut alias = wasm_encoder::reencode::component_utils::component_alias(self, alias)?;
        if let wasm_encoder::Alias::Outer { count, .. } = &mut alias {
            if *count > self.depth {
                *count += self.delta;
            }
        }
        Ok(alias)
    }

    fn parse_component_module_type_declaration(
        &mut self,
        module: &mut wasm_encoder::ModuleType,
        decl: wasmparser::ModuleTypeDeclaration<'_>,
    ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
        match decl {
            wasmparser::ModuleTypeDeclaration::OuterAlias {
                kind: wasmparser::OuterAliasKind::Type,
                count,
                index,
            } if count > self.depth => {
                module.alias_outer_core_type(count + self.delta, index);
                Ok(())
            }
            decl => {
                wasm_encoder::reencode::component_utils::parse_component_module_type_declaration(
                    self, module, decl,
                )
            }
        }
    }

    fn parse_component_submodule(
        &mut self,
        component: &mut wasm_encoder::Component,
        _parser: Parser,
        module: &[u8],
    ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
        raw(component, CORE_MODULE_SECTION, module);
        Ok(())
    }
}

/// Where a component's own bytes alias items of the components around it: the nesting
/// depth of the first such `alias outer`, described.
fn escaping_alias(component: &[u8]) -> Result<Option<String>> {
    let mut stack: Vec<bool> = Vec::new(); // true: a component level
    for payload in Parser::new(0).parse_all(component) {
        let payload = payload?;
        let depth = stack.iter().filter(|c| **c).count().saturating_sub(1) as u32;
        match payload {
            Payload::Version { encoding, .. } => {
                stack.push(encoding == wasmparser::Encoding::Component)
            }
            Payload::End(_) => {
                stack.pop();
            }
            Payload::ComponentAliasSection(reader) => {
                for alias in reader {
                    if let wasmparser::ComponentAlias::Outer { count, .. } = alias? {
                        if count > depth {
                            return Ok(Some(format!("alias outer {count} at depth {depth}")));
                        }
                    }
                }
            }
            Payload::ComponentTypeSection(reader) => {
                for ty in reader {
                    if let Some(count) = escaping_in_type(&ty?, depth + 1) {
                        return Ok(Some(format!("a type's alias outer {count}")));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(None)
}

/// The count of an `alias outer` in the declarations of `ty` that reaches beyond `levels`
/// enclosing levels.
fn escaping_in_type(ty: &wasmparser::ComponentType<'_>, levels: u32) -> Option<u32> {
    use wasmparser::InstanceTypeDeclaration as I;
    use wasmparser::{ComponentAlias, ComponentType, ComponentTypeDeclaration as C};
    let outer = |alias: &ComponentAlias<'_>| match alias {
        ComponentAlias::Outer { count, .. } if *count >= levels => Some(*count),
        _ => None,
    };
    match ty {
        ComponentType::Component(decls) => decls.iter().find_map(|d| match d {
            C::Alias(a) => outer(a),
            C::Type(t) => escaping_in_type(t, levels + 1),
            _ => None,
        }),
        ComponentType::Instance(decls) => decls.iter().find_map(|d| match d {
            I::Alias(a) => outer(a),
            I::Type(t) => escaping_in_type(t, levels + 1),
            _ => None,
        }),
        _ => None,
    }
}

/// Section ids of the component binary format.
const CORE_MODULE_SECTION: u8 = 1;
const COMPONENT_SECTION: u8 = 4;

/// Re-emits body `scope` (its bytes `bytes`) with its copies and its nested definitions'
/// copies; every other section is copied byte for byte.
fn emit_body(bytes: &[u8], scope: usize, scopes: &[Scope], copies: &Copies) -> Result<Vec<u8>> {
    let mut out = wasm_encoder::Component::new();
    let mine = copies.get(&scope);
    let mut section = 0u32;
    let mut child = 0usize;
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
        if matches!(payload, Payload::Version { .. } | Payload::End(_)) {
            continue;
        }
        section += 1;
        let here = |item: u32| mine.and_then(|m| m.get(&Site { section, item }));
        match payload {
            Payload::ModuleSection {
                unchecked_range, ..
            } => {
                raw(&mut out, CORE_MODULE_SECTION, &bytes[span(unchecked_range)]);
                skip = 1;
            }
            Payload::ComponentSection {
                unchecked_range, ..
            } => {
                let id = scopes[scope].components[child].1;
                child += 1;
                let inner = emit_body(&bytes[span(unchecked_range)], id, scopes, copies)?;
                raw(&mut out, COMPONENT_SECTION, &inner);
                skip = 1;
            }
            Payload::ComponentAliasSection(reader) => {
                let items = reader
                    .clone()
                    .into_iter_with_offsets()
                    .map(|r| r.map(|(offset, _)| offset as usize))
                    .collect::<Result<Vec<_>, _>>()?;
                split(
                    &mut out,
                    bytes,
                    6,
                    &items,
                    reader.range().end as usize,
                    &here,
                );
            }
            Payload::ComponentImportSection(reader) => {
                let items = reader
                    .clone()
                    .into_iter_with_offsets()
                    .map(|r| r.map(|(offset, _)| offset as usize))
                    .collect::<Result<Vec<_>, _>>()?;
                split(
                    &mut out,
                    bytes,
                    10,
                    &items,
                    reader.range().end as usize,
                    &here,
                );
            }
            other => {
                let (id, range) = other
                    .as_section()
                    .context("bug: a component payload that is not a section")?;
                raw(&mut out, id, &bytes[span(range)]);
            }
        }
    }
    Ok(out.finish())
}

/// A section `id` whose items start at `starts` (the last ends at `end`), with each item
/// that `copy` names replaced by its definition.
fn split<'c>(
    out: &mut wasm_encoder::Component,
    bytes: &[u8],
    id: u8,
    starts: &[usize],
    end: usize,
    copy: &dyn Fn(u32) -> Option<&'c (Sort, Vec<u8>)>,
) {
    let mut pending: Vec<&[u8]> = Vec::new();
    let flush = |out: &mut wasm_encoder::Component, pending: &mut Vec<&[u8]>| {
        if pending.is_empty() {
            return;
        }
        let mut data = Vec::new();
        leb(&mut data, pending.len() as u64);
        for item in pending.drain(..) {
            data.extend_from_slice(item);
        }
        raw(out, id, &data);
    };
    for (i, start) in starts.iter().enumerate() {
        let stop = starts.get(i + 1).copied().unwrap_or(end);
        match copy(i as u32) {
            Some((sort, definition)) => {
                flush(out, &mut pending);
                let section = match sort {
                    Sort::Module => CORE_MODULE_SECTION,
                    Sort::Component => COMPONENT_SECTION,
                };
                raw(out, section, definition);
            }
            None => pending.push(&bytes[*start..stop]),
        }
    }
    flush(out, &mut pending);
}

fn span<T: TryInto<usize>>(range: std::ops::Range<T>) -> std::ops::Range<usize> {
    let at = |v: T| v.try_into().unwrap_or(usize::MAX);
    at(range.start)..at(range.end)
}

fn raw(out: &mut wasm_encoder::Component, id: u8, data: &[u8]) {
    out.section(&RawSection { id, data });
}

fn leb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}
