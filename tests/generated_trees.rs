//! Generated component trees: nested definitions instantiated once or twice, modules that
//! reach their instantiating scope every way the component model allows (defined there,
//! `alias outer`, an import the parent satisfies, an export of a library instance), nested
//! components copied from the root through `alias outer`, memories, tables and globals
//! shared between instances, funcrefs of one instance in another's table, and inits that
//! write all of it through calls across component boundaries. For each case the snapshot
//! must answer `read()` as the original does after init and hold exactly its core state.
//!
//! The generator is `compsnap::internals::trees` (the `pipeline_trees` fuzz target drives it
//! too). `cargo test --test generated_trees` runs 40 cases; `fuzz/generated_trees.sh [N]` runs N
//! (default 1000). A case that fails is written to the temp directory and named.

mod common;

use common::{check, snapshotter, wat};

use compsnap::internals::trees::generate;

/// What a tree must show somewhere among the cases, so the generator keeps covering it.
const FEATURES: [(&str, &str); 8] = [
    ("a module through alias outer", "(alias outer $root $cell"),
    ("a module import the parent gives", "(import \"cell\""),
    (
        "a module exported by a library instance",
        "(alias export $libi",
    ),
    (
        "a component copied through alias outer",
        "(alias outer $root $shared",
    ),
    (
        "memory, table and global shared between instances",
        "(instantiate $user",
    ),
    (
        "a definition instantiated twice",
        "(instance $i1 (instantiate $d0",
    ),
    ("calls between sibling components", "(with \"prev\""),
    ("one import given different modules", "(core module $cellv"),
];

fn run_cases(range: std::ops::Range<u64>) {
    let snap = snapshotter("init(7)");
    let mut failures = Vec::new();
    let mut seen = [0usize; FEATURES.len()];
    for seed in range.clone() {
        let source = generate(seed);
        for (i, (_, marker)) in FEATURES.iter().enumerate() {
            seen[i] += usize::from(source.contains(marker));
        }
        let input = wat(&source);
        let result = std::panic::catch_unwind(|| {
            check(&snap, &input, "init(7)", &["read()"]);
            // What the `pipeline_trees` fuzz target asserts, on a synthetic state.
            compsnap::internals::offline_pipeline(&input, &seed.to_le_bytes())
                .expect("the offline pipeline takes the tree");
        });
        if result.is_err() {
            let path = std::env::temp_dir().join(format!("compsnap-tree-{seed}.wat"));
            let _ = std::fs::write(&path, &source);
            eprintln!("case {seed} failed; its component is in {}", path.display());
            failures.push(seed);
        }
    }
    for ((what, _), n) in FEATURES.iter().zip(seen) {
        eprintln!("{n:5} trees with {what}");
        assert!(n > 0, "no generated tree has {what}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} generated trees failed: {failures:?}",
        failures.len(),
        range.end - range.start
    );
}

#[test]
fn generated_trees() {
    run_cases(common::seed_slice(
        "COMPSNAP_TREE_CASES",
        "COMPSNAP_TREE_FIRST",
        40,
    ));
}
