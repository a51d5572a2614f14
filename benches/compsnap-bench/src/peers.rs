//! What compsnap is compared with: plain Wasmtime (compile, instantiate, run the init, call),
//! and wasmtime-wizer 48's component snapshotting, each on the same input and host setup.

use crate::inputs::{Input, Setup};
use anyhow::{anyhow, Context, Result};
use std::time::{Duration, Instant};
use wasmtime::component::{Component, Instance, InstancePre, Linker, Val};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::p2::pipe::MemoryInputPipe;
use wasmtime_wasi::{FsPerms, ResourceTable, WasiCtx, WasiCtxView, WasiView};

pub struct Host {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The engine compsnap's own runs use, so compile times compare like for like.
pub fn engine(lazy_tables: bool) -> Engine {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.wasm_multi_memory(true);
    config.table_lazy_init(lazy_tables);
    Engine::new(&config).expect("engine")
}

/// WASI as the setup gives it: env, stdin and preopens (preview 2 or preview 1 is built
/// from it). The preopens are read-only, as compsnap gives them: an init that may write
/// leaves files behind (componentize-py writes `__pycache__`), which changes what every later
/// run of the same input sees.
pub fn wasi(setup: &Setup) -> Result<wasmtime_wasi::WasiCtxBuilder> {
    let mut wasi = WasiCtx::builder();
    for (k, v) in &setup.env {
        wasi.env(k, v);
    }
    if let Some(stdin) = &setup.stdin {
        wasi.stdin(MemoryInputPipe::new(stdin.clone()));
    }
    for (host, guest) in &setup.dirs {
        wasi.preopened_dir(host, guest, FsPerms::ReadOnly)
            .map_err(|e| anyhow!("preopen {}: {e}", host.display()))?;
    }
    Ok(wasi)
}

pub fn store(engine: &Engine, setup: &Setup) -> Result<Store<Host>> {
    let mut wasi = wasi(setup)?;
    Ok(Store::new(
        engine,
        Host {
            wasi: wasi.build(),
            table: ResourceTable::new(),
        },
    ))
}

/// A pre-linked component: WASI when the setup uses it, traps for any other import.
pub fn prepare(engine: &Engine, component: &Component, setup: &Setup) -> Result<InstancePre<Host>> {
    let mut linker = Linker::<Host>::new(engine);
    // A core init runs through compsnap's lift, which comes with the (here unused) sink.
    let ty = component.component_type();
    if ty.imports(engine).any(|(name, _)| name == "compsnap-sink") {
        linker
            .root()
            .func_new("compsnap-sink", |_, _, _, _| Ok(()))
            .map_err(|e| anyhow!("{e}"))?;
    }
    if setup.wasi {
        // WASI is found by semver-compatible lookup, which an exact-name stub would shadow.
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| anyhow!("{e}"))?;
        compsnap::stub_unprovided_wasi(&mut linker, component, engine)?;
    } else {
        linker
            .define_unknown_imports_as_traps(component)
            .map_err(|e| anyhow!("{e}"))?;
    }
    linker
        .instantiate_pre(component)
        .map_err(|e| anyhow!("{e}"))
}

/// Makes the WAVE call `call` (`name(args)` or `iface#name(args)`).
pub fn call(store: &mut Store<Host>, instance: &Instance, call: &str) -> Result<Vec<Val>> {
    compsnap::call(store, instance, call)?.map_err(|e| anyhow!("{call}: {e:?}"))
}

/// The init as plain Wasmtime runs it. A core init (which the component does not lift) runs
/// through compsnap's lift, the only way to reach it; compile time is still the original's.
pub struct Baseline {
    pub compile: Duration,
    /// Instantiate + init + first call, on the compiled component.
    pub start: Duration,
    pub first_call: Vec<Val>,
}

pub fn baseline(input: &Input) -> Result<Baseline> {
    let engine = engine(true);
    let t = Instant::now();
    let original = Component::new(&engine, &input.bytes).map_err(|e| anyhow!("{e}"))?;
    let compile = t.elapsed();
    let runnable = match core_init_lifted(input)? {
        Some(bytes) => Component::new(&engine, bytes).map_err(|e| anyhow!("{e}"))?,
        None => original,
    };
    let pre = prepare(&engine, &runnable, &input.setup)?;
    let init = match core_init_lifted(input)? {
        Some(_) => compsnap::internals::CORE_INIT_EXPORT.to_string(),
        None => input.setup.init.clone(),
    };
    let t = Instant::now();
    let mut store = store(&engine, &input.setup)?;
    let instance = pre.instantiate(&mut store).map_err(|e| anyhow!("{e}"))?;
    call(&mut store, &instance, &init).context("init")?;
    let first_call = call(&mut store, &instance, &input.call)?;
    Ok(Baseline {
        compile,
        start: t.elapsed(),
        first_call,
    })
}

/// The input with compsnap's lift of its core init, when the init is a core function.
fn core_init_lifted(input: &Input) -> Result<Option<Vec<u8>>> {
    compsnap::internals::lift_core_init(&input.bytes, &input.setup.init)
}

/// Instantiate + first call on an already compiled component (a snapshot: no init).
pub fn start(
    engine: &Engine,
    pre: &InstancePre<Host>,
    input: &Input,
) -> Result<(Duration, Vec<Val>)> {
    let t = Instant::now();
    let mut store = store(engine, &input.setup)?;
    let instance = pre.instantiate(&mut store).map_err(|e| anyhow!("{e}"))?;
    let results = call(&mut store, &instance, &input.call)?;
    Ok((t.elapsed(), results))
}

/// Instantiation alone.
pub fn instantiate(engine: &Engine, pre: &InstancePre<Host>, input: &Input) -> Result<Duration> {
    let mut store = store(engine, &input.setup)?;
    let t = Instant::now();
    pre.instantiate(&mut store).map_err(|e| anyhow!("{e}"))?;
    Ok(t.elapsed())
}

/// wasmtime-wizer 48 on the same input: its output, or why it refused. It keeps the init
/// export (`keep`): removing it, its default, leaves the lifted export's alias of the removed
/// core export dangling, so its output does not validate (tests/snapshot.rs has the case).
pub fn wizer(input: &Input, keep: bool) -> Result<Vec<u8>> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.wasm_multi_memory(true);
    let engine = Engine::new(&config).map_err(|e| anyhow!("{e}"))?;
    let mut store = store(&engine, &input.setup)?;
    let setup = input.setup.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut wizer = wasmtime_wizer::Wizer::new();
    // wasmtime-wizer spells an interface function `iface.func`.
    let init = match input.setup.init.split_once('(') {
        Some((name, args)) => format!("{}({args}", name.replacen('#', ".", 1)),
        None => input.setup.init.replacen('#', ".", 1),
    };
    wizer.init_func(init).keep_init_func(keep);
    let (bytes, _) = runtime
        .block_on(
            wizer.run_component(&mut store, &input.bytes, async |store, component| {
                let mut linker = Linker::<Host>::new(store.engine());
                if setup.wasi {
                    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
                    compsnap::stub_unprovided_wasi(&mut linker, component, store.engine())
                        .map_err(wasmtime::Error::from_anyhow)?;
                } else {
                    linker.define_unknown_imports_as_traps(component)?;
                }
                linker.instantiate_async(store, component).await
            }),
        )
        .map_err(|e| anyhow!("{}", format!("{e:#}").lines().next().unwrap_or("")))?;
    Ok(bytes)
}
