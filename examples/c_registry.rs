//! The C function registry (`tests/c/registry.c`), end to end, as a newcomer runs it:
//!
//! ```sh
//! cargo run --example c_registry [-- OUT_DIR]      # OUT_DIR defaults to target/c_registry
//! ```
//!
//! Its init reads `PLUGINS` from the environment, grows the indirect function table and
//! registers function pointers in the new slots, which neither Wizer nor component-init
//! accept. This builds the component with clang-14, wasi-libc and wit-component, snapshots it,
//! checks the snapshot against the original after init (`compsnap::verify`), and writes both.
//! Needs the apt packages clang-14 clang-19 lld wasi-libc libclang-rt-14-dev-wasm32.

#[path = "../tests/common/c_build.rs"]
mod c_build;

use anyhow::{bail, Result};
use std::path::PathBuf;

fn main() -> Result<()> {
    let out = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/c_registry"));
    std::fs::create_dir_all(&out)?;
    let module = c_build::registry_module(&out);
    let input = c_build::wit_component(&module, c_build::REGISTRY_WIT, "registry", true);
    std::fs::write(out.join("registry.wasm"), &input)?;

    let mut snap = compsnap::Snapshotter::new();
    snap.allow_wasi(true).env("PLUGINS", "6");
    let calls: Vec<String> = std::iter::once("plugins()".to_string())
        .chain((0..6).map(|i| format!("dispatch({i}, 5)")))
        .collect();
    let report = compsnap::verify::verify(&snap, &input, &calls)?;
    for c in &report.calls {
        println!(
            "{:<16} original after init: {:<12} snapshot: {}",
            c.call, c.original, c.snapshot
        );
    }
    if !report.passed() {
        bail!(
            "the snapshot differs from the original after init: {:?}",
            report.state
        );
    }
    let path = out.join("registry.snap.wasm");
    compsnap::write_atomically(&path, &report.output)?;
    println!(
        "verified; wrote {} ({} bytes; the original is {} bytes)",
        path.display(),
        report.output.len(),
        input.len()
    );
    Ok(())
}
