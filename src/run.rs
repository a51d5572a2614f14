//! Stage 3: run the instrumented component's init in Wasmtime, then stream its state out.
//!
//! This file and nothing else talks to Wasmtime. Failures are turned into messages a user can
//! act on: which import a denied init called, that the timeout fired, or the trap's Wasm
//! backtrace.

use crate::init_func::InitFunc;
use crate::instrument::TreePlan;
use crate::snapshot::Collector;
use crate::tree_edit::SINK_IMPORT;
use anyhow::{anyhow, bail, Result};
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::wasm_wave;
use wasmtime::component::{
    Component, Instance, Linker, LinkerInstance, ResourceType, Val, WasmList,
};
use wasmtime::{Config, Engine, ResourceLimiter, Store, StoreContextMut, Trap};
use wasmtime_wasi::{FsPerms, ResourceTable, WasiCtx, WasiCtxView, WasiView};

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
    /// Where compiled instrumented components are cached (see `cache`); `None` disables it.
    pub cache_dir: Option<PathBuf>,
    /// Compile without Cranelift's optimizations: the init code runs once, so a cheaper
    /// compile can win end to end.
    pub fast_compile: bool,
    /// Seeds WASI randomness and drives its clocks deterministically, so two runs of the
    /// same init see the same values (`verify` compares such runs).
    pub replay: Option<[u8; 32]>,
    /// The progress line, when one is shown.
    pub progress: Option<Arc<crate::progress::Progress>>,
}

impl RunOptions {
    fn progress(&self, stage: impl FnOnce() -> String) {
        if let Some(p) = &self.progress {
            p.stage(stage());
        }
    }
}

/// Where the time of a run went.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunTimings {
    pub compile: Duration,
    /// The compiled component came from the cache.
    pub cached: bool,
    pub instantiate: Duration,
    pub init: Duration,
    /// Streaming all state out, including every table probe.
    pub dump: Duration,
}

/// Store data of compsnap's own runs.
pub struct Host {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: MemoryLimit,
}

/// Fails (traps) a memory growth beyond `--max-memory`; every other growth is Wasmtime's call.
struct MemoryLimit {
    max: Option<usize>,
}

/// The error a growth beyond `--max-memory` fails with.
#[derive(Debug)]
struct MemoryLimitExceeded {
    desired: usize,
    max: usize,
}

impl std::fmt::Display for MemoryLimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a memory would grow to {} bytes, beyond --max-memory {} bytes",
            self.desired, self.max
        )
    }
}

impl std::error::Error for MemoryLimitExceeded {}

impl ResourceLimiter for MemoryLimit {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        match self.max {
            Some(max) if desired > max => {
                Err(wasmtime::Error::new(MemoryLimitExceeded { desired, max }))
            }
            _ => Ok(true),
        }
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Returned by import stubs when WASI is not allowed, so the error can name the import.
#[derive(Debug)]
struct DeniedImport(String);

impl std::fmt::Display for DeniedImport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the init called the import `{}`", self.0)
    }
}

impl std::error::Error for DeniedImport {}

/// The engine compsnap uses for its own runs.
pub fn engine(opts: &RunOptions) -> Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.wasm_multi_memory(true);
    config.epoch_interruption(opts.timeout.is_some());
    if let Some(parallel) = opts.parallel_compilation {
        config.parallel_compilation(parallel);
    }
    if opts.fast_compile {
        config.cranelift_opt_level(wasmtime::OptLevel::None);
    }
    Engine::new(&config).map_err(|e| anyhow!("creating the Wasmtime engine: {e}"))
}

/// Runs init with compsnap's own host: WASI when allowed, trapping stubs for every other import.
pub fn run(
    engine: &Engine,
    instrumented: &[u8],
    init: Option<&InitFunc>,
    plan: Arc<TreePlan>,
    opts: &RunOptions,
) -> Result<(Collector, RunTimings)> {
    opts.progress(|| format!("compiling {:.1} MB", instrumented.len() as f64 / 1e6));
    let t = Instant::now();
    let (component, cached) =
        crate::cache::compile(engine, instrumented, opts.cache_dir.as_deref())?;
    let compiled = t.elapsed();
    let (mut linker, mut store) = host(engine, &component, opts)?;
    let (collector, mut timings, _) =
        run_instance(&mut store, &mut linker, &component, init, plan, opts, true)?;
    timings.compile = compiled;
    timings.cached = cached;
    Ok((collector, timings))
}

/// compsnap's own host for `component`: WASI as `opts` allow it (with their env, stdin and
/// preopens), trapping stubs for every other import, and the memory limit.
pub(crate) fn host(
    engine: &Engine,
    component: &Component,
    opts: &RunOptions,
) -> Result<(Linker<Host>, Store<Host>)> {
    let mut linker = Linker::<Host>::new(engine);
    if opts.allow_wasi {
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| anyhow!("adding WASI to the linker: {e}"))?;
        // WASI is defined under its own versions and found by semver-compatible lookup; an
        // exact-name stub would shadow it, so only non-WASI imports are stubbed.
        stub_imports(&mut linker, component, engine, |name| {
            !name.starts_with("wasi:")
        })?;
    } else {
        stub_imports(&mut linker, component, engine, |_| true)?;
    }
    let mut wasi = WasiCtx::builder();
    for (k, v) in &opts.env {
        wasi.env(k, v);
    }
    if opts.inherit_env {
        wasi.inherit_env();
    }
    if opts.inherit_stdio {
        wasi.inherit_stdio();
    }
    if let Some(bytes) = &opts.stdin {
        wasi.stdin(wasmtime_wasi::p2::pipe::MemoryInputPipe::new(bytes.clone()));
    }
    if let Some(seed) = &opts.replay {
        replay(&mut wasi, seed);
    }
    for (host, guest) in &opts.dirs {
        wasi.preopened_dir(host, guest, FsPerms::ReadWrite)
            .map_err(|e| anyhow!("preopening directory {}: {e}", host.display()))?;
    }
    let host = Host {
        wasi: wasi.build(),
        table: ResourceTable::new(),
        limits: MemoryLimit {
            max: opts.max_memory,
        },
    };
    let mut store = Store::new(engine, host);
    store.limiter(|h| &mut h.limits);
    Ok((linker, store))
}

/// Random bytes from `seed` and clocks that tick the same way in every run: the wall clock
/// stands at the moment the seed was made, the monotonic clock advances 1 µs per reading.
fn replay(wasi: &mut wasmtime_wasi::WasiCtxBuilder, seed: &[u8; 32]) {
    use sha2::{Digest, Sha256};
    use std::sync::atomic::{AtomicU64, Ordering};
    let stream = |label: u8| {
        let mut bytes = Vec::with_capacity(64 * 32);
        for block in 0u32..64 {
            let mut h = Sha256::new();
            h.update(seed);
            h.update([label]);
            h.update(block.to_le_bytes());
            bytes.extend_from_slice(&h.finalize());
        }
        bytes
    };
    struct Wall(Duration);
    impl wasmtime_wasi::HostWallClock for Wall {
        fn resolution(&self) -> Duration {
            Duration::from_micros(1)
        }
        fn now(&self) -> Duration {
            self.0
        }
    }
    struct Ticks(AtomicU64);
    impl wasmtime_wasi::HostMonotonicClock for Ticks {
        fn resolution(&self) -> u64 {
            1_000
        }
        fn now(&self) -> u64 {
            self.0.fetch_add(1_000, Ordering::Relaxed)
        }
    }
    let insecure = stream(1);
    let mut seed128 = [0u8; 16];
    seed128.copy_from_slice(&stream(2)[..16]);
    let wall = u64::from_le_bytes(seed[..8].try_into().unwrap_or_default());
    wasi.secure_random(wasmtime_wasi::Deterministic::new(stream(0)))
        .insecure_random(wasmtime_wasi::Deterministic::new(insecure))
        .insecure_random_seed(u128::from_le_bytes(seed128))
        // Some time in 2020–2035, so guests that sanity-check the date are content.
        .wall_clock(Wall(Duration::from_secs(
            1_600_000_000 + wall % 450_000_000,
        )))
        .monotonic_clock(Ticks(AtomicU64::new(1_000_000_000)));
}

/// Compiles the instrumented component.
pub fn compile(engine: &Engine, instrumented: &[u8]) -> Result<Component> {
    Component::new(engine, instrumented)
        .map_err(|e| anyhow!("Wasmtime cannot compile the component: {e:#}"))
}

/// Runs init with the caller's store and linker; only the sink import is added to `linker`.
pub fn run_with<T: 'static>(
    store: &mut Store<T>,
    linker: &mut Linker<T>,
    component: &Component,
    init: Option<&InitFunc>,
    plan: Arc<TreePlan>,
    opts: &RunOptions,
) -> Result<(Collector, RunTimings)> {
    let (collector, timings, _) = run_instance(store, linker, component, init, plan, opts, false)?;
    Ok((collector, timings))
}

/// [`run_with`], also returning the instance, which can still be called after the dump.
/// `own_host` marks compsnap's own linker (from [`host`]), which may stub the WASI
/// interfaces it does not provide.
pub(crate) fn run_instance<T: 'static>(
    store: &mut Store<T>,
    linker: &mut Linker<T>,
    component: &Component,
    init: Option<&InitFunc>,
    plan: Arc<TreePlan>,
    opts: &RunOptions,
    own_host: bool,
) -> Result<(Collector, RunTimings, Instance)> {
    let mut timings = RunTimings::default();
    let collector = Arc::new(Mutex::new(Collector::new(&plan)));
    add_sink(linker, plan.clone(), collector.clone())?;
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
        if let Ok(mut collector) = collector.lock() {
            collector.begin(i);
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
    let collector = Arc::try_unwrap(collector)
        .map_err(|_| anyhow!("the sink is still referenced by the linker"))?
        .into_inner()
        .map_err(|_| anyhow!("the sink panicked"))?;
    Ok((collector, timings, instance))
}

fn add_sink<T: 'static>(
    linker: &mut Linker<T>,
    plan: Arc<TreePlan>,
    collector: Arc<Mutex<Collector>>,
) -> Result<()> {
    // Only a weak reference lives in the linker, so the collector can be taken back afterwards.
    let weak = Arc::downgrade(&collector);
    linker
        .root()
        .func_wrap(
            SINK_IMPORT,
            move |store: StoreContextMut<'_, T>, (tag, data): (u32, WasmList<u8>)| {
                let collector = weak
                    .upgrade()
                    .ok_or_else(|| wasmtime::Error::msg("compsnap sink called after the run"))?;
                let bytes = data.as_le_slice(&store);
                let mut collector = collector
                    .lock()
                    .map_err(|_| wasmtime::Error::msg("compsnap sink poisoned"))?;
                collector
                    .put(&plan, tag, bytes)
                    .map_err(wasmtime::Error::from_anyhow)
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
        Some(_) => crate::init_func::CORE_INIT_EXPORT,
        None => &init.func,
    };
    let func = export_func(store, instance, init.interface.as_deref(), name)
        .map_err(wasmtime::Error::msg)?;
    let ty = func.ty(&*store);
    let param_types: Vec<_> = ty.params().map(|(_, t)| t).collect();
    let params: Vec<Val> = match &init.args {
        Some(args) => wasm_wave::untyped::UntypedFuncCall::parse(&format!("f{args}"))
            .and_then(|call| call.to_wasm_params::<Val>(param_types.iter()))
            .map_err(|e| wasmtime::Error::msg(format!("bad WAVE arguments `{args}`: {e}")))?,
        None if param_types.is_empty() => Vec::new(),
        None => {
            return Err(wasmtime::Error::msg(format!(
                "it takes {} parameter(s); pass them as WAVE, e.g. `{}(...)`",
                param_types.len(),
                init.spec
            )))
        }
    };
    let mut results = vec![Val::Bool(false); ty.results().len()];
    func.call(&mut *store, &params, &mut results)
}

/// The function export `name` of the root, or of the exported instance `iface`.
pub(crate) fn export_func<T>(
    store: &mut Store<T>,
    instance: &Instance,
    iface: Option<&str>,
    name: &str,
) -> std::result::Result<wasmtime::component::Func, String> {
    let parent = match iface {
        Some(iface) => Some(
            instance
                .get_export_index(&mut *store, None, iface)
                .ok_or_else(|| format!("no exported instance `{iface}`"))?,
        ),
        None => None,
    };
    let index = instance
        .get_export_index(&mut *store, parent.as_ref(), name)
        .ok_or_else(|| format!("no such export: the component has no export `{name}`"))?;
    instance
        .get_func(&mut *store, index)
        .ok_or_else(|| format!("`{name}` is not a function"))
}

/// Turns a Wasmtime failure into a message that says what to do about it.
fn explain(e: wasmtime::Error, what: &str, opts: &RunOptions) -> anyhow::Error {
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

/// Defines the imports of `component` selected by `stub` as functions that fail with
/// [`DeniedImport`].
/// Stubs the WASI interfaces Wasmtime's WASI does not provide (`wasi:http`, say, which
/// ComponentizeJS's engine always imports), found by asking the linker what it cannot match.
/// Call it after `wasmtime_wasi::p2::add_to_linker_sync`, to run components (snapshots
/// included) on the same host compsnap's init runs on:
/// an import is only an error if the init calls it, like every other stubbed import.
/// Resources such an interface shares with a provided one (`wasi:http/types` uses
/// `wasi:io/streams`'s `input-stream`) must be the provided one's host type, or the stub
/// does not type-check.
pub fn stub_unprovided_wasi<T: 'static>(
    linker: &mut Linker<T>,
    component: &Component,
    engine: &Engine,
) -> Result<()> {
    let ty = component.component_type();
    let imports: Vec<_> = ty.imports(engine).collect();
    // Every resource a provided import exports, with the host type WASI gave it.
    let mut shared = Vec::new();
    for (name, item) in &imports {
        if let ComponentItem::ComponentInstance(instance) = &item.ty {
            for (export, item) in instance.exports(engine) {
                if let (ComponentItem::Resource(rt), Some(host)) =
                    (&item.ty, wasi_resource(name, export))
                {
                    shared.push((*rt, host));
                }
            }
        }
    }
    let mut stubbed = std::collections::HashSet::new();
    while let Err(e) = linker.instantiate_pre(component) {
        // "component imports instance `wasi:http/types@0.2.10`, but a matching …"
        let message = format!("{e}");
        let name = message
            .strip_prefix("component imports ")
            .and_then(|rest| rest.split('`').nth(1));
        let Some((name, item)) = name.and_then(|n| imports.iter().find(|(i, _)| *i == n)) else {
            break;
        };
        if !name.starts_with("wasi:") || !stubbed.insert(name.to_string()) {
            break;
        }
        linker.allow_shadowing(true);
        stub_item(&mut linker.root(), name, name, &item.ty, engine, &shared)?;
        linker.allow_shadowing(false);
    }
    Ok(())
}

/// The host type Wasmtime's WASI gives the resources other WASI interfaces borrow.
fn wasi_resource(interface: &str, resource: &str) -> Option<ResourceType> {
    use wasmtime_wasi::p2::{DynInputStream, DynOutputStream, DynPollable, IoError};
    let interface = interface.split('@').next().unwrap_or(interface);
    Some(match (interface, resource) {
        ("wasi:io/streams", "input-stream") => ResourceType::host::<DynInputStream>(),
        ("wasi:io/streams", "output-stream") => ResourceType::host::<DynOutputStream>(),
        ("wasi:io/poll", "pollable") => ResourceType::host::<DynPollable>(),
        ("wasi:io/error", "error") => ResourceType::host::<IoError>(),
        _ => return None,
    })
}

fn stub_imports<T: 'static>(
    linker: &mut Linker<T>,
    component: &Component,
    engine: &Engine,
    stub: impl Fn(&str) -> bool,
) -> Result<()> {
    let ty = component.component_type();
    for (name, item) in ty.imports(engine) {
        if name == SINK_IMPORT || !stub(name) {
            continue;
        }
        stub_item(&mut linker.root(), name, name, &item.ty, engine, &[])?;
    }
    Ok(())
}

/// Defines `item` as traps. A resource is a fresh host type, unless `shared` maps its
/// component type to the host type another definition already gave it.
fn stub_item<T: 'static>(
    linker: &mut LinkerInstance<'_, T>,
    name: &str,
    path: &str,
    item: &ComponentItem,
    engine: &Engine,
    shared: &[(ResourceType, ResourceType)],
) -> Result<()> {
    match item {
        ComponentItem::ComponentFunc(_) => {
            let owned = path.to_string();
            linker
                .func_new(name, move |_, _, _, _| {
                    Err(wasmtime::Error::new(DeniedImport(owned.clone())))
                })
                .map_err(|e| anyhow!("stubbing import `{path}`: {e}"))?;
        }
        ComponentItem::ComponentInstance(instance) => {
            let mut inner = linker
                .instance(name)
                .map_err(|e| anyhow!("stubbing import `{path}`: {e}"))?;
            for (export, item) in instance.exports(engine) {
                stub_item(
                    &mut inner,
                    export,
                    &format!("{path}#{export}"),
                    &item.ty,
                    engine,
                    shared,
                )?;
            }
        }
        ComponentItem::Resource(rt) => {
            let host = shared
                .iter()
                .find(|(r, _)| r == rt)
                .map(|(_, h)| *h)
                .unwrap_or_else(ResourceType::host::<()>);
            linker
                .resource(name, host, |_, _| Ok(()))
                .map_err(|e| anyhow!("stubbing resource import `{path}`: {e}"))?;
        }
        ComponentItem::Type(_) => {}
        ComponentItem::CoreFunc(_) | ComponentItem::Module(_) | ComponentItem::Component(_) => {
            bail!("import `{path}`: compsnap cannot provide imported core functions, modules or components")
        }
    }
    Ok(())
}

/// Bumps the engine's epoch once the timeout passes, unless dropped first.
struct Watchdog {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watchdog {
    fn start(engine: &Engine, timeout: Duration) -> Self {
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
