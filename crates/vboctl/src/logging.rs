//! Diagnostic logging to standard error, controlled by `RUST_LOG` (for example
//! `RUST_LOG=debug` shows every request with its status and duration). Nothing logged anywhere
//! in vboctl carries a secret or a request body.

use tracing_subscriber::EnvFilter;

/// The crates of this workspace, whose messages are shown by default.
const OWN_CRATES: &[&str] = &[
    "vboctl",
    "vbo_client",
    "vbo_apply",
    "vbo_plan",
    "vbo_model",
    "vbo_emulator",
];

/// Installs the logger. Without `RUST_LOG`, only this workspace's messages at `default_level`
/// and above are shown (`warn` for most commands, `info` for the emulator's request log):
/// libraries' own complaints (a TLS verifier logging the certificate failure that vboctl then
/// reports as an error with a hint, for example) would only repeat what vboctl says better.
///
/// Without `RUST_LOG` and below `info`, lines are short (`WARN GET /v3/Organizations has
/// failed 3 times ...`): they speak to the person waiting, not to a log collector.
pub(crate) fn init(colored: bool, default_level: &str) {
    let from_env = EnvFilter::try_from_default_env().ok();
    let terse = from_env.is_none() && default_level == "warn";
    let filter = from_env.unwrap_or_else(|| {
        let own: Vec<String> = OWN_CRATES
            .iter()
            .map(|name| format!("{name}={default_level}"))
            .collect();
        EnvFilter::new(format!("off,{}", own.join(",")))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colored);
    let _ = if terse {
        builder.without_time().with_target(false).try_init()
    } else {
        builder.with_target(true).try_init()
    };
}
