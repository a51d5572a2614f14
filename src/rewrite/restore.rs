//! The restore module: writes the table slots and reference globals no original instance can.
//!
//! A funcref of instance A can end up in a table of instance B that A cannot reach and B
//! cannot name (passed into B as a `funcref` parameter, for example). Neither module can write
//! that slot from an element segment, so compsnap appends one more core module to the scope,
//! instantiated after all others. It imports the tables and globals from their owners and the
//! functions from theirs (exports that `rewrite` adds; canonical functions come straight from
//! the scope), writes the slots with active element segments and sets the globals from its
//! start function. Like the instrumentation, it is purely additive.

use super::layout::runs;
use super::names::FuncNames;
use crate::encode::builder::{BodyBuilder, Bound, BoundImports, ModuleBuilder};
use crate::encode::types::Shift;
use crate::model::{Scope, Source};
use crate::protocol::restore_export;
use anyhow::{anyhow, Result};
use std::collections::BTreeMap;
use wasm_encoder::reencode::Reencode;
use wasm_encoder::{
    ConstExpr, Elements, EntityType, Function, GlobalType, Instruction, Module, TableType,
};

#[derive(Default)]
pub struct RestorePlan {
    /// (owner, table, slot) → function.
    slots: BTreeMap<(u32, u32, u32), Source>,
    /// (owner, global) → function.
    globals: BTreeMap<(u32, u32), Source>,
}

/// The built module and what its single import instance must hold.
pub struct Restore {
    module: Module,
    /// Import name, kind, and where the item comes from.
    args: Vec<Bound<From>>,
}

/// Where an item the restore module imports comes from.
enum From {
    /// Export `name` of the instance with local id `dfs`.
    Export { dfs: u32, name: String },
    /// A canonical function: its index in the scope's core func space.
    CoreFunc(u32),
}

impl From {
    /// The restore export of `kind` item `index` of instance `dfs`.
    fn restore_export(dfs: u32, kind: &str, index: u32) -> From {
        From::Export {
            dfs,
            name: restore_export(kind, index),
        }
    }
}

impl RestorePlan {
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty() && self.globals.is_empty()
    }

    pub fn write_slot(&mut self, owner: u32, table: u32, slot: u32, src: Source) {
        self.slots.insert((owner, table, slot), src);
    }

    pub fn set_global(&mut self, owner: u32, global: u32, src: Source) {
        self.globals.insert((owner, global), src);
    }

    /// Builds the module: an import per function, table and global it needs, element
    /// segments for the slots and a start function for the globals.
    pub fn build(&self, model: &Scope, names: &FuncNames) -> Result<Restore> {
        let mut m = ModuleBuilder::new();
        let offsets = m.add_types_of(model)?;
        let start_ty = m.add_func_type(&[], &[]);

        let mut args = BoundImports::new("r");
        let mut tables: BTreeMap<(u32, u32), u32> = BTreeMap::new();
        let mut funcs: BTreeMap<Source, u32> = BTreeMap::new();
        let mut globals: BTreeMap<(u32, u32), u32> = BTreeMap::new();
        let sources = self.slots.values().chain(self.globals.values());
        for src in sources {
            if funcs.contains_key(src) {
                continue;
            }
            let (dfs, f) = names
                .any_name(src)
                .ok_or_else(|| anyhow!("no instance can name function {src:?}"))?;
            let ty = offsets[dfs as usize] + model.module_of(dfs).func_types[f as usize];
            let from = match src {
                Source::Defined { dfs, index } => From::restore_export(*dfs, "func", *index),
                Source::Canon { core_func } => From::CoreFunc(*core_func),
            };
            let name = format!("f{}", funcs.len());
            let index = args.add(&mut m, name, EntityType::Function(ty), from);
            funcs.insert(*src, index);
        }
        for &(owner, table, _) in self.slots.keys() {
            if tables.contains_key(&(owner, table)) {
                continue;
            }
            let ty = model.module_of(owner).tables[table as usize];
            let element_type = Shift(offsets[owner as usize]).ref_type(ty.element_type)?;
            let ty = EntityType::Table(TableType {
                element_type,
                table64: ty.table64,
                minimum: 0,
                maximum: None,
                shared: false,
            });
            let from = From::restore_export(owner, "table", table);
            let index = args.add(&mut m, format!("t{}", tables.len()), ty, from);
            tables.insert((owner, table), index);
        }
        for &(owner, global) in self.globals.keys() {
            let g = model.module_of(owner).globals[global as usize];
            let val_type = Shift(offsets[owner as usize]).val_type(g.content_type)?;
            let ty = EntityType::Global(GlobalType {
                val_type,
                mutable: true,
                shared: false,
            });
            let from = From::restore_export(owner, "global", global);
            let index = args.add(&mut m, format!("g{}", globals.len()), ty, from);
            globals.insert((owner, global), index);
        }

        let mut by_table: BTreeMap<u32, Vec<(u32, u32)>> = BTreeMap::new();
        for (&(owner, table, slot), src) in &self.slots {
            by_table
                .entry(tables[&(owner, table)])
                .or_default()
                .push((slot, funcs[src]));
        }
        for (&(owner, table), &t) in &tables {
            let ty = model.module_of(owner).tables[table as usize];
            let element_type = Shift(offsets[owner as usize]).ref_type(ty.element_type)?;
            for run in runs(&by_table[&t]) {
                let exprs: Vec<ConstExpr> =
                    run.iter().map(|(_, f)| ConstExpr::ref_func(*f)).collect();
                let at = match ty.table64 {
                    true => ConstExpr::i64_const(run[0].0 as i64),
                    false => ConstExpr::i32_const(run[0].0 as i32),
                };
                m.elements().active(
                    Some(t),
                    &at,
                    Elements::Expressions(element_type, exprs.into()),
                );
            }
        }
        if !self.globals.is_empty() {
            let declared: Vec<u32> = self.globals.values().map(|s| funcs[s]).collect();
            m.elements().declared(Elements::Functions(declared.into()));
            let start = m.add_func(start_ty);
            m.start(start);
            let mut body = Function::new([]);
            for (key, src) in &self.globals {
                body.instruction(&Instruction::RefFunc(funcs[src]));
                body.instruction(&Instruction::GlobalSet(globals[key]));
            }
            body.instruction(&Instruction::End);
            m.set_body(start, body);
        }
        Ok(Restore {
            module: m.finish(),
            args: args.bound,
        })
    }
}

impl Restore {
    /// Appends the module, its import instance and its instantiation to a body.
    pub fn append(&self, model: &Scope, body: &mut BodyBuilder) {
        let mut items = Vec::new();
        for Bound { name, kind, from } in &self.args {
            let index = match from {
                From::CoreFunc(index) => *index,
                From::Export { dfs, name: export } => {
                    let instance = model.instances[*dfs as usize].core_instance_index;
                    body.add_core_alias(instance, *kind, export)
                }
            };
            items.push((name.as_str(), *kind, index));
        }
        let args = body.add_instance_of_items(&items);
        let module = body.add_module(&self.module);
        body.add_instantiation(module, &[("r", args)]);
    }
}
