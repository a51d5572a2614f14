//! Compiling the instrumented component or core module, and the on-disk cache of compiled
//! ones.
//!
//! Compiling is nearly all of a large snapshot's time (a 10–20 MB JavaScript or Python
//! component takes Cranelift tens of seconds), and build pipelines snapshot the same engine
//! again and again. The instrumented bytes are a pure function of the input, so the compiled
//! component is stored under a SHA-256 of those bytes, Wasmtime's engine compatibility hash
//! and compsnap's version. A file that fails to load (truncated, from another Wasmtime) is
//! compiled again and replaced; a cache that cannot be written only costs the next run time.
//!
//! Loading trusts the file: Wasmtime runs deserialized machine code as is, so the cache
//! directory must be writable only by its user, like any build cache.

use anyhow::{anyhow, Result};
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::component::Component;
use wasmtime::{Engine, Module};

/// The cache file for `instrumented` compiled by `engine`.
fn entry(dir: &Path, engine: &Engine, instrumented: &[u8]) -> PathBuf {
    let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
    engine
        .precompile_compatibility_hash()
        .hash(&mut engine_hash);
    let mut sha = Sha256::new();
    sha.update(env!("CARGO_PKG_VERSION").as_bytes());
    sha.update(engine_hash.finish().to_le_bytes());
    sha.update(instrumented);
    let hex: String = sha.finalize().iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{hex}.cwasm"))
}

/// What the cache holds: compiled components and compiled core modules.
pub trait Compiled: Sized {
    /// "component" or "module", for messages.
    const WHAT: &'static str;
    fn compile(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self>;
    /// # Safety
    /// `path` must hold what [`Compiled::serialize`] wrote for this engine.
    unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self>;
    fn serialize(&self) -> wasmtime::Result<Vec<u8>>;
}

/// Components and modules have the same three methods under the same names.
macro_rules! compiled {
    ($ty:ident, $what:literal) => {
        impl Compiled for $ty {
            const WHAT: &'static str = $what;
            fn compile(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self> {
                $ty::new(engine, bytes)
            }
            unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self> {
                // SAFETY: passed on to the caller.
                unsafe { $ty::deserialize_file(engine, path) }
            }
            fn serialize(&self) -> wasmtime::Result<Vec<u8>> {
                $ty::serialize(self)
            }
        }
    };
}

compiled!(Component, "component");
compiled!(Module, "module");

/// Compiles the instrumented component or module.
fn compile<T: Compiled>(engine: &Engine, instrumented: &[u8]) -> Result<T> {
    T::compile(engine, instrumented)
        .map_err(|e| anyhow!("Wasmtime cannot compile the {}: {e:#}", T::WHAT))
}

/// Compiles the instrumented component or module, or loads it from the cache in `dir`; says
/// whether it was cached.
pub fn compile_cached<T: Compiled>(
    engine: &Engine,
    instrumented: &[u8],
    dir: Option<&Path>,
) -> Result<(T, bool)> {
    let Some(dir) = dir else {
        return Ok((compile(engine, instrumented)?, false));
    };
    let path = entry(dir, engine, instrumented);
    if path.exists() {
        // SAFETY: the file was written by `store` below from what this engine compiled; see
        // the module docs on trusting the cache directory.
        if let Ok(compiled) = unsafe { T::deserialize_file(engine, &path) } {
            return Ok((compiled, true));
        }
    }
    let compiled: T = compile(engine, instrumented)?;
    if let Ok(bytes) = compiled.serialize() {
        // Best effort: a failed write leaves no partial entry and is retried next time.
        let _ = store(dir, &path, &bytes);
    }
    Ok((compiled, false))
}

fn store(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    crate::output::write_atomically(path, bytes)
}
