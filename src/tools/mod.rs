//! What compsnap offers besides snapshotting: `verify` (snapshot, then compare with the
//! original after init), `inspect` (a component's tree, sizes and table images) and the
//! pipeline capture format the examples and the benchmark read; `wizer` reads Wizer's command
//! lines.

pub mod capture;
pub mod inspect;
#[cfg(feature = "engine")]
pub mod verify;
#[cfg(feature = "engine")]
pub mod wizer;
