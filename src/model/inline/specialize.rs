//! A scope instantiated with different definitions at different places: its parent gets one
//! version of it per distinct set of definitions, each with its imports and aliases
//! replaced, and each instantiation names its version. Versions sit where the definition
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
    let path = &scopes[scope].path;
    let parent = scopes[scope]
        .parent
        .with_context(|| format!("bug: {path}, instantiated, has no parent"))?;
    let ordinal_in = |outer: usize, inner: usize| {
        scopes[outer]
            .components
            .iter()
            .position(|(_, s)| *s == inner)
            .context("bug: a definition is not among its parent's")
    };
    // One version per distinct set of copies; each instance-section entry of the parent
    // names its version.
    let mut sets: Vec<&Sites> = Vec::new();
    let mut entry_version: HashMap<u32, u32> = HashMap::new();
    for (node, sites) in found {
        let version = match sets.iter().position(|s| *s == sites) {
            Some(v) => v,
            None => {
                sets.push(sites);
                sets.len() - 1
            }
        } as u32;
        let (_, entry) = nodes[*node]
            .instance
            .context("bug: a nested node without its instance")?;
        if entry_version
            .insert(entry, version)
            .is_some_and(|v| v != version)
        {
            bail!(
                "{path}: its instantiation at instance-section entry {entry} of {} is given \
                 different definitions in different instantiations of that component; \
                 compsnap cannot give one instantiation two versions",
                scopes[parent].path
            );
        }
    }
    let versions = sets
        .into_iter()
        .map(|sites| {
            let mut edit = BodyEdit::new(&scopes[scope]);
            edit.replace_sites = sites.clone();
            edit
        })
        .collect();
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
    edit_tree(bytes, &edit)
}
