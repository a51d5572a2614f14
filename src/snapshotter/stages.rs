//! The stages in order, for one input: parse, instrument, run (the engine calls back while
//! the guest lives: snapshot, rewrite, write), then validate once the guest is gone.

use super::{Snapshotter, Stats};
use crate::engine::progress::Progress;
use crate::engine::{run_module, Dumped, RunOptions};
use crate::model::{self, InitFunc, InputKind, Model};
use crate::output::{validate, Staged};
use crate::protocol::{CoreInstrumented, Record, TreePlan};
use crate::rewrite::{self, CoreExports, RewriteOptions, TableReport};
use crate::{instrument, read_input};
use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

impl Snapshotter {
    /// Every stage; `run` runs the instrumented input and calls `then` with its state while
    /// the guest lives, which rewrites and writes the output to `out`. The output is validated
    /// once `run` returns: a guest of more than 16 MiB is gone by then, a smaller one is being
    /// dropped on a guest thread (`engine::drop_guest`).
    pub(super) fn pipeline(
        &self,
        input: &[u8],
        stats: &mut Stats,
        out: &mut Destination,
        run: impl FnOnce(&Instrumented, &InitFunc, &RunOptions, Then<'_>) -> Result<()>,
    ) -> Result<()> {
        let mut opts = self.run.clone();
        // The verbose log already tells the stages apart; the two would garble each other.
        let progress = (self.progress && !self.verbose).then(|| Arc::new(Progress::start()));
        opts.progress = progress.clone();
        let step = |stage: &str| {
            if let Some(p) = &progress {
                p.stage(stage);
            }
        };
        step("parsing");
        let t = Instant::now();
        let bytes = read_input(input)?;
        let mut inlined = None;
        let model = model::parse_inlining(&bytes, &mut inlined)?;
        let init = self.resolve_init(&model)?;
        if model.kind == InputKind::Component && !self.run.preloads.is_empty() {
            bail!("preloaded modules are for core module inputs; a component brings its own");
        }
        let detail = format!(
            "{} modules, {} core instances",
            model.scopes.iter().map(|s| s.modules.len()).sum::<usize>(),
            model.instance_count
        );
        self.stage(stats, "parse", t.elapsed(), detail);

        step("instrumenting");
        let t = Instant::now();
        let instrumented = Instrumented::new(&model, &init)?;
        let size = instrumented.size();
        self.stage(stats, "instrument", t.elapsed(), format!("{size} bytes"));
        if self.verbose {
            // Compiling a large component takes seconds to minutes: say so before it starts.
            eprintln!(
                "compsnap: compiling {:.1} MB and running `{}`...",
                size as f64 / 1e6,
                init.spec
            );
        }
        let mut tables = Vec::new();
        let mut then = |mut dumped: Dumped<'_>| -> Result<()> {
            step("rewriting");
            let storing = std::mem::take(&mut dumped.storing);
            tables = self.rewrite(&model, &init, &instrumented, dumped, stats, out)?;
            // A fresh compile went to the cache while the init ran: what is left of that.
            if storing.pending() {
                step("storing the compiled component");
                let t = Instant::now();
                storing.wait();
                self.stage(stats, "cache", t.elapsed(), "compiled entry stored".into());
            }
            Ok(())
        };
        run(&instrumented, &init, &opts, &mut then)?;
        drop(instrumented);

        step("validating");
        let t = Instant::now();
        match out {
            Destination::Bytes(bytes) => checked_output(bytes)?,
            Destination::File(_, Some(staged)) => checked_output(&staged.read()?)?,
            Destination::File(_, None) => bail!("bug: no output was written"),
        }
        self.stage(stats, "validate", t.elapsed(), String::new());
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
        Ok(())
    }

    /// The stages that run while the guest lives: the state decoded into a snapshot that
    /// borrows the guest's memory, the rewrite, and the output written to `out`.
    fn rewrite(
        &self,
        model: &Model,
        init: &InitFunc,
        instrumented: &Instrumented,
        dumped: Dumped<'_>,
        stats: &mut Stats,
        out: &mut Destination,
    ) -> Result<Vec<TableReport>> {
        // The pipeline waits for the cache entry itself (`Dumped::storing`).
        let Dumped {
            collector,
            views,
            timings,
            ..
        } = dumped;
        let detail = match timings.cached {
            true => format!("{}, loaded from the cache", timings.compiler),
            false => timings.compiler.clone(),
        };
        self.stage(stats, "compile", timings.compile, detail);
        stats.cached = timings.cached;
        stats.compiler = timings.compiler;
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
        // Per scope definition: a definition instantiated twice counts once.
        let records = instrumented.plan().scopes.iter().flat_map(|p| &p.records);
        let (probed, known) = records.fold((0, 0), |(p, k), r| match r {
            Record::Table { .. } => (p + 1, k),
            Record::KnownTable { .. } => (p, k + 1),
            _ => (p, k),
        });
        let detail = match (probed, known) {
            (0, 0) => "state streamed out".to_string(),
            _ => format!(
                "state streamed out; tables: {probed} probed, {known} known from their segments"
            ),
        };
        self.stage(stats, "dump", timings.dump, detail);

        let t = Instant::now();
        let snapshot = collector.finish(model, instrumented.plan(), &views)?;
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
        let opts = RewriteOptions {
            keep_init_func: self.keep_init_func,
            max_gap: self.max_gap,
        };
        let rewritten = match model.kind {
            InputKind::Component => rewrite::rewrite(model, &snapshot, init, opts)?,
            InputKind::Module => {
                // The reactor's `_initialize` has run, as the init has (see `run_module`).
                let info = &model.root().modules[0];
                let reactor = info
                    .export_index(run_module::REACTOR_INIT, wasmparser::ExternalKind::Func)
                    .map(|_| run_module::REACTOR_INIT.to_string());
                let init_export = (!self.keep_init_func).then(|| init.func.clone());
                let exports = CoreExports {
                    removed: init_export.into_iter().chain(reactor).collect(),
                    renamed: self.renames.clone(),
                };
                rewrite::rewrite_core(model, &snapshot, opts, &exports)?
            }
        };
        stats.sharing = rewritten.sharing;
        let shared = match stats.sharing.shared {
            0 => String::new(),
            n => format!(
                " ({n} identical definitions shared, {} bytes saved)",
                stats.sharing.bytes_saved
            ),
        };
        let len = rewritten.rope.len();
        self.stage(
            stats,
            "rewrite",
            t.elapsed(),
            format!("{len} bytes{shared}"),
        );

        let t = Instant::now();
        let detail = match out {
            Destination::Bytes(bytes) => {
                *bytes = rewritten.rope.into_bytes();
                String::new()
            }
            Destination::File(path, staged) => {
                // Created only now: a run cut short leaves no temporary file behind.
                (staged.insert(Staged::create(path)?)).write(&rewritten.rope)?;
                "flushing to disk while the output validates".into()
            }
        };
        self.stage(stats, "write", t.elapsed(), detail);
        Ok(rewritten.tables)
    }

    fn stage(&self, stats: &mut Stats, name: &'static str, time: Duration, detail: String) {
        if self.verbose {
            let ms = time.as_secs_f64() * 1e3;
            eprintln!("compsnap: {name:<11} {ms:>9.1} ms  {detail}");
        }
        stats.stages.push((name, time));
    }
}

/// What the engine runs: an instrumented component, or an instrumented core module and the
/// accessor the host links next to it.
pub(super) enum Instrumented {
    Component(Vec<u8>, Arc<TreePlan>),
    Module(CoreInstrumented),
}

impl Instrumented {
    /// Instruments `model` for running `init`. Debug builds (the tests) check that the result
    /// validates, to name an instrumentation bug as such; release builds leave that to
    /// Wasmtime, which validates whatever it compiles, and save a pass over the whole input.
    fn new(model: &Model, init: &InitFunc) -> Result<Self> {
        let bug = "bug: the instrumented input does not validate";
        let check = |bytes: &[u8]| match cfg!(debug_assertions) {
            true => validate(bytes).context(bug),
            false => Ok(()),
        };
        Ok(match model.kind {
            InputKind::Component => {
                let (bytes, plan) = instrument::instrument(model, init.core.as_ref())?;
                check(&bytes)?;
                Instrumented::Component(bytes, Arc::new(plan))
            }
            InputKind::Module => {
                let module = instrument::instrument_core(model)?;
                check(&module.module)?;
                check(&module.accessor)?;
                Instrumented::Module(module)
            }
        })
    }

    fn size(&self) -> usize {
        match self {
            Instrumented::Component(bytes, _) => bytes.len(),
            Instrumented::Module(module) => module.size(),
        }
    }

    fn plan(&self) -> &TreePlan {
        match self {
            Instrumented::Component(_, plan) => plan,
            Instrumented::Module(module) => &module.plan,
        }
    }
}

/// Where the output goes: into memory, or into a file next to the output path, renamed
/// over it once it validates.
pub(super) enum Destination {
    Bytes(Vec<u8>),
    File(PathBuf, Option<Staged>),
}

impl Destination {
    /// The output held in memory.
    pub(super) fn into_bytes(self) -> Result<Vec<u8>> {
        match self {
            Destination::Bytes(bytes) => Ok(bytes),
            Destination::File(..) => bail!("bug: the output went to a file"),
        }
    }
}

/// What a run calls with its dumped state, while the guest lives.
pub(super) type Then<'t> = &'t mut (dyn FnMut(Dumped<'_>) -> Result<()> + Send);

/// Checks the rewritten component: an output that does not validate is a compsnap bug, and
/// is never handed out (so never written).
fn checked_output(bytes: &[u8]) -> Result<()> {
    validate(bytes)
        .context("bug: the snapshotted component does not validate, so it was not written")
}

#[cfg(test)]
mod tests {
    /// An output that fails validation is refused with a message that says so.
    #[test]
    fn an_invalid_output_is_refused() {
        let good = wat::parse_str("(component)").unwrap();
        super::checked_output(&good).unwrap();
        let mut bad = good;
        bad.truncate(bad.len() - 1);
        let err = super::checked_output(&bad).unwrap_err();
        assert!(
            format!("{err:#}").contains("does not validate, so it was not written"),
            "{err:#}"
        );
    }
}
