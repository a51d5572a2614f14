//! A scope instantiated with different definitions at different places: its parent gets one
//! version of it per distinct set of definitions, each with its imports and aliases
//! replaced, and each instantiation names its version (a parent instantiated several
//! times, differently, is split into versions first). Versions sit where the definition
//! was, so the parent's later component indices shift; `encode::tree` re-encodes the
//! parent (and, for its outer aliases, everything around it) with those shifts.

use super::super::{Node, Scope, Site, Sort};
use crate::encode::tree::{edit_tree, BodyEdit};
use anyhow::{bail, Context, Result};
use std::collections::HashMap;

/// The definitions to copy into one body, by the import or alias each replaces.
pub(super) type Sites = HashMap<Site, (Sort, Vec<u8>)>;

/// `bytes` with scope `scope` split into versions: `found` holds, per node instantiating
/// it, the copies that node needs.
pub(super) fn versions(
    bytes: &[u8],
    scopes: &[Scope],
    nodes: &[Node],
    scope: usize,
    found: &[(usize, Sites)],
) -> Result<Vec<u8>> {
    // One version per distinct set of copies.
    let mut sets: Vec<&Sites> = Vec::new();
    let mut node_version = Vec::new();
    for (node, sites) in found {
        let version = match sets.iter().position(|s| *s == sites) {
            Some(v) => v,
            None => {
                sets.push(sites);
                sets.len() - 1
            }
        };
        node_version.push((*node, version as u32));
    }
    let versions = sets
        .into_iter()
        .map(|sites| {
            let mut edit = BodyEdit::new(&scopes[scope]);
            edit.replace_sites = sites.clone();
            edit
        })
        .collect();
    split(bytes, scopes, nodes, scope, &node_version, versions)
}

/// Emits `versions` of `scope` where it is defined, each node's instantiation naming its
/// version (`node_version`). When one instantiation in the parent's body must name two
/// versions (the parent is instantiated several times, differently), the parent is split
/// first, into one version per distinct set of its children's versions; the next round of
/// inlining then finds each copy of `scope` instantiated one way.
fn split(
    bytes: &[u8],
    scopes: &[Scope],
    nodes: &[Node],
    scope: usize,
    node_version: &[(usize, u32)],
    versions: Vec<BodyEdit>,
) -> Result<Vec<u8>> {
    let path = &scopes[scope].path;
    let parent = scopes[scope]
        .parent
        .with_context(|| format!("bug: {path}, instantiated in several ways, is the root"))?;
    let entry_of = |node: usize| {
        nodes[node]
            .instance
            .map(|(_, entry)| entry)
            .context("bug: a nested node without its instance")
    };
    let mut entry_version: HashMap<u32, u32> = HashMap::new();
    let mut consistent = true;
    for &(node, version) in node_version {
        let entry = entry_of(node)?;
        consistent &= *entry_version.entry(entry).or_insert(version) == version;
    }
    if !consistent {
        // Key each instantiation of the parent by what its children of `scope` need.
        let version_of: HashMap<usize, u32> = node_version.iter().copied().collect();
        let mut keys: Vec<Vec<(u32, u32)>> = Vec::new();
        let mut parent_versions = Vec::new();
        for p in (0..nodes.len()).filter(|n| nodes[*n].scope == parent) {
            let mut key = Vec::new();
            for &c in &nodes[p].children {
                if let Some(v) = version_of.get(&c) {
                    key.push((entry_of(c)?, *v));
                }
            }
            key.sort_unstable();
            let version = match keys.iter().position(|k| *k == key) {
                Some(v) => v,
                None => {
                    keys.push(key);
                    keys.len() - 1
                }
            };
            parent_versions.push((p, version as u32));
        }
        let copies = (0..keys.len())
            .map(|_| BodyEdit::new(&scopes[parent]))
            .collect();
        if keys.len() < 2 {
            bail!("bug: {path} needs versions its parent's instantiations do not tell apart");
        }
        return split(bytes, scopes, nodes, parent, &parent_versions, copies);
    }
    let ordinal_in = |outer: usize, inner: usize| {
        scopes[outer]
            .components
            .iter()
            .position(|(_, s)| *s == inner)
            .context("bug: a definition is not among its parent's")
    };
    let mut edit = BodyEdit::new(&scopes[parent]);
    edit.components[ordinal_in(parent, scope)?].1 = versions;
    edit.component_version = entry_version;
    // The chain of definitions around the parent, up to the root.
    let mut inner = parent;
    while let Some(outer) = scopes[inner].parent {
        let mut around = BodyEdit::new(&scopes[outer]);
        around.components[ordinal_in(outer, inner)?].1 = vec![edit];
        edit = around;
        inner = outer;
    }
    Ok(edit_tree(bytes, &edit)?.into_bytes())
}
