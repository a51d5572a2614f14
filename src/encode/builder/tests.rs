//! Tests of the builders: `BodyBuilder` continues every index space from the counts it is
//! given, returns the final counts and groups consecutive items of one kind into one section;
//! `ModuleBuilder` numbers imports per kind, continues the function and global spaces after
//! them, and emits a valid module with its bodies in function order.

use super::*;
use wasm_encoder::{Elements, Instruction, MemoryType, RefType, TableType};
use wasmparser::{Operator, Payload};

/// Each top-level section of a component: its kind and item count.
fn sections(bytes: &[u8]) -> Vec<(&'static str, u32)> {
    let mut out = Vec::new();
    let mut depth = 0;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let payload = payload.expect("builder output parses");
        match &payload {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth -= 1,
            _ if depth != 1 => {}
            Payload::ComponentTypeSection(r) => out.push(("types", r.count())),
            Payload::InstanceSection(r) => out.push(("core instances", r.count())),
            Payload::ComponentAliasSection(r) => out.push(("aliases", r.count())),
            Payload::ComponentCanonicalSection(r) => out.push(("canon", r.count())),
            Payload::ComponentExportSection(r) => out.push(("exports", r.count())),
            Payload::ModuleSection { .. } => out.push(("module", 1)),
            other => panic!("unexpected section {other:?}"),
        }
    }
    out
}

fn void_body() -> Function {
    let mut f = Function::new([]);
    f.instruction(&Instruction::End);
    f
}

fn const_body(value: i32) -> Function {
    let mut f = Function::new([]);
    f.instruction(&Instruction::I32Const(value));
    f.instruction(&Instruction::End);
    f
}

#[test]
fn body_builder_continues_every_index_space() {
    let start = IndexCounts {
        core_funcs: 5,
        core_tables: 2,
        core_memories: 1,
        core_globals: 3,
        core_instances: 4,
        modules: 1,
        component_funcs: 7,
        component_types: 6,
        ..Default::default()
    };
    let mut component = Component::new();
    let mut b = BodyBuilder::new(&mut component, start);
    assert_eq!(b.add_core_alias(0, ExportKind::Func, "a"), 5);
    assert_eq!(b.add_core_alias(0, ExportKind::Func, "b"), 6);
    assert_eq!(b.add_core_alias(0, ExportKind::Table, "t"), 2);
    assert_eq!(b.add_core_alias(0, ExportKind::Memory, "m"), 1);
    assert_eq!(b.add_core_alias(0, ExportKind::Global, "g"), 3);
    assert_eq!(b.add_func_alias(0, "x"), 7);
    assert_eq!(
        b.add_lower(7, &[]),
        7,
        "a lowered function is a core function"
    );
    assert_eq!(
        b.add_lift(5, 6),
        8,
        "a lifted function is a component function"
    );
    assert_eq!(b.add_void_func_type(), 6);
    assert_eq!(
        b.add_func_export("e", 8),
        9,
        "an export is a new function entry"
    );
    assert_eq!(b.add_instantiation(0, &[("x", 1)]), 4);
    assert_eq!(b.add_instance_of_items(&[("f", ExportKind::Func, 5)]), 5);
    assert_eq!(b.add_module(&Module::new()), 1);
    let end = b.finish();
    assert_eq!(
        end,
        IndexCounts {
            core_funcs: 8,
            core_tables: 3,
            core_memories: 2,
            core_globals: 4,
            core_instances: 6,
            modules: 2,
            component_funcs: 10,
            component_types: 7,
            ..Default::default()
        }
    );
    assert_eq!(
        sections(&component.finish()),
        [
            ("aliases", 6),
            ("canon", 2),
            ("types", 1),
            ("exports", 1),
            ("core instances", 2),
            ("module", 1),
        ],
        "consecutive items of one kind share a section"
    );
}

#[test]
fn interleaved_kinds_start_new_sections() {
    let mut component = Component::new();
    let mut b = BodyBuilder::new(&mut component, IndexCounts::default());
    b.add_core_alias(0, ExportKind::Func, "a");
    b.add_lower(0, &[]);
    b.add_core_alias(0, ExportKind::Func, "b");
    b.add_core_alias(0, ExportKind::Func, "c");
    b.add_func_export("e", 0);
    b.add_func_export("f", 0);
    b.add_void_func_type();
    assert_eq!(b.finish().core_funcs, 4);
    assert_eq!(
        sections(&component.finish()),
        [
            ("aliases", 1),
            ("canon", 1),
            ("aliases", 2),
            ("exports", 2),
            ("types", 1),
        ]
    );
}

#[test]
fn an_empty_builder_writes_nothing() {
    let mut component = Component::new();
    let counts = IndexCounts {
        core_funcs: 3,
        ..Default::default()
    };
    assert_eq!(BodyBuilder::new(&mut component, counts).finish(), counts);
    assert!(sections(&component.finish()).is_empty());
}

#[test]
fn built_component_validates_and_matches_the_model() {
    let mut m = ModuleBuilder::new();
    let ty = m.add_func_type(&[], &[]);
    let f = m.add_func(ty);
    m.set_body(f, void_body());
    m.export("f", ExportKind::Func, f);
    let module = m.finish();

    let mut component = Component::new();
    let mut b = BodyBuilder::new(&mut component, IndexCounts::default());
    let module = b.add_module(&module);
    let instance = b.add_instantiation(module, &[]);
    let core = b.add_core_alias(instance, ExportKind::Func, "f");
    let ty = b.add_void_func_type();
    let lifted = b.add_lift(core, ty);
    let export = b.add_func_export("run", lifted);
    let counts = b.finish();
    let bytes = component.finish();
    crate::output::validate(&bytes).unwrap();

    let model = crate::model::parse(&bytes).unwrap();
    let root = &model.scopes[0];
    assert_eq!(
        root.counts, counts,
        "the builder counts as the validator does"
    );
    assert_eq!(
        (
            root.exports[0].name.as_str(),
            root.exports[0].index,
            root.exports[0].entry
        ),
        ("run", lifted, export)
    );
}

#[test]
fn module_builder_numbers_imports_per_kind() {
    let mut m = ModuleBuilder::new();
    let ret = m.add_func_type(&[], &[ValType::I32]);
    let void = m.add_func_type(&[], &[]);
    assert_eq!((ret, void), (0, 1));
    let table = TableType {
        element_type: RefType::FUNCREF,
        table64: false,
        minimum: 1,
        maximum: None,
        shared: false,
    };
    let memory = MemoryType {
        minimum: 1,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    };
    let global = GlobalType {
        val_type: ValType::I32,
        mutable: false,
        shared: false,
    };
    assert_eq!(m.add_import("env", "a", EntityType::Function(void)), 0);
    assert_eq!(m.add_import("env", "t", EntityType::Table(table)), 0);
    assert_eq!(m.add_import("env", "b", EntityType::Function(void)), 1);
    assert_eq!(m.add_import("env", "m", EntityType::Memory(memory)), 0);
    assert_eq!(m.add_import("env", "g", EntityType::Global(global)), 0);
    assert_eq!(m.add_import("env", "t2", EntityType::Table(table)), 1);
    assert_eq!(m.next_func(), 2);
    assert_eq!(m.add_func(ret), 2, "functions continue after the imports");
    assert_eq!(m.add_func(ret), 3);
    assert_eq!(m.add_func(void), 4);
    assert_eq!(m.next_func(), 5);
    assert_eq!(
        m.add_global(
            GlobalType {
                mutable: true,
                ..global
            },
            &ConstExpr::i32_const(9)
        ),
        1,
        "globals continue after the imported one"
    );
}

#[test]
fn module_builder_emits_bodies_in_function_order() {
    let mut m = ModuleBuilder::new();
    let ret = m.add_func_type(&[], &[ValType::I32]);
    let void = m.add_func_type(&[], &[]);
    m.add_import("env", "a", EntityType::Function(void));
    m.add_import(
        "env",
        "t",
        EntityType::Table(TableType {
            element_type: RefType::FUNCREF,
            table64: false,
            minimum: 4,
            maximum: None,
            shared: false,
        }),
    );
    let funcs = [m.add_func(ret), m.add_func(ret), m.add_func(ret)];
    let start = m.add_func(void);
    // Bodies given out of order.
    m.set_body(start, void_body());
    for &f in funcs.iter().rev() {
        m.set_body(f, const_body(f as i32 * 10));
    }
    m.add_global(
        GlobalType {
            val_type: ValType::I32,
            mutable: true,
            shared: false,
        },
        &ConstExpr::i32_const(0),
    );
    m.export("one", ExportKind::Func, funcs[0]);
    m.start(start);
    m.elements().active(
        None,
        &ConstExpr::i32_const(0),
        Elements::Functions(funcs.as_slice().into()),
    );
    let bytes = m.finish().finish();
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&bytes)
        .unwrap();

    let mut consts = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
        if let Payload::CodeSectionEntry(body) = payload.unwrap() {
            let mut ops = body.get_operators_reader().unwrap();
            consts.push(match ops.read().unwrap() {
                Operator::I32Const { value } => Some(value),
                _ => None,
            });
        }
    }
    assert_eq!(consts, [Some(10), Some(20), Some(30), None]);
}

#[test]
fn an_empty_module_builder_emits_an_empty_module() {
    let bytes = ModuleBuilder::new().finish().finish();
    assert_eq!(bytes.len(), 8, "header only");
    wasmparser::Validator::new().validate_all(&bytes).unwrap();
}
