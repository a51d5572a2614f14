//! The pipeline in one place: [`Snapshotter`] reads the input, parses it into a model,
//! instruments it, runs the init in the engine, collects the snapshot, rewrites the input and
//! validates the result. Each stage is timed for [`Stats`]. This file is the builder and
//! the entry points; `stages` runs the stages in order.

use crate::engine::compile::{Cache, DEFAULT_CACHE_MAX};
use crate::engine::{self, compile, run, run_module, Dumped, Linker, RunOptions, Store, World};
use crate::model::{self, InitFunc, InputKind, Model};
use crate::rewrite::{Sharing, TableReport};
use crate::snapshot::Snapshot;
use crate::{instrument, read_input, DEFAULT_INIT_FUNC};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod stages;

use stages::{Destination, Instrumented};

/// Builder for one pre-initialization.
#[derive(Debug, Clone)]
pub struct Snapshotter {
    init_func: String,
    keep_init_func: bool,
    run: RunOptions,
    max_gap: Option<u64>,
    verbose: bool,
    progress: bool,
    /// `(dst, src)` export renamings of a core module input.
    renames: Vec<(String, String)>,
    /// The compile cache's cap, for when a directory is set.
    cache_max: u64,
}

impl Default for Snapshotter {
    fn default() -> Self {
        Self::new()
    }
}

impl Snapshotter {
    /// A snapshotter with the defaults: init `wizer-initialize`, no WASI, the init export
    /// removed, the init compiled without Cranelift's optimizations, no compile cache.
    pub fn new() -> Self {
        Snapshotter {
            init_func: DEFAULT_INIT_FUNC.to_string(),
            keep_init_func: false,
            run: RunOptions {
                fast_compile: true,
                ..RunOptions::default()
            },
            max_gap: None,
            verbose: false,
            progress: false,
            renames: Vec::new(),
            cache_max: DEFAULT_CACHE_MAX,
        }
    }

    /// The export to call: `name`, `ns:pkg/iface#name`, `ns:pkg/iface.name` or wasmtime-wizer's
    /// `ns:pkg/iface.name@version`, optionally with WAVE arguments, e.g. `setup(7, "config")`;
    /// or a `[] -> []` core export of one of the root's core instances that the component
    /// does not lift (core Wizer's convention). For a core module input: its `[] -> []`
    /// function export.
    pub fn init_func(&mut self, spec: impl Into<String>) -> &mut Self {
        self.init_func = spec.into();
        self
    }

    /// For a core module input: export function `src` as `dst` in the output, replacing any
    /// export named `dst` (Wizer's `--rename-func dst=src`).
    pub fn rename_func(&mut self, dst: impl Into<String>, src: impl Into<String>) -> &mut Self {
        self.renames.push((dst.into(), src.into()));
        self
    }

    /// For a core module input: instantiate `module` (binary) first, as `name`, so the input
    /// can import from it (Wizer's `--preload name=file`). Its own state is not snapshotted:
    /// whoever runs the snapshot provides those imports again.
    pub fn preload(&mut self, name: impl Into<String>, module: impl Into<Vec<u8>>) -> &mut Self {
        self.run.preloads.push((name.into(), module.into()));
        self
    }

    /// Keep the init export in the output (it is removed by default).
    pub fn keep_init_func(&mut self, keep: bool) -> &mut Self {
        self.keep_init_func = keep;
        self
    }

    /// Give the init the host's real clocks, randomness and writable preopens, as Wizer does.
    /// By default it sees a deterministic world ([`World`]'s default: a fixed seed, the wall
    /// clock at `SOURCE_DATE_EPOCH` or 2024-01-01, a monotonic clock that advances 1 µs per
    /// reading, read-only preopened directories whose files all show that wall clock as
    /// their times, identities numbered in the order the init asks, and listings sorted by
    /// name), so the same input, flags and preopened *contents* give the same snapshot.
    /// Whatever the init reads is frozen into every instance started from the snapshot
    /// either way: an app that needs per-instance randomness must reseed after start.
    pub fn host_world(&mut self, host: bool) -> &mut Self {
        self.run.world = match host {
            true => World::Host,
            false => World::default(),
        };
        self
    }

    /// The world the init will see (see [`Snapshotter::host_world`]).
    pub fn world(&self) -> World {
        self.run.world
    }

    /// Provide WASI preview 2 during init. Without it every import the init calls fails.
    pub fn allow_wasi(&mut self, allow: bool) -> &mut Self {
        self.run.allow_wasi = allow;
        self
    }

    /// Preopen a host directory as `guest` (requires WASI).
    pub fn dir(&mut self, host: impl Into<PathBuf>, guest: impl Into<String>) -> &mut Self {
        self.run.dirs.push((host.into(), guest.into()));
        self
    }

    /// Sets an environment variable for the init (requires WASI).
    pub fn env(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.run.env.push((key.into(), value.into()));
        self
    }

    /// Passes this process's environment to the init (requires WASI).
    pub fn inherit_env(&mut self, inherit: bool) -> &mut Self {
        self.run.inherit_env = inherit;
        self
    }

    /// Connects the init's stdin, stdout and stderr to this process's (requires WASI).
    pub fn inherit_stdio(&mut self, inherit: bool) -> &mut Self {
        self.run.inherit_stdio = inherit;
        self
    }

    /// What the init reads from stdin (requires WASI); empty by default.
    pub fn stdin(&mut self, bytes: impl Into<Vec<u8>>) -> &mut Self {
        self.run.stdin = Some(bytes.into());
        self
    }

    /// Stop an init (or start function) that runs longer than this.
    pub fn init_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.run.timeout = Some(timeout);
        self
    }

    /// Fail an init that grows any memory beyond this many bytes.
    pub fn max_memory(&mut self, bytes: usize) -> &mut Self {
        self.run.max_memory = Some(bytes);
        self
    }

    /// Zero gaps up to this many bytes stay inside one data segment. By default a gap splits
    /// a segment exactly when the new segment's header is shorter than the gap, which gives
    /// the smallest output.
    pub fn max_data_gap(&mut self, bytes: u64) -> &mut Self {
        self.max_gap = Some(bytes);
        self
    }

    /// Caches compiled instrumented components and modules in `dir` (off by default in the
    /// library; the command line turns it on), at most [`DEFAULT_CACHE_MAX`] bytes unless
    /// [`Snapshotter::cache_max`] says otherwise. A cached run skips Cranelift, nearly all of
    /// a large component's snapshot time.
    pub fn cache_dir(&mut self, dir: Option<PathBuf>) -> &mut Self {
        let max_bytes = self.cache_max;
        self.run.cache = dir.map(|dir| Cache { dir, max_bytes });
        self
    }

    /// The most bytes the compile cache may take ([`DEFAULT_CACHE_MAX`] by default); the least
    /// recently used entries go first.
    pub fn cache_max(&mut self, max_bytes: u64) -> &mut Self {
        self.cache_max = max_bytes;
        if let Some(cache) = &mut self.run.cache {
            cache.max_bytes = max_bytes;
        }
        self
    }

    /// Let Wasmtime compile functions in parallel, or not. By default it does, except for
    /// inputs whose instrumented bytes are at most
    /// [`SERIAL_COMPILE_MAX`](crate::SERIAL_COMPILE_MAX), which compile faster on one
    /// thread. The output does not depend on it.
    pub fn parallel_compilation(&mut self, parallel: bool) -> &mut Self {
        self.run.parallel_compilation = Some(parallel);
        self
    }

    /// Compile the instrumented input fast (the default): a core module, and a component
    /// whose accessor probes no table slots or reference globals or calls every function it
    /// probes with one plain type, with Winch, Wasmtime's baseline compiler; a component
    /// whose accessor probes functions of several types (`call_ref`, which Winch does not
    /// compile), and what uses other features Winch does not support, with Cranelift
    /// without its optimizations and with its single-pass register allocator. The init runs
    /// once, so compiling fast usually wins end to end: Winch compiles componentize-py's
    /// component (whose tables no code writes, so nothing is probed) in 1.2 s, where
    /// optimized Cranelift takes 5.1–5.7 s, and StarlingMonkey's engine module 3.8× faster
    /// than unoptimized Cranelift. Turn it off for inits that compute for many seconds, or for Wasm offsets
    /// in a trapping init's backtrace (a fast compile leaves them out). The output does not
    /// depend on it. Either way the init gets [`MAX_WASM_STACK`](crate::MAX_WASM_STACK) of
    /// Wasm stack, on one of compsnap's own threads.
    pub fn fast_compile(&mut self, fast: bool) -> &mut Self {
        self.run.fast_compile = fast;
        self
    }

    /// Show a progress line on stderr while the snapshot runs (the command line does when
    /// stderr is a terminal).
    pub fn progress(&mut self, show: bool) -> &mut Self {
        self.progress = show;
        self
    }

    /// Log each stage and its duration to stderr.
    pub fn verbose(&mut self, verbose: bool) -> &mut Self {
        self.verbose = verbose;
        self
    }

    /// Pre-initializes `component` (binary or WAT) with compsnap's own Wasmtime host.
    pub fn snapshot(&self, component: &[u8]) -> Result<Vec<u8>> {
        Ok(self.snapshot_with_stats(component)?.0)
    }

    /// [`Snapshotter::snapshot`], also returning where the time went and how each table was
    /// written.
    pub fn snapshot_with_stats(&self, component: &[u8]) -> Result<(Vec<u8>, Stats)> {
        let mut out = Destination::Bytes(Vec::new());
        let stats = self.snapshot_into(component, &mut out)?;
        Ok((out.into_bytes()?, stats))
    }

    /// Pre-initializes `component` and writes the result to `path`, atomically and only once
    /// it validates. The guest's memory goes from the guest straight into the file, so this
    /// takes less memory than [`Snapshotter::snapshot`], which holds the output in memory
    /// while the guest lives.
    pub fn snapshot_to_file(&self, component: &[u8], path: &Path) -> Result<Stats> {
        let mut out = Destination::File(path.to_path_buf(), None);
        let stats = self.snapshot_into(component, &mut out)?;
        match out {
            Destination::File(_, Some(staged)) => staged.commit()?,
            _ => bail!("bug: no output was written"),
        }
        Ok(stats)
    }

    fn snapshot_into(&self, component: &[u8], out: &mut Destination) -> Result<Stats> {
        let mut stats = Stats::default();
        self.pipeline(
            component,
            &mut stats,
            out,
            |instrumented, init, opts, then| match instrumented {
                Instrumented::Component(bytes, plan) => {
                    let engines = engine::component_engines(opts, plan.typed_probes(), bytes.len());
                    run::run(&engines, bytes, Some(init), plan.clone(), opts, &[], then).map(|_| ())
                }
                Instrumented::Module(module) => {
                    let engines = engine::core_engines(opts, module.size());
                    run_module::run_core(&engines, module, Some(&init.func), opts, &[], then)
                        .map(|_| ())
                }
            },
        )?;
        Ok(stats)
    }

    /// The core state of every instance of `component` right after instantiation, and after
    /// the init function when `run_init` is set: what [`Snapshotter::snapshot`] bakes in.
    /// Comparing `state(original, true)` with `state(snapshot, false)` checks a snapshot
    /// byte for byte. An init that leaves what a snapshot cannot carry (an open file, a
    /// socket) is refused here as [`Snapshotter::snapshot`] refuses it.
    pub fn state(&self, component: &[u8], run_init: bool) -> Result<Snapshot<'static>> {
        let bytes = read_input(component)?;
        Ok(self.observe(&bytes, run_init, &[])?.0)
    }

    /// Instantiates `bytes` instrumented, runs the init when `run_init`, reads all core state,
    /// then makes `calls` on the same instance: each outcome is its results as WAVE, or
    /// `trap: …`.
    pub(crate) fn observe(
        &self,
        bytes: &[u8],
        run_init: bool,
        calls: &[String],
    ) -> Result<(Snapshot<'static>, Vec<String>)> {
        let mut inlined = None;
        let model = model::parse_inlining(bytes, &mut inlined)?;
        let init = match run_init {
            true => Some(self.resolve_init(&model)?),
            false => None,
        };
        if let InputKind::Module = model.kind {
            let module = instrument::instrument_core(&model)?;
            let engines = engine::core_engines(&self.run, module.size());
            let init = init.as_ref().map(|i| i.func.as_str());
            let finish = |d: Dumped<'_>| {
                let snapshot = d.collector.finish(&model, &module.plan, &d.views)?;
                Ok(snapshot.into_owned())
            };
            return run_module::run_core(&engines, &module, init, &self.run, calls, finish);
        }
        let core_init = init.as_ref().and_then(|i| i.core.as_ref());
        let (instrumented, plan) = instrument::instrument(&model, core_init)?;
        let engines = engine::component_engines(&self.run, plan.typed_probes(), instrumented.len());
        let plan = Arc::new(plan);
        let finish = |d: Dumped<'_>| {
            let snapshot = d.collector.finish(&model, &plan, &d.views)?;
            Ok(snapshot.into_owned())
        };
        run::run(
            &engines,
            &instrumented,
            init.as_ref(),
            plan.clone(),
            &self.run,
            calls,
            finish,
        )
    }

    /// Instantiates `bytes` (a component or core module, binary or WAT) on the host the init
    /// runs on, with this snapshotter's WASI options, and makes the WAVE `calls` in order on
    /// that one instance: each outcome is its results as WAVE, or `trap: …`. A snapshot
    /// needs no init, so this is how to try one (`compsnap call`).
    pub fn call(&self, bytes: &[u8], calls: &[String]) -> Result<Vec<String>> {
        engine::call_file::run_calls(&read_input(bytes)?, &self.run, calls)
    }

    /// The same snapshotter, for `verify`: both of its runs must see the same clocks and
    /// randomness, so a snapshotter that gives the init the host's gets a deterministic world
    /// from `seed` (and the wall clock `now`) instead.
    pub(crate) fn replaying(&self, seed: [u8; 32], now: u64) -> Snapshotter {
        let mut snap = self.clone();
        if snap.run.world == World::Host {
            snap.run.world = World::Deterministic { seed, wall: now };
        }
        snap
    }

    /// The init function, resolved against `model`, its WAVE arguments checked before any
    /// compile.
    fn resolve_init(&self, model: &Model) -> Result<InitFunc> {
        let init = InitFunc::resolve(&self.init_func, model)?;
        if let Some(args) = &init.args {
            engine::call::check_wave_args(args)
                .with_context(|| format!("init function `{}`: bad WAVE arguments", init.spec))?;
        }
        Ok(init)
    }

    /// Pre-initializes `component` with the caller's store and linker, for embedders that bring
    /// their own host (their own WASI, their own imports). compsnap adds only its
    /// `compsnap-sink` import to `linker`; every import the component has must already be
    /// defined. The store's engine needs the component model enabled. The init runs on the
    /// caller's thread, compiled as the store's engine compiles (not [`fast_compile`]), with
    /// that engine's Wasm stack: give it a stack that holds its `max_wasm_stack`.
    ///
    /// [`fast_compile`]: Snapshotter::fast_compile
    pub fn snapshot_with<T: 'static>(
        &self,
        component: &[u8],
        store: &mut Store<T>,
        linker: &mut Linker<T>,
    ) -> Result<Vec<u8>> {
        let mut stats = Stats::default();
        let mut out = Destination::Bytes(Vec::new());
        self.pipeline(
            component,
            &mut stats,
            &mut out,
            |instrumented, init, opts, then| {
                let Instrumented::Component(instrumented, plan) = instrumented else {
                    bail!(
                        "snapshot_with runs components; a core module runs on compsnap's own host \
                     (Snapshotter::snapshot)"
                    );
                };
                let plan = plan.clone();
                let t = Instant::now();
                let (compiled, cached, storing) =
                    compile::compile_cached(store.engine(), instrumented, opts.cache.as_ref())?;
                let compile = t.elapsed();
                let (collector, lists, mut timings, _) =
                    run::run_instance(store, linker, &compiled, Some(init), plan, opts, false)?;
                timings.compile = compile;
                timings.cached = cached;
                then(Dumped {
                    collector,
                    views: run::views(store, &lists),
                    timings,
                    storing,
                })
            },
        )?;
        out.into_bytes()
    }
}

/// Where the time of one snapshot went, and how its tables were written.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Stage name and duration, in pipeline order.
    pub stages: Vec<(&'static str, Duration)>,
    /// How each table's slots were written, table by table.
    pub tables: Vec<TableReport>,
    /// What emitting byte-identical rewritten modules and components once saved.
    pub sharing: Sharing,
    /// The compiled component came from the cache.
    pub cached: bool,
    /// Bytes of linear memory all instances had after init.
    pub guest_memory: u64,
    /// The compiler that compiled the init's code: `Winch` or `Cranelift`; when Winch was
    /// tried and could not, `Cranelift (not Winch: why)`.
    pub compiler: String,
}

impl Stats {
    /// The time spent in stage `name` (`parse`, `instrument`, `compile`, `instantiate`,
    /// `init`, `dump`, `snapshot`, `rewrite`, `write`, `validate`).
    pub fn stage(&self, name: &str) -> Duration {
        self.stages
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, d)| *d)
            .sum()
    }

    /// The time of all stages.
    pub fn total(&self) -> Duration {
        self.stages.iter().map(|(_, d)| *d).sum()
    }
}
