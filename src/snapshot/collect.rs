//! The host side of the sink: `put(tag, data)` calls decoded with the plan into a
//! [`Snapshot`]. Each memory arrives as a view of the guest memory itself; only its non-zero
//! runs are copied out, so a mostly empty heap costs little.

use super::{keys, GlobalValue, InstanceState, MemoryState, Snapshot, TableState};
use crate::model::{resolve, Model, ModuleInfo, Scope, Source};
use crate::protocol::{
    Plan, Record, TreePlan, SLOT_NON_FUNC, SLOT_NULL, SLOT_UNIDENTIFIED, SLOT_UNKNOWN_TYPE,
    TOO_LARGE,
};
use anyhow::{bail, Context, Result};
use wasm_encoder::ValType;
use wasmparser::ExternalKind;

/// Zero runs shorter than this stay inside a non-zero run. Splitting costs a segment header
/// (about 8 bytes) in the output, so shorter gaps are never worth a split.
pub const MIN_SPLIT_GAP: usize = 8;

/// Receives `put(tag, data)` calls from the accessors, one dump at a time.
pub struct Collector {
    /// Per dump of the plan, what each of its records received.
    dumps: Vec<Vec<Received>>,
    current: usize,
}

#[derive(Default)]
enum Received {
    #[default]
    Nothing,
    Memory(MemoryState),
    Bytes(Vec<u8>),
}

impl Collector {
    pub fn new(plan: &TreePlan) -> Self {
        let dumps = plan
            .dumps
            .iter()
            .map(|d| {
                let records = &plan.scopes[d.scope].records;
                records.iter().map(|_| Received::Nothing).collect()
            })
            .collect();
        Collector { dumps, current: 0 }
    }

    /// The following `put`s come from dump `index` of the plan.
    pub fn begin(&mut self, index: usize) {
        self.current = index;
    }

    /// One `put` from the accessor. Memory tags arrive in order, chunk after chunk.
    pub fn put(&mut self, plan: &TreePlan, tag: u32, data: &[u8]) -> Result<()> {
        let (Some(dump), Some(received)) = (
            plan.dumps.get(self.current),
            self.dumps.get_mut(self.current),
        ) else {
            bail!("accessor sent data outside a dump (instrumentation bug)");
        };
        if tag & TOO_LARGE != 0 {
            if let Some(Record::Memory { dfs, memory, .. }) = plan.scopes[dump.scope]
                .records
                .get((tag & !TOO_LARGE) as usize)
            {
                bail!(
                    "memory {memory} of core instance {dfs} (local id in its component) holds \
                     more than 4 GiB after the init; compsnap snapshots memories of up to 4 GiB"
                );
            }
        }
        let (Some(record), Some(slot)) = (
            plan.scopes[dump.scope].records.get(tag as usize),
            received.get_mut(tag as usize),
        ) else {
            bail!("accessor sent unknown tag {tag} (instrumentation bug)");
        };
        match record {
            Record::Memory { memory, .. } => {
                if let Received::Nothing = slot {
                    *slot = Received::Memory(MemoryState {
                        index: *memory,
                        ..MemoryState::default()
                    });
                }
                if let Received::Memory(state) = slot {
                    let base = state.size;
                    push_runs(&mut state.runs, base, data);
                    state.size += data.len() as u64;
                }
            }
            Record::Globals { .. } | Record::Table { .. } | Record::RefGlobals { .. } => {
                *slot = Received::Bytes(data.to_vec())
            }
        }
        Ok(())
    }

    /// Assembles the snapshot, indexed by DFS id; refuses state it cannot represent yet.
    pub fn finish(self, model: &Model, plan: &TreePlan) -> Result<Snapshot> {
        let mut snapshot = Snapshot {
            instances: vec![InstanceState::default(); model.instance_count as usize],
            keys: keys(model),
        };
        for (dump, received) in plan.dumps.iter().zip(self.dumps) {
            let view = model.view(dump.node);
            let states = finish_scope(&view, &plan.scopes[dump.scope], received)?;
            for (state, dfs) in states.into_iter().zip(&model.nodes[dump.node].dfs) {
                snapshot.instances[*dfs as usize] = state;
            }
        }
        Ok(snapshot)
    }
}

/// The preview1 adapter keeps its state (open descriptors: the stdin, stdout and preopen
/// handles it fetched) in a block it allocates on first use and reaches through
/// `internal_state_ptr`. Handles are not core state: a snapshot that kept them would hand the
/// next instance dangling handle indices ("unknown handle index"). So the snapshot keeps the
/// adapter's stack but forgets the block, as if no call had reached the adapter yet: it
/// allocates a fresh one on first use. The old block stays in memory, unreachable.
fn forget_adapter_state(info: &ModuleInfo, state: &mut InstanceState) -> Result<()> {
    // The adapter's `AllocationState`: StackAllocated = 2, StateAllocating = 3,
    // StateAllocated = 4.
    const STACK_ALLOCATED: i32 = 2;
    let (Some(ptr), Some(alloc)) = (
        info.global_index("internal_state_ptr"),
        info.global_index("allocation_state"),
    ) else {
        bail!(
            "this WASI preview1 adapter has no `internal_state_ptr` and `allocation_state` \
             globals, so compsnap cannot drop the WASI handles its state holds"
        );
    };
    for (index, value) in &mut state.globals {
        match value {
            GlobalValue::I32(v) if *index == ptr => *v = 0,
            GlobalValue::I32(v) if *index == alloc && *v > STACK_ALLOCATED => *v = STACK_ALLOCATED,
            _ => {}
        }
    }
    Ok(())
}

/// One node's states, by local id.
fn finish_scope(model: &Scope, plan: &Plan, received: Vec<Received>) -> Result<Vec<InstanceState>> {
    let mut snapshot = Snapshot {
        instances: vec![InstanceState::default(); model.instances.len()],
        keys: Vec::new(),
    };
    for (record, received) in plan.records.iter().zip(received) {
        let dfs = record.instance();
        let where_ = || model.instances[dfs as usize].describe(model);
        let state = &mut snapshot.instances[dfs as usize];
        match (record, received) {
            (Record::Memory { memory, drops, .. }, received) => {
                let memory = match received {
                    Received::Memory(state) => state,
                    // A zero-page memory is never sent.
                    _ => MemoryState {
                        index: *memory,
                        ..MemoryState::default()
                    },
                };
                if *drops {
                    let elems = model.module_of(dfs).elem_count;
                    for (offset, bytes) in &memory.runs {
                        for (i, b) in bytes.iter().enumerate() {
                            let n = (*offset + i as u64) as u32;
                            match (*b != 0, n < elems) {
                                (true, true) => state.dropped_elems.push(n),
                                (true, false) => state.dropped_data.push(n - elems),
                                _ => {}
                            }
                        }
                    }
                } else {
                    state.memories.push(memory);
                }
            }
            (Record::Globals { globals, .. }, Received::Bytes(bytes)) => {
                state.globals = decode_globals(globals, &bytes)?;
            }
            (Record::Table { table, .. }, Received::Bytes(bytes)) => {
                let slots = decode_refs(model, &bytes)
                    .with_context(|| format!("{}: table {table}", where_()))?;
                state.tables.push(TableState {
                    index: *table,
                    slots,
                });
            }
            (Record::RefGlobals { globals, .. }, Received::Bytes(bytes)) => {
                let values = decode_refs(model, &bytes)
                    .with_context(|| format!("{}: reference globals", where_()))?;
                state.ref_globals = globals.iter().copied().zip(values).collect();
            }
            (_, _) => bail!(
                "accessor sent nothing for {} (instrumentation bug)",
                where_()
            ),
        }
    }
    for (instance, state) in model.instances.iter().zip(&mut snapshot.instances) {
        let info = &model.modules[instance.module];
        if info.is_preview1_adapter() {
            forget_adapter_state(info, state).with_context(|| instance.describe(model))?;
        }
        state.dropped_elems.extend(&info.inert_elems);
        state.dropped_elems.retain(|i| info.named_elems.contains(i));
        state.dropped_elems.sort_unstable();
        state.dropped_elems.dedup();
        state.dropped_data.extend(&info.inert_data);
        state.dropped_data.retain(|i| info.named_data.contains(i));
        state.dropped_data.sort_unstable();
        state.dropped_data.dedup();
    }
    Ok(snapshot.instances)
}

/// Decodes slot encodings into canonical function identities (`None` for null).
fn decode_refs(model: &Scope, bytes: &[u8]) -> Result<Vec<Option<Source>>> {
    let mut out = Vec::with_capacity(bytes.len() / 8);
    for (slot, chunk) in bytes.chunks_exact(8).enumerate() {
        let mut b8 = [0u8; 8];
        b8.copy_from_slice(chunk);
        let v = i64::from_le_bytes(b8);
        out.push(match v {
            SLOT_NULL => None,
            SLOT_UNKNOWN_TYPE => {
                bail!("slot {slot} holds a function of a type no instance declares (probe bug)")
            }
            SLOT_UNIDENTIFIED => {
                bail!("slot {slot} holds a function that did not identify itself when probed")
            }
            SLOT_NON_FUNC => bail!(
                "slot {slot} holds a non-null non-function reference; only null externref and \
                 anyref values can be snapshotted"
            ),
            v => {
                let (owner, index) = ((v as u64 >> 32) as u32, v as u32);
                if owner as usize >= model.instances.len() {
                    bail!("slot {slot}: probe reported unknown instance {owner}");
                }
                Some(resolve(model, owner, ExternalKind::Func, index)?)
            }
        });
    }
    Ok(out)
}

fn decode_globals(globals: &[(u32, ValType)], bytes: &[u8]) -> Result<Vec<(u32, GlobalValue)>> {
    if bytes.len() != globals.len() * 16 {
        bail!(
            "accessor sent {} bytes of globals, expected {}",
            bytes.len(),
            globals.len() * 16
        );
    }
    let mut out = Vec::with_capacity(globals.len());
    for ((index, ty), slot) in globals.iter().zip(bytes.chunks_exact(16)) {
        let mut b16 = [0u8; 16];
        b16.copy_from_slice(slot);
        let v = u128::from_le_bytes(b16);
        let value = match ty {
            ValType::I32 => GlobalValue::I32(v as u32 as i32),
            ValType::I64 => GlobalValue::I64(v as u64 as i64),
            ValType::F32 => GlobalValue::F32(v as u32),
            ValType::F64 => GlobalValue::F64(v as u64),
            ValType::V128 => GlobalValue::V128(v),
            ValType::Ref(_) => bail!("global {index}: reference globals are not read"),
        };
        out.push((*index, value));
    }
    Ok(out)
}

/// Appends the non-zero runs of `data` (which starts at `base`) to `runs`.
fn push_runs(runs: &mut Vec<(u64, Vec<u8>)>, base: u64, data: &[u8]) {
    let mut i = 0;
    let n = data.len();
    while i < n {
        // Skip zeros a word at a time.
        while i + 8 <= n && data[i..i + 8] == [0; 8] {
            i += 8;
        }
        while i < n && data[i] == 0 {
            i += 1;
        }
        if i >= n {
            break;
        }
        let start = i;
        let mut end = i;
        let mut zeros = 0;
        while i < n {
            if data[i] == 0 {
                zeros += 1;
                if zeros >= MIN_SPLIT_GAP {
                    break;
                }
            } else {
                zeros = 0;
                end = i + 1;
            }
            i += 1;
        }
        runs.push((base + start as u64, data[start..end].to_vec()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_split_at_long_zero_gaps_only() {
        let mut data = vec![0u8; 64];
        data[3] = 1;
        data[5] = 2; // gap of 1 stays inside the run
        data[40] = 3; // gap of 34 splits
        data[63] = 4;
        let mut runs = Vec::new();
        push_runs(&mut runs, 100, &data);
        assert_eq!(
            runs,
            vec![(103, vec![1, 0, 2]), (140, vec![3]), (163, vec![4])]
        );
    }

    /// Every slot must be accounted for: a slot the probe could not identify is an error
    /// naming it, never a silently dropped entry.
    #[test]
    fn unidentified_slots_are_errors() {
        let bytes =
            wat::parse_str(r#"(component (core module $m) (core instance (instantiate $m)))"#)
                .unwrap();
        let model = crate::model::parse(&bytes).unwrap();
        let slots =
            |values: &[i64]| -> Vec<u8> { values.iter().flat_map(|v| v.to_le_bytes()).collect() };
        for (sentinel, message) in [
            (SLOT_UNKNOWN_TYPE, "slot 1 holds a function of a type"),
            (
                SLOT_UNIDENTIFIED,
                "slot 1 holds a function that did not identify itself",
            ),
            (
                SLOT_NON_FUNC,
                "slot 1 holds a non-null non-function reference",
            ),
        ] {
            let err = decode_refs(model.root(), &slots(&[SLOT_NULL, sentinel])).unwrap_err();
            assert!(format!("{err:#}").contains(message), "{err:#}");
        }
        let err = decode_refs(model.root(), &slots(&[7 << 32])).unwrap_err();
        assert!(format!("{err:#}").contains("unknown instance 7"), "{err:#}");
        assert_eq!(
            decode_refs(model.root(), &slots(&[SLOT_NULL])).unwrap(),
            vec![None]
        );
    }

    #[test]
    fn all_zero_memory_has_no_runs() {
        let mut runs = Vec::new();
        push_runs(&mut runs, 0, &[0u8; 4096]);
        assert!(runs.is_empty());
    }
}
