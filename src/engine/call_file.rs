//! `compsnap call`: a component or core module instantiated on compsnap's own host, and WAVE
//! calls made on it.

use super::call::{call, call_core, outcome};
use anyhow::{anyhow, Result};

/// Instantiates `bytes` (a component or a core module, binary) on compsnap's own host, as
/// `opts` configure it, and makes `calls` in order on that one instance; returns each
/// outcome as [`outcome`] prints it. What `compsnap call` does.
pub fn run_calls(bytes: &[u8], opts: &super::RunOptions, calls: &[String]) -> Result<Vec<String>> {
    super::on_guest_stack(|| run_calls_here(bytes, opts, calls))
}

fn run_calls_here(bytes: &[u8], opts: &super::RunOptions, calls: &[String]) -> Result<Vec<String>> {
    let engine = super::engine(opts)?;
    let mut outcomes = Vec::new();
    if wasmparser::Parser::is_core_wasm(bytes) {
        let module = wasmtime::Module::new(&engine, bytes)
            .map_err(|e| anyhow!("Wasmtime cannot compile the module: {e:#}"))?;
        let (linker, mut store) = super::run_module::core_host(&engine, &module, opts)?;
        let instance = linker
            .instantiate(&mut store, &module)
            .map_err(|e| anyhow!("instantiating the module: {e:#}"))?;
        for c in calls {
            outcomes.push(outcome(call_core(&mut store, &instance, c)?));
        }
        return Ok(outcomes);
    }
    let component = super::compile::compile_cached(&engine, bytes, None)?.0;
    let (mut linker, mut store) = super::host::host(&engine, &component, opts)?;
    if opts.allow_wasi {
        super::host::stub_unprovided_wasi(&mut linker, &component, &engine)?;
    }
    let instance = linker
        .instantiate(&mut store, &component)
        .map_err(|e| anyhow!("instantiating the component: {e:#}"))?;
    for c in calls {
        outcomes.push(outcome(call(&mut store, &instance, c)?));
    }
    Ok(outcomes)
}
