//! The host side of the sink: `put(tag, data)` calls decoded with the plan into a
//! [`Snapshot`]. Each memory arrives as a view of the guest memory itself, in chunks. Nothing
//! of it is copied: the collector notes where its non-zero runs are, and
//! [`Collector::finish`] hands them out as slices of the engine's views of the same chunks,
//! which stay valid while the guest lives.

use super::{keys, scan, GlobalValue, InstanceState, MemoryState, Snapshot, TableState};
use crate::model::{resolve, Model, ModuleInfo, Scope, Source};
use crate::protocol::{
    Plan, Record, TreePlan, SLOT_NON_FUNC, SLOT_NULL, SLOT_UNIDENTIFIED, SLOT_UNKNOWN_TYPE,
    TOO_LARGE,
};
use anyhow::{bail, Context, Result};
use std::borrow::Cow;
use wasm_encoder::ValType;
use wasmparser::ExternalKind;

/// Receives `put(tag, data)` calls from the accessors, one dump at a time.
pub struct Collector {
    /// Per dump of the plan, what each of its records received.
    dumps: Vec<Vec<Received>>,
    current: usize,
    /// `put` calls so far: the next one's number.
    puts: usize,
}

#[derive(Default)]
enum Received {
    #[default]
    Nothing,
    Memory(MemoryRuns),
    Bytes(Vec<u8>),
}

/// A memory as it arrived: its size and where its non-zero runs are.
struct MemoryRuns {
    index: u32,
    size: u64,
    runs: Vec<Run>,
}

/// A non-zero run of a memory, at `at` in the memory.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Run {
    at: u64,
    bytes: RunBytes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum RunBytes {
    /// Bytes `start..end` of what `put` number `put` sent, which the engine's view of that
    /// `put` still shows.
    InPlace {
        put: usize,
        start: usize,
        end: usize,
    },
    /// A copy, made as it arrived: the bytes came through a buffer the next `put` reuses.
    Copied(Vec<u8>),
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
        Collector {
            dumps,
            current: 0,
            puts: 0,
        }
    }

    /// The following `put`s come from dump `index` of the plan.
    pub fn begin(&mut self, index: usize) {
        self.current = index;
    }

    /// One call of the sink, `put(tag, data, lo, hi)` (see [`SINK_IMPORT`]). Memory tags
    /// arrive in order, chunk after chunk. A global of a [`Record::Globals`] comes in `lo`
    /// and `hi` (`values`), after those sent before it, with `data` empty; every other
    /// record comes in `data`. `data` is only read here. Returns whether the call sent
    /// `data`: then [`Collector::finish`] is given it again, as the next view.
    ///
    /// [`SINK_IMPORT`]: crate::protocol::SINK_IMPORT
    pub fn put(
        &mut self,
        plan: &TreePlan,
        tag: u32,
        data: &[u8],
        values: [u64; 2],
    ) -> Result<bool> {
        let put = self.puts;
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
            Record::Memory {
                memory, in_place, ..
            } => {
                if let Received::Nothing = slot {
                    *slot = Received::Memory(MemoryRuns {
                        index: *memory,
                        size: 0,
                        runs: Vec::new(),
                    });
                }
                if let Received::Memory(state) = slot {
                    let keep = |start: usize, end: usize| match in_place {
                        true => RunBytes::InPlace { put, start, end },
                        false => RunBytes::Copied(data[start..end].to_vec()),
                    };
                    push_runs(&mut state.runs, state.size, data, keep);
                    state.size += data.len() as u64;
                }
            }
            Record::Globals { globals, .. } => {
                if !data.is_empty() {
                    bail!("accessor sent globals in a list (instrumentation bug)");
                }
                if let Received::Nothing = slot {
                    *slot = Received::Bytes(Vec::with_capacity(globals.len() * 16));
                }
                if let Received::Bytes(bytes) = slot {
                    for value in values {
                        bytes.extend_from_slice(&value.to_le_bytes());
                    }
                }
                return Ok(false);
            }
            Record::Table { .. } | Record::RefGlobals { .. } => {
                *slot = Received::Bytes(data.to_vec())
            }
            Record::KnownTable { .. } => bail!("bug: the accessor sent a known table"),
        }
        self.puts += 1;
        Ok(true)
    }

    /// Assembles the snapshot, indexed by DFS id; refuses state it cannot represent yet.
    /// `views` holds what each `put` sent, in order, as the engine still sees it: the
    /// memories' runs are slices of it.
    pub fn finish<'g>(
        self,
        model: &Model,
        plan: &TreePlan,
        views: &[&'g [u8]],
    ) -> Result<Snapshot<'g>> {
        if views.len() != self.puts {
            bail!(
                "bug: {} views of the accessor's {} puts",
                views.len(),
                self.puts
            );
        }
        let mut snapshot = Snapshot {
            instances: vec![InstanceState::default(); model.instance_count as usize],
            keys: keys(model),
        };
        for (dump, received) in plan.dumps.iter().zip(self.dumps) {
            let view = model.view(dump.node);
            let states = finish_scope(&view, &plan.scopes[dump.scope], received, views)?;
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
fn forget_adapter_state(info: &ModuleInfo, state: &mut InstanceState<'_>) -> Result<()> {
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
fn finish_scope<'g>(
    model: &Scope,
    plan: &Plan,
    received: Vec<Received>,
    views: &[&'g [u8]],
) -> Result<Vec<InstanceState<'g>>> {
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
                    Received::Memory(m) => MemoryState {
                        index: m.index,
                        size: m.size,
                        runs: (m.runs.into_iter())
                            .map(|r| match r.bytes {
                                RunBytes::InPlace { put, start, end } => {
                                    (r.at, Cow::Borrowed(&views[put][start..end]))
                                }
                                RunBytes::Copied(bytes) => (r.at, Cow::Owned(bytes)),
                            })
                            .collect(),
                    },
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
                let slots = decode_refs(model, codes(&bytes))
                    .with_context(|| format!("{}: table {table}", where_()))?;
                state.tables.push(TableState {
                    index: *table,
                    slots,
                });
            }
            (Record::KnownTable { table, slots, .. }, Received::Nothing) => {
                let slots = decode_refs(model, slots.iter().copied())
                    .with_context(|| format!("{}: table {table}", where_()))?;
                state.tables.push(TableState {
                    index: *table,
                    slots,
                });
            }
            (Record::RefGlobals { globals, .. }, Received::Bytes(bytes)) => {
                let values = decode_refs(model, codes(&bytes))
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

/// The slot codes in what the accessor sent: one little-endian i64 each.
fn codes(bytes: &[u8]) -> impl ExactSizeIterator<Item = i64> + '_ {
    (bytes.chunks_exact(8)).map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
}

/// Decodes slot encodings into canonical function identities (`None` for null). A table
/// holds few functions many times over (a dispatch table, a registry), so each reported
/// identity is resolved once and remembered in a small direct-mapped cache: on a 100 000 slot
/// table of 10 functions that took the snapshot stage from 1.2 to 0.7 ms.
fn decode_refs(
    model: &Scope,
    codes: impl ExactSizeIterator<Item = i64>,
) -> Result<Vec<Option<Source>>> {
    const WAYS: usize = 64;
    // Every way starts out as null's entry, which is right for null.
    let mut memo = [(SLOT_NULL, None); WAYS];
    let mut out = Vec::with_capacity(codes.len());
    for (slot, v) in codes.enumerate() {
        let way = (v as u64 ^ (v as u64 >> 29)) as usize % WAYS;
        if memo[way].0 == v {
            out.push(memo[way].1);
            continue;
        }
        let source = match v {
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
        };
        memo[way] = (v, source);
        out.push(source);
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

/// Appends the non-zero runs of `data` (which starts at `base`) to `runs`, each one's bytes
/// as `keep(start, end)` says.
fn push_runs(runs: &mut Vec<Run>, base: u64, data: &[u8], keep: impl Fn(usize, usize) -> RunBytes) {
    for (start, end) in scan::non_zero_runs(data) {
        runs.push(Run {
            at: base + start as u64,
            bytes: keep(start, end),
        });
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
        let in_place = |start, end| RunBytes::InPlace { put: 7, start, end };
        push_runs(&mut runs, 100, &data, in_place);
        let run = |at, start, end| Run {
            at,
            bytes: in_place(start, end),
        };
        assert_eq!(runs, [run(103, 3, 6), run(140, 40, 41), run(163, 63, 64)]);
        let mut copied = Vec::new();
        push_runs(&mut copied, 0, &data, |s, e| {
            RunBytes::Copied(data[s..e].to_vec())
        });
        let bytes: Vec<RunBytes> = copied.into_iter().map(|r| r.bytes).collect();
        let copy = |b: &[u8]| RunBytes::Copied(b.to_vec());
        assert_eq!(bytes, [copy(&[1, 0, 2]), copy(&[3]), copy(&[4])]);
    }

    /// Every slot must be accounted for: a slot the probe could not identify is an error
    /// naming it, never a silently dropped entry.
    #[test]
    fn unidentified_slots_are_errors() {
        let bytes =
            wat::parse_str(r#"(component (core module $m) (core instance (instantiate $m)))"#)
                .unwrap();
        let model = crate::model::parse(&bytes).unwrap();
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
            let err = decode_refs(model.root(), [SLOT_NULL, sentinel].into_iter()).unwrap_err();
            assert!(format!("{err:#}").contains(message), "{err:#}");
        }
        let err = decode_refs(model.root(), [7 << 32].into_iter()).unwrap_err();
        assert!(format!("{err:#}").contains("unknown instance 7"), "{err:#}");
        assert_eq!(
            decode_refs(model.root(), [SLOT_NULL].into_iter()).unwrap(),
            vec![None]
        );
    }

    /// The cache of resolved identities never answers for another identity that shares
    /// its way: every slot decodes to the function it reported.
    #[test]
    fn repeated_identities_decode_to_their_own_functions() {
        let bytes =
            wat::parse_str(r#"(component (core module $m) (core instance (instantiate $m)))"#)
                .unwrap();
        let model = crate::model::parse(&bytes).unwrap();
        // 300 functions, each reported many times, in an order that makes them collide.
        let indices: Vec<u32> = (0..3000u32).map(|i| i * 7919 % 300).collect();
        let mut encoded: Vec<u8> = Vec::new();
        for (n, &i) in indices.iter().enumerate() {
            let v = if n % 5 == 0 { SLOT_NULL } else { i as i64 };
            encoded.extend(v.to_le_bytes());
        }
        let decoded = decode_refs(model.root(), codes(&encoded)).unwrap();
        for (n, (&i, got)) in indices.iter().zip(&decoded).enumerate() {
            let want = (n % 5 != 0).then_some(Source::Defined { dfs: 0, index: i });
            assert_eq!(*got, want, "slot {n}");
        }
    }

    /// A memory's runs are the engine's views of what the accessor sent, not copies: the
    /// output is written from the guest's memory itself.
    #[test]
    fn memory_runs_borrow_what_the_engine_sees() {
        let bytes = wat::parse_str(
            r#"(component (core module $m (memory 1)) (core instance (instantiate $m)))"#,
        )
        .unwrap();
        let model = crate::model::parse(&bytes).unwrap();
        let (_, plan) = crate::instrument::instrument(&model, None).unwrap();
        let records = &plan.scopes[plan.dumps[0].scope].records;
        assert!(matches!(
            records[..],
            [Record::Memory { in_place: true, .. }]
        ));
        let mut page = vec![0u8; 1 << 16];
        page[100..200].fill(9);
        let mut collector = Collector::new(&plan);
        collector.begin(0);
        collector.put(&plan, 0, &page, [0, 0]).unwrap();
        let err = Collector::new(&plan).finish(&model, &plan, &[&page]);
        assert!(err.is_err(), "a view for a put that never came");
        let snapshot = collector.finish(&model, &plan, &[&page]).unwrap();
        let memory = &snapshot.instances[0].memories[0];
        assert_eq!(memory.size, 1 << 16);
        let [(100, Cow::Borrowed(run))] = &memory.runs[..] else {
            panic!("not one borrowed run: {:?}", memory.runs);
        };
        assert_eq!(run.as_ptr(), page[100..].as_ptr());
        assert_eq!(run.len(), 100);
    }

    #[test]
    fn all_zero_memory_has_no_runs() {
        let mut runs = Vec::new();
        push_runs(&mut runs, 0, &[0u8; 4096], |_, _| unreachable!("no run"));
        assert!(runs.is_empty());
    }
}
