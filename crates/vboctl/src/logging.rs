//! Diagnostic logging to standard error, controlled by `RUST_LOG` (for example
//! `RUST_LOG=debug` shows every request with its status and duration). Nothing logged anywhere
//! in vboctl carries a secret or a request body.

use tracing_subscriber::EnvFilter;

/// Installs the logger. Without `RUST_LOG`, only messages at `default_level` and above are
/// shown (`warn` for most commands, `info` for the emulator's request log).
pub(crate) fn init(colored: bool, default_level: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colored)
        .with_target(true)
        .try_init();
}
