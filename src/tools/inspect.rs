//! `compsnap inspect`: what a component (or core module) holds before it runs, instance by
//! instance.
//!
//! For each node of the instantiation tree and each of its core instances (with DFS ids), the
//! sizes its module declares for memories, globals and tables, and per defined table how many
//! slots Wasmtime 48 folds into a precomputed table image at compile time. Run on a snapshot,
//! it shows whether the state landed where instantiation is cheap.

use crate::model::{Event, InputKind, Model, ModuleInfo};
use anyhow::Result;
use std::fmt::Write;
use wasmparser::{ElementItems, ElementKind, Operator, Parser, Payload};

/// Wasmtime does not fold tables larger than this many slots.
const MAX_FOLDED_TABLE: u64 = 1 << 20;

/// The report `compsnap inspect` prints.
pub fn inspect(bytes: &[u8]) -> Result<String> {
    let mut inlined = None;
    let model = crate::model::parse_inlining(bytes, &mut inlined)?;
    let mut out = String::new();
    let modules: usize = model.scopes.iter().map(|s| s.modules.len()).sum();
    match model.kind {
        InputKind::Module => writeln!(out, "{} bytes: a core module", bytes.len())?,
        InputKind::Component => writeln!(
            out,
            "{} bytes: {} component definitions, {modules} core modules, {} nodes, {} core \
             instances",
            bytes.len(),
            model.scopes.len(),
            model.nodes.len(),
            model.instance_count
        )?,
    }
    node(&model, 0, 0, &mut out)?;
    Ok(out)
}

fn node(model: &Model, n: usize, depth: usize, out: &mut String) -> Result<()> {
    let indent = "  ".repeat(depth);
    let node = &model.nodes[n];
    let name = node.path.rsplit('/').next().unwrap_or("root");
    writeln!(out, "{indent}{name}")?;
    let scope = &model.scopes[node.scope];
    let mut children = node.children.iter();
    for event in &scope.events {
        match event {
            Event::Core(local) => {
                let instance = &scope.instances[*local as usize];
                let info = &scope.modules[instance.module];
                writeln!(
                    out,
                    "{indent}  core instance {} (module {}), dfs id {}",
                    instance.core_instance_index, info.module_index, node.dfs[*local as usize]
                )?;
                module(info, &format!("{indent}    "), out)?;
            }
            Event::Component { .. } => {
                if let Some(child) = children.next() {
                    self::node(model, *child, depth + 1, out)?;
                }
            }
        }
    }
    Ok(())
}

fn module(info: &ModuleInfo, indent: &str, out: &mut String) -> Result<()> {
    for (index, memory) in info.defined_memories() {
        let bytes = memory.initial << 16;
        writeln!(
            out,
            "{indent}memory {index}: {} pages ({bytes} bytes), {} data segments",
            memory.initial, info.data_count
        )?;
    }
    let mutable = info.mutable_globals().count();
    let defined_globals = info.globals.len() - info.imported_globals as usize;
    if defined_globals > 0 {
        writeln!(
            out,
            "{indent}globals: {defined_globals} defined, {mutable} mutable"
        )?;
    }
    let folded = folded_slots(info)?;
    for (index, table) in info.defined_tables() {
        let n = folded.get(&index).copied().unwrap_or(0);
        writeln!(
            out,
            "{indent}table {index}: {} slots, {n} folded into the table image",
            table.initial
        )?;
    }
    Ok(())
}

/// Per defined table, the slots Wasmtime's `try_func_table_init` folds: active segments of
/// function indices at constant offsets into a defined funcref table without an initializer
/// expression, within its minimum, in order until the first segment that breaks a rule.
fn folded_slots(info: &ModuleInfo) -> Result<std::collections::HashMap<u32, u64>> {
    let mut folded = std::collections::HashMap::new();
    for payload in Parser::new(0).parse_all(info.bytes) {
        let Payload::ElementSection(reader) = payload? else {
            continue;
        };
        for element in reader {
            let element = element?;
            let ElementKind::Active {
                table_index,
                offset_expr,
            } = element.kind
            else {
                continue;
            };
            let table = table_index.unwrap_or(0);
            let ElementItems::Functions(funcs) = element.items else {
                return Ok(folded);
            };
            let mut ops = offset_expr.get_operators_reader();
            let offset = match (ops.read()?, ops.read()?) {
                (Operator::I32Const { value }, Operator::End) => u64::from(value as u32),
                (Operator::I64Const { value }, Operator::End) => value as u64,
                _ => return Ok(folded),
            };
            // Only defined tables fold; `tables` is by absolute index, imports first.
            let defined = table >= info.imported_tables;
            let Some(ty) = info.tables.get(table as usize).filter(|_| defined) else {
                return Ok(folded);
            };
            let len = u64::from(funcs.count());
            if ty.element_type != wasmparser::RefType::FUNCREF
                || info.table_init_exprs.contains(&table)
                || offset + len > ty.initial
                || ty.initial > MAX_FOLDED_TABLE
            {
                return Ok(folded);
            }
            *folded.entry(table).or_insert(0) += len;
        }
    }
    Ok(folded)
}

#[cfg(test)]
mod tests {
    /// A module that imports a table and defines one: the defined table's type and its folded
    /// slots are read at its absolute index, not at its position among the defined tables.
    #[test]
    fn folded_slots_of_a_defined_table_after_an_imported_one() {
        let bytes = wat::parse_str(
            r#"(component
              (core module $owner (table (export "t") 0 funcref))
              (core module $m
                (import "o" "t" (table 0 funcref))
                (table 4 funcref)
                (func $a) (func $b)
                (elem (table 1) (i32.const 1) func $a $b))
              (core instance $o (instantiate $owner))
              (core instance (instantiate $m (with "o" (instance $o)))))"#,
        )
        .unwrap();
        let report = super::inspect(&bytes).unwrap();
        assert!(
            report.contains("table 1: 4 slots, 2 folded into the table image"),
            "{report}"
        );
    }

    /// Wasmtime folds no segment from the first one that writes a table declared with an
    /// initializer expression on: not that table's, nor a later plain table's.
    #[test]
    fn no_slot_folds_from_a_table_with_an_initializer_on() {
        let bytes = wat::parse_str(
            r#"(component
              (core module $m
                (func $a) (func $b)
                (table 2 funcref)
                (table 2 funcref (ref.func $a))
                (table 2 funcref)
                (elem (table 0) (i32.const 0) func $a $b)
                (elem (table 1) (i32.const 0) func $b)
                (elem (table 2) (i32.const 0) func $a))
              (core instance (instantiate $m)))"#,
        )
        .unwrap();
        let report = super::inspect(&bytes).unwrap();
        for (table, folded) in [(0, 2), (1, 0), (2, 0)] {
            let line = format!("table {table}: 2 slots, {folded} folded into the table image");
            assert!(report.contains(&line), "{line} in {report}");
        }
    }
}
