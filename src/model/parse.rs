//! Building the [`Model`]: validation, the walk of every body, the instantiation tree, and
//! the model of a core module input.

use super::{
    inline, parse_module, walk, CoreInstance, CoreInstanceKind, Event, InputKind, Model, Node,
    Scope, Sort,
};
use anyhow::{bail, Context, Result};
use wasmparser::{ExternalKind, Parser};

/// The component instantiates a module or component its scope does not define: [`parse`]
/// refuses it, [`parse_inlining`] copies the definitions in first.
#[derive(Debug)]
pub struct NeedsInlining(String);

impl std::fmt::Display for NeedsInlining {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NeedsInlining {}

/// [`parse`], first copying into each scope the definition of every module and component it
/// instantiates through an alias or an import (see `inline`); `storage` then holds the
/// component the model is of.
pub fn parse_inlining<'a>(bytes: &'a [u8], storage: &'a mut Option<Vec<u8>>) -> Result<Model<'a>> {
    match parse(bytes) {
        Err(e) if e.is::<NeedsInlining>() => {
            let inlined: &'a Vec<u8> = storage.insert(inline::inline(bytes)?);
            parse(inlined)
        }
        other => other,
    }
}

/// Parses and validates `bytes` as a component and builds its model.
pub fn parse(bytes: &[u8]) -> Result<Model<'_>> {
    if Parser::is_core_wasm(bytes) {
        return parse_core(bytes);
    }
    if !Parser::is_component(bytes) {
        bail!(
            "input is neither a WebAssembly component nor a core module (bad magic number or \
             version)"
        );
    }
    let types = crate::validate::validate(bytes).context("input component does not validate")?;
    let types = types.as_ref();
    let mut scopes = Vec::new();
    walk::walk_body(bytes, "root".into(), None, &mut scopes)?;
    let mut scopes: Vec<Scope> = scopes.into_iter().map(|s| s.expect("walked")).collect();

    debug_assert_eq!(
        (
            scopes[0].counts.core_funcs,
            scopes[0].counts.core_instances,
            scopes[0].counts.modules,
            scopes[0].counts.component_funcs,
            scopes[0].counts.component_types,
            scopes[0].counts.component_instances,
        ),
        (
            types.function_count(),
            types.core_instance_count(),
            types.module_count(),
            types.component_function_count(),
            types.component_type_count(),
            types.component_instance_count(),
        ),
        "index space counting disagrees with the validator"
    );

    let mut nodes = Vec::new();
    let mut next_dfs = 0;
    build_node(&scopes, 0, "root".into(), None, &mut nodes, &mut next_dfs);
    // What a scope no node instantiates would instantiate never runs.
    for node in &nodes {
        if let Some(u) = scopes[node.scope].unresolved.first() {
            let what = match u.sort {
                Sort::Module => "module",
                Sort::Component => "component",
            };
            return Err(anyhow::Error::new(NeedsInlining(format!(
                "{}: instantiates {what} {}, which this component does not define and \
                 compsnap could not follow to a definition",
                u.site, u.index
            ))));
        }
    }
    // Each scope speaks, in errors, as the first node that instantiates it.
    let mut named = vec![false; scopes.len()];
    for node in &nodes {
        if !std::mem::replace(&mut named[node.scope], true) {
            let scope = &mut scopes[node.scope];
            scope.path = node.path.clone();
            for (instance, dfs) in scope.instances.iter_mut().zip(&node.dfs) {
                instance.global = *dfs;
            }
        }
    }
    Ok(Model {
        kind: InputKind::Component,
        bytes,
        scopes,
        nodes,
        instance_count: next_dfs,
    })
}

/// Parses and validates `bytes` as a core module: the model of a tree with one scope and one
/// instance, whose function imports the host provides. What the host owns (imported
/// memories, tables and mutable globals) cannot be snapshotted and is refused.
fn parse_core(bytes: &[u8]) -> Result<Model<'_>> {
    crate::validate::validate(bytes).context("input module does not validate")?;
    let path = "module".to_string();
    let info = parse_module(0, bytes).with_context(|| path.clone())?;
    let mut globals = info.globals.iter();
    for import in &info.imports {
        let what = match import.kind {
            ExternalKind::Memory => "memory",
            ExternalKind::Table => "table",
            ExternalKind::Global if globals.next().is_some_and(|g| g.mutable) => "mutable global",
            _ => continue,
        };
        bail!(
            "{path}: imports {what} `{}::{}`; its state belongs to the host, so it cannot be \
             snapshotted (only function imports and immutable globals can be imported)",
            import.module,
            import.name
        );
    }
    let mut scope = Scope::empty(bytes, path.clone());
    scope.host_imports = true;
    scope.modules.push(info);
    scope.instances.push(CoreInstance {
        dfs: 0,
        global: 0,
        module: 0,
        core_instance_index: 0,
        args: Vec::new(),
    });
    scope
        .core_instances
        .push(CoreInstanceKind::Instantiated { dfs: 0 });
    scope.events.push(Event::Core(0));
    scope.counts.modules = 1;
    scope.counts.core_instances = 1;
    let node = Node {
        scope: 0,
        path,
        dfs: vec![0],
        children: Vec::new(),
        instance: None,
        live: true,
    };
    Ok(Model {
        kind: InputKind::Module,
        bytes,
        scopes: vec![scope],
        nodes: vec![node],
        instance_count: 1,
    })
}

pub(super) fn build_node(
    scopes: &[Scope],
    scope: usize,
    path: String,
    instance: Option<(u32, u32)>,
    nodes: &mut Vec<Node>,
    next_dfs: &mut u32,
) -> bool {
    let id = nodes.len();
    nodes.push(Node {
        scope,
        path: path.clone(),
        dfs: Vec::new(),
        children: Vec::new(),
        instance,
        live: false,
    });
    let s = &scopes[scope];
    let mut live = !s.instances.is_empty();
    for event in &s.events {
        match *event {
            Event::Core(_) => {
                nodes[id].dfs.push(*next_dfs);
                *next_dfs += 1;
            }
            Event::Component {
                instance,
                entry,
                scope: child,
            } => {
                let index = s.components.iter().find(|c| c.1 == child).map(|c| c.0);
                let name = match index.and_then(|i| s.component_names.get(&i)) {
                    Some(name) => format!("component {name:?}"),
                    None => format!("component {}", index.unwrap_or(u32::MAX)),
                };
                let child_path = format!("{path}/instance {instance} ({name})");
                let child_id = nodes.len();
                live |= build_node(
                    scopes,
                    child,
                    child_path,
                    Some((instance, entry)),
                    nodes,
                    next_dfs,
                );
                nodes[id].children.push(child_id);
            }
        }
    }
    nodes[id].live = live;
    live
}
