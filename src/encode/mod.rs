//! Re-encoding: the only code that writes module and component bytes.
//!
//! - [`module`] edits one core module section by section, index-preserving.
//! - [`tree`] re-encodes a whole component tree in one pass: new module bytes, versions of
//!   definitions, the prepended sink, a removed export, and what is appended to each body.
//! - [`builder`] appends to a body or builds a module, handing out each index it allocates.
//! - [`types`] copies type sections; [`code`] has small pieces of generated function bodies.
//! - [`rope`] holds what they write: encoded bytes, and the snapshot's memory they borrow.

pub mod builder;
pub mod code;
pub mod module;
pub mod rope;
pub mod tree;
pub mod types;
