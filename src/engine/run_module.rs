//! Running a core module input: Wasmtime's core API with WASI preview 1 (what Wizer gives a
//! core module), the instrumented module and, next to it, the accessor the host links
//! itself. The stream the accessor sends is the same as in a component, so the snapshot is
//! decoded by the same [`Collector`].

use super::compile::{compile_cached, Storing};
use super::fs_view::{self, FsView, FsViewHost};
use super::host::{refuse_live_handles, wasi_builder, DeniedImport, MemoryLimit};
use super::host_probe;
use super::run::{explain, take, Sink, Watchdog};
use super::{Dumped, RunOptions, RunTimings, World};
use crate::protocol::{CoreBinding, CoreInstrumented, CORE_DUMP_EXPORT};
use crate::snapshot::Collector;
use anyhow::{anyhow, bail, Result};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use wasmtime::{
    Caller, Engine, Extern, ExternType, Func, Instance, Linker, Memory, MemoryType, Module, Store,
    Trap,
};
use wasmtime_wasi::p1::WasiP1Ctx;

/// A WASI reactor's initialization export: called before the init, and gone from the output.
pub const REACTOR_INIT: &str = "_initialize";

/// Store data of a core module's run.
pub(crate) struct CoreHost {
    wasi: WasiP1Ctx,
    limits: MemoryLimit,
    fs_view: FsView,
}

impl FsViewHost for CoreHost {
    fn fs_view(&mut self) -> &mut FsView {
        &mut self.fs_view
    }
}

/// Instantiates the instrumented module (its start function runs), calls the core function
/// `init` (`[] -> []`), then links the accessor and streams the state into a collector,
/// which `then` gets while the guest lives; then makes `calls` on the same instance (their
/// outcomes as `verify` prints them). It compiles with the first of `engines` (see
/// [`super::core_engines`]) that compiles the module, its accessor and the preloads.
pub fn run_core<R: Send>(
    engines: &super::Engines,
    instrumented: &CoreInstrumented,
    init: Option<&str>,
    opts: &RunOptions,
    calls: &[String],
    then: impl FnOnce(Dumped<'_>) -> Result<R> + Send,
) -> Result<(R, Vec<String>)> {
    super::on_guest_stack(|| run_core_here(engines, instrumented, init, opts, calls, then))
}

fn run_core_here<R>(
    engines: &super::Engines,
    instrumented: &CoreInstrumented,
    init: Option<&str>,
    opts: &RunOptions,
    calls: &[String],
    then: impl FnOnce(Dumped<'_>) -> Result<R>,
) -> Result<(R, Vec<String>)> {
    let mut timings = RunTimings::default();
    opts.progress(|| format!("compiling {:.1} MB", instrumented.module.len() as f64 / 1e6));
    let t = Instant::now();
    let (compiler, engine, compiled) =
        super::compile_first(engines, |engine| compile(engine, instrumented, opts))?;
    let Compiled {
        module,
        accessor,
        cached,
        storing,
        linker,
        mut store,
    } = compiled;
    timings.compile = t.elapsed();
    timings.cached = cached;
    timings.compiler = compiler;

    let watchdog = opts.timeout.map(|t| Watchdog::start(&engine, t));
    if watchdog.is_some() {
        store.set_epoch_deadline(1);
        store.epoch_deadline_trap();
    }
    opts.progress(|| "instantiating (start functions run)".into());
    let t = Instant::now();
    let instance = linker.instantiate(&mut store, &module).map_err(|e| {
        explain(
            e,
            "instantiating the module (its start function runs here)",
            opts,
        )
    })?;
    timings.instantiate = t.elapsed();
    let t = Instant::now();
    if let Some(init) = init {
        opts.progress(|| format!("running `{init}`"));
        // A WASI reactor's `_initialize` runs first, as Wizer runs it.
        let reactor = instance.get_typed_func::<(), ()>(&mut store, REACTOR_INIT);
        if let Ok(reactor) = reactor {
            reactor
                .call(&mut store, ())
                .map_err(|e| trapped(e, REACTOR_INIT, opts))?;
        }
        if init != REACTOR_INIT {
            let func = instance
                .get_typed_func::<(), ()>(&mut store, init)
                .map_err(|e| anyhow!("init function `{init}`: {e}"))?;
            func.call(&mut store, ())
                .map_err(|e| trapped(e, init, opts))?;
        }
    }
    timings.init = t.elapsed();
    if init.is_some() {
        use wasmtime_wasi::WasiView;
        refuse_live_handles(store.data_mut().wasi.ctx().table)?;
    }
    let timed = watchdog.is_some();
    drop(watchdog);
    if timed {
        // Reading state must not be cut short by the init's timeout.
        store.set_epoch_deadline(u64::MAX / 2);
    }

    opts.progress(|| "reading state and probing tables".into());
    let t = Instant::now();
    let plan = Arc::new(instrumented.plan.clone());
    let sink = Arc::new(Mutex::new(Sink::new(Collector::new(&plan))));
    let mut imports = Vec::new();
    let mut scratch = None;
    for (name, binding) in &instrumented.bindings {
        let item = match binding {
            CoreBinding::Scratch { pages } => {
                let ty = MemoryType::new(*pages as u32, None);
                let memory = Memory::new(&mut store, ty)
                    .map_err(|e| anyhow!("creating the accessor's scratch memory: {e}"))?;
                scratch = Some(memory);
                Extern::Memory(memory)
            }
            CoreBinding::Put { memory } => {
                let memory = match memory {
                    None => scratch,
                    Some(export) => instance.get_memory(&mut store, export),
                }
                .ok_or_else(|| anyhow!("instrumentation bug: no memory for `{name}`"))?;

                Extern::Func(put(&mut store, memory, plan.clone(), sink.clone()))
            }
            CoreBinding::Export(export) => instance
                .get_export(&mut store, export)
                .ok_or_else(|| anyhow!("instrumentation bug: no export `{export}`"))?,
        };
        imports.push(item);
    }
    let dump = Instance::new(&mut store, &accessor, &imports)
        .and_then(|a| a.get_typed_func::<(), ()>(&mut store, CORE_DUMP_EXPORT))
        .map_err(|e| anyhow!("instrumentation bug: linking the accessor: {e}"))?;
    if let Ok(mut sink) = sink.lock() {
        sink.collector.begin(0);
    }
    dump.call(&mut store, ())
        .map_err(|e| anyhow!("reading the state after init failed: {e:#}"))?;
    let Sink {
        mut collector,
        mut handles,
    } = take(sink)?;
    let probed = host_probe::probe(&mut store, &instance, &plan.scopes[0])
        .map_err(|e| anyhow!("reading the state after init failed: {e:#}"))?;
    for (tag, bytes) in probed {
        if collector.put(&plan, tag, &bytes, [0, 0])? {
            handles.push(None);
        }
    }
    timings.dump = t.elapsed();
    let views = (handles.iter())
        .map(|chunk| match chunk {
            Some((memory, range)) => &memory.data(&store)[range.clone()],
            None => &[][..],
        })
        .collect::<Vec<_>>();
    let memory = views.iter().map(|v| v.len()).sum();
    let result = then(Dumped {
        collector,
        views,
        timings,
        storing,
    })?;
    let mut outcomes = Vec::new();
    for call in calls {
        outcomes.push(super::call::outcome(super::call::call_core(
            &mut store, &instance, call,
        )?));
    }
    super::drop_guest((store, linker, module, accessor), memory);
    Ok((result, outcomes))
}

/// A core module input compiled with one engine, and its host.
struct Compiled {
    module: Module,
    accessor: Module,
    cached: bool,
    /// The cache entry being written while the guest runs.
    storing: Storing,
    linker: Linker<CoreHost>,
    store: Store<CoreHost>,
}

/// Compiles the instrumented module and its accessor with `engine`, and builds the host
/// (which compiles the preloads).
fn compile(
    engine: &Engine,
    instrumented: &CoreInstrumented,
    opts: &RunOptions,
) -> Result<Compiled> {
    let (module, cached, storing) =
        compile_cached::<Module>(engine, &instrumented.module, opts.cache.as_ref())?;
    let accessor = Module::new(engine, &instrumented.accessor)
        .map_err(|e| anyhow!("instrumentation bug: the accessor does not compile: {e}"))?;
    let (linker, store) = core_host(engine, &module, opts)?;
    Ok(Compiled {
        module,
        accessor,
        cached,
        storing,
        linker,
        store,
    })
}

/// compsnap's host for a core module: WASI preview 1 when allowed (with the options' env,
/// stdin and preopens), the preloaded modules, and failing stand-ins for every other import.
pub(crate) fn core_host(
    engine: &Engine,
    module: &Module,
    opts: &RunOptions,
) -> Result<(Linker<CoreHost>, Store<CoreHost>)> {
    let host = CoreHost {
        wasi: wasi_builder(opts)?.build_p1(),
        limits: MemoryLimit::new(opts),
        fs_view: FsView::new(opts.world.wall()),
    };
    let mut store = Store::new(engine, host);
    store.limiter(|h| &mut h.limits);
    let mut linker = Linker::<CoreHost>::new(engine);
    if opts.allow_wasi {
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |h| &mut h.wasi)
            .map_err(|e| anyhow!("adding WASI to the linker: {e}"))?;
        if let World::Deterministic { .. } = opts.world {
            fs_view::add_to_core_linker(&mut linker, &mut store)?;
        }
    }
    for (name, bytes) in &opts.preloads {
        let preload = Module::new(engine, bytes)
            .map_err(|e| anyhow!("preloaded module `{name}` does not compile: {e}"))?;
        linker
            .module(&mut store, name, &preload)
            .map_err(|e| anyhow!("instantiating preloaded module `{name}`: {e}"))?;
    }
    stub_missing_imports(&mut linker, &mut store, module)?;
    Ok((linker, store))
}

/// Where a `put`'s bytes are: a range of a memory of the store (`None`: sent by the host).
type Chunk = Option<(Memory, std::ops::Range<usize>)>;

/// `put(tag, offset, len, lo, hi)` over `memory`: hands the bytes (or a global's value) to
/// the collector in place, and keeps where they are.
fn put(
    store: &mut Store<CoreHost>,
    memory: Memory,
    plan: Arc<crate::protocol::TreePlan>,
    sink: Arc<Mutex<Sink<Chunk>>>,
) -> Func {
    // Only a weak reference lives in the store, so the sink can be taken back afterwards.
    let weak = Arc::downgrade(&sink);
    Func::wrap(
        store,
        move |caller: Caller<'_, CoreHost>, tag: u32, offset: u32, len: u32, lo: u64, hi: u64| {
            let sink = weak
                .upgrade()
                .ok_or_else(|| wasmtime::Error::msg("compsnap sink called after the run"))?;
            let range = offset as usize..offset as usize + len as usize;
            let bytes = memory
                .data(&caller)
                .get(range.clone())
                .ok_or_else(|| wasmtime::Error::msg("compsnap sink: bytes out of bounds"))?;
            let call = (tag, bytes, lo, hi);
            Sink::deliver(&sink, &plan, call, Some((memory, range)))
        },
    )
}

/// Defines every function import the linker does not provide as one that fails with
/// [`DeniedImport`] when called, so an init that never calls it still runs. Other imports
/// nobody provides (an immutable global) are an error before anything runs.
fn stub_missing_imports(
    linker: &mut Linker<CoreHost>,
    store: &mut Store<CoreHost>,
    module: &Module,
) -> Result<()> {
    for import in module.imports() {
        if linker.get_by_import(&mut *store, &import).is_some() {
            continue;
        }
        let name = format!("{}::{}", import.module(), import.name());
        let ExternType::Func(ty) = import.ty() else {
            bail!("the module imports `{name}`, which compsnap cannot provide");
        };
        let owned = name.clone();
        linker
            .func_new(import.module(), import.name(), ty, move |_, _, _| {
                Err(wasmtime::Error::new(DeniedImport(owned.clone())))
            })
            .map_err(|e| anyhow!("stubbing import `{name}`: {e}"))?;
    }
    Ok(())
}

/// The init's failure, as Wizer words it (`the `init` function trapped`, then each cause),
/// which pipelines built around Wizer parse; or the clearer message [`explain`] has for a
/// missing import, the memory limit or the timeout.
fn trapped(e: wasmtime::Error, init: &str, opts: &RunOptions) -> anyhow::Error {
    if let Some(missing) = e.downcast_ref::<DeniedImport>() {
        let hint = match opts.allow_wasi {
            true => "which neither WASI preview 1 nor anything else provides during init",
            false => "but imports are not available during init unless you pass --allow-wasi",
        };
        return anyhow!("init function `{init}` failed: {missing}, {hint}");
    }
    let known = e.downcast_ref::<Trap>() == Some(&Trap::Interrupt)
        || e.downcast_ref::<super::host::MemoryLimitExceeded>()
            .is_some();
    if known {
        return explain(e, &format!("init function `{init}`"), opts);
    }
    let causes: Vec<String> = e.chain().map(|c| c.to_string()).collect();
    let mut error = anyhow!("{}", causes.last().cloned().unwrap_or_default());
    for cause in causes.iter().rev().skip(1) {
        error = error.context(cause.clone());
    }
    error.context(format!("the `{init}` function trapped"))
}
