//! parse (with inlining) → instrument → rewrite on generated component trees
//! (`compsnap::internals::trees`) with a synthetic post-init state: every tree is accepted,
//! and its instrumented and rewritten components validate.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut seed = [0u8; 8];
    let n = data.len().min(8);
    seed[..n].copy_from_slice(&data[..n]);
    let tree = compsnap::internals::trees::generate(u64::from_le_bytes(seed));
    let component = wat::parse_str(&tree).expect("a generated tree is valid WAT");
    compsnap::internals::offline_pipeline(&component, &data[n..])
        .expect("a generated tree is snapshotted");
});
