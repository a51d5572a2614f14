//! Stage 3: run the instrumented component's init in Wasmtime, then stream every node's
//! state out through the sink into a [`Collector`], and hand it on with views of what the
//! sink was sent, while the guest still lives ([`Dumped`]).

use super::call::{call, export_func, outcome, wave_params};
use super::compile::compile_cached;
use super::host::{host, stub_unprovided_wasi, DeniedImport, MemoryLimitExceeded};
use super::{Dumped, RunOptions, RunTimings};
use crate::model::InitFunc;
use crate::protocol::{TreePlan, CORE_INIT_EXPORT, SINK_IMPORT};
use crate::snapshot::Collector;
use anyhow::{anyhow, Result};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime::component::{Component, Instance, Linker, Val, WasmList};
use wasmtime::{Engine, Store, StoreContextMut, Trap};

/// Runs init with compsnap's own host: WASI when allowed, trapping stubs for every other
/// import. `then` gets the dumped state while the guest lives; then `calls` are made on the
/// same instance (their outcomes as `verify` prints them), and the guest goes.
pub fn run<R: Send>(
    engines: &super::Engines,
    instrumented: &[u8],
    init: Option<&InitFunc>,
    plan: Arc<TreePlan>,
    opts: &RunOptions,
    calls: &[String],
    then: impl FnOnce(Dumped<'_>) -> Result<R> + Send,
) -> Result<(R, Vec<String>)> {
    super::on_guest_stack(|| run_here(engines, instrumented, init, plan, opts, calls, then))
}

fn run_here<R>(
    engines: &super::Engines,
    instrumented: &[u8],
    init: Option<&InitFunc>,
    plan: Arc<TreePlan>,
    opts: &RunOptions,
    calls: &[String],
    then: impl FnOnce(Dumped<'_>) -> Result<R>,
) -> Result<(R, Vec<String>)> {
    opts.progress(|| format!("compiling {:.1} MB", instrumented.len() as f64 / 1e6));
    let t = Instant::now();
    // The cache entry is written while the guest runs (`Dumped::storing`).
    let (compiler, engine, (component, cached, storing)) =
        super::compile_first(engines, |engine| {
            compile_cached(engine, instrumented, opts.cache.as_ref())
        })?;
    let compiled = t.elapsed();
    let (mut linker, mut store) = host(&engine, &component, opts)?;
    let (collector, lists, mut timings, instance) =
        run_instance(&mut store, &mut linker, &component, init, plan, opts, true)?;
    if init.is_some() {
        store.data_mut().refuse_live_handles()?;
    }
    timings.compile = compiled;
    timings.cached = cached;
    timings.compiler = compiler;
    let views = views(&store, &lists);
    let memory = views.iter().map(|v| v.len()).sum();
    let result = then(Dumped {
        collector,
        views,
        timings,
        storing,
    })?;
    let mut outcomes = Vec::new();
    for c in calls {
        outcomes.push(outcome(call(&mut store, &instance, c)?));
    }
    super::drop_guest((store, linker, component), memory);
    Ok((result, outcomes))
}

/// What each of the sink's `put`s sent, as the guest holds it now.
pub(crate) fn views<'s, T: 'static>(store: &'s Store<T>, lists: &[WasmList<u8>]) -> Vec<&'s [u8]> {
    lists.iter().map(|l| l.as_le_slice(store)).collect()
}

/// Instantiates `component` with `store` and `linker`, runs `init` and dumps every node's
/// state; returns what each `put` sent (see [`views`]) and the instance too, which can still
/// be called after the dump. Only the sink import is added to `linker`. `own_host` marks
/// compsnap's own linker (from [`host`]), which may stub the WASI interfaces it does not
/// provide.
pub(crate) fn run_instance<T: 'static>(
    store: &mut Store<T>,
    linker: &mut Linker<T>,
    component: &Component,
    init: Option<&InitFunc>,
    plan: Arc<TreePlan>,
    opts: &RunOptions,
    own_host: bool,
) -> Result<(Collector, Vec<WasmList<u8>>, RunTimings, Instance)> {
    let mut timings = RunTimings::default();
    let sink = Arc::new(Mutex::new(Sink::new(Collector::new(&plan))));
    add_sink(linker, plan.clone(), sink.clone())?;
    if own_host && opts.allow_wasi {
        stub_unprovided_wasi(linker, component, store.engine())?;
    }
    let watchdog = opts.timeout.map(|t| Watchdog::start(store.engine(), t));
    if watchdog.is_some() {
        store.set_epoch_deadline(1);
        store.epoch_deadline_trap();
    }
    opts.progress(|| "instantiating (start functions run)".into());
    let t = Instant::now();
    let instance = linker.instantiate(&mut *store, component).map_err(|e| {
        explain(
            e,
            "instantiating the component (start functions run here)",
            opts,
        )
    })?;
    timings.instantiate = t.elapsed();
    if let Some(init) = init {
        opts.progress(|| format!("running `{}`", init.spec));
    }
    let t = Instant::now();
    if let Some(init) = init {
        call_init(store, &instance, init)
            .map_err(|e| explain(e, &format!("init function `{}`", init.spec), opts))?;
    }
    timings.init = t.elapsed();
    let timed = watchdog.is_some();
    drop(watchdog);
    let mut dumps = Vec::new();
    for dump in &plan.dumps {
        let func = instance
            .get_typed_func::<(), ()>(&mut *store, &dump.export)
            .map_err(|e| anyhow!("instrumentation bug: {} missing: {e}", dump.export))?;
        dumps.push(func);
    }
    if timed {
        // Reading state must not be cut short by the init's timeout.
        store.set_epoch_deadline(u64::MAX / 2);
    }
    let t = Instant::now();
    // A table's slot identities go out in one call; lift the per-call transfer limit for it.
    let fuel = store.hostcall_fuel();
    store.set_hostcall_fuel(usize::MAX);
    let mut dumped = Ok(());
    for (i, func) in dumps.iter().enumerate() {
        // A poisoned collector makes the sink fail the call below; returning early here would
        // skip restoring the caller's hostcall fuel.
        if let Ok(mut sink) = sink.lock() {
            sink.collector.begin(i);
        }
        if let Some(p) = &opts.progress {
            p.stage("reading state and probing tables");
            p.count(i as u64, dumps.len() as u64);
        }
        dumped = func.call(&mut *store, ());
        if dumped.is_err() {
            break;
        }
    }
    store.set_hostcall_fuel(fuel);
    dumped.map_err(|e| anyhow!("reading the state after init failed: {e:#}"))?;
    timings.dump = t.elapsed();
    let sink = take(sink)?;
    Ok((sink.collector, sink.handles, timings, instance))
}

/// The sink's state: the collector, and per `put` a handle to read what it sent again.
pub(super) struct Sink<H> {
    pub(super) collector: Collector,
    pub(super) handles: Vec<H>,
}

impl<H> Sink<H> {
    pub(super) fn new(collector: Collector) -> Self {
        Sink {
            collector,
            handles: Vec::new(),
        }
    }

    /// Hands one `put(tag, bytes, lo, hi)` to the collector and keeps `handle` to its
    /// bytes when it took them.
    pub(super) fn deliver(
        sink: &Mutex<Self>,
        plan: &TreePlan,
        (tag, bytes, lo, hi): (u32, &[u8], u64, u64),
        handle: H,
    ) -> wasmtime::Result<()> {
        let mut sink = sink
            .lock()
            .map_err(|_| wasmtime::Error::msg("compsnap sink poisoned"))?;
        let taken = sink
            .collector
            .put(plan, tag, bytes, [lo, hi])
            .map_err(wasmtime::Error::from_anyhow)?;
        if taken {
            sink.handles.push(handle);
        }
        Ok(())
    }
}

/// The sink back, once nothing else holds it.
pub(super) fn take<H>(sink: Arc<Mutex<Sink<H>>>) -> Result<Sink<H>> {
    Arc::try_unwrap(sink)
        .map_err(|_| anyhow!("the sink is still referenced"))?
        .into_inner()
        .map_err(|_| anyhow!("the sink panicked"))
}

fn add_sink<T: 'static>(
    linker: &mut Linker<T>,
    plan: Arc<TreePlan>,
    sink: Arc<Mutex<Sink<WasmList<u8>>>>,
) -> Result<()> {
    // Only a weak reference lives in the linker, so the sink can be taken back afterwards.
    let weak = Arc::downgrade(&sink);
    linker
        .root()
        .func_wrap(
            SINK_IMPORT,
            move |store: StoreContextMut<'_, T>,
                  (tag, data, lo, hi): (u32, WasmList<u8>, u64, u64)| {
                let sink = weak
                    .upgrade()
                    .ok_or_else(|| wasmtime::Error::msg("compsnap sink called after the run"))?;
                let bytes = data.as_le_slice(&store);
                Sink::deliver(&sink, &plan, (tag, bytes, lo, hi), data)
            },
        )
        .map_err(|e| anyhow!("defining {SINK_IMPORT}: {e}"))
}

fn call_init<T: 'static>(
    store: &mut Store<T>,
    instance: &Instance,
    init: &InitFunc,
) -> wasmtime::Result<()> {
    let name = match init.core {
        Some(_) => CORE_INIT_EXPORT,
        None => &init.func,
    };
    let func = export_func(store, instance, init.interface.as_deref(), name)
        .map_err(wasmtime::Error::msg)?;
    let ty = func.ty(&*store);
    let params: Vec<Val> = match &init.args {
        Some(args) => wave_params(store, &func, args)
            .map_err(|e| wasmtime::Error::msg(format!("bad WAVE arguments `{args}`: {e}")))?,
        None if ty.params().len() == 0 => Vec::new(),
        None => {
            return Err(wasmtime::Error::msg(format!(
                "it takes {} parameter(s); pass them as WAVE, e.g. `{}(...)`",
                ty.params().len(),
                init.spec
            )))
        }
    };
    let mut results = vec![Val::Bool(false); ty.results().len()];
    func.call(&mut *store, &params, &mut results)
}

/// Turns a Wasmtime failure into a message that says what to do about it.
pub(super) fn explain(e: wasmtime::Error, what: &str, opts: &RunOptions) -> anyhow::Error {
    if let Some(denied) = e.downcast_ref::<DeniedImport>() {
        let hint = if opts.allow_wasi {
            "compsnap provides only the WASI preview 2 interfaces of wasmtime-wasi (cli, clocks, filesystem, io, random, sockets)"
        } else {
            "imports are not available during init unless you pass --allow-wasi"
        };
        return anyhow!("{what} failed: {denied}, but {hint}");
    }
    if let Some(limit) = e.downcast_ref::<MemoryLimitExceeded>() {
        return anyhow!("{what} failed: {limit}");
    }
    if e.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
        let secs = opts.timeout.map_or(0.0, |t| t.as_secs_f64());
        return anyhow!("{what} did not finish within {secs} s (--init-timeout)");
    }
    // `{:#}` keeps the cause chain and the Wasm backtrace, without a Rust stack trace.
    anyhow!("{what} failed: {e:#}")
}

/// Bumps the engine's epoch once the timeout passes, unless dropped first.
pub(super) struct Watchdog {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watchdog {
    pub(super) fn start(engine: &Engine, timeout: Duration) -> Self {
        let (stop, rx) = mpsc::channel::<()>();
        let engine = engine.clone();
        let thread = std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(timeout) {
                engine.increment_epoch();
            }
        });
        Watchdog {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
