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
//! The cache is bounded: after each new entry the least recently used ones (by modification
//! time, which a hit refreshes) go until the directory holds at most the cap (the newest
//! entry stays even when it alone is larger). Entries are written to a temporary file and
//! renamed, so processes sharing the directory never see a torn entry. A fresh entry is
//! written on its own thread while the init runs, and the run waits for it before it ends
//! ([`Storing`]). A directory that cannot be written costs one warning line and the next run
//! a compile.
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
/// whether it was cached. A fresh compile is stored in the cache while the caller goes on
/// ([`Storing`]): serializing, writing and forcing to disk componentize-py's 40 MB entry
/// takes 0.12–0.22 s, which its 1 s init now hides (cold snapshots with a fresh cache,
/// alternating, medians of 8: 3.78 instead of 4.0 s). Its serialized bytes live during the
/// init, which raised the command line's peak RSS on it from 356–358 to 367–374 MB.
pub fn compile_cached<T: Compiled + Clone + Send + 'static>(
    engine: &Engine,
    instrumented: &[u8],
    cache: Option<&Cache>,
) -> Result<(T, bool, Storing)> {
    let Some(cache) = cache else {
        return Ok((compile(engine, instrumented)?, false, Storing(None)));
    };
    let path = entry(&cache.dir, engine, instrumented);
    if path.exists() {
        // SAFETY: the file was written by `store` below from what this engine compiled; see
        // the module docs on trusting the cache directory.
        if let Ok(compiled) = unsafe { T::deserialize_file(engine, &path) } {
            // A hit makes the entry the most recently used one.
            let _ = std::fs::File::options()
                .append(true)
                .open(&path)
                .and_then(|f| f.set_modified(std::time::SystemTime::now()));
            return Ok((compiled, true, Storing(None)));
        }
    }
    let compiled: T = compile(engine, instrumented)?;
    let (entry, cache) = (compiled.clone(), cache.clone());
    let storing = std::thread::Builder::new()
        .name("compsnap-cache".into())
        .spawn(move || {
            if let Ok(bytes) = entry.serialize() {
                // A failed write leaves no partial entry; it costs the next run a compile.
                if let Err(e) = store(&cache, &path, &bytes) {
                    warn_once(&cache.dir, &e);
                }
            }
        });
    // A thread that cannot start leaves the entry unwritten, as a failed write does.
    Ok((compiled, false, Storing(storing.ok())))
}

/// A fresh compile being written to the cache. Dropping it waits until the entry is written
/// (or has failed to be), so a snapshot returns only when the next one can find its entry,
/// and no write outlives it.
#[derive(Default)]
#[must_use = "dropping it waits for the cache entry"]
pub struct Storing(Option<std::thread::JoinHandle<()>>);

impl Storing {
    /// Whether an entry is being written (or was, and has not been waited for).
    pub fn pending(&self) -> bool {
        self.0.is_some()
    }

    /// Waits for the entry, if one is being written.
    pub fn wait(self) {
        drop(self)
    }
}

impl Drop for Storing {
    fn drop(&mut self) {
        if let Some(thread) = self.0.take() {
            // A panic in the writer only loses the entry.
            let _ = thread.join();
        }
    }
}

/// Where compiled components and modules are kept, and how many bytes at most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cache {
    /// The directory.
    pub dir: PathBuf,
    /// The most bytes its entries may take; see [`DEFAULT_CACHE_MAX`].
    pub max_bytes: u64,
}

/// The default cap of the compile cache: 2 GiB, some 40 compiled JavaScript or Python
/// engines.
pub const DEFAULT_CACHE_MAX: u64 = 2 << 30;

fn store(cache: &Cache, path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::create_dir_all(&cache.dir)?;
    crate::output::write_atomically(path, bytes)?;
    evict(&cache.dir, cache.max_bytes, path);
    Ok(())
}

/// Removes the least recently used entries of `dir`, never `keep`, until they take at most
/// `max` bytes. Entries another process removes meanwhile are skipped.
fn evict(dir: &Path, max: u64, keep: &Path) {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<(std::time::SystemTime, u64, PathBuf)> = listing
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            Some((meta.modified().ok()?, meta.len(), e.path()))
        })
        .collect();
    entries.sort();
    let mut total: u64 = entries.iter().map(|e| e.1).sum();
    for (_, len, path) in entries {
        if total <= max {
            break;
        }
        if path != keep && std::fs::remove_file(&path).is_ok() {
            total -= len;
        }
    }
}

/// Removes every entry of the cache in `dir`; returns how many and their bytes.
pub fn clear(dir: &Path) -> Result<(usize, u64)> {
    let mut removed = (0, 0);
    let listing = match std::fs::read_dir(dir) {
        Ok(listing) => listing,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(removed),
        Err(e) => return Err(anyhow!("reading the cache {}: {e}", dir.display())),
    };
    for entry in listing.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|x| x == "cwasm") {
            let len = entry.metadata().map_or(0, |m| m.len());
            if std::fs::remove_file(&path).is_ok() {
                removed = (removed.0 + 1, removed.1 + len);
            }
        }
    }
    Ok(removed)
}

/// One warning line per process for a cache that cannot be written.
fn warn_once(dir: &Path, e: &anyhow::Error) {
    use std::sync::atomic::{AtomicBool, Ordering};
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        eprintln!(
            "compsnap: warning: the compile cache {} cannot be written ({e:#}); compiling \
             without it",
            dir.display()
        );
    }
}
