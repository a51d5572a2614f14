//! `compsnap verify`: snapshot a component, then run the original (instantiate + init) and the
//! snapshot (instantiate only) side by side and compare every byte of core state and the
//! results of the calls the user names. It checks the snapshot's promise on the user's input.
//!
//! Both sides run instrumented, as the snapshot run itself does: the instrumentation is
//! additive and idle outside a probe, and it is what reads the state back. The original side
//! compiles with Cranelift's optimizations and its default register allocator, a compiler
//! other than the fast one the snapshot's init ran under by default (Winch, or Cranelift's
//! single-pass allocator), so a fault of that compiler shows up as a difference. Verifying so
//! costs one optimized compile more than snapshotting (with the compile cache on, only the
//! first time).

use crate::{read_input, Snapshotter};
use anyhow::{Context, Result};

/// What [`verify`] found.
#[derive(Debug, Clone)]
pub struct Verification {
    /// The snapshot that was checked.
    pub output: Vec<u8>,
    /// Each call's outcome on both sides.
    pub calls: Vec<CallOutcome>,
    /// The first difference in core state, if any.
    pub state: Option<String>,
}

/// One call, made on the original after init and on the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallOutcome {
    /// The call as given.
    pub call: String,
    /// The original's results after init, as WAVE, or `trap: …`.
    pub original: String,
    /// The snapshot's results, in the same form.
    pub snapshot: String,
}

impl Verification {
    /// Every call answered the same and the core state matched byte for byte.
    pub fn passed(&self) -> bool {
        self.state.is_none() && self.calls.iter().all(|c| c.original == c.snapshot)
    }
}

/// Snapshots `input` with `snap`, then compares the original after init with the snapshot:
/// all core state, and the outcome of each of `calls` (WAVE calls such as `run(3)` or
/// `my:pkg/iface#get("k")`, made in order on one instance of each).
///
/// The init runs twice (once for the snapshot, once for the original), and so do the calls:
/// both see the snapshotter's deterministic world (with `host_world`, one freshly seeded for
/// the two runs), or an init that reads clocks or randomness could never compare equal.
pub fn verify(snap: &Snapshotter, input: &[u8], calls: &[String]) -> Result<Verification> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let snap = snap.replaying(fresh_seed(), now);
    let output = snap.snapshot(input)?;
    let bytes = read_input(input)?;
    let mut optimized = snap.clone();
    optimized.fast_compile(false);
    let (before, original) = optimized
        .observe(&bytes, true, calls)
        .context("running the original")?;
    let (after, snapshot) = snap
        .observe(&output, false, calls)
        .context("running the snapshot")?;
    let calls = calls
        .iter()
        .zip(original.into_iter().zip(snapshot))
        .map(|(call, (original, snapshot))| CallOutcome {
            call: call.clone(),
            original,
            snapshot,
        })
        .collect();
    Ok(Verification {
        state: before.diff(&after),
        calls,
        output,
    })
}

/// A seed no one can predict: the time, the process and an address, hashed.
fn fresh_seed() -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    h.update(now.as_nanos().to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    let local = 0u8;
    h.update((&local as *const u8 as usize).to_le_bytes());
    h.finalize().into()
}
