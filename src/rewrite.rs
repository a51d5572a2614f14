//! Stage 5: [`Model`] + [`Snapshot`] + original bytes → the pre-initialized component.
//!
//! Starts from the original module bytes (nothing of the instrumentation survives). For each
//! instantiated module: memories get the snapshot size as minimum and the snapshot contents as
//! active data segments (replacing every original active segment, including those that wrote
//! into imported memories, whose contents are in the owner's snapshot); mutable numeric globals
//! get the snapshot value as initializer; the start function goes (its effect is in the
//! snapshot). The init export goes unless it is kept.

use crate::component_edit::{edit_component, ComponentEdit};
use crate::edit::{edit_module, ModuleEdit};
use crate::init_func::InitFunc;
use crate::layout::layout;
use crate::parse::Model;
use crate::snapshot::{GlobalValue, Snapshot};
use anyhow::{bail, Context, Result};
use wasm_encoder::ConstExpr;

/// How the output is written.
#[derive(Debug, Clone, Copy)]
pub struct RewriteOptions {
    pub keep_init_func: bool,
    /// See [`crate::layout::DEFAULT_MAX_GAP`].
    pub max_gap: u64,
}

pub fn rewrite(
    model: &Model,
    snapshot: &Snapshot,
    init: &InitFunc,
    opts: RewriteOptions,
) -> Result<Vec<u8>> {
    let mut modules = vec![None; model.modules.len()];
    for instance in &model.instances {
        let info = &model.modules[instance.module];
        let state = &snapshot.instances[instance.dfs as usize];
        let mut edit = ModuleEdit {
            drop_start: true,
            ..ModuleEdit::default()
        };
        let mut segments = Vec::new();
        for memory in &state.memories {
            edit.memory_mins.insert(memory.index, memory.pages());
            segments.extend(layout(memory.index, &memory.runs, opts.max_gap));
        }
        edit.active_data = Some(segments);
        for (index, value) in &state.globals {
            edit.global_inits.insert(*index, const_expr(*value));
        }
        let bytes = edit_module(info.bytes, edit)
            .with_context(|| format!("rewriting {}", instance.describe(model)))?;
        modules[instance.module] = Some(bytes);
    }
    let remove_export = match (&init.interface, opts.keep_init_func) {
        (_, true) => None,
        (None, false) => Some(init.func.as_str()),
        (Some(iface), false) => bail!(
            "removing an init function exported inside the interface `{iface}` is not \
             supported yet; pass --keep-init-func to keep it"
        ),
    };
    edit_component(
        model.bytes,
        ComponentEdit {
            modules: &modules,
            remove_export,
            append: None,
        },
    )
}

fn const_expr(value: GlobalValue) -> ConstExpr {
    match value {
        GlobalValue::I32(v) => ConstExpr::i32_const(v),
        GlobalValue::I64(v) => ConstExpr::i64_const(v),
        GlobalValue::F32(bits) => ConstExpr::f32_const(wasm_encoder::Ieee32::new(bits)),
        GlobalValue::F64(bits) => ConstExpr::f64_const(wasm_encoder::Ieee64::new(bits)),
        GlobalValue::V128(v) => ConstExpr::v128_const(v as i128),
    }
}
