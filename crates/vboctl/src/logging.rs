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
    "vbo_agent",
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
    let filter = from_env.unwrap_or_else(|| own_crates_at(default_level));
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

/// Installs the logger of `vboctl agent`, a long-running service: without `RUST_LOG`, this
/// workspace's messages at `info` and above, with a time stamp; with `json`, one JSON object
/// per line whose fields (commit, outcome, counts) are top-level keys, for log shippers.
pub(crate) fn init_agent(colored: bool, json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| own_crates_at("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init()
    } else {
        builder.with_ansi(colored).try_init()
    };
}

/// This workspace's messages at `level` and above, nothing from other crates.
fn own_crates_at(level: &str) -> EnvFilter {
    let own: Vec<String> = OWN_CRATES
        .iter()
        .map(|name| format!("{name}={level}"))
        .collect();
    EnvFilter::new(format!("off,{}", own.join(",")))
}
