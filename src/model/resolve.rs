//! Follows core imports through the component's wiring to the item they really are.
//!
//! A probe reports a funcref as "function `i` of instance `k`", where `i` may be one of `k`'s
//! imports. Two reports name the same function exactly when they resolve to the same
//! [`Source`]: a definition in some instance, or a canonical function of the scope (a
//! `canon lower` or a built-in like `resource.drop`), whose code is in no module at all.

use super::{CoreInstanceKind, ItemOrigin, Scope};
use anyhow::{anyhow, bail, Result};
use wasmparser::ExternalKind;

/// The canonical identity of a core item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// Defined by an instance.
    Defined {
        /// The instance: its DFS id (or local id, inside one scope's stages).
        dfs: u32,
        /// The item's absolute index in the instance's module.
        index: u32,
    },
    /// A canonical function (`canon lower`, a built-in like `resource.drop`).
    Canon {
        /// Its index in the scope's core func space.
        core_func: u32,
    },
}

/// Resolves item `index` of `kind` as seen from instance `dfs`.
pub fn resolve(model: &Scope, dfs: u32, kind: ExternalKind, index: u32) -> Result<Source> {
    // The model records every function import as `Func`, exact or not.
    let kind = plain(kind);
    let info = model.module_of(dfs);
    let imported = match kind {
        ExternalKind::Func | ExternalKind::FuncExact => info.imported_funcs,
        ExternalKind::Table => info.imported_tables,
        ExternalKind::Memory => info.imported_memories,
        ExternalKind::Global => info.imported_globals,
        ExternalKind::Tag => bail!("tags are not resolved"),
    };
    // A host import is its own identity: the instance names it by its own index.
    if index >= imported || model.host_imports {
        return Ok(Source::Defined { dfs, index });
    }
    let import = info
        .import_of(kind, index)
        .ok_or_else(|| anyhow!("instance {dfs}: no {kind:?} import {index}"))?;
    let instance = &model.instances[dfs as usize];
    let (_, arg) = instance
        .args
        .iter()
        .find(|(name, _)| *name == import.module)
        .ok_or_else(|| {
            anyhow!(
                "instance {dfs}: import module '{}' is not supplied",
                import.module
            )
        })?;
    resolve_export(model, *arg, &import.name, kind)
}

/// Resolves export `name` of `kind` of core instance `instance` (an index in the root's core
/// instance space).
fn resolve_export(model: &Scope, instance: u32, name: &str, kind: ExternalKind) -> Result<Source> {
    match model.core_instances.get(instance as usize) {
        Some(CoreInstanceKind::Instantiated { dfs }) => {
            let index = model
                .module_of(*dfs)
                .export_index(name, kind)
                .ok_or_else(|| anyhow!("instance {dfs} has no {kind:?} export '{name}'"))?;
            resolve(model, *dfs, kind, index)
        }
        Some(CoreInstanceKind::FromExports(items)) => {
            let (_, _, index) = items
                .iter()
                .find(|(n, k, _)| n == name && plain(*k) == kind)
                .ok_or_else(|| anyhow!("core instance {instance} has no export '{name}'"))?;
            match model.items(kind).get(*index as usize) {
                Some(ItemOrigin::Export { instance, name }) => {
                    resolve_export(model, *instance, name, kind)
                }
                Some(ItemOrigin::Canon) => Ok(Source::Canon { core_func: *index }),
                None => bail!("core {kind:?} {index} is not in the scope"),
            }
        }
        None => bail!("core instance {instance} is not in the scope"),
    }
}

/// `kind`, with exact function references counted as functions.
fn plain(kind: ExternalKind) -> ExternalKind {
    match kind {
        ExternalKind::FuncExact => ExternalKind::Func,
        kind => kind,
    }
}

#[cfg(test)]
mod tests;
