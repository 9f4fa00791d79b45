//! `vboctl agent`: continuous reconciliation from a git repository. The work is
//! `vbo_agent`'s; this is arguments, signals and the exit code.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use vbo_agent::{Agent, AgentConfig, Mode, Notifier, RepositoryUrl};
use vbo_apply::CancellationToken;
use vbo_model::Secret;

use crate::commands::Status;
use crate::connection::ConnectionArgs;
use crate::error::CliError;
use crate::ui::Ui;

/// The variable that holds a token for https repositories.
const TOKEN_ENV: &str = "VBOCTL_GIT_TOKEN";

/// What a cycle does with a plan that has changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum AgentMode {
    /// Detect and report: drift and pending changes are logged, counted and notified; the
    /// server is never changed.
    #[default]
    Plan,
    /// Converge: every cycle applies what its plan finds.
    Apply,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    /// One line of text per event, with its fields.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Reconcile continuously from git: follow a branch, plan on every interval, and apply in
/// --mode apply.
///
/// Clones the repository once into a cache folder and fetches the branch on every interval.
/// Each cycle reads and validates the manifests of the branch's commit (an invalid commit
/// changes nothing on the server), plans against the server and, with --mode apply, applies.
/// A plan with changes for a commit already reconciled is drift: it is logged, counted in the
/// metrics and posted to --notify. A failed cycle is retried after a growing backoff.
/// Serves /healthz, /readyz, /status and /metrics on --listen. SIGTERM or Ctrl-C finishes the
/// cycle in flight (no new change starts) and exits 0; a second one exits at once. Exit code 1
/// when it cannot start: an unreachable repository, a missing branch, a taken port.
///
/// For https repositories, a token is read from VBOCTL_GIT_TOKEN (or the URL's user and
/// password); ssh uses the ssh program with its keys. Neither is ever shown.
#[derive(Debug, Args)]
pub(crate) struct AgentArgs {
    /// The repository: https://, ssh://, user@host:path, file:// or a local folder.
    #[arg(
        long,
        env = "VBOCTL_AGENT_REPO",
        hide_env_values = true,
        value_name = "URL_OR_PATH"
    )]
    pub(crate) repo: String,

    /// The branch to follow.
    #[arg(
        long,
        env = "VBOCTL_AGENT_BRANCH",
        default_value = "main",
        value_name = "NAME"
    )]
    pub(crate) branch: String,

    /// The folder (or file) of manifests inside the repository.
    #[arg(
        long,
        env = "VBOCTL_AGENT_PATH",
        default_value = ".",
        value_name = "PATH"
    )]
    pub(crate) path: PathBuf,

    /// Time between cycles: 30s, 5m, 1h (at least 100ms).
    #[arg(long, env = "VBOCTL_AGENT_INTERVAL", default_value = "5m", value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) interval: Duration,

    /// plan reports; apply converges.
    #[arg(long, env = "VBOCTL_AGENT_MODE", value_enum, default_value_t)]
    pub(crate) mode: AgentMode,

    /// Also delete organizations that are on the server but in no manifest (apply mode). A
    /// commit with no manifest at all is refused, never taken as "delete everything".
    #[arg(long, env = "VBOCTL_AGENT_PRUNE", value_parser = clap::builder::FalseyValueParser::new())]
    pub(crate) prune: bool,

    /// Where to serve /healthz, /readyz, /status and /metrics.
    #[arg(
        long,
        env = "VBOCTL_AGENT_LISTEN",
        default_value = "127.0.0.1:9464",
        value_name = "ADDRESS"
    )]
    pub(crate) listen: SocketAddr,

    /// POST a JSON document here when drift is found: the commit, the plan's counts and the
    /// organizations that differ, never a value. The URL is never shown.
    #[arg(
        long,
        env = "VBOCTL_AGENT_NOTIFY",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub(crate) notify: Option<String>,

    /// Where the clone is kept between cycles and runs (default: $XDG_CACHE_HOME/vboctl/agent
    /// or ~/.cache/vboctl/agent).
    #[arg(long, env = "VBOCTL_AGENT_CACHE", value_name = "DIR")]
    pub(crate) cache_dir: Option<PathBuf>,

    /// The longest wait between retries after failed cycles.
    #[arg(long, default_value = "5m", value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) max_backoff: Duration,

    /// How long the cycle in flight may still take after SIGTERM or Ctrl-C.
    #[arg(long, default_value = "25s", value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) shutdown_timeout: Duration,

    /// Changes carried out at once in apply mode.
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub(crate) parallelism: u16,

    /// How log lines are written: text, or json (one object per line).
    #[arg(long, env = "VBOCTL_LOG_FORMAT", value_enum, default_value_t)]
    pub(crate) log_format: LogFormat,

    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,
}

/// `5m`, `30s`, `200ms`, `1h 30m`: at least 100 milliseconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text.trim())
        .map_err(|e| format!("{e} (write a duration such as 30s, 5m or 1h)"))?;
    if duration < Duration::from_millis(100) {
        return Err("must be at least 100ms".to_owned());
    }
    Ok(duration)
}

pub(crate) async fn run(args: AgentArgs, ui: &Ui) -> Result<Status, CliError> {
    let environment = args
        .connection
        .environment(&mut |warning| tracing::warn!("{warning}"))?;
    let client = args
        .connection
        .client_config(&mut |warning| tracing::warn!("{warning}"))?;
    let token = match std::env::var(TOKEN_ENV) {
        Ok(value) if !value.is_empty() => Some(Secret::new(value)),
        _ => None,
    };
    let repository = RepositoryUrl::parse(&args.repo, token)
        .map_err(|e| CliError::usage(e.to_string(), "check --repo (VBOCTL_AGENT_REPO)"))?;
    let notifier = args
        .notify
        .as_deref()
        .filter(|url| !url.trim().is_empty())
        .map(Notifier::new)
        .transpose()
        .map_err(|e| CliError::usage(e, "check --notify (VBOCTL_AGENT_NOTIFY)"))?;
    if args.prune && args.mode == AgentMode::Plan {
        tracing::info!("--prune in plan mode: deletes are reported, never made");
    }
    let cache_dir = match args.cache_dir.clone().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => dir,
        None => default_cache_dir()?,
    };
    let config = AgentConfig {
        repository,
        branch: args.branch.clone(),
        path: args.path.clone(),
        cache_dir,
        interval: args.interval,
        max_backoff: args.max_backoff,
        shutdown_timeout: args.shutdown_timeout,
        mode: match args.mode {
            AgentMode::Plan => Mode::Plan,
            AgentMode::Apply => Mode::Apply,
        },
        prune: args.prune,
        parallelism: usize::from(args.parallelism),
        client,
        environment,
        notifier,
    };
    let listener = vbo_agent::http::bind(args.listen)
        .await
        .map_err(|e| CliError::usage(e.to_string(), "choose another --listen address"))?;
    let agent = Agent::start(config).await.map_err(|e| {
        CliError::usage(
            e.to_string(),
            "check --repo, --branch and the repository's credentials (VBOCTL_GIT_TOKEN for https, an ssh key for ssh)",
        )
    })?;
    let address = listener
        .local_addr()
        .map_or_else(|_| args.listen.to_string(), |a| a.to_string());
    tracing::info!(
        address = %address,
        "serving /healthz, /readyz, /status and /metrics on http://{address}"
    );
    let shutdown = CancellationToken::new();
    let served = tokio::spawn(vbo_agent::http::serve(
        listener,
        agent.shared(),
        shutdown.child_token(),
    ));
    watch_signals(shutdown.clone(), *ui);
    agent.run(shutdown.clone()).await;
    shutdown.cancel();
    let _ = served.await;
    Ok(Status::Success)
}

/// `$XDG_CACHE_HOME/vboctl/agent`, or `~/.cache/vboctl/agent`.
fn default_cache_dir() -> Result<PathBuf, CliError> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|home| PathBuf::from(home).join(".cache"))
        })
        .ok_or_else(|| {
            CliError::usage(
                "no cache folder: neither XDG_CACHE_HOME nor HOME is set",
                "pass --cache-dir DIR (VBOCTL_AGENT_CACHE)",
            )
        })?;
    Ok(base.join("vboctl").join("agent"))
}

/// SIGTERM or Ctrl-C: the first shuts down in order, a second exits at once.
fn watch_signals(shutdown: CancellationToken, ui: Ui) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (mut terminate, mut interrupt) = match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(terminate), Ok(interrupt)) => (terminate, interrupt),
            _ => {
                tracing::warn!("cannot listen for SIGTERM and Ctrl-C: they end the process");
                return;
            }
        };
        tokio::spawn(async move {
            let mut received = 0;
            loop {
                let name = tokio::select! {
                    Some(()) = terminate.recv() => "SIGTERM",
                    Some(()) = interrupt.recv() => "SIGINT",
                    else => return,
                };
                received += 1;
                if received == 1 {
                    tracing::info!(
                        signal = name,
                        "shutting down: the cycle in flight finishes (no new change starts), then the agent exits"
                    );
                    shutdown.cancel();
                } else {
                    ui.warn(
                        "stopping at once: changes in flight may or may not have been made; the next start plans anew",
                    );
                    std::process::exit(i32::from(crate::interrupt::EXIT_CODE));
                }
            }
        });
    }
    #[cfg(not(unix))]
    {
        let _ = ui;
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                shutdown.cancel();
            }
        });
    }
}
