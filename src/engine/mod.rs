//! The engine layer: the only code that uses Wasmtime.
//!
//! - [`compile`]: the engine configuration's compile, and the on-disk cache of compiled
//!   instrumented components;
//! - [`host`]: compsnap's own host (WASI when allowed, traps for every other import, the
//!   memory limit, deterministic clocks and randomness for `verify`);
//! - [`run`]: instantiate, call the init, stream every node's state to the sink, and hand
//!   it on while the guest lives ([`Dumped`]);
//! - [`run_module`]: the same for a core module input, on Wasmtime's core API with WASI preview 1;
//! - [`call`]: find an export and make a WAVE call; [`call_file`]: `compsnap call`;
//! - [`progress`]: the progress line on a terminal.
//!
//! Failures are turned into messages a user can act on: which import a denied init called,
//! that the timeout fired, or the trap's Wasm backtrace.

pub mod call;
pub mod call_file;
pub mod compile;
mod fs_view;
pub mod host;
mod host_probe;
pub mod progress;
pub mod run;
pub mod run_module;

/// The embedder's types `Snapshotter::snapshot_with` takes.
pub use wasmtime::{component::Linker, Store};

use anyhow::{anyhow, Result};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use wasmtime::{Config, Engine};

/// How the init function runs.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub allow_wasi: bool,
    /// Preopened directories: host path, guest path.
    pub dirs: Vec<(PathBuf, String)>,
    pub env: Vec<(String, String)>,
    pub inherit_env: bool,
    pub inherit_stdio: bool,
    /// Bytes the init reads from stdin (instead of an empty stdin).
    pub stdin: Option<Vec<u8>>,
    pub timeout: Option<Duration>,
    /// Upper bound for each linear memory, in bytes.
    pub max_memory: Option<usize>,
    /// Wasmtime's parallel compilation; `None` keeps its default (on).
    pub parallel_compilation: Option<bool>,
    /// Where compiled instrumented components and modules are cached (see `compile`);
    /// `None` disables it.
    pub cache: Option<compile::Cache>,
    /// Compile as cheaply as possible (Winch where it can, else Cranelift without its
    /// optimizations, and no address map): the init code runs once, so a cheaper compile
    /// can win end to end.
    pub fast_compile: bool,
    /// What the init sees of time and randomness.
    pub world: World,
    /// Modules instantiated before a core module input, which may import from them by name
    /// (Wizer's `--preload name=file`); their state is not snapshotted.
    pub preloads: Vec<(String, Vec<u8>)>,
    /// The progress line, when one is shown.
    pub progress: Option<Arc<progress::Progress>>,
}

impl RunOptions {
    pub(crate) fn progress(&self, stage: impl FnOnce() -> String) {
        if let Some(p) = &self.progress {
            p.stage(stage());
        }
    }
}

/// What an init sees of time and randomness through WASI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum World {
    /// Randomness (secure and insecure) from `seed`, a wall clock standing at `wall` seconds
    /// since the Unix epoch, a monotonic clock that advances 1 µs per reading: the same in
    /// every run, so the same input gives the same snapshot. Preopened directories are
    /// read-only: the init cannot change the host's files.
    Deterministic {
        /// Where the random bytes come from.
        seed: [u8; 32],
        /// The wall clock's time, in seconds since the Unix epoch.
        wall: u64,
    },
    /// The host's clocks and randomness, and writable preopens, as Wizer gives them.
    Host,
}

/// The wall clock of the default world when `SOURCE_DATE_EPOCH` is not set:
/// 2024-01-01T00:00:00Z.
pub const DEFAULT_WALL: u64 = 1_704_067_200;

impl World {
    /// The wall clock's time the init sees, in seconds since the Unix epoch (`0` in the
    /// host world, where nothing is normalized).
    pub(crate) fn wall(&self) -> u64 {
        match self {
            World::Deterministic { wall, .. } => *wall,
            World::Host => 0,
        }
    }
}

impl Default for World {
    /// The reproducible world: randomness from the SHA-256 of `compsnap deterministic init`,
    /// the wall clock at `SOURCE_DATE_EPOCH` (the reproducible-builds convention) when it is
    /// set, else at [`DEFAULT_WALL`].
    fn default() -> Self {
        use sha2::{Digest, Sha256};
        let wall = std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(DEFAULT_WALL);
        World::Deterministic {
            seed: Sha256::digest(b"compsnap deterministic init").into(),
            wall,
        }
    }
}

/// Where the time of a run went.
#[derive(Debug, Clone, Default)]
pub struct RunTimings {
    pub compile: Duration,
    /// The compiled component came from the cache.
    pub cached: bool,
    pub instantiate: Duration,
    pub init: Duration,
    /// Streaming all state out, including every table probe.
    pub dump: Duration,
    /// Which compiler compiled the init's code, and why not a faster one.
    pub compiler: String,
}

/// A run's result once every node's state is dumped, handed on while the guest still lives:
/// the collector, what each of its `put`s sent as the engine sees it now (the snapshot's
/// memory runs are slices of these), and where the time went.
pub struct Dumped<'g> {
    pub collector: crate::snapshot::Collector,
    pub views: Vec<&'g [u8]>,
    pub timings: RunTimings,
    /// The compile cache entry being written meanwhile; dropping it waits for it.
    pub storing: compile::Storing,
}

/// The Wasm stack an init may use: 16× Wasmtime's default of 512 KiB, because the code
/// compsnap runs is compiled cheaply, with bigger frames: componentize-py's init needs more
/// than 768 KiB under Cranelift's single-pass register allocator (less than 512 KiB
/// optimized), `tests/stack.rs`'s recursion, 512 KiB deep optimized, between 1 and 2 MiB
/// under Winch.
pub const MAX_WASM_STACK: usize = 8 << 20;

/// The native stack of each thread guest code runs on: the Wasm stack, and as much again for
/// the host functions it calls.
const GUEST_THREAD_STACK: usize = 2 * MAX_WASM_STACK;

/// The threads guest code runs on, one per core, made on first use and kept for the
/// process: starting a thread for each run and ending it again cost a small snapshot
/// 0.04–0.09 ms of its 1.5–1.9 ms (the lookup example). Their stacks are reserved, not
/// committed, until an init recurses that deep; what one touched stays committed. As many
/// guest runs go at once as there are threads; more callers wait for one.
fn guest_threads() -> Result<&'static rayon::ThreadPool> {
    static THREADS: OnceLock<std::result::Result<rayon::ThreadPool, String>> = OnceLock::new();
    THREADS
        .get_or_init(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(std::thread::available_parallelism().map_or(1, |n| n.get()))
                .stack_size(GUEST_THREAD_STACK)
                .thread_name(|_| "compsnap-guest".into())
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| anyhow!("starting the threads the guest runs on: {e}"))
}

/// Runs `f`, which runs guest code, on one of compsnap's guest threads, whose native stack
/// holds [`MAX_WASM_STACK`] of Wasm whatever the stack of the caller's thread (a Rust thread
/// has 2 MiB by default). The caller waits; a panic in `f` goes on in the caller. Wasmtime's
/// parallel compile inside `f` runs on the same threads, one per core as on its own.
pub fn on_guest_stack<R: Send>(f: impl FnOnce() -> Result<R> + Send) -> Result<R> {
    guest_threads()?.install(f)
}

/// The most memory a finished guest may have to be dropped after the caller goes on.
const DROP_LATER_MAX: usize = 16 << 20;

/// Drops a finished guest (its store, with the compiled code it ran): on a guest thread
/// while the caller goes on when its memories hold at most [`DROP_LATER_MAX`] bytes
/// (`memory`), else now. Unmapping a small guest's memories and code took 0.1–0.13 ms of
/// the lookup example's 1.7–1.9 ms snapshot. A large guest goes before the caller returns:
/// dropped later, a 1 GiB guest still being unmapped while the caller's next snapshot ran
/// took the benchmark's 1 GiB snapshot from 0.96 to 2.38 s (and off Unix, the output is
/// read back into memory to be validated, which the guest would share).
pub(crate) fn drop_guest<G: Send + 'static>(guest: G, memory: usize) {
    match (memory <= DROP_LATER_MAX).then(guest_threads) {
        // Dropping should not panic; if it does, the panic must not end the process, which
        // is what a panic in a job a thread pool runs on its own does.
        Some(Ok(threads)) => threads.spawn(move || {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(guest)));
        }),
        _ => drop(guest),
    }
}

/// The engine compsnap uses for its own runs.
pub fn engine(opts: &RunOptions) -> Result<Engine> {
    Engine::new(&config(opts)).map_err(|e| anyhow!("creating the Wasmtime engine: {e}"))
}

/// The compilers to try, in order, each with its name. Each engine is made only when its turn
/// comes: a snapshot Winch compiles never makes the Cranelift engine (0.015–0.017 ms of the
/// lookup example's 1.1 ms).
pub struct Engines(Vec<(&'static str, Config)>);

/// The engines a core module input is compiled with, in the order to try them. Compiling
/// fast, Winch comes first: it compiles 3–4× faster than Cranelift without optimizations
/// (StarlingMonkey's engine: 1.4 s instead of 5.3 s), and an init runs once
/// (StarlingMonkey's: 23 instead of 17 ms). Cranelift, last, compiles what Winch does not
/// support (GC, typed function references, tail calls, exceptions, relaxed SIMD) or what
/// runs where Winch does not.
pub fn core_engines(opts: &RunOptions, size: usize) -> Engines {
    engines(opts, true, false, size)
}

/// The engines an instrumented component is compiled with, as [`core_engines`]: Winch first
/// when compiling fast and no accessor probes with `ref.test` and `call_ref`
/// (`typed_probes`: typed function references, which Winch does not compile; an accessor
/// whose candidates share one plain type probes with `call_indirect`); Cranelift compiles
/// the rest, and Wasmtime's component trampolines under both. Winch took the lookup
/// example's instrumented component from 1.29–1.44 to 1.07–1.19 ms (alternating, 400
/// rounds, three runs). The components the real pipelines build have tables no code writes,
/// which are not probed: they compile with Winch (componentize-py's in 1.2 s, where Cranelift
/// took 2.9–4.1 s).
pub fn component_engines(opts: &RunOptions, typed_probes: bool, size: usize) -> Engines {
    engines(opts, !typed_probes, true, size)
}

/// What is compiled of at most this many bytes (the instrumented component, or a core
/// module with its accessor) compiles on one thread, unless the options say otherwise
/// (`Snapshotter::parallel_compilation`): for a handful of small functions, handing work
/// to a second thread costs more than it saves. The lookup example (1.3 KB instrumented)
/// snapshotted in 1.22–1.23 instead of 1.35–1.39 ms, the 1 000 and 100 000 slot tables in
/// 4–5 % less (medians of 100–300 snapshots, 0.5 ms apart as in the benchmark, two cores).
/// Components of 10, 15 and 20 small functions (2.4, 3.4 and 4.3 KB) came out even; from
/// 30 (6.2 KB) on, the parallel compile won (50 functions: 1.71 against 1.85 ms).
pub const SERIAL_COMPILE_MAX: usize = 4 << 10;

fn engines(opts: &RunOptions, winch_may: bool, components: bool, size: usize) -> Engines {
    let sized_config = || {
        let mut config = config(opts);
        if opts.parallel_compilation.is_none() && size <= SERIAL_COMPILE_MAX {
            config.parallel_compilation(false);
        }
        config
    };
    let mut engines = Vec::new();
    if opts.fast_compile && winch_may {
        use wasmtime::WasmFeatures as F;
        let mut winch = sized_config();
        winch.wasm_component_model(components);
        winch.strategy(wasmtime::Strategy::Winch);
        let unsupported = F::GC
            | F::GC_TYPES
            | F::FUNCTION_REFERENCES
            | F::RELAXED_SIMD
            | F::TAIL_CALL
            | F::EXCEPTIONS
            | F::LEGACY_EXCEPTIONS
            | F::STACK_SWITCHING;
        winch.wasm_features(unsupported, false);
        engines.push(("Winch", winch));
    }
    engines.push(("Cranelift", sized_config()));
    Engines(engines)
}

/// Compiles with the first of `engines` that compiles: its name, the engine, what `compile`
/// returned, and why each engine before it refused (`not Winch: …`; an engine Wasmtime
/// cannot make here, Winch on a platform it does not support, refuses too). The last
/// engine's error is the error.
pub(crate) fn compile_first<T>(
    engines: &Engines,
    mut compile: impl FnMut(&Engine) -> Result<T>,
) -> Result<(String, Engine, T)> {
    let mut refused = Vec::new();
    for (i, (name, config)) in engines.0.iter().enumerate() {
        let compiled = Engine::new(config)
            .map_err(|e| anyhow!("creating the Wasmtime engine: {e}"))
            .and_then(|engine| compile(&engine).map(|compiled| (engine, compiled)));
        match compiled {
            Ok((engine, compiled)) => {
                let name = match refused.is_empty() {
                    true => name.to_string(),
                    false => format!("{name} ({})", refused.join("; ")),
                };
                return Ok((name, engine, compiled));
            }
            Err(e) if i + 1 < engines.0.len() => {
                // The cause in one line, without the backtrace Wasmtime may append.
                let why = format!("{e:#}");
                let why = why.lines().next().unwrap_or_default();
                refused.push(format!("not {name}: {why}"));
            }
            Err(e) => return Err(e),
        }
    }
    Err(anyhow!("bug: no engine to compile with"))
}

fn config(opts: &RunOptions) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.wasm_multi_memory(true);
    config.wasm_memory64(true);
    // What an init computes with relaxed SIMD is baked into every later start: compute it
    // the same way on every machine.
    config.relaxed_simd_deterministic(true);
    // Guest memories stay Wasmtime's own mappings, on small pages. Mapping them through a
    // `MemoryCreator` advised for huge pages (`MADV_HUGEPAGE`, with `memory_init_cow` off)
    // took the 64 MiB init from 37 to 16 ms in a loop of snapshots, but one command-line run
    // after another (2.5 s apart) from 40–70 to 100–210 ms: on a VM whose balloon reports
    // free 2 MiB blocks to the host, a huge page comes back cold, and the host faults it in
    // page by page. Huge pages for the output buffer did the same (`write` 22 → 7 ms in a
    // loop, with runs of 90–110 ms).
    config.epoch_interruption(opts.timeout.is_some());
    if let Some(parallel) = opts.parallel_compilation {
        config.parallel_compilation(parallel);
    }
    // Cheaply compiled code takes bigger frames than the optimized code a Wizer-like tool
    // runs an init with: give it room (guest code runs on a thread sized for it,
    // `on_guest_stack`).
    config.max_wasm_stack(MAX_WASM_STACK);
    // compsnap makes no async calls, but Wasmtime wants the async stack to hold the Wasm one.
    config.async_stack_size(GUEST_THREAD_STACK);
    // Native unwind information (`.eh_frame`) only serves a system unwinder or debugger
    // walking through Wasm frames; Wasmtime's own backtraces do without it. Registering it
    // and taking it back cost the lookup example's compile 0.03 of its 1.2 ms (on the 10 MB
    // ComponentizeJS and componentize-py components the difference is within noise).
    // Windows' ABI requires it.
    if !cfg!(windows) {
        config.native_unwind_info(false);
    }
    if opts.fast_compile {
        config.cranelift_opt_level(wasmtime::OptLevel::None);
        // Cranelift's single-pass register allocator compiles componentize-py's component in
        // 2.9–4.1 instead of 5.1–5.7 s and ComponentizeJS's in 3.0–3.1 instead of 4.6–4.9 s;
        // its code runs slower (componentize-py's init: 1.0–1.2 instead of 0.6–0.7 s) and
        // takes bigger frames (see `MAX_WASM_STACK`).
        config.cranelift_regalloc_algorithm(wasmtime::RegallocAlgorithm::SinglePass);
        // The map from machine code back to Wasm offsets only serves a trapping init's
        // backtrace, which still names every function. Without it componentize-py's
        // component compiles in 30 MB less (395 instead of 425 MB peak).
        config.generate_address_map(false);
    }
    config
}
