//! Integration tests of loading and validation: the examples, the corpus of invalid manifests,
//! discovery of files, and arbitrary input.

mod corpus;
mod examples;
mod fuzz;
mod loader;
mod secrets;

use std::path::{Path, PathBuf};

/// The repository's top folder.
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
