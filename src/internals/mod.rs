//! Entry points into the pure stages for compsnap's own tests, fuzz targets and benchmark,
//! behind the non-default `internals` feature. Not a stable API.

use crate::model::{self, InitFunc};
use crate::output::validate;
use crate::rewrite::{self, RewriteOptions};
use crate::snapshot::Snapshot;
use crate::{instrument, read_input};
use anyhow::Result;

pub mod trees;

pub use crate::protocol::CORE_INIT_EXPORT;

/// The instantiation tree of a component, as the model sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    /// Nodes of the tree: the root and one per instantiation of a nested definition.
    pub nodes: usize,
    /// Where each core instance sits, by DFS id, as error messages name it.
    pub instances: Vec<String>,
}

/// The instantiation tree of `component` (binary).
pub fn tree(component: &[u8]) -> Result<Tree> {
    let mut inlined = None;
    let model = model::parse_inlining(component, &mut inlined)?;
    Ok(Tree {
        nodes: model.nodes.len(),
        instances: (0..model.instance_count)
            .map(|d| model.describe(d))
            .collect(),
    })
}

/// Runs parse → instrument → rewrite without an engine, on a synthetic state derived from
/// `state_seed` (see [`Snapshot::synthetic`]). Inputs compsnap refuses return `Err`; an
/// instrumented or rewritten component that does not validate is a compsnap bug and panics.
/// This is what the fuzz targets in `fuzz/` drive.
pub fn offline_pipeline(component: &[u8], state_seed: &[u8]) -> Result<Vec<u8>> {
    let mut inlined = None;
    let model = model::parse_inlining(component, &mut inlined)?;
    let (instrumented, _plan) = instrument::instrument(&model, None)?;
    if let Err(e) = validate(&instrumented) {
        panic!("bug: the instrumented component does not validate: {e:#}");
    }
    let snapshot = Snapshot::synthetic(&model, state_seed);
    let init = InitFunc {
        spec: String::new(),
        interface: None,
        func: String::new(),
        args: None,
        core: None,
    };
    let opts = RewriteOptions {
        keep_init_func: true,
        max_gap: None,
    };
    let out = rewrite::rewrite(&model, &snapshot, &init, opts)?
        .rope
        .into_bytes();
    if let Err(e) = validate(&out) {
        panic!("bug: the rewritten component does not validate: {e:#}");
    }
    Ok(out)
}

/// The instrumented component for `input` (binary or WAT) with init `init`: what the engine
/// compiles and runs. The golden fixtures print it.
pub fn instrument(input: &[u8], init: &str) -> Result<Vec<u8>> {
    let bytes = read_input(input)?;
    let mut inlined = None;
    let model = model::parse_inlining(&bytes, &mut inlined)?;
    let init = InitFunc::resolve(init, &model)?;
    Ok(instrument::instrument(&model, init.core.as_ref())?.0)
}

/// `input` with its core init function lifted as [`CORE_INIT_EXPORT`] (and instrumented), or
/// `None` when `init` is a component function: what the benchmark runs as plain Wasmtime.
pub fn lift_core_init(input: &[u8], init: &str) -> Result<Option<Vec<u8>>> {
    let mut inlined = None;
    let model = model::parse_inlining(input, &mut inlined)?;
    let init = InitFunc::resolve(init, &model)?;
    match &init.core {
        None => Ok(None),
        Some(core) => Ok(Some(instrument::instrument(&model, Some(core))?.0)),
    }
}
