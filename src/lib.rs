//! compsnap pre-initializes WebAssembly components: it runs a component's init function once,
//! at build time, inside Wasmtime, and writes a new component whose core state (memories and
//! globals) already holds the result, so later instantiations skip that work.
//!
//! The pipeline, one module per stage, reads top to bottom:
//! [`parse`] → [`instrument`] → `run` (Wasmtime) → [`snapshot`] → [`rewrite`].
//! Only `run` touches Wasmtime; the other stages are pure functions over bytes and plain data.
//!
//! ```no_run
//! let input = std::fs::read("app.wasm")?;
//! let output = compsnap::Snapshotter::new().init_func("init").snapshot(&input)?;
//! std::fs::write("app.snap.wasm", output)?;
//! # Ok::<(), anyhow::Error>(())
//! ```

mod accessor;
#[cfg(feature = "engine")]
mod cache;
pub mod capture;
mod component_edit;
pub mod edit;
pub mod init_func;
pub mod inspect;
pub mod instrument;
pub mod layout;
pub mod module_info;
pub mod output;
pub mod parse;
mod probe;
#[cfg(feature = "engine")]
mod progress;
pub mod resolve;
mod restore;
pub mod rewrite;
#[cfg(feature = "engine")]
mod run;
pub mod snapshot;
mod tree_edit;
#[cfg(feature = "engine")]
pub mod verify;

#[cfg(feature = "engine")]
pub use run::{stub_unprovided_wasi, RunOptions, RunTimings};

use anyhow::{Context, Result};
#[cfg(feature = "engine")]
use std::path::PathBuf;
#[cfg(feature = "engine")]
use std::sync::Arc;
#[cfg(feature = "engine")]
use std::time::{Duration, Instant};
#[cfg(feature = "engine")]
use wasmtime::component::Linker;
#[cfg(feature = "engine")]
use wasmtime::Store;

/// The init export wasmtime-wizer calls by default; compsnap keeps the convention.
pub const DEFAULT_INIT_FUNC: &str = "wizer-initialize";

/// Builder for one pre-initialization.
#[cfg(feature = "engine")]
#[derive(Debug, Clone)]
pub struct Snapshotter {
    init_func: String,
    keep_init_func: bool,
    run: RunOptions,
    max_gap: u64,
    verbose: bool,
    progress: bool,
}

#[cfg(feature = "engine")]
impl Default for Snapshotter {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "engine")]
impl Snapshotter {
    pub fn new() -> Self {
        Snapshotter {
            init_func: DEFAULT_INIT_FUNC.to_string(),
            keep_init_func: false,
            run: RunOptions {
                fast_compile: true,
                ..RunOptions::default()
            },
            max_gap: layout::DEFAULT_MAX_GAP,
            verbose: false,
            progress: false,
        }
    }

    /// The export to call: `name`, `ns:pkg/iface#name` or `ns:pkg/iface.name`, optionally with
    /// WAVE arguments, e.g. `setup(7, "config")`; or a `[] -> []` core export of one of the
    /// root's core instances that the component does not lift (core Wizer's convention).
    pub fn init_func(&mut self, spec: impl Into<String>) -> &mut Self {
        self.init_func = spec.into();
        self
    }

    /// Keep the init export in the output (it is removed by default).
    pub fn keep_init_func(&mut self, keep: bool) -> &mut Self {
        self.keep_init_func = keep;
        self
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

    pub fn env(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.run.env.push((key.into(), value.into()));
        self
    }

    pub fn inherit_env(&mut self, inherit: bool) -> &mut Self {
        self.run.inherit_env = inherit;
        self
    }

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

    /// Zero gaps up to this many bytes stay inside one data segment.
    pub fn max_data_gap(&mut self, bytes: u64) -> &mut Self {
        self.max_gap = bytes;
        self
    }

    /// Caches compiled instrumented components in `dir` (off by default in the library; the
    /// command line turns it on). A cached run skips Cranelift, nearly all of a large
    /// component's snapshot time.
    pub fn cache_dir(&mut self, dir: Option<PathBuf>) -> &mut Self {
        self.run.cache_dir = dir;
        self
    }

    /// Let Wasmtime compile functions in parallel (the default). The output does not depend
    /// on it.
    pub fn parallel_compilation(&mut self, parallel: bool) -> &mut Self {
        self.run.parallel_compilation = Some(parallel);
        self
    }

    /// Compile the instrumented component without Cranelift's optimizations (the default).
    /// The init runs once, so compiling fast wins end to end: measured 0.81× the snapshot
    /// time on ComponentizeJS, 0.91× on componentize-py (`compsnap-bench`). Turn it off for
    /// inits that compute for many seconds. The output does not depend on it.
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
        let mut stats = Stats::default();
        let t = Instant::now();
        let engine = run::engine(&self.run)?;
        self.stage(&mut stats, "engine", t.elapsed(), String::new());
        let out = self.pipeline(component, &mut stats, |instrumented, init, plan, opts| {
            run::run(&engine, instrumented, Some(init), plan, opts)
        })?;
        Ok((out, stats))
    }

    /// The core state of every instance of `component` right after instantiation, and after
    /// the init function when `run_init` is set: what [`Snapshotter::snapshot`] bakes in.
    /// Comparing `state(original, true)` with `state(snapshot, false)` checks a snapshot
    /// byte for byte.
    pub fn state(&self, component: &[u8], run_init: bool) -> Result<snapshot::Snapshot> {
        let bytes = read_input(component)?;
        let engine = run::engine(&self.run)?;
        Ok(verify::observe(&engine, self, &bytes, run_init, &[])?.0)
    }

    /// Pre-initializes `component` with the caller's store and linker, for embedders that bring
    /// their own host (their own WASI, their own imports). compsnap adds only its
    /// `compsnap-sink` import to `linker`; every import the component has must already be
    /// defined. The store's engine needs the component model enabled.
    pub fn snapshot_with<T: 'static>(
        &self,
        component: &[u8],
        store: &mut Store<T>,
        linker: &mut Linker<T>,
    ) -> Result<Vec<u8>> {
        let mut stats = Stats::default();
        self.pipeline(component, &mut stats, |instrumented, init, plan, opts| {
            let t = Instant::now();
            let (compiled, cached) =
                cache::compile(store.engine(), instrumented, opts.cache_dir.as_deref())?;
            let compile = t.elapsed();
            let (collector, mut timings) =
                run::run_with(store, linker, &compiled, Some(init), plan, opts)?;
            timings.compile = compile;
            timings.cached = cached;
            Ok((collector, timings))
        })
    }

    fn pipeline(
        &self,
        input: &[u8],
        stats: &mut Stats,
        run: impl FnOnce(
            &[u8],
            &init_func::InitFunc,
            Arc<instrument::TreePlan>,
            &RunOptions,
        ) -> Result<(snapshot::Collector, RunTimings)>,
    ) -> Result<Vec<u8>> {
        let mut opts = self.run.clone();
        // The verbose log already tells the stages apart; the two would garble each other.
        let progress =
            (self.progress && !self.verbose).then(|| Arc::new(progress::Progress::start()));
        opts.progress = progress.clone();
        let step = |stage: &str| {
            if let Some(p) = &progress {
                p.stage(stage);
            }
        };
        step("parsing");
        let t = Instant::now();
        let bytes = read_input(input)?;
        let model = parse::parse(&bytes)?;
        let init = init_func::InitFunc::resolve(&self.init_func, &model)?;
        let detail = format!(
            "{} modules, {} core instances",
            model.scopes.iter().map(|s| s.modules.len()).sum::<usize>(),
            model.instance_count
        );
        self.stage(stats, "parse", t.elapsed(), detail);

        step("instrumenting");
        let t = Instant::now();
        let (instrumented, plan) = instrument::instrument(&model, init.core.as_ref())?;
        output::validate(&instrumented)
            .context("bug: the instrumented component does not validate")?;
        self.stage(
            stats,
            "instrument",
            t.elapsed(),
            format!("{} bytes", instrumented.len()),
        );

        let plan = Arc::new(plan);
        if self.verbose {
            // Compiling a large component takes seconds to minutes: say so before it starts.
            eprintln!(
                "compsnap: compiling {:.1} MB and running `{}`...",
                instrumented.len() as f64 / 1e6,
                init.spec
            );
        }
        let (collector, timings) = run(&instrumented, &init, plan.clone(), &opts)?;
        step("rewriting");
        let cached = match timings.cached {
            true => "loaded from the cache",
            false => "",
        };
        self.stage(stats, "compile", timings.compile, cached.into());
        stats.cached = timings.cached;
        self.stage(
            stats,
            "instantiate",
            timings.instantiate,
            "start functions ran".into(),
        );
        self.stage(
            stats,
            "init",
            timings.init,
            format!("called `{}`", init.spec),
        );
        self.stage(
            stats,
            "dump",
            timings.dump,
            "state streamed out, table slots probed".into(),
        );

        let t = Instant::now();
        let snapshot = collector.finish(&model, &plan)?;
        let (memories, bytes_nonzero) = snapshot
            .instances
            .iter()
            .flat_map(|i| &i.memories)
            .fold((0, 0), |(n, b), m| {
                (n + 1, b + m.runs.iter().map(|r| r.1.len()).sum::<usize>())
            });
        stats.guest_memory = snapshot
            .instances
            .iter()
            .flat_map(|i| &i.memories)
            .map(|m| m.size)
            .sum();
        let detail = format!("{memories} memories, {bytes_nonzero} non-zero bytes kept");
        self.stage(stats, "snapshot", t.elapsed(), detail);

        let t = Instant::now();
        let opts = rewrite::RewriteOptions {
            keep_init_func: self.keep_init_func,
            max_gap: self.max_gap,
        };
        let rewritten = rewrite::rewrite(&model, &snapshot, &init, opts)?;
        let (mut out, tables) = (rewritten.bytes, rewritten.tables);
        stats.sharing = rewritten.sharing;
        if std::env::var_os("COMPSNAP_TEST_CORRUPT_OUTPUT").is_some() {
            // Test hook: proves that an output failing validation is refused, not written.
            out.truncate(out.len().saturating_sub(1));
        }
        output::validate(&out)
            .context("bug: the snapshotted component does not validate, so it was not written")?;
        let shared = match stats.sharing.shared {
            0 => String::new(),
            n => format!(
                " ({n} identical definitions shared, {} bytes saved)",
                stats.sharing.bytes_saved
            ),
        };
        self.stage(
            stats,
            "rewrite",
            t.elapsed(),
            format!("{} bytes{shared}", out.len()),
        );
        if self.verbose {
            for r in &tables {
                eprintln!(
                    "compsnap: table {}, table {}: {} slots, {} null, {} folded into the \
                     owner's image, {} written by other instances",
                    model.describe(r.dfs),
                    r.table,
                    r.slots,
                    r.nulls,
                    r.folded,
                    r.by_others
                );
            }
        }
        stats.tables = tables;
        Ok(out)
    }

    fn stage(&self, stats: &mut Stats, name: &'static str, time: Duration, detail: String) {
        if self.verbose {
            let ms = time.as_secs_f64() * 1e3;
            eprintln!("compsnap: {name:<11} {ms:>9.1} ms  {detail}");
        }
        stats.stages.push((name, time));
    }
}

/// Where the time of one snapshot went, and how its tables were written.
#[cfg(feature = "engine")]
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Stage name and duration, in pipeline order.
    pub stages: Vec<(&'static str, Duration)>,
    pub tables: Vec<rewrite::TableReport>,
    /// What emitting byte-identical rewritten modules and components once saved.
    pub sharing: rewrite::Sharing,
    /// The compiled component came from the cache.
    pub cached: bool,
    /// Bytes of linear memory all instances had after init.
    pub guest_memory: u64,
}

#[cfg(feature = "engine")]
impl Stats {
    pub fn stage(&self, name: &str) -> Duration {
        self.stages
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, d)| *d)
            .sum()
    }

    pub fn total(&self) -> Duration {
        self.stages.iter().map(|(_, d)| *d).sum()
    }
}

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

/// Runs parse → instrument → rewrite without an engine, on a synthetic state derived from
/// `state_seed` (see [`snapshot::Snapshot::synthetic`]). Inputs compsnap refuses return
/// `Err`; an instrumented or rewritten component that does not validate is a compsnap bug and
/// panics. This is what the fuzz targets in `fuzz/` drive.
#[doc(hidden)]
pub fn offline_pipeline(component: &[u8], state_seed: &[u8]) -> Result<Vec<u8>> {
    let model = parse::parse(component)?;
    let (instrumented, _plan) = instrument::instrument(&model, None)?;
    if let Err(e) = output::validate(&instrumented) {
        panic!("bug: the instrumented component does not validate: {e:#}");
    }
    let snapshot = snapshot::Snapshot::synthetic(&model, state_seed);
    let init = init_func::InitFunc {
        spec: String::new(),
        interface: None,
        func: String::new(),
        args: None,
        core: None,
    };
    let opts = rewrite::RewriteOptions {
        keep_init_func: true,
        max_gap: layout::DEFAULT_MAX_GAP,
    };
    let out = rewrite::rewrite(&model, &snapshot, &init, opts)?.bytes;
    if let Err(e) = output::validate(&out) {
        panic!("bug: the rewritten component does not validate: {e:#}");
    }
    Ok(out)
}
