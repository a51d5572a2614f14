//! The rewrite's output borrows the snapshot's memory instead of copying it.

use super::{rewrite, RewriteOptions};
use crate::model::{parse, InitFunc};
use crate::snapshot::{keys, InstanceState, MemoryState, Snapshot};
use std::borrow::Cow;

/// The rewritten component holds the guest's memory as the very bytes the snapshot
/// borrows (one piece, in place), through both the module and the component encoding, and
/// it validates with those bytes as its data.
#[test]
fn the_output_borrows_the_guests_memory() {
    let bytes = wat::parse_str(
        r#"(component
             (core module $m (memory 2) (func (export "init")))
             (core instance $i (instantiate $m))
             (func (export "init") (canon lift (core func $i "init"))))"#,
    )
    .unwrap();
    let model = parse(&bytes).unwrap();
    let init = InitFunc::resolve("init", &model).unwrap();
    let guest: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8 | 1).collect();
    let snapshot = Snapshot {
        instances: vec![InstanceState {
            memories: vec![MemoryState {
                index: 0,
                size: 2 << 16,
                runs: vec![(64, Cow::Borrowed(&guest[..]))],
            }],
            ..InstanceState::default()
        }],
        keys: keys(&model),
    };
    let opts = RewriteOptions {
        keep_init_func: false,
        max_gap: None,
    };
    let out = rewrite(&model, &snapshot, &init, opts).unwrap().rope;
    let borrowed = out.borrowed();
    assert!(
        borrowed
            .iter()
            .any(|b| b.as_ptr() == guest.as_ptr() && b.len() == guest.len()),
        "the guest's bytes are not one borrowed piece of the output"
    );
    let out = out.into_bytes();
    crate::output::validate(&out).unwrap();
    assert!(out.windows(guest.len()).any(|w| w == &guest[..]));
}
