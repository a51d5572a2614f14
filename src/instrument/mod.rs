//! Stage 2: [`Model`] → instrumented component bytes + the [`TreePlan`] that says how to read
//! them.
//!
//! Instrumentation is additive, so no index of the original component or its modules moves.
//! For every instantiated module (`module`) it adds:
//! - exports of every defined memory, mutable global and table, under reserved names
//!   (see [`crate::protocol`]);
//! - when the scope probes something (a table some code writes, a mutable reference
//!   global), two probe globals, `probing` and `probe_out`, and the prologues and shims below;
//! - a probe prologue on every function that can become a funcref: while `probing` is set, the
//!   function stores its own index in `probe_out` and returns default results, so the accessor
//!   can learn which function a table slot holds by calling it;
//! - a shim for every imported function that can become a funcref (same prologue, then a call
//!   of the import), with every `ref.func` and element item naming the import redirected to it,
//!   so a probe never reaches a host function;
//! - when code drops segments, a byte per segment in an appended memory, set before each
//!   `elem.drop`/`data.drop`.
//!
//! Each scope that instantiates modules gets the host sink prepended and its own accessor
//! appended (see `accessor`, and `dump` for its code; `probe` for how it identifies table
//! slots, `identify` for how it calls a slot's function). A table no instance's code writes
//! is not probed: its slots, worked out from its element segments, go in the plan. Each scope re-exports its
//! children's accessors, so the host reaches every core instance of the tree from the root.
//! The same instrumented code serves every instantiation of a definition, so accessors
//! report instances by their local id.

mod accessor;
mod dump;
mod identify;
mod module;
mod probe;

use crate::encode::builder::BodyBuilder;
use crate::encode::tree::{edit_tree, BodyEdit};
use crate::model::{self, CoreInit, Event, InputKind, Model, Scope};
use crate::protocol::{
    slot_code, CoreInstrumented, Dump, Plan, Record, TreePlan, CORE_DUMP_EXPORT, CORE_INIT_EXPORT,
    DUMP_EXPORT,
};
use anyhow::{Context, Result};
use std::collections::HashMap;
use wasm_encoder::ExportKind;
use wasmparser::ValType;

/// Instruments every instantiated module of every instantiated scope, gives each such scope an
/// accessor, and re-exports every accessor up to the root. A core init function is lifted and
/// exported from the root as [`CORE_INIT_EXPORT`].
pub fn instrument(model: &Model, core_init: Option<&CoreInit>) -> Result<(Vec<u8>, TreePlan)> {
    let live = live_scopes(model);
    let mut plans = vec![Plan::default(); model.scopes.len()];
    let edit = instrument_scope(model, 0, &live, &mut plans, core_init.cloned())?;
    let bytes = edit_tree(model.bytes, &edit)?.into_bytes();
    // The root's dump exports, in pre-order, are those of the nodes with core instances.
    let nodes = model
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, node)| node.live && !model.scopes[node.scope].instances.is_empty());
    let dumps = nodes
        .zip(dump_suffixes(model, 0, &live))
        .map(|((n, node), suffix)| Dump {
            node: n,
            scope: node.scope,
            export: format!("{DUMP_EXPORT}{suffix}"),
        })
        .collect();
    Ok((
        bytes,
        TreePlan {
            scopes: plans,
            dumps,
        },
    ))
}

/// Instruments a core module input (one scope, one instance): the module, and the accessor
/// the host links next to it instead of a component around both.
pub fn instrument_core(model: &Model) -> Result<CoreInstrumented> {
    let scope = &model.scopes[0];
    let instance = &scope.instances[0];
    let (module, records) =
        module::instrument_module(instance, &scope.modules[0], InputKind::Module, true)
            .with_context(|| format!("instrumenting {}", instance.describe(scope)))?;
    let plan = Plan {
        records,
        typed_probes: false,
    };
    let (accessor, bindings) =
        accessor::Accessor::build(scope, &plan, InputKind::Module)?.into_core();
    let dumps = vec![Dump {
        node: 0,
        scope: 0,
        export: CORE_DUMP_EXPORT.into(),
    }];
    Ok(CoreInstrumented {
        module,
        accessor,
        bindings,
        plan: TreePlan {
            scopes: vec![plan],
            dumps,
        },
    })
}

/// Scopes that some node instantiates and that run core code in or below themselves.
fn live_scopes(model: &Model) -> Vec<bool> {
    let mut live = vec![false; model.scopes.len()];
    for node in &model.nodes {
        live[node.scope] |= node.live;
    }
    live
}

/// The dump export suffixes a live scope's instances have, in pre-order: `""` for its own
/// accessor, then `-c<k>…` for the k-th live child instantiation's.
fn dump_suffixes(model: &Model, scope: usize, live: &[bool]) -> Vec<String> {
    let s = &model.scopes[scope];
    let mut out = Vec::new();
    if !s.instances.is_empty() {
        out.push(String::new());
    }
    let children = s.events.iter().filter_map(|e| match e {
        Event::Component { scope, .. } if live[*scope] => Some(*scope),
        _ => None,
    });
    for (k, child) in children.enumerate() {
        for suffix in dump_suffixes(model, child, live) {
            out.push(format!("-c{k}{suffix}"));
        }
    }
    out
}

fn instrument_scope<'a>(
    model: &'a Model,
    id: usize,
    live: &[bool],
    plans: &mut [Plan],
    core_init: Option<CoreInit>,
) -> Result<BodyEdit<'a>> {
    let scope = &model.scopes[id];
    let mut edit = BodyEdit::new(scope);
    if !live[id] {
        return Ok(edit);
    }
    edit.sink = true;
    let (mut known, probe) = known_tables(scope)?;
    let mut records = Vec::new();
    // The same instrumented code serves every instance of a module; only the records, which
    // name the instance, differ.
    let mut module_records: Vec<Option<Vec<Record>>> = vec![None; scope.modules.len()];
    for instance in &scope.instances {
        let first = &mut module_records[instance.module];
        if first.is_none() {
            let info = &scope.modules[instance.module];
            let (bytes, instance_records) =
                module::instrument_module(instance, info, InputKind::Component, probe)
                    .with_context(|| format!("instrumenting {}", instance.describe(scope)))?;
            edit.modules[instance.module].1.push(bytes.into());
            *first = Some(instance_records);
        }
        let first = first.as_deref().unwrap_or_default();
        records.extend(first.iter().map(|r| r.for_instance(instance.dfs)));
    }
    for record in &mut records {
        if let Record::Table { dfs, table } = *record {
            if let Some(slots) = known.remove(&(dfs, table)) {
                *record = Record::KnownTable { dfs, table, slots };
            }
        }
    }
    let mut plan = Plan {
        records,
        typed_probes: false,
    };
    for (ordinal, (_, child)) in scope.components.iter().enumerate() {
        if live[*child] {
            let child_edit = instrument_scope(model, *child, live, plans, None)?;
            edit.components[ordinal].1.push(child_edit);
        }
    }
    // Each live child instantiation gets the sink, and its dumps are re-exported.
    let mut reexports = Vec::new();
    for event in &scope.events {
        if let Event::Component {
            instance,
            entry,
            scope: child,
        } = *event
        {
            if live[child] {
                edit.sink_args.insert(entry);
                let k = reexports.len();
                let names = dump_suffixes(model, child, live)
                    .into_iter()
                    .map(|s| {
                        (
                            format!("{DUMP_EXPORT}{s}"),
                            format!("{DUMP_EXPORT}-c{k}{s}"),
                        )
                    })
                    .collect::<Vec<_>>();
                reexports.push((instance, names));
            }
        }
    }
    let accessor = match scope.instances.is_empty() {
        true => None,
        false => Some(accessor::Accessor::build(
            scope,
            &plan,
            InputKind::Component,
        )?),
    };
    plan.typed_probes = accessor.as_ref().is_some_and(|a| a.typed_probes());
    edit.append = Some(Box::new(move |body| {
        if let Some(init) = &core_init {
            lift_core_init(body, init);
        }
        if let Some(accessor) = &accessor {
            accessor.append(scope, body);
        }
        accessor::append_reexports(body, &reexports);
    }));
    plans[id] = plan;
    Ok(edit)
}

/// Slot codes of tables, by (local id, table).
type KnownTables = HashMap<(u32, u32), Vec<i64>>;

/// The slot codes of every table no code writes: what instantiation put in them, so they are
/// not probed (`model::unwritten_table`). And whether anything in the scope is still probed:
/// another table, or a mutable reference global.
fn known_tables(scope: &Scope) -> Result<(KnownTables, bool)> {
    let mut known = HashMap::new();
    let mut probe = false;
    for instance in &scope.instances {
        let info = &scope.modules[instance.module];
        for (table, _) in info.defined_tables() {
            match model::unwritten_table(scope, instance.dfs, table)? {
                Some(slots) => {
                    let slots = slots.into_iter().map(slot_code).collect();
                    known.insert((instance.dfs, table), slots);
                }
                None => probe = true,
            }
        }
        probe |= (info.mutable_globals()).any(|(_, g)| matches!(g.content_type, ValType::Ref(_)));
    }
    Ok((known, probe))
}

/// Lifts `init` as a `func()` and exports it as [`CORE_INIT_EXPORT`].
fn lift_core_init(body: &mut BodyBuilder, init: &CoreInit) {
    let func = body.add_core_alias(init.core_instance, ExportKind::Func, &init.export);
    let ty = body.add_void_func_type();
    let lifted = body.add_lift(func, ty);
    body.add_func_export(CORE_INIT_EXPORT, lifted);
}
