//! Continuous reconciliation, the pull half of GitOps: `vboctl agent`.
//!
//! An [`Agent`] keeps a clone of a git repository in a cache folder and, on every interval,
//! fetches the branch, reads the manifests of its newest commit, plans against the server and,
//! in [`Mode::Apply`], applies the plan. Each cycle's outcome is recorded in a [`Shared`] state
//! that the HTTP endpoints ([`http`]) serve as `/healthz`, `/readyz`, `/status` and `/metrics`,
//! logged as one line, and, when the server drifted from a commit already reconciled, posted
//! to a webhook ([`notify`]).
//!
//! Safety rules, in the order a cycle meets them:
//!
//! - A commit whose manifests have any error is not planned: nothing is sent to the server, so
//!   a broken commit never causes a delete. The cycle fails, naming the problems.
//! - With prune, a commit without any organization is refused, as `vboctl apply` refuses it.
//! - A plan with errors (a type change, a name used twice) is not applied.
//! - One cycle at a time; a failed cycle is retried after a backoff that grows, with jitter,
//!   up to [`AgentConfig::max_backoff`].
//! - On shutdown no change starts any more; those in flight finish, within
//!   [`AgentConfig::shutdown_timeout`], and the cycle is recorded whole, or not at all.
//!
//! Secrets never leave: manifests hold references, the password of the server and the git
//! token are held as [`Secret`](vbo_model::Secret)s, the repository is always shown without
//! the credentials of its URL, and the webhook's URL (often a secret itself) is never shown.

mod backoff;
mod cycle;
mod error;
pub mod git;
pub mod http;
mod metrics;
pub mod notify;
mod state;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use vbo_client::ClientConfig;
use vbo_model::Environment;

pub use error::{AgentError, GitError};
pub use git::{GitSource, RepositoryUrl};
pub use metrics::{CONTENT_TYPE as METRICS_CONTENT_TYPE, Metrics};
pub use notify::Notifier;
pub use state::{
    AppliedCounts, ChangedOrganization, CycleReport, Outcome, PlanCounts, Shared, Status, SyncState,
};

/// What a cycle does with a plan that has changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Plan and report: drift and pending changes are logged, counted and notified; nothing
    /// is changed on the server.
    #[default]
    Plan,
    /// Plan and apply: the server is made to match the manifests on every cycle.
    Apply,
}

impl Mode {
    /// `plan` or `apply`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Plan => "plan",
            Mode::Apply => "apply",
        }
    }
}

/// Everything an agent needs to run.
#[derive(Clone, Debug)]
pub struct AgentConfig {
    /// The repository: a URL (`https://`, `ssh://`, `git@host:path`, `file://`) or a local path.
    pub repository: RepositoryUrl,
    /// The branch to follow.
    pub branch: String,
    /// The folder (or file) of manifests inside the repository; empty or `.` for all of it.
    pub path: PathBuf,
    /// Where the clone and the files of the current commit are kept between cycles and runs.
    pub cache_dir: PathBuf,
    /// Time between two cycles that succeeded.
    pub interval: Duration,
    /// The longest wait before retrying after failures.
    pub max_backoff: Duration,
    /// How long a cycle in flight may still take once shutdown is asked for.
    pub shutdown_timeout: Duration,
    /// Plan only, or plan and apply.
    pub mode: Mode,
    /// Delete organizations on the server that no manifest describes.
    pub prune: bool,
    /// Changes carried out at once when applying.
    pub parallelism: usize,
    /// How to reach the server (read once at start: the password included).
    pub client: ClientConfig,
    /// Where `fromEnv` secrets are read: the environment, then the env file.
    pub environment: Environment,
    /// Where drift is posted, if anywhere.
    pub notifier: Option<Notifier>,
}

/// A running agent: its git source, its state and its metrics.
#[derive(Debug)]
pub struct Agent {
    config: AgentConfig,
    source: GitSource,
    shared: Arc<Shared>,
    memory: cycle::Memory,
}

impl Agent {
    /// Prepares the cache folder and clones the repository there (or reuses the clone a
    /// previous run left), then fetches the branch once. Fails when the repository cannot be
    /// reached or the branch does not exist: a mistake in `--repo` or `--branch` should stop
    /// the start, not become a failing cycle.
    pub async fn start(config: AgentConfig) -> Result<Self, AgentError> {
        // reqwest (git over https, the webhook) is built without a bundled crypto provider,
        // like the client: install ring once for the process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let source = GitSource::open(
            config.repository.clone(),
            config.branch.clone(),
            config.cache_dir.clone(),
        )
        .await?;
        let commit = source.fetch(&CancellationToken::new()).await?;
        tracing::info!(
            repository = %config.repository,
            branch = %config.branch,
            commit = %commit,
            "repository ready"
        );
        let shared = Arc::new(Shared::new(&config));
        Ok(Self {
            config,
            source,
            shared,
            memory: cycle::Memory::default(),
        })
    }

    /// The state and metrics the HTTP endpoints serve.
    pub fn shared(&self) -> Arc<Shared> {
        Arc::clone(&self.shared)
    }

    /// Runs one cycle now: fetch, read, plan, apply in [`Mode::Apply`], record. `shutdown`
    /// stops starting changes (those in flight finish) and interrupts a fetch.
    pub async fn cycle(&mut self, shutdown: &CancellationToken) -> CycleReport {
        cycle::run(self, shutdown).await
    }

    /// Runs cycles until `shutdown` is cancelled: one every [`AgentConfig::interval`] while
    /// they succeed, and after a growing backoff while they fail. Once `shutdown` is cancelled
    /// the cycle in flight stops starting changes and finishes within
    /// [`AgentConfig::shutdown_timeout`]; one that takes longer is abandoned unrecorded.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let mut failures: u32 = 0;
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            let timeout = self.config.shutdown_timeout;
            let bounded = async {
                shutdown.cancelled().await;
                tokio::time::sleep(timeout).await;
            };
            let report = tokio::select! {
                report = cycle::run(&mut self, &shutdown) => report,
                () = bounded => {
                    tracing::warn!(
                        "the cycle in flight did not finish within {} of the shutdown; \
                         stopping without recording it: changes it was sending may or may not \
                         have been made, and the next start plans anew",
                        humantime::format_duration(timeout)
                    );
                    break;
                }
            };
            if shutdown.is_cancelled() {
                break;
            }
            let delay = if report.outcome.is_success() {
                failures = 0;
                self.config.interval
            } else {
                failures = failures.saturating_add(1);
                let delay = backoff::delay(
                    failures,
                    self.config.interval,
                    self.config.max_backoff,
                    rand::random::<f64>(),
                );
                tracing::info!(
                    failures,
                    retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    "retrying after a backoff"
                );
                delay
            };
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = shutdown.cancelled() => break,
            }
        }
        tracing::info!("agent stopped");
    }
}
