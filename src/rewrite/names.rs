//! How each instance can name a function: by its own index when it defines it, else by the
//! index of an import that resolves to it; and which instances import each table.

use crate::model::{resolve, Scope, Source};
use anyhow::{Context, Result};
use std::collections::HashMap;
use wasmparser::ExternalKind;

/// Which function index, if any, names a canonical function inside each instance; and which
/// instances import each table.
pub struct FuncNames {
    names: Vec<HashMap<Source, u32>>,
    importers: HashMap<(u32, u32), Vec<(u32, u32)>>,
}

impl FuncNames {
    /// Resolves every function and table import of the scope's instances.
    pub fn new(model: &Scope) -> Result<Self> {
        let mut names = Vec::new();
        let mut importers: HashMap<(u32, u32), Vec<(u32, u32)>> = HashMap::new();
        for instance in &model.instances {
            let dfs = instance.dfs;
            let info = model.module_of(dfs);
            let mut map = HashMap::new();
            for i in 0..info.imported_funcs {
                let src = resolve(model, dfs, ExternalKind::Func, i).with_context(|| {
                    format!("{}: function import {i}", instance.describe(model))
                })?;
                map.entry(src).or_insert(i);
            }
            names.push(map);
            for t in 0..info.imported_tables {
                if let Source::Defined { dfs: owner, index } =
                    resolve(model, dfs, ExternalKind::Table, t)?
                {
                    importers.entry((owner, index)).or_default().push((dfs, t));
                }
            }
        }
        Ok(FuncNames { names, importers })
    }

    /// The index under which instance `dfs` can refer to `src`.
    pub fn name(&self, dfs: u32, src: &Source) -> Option<u32> {
        match src {
            Source::Defined { dfs: d, index } if *d == dfs => Some(*index),
            _ => self.names.get(dfs as usize)?.get(src).copied(),
        }
    }

    /// Instances (and their table index) that import table `table` of `owner`.
    pub fn table_importers(&self, owner: u32, table: u32) -> &[(u32, u32)] {
        self.importers
            .get(&(owner, table))
            .map_or(&[], |v| v.as_slice())
    }

    /// Some instance and function index through which `src` is imported, for its type.
    pub fn any_name(&self, src: &Source) -> Option<(u32, u32)> {
        if let Source::Defined { dfs, index } = src {
            return Some((*dfs, *index));
        }
        self.names
            .iter()
            .enumerate()
            .find_map(|(dfs, m)| m.get(src).map(|f| (dfs as u32, *f)))
    }
}
