//! compsnap's own host: WASI preview 2 as the options allow it, trapping stubs for every
//! other import (so an init that calls one fails with its name), the memory limit, and the
//! deterministic clocks and randomness `verify` runs both sides with.

use super::fs_view::{self, FsView, FsViewHost};
use super::{RunOptions, World};
use crate::protocol::SINK_IMPORT;
use anyhow::{anyhow, bail, Result};
use std::time::Duration;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker, LinkerInstance, ResourceType};
use wasmtime::{Engine, ResourceLimiter, Store};
use wasmtime_wasi::{FsPerms, ResourceTable, WasiCtx, WasiCtxView, WasiView};

/// Store data of compsnap's own runs.
pub struct Host {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: MemoryLimit,
    fs_view: FsView,
}

impl FsViewHost for Host {
    fn fs_view(&mut self) -> &mut FsView {
        &mut self.fs_view
    }
}

/// Fails (traps) a memory growth beyond `--max-memory`; every other growth is Wasmtime's call.
pub(crate) struct MemoryLimit {
    max: Option<usize>,
}

impl MemoryLimit {
    /// The limit `opts` set.
    pub(crate) fn new(opts: &RunOptions) -> Self {
        MemoryLimit {
            max: opts.max_memory,
        }
    }
}

/// The error a growth beyond `--max-memory` fails with.
#[derive(Debug)]
pub(crate) struct MemoryLimitExceeded {
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

impl Host {
    /// See [`refuse_live_handles`].
    pub(crate) fn refuse_live_handles(&mut self) -> Result<()> {
        refuse_live_handles(&mut self.table)
    }
}

/// Fails when, after the init, the guest still holds a WASI handle that a snapshot cannot
/// carry: an open file or a socket. Its index would be stale in every instance started
/// from the snapshot (a read returns -1 where the original reads the file). Streams and
/// directories are what the preview1 adapter fetches again on first use (its state block is
/// reset, see `snapshot::collect`), and what a preview 1 module's preopens are, so they
/// may stay.
pub(crate) fn refuse_live_handles(table: &mut ResourceTable) -> Result<()> {
    let mut files = 0;
    let mut sockets = 0;
    for entry in table.iter_mut() {
        let entry: &mut dyn std::any::Any = entry;
        if let Some(wasmtime_wasi::filesystem::Descriptor::File(_)) =
            entry.downcast_ref::<wasmtime_wasi::filesystem::Descriptor>()
        {
            files += 1;
        } else if entry.is::<wasmtime_wasi::p2::TcpSocket>()
            || entry.is::<wasmtime_wasi::p2::UdpSocket>()
        {
            sockets += 1;
        }
    }
    let mut held = Vec::new();
    if files > 0 {
        held.push(format!(
            "{files} open file(s) (wasi:filesystem/types.descriptor)"
        ));
    }
    if sockets > 0 {
        held.push(format!("{sockets} socket(s) (wasi:sockets)"));
    }
    if !held.is_empty() {
        bail!(
            "the init returned still holding {}: a snapshot cannot carry a live WASI \
             handle (it would be stale in every instance started from it); close it \
             before the init returns, or open it again on first use",
            held.join(" and ")
        );
    }
    Ok(())
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Returned by import stubs (imports WASI does not provide, or any import when WASI is not
/// allowed), so the error can name the import.
#[derive(Debug)]
pub(crate) struct DeniedImport(pub(crate) String);

impl std::fmt::Display for DeniedImport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the init called the import `{}`", self.0)
    }
}

impl std::error::Error for DeniedImport {}

/// compsnap's own host for `component`: WASI as `opts` allow it (with their env, stdin and
/// preopens), trapping stubs for every other import, and the memory limit.
pub fn host(
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
        if let World::Deterministic { .. } = opts.world {
            fs_view::add_to_component_linker(&mut linker)?;
        }
    } else {
        stub_imports(&mut linker, component, engine, |_| true)?;
    }
    let host = Host {
        wasi: wasi_builder(opts)?.build(),
        table: ResourceTable::new(),
        limits: MemoryLimit::new(opts),
        fs_view: FsView::new(opts.world.wall()),
    };
    let mut store = Store::new(engine, host);
    store.limiter(|h| &mut h.limits);
    Ok((linker, store))
}

/// The init's WASI context as `opts` ask for it: env, stdio, stdin, preopens, and the
/// clocks and randomness of its [`super::World`]. Components build WASI preview 2 from it,
/// core modules preview 1.
pub(crate) fn wasi_builder(opts: &RunOptions) -> Result<wasmtime_wasi::WasiCtxBuilder> {
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
    if let super::World::Deterministic { seed, wall } = &opts.world {
        deterministic(&mut wasi, seed, *wall);
    }
    // In the deterministic world the init reads the preopened files but cannot change them:
    // a build step's init never writes into the user's tree.
    let perms = match opts.world {
        super::World::Host => FsPerms::ReadWrite,
        super::World::Deterministic { .. } => FsPerms::ReadOnly,
    };
    for (host, guest) in &opts.dirs {
        wasi.preopened_dir(host, guest, perms)
            .map_err(|e| anyhow!("preopening directory {}: {e}", host.display()))?;
    }
    Ok(wasi)
}

/// Random bytes from `seed` and clocks that tick the same way in every run: the wall clock
/// stands at `wall` seconds, the monotonic clock advances 1 µs per reading.
fn deterministic(wasi: &mut wasmtime_wasi::WasiCtxBuilder, seed: &[u8; 32], wall: u64) {
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
    wasi.secure_random(wasmtime_wasi::Deterministic::new(stream(0)))
        .insecure_random(wasmtime_wasi::Deterministic::new(insecure))
        .insecure_random_seed(u128::from_le_bytes(seed128))
        .wall_clock(Wall(Duration::from_secs(wall)))
        .monotonic_clock(Ticks(AtomicU64::new(1_000_000_000)));
}

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

/// Defines the imports of `component` selected by `stub` as functions that fail with
/// [`DeniedImport`].
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
