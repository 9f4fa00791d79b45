//! One module per subcommand. Each exposes its clap `Args` and a `run` function returning a
//! [`Status`] or a [`CliError`](crate::error::CliError).

pub(crate) mod agent;
pub(crate) mod apply;
pub(crate) mod completions;
pub(crate) mod demo;
pub(crate) mod emulator;
pub(crate) mod export;
pub(crate) mod plan;
pub(crate) mod schema;
pub(crate) mod server_cert;
pub(crate) mod show;
pub(crate) mod validate;

/// How a command ended when it did not fail outright.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// Everything went as asked: exit 0.
    Success,
    /// The command ran and found problems it has already reported: exit 1.
    Failure,
    /// `plan --detailed-exitcode` found changes to make: exit 2.
    ChangesPresent,
    /// Ctrl-C stopped the command after it reported what it had done: exit 130.
    Interrupted,
}

/// A command that could not write its output.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// Writing the output failed.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file, or `-` for standard output.
        path: std::path::PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// `vboctl schema plan --format markdown`: the plan's reference is docs/plan-format.md.
    #[error(
        "the plan document has no generated Markdown reference: docs/plan-format.md describes it"
    )]
    NoPlanReference,
    /// Serializing the output failed.
    #[error("cannot serialize the output: {0}")]
    Serialize(#[from] serde_json::Error),
}
