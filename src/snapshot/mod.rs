//! Stage 4: the accessor's stream → [`Snapshot`], plain data with no Wasmtime types.
//!
//! `collect` decodes the stream (the engine's sink hands it every `put`); this file holds the
//! data and the byte-for-byte comparison `verify` and the tests use.

mod collect;
mod scan;
#[cfg(feature = "internals")]
mod synthetic;

pub use crate::model::Source;
pub(crate) use collect::Collector;

use crate::model::Model;
use std::borrow::Cow;

/// All state of all instances after init, indexed by DFS id. While the pipeline runs, its
/// memory contents are borrowed from the live guest (`'g`); [`Snapshot::into_owned`] copies
/// them out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot<'g> {
    /// Each instance's state, by DFS id.
    pub instances: Vec<InstanceState<'g>>,
    /// Where each instance sits, in a form rewriting preserves (definitions can be copied, so
    /// their indices move, but instances keep theirs): the component instance index of each
    /// node from the root down, then the core instance index, as in `i2/i0/c3`.
    pub keys: Vec<String>,
}

/// The core state of one instance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstanceState<'g> {
    /// Defined memories, by absolute index.
    pub memories: Vec<MemoryState<'g>>,
    /// Mutable numeric globals, by absolute index.
    pub globals: Vec<(u32, GlobalValue)>,
    /// Defined tables, by absolute index: each slot null or a function's canonical identity.
    pub tables: Vec<TableState>,
    /// Mutable reference globals, by absolute index: null or a function.
    pub ref_globals: Vec<(u32, Option<Source>)>,
    /// Segments named by code whose contents it can no longer reach: dropped during init, or
    /// inert from the start (active, declarative, empty). Sorted.
    pub dropped_elems: Vec<u32>,
    /// Data segments in the same sense.
    pub dropped_data: Vec<u32>,
}

/// One defined table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableState {
    /// Absolute table index.
    pub index: u32,
    /// Each slot: null or a function's canonical identity.
    pub slots: Vec<Option<Source>>,
}

/// One defined memory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoryState<'g> {
    /// Absolute memory index in the instance's module.
    pub index: u32,
    /// Size in bytes (a multiple of the 64 KiB page size).
    pub size: u64,
    /// Non-zero runs, ascending and disjoint: (offset, bytes).
    pub runs: Vec<(u64, Cow<'g, [u8]>)>,
}

impl MemoryState<'_> {
    /// Size in 64 KiB pages.
    pub fn pages(&self) -> u64 {
        self.size >> 16
    }
}

/// A global's value, floats as raw bits so NaN payloads survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobalValue {
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32`, as bits.
    F32(u32),
    /// An `f64`, as bits.
    F64(u64),
    /// A `v128`.
    V128(u128),
}

impl Snapshot<'_> {
    /// The same state, owning its memory contents.
    pub fn into_owned(self) -> Snapshot<'static> {
        let instances = (self.instances.into_iter())
            .map(|i| InstanceState {
                memories: (i.memories.into_iter())
                    .map(|m| MemoryState {
                        index: m.index,
                        size: m.size,
                        runs: (m.runs.into_iter())
                            .map(|(at, bytes)| (at, Cow::Owned(bytes.into_owned())))
                            .collect(),
                    })
                    .collect(),
                globals: i.globals,
                tables: i.tables,
                ref_globals: i.ref_globals,
                dropped_elems: i.dropped_elems,
                dropped_data: i.dropped_data,
            })
            .collect();
        Snapshot {
            instances,
            keys: self.keys,
        }
    }

    /// The first difference between this state (the original's after init) and `after` (the
    /// snapshot's), briefly; `None` when they agree byte for byte. Instances are matched by
    /// location key, since a restore module in a nested scope shifts DFS ids; instances only
    /// `after` has (restore modules) must hold no state.
    pub fn diff(&self, after: &Snapshot<'_>) -> Option<String> {
        let before = self;
        for (dfs, b) in before.instances.iter().enumerate() {
            // Match instances by location: a restore module in a nested scope shifts DFS ids.
            let key = &before.keys[dfs];
            let Some(a) = after
                .keys
                .iter()
                .position(|k| k == key)
                .map(|i| &after.instances[i])
            else {
                return Some(format!("the snapshot has no instance at {key}"));
            };
            let dfs = format!("{dfs} ({key})");
            if a.memories != b.memories {
                return Some(format!("instance {dfs}: memories differ"));
            }
            if a.globals != b.globals {
                return Some(format!(
                    "instance {dfs}: globals {:?} != {:?}",
                    a.globals, b.globals
                ));
            }
            if a.ref_globals != b.ref_globals {
                return Some(format!(
                    "instance {dfs}: reference globals {:?} != {:?}",
                    a.ref_globals, b.ref_globals
                ));
            }
            if a.tables.len() != b.tables.len() {
                return Some(format!(
                    "instance {dfs}: {} tables != {}",
                    a.tables.len(),
                    b.tables.len()
                ));
            }
            for (ta, tb) in a.tables.iter().zip(&b.tables) {
                if ta.slots.len() != tb.slots.len() {
                    return Some(format!(
                        "instance {dfs} table {}: size {} != {}",
                        ta.index,
                        ta.slots.len(),
                        tb.slots.len()
                    ));
                }
                if let Some(s) = (0..ta.slots.len()).find(|&s| ta.slots[s] != tb.slots[s]) {
                    return Some(format!(
                        "instance {dfs} table {} slot {s}: {:?} != {:?}",
                        ta.index, ta.slots[s], tb.slots[s]
                    ));
                }
            }
            if (&a.dropped_elems, &a.dropped_data) != (&b.dropped_elems, &b.dropped_data) {
                return Some(format!(
                    "instance {dfs}: dropped segments {:?}/{:?} != {:?}/{:?}",
                    a.dropped_elems, a.dropped_data, b.dropped_elems, b.dropped_data
                ));
            }
        }
        let extra = after
            .keys
            .iter()
            .zip(&after.instances)
            .filter(|(k, _)| !before.keys.contains(k));
        if extra
            .into_iter()
            .any(|(_, i)| *i != InstanceState::default())
        {
            return Some("an instance added by the snapshot holds state".into());
        }
        None
    }
}

/// [`Snapshot::keys`] for every DFS id of `model`.
pub(crate) fn keys(model: &Model) -> Vec<String> {
    let mut prefix = vec![String::new(); model.nodes.len()];
    let mut keys = vec![String::new(); model.instance_count as usize];
    for (n, node) in model.nodes.iter().enumerate() {
        for &child in &node.children {
            let index = model.nodes[child].instance.map_or(0, |i| i.0);
            prefix[child] = format!("{}i{index}/", prefix[n]);
        }
        let scope = &model.scopes[node.scope];
        for (instance, dfs) in scope.instances.iter().zip(&node.dfs) {
            keys[*dfs as usize] = format!("{}c{}", prefix[n], instance.core_instance_index);
        }
    }
    keys
}
