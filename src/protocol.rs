//! The contract between the instrumented component and the host: the names compsnap reserves,
//! the slot codes the accessor sends, and the [`TreePlan`] that says what each `put` carries.
//!
//! `instrument` writes all of this into the component; `engine` finds the exports by these
//! names; `snapshot` decodes the stream with the plan; `rewrite` keeps only the restore
//! exports. Nothing here depends on any other part of the crate.

use wasm_encoder::ValType;

/// Prefix of every core export name compsnap adds while instrumenting.
pub const CORE_PREFIX: &str = "__compsnap";
/// Prefix of the core exports a snapshot keeps for its restore module. Allowed in inputs, so a
/// snapshot can be snapshotted again; never added twice.
pub const RESTORE_PREFIX: &str = "__compsnap_restore_";
/// Prefix of every component import/export name compsnap adds while instrumenting.
pub const COMPONENT_PREFIX: &str = "compsnap-";

/// The component import through which accessors stream state to the host:
/// `func(tag: u32, data: list<u8>, lo: u64, hi: u64)`. A [`Record::Globals`] goes one global
/// per call, its value in `lo` and `hi` (the bits a 16-byte little-endian store of it would
/// write) and `data` empty; every other record goes in `data`, `lo` and `hi` zero. Globals
/// then need no memory to be stored in: an accessor that sends memories in place and
/// numeric globals needs no scratch memory, nor the second lowered sink over it (which took
/// about a fifth of a millisecond to compile, see `instrument::accessor`).
pub const SINK_IMPORT: &str = "compsnap-sink";
/// The component export the host calls after init to stream one node's state; nested nodes'
/// dumps are re-exported as `compsnap-dump-c0`, `compsnap-dump-c0-c1`, … (see [`Dump`]).
pub const DUMP_EXPORT: &str = "compsnap-dump";
/// The component export under which the instrumentation lifts a core init function.
pub const CORE_INIT_EXPORT: &str = "compsnap-init";

/// The export of defined memory `index` of an instrumented module.
pub fn memory_export(index: u32) -> String {
    format!("{CORE_PREFIX}_memory{index}")
}

/// The export of mutable global `index` of an instrumented module.
pub fn global_export(index: u32) -> String {
    format!("{CORE_PREFIX}_global{index}")
}

/// The export of defined table `index` of an instrumented module.
pub fn table_export(index: u32) -> String {
    format!("{CORE_PREFIX}_table{index}")
}

/// An export the output keeps for its restore module: `kind` is `func`, `table` or `global`.
pub fn restore_export(kind: &str, index: u32) -> String {
    format!("{RESTORE_PREFIX}{kind}{index}")
}

/// The probe flag of an instrumented module: while set, probed functions report themselves.
pub const PROBING_EXPORT: &str = "__compsnap_probing";
/// Where a probed function reports its index (`-1` when idle).
pub const PROBE_OUT_EXPORT: &str = "__compsnap_probe_out";
/// The appended memory with one byte per element segment, then per data segment: set when
/// code drops that segment.
pub const DROPS_EXPORT: &str = "__compsnap_drops";

/// Set in a memory record's tag (sent with no data): the 64-bit memory holds more than
/// 4 GiB after the init, which compsnap does not snapshot.
pub const TOO_LARGE: u32 = 1 << 31;

/// Slot code: the slot is null.
pub const SLOT_NULL: i64 = -1;
/// Slot code: the function's type is none of the probe's candidates (a probe bug).
pub const SLOT_UNKNOWN_TYPE: i64 = -2;
/// Slot code: the function was called but did not report itself.
pub const SLOT_UNIDENTIFIED: i64 = -3;
/// Slot code: a non-null reference that is not a function.
pub const SLOT_NON_FUNC: i64 = -4;

/// The code of a table slot or reference global: null, or function `func` of instance
/// `dfs` (local id), as the probe reports it.
pub fn slot_code(slot: Option<(u32, u32)>) -> i64 {
    match slot {
        None => SLOT_NULL,
        Some((dfs, func)) => (((dfs as u64) << 32) | func as u64) as i64,
    }
}

/// How deep a probe argument or result nests structs, built in Wasm by the accessor and the
/// prologues or by a core module's host: a struct type that needs itself, directly or through
/// others, has no value to build.
pub const PROBE_MAX_STRUCT_DEPTH: u32 = 16;
/// How many values (nested ones included) a probe may try to build for one argument or
/// result: struct types with many fields that need structs again would otherwise take time
/// (and code) exponential in [`PROBE_MAX_STRUCT_DEPTH`].
pub const PROBE_MAX_VALUES: u32 = 4096;

/// What one scope's accessor sends, in order; the host decodes `put(tag, data)` with
/// `records[tag]`. Instances are named by their local id in the scope.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// One record per tag.
    pub records: Vec<Record>,
    /// The accessor identifies functions with `ref.test` and `call_ref` (typed function
    /// references, which Winch does not compile), not with `call_indirect`.
    pub typed_probes: bool,
}

impl Plan {
    /// Whether some record (table slots, reference globals) is identified by probing.
    pub fn probes(&self) -> bool {
        self.records.iter().any(Record::is_probed)
    }
}

/// What one tag of a scope's dump carries.
#[derive(Debug, Clone)]
pub enum Record {
    /// The whole byte contents of one memory, in chunks of at most 64 MiB. `drops` marks the
    /// appended drop-tracking memory (see [`DROPS_EXPORT`]).
    Memory {
        /// Local id of the instance.
        dfs: u32,
        /// Absolute memory index in its module.
        memory: u32,
        /// The drop-tracking memory rather than a memory of the module.
        drops: bool,
        /// The host reads the chunks in the memory itself, so they stay readable after the
        /// dump. Otherwise (a 64-bit memory in a component: the canonical ABI lifts lists
        /// from 32-bit memories only) each chunk is copied through the accessor's scratch
        /// memory, which the next chunk overwrites.
        in_place: bool,
    },
    /// Mutable numeric globals, one per sink call, in its `lo` and `hi` (see
    /// [`SINK_IMPORT`]); decoded as 16 bytes each, little-endian.
    Globals {
        /// Local id of the instance.
        dfs: u32,
        /// Absolute global index and type, in the order they are sent.
        globals: Vec<(u32, ValType)>,
    },
    /// One u64 per slot of a defined table: a `SLOT_*` code, or `(dfs << 32) | func index`.
    Table {
        /// Local id of the instance.
        dfs: u32,
        /// Absolute table index.
        table: u32,
    },
    /// A defined table no code writes, whose slots instrumentation worked out from the
    /// element segments instantiation applies (`model::unwritten_table`). Nothing is sent
    /// for it: the slots are here, encoded as a probe reports them.
    KnownTable {
        /// Local id of the instance.
        dfs: u32,
        /// Absolute table index.
        table: u32,
        /// One code per slot, as [`Record::Table`] sends them.
        slots: Vec<i64>,
    },
    /// One u64 per mutable reference-typed global, encoded like table slots.
    RefGlobals {
        /// Local id of the instance.
        dfs: u32,
        /// Absolute global indices, in the order they are sent.
        globals: Vec<u32>,
    },
}

impl Record {
    /// A record of references (table slots, reference globals), which are identified by
    /// probing their functions.
    pub fn is_probed(&self) -> bool {
        matches!(self, Record::Table { .. } | Record::RefGlobals { .. })
    }

    /// Local id of the instance the record reads.
    pub fn instance(&self) -> u32 {
        match self {
            Record::Memory { dfs, .. }
            | Record::Globals { dfs, .. }
            | Record::Table { dfs, .. }
            | Record::KnownTable { dfs, .. }
            | Record::RefGlobals { dfs, .. } => *dfs,
        }
    }

    /// The same record for instance `dfs` of the same module (a [`Record::KnownTable`]'s
    /// slots name instances, so it is made for each instance, never copied).
    pub fn for_instance(&self, dfs: u32) -> Record {
        let mut record = self.clone();
        match &mut record {
            Record::Memory { dfs: d, .. }
            | Record::Globals { dfs: d, .. }
            | Record::Table { dfs: d, .. }
            | Record::KnownTable { dfs: d, .. }
            | Record::RefGlobals { dfs: d, .. } => *d = dfs,
        }
        record
    }
}

/// What the host reads from the instrumented component: a [`Plan`] per scope definition, and
/// the exports that dump each node.
#[derive(Debug, Clone, Default)]
pub struct TreePlan {
    /// By scope id; empty for scopes with no core instances.
    pub scopes: Vec<Plan>,
    /// Every node with core instances, in pre-order: its dump export.
    pub dumps: Vec<Dump>,
}

impl TreePlan {
    /// Whether some accessor identifies functions with `ref.test` and `call_ref`, which need
    /// typed function references.
    pub fn typed_probes(&self) -> bool {
        self.scopes.iter().any(|p| p.typed_probes)
    }
}

/// The dump export of one node of the instantiation tree.
#[derive(Debug, Clone)]
pub struct Dump {
    /// The node, by its index in the model's pre-order.
    pub node: usize,
    /// The node's scope, whose [`Plan`] decodes the dump.
    pub scope: usize,
    /// The root's export that dumps the node.
    pub export: String,
}

/// The accessor's export that dumps a core module's state (core mode has one node).
pub const CORE_DUMP_EXPORT: &str = "dump";
/// The module name of every import of a core-mode accessor.
pub const CORE_ACCESSOR_MODULE: &str = "a";

/// A core module instrumented: the module to run, and the accessor module the host
/// instantiates next to it, with what each of the accessor's imports is bound to.
#[derive(Debug, Clone)]
pub struct CoreInstrumented {
    /// The instrumented module.
    pub module: Vec<u8>,
    /// The accessor module; its function export [`CORE_DUMP_EXPORT`] streams the state.
    pub accessor: Vec<u8>,
    /// Per accessor import, in order: its name (in module [`CORE_ACCESSOR_MODULE`]) and what
    /// the host binds it to.
    pub bindings: Vec<(String, CoreBinding)>,
    /// How to decode the stream: one scope, one dump.
    pub plan: TreePlan,
}

impl CoreInstrumented {
    /// Bytes of the instrumented module and its accessor: what is compiled.
    pub fn size(&self) -> usize {
        self.module.len() + self.accessor.len()
    }
}

/// What the host binds one import of a core-mode accessor to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoreBinding {
    /// A fresh memory of this many pages, the accessor's scratch space.
    Scratch {
        /// Its minimum size.
        pages: u64,
    },
    /// The sink `put(tag, offset, len, lo, hi)` (see [`SINK_IMPORT`]), reading from the
    /// scratch memory (`None`) or from the module's memory exported as this name.
    Put {
        /// The export of the memory the bytes are in; `None` for the scratch memory.
        memory: Option<String>,
    },
    /// The module's export of this name.
    Export(String),
}
