//! The vboctl binary as users run it: output, formats and exit codes.

#[cfg(unix)]
mod agent;
mod apply;
mod apply_support;
mod ci_examples;
mod ci_formats;
#[cfg(unix)]
mod confirm;
mod conveniences;
mod demo;
mod deploy_examples;
mod emulator;
mod env_file;
mod export;
mod generated;
#[cfg(unix)]
mod interrupt;
mod plan;
mod plan_schema;
mod support;
mod target;
mod tls;
mod v8;
mod validate;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The repository's top folder; commands run there so paths in output are short and stable.
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// `vboctl` run from the repository's top folder, without colours.
fn vboctl() -> Command {
    let mut command = Command::cargo_bin("vboctl").unwrap();
    command.current_dir(repository()).env("NO_COLOR", "1");
    command
}
