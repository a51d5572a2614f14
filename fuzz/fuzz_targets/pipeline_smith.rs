//! parse → instrument → rewrite on wasm-smith modules wrapped in a component with an init
//! export, with a synthetic post-init state. Valid inputs that compsnap supports must always
//! produce valid instrumented and rewritten components.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use wasm_encoder::{
    CanonicalFunctionSection, Component, ComponentExportKind, ComponentExportSection,
    ComponentTypeSection, ExportKind, InstanceSection, ModuleArg, ModuleSection, RawSection,
};

fuzz_target!(|data: &[u8]| {
    let _ = run(data);
});

fn run(data: &[u8]) -> Result<()> {
    let mut u = Unstructured::new(data);
    let mut config: wasm_smith::Config = u.arbitrary()?;
    // The component instantiates the module with no arguments.
    config.max_imports = 0;
    config.min_imports = 0;
    config.allow_start_export = true;
    config.threads_enabled = false;
    config.shared_everything_threads_enabled = false;
    config.memory64_enabled = false;
    config.exceptions_enabled = false;
    config.custom_page_sizes_enabled = false;
    let module = wasm_smith::Module::new(config, &mut u)?.to_bytes();
    let seed: Vec<u8> = u.arbitrary()?;
    let component = wrap(&module);
    if let Some(path) = std::env::var_os("COMPSNAP_FUZZ_DUMP") {
        // To reproduce a failure outside the fuzzer: the component and the state seed.
        let _ = std::fs::write(&path, &component);
        let _ = std::fs::write(format!("{}.seed", path.to_string_lossy()), &seed);
    }
    let _ = compsnap::internals::offline_pipeline(&component, &seed);
    Ok(())
}

/// `(component (core module <module>) (core instance (instantiate 0)) + an "init" export)`:
/// the init comes from a second, empty-bodied module, so every generated module can be used.
fn wrap(module: &[u8]) -> Vec<u8> {
    let mut init = wasm_encoder::Module::new();
    let mut types = wasm_encoder::TypeSection::new();
    types.ty().function([], []);
    init.section(&types);
    let mut funcs = wasm_encoder::FunctionSection::new();
    funcs.function(0);
    init.section(&funcs);
    let mut exports = wasm_encoder::ExportSection::new();
    exports.export("init", ExportKind::Func, 0);
    init.section(&exports);
    let mut code = wasm_encoder::CodeSection::new();
    let mut f = wasm_encoder::Function::new([]);
    f.instruction(&wasm_encoder::Instruction::End);
    code.function(&f);
    init.section(&code);

    let mut c = Component::new();
    c.section(&RawSection { id: wasm_encoder::ComponentSectionId::CoreModule as u8, data: module });
    c.section(&ModuleSection(&init));
    let mut instances = InstanceSection::new();
    instances.instantiate(0, Vec::<(&str, ModuleArg)>::new());
    instances.instantiate(1, Vec::<(&str, ModuleArg)>::new());
    c.section(&instances);
    let mut aliases = wasm_encoder::ComponentAliasSection::new();
    aliases.alias(wasm_encoder::Alias::CoreInstanceExport {
        instance: 1,
        kind: ExportKind::Func,
        name: "init",
    });
    c.section(&aliases);
    let mut ty = ComponentTypeSection::new();
    ty.function()
        .params(Vec::<(&str, wasm_encoder::ComponentValType)>::new())
        .result(None);
    c.section(&ty);
    let mut canon = CanonicalFunctionSection::new();
    canon.lift(0, 0, []);
    c.section(&canon);
    let mut exports = ComponentExportSection::new();
    exports.export("init", ComponentExportKind::Func, 0, None);
    c.section(&exports);
    c.finish()
}
