//! `compsnap verify`: snapshot a component, then run the original (instantiate + init) and the
//! snapshot (instantiate only) side by side and compare every byte of core state and the
//! results of the calls the user names. It checks the snapshot's promise on the user's input.
//!
//! Both sides run instrumented, as the snapshot run itself does: the instrumentation is
//! additive and idle outside a probe, and it is what reads the state back. Reusing it means
//! the original side compiles the very bytes the snapshot run compiled, so with the compile
//! cache on, verifying costs one compile more than snapshotting.

use crate::init_func::InitFunc;
use crate::snapshot::Snapshot;
use crate::{cache, instrument, parse, read_input, run, Snapshotter};
use anyhow::{anyhow, Context, Result};
use std::sync::Arc;
use wasmtime::component::{wasm_wave, Instance, Val};
use wasmtime::{Engine, Store};

/// What [`verify`] found.
#[derive(Debug, Clone)]
pub struct Verification {
    /// The snapshot that was checked.
    pub output: Vec<u8>,
    pub calls: Vec<CallOutcome>,
    /// The first difference in core state, if any.
    pub state: Option<String>,
}

/// One call, made on the original after init and on the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallOutcome {
    pub call: String,
    /// Results as WAVE, or `trap: …`.
    pub original: String,
    pub snapshot: String,
}

impl Verification {
    pub fn passed(&self) -> bool {
        self.state.is_none() && self.calls.iter().all(|c| c.original == c.snapshot)
    }
}

/// Snapshots `input` with `snap`, then compares the original after init with the snapshot:
/// all core state, and the outcome of each of `calls` (WAVE calls such as `run(3)` or
/// `my:pkg/iface#get("k")`, made in order on one instance of each).
///
/// The init runs twice (once for the snapshot, once for the original), and so do the calls:
/// every run gets the same freshly seeded WASI randomness and deterministic clocks, or an init
/// that reads them could never compare equal.
pub fn verify(snap: &Snapshotter, input: &[u8], calls: &[String]) -> Result<Verification> {
    let mut snap = snap.clone();
    snap.run.replay = Some(fresh_seed());
    let snap = &snap;
    let output = snap.snapshot(input)?;
    let engine = run::engine(&snap.run)?;
    let bytes = read_input(input)?;
    let (before, original) =
        observe(&engine, snap, &bytes, true, calls).context("running the original")?;
    let (after, snapshot) =
        observe(&engine, snap, &output, false, calls).context("running the snapshot")?;
    let calls = calls
        .iter()
        .zip(original.into_iter().zip(snapshot))
        .map(|(call, (original, snapshot))| CallOutcome {
            call: call.clone(),
            original,
            snapshot,
        })
        .collect();
    Ok(Verification {
        state: before.diff(&after),
        calls,
        output,
    })
}

/// A seed no one can predict: the time, the process and an address, hashed.
fn fresh_seed() -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    h.update(now.as_nanos().to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    let local = 0u8;
    h.update((&local as *const u8 as usize).to_le_bytes());
    h.finalize().into()
}

/// Instantiates `bytes` instrumented, runs the init when `run_init`, reads all core state,
/// then makes `calls` on the same instance.
pub(crate) fn observe(
    engine: &Engine,
    snap: &Snapshotter,
    bytes: &[u8],
    run_init: bool,
    calls: &[String],
) -> Result<(Snapshot, Vec<String>)> {
    let model = parse::parse(bytes)?;
    let init = match run_init {
        true => Some(InitFunc::resolve(&snap.init_func, &model)?),
        false => None,
    };
    let core_init = init.as_ref().and_then(|i| i.core.as_ref());
    let (instrumented, plan) = instrument::instrument(&model, core_init)?;
    let plan = Arc::new(plan);
    let (component, _) = cache::compile(engine, &instrumented, snap.run.cache_dir.as_deref())?;
    let (mut linker, mut store) = run::host(engine, &component, &snap.run)?;
    let (collector, _, instance) = run::run_instance(
        &mut store,
        &mut linker,
        &component,
        init.as_ref(),
        plan.clone(),
        &snap.run,
        true,
    )?;
    let mut outcomes = Vec::new();
    for call in calls {
        outcomes.push(match self::call(&mut store, &instance, call)? {
            Ok(results) => wave(&results),
            Err(e) => format!("trap: {}", first_line(&format!("{e:#}"))),
        });
    }
    Ok((collector.finish(&model, &plan)?, outcomes))
}

/// Makes the WAVE call `call` (`name(args)` or `iface#name(args)`) on `instance`. The outer
/// error is a call that cannot be made at all (no such export, bad arguments), the inner one
/// the call's trap.
pub fn call<T>(
    store: &mut Store<T>,
    instance: &Instance,
    call: &str,
) -> Result<Result<Vec<Val>, wasmtime::Error>> {
    let call = call.trim();
    let (name, args) = match call.find('(') {
        Some(p) => (&call[..p], &call[p..]),
        None => (call, "()"),
    };
    let (iface, func) = match name.rsplit_once('#') {
        Some((iface, func)) => (Some(iface), func),
        None => (None, name),
    };
    let func =
        run::export_func(store, instance, iface, func).map_err(|e| anyhow!("`{call}`: {e}"))?;
    let ty = func.ty(&*store);
    let types: Vec<_> = ty.params().map(|(_, t)| t).collect();
    let params: Vec<Val> = wasm_wave::untyped::UntypedFuncCall::parse(&format!("f{args}"))
        .and_then(|c| c.to_wasm_params::<Val>(types.iter()))
        .map_err(|e| anyhow!("`{call}`: bad WAVE arguments: {e}"))?;
    let mut results = vec![Val::Bool(false); ty.results().len()];
    Ok(func
        .call(&mut *store, &params, &mut results)
        .map(|()| results))
}

/// Results as WAVE, comma-separated.
fn wave(results: &[Val]) -> String {
    let printed: Vec<String> = results
        .iter()
        .map(|v| wasm_wave::to_string(v).unwrap_or_else(|e| format!("<{e}>")))
        .collect();
    printed.join(", ")
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}
