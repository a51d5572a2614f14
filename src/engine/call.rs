//! Calling a component's exports by name with WAVE arguments: the init, `verify`'s calls,
//! and every harness that runs snapshots.

use anyhow::{anyhow, Result};
use wasmtime::component::{wasm_wave, Func, Instance, Val};
use wasmtime::Store;

/// The function export `name` of the root, or of the exported instance `iface`.
pub fn export_func<T>(
    store: &mut Store<T>,
    instance: &Instance,
    iface: Option<&str>,
    name: &str,
) -> std::result::Result<Func, String> {
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

/// Checks the syntax of WAVE arguments (`(7, "x")`) before anything is compiled; the run
/// parses them again against the function's parameter types.
pub fn check_wave_args(args: &str) -> Result<()> {
    wasm_wave::untyped::UntypedFuncCall::parse(&format!("f{args}"))?;
    Ok(())
}

/// Parses WAVE arguments `args` (with parentheses) against `func`'s parameter types; the
/// error is the parser's message.
pub fn wave_params<T>(
    store: &Store<T>,
    func: &Func,
    args: &str,
) -> std::result::Result<Vec<Val>, String> {
    let ty = func.ty(store);
    let types: Vec<_> = ty.params().map(|(_, t)| t).collect();
    wasm_wave::untyped::UntypedFuncCall::parse(&format!("f{args}"))
        .and_then(|call| call.to_wasm_params::<Val>(types.iter()))
        .map_err(|e| e.to_string())
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
    let func = export_func(store, instance, iface, func).map_err(|e| anyhow!("`{call}`: {e}"))?;
    let params = wave_params(store, &func, args)
        .map_err(|e| anyhow!("`{call}`: bad WAVE arguments: {e}"))?;
    let mut results = vec![Val::Bool(false); func.ty(&*store).results().len()];
    Ok(func
        .call(&mut *store, &params, &mut results)
        .map(|()| results))
}

/// Makes the WAVE call `call` (`name(args)`) on the core function export `name` of
/// `instance`; errors as in [`call`].
pub fn call_core<T>(
    store: &mut Store<T>,
    instance: &wasmtime::Instance,
    call: &str,
) -> Result<Result<Vec<wasmtime::Val>, wasmtime::Error>> {
    let call = call.trim();
    let (name, args) = match call.find('(') {
        Some(p) => (&call[..p], &call[p..]),
        None => (call, "()"),
    };
    let func = instance
        .get_func(&mut *store, name)
        .ok_or_else(|| anyhow!("`{call}`: the module exports no function `{name}`"))?;
    let ty = func.ty(&*store);
    let params = wasm_wave::untyped::UntypedFuncCall::parse(&format!("f{args}"))
        .and_then(|c| c.to_wasm_params::<wasmtime::Val>(ty.params().collect::<Vec<_>>().iter()))
        .map_err(|e| anyhow!("`{call}`: bad WAVE arguments: {e}"))?;
    let mut results = vec![wasmtime::Val::I32(0); ty.results().len()];
    Ok(func
        .call(&mut *store, &params, &mut results)
        .map(|()| results))
}

/// A call's outcome as `verify` prints it: the results as WAVE, or `trap: ` and the first
/// line of the error.
pub fn outcome<V: wasm_wave::wasm::WasmValue>(result: Result<Vec<V>, wasmtime::Error>) -> String {
    match result {
        Ok(results) => wave(&results),
        Err(e) => {
            let e = format!("{e:#}");
            format!("trap: {}", e.lines().next().unwrap_or(&e))
        }
    }
}

/// Results as WAVE, comma-separated.
pub fn wave<V: wasm_wave::wasm::WasmValue>(results: &[V]) -> String {
    let printed: Vec<String> = results
        .iter()
        .map(|v| wasm_wave::to_string(v).unwrap_or_else(|e| format!("<{e}>")))
        .collect();
    printed.join(", ")
}
