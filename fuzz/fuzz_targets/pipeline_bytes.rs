//! parse → instrument → rewrite on arbitrary bytes. Refusing an input is fine; panicking, or
//! producing an instrumented or rewritten component that does not validate, is a bug.
//! The first bytes seed the synthetic post-init state; the rest is the component.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.len().min(32);
    let (seed, component) = data.split_at(split);
    let _ = compsnap::internals::offline_pipeline(component, seed);
});
