//! Synthetic states for driving `rewrite` without an engine (the fuzz targets and the offline
//! test): behind the non-default `internals` feature.

use super::scan::MIN_SPLIT_GAP;
use super::{keys, GlobalValue, InstanceState, MemoryState, Snapshot, TableState};
use crate::model::{resolve, Model, Scope};
use wasmparser::ExternalKind;

impl Snapshot<'static> {
    /// A plausible state after init for `model`, derived from arbitrary `data`, with no engine:
    /// memories at least their minimum size with some non-zero runs, mutable numeric globals
    /// with arbitrary values, tables at least their minimum size holding null or functions of
    /// the owning instance (directly or through its imports). It lets fuzzers drive `rewrite`
    /// through every writer path without running Wasmtime.
    pub fn synthetic(model: &Model, data: &[u8]) -> Snapshot<'static> {
        let mut bytes = data.iter().copied().cycle();
        let mut next = move || bytes.next().unwrap_or(0);
        let mut instances = vec![InstanceState::default(); model.instance_count as usize];
        for (n, node) in model.nodes.iter().enumerate() {
            let view = model.view(n);
            for (state, dfs) in synthetic_scope(&view, &mut next).into_iter().zip(&node.dfs) {
                instances[*dfs as usize] = state;
            }
        }
        Snapshot {
            instances,
            keys: keys(model),
        }
    }
}

/// Synthetic states of one scope's instances, by local id.
fn synthetic_scope(model: &Scope, next: &mut impl FnMut() -> u8) -> Vec<InstanceState<'static>> {
    let mut instances = Vec::new();
    for instance in &model.instances {
        let info = &model.modules[instance.module];
        let mut state = InstanceState::default();
        for (index, memory) in info.defined_memories() {
            let pages = (memory.initial + u64::from(next() % 2))
                .min(memory.maximum.unwrap_or(u64::MAX))
                .min(16);
            let size = pages << 16;
            let mut runs = Vec::new();
            let mut at = 0u64;
            for _ in 0..next() % 4 {
                at += u64::from(next()) * 97;
                let len = u64::from(next() % 16) + 1;
                if at + len > size {
                    break;
                }
                runs.push((at, (0..len).map(|_| next() | 1).collect::<Vec<u8>>().into()));
                at += len + MIN_SPLIT_GAP as u64;
            }
            state.memories.push(MemoryState { index, size, runs });
        }
        for (index, ty) in info.mutable_globals() {
            let v = u64::from_le_bytes(std::array::from_fn(|_| next()));
            let value = match ty.content_type {
                wasmparser::ValType::I32 => GlobalValue::I32(v as i32),
                wasmparser::ValType::I64 => GlobalValue::I64(v as i64),
                wasmparser::ValType::F32 => GlobalValue::F32(v as u32),
                wasmparser::ValType::F64 => GlobalValue::F64(v),
                wasmparser::ValType::V128 => GlobalValue::V128(u128::from(v) << 64 | u128::from(v)),
                wasmparser::ValType::Ref(_) => {
                    state.ref_globals.push((index, None));
                    continue;
                }
            };
            state.globals.push((index, value));
        }
        let funcs = info.func_types.len() as u32;
        for (index, table) in info.defined_tables() {
            let plain = table.element_type == wasmparser::RefType::FUNCREF;
            let size = (table.initial + u64::from(next() % 3))
                .min(table.maximum.unwrap_or(u64::MAX))
                .min(64);
            let slots = (0..size)
                .map(|_| {
                    let pick = next();
                    if !plain || funcs == 0 || pick.is_multiple_of(3) {
                        return None;
                    }
                    resolve(
                        model,
                        instance.dfs,
                        ExternalKind::Func,
                        u32::from(pick) % funcs,
                    )
                    .ok()
                })
                .collect();
            state.tables.push(TableState { index, slots });
        }
        instances.push(state);
    }
    instances
}
