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
//! Components are copied only when they name nothing outside themselves (no escaping
//! `alias outer`), which is what a copy could change.

mod copy;
mod follow;
mod specialize;

use super::parse::build_node;
use super::{walk, Node, Scope, Site, Sort};
use anyhow::{bail, Context, Result};
use copy::{deeper, escaping_alias, levels_between};
use follow::{parent_nodes, Def, Tree};
use specialize::Sites;
use std::collections::HashMap;
use wasm_encoder::RawSection;
use wasmparser::Payload;

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
                Plan::Copies(copies) => emit_body(&current, 0, &scopes, &copies)?,
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

/// Section ids of the component binary format.
const CORE_MODULE_SECTION: u8 = 1;
const COMPONENT_SECTION: u8 = 4;

/// Re-emits body `scope` (its bytes `bytes`) with its copies and its nested definitions'
/// copies; every other section is copied byte for byte.
fn emit_body(bytes: &[u8], scope: usize, scopes: &[Scope], copies: &Copies) -> Result<Vec<u8>> {
    let mut out = wasm_encoder::Component::new();
    let mine = copies.get(&scope);
    let mut child = 0usize;
    for item in walk::sections(bytes) {
        let (section, payload) = item?;
        let here = |item: u32| mine.and_then(|m| m.get(&Site { section, item }));
        match payload {
            Payload::ModuleSection {
                unchecked_range, ..
            } => {
                raw(&mut out, CORE_MODULE_SECTION, &bytes[span(unchecked_range)]);
            }
            Payload::ComponentSection {
                unchecked_range, ..
            } => {
                let id = scopes[scope].components[child].1;
                child += 1;
                let inner = emit_body(&bytes[span(unchecked_range)], id, scopes, copies)?;
                raw(&mut out, COMPONENT_SECTION, &inner);
            }
            Payload::ComponentAliasSection(reader) => {
                split(&mut out, bytes, 6, item_spans(&reader)?, &here)
            }
            Payload::ComponentImportSection(reader) => {
                split(&mut out, bytes, 10, item_spans(&reader)?, &here)
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

/// Where each item of a section lies in the body's bytes.
fn item_spans<'a, T>(
    reader: &wasmparser::SectionLimited<'a, T>,
) -> Result<Vec<std::ops::Range<usize>>>
where
    T: wasmparser::FromReader<'a>,
{
    let end = reader.range().end;
    let starts = reader
        .clone()
        .into_iter_with_offsets()
        .map(|r| r.map(|(offset, _)| offset))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((0..starts.len())
        .map(|i| span(starts[i]..starts.get(i + 1).copied().unwrap_or(end)))
        .collect())
}

/// A section `id` whose items lie at `items`, with each item that `copy` names replaced by
/// its definition.
fn split<'c>(
    out: &mut wasm_encoder::Component,
    bytes: &[u8],
    id: u8,
    items: Vec<std::ops::Range<usize>>,
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
    for (i, span) in items.into_iter().enumerate() {
        match copy(i as u32) {
            Some((sort, definition)) => {
                flush(out, &mut pending);
                let section = match sort {
                    Sort::Module => CORE_MODULE_SECTION,
                    Sort::Component => COMPONENT_SECTION,
                };
                raw(out, section, definition);
            }
            None => pending.push(&bytes[span]),
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
