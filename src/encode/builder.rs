//! Builders that hand out the index of everything they add, so no caller counts by hand.
//!
//! [`BodyBuilder`] appends items to a component body that already has entries in its index
//! spaces (the sizes come from the model, after the tree edit's insertions). Consecutive items
//! of one section kind share one section, as a hand-written encoder would emit them.
//! [`ModuleBuilder`] builds a small core module (the accessor, the restore module) and writes
//! its sections in the order the binary format requires.

use crate::model::IndexCounts;
use std::collections::BTreeMap;
use wasm_encoder::{
    Alias, CanonicalFunctionSection, CanonicalOption, CodeSection, Component,
    ComponentAliasSection, ComponentExportKind, ComponentExportSection, ComponentTypeSection,
    ComponentValType, ConstExpr, ElementSection, EntityType, ExportKind, ExportSection, Function,
    FunctionSection, GlobalSection, GlobalType, ImportSection, InstanceSection, Module, ModuleArg,
    ModuleSection, StartSection, TableSection, TableType, TypeSection, ValType,
};

/// The section items are being added to.
enum Pending {
    None,
    Types(ComponentTypeSection),
    CoreInstances(InstanceSection),
    Aliases(ComponentAliasSection),
    Canon(CanonicalFunctionSection),
    Exports(ComponentExportSection),
}

/// Appends to a component body; every `add_*` returns the index the new item gets.
pub struct BodyBuilder<'c> {
    component: &'c mut Component,
    counts: IndexCounts,
    pending: Pending,
}

macro_rules! section {
    ($self:ident, $variant:ident, $new:expr) => {{
        if !matches!($self.pending, Pending::$variant(_)) {
            $self.flush();
            $self.pending = Pending::$variant($new);
        }
        match &mut $self.pending {
            Pending::$variant(section) => section,
            _ => unreachable!("the pending section was just set"),
        }
    }};
}

impl<'c> BodyBuilder<'c> {
    /// Appends to `component`, whose index spaces have the sizes `counts`.
    pub fn new(component: &'c mut Component, counts: IndexCounts) -> Self {
        BodyBuilder {
            component,
            counts,
            pending: Pending::None,
        }
    }

    /// Writes the last section; returns the final sizes.
    pub fn finish(mut self) -> IndexCounts {
        self.flush();
        self.counts
    }

    fn flush(&mut self) {
        match std::mem::replace(&mut self.pending, Pending::None) {
            Pending::None => return,
            Pending::Types(s) => self.component.section(&s),
            Pending::CoreInstances(s) => self.component.section(&s),
            Pending::Aliases(s) => self.component.section(&s),
            Pending::Canon(s) => self.component.section(&s),
            Pending::Exports(s) => self.component.section(&s),
        };
    }

    /// The component function type `func()`.
    pub fn add_void_func_type(&mut self) -> u32 {
        section!(self, Types, ComponentTypeSection::new())
            .function()
            .params(Vec::<(&str, ComponentValType)>::new())
            .result(None);
        bump(&mut self.counts.component_types)
    }

    /// A core module definition.
    pub fn add_module(&mut self, module: &Module) -> u32 {
        self.flush();
        self.component.section(&ModuleSection(module));
        bump(&mut self.counts.modules)
    }

    /// `core instance (instantiate module args...)`; every argument is an instance.
    pub fn add_instantiation(&mut self, module: u32, args: &[(&str, u32)]) -> u32 {
        let args = args.iter().map(|(n, i)| (*n, ModuleArg::Instance(*i)));
        section!(self, CoreInstances, InstanceSection::new()).instantiate(module, args);
        bump(&mut self.counts.core_instances)
    }

    /// A core instance made of existing items: (name, kind, index).
    pub fn add_instance_of_items(&mut self, items: &[(&str, ExportKind, u32)]) -> u32 {
        section!(self, CoreInstances, InstanceSection::new()).export_items(items.iter().copied());
        bump(&mut self.counts.core_instances)
    }

    /// `alias core export instance name`: an entry in the core space of `kind`.
    pub fn add_core_alias(&mut self, instance: u32, kind: ExportKind, name: &str) -> u32 {
        section!(self, Aliases, ComponentAliasSection::new()).alias(Alias::CoreInstanceExport {
            instance,
            kind,
            name,
        });
        let c = &mut self.counts;
        bump(match kind {
            ExportKind::Func => &mut c.core_funcs,
            ExportKind::Table => &mut c.core_tables,
            ExportKind::Memory => &mut c.core_memories,
            ExportKind::Global => &mut c.core_globals,
            ExportKind::Tag => unreachable!("compsnap never aliases tags"),
        })
    }

    /// `alias export instance name` of a component function.
    pub fn add_func_alias(&mut self, instance: u32, name: &str) -> u32 {
        section!(self, Aliases, ComponentAliasSection::new()).alias(Alias::InstanceExport {
            instance,
            kind: ComponentExportKind::Func,
            name,
        });
        bump(&mut self.counts.component_funcs)
    }

    /// `canon lower` of component function `func` with `options`: a core function.
    pub fn add_lower(&mut self, func: u32, options: &[CanonicalOption]) -> u32 {
        section!(self, Canon, CanonicalFunctionSection::new()).lower(func, options.iter().cloned());
        bump(&mut self.counts.core_funcs)
    }

    /// `canon lift` of core function `func` as component type `ty`: a component function.
    pub fn add_lift(&mut self, func: u32, ty: u32) -> u32 {
        section!(self, Canon, CanonicalFunctionSection::new()).lift(
            func,
            ty,
            Vec::<CanonicalOption>::new(),
        );
        bump(&mut self.counts.component_funcs)
    }

    /// Exports component function `func` as `name`; the export is itself a new function entry.
    pub fn add_func_export(&mut self, name: &str, func: u32) -> u32 {
        section!(self, Exports, ComponentExportSection::new()).export(
            name,
            ComponentExportKind::Func,
            func,
            None,
        );
        bump(&mut self.counts.component_funcs)
    }
}

/// Returns `*n` and counts one more.
fn bump(n: &mut u32) -> u32 {
    *n += 1;
    *n - 1
}

/// The export kind of an item of type `ty`.
pub fn export_kind(ty: &EntityType) -> ExportKind {
    match ty {
        EntityType::Function(_) | EntityType::FunctionExact(_) => ExportKind::Func,
        EntityType::Table(_) => ExportKind::Table,
        EntityType::Memory(_) => ExportKind::Memory,
        EntityType::Global(_) => ExportKind::Global,
        EntityType::Tag(_) => ExportKind::Tag,
    }
}

/// One import of a module compsnap builds, with what the component binds it to.
pub struct Bound<B> {
    /// The import's name (its module is the builder's `module`).
    pub name: String,
    /// Its kind.
    pub kind: ExportKind,
    /// What the instantiation argument for it is.
    pub from: B,
}

/// A module's imports from one module name, each with its binding, in order.
pub struct BoundImports<B> {
    module: &'static str,
    /// The imports so far.
    pub bound: Vec<Bound<B>>,
}

impl<B> BoundImports<B> {
    /// Imports from module `module`.
    pub fn new(module: &'static str) -> Self {
        BoundImports {
            module,
            bound: Vec::new(),
        }
    }

    /// Adds an import of type `ty` to `m`, bound to `from`; returns its index in its space.
    pub fn add(&mut self, m: &mut ModuleBuilder, name: String, ty: EntityType, from: B) -> u32 {
        let index = m.add_import(self.module, &name, ty);
        let kind = export_kind(&ty);
        self.bound.push(Bound { name, kind, from });
        index
    }
}

/// Builds one core module; every `add_*` returns the index the new item gets.
#[derive(Default)]
pub struct ModuleBuilder {
    types: TypeSection,
    type_count: u32,
    imports: ImportSection,
    functions: FunctionSection,
    table_section: TableSection,
    bodies: BTreeMap<u32, Function>,
    globals: GlobalSection,
    exports: ExportSection,
    start: Option<u32>,
    elements: ElementSection,
    funcs: u32,
    tables: u32,
    memories: u32,
    global_count: u32,
}

impl ModuleBuilder {
    /// An empty module.
    pub fn new() -> Self {
        Self::default()
    }

    /// Copies every instance's type section (see [`super::types::copy_types`]); returns each
    /// instance's type offset, by local id.
    pub fn add_types_of(&mut self, scope: &crate::model::Scope) -> anyhow::Result<Vec<u32>> {
        super::types::copy_types(scope, &mut self.types, &mut self.type_count)
    }

    /// A function type.
    pub fn add_func_type(&mut self, params: &[ValType], results: &[ValType]) -> u32 {
        self.types
            .ty()
            .function(params.iter().copied(), results.iter().copied());
        bump(&mut self.type_count)
    }

    /// An import; returns its index in the space of its kind.
    pub fn add_import(&mut self, module: &str, name: &str, ty: EntityType) -> u32 {
        self.imports.import(module, name, ty);
        bump(match export_kind(&ty) {
            ExportKind::Func => &mut self.funcs,
            ExportKind::Table => &mut self.tables,
            ExportKind::Memory => &mut self.memories,
            ExportKind::Global => &mut self.global_count,
            ExportKind::Tag => unreachable!("compsnap never imports tags"),
        })
    }

    /// The index the next function gets.
    pub fn next_func(&self) -> u32 {
        self.funcs
    }

    /// Declares a function of type `ty`, whose body [`ModuleBuilder::set_body`] gives later.
    pub fn add_func(&mut self, ty: u32) -> u32 {
        self.functions.function(ty);
        bump(&mut self.funcs)
    }

    /// The body of function `index`, declared with [`ModuleBuilder::add_func`].
    pub fn set_body(&mut self, index: u32, body: Function) {
        self.bodies.insert(index, body);
    }

    /// A defined table.
    pub fn add_table(&mut self, ty: TableType) -> u32 {
        self.table_section.table(ty);
        bump(&mut self.tables)
    }

    /// A defined global.
    pub fn add_global(&mut self, ty: GlobalType, init: &ConstExpr) -> u32 {
        self.globals.global(ty, init);
        bump(&mut self.global_count)
    }

    /// An export.
    pub fn export(&mut self, name: &str, kind: ExportKind, index: u32) {
        self.exports.export(name, kind, index);
    }

    /// The start function.
    pub fn start(&mut self, func: u32) {
        self.start = Some(func);
    }

    /// The element section, for segments.
    pub fn elements(&mut self) -> &mut ElementSection {
        &mut self.elements
    }

    /// The module, its sections in binary-format order; empty sections are left out. Panics
    /// when a declared function has no body (a bug in the caller).
    pub fn finish(self) -> Module {
        let mut module = Module::new();
        if !self.types.is_empty() {
            module.section(&self.types);
        }
        if !self.imports.is_empty() {
            module.section(&self.imports);
        }
        if !self.functions.is_empty() {
            module.section(&self.functions);
        }
        if !self.table_section.is_empty() {
            module.section(&self.table_section);
        }
        if !self.globals.is_empty() {
            module.section(&self.globals);
        }
        if !self.exports.is_empty() {
            module.section(&self.exports);
        }
        if let Some(function_index) = self.start {
            module.section(&StartSection { function_index });
        }
        if !self.elements.is_empty() {
            module.section(&self.elements);
        }
        assert_eq!(
            self.bodies.len(),
            self.functions.len() as usize,
            "every function declared with add_func needs a body"
        );
        if !self.bodies.is_empty() {
            let mut code = CodeSection::new();
            let first = self.funcs - self.functions.len();
            for (i, (index, body)) in self.bodies.iter().enumerate() {
                assert_eq!(*index, first + i as u32, "function {index} has no body");
                code.function(body);
            }
            module.section(&code);
        }
        module
    }
}

#[cfg(test)]
mod tests;
