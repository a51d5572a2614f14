//! Building the C test programs (`tests/c/`) into components: Debian's clang-14 and
//! wasi-libc, clang-19's assembler for the `table.grow` helper, wit-component and the
//! preview1 adapter. Shared by `tests/c_registry.rs` and `examples/c_registry.rs`.

use std::path::Path;
use std::process::Command;

pub const PACKAGES: &str = "clang-14 clang-19 lld wasi-libc libclang-rt-14-dev-wasm32";

pub fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?}: {e}; install the apt packages {PACKAGES} (see .ci/run)")
    });
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `tests/c` of the repository: the crate's own, or two levels up from the benchmark's.
fn sources() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("tests/c"))
        .find(|dir| dir.join("registry.c").exists())
        .expect("tests/c/registry.c in the repository")
}

/// tests/c/registry.c (+ the table.grow helper), linked into a reactor core module in `dir`.
pub fn registry_module(dir: &Path) -> Vec<u8> {
    let src = sources();
    let grow = dir.join("grow.o");
    let registry = dir.join("registry.o");
    let wasm = dir.join("registry.wasm");
    run(Command::new("clang-19")
        .args(["--target=wasm32-wasi", "-mreference-types", "-c"])
        .arg(src.join("table_grow.s"))
        .arg("-o")
        .arg(&grow));
    run(Command::new("clang-14")
        .args(["--target=wasm32-wasi", "-O2", "-c"])
        .arg(src.join("registry.c"))
        .arg("-o")
        .arg(&registry));
    run(Command::new("clang-14")
        .args(["--target=wasm32-wasi", "-mexec-model=reactor", "-O2"])
        .arg(&registry)
        .arg(&grow)
        .args(["-Wl,--growable-table", "-o"])
        .arg(&wasm));
    std::fs::read(&wasm).expect("linked module")
}

pub const REGISTRY_WIT: &str = r#"
    package test:registry;
    world registry {
        export wizer-initialize: func();
        export dispatch: func(which: u32, x: u32) -> u32;
        export plugins: func() -> u32;
    }"#;

/// A wasm32-wasi reactor module made into a component for `world` of `wit`, with the
/// preview1 adapter when `wasi`.
pub fn wit_component(module: &[u8], wit: &str, world: &str, wasi: bool) -> Vec<u8> {
    let mut resolve = wit_parser::Resolve::default();
    let pkg = resolve.push_str("test.wit", wit).expect("test WIT parses");
    let world = resolve.select_world(&[pkg], Some(world)).expect("world");
    let mut module = module.to_vec();
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
        false,
    )
    .expect("embed WIT");
    let mut encoder = wit_component::ComponentEncoder::default();
    encoder.module(&module).expect("module").validate(true);
    if wasi {
        encoder
            .adapter(
                "wasi_snapshot_preview1",
                wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
            )
            .expect("adapter");
    }
    encoder.encode().expect("component")
}
