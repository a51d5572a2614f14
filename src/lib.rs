//! compsnap pre-initializes WebAssembly components and core modules: it runs the init
//! function once, at build time, inside Wasmtime, and writes a new component (or module)
//! whose memories, globals **and funcref tables** already hold the result, so later
//! instantiations skip that work.
//!
//! ```no_run
//! let input = std::fs::read("app.wasm")?;
//! let output = compsnap::Snapshotter::new().init_func("init").snapshot(&input)?;
//! std::fs::write("app.snap.wasm", output)?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! # The pipeline
//!
//! [`Snapshotter`] (`snapshotter/`) runs the stages in order, one folder or file each:
//!
//! ```text
//! bytes ─► model ─► instrument ─► engine (Wasmtime) ─► snapshot ─► rewrite ─► output
//! ```
//!
//! - `model/`: validates the input and builds its scopes (component bodies with their index
//!   spaces), its instantiation tree with a DFS id per core instance, and what each module
//!   holds. `model/walk.rs` is the only reader that builds index spaces from component
//!   bodies; `model/unwritten_tables.rs` works out the slots of tables no code writes, which
//!   are then not probed.
//! - `instrument/`: adds state exports, probe prologues, shims and drop tracking to every
//!   instantiated module (`module.rs`), and an accessor per scope (`accessor.rs`; `probe.rs`
//!   and `identify.rs` for table slots) that streams state to the host.
//! - `engine/`: compiles (with a cache; with Winch where it can), instantiates, calls the
//!   init, receives the stream (probing a core module's tables itself, `host_probe.rs`), and
//!   runs the stages below while the guest lives.
//! - `snapshot/`: decodes the stream into plain data whose memory runs are the guest's bytes.
//! - `rewrite/`: writes the state into the original bytes: data segments (`layout.rs`), table
//!   writers (`tables.rs`), the restore module (`restore.rs`). The result is a rope
//!   (`encode/rope.rs`) that borrows the guest's memory.
//! - `output.rs`: the rope written to a staged file, validated once the run lets go of the
//!   guest, then renamed over the output; `validate.rs` validates inputs
//!   and outputs; `parallel.rs` spreads function bodies over every core for both validation
//!   and instrumentation, and the copy that joins a large rope into one buffer.
//!
//! `protocol.rs` is the contract between the instrumented component and the host (reserved
//! names, slot codes, the plan); `encode/` is the only code that writes Wasm bytes (module
//! edits, the one-pass tree re-encoder, builders that hand out indices). `tools/` holds
//! `verify`, `inspect` and the pipeline capture format.
//!
//! # Two front doors, one pipeline
//!
//! A core module is not a second pipeline: the model reads it as a tree with one scope and
//! one instance whose function imports the host provides (`model::InputKind::Module`). The
//! stages are the same: the module is instrumented by the same code as a component's
//! modules, its state is streamed by the same accessor and decoded by the same collector, and
//! `rewrite` writes its instance's module as it writes a component's. Only the edges differ:
//! the engine links the accessor next to the module on Wasmtime's core API with WASI preview
//! 1 (`engine/run_module.rs`) instead of running a component around both, and the output is
//! the rewritten module itself. A mirrored copy of every stage for modules (as
//! wasmtime-wizer's `component/` tree is for components) would make every fix twice.
//! `tools/wizer.rs` reads Wizer's command lines into a `Snapshotter`.
//!
//! # Layers
//!
//! Dependencies point one way (`../shared/tools/modcycles.py src` finds no circle):
//! `protocol` and `parallel` use nothing of the crate, `validate` only `parallel`, `output`
//! only `validate`; `model` uses `protocol` and `validate`; `encode` uses `model` and
//! `parallel`; `instrument` uses `encode`; `snapshot` uses `model`; `rewrite` uses `encode` and
//! `snapshot`; `engine` uses `model` and `snapshot`, never `instrument` or `rewrite`;
//! `snapshotter` runs them all; `tools` use `model` and the `Snapshotter`. Only `engine` uses
//! Wasmtime (it re-exports the `Store` and `Linker` that `Snapshotter::snapshot_with` takes).
//! Without the default `engine` feature the pure stages build alone, which is what the fuzz
//! targets use; the non-default `internals` feature opens them to compsnap's own tests.

#![deny(missing_docs)]
// Without the engine, nothing reaches what only it drives (the collector, the core-module
// accessor, the plan's dump list); the stages still build, with `internals` for the fuzz
// targets, which CI checks (`--no-default-features --features internals`).
#![cfg_attr(not(feature = "engine"), allow(dead_code, unused_imports))]

mod encode;
#[cfg(feature = "engine")]
mod engine;
mod instrument;
#[cfg(feature = "internals")]
pub mod internals;
mod model;
mod output;
mod parallel;
mod protocol;
mod rewrite;
pub mod snapshot;
#[cfg(feature = "engine")]
mod snapshotter;
mod tools;
mod validate;

#[cfg(feature = "engine")]
pub use engine::call::call;
#[cfg(feature = "engine")]
pub use engine::call::call_core;
#[cfg(feature = "engine")]
pub use engine::compile::{clear as clear_cache, DEFAULT_CACHE_MAX};
#[cfg(feature = "engine")]
pub use engine::host::stub_unprovided_wasi;
#[cfg(feature = "engine")]
pub use engine::{World, DEFAULT_WALL, MAX_WASM_STACK, SERIAL_COMPILE_MAX};
pub use output::{validate, write_atomically};
pub use rewrite::{Sharing, TableReport};
#[cfg(feature = "engine")]
pub use snapshotter::{Snapshotter, Stats};
pub use tools::capture;
pub use tools::inspect::inspect;
#[cfg(feature = "engine")]
pub use tools::{verify, wizer};

use anyhow::{Context, Result};

/// The init export wasmtime-wizer calls by default; compsnap keeps the convention.
pub const DEFAULT_INIT_FUNC: &str = "wizer-initialize";

/// Accepts a binary component or its WAT text.
pub fn read_input(input: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>> {
    if input.starts_with(b"\0asm") {
        return Ok(input.into());
    }
    if std::str::from_utf8(input).is_err() {
        anyhow::bail!("input is neither a WebAssembly binary (no \\0asm header) nor WAT text");
    }
    wat::parse_bytes(input).context("input is not a WebAssembly binary and not valid WAT")
}
