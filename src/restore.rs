//! The restore module: writes the table slots and reference globals no original instance can.
//!
//! A funcref of instance A can end up in a table of instance B that A cannot reach and B
//! cannot name (passed into B as a `funcref` parameter, for example). Neither module can write
//! that slot from an element segment, so compsnap appends one more core module to the scope,
//! instantiated after all others. It imports the tables and globals from their owners and the
//! functions from theirs (exports that `rewrite` adds; canonical functions come straight from
//! the scope), writes the slots with active element segments and sets the globals from its
//! start function. Like the instrumentation, it is purely additive.

use crate::instrument::restore_export;
use crate::parse::{IndexCounts, Scope};
use crate::probe::{copy_types, Shift};
use crate::resolve::Source;
use crate::rewrite::{runs, FuncNames};
use anyhow::{anyhow, Result};
use std::collections::BTreeMap;
use wasm_encoder::reencode::Reencode;
use wasm_encoder::{
    Alias, CodeSection, Component, ComponentAliasSection, ConstExpr, ElementSection, Elements,
    EntityType, ExportKind, Function, FunctionSection, GlobalType, ImportSection, InstanceSection,
    Instruction, Module, ModuleArg, ModuleSection, StartSection, TableType, TypeSection,
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
    args: Vec<(String, ExportKind, From)>,
}

enum From {
    Export { dfs: u32, name: String },
    CoreFunc(u32),
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

    pub fn build(&self, model: &Scope, names: &FuncNames) -> Result<Restore> {
        let mut types = TypeSection::new();
        let mut type_count = 0;
        let offsets = copy_types(model, &mut types, &mut type_count)?;
        let start_ty = type_count;
        types.ty().function([], []);

        let mut imports = ImportSection::new();
        let mut args = Vec::new();
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
            let name = format!("f{}", funcs.len());
            imports.import("r", &name, EntityType::Function(ty));
            let from = match src {
                Source::Defined { dfs, index } => From::Export {
                    dfs: *dfs,
                    name: restore_export("func", *index),
                },
                Source::Canon { core_func } => From::CoreFunc(*core_func),
            };
            args.push((name, ExportKind::Func, from));
            funcs.insert(*src, funcs.len() as u32);
        }
        for &(owner, table, _) in self.slots.keys() {
            if tables.contains_key(&(owner, table)) {
                continue;
            }
            let ty = model.module_of(owner).tables[table as usize];
            let element_type = Shift(offsets[owner as usize]).ref_type(ty.element_type)?;
            let name = format!("t{}", tables.len());
            imports.import(
                "r",
                &name,
                EntityType::Table(TableType {
                    element_type,
                    table64: ty.table64,
                    minimum: 0,
                    maximum: None,
                    shared: false,
                }),
            );
            args.push((
                name,
                ExportKind::Table,
                From::Export {
                    dfs: owner,
                    name: restore_export("table", table),
                },
            ));
            tables.insert((owner, table), tables.len() as u32);
        }
        for &(owner, global) in self.globals.keys() {
            let g = model.module_of(owner).all_globals[global as usize];
            let val_type = Shift(offsets[owner as usize]).val_type(g.content_type)?;
            let name = format!("g{}", globals.len());
            imports.import(
                "r",
                &name,
                EntityType::Global(GlobalType {
                    val_type,
                    mutable: true,
                    shared: false,
                }),
            );
            args.push((
                name,
                ExportKind::Global,
                From::Export {
                    dfs: owner,
                    name: restore_export("global", global),
                },
            ));
            globals.insert((owner, global), globals.len() as u32);
        }

        let mut module = Module::new();
        module.section(&types);
        module.section(&imports);
        let mut elements = ElementSection::new();
        let mut by_table: BTreeMap<u32, Vec<(u32, u32)>> = BTreeMap::new();
        for (&(owner, table, slot), src) in &self.slots {
            by_table
                .entry(tables[&(owner, table)])
                .or_default()
                .push((slot, funcs[src]));
        }
        for (&(owner, table), &t) in &tables {
            let ty = model.module_of(owner).tables[table as usize].element_type;
            let element_type = Shift(offsets[owner as usize]).ref_type(ty)?;
            for run in runs(&by_table[&t]) {
                let exprs: Vec<ConstExpr> =
                    run.iter().map(|(_, f)| ConstExpr::ref_func(*f)).collect();
                elements.active(
                    Some(t),
                    &ConstExpr::i32_const(run[0].0 as i32),
                    Elements::Expressions(element_type, exprs.into()),
                );
            }
        }
        let func_count = funcs.len() as u32;
        if !self.globals.is_empty() {
            let declared: Vec<u32> = self.globals.values().map(|s| funcs[s]).collect();
            elements.declared(Elements::Functions(declared.into()));
            let mut section = FunctionSection::new();
            section.function(start_ty);
            module.section(&section);
            module.section(&StartSection {
                function_index: func_count,
            });
        }
        module.section(&elements);
        if !self.globals.is_empty() {
            let mut start = Function::new([]);
            for (key, src) in &self.globals {
                start.instruction(&Instruction::RefFunc(funcs[src]));
                start.instruction(&Instruction::GlobalSet(globals[key]));
            }
            start.instruction(&Instruction::End);
            let mut code = CodeSection::new();
            code.function(&start);
            module.section(&code);
        }
        Ok(Restore { module, args })
    }
}

impl Restore {
    /// Appends the module, its import instance and its instantiation to a body whose index
    /// spaces have sizes `c`.
    pub fn append(&self, model: &Scope, c: IndexCounts, component: &mut Component) {
        let mut aliases = ComponentAliasSection::new();
        let mut next = [c.core_funcs, c.core_tables, c.core_globals];
        let mut items = Vec::new();
        for (name, kind, from) in &self.args {
            let index = match from {
                From::CoreFunc(index) => *index,
                From::Export { dfs, name: export } => {
                    let instance = model.instances[*dfs as usize].core_instance_index;
                    aliases.alias(Alias::CoreInstanceExport {
                        instance,
                        kind: *kind,
                        name: export,
                    });
                    let slot = match kind {
                        ExportKind::Func => 0,
                        ExportKind::Table => 1,
                        _ => 2,
                    };
                    next[slot] += 1;
                    next[slot] - 1
                }
            };
            items.push((name.as_str(), *kind, index));
        }
        component.section(&aliases);
        let mut instances = InstanceSection::new();
        instances.export_items(items);
        component.section(&instances);
        component.section(&ModuleSection(&self.module));
        let mut instances = InstanceSection::new();
        instances.instantiate(c.modules, [("r", ModuleArg::Instance(c.core_instances))]);
        component.section(&instances);
    }
}
