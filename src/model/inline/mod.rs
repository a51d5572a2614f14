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
//! instantiated several times with the same definitions gets one copy; one given different
//! definitions at different places gets a version per distinct set (`specialize`).
//! A copied component whose `alias outer`s leave it has them re-pointed for its new depth
//! (`copy`). The copies are written by `encode::tree`, which replaces each import or alias
//! at its [`Site`](super::Site) with the definition.

mod copy;
mod follow;
mod specialize;

use super::parse::build_node;
use super::{walk, Node, Scope, Sort};
use crate::encode::tree::{edit_tree, BodyEdit};
use anyhow::{bail, Context, Result};
use copy::{deeper, escaping_alias, levels_between};
use follow::{parent_nodes, Def, Tree};
use specialize::Sites;
use std::collections::HashMap;

/// Rounds of copying: a copied component may itself instantiate what it does not define.
const MAX_ROUNDS: usize = 16;

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
            match plan(&scopes, &nodes)? {
                Plan::Done => return Ok(current),
                Plan::Copies(copies) => {
                    edit_tree(&current, &copies_edit(&scopes, 0, &copies))?.into_bytes()
                }
                Plan::Specialize(scope, found) => {
                    specialize::versions(&current, &scopes, &nodes, scope, &found)?
                }
            }
        };
        current = next;
    }
    bail!("components nested in components instantiate aliases more than {MAX_ROUNDS} levels deep")
}

/// Per scope, the definitions to copy in place of its imports and aliases.
type Copies = HashMap<usize, Sites>;

/// What one round of inlining does.
enum Plan {
    /// Nothing is left to copy.
    Done,
    /// Each scope gets one copy of each definition it instantiates.
    Copies(Copies),
    /// This scope is instantiated with different definitions at different places: it gets
    /// one version per distinct set (each instantiation's node → its copies).
    Specialize(usize, Vec<(usize, Sites)>),
}

fn plan(scopes: &[Scope], nodes: &[Node]) -> Result<Plan> {
    let parents = parent_nodes(nodes);
    let t = Tree {
        scopes,
        nodes,
        parents: &parents,
    };
    let mut copies: Copies = HashMap::new();
    for (id, scope) in scopes.iter().enumerate() {
        if scope.unresolved.is_empty() {
            continue;
        }
        // Per instantiation of the scope: the copy for each of its unresolved entries.
        let mut found: Vec<(usize, Sites)> = Vec::new();
        for n in (0..nodes.len()).filter(|n| nodes[*n].scope == id) {
            let mut sites = HashMap::new();
            for u in &scope.unresolved {
                let def = t.resolve(id, Some(n), u.sort, u.index).with_context(|| {
                    format!(
                        "{}: following {} to its definition",
                        u.site,
                        what(u.sort, u.index)
                    )
                })?;
                let entry = match u.sort {
                    Sort::Module => scope.module_definition_index(u.index),
                    Sort::Component => scope.component_definition_index(u.index),
                };
                let site = match u.sort {
                    Sort::Module => scope.module_sites[entry as usize],
                    Sort::Component => scope.component_sites[entry as usize],
                }
                .with_context(|| format!("bug: {} has no site", what(u.sort, entry)))?;
                let bytes = definition_bytes(scopes, def, id, u)?;
                sites.insert(site, (u.sort, bytes));
            }
            found.push((n, sites));
        }
        let Some((_, first)) = found.first() else {
            continue;
        };
        if found.iter().any(|(_, sites)| sites != first) {
            return Ok(Plan::Specialize(id, found));
        }
        copies.insert(id, found.swap_remove(0).1);
    }
    Ok(match copies.is_empty() {
        true => Plan::Done,
        false => Plan::Copies(copies),
    })
}

/// The bytes of `def` as a copy in scope `into`, for the unresolved instantiation `u`.
fn definition_bytes(
    scopes: &[Scope],
    def: Def,
    into: usize,
    u: &super::Unresolved,
) -> Result<Vec<u8>> {
    Ok(match def {
        Def::Module { scope, ordinal } => scopes[scope].modules[ordinal].bytes.to_vec(),
        Def::Component { scope: d } => match escaping_alias(scopes[d].bytes)? {
            None => scopes[d].bytes.to_vec(),
            // Its outer aliases name items of the definitions around it: the copy, nested
            // deeper, counts the extra levels.
            Some(alias) => match levels_between(scopes, into, scopes[d].parent) {
                Some(delta) => deeper(scopes[d].bytes, delta)?,
                None => bail!(
                    "{}: instantiates {}, defined at {}, which aliases items of the \
                     components around it ({alias}), and they are not around {}; \
                     compsnap cannot copy such a definition there",
                    u.site,
                    what(u.sort, u.index),
                    scopes[d].path,
                    scopes[into].path
                ),
            },
        },
    })
}

fn what(sort: Sort, index: u32) -> String {
    match sort {
        Sort::Module => format!("module {index}"),
        Sort::Component => format!("component {index}"),
    }
}

/// The edit of body `scope` that replaces each of its copied imports and aliases with the
/// definition, and of every definition nested in it that holds copies; `encode::tree`
/// carries it out, as it does the versions of `specialize`.
fn copies_edit<'a>(scopes: &[Scope], scope: usize, copies: &Copies) -> BodyEdit<'a> {
    let mut edit = BodyEdit::new(&scopes[scope]);
    if let Some(sites) = copies.get(&scope) {
        edit.replace_sites = sites.clone();
    }
    for (ordinal, (_, child)) in scopes[scope].components.iter().enumerate() {
        if holds_copies(scopes, *child, copies) {
            edit.components[ordinal].1 = vec![copies_edit(scopes, *child, copies)];
        }
    }
    edit
}

/// Whether `scope` or a definition nested in it has copies.
fn holds_copies(scopes: &[Scope], scope: usize, copies: &Copies) -> bool {
    copies.contains_key(&scope)
        || (scopes[scope].components.iter()).any(|(_, child)| holds_copies(scopes, *child, copies))
}
