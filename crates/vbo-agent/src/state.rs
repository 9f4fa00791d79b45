//! What the agent knows about its last cycles, shared between the loop and the HTTP endpoints.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::metrics::Metrics;
use crate::{AgentConfig, Mode};

/// How a cycle ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Planned and, in apply mode, every change made and verified.
    Success,
    /// The commit cannot be reconciled as written: its manifests have errors, it has no
    /// manifests at the path, prune would delete everything, or the plan has errors. Nothing
    /// was changed on the server.
    Invalid,
    /// Something else failed: git, a secret that cannot be read, the server, or a change.
    Error,
    /// Shutdown stopped the cycle: changes not started were not sent.
    Interrupted,
}

impl Outcome {
    /// `success`, `invalid`, `error` or `interrupted`, as the `outcome` label of the metrics
    /// and `/status` spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Invalid => "invalid",
            Outcome::Error => "error",
            Outcome::Interrupted => "interrupted",
        }
    }

    /// Whether the cycle succeeded.
    pub fn is_success(self) -> bool {
        self == Outcome::Success
    }
}

/// How the server compares with the commit, at the cycle's plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyncState {
    /// The server matches the manifests.
    InSync,
    /// The commit is new to the agent and the server does not match it yet: in plan mode it
    /// waits for someone to apply; in apply mode this cycle applied it.
    Pending,
    /// The server differs from a commit that an earlier cycle already reconciled: someone
    /// changed the server (or, in plan mode, nobody applied the commit since).
    Drift,
}

impl SyncState {
    /// `in-sync`, `pending` or `drift`.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::InSync => "in-sync",
            SyncState::Pending => "pending",
            SyncState::Drift => "drift",
        }
    }
}

/// What a plan found, in counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PlanCounts {
    /// Organizations to create.
    pub create: usize,
    /// Organizations to update.
    pub update: usize,
    /// Organizations to delete (with prune).
    pub delete: usize,
    /// Organizations that match their manifest.
    pub no_op: usize,
    /// Organizations the manifests describe.
    pub managed: usize,
    /// Organizations on the server that no manifest describes (left alone without prune).
    pub unmanaged: usize,
}

/// One organization the plan changes: its name and what differs, never a value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChangedOrganization {
    /// The organization's name.
    pub name: String,
    /// `create`, `update` or `delete`.
    pub action: String,
    /// For an update, the paths of the fields that differ (`exchangeSettings.serverName`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

/// What applying did, in counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AppliedCounts {
    /// Organizations created (or found created meanwhile).
    pub created: usize,
    /// Organizations updated.
    pub updated: usize,
    /// Organizations deleted.
    pub deleted: usize,
    /// Changes that failed.
    pub failed: usize,
    /// Changes never started because of a shutdown.
    pub not_started: usize,
    /// Creates that failed or never started.
    #[serde(skip)]
    pub failed_creates: usize,
    /// Updates that failed or never started.
    #[serde(skip)]
    pub failed_updates: usize,
    /// Deletes that failed or never started.
    #[serde(skip)]
    pub failed_deletes: usize,
}

/// One finished cycle, as `/status` shows it and the log line says it.
#[derive(Clone, Debug, Serialize)]
pub struct CycleReport {
    /// The commit reconciled (40 hex digits), unless fetching failed.
    pub commit: Option<String>,
    /// When the cycle started (RFC 3339, UTC).
    pub started: String,
    /// When it finished (RFC 3339, UTC).
    pub finished: String,
    /// How long it took.
    pub duration_seconds: f64,
    /// How it ended.
    pub outcome: Outcome,
    /// How the server compared with the commit, when a plan was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync: Option<SyncState>,
    /// What the plan found, when one was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanCounts>,
    /// The organizations the plan changes.
    pub changes: Vec<ChangedOrganization>,
    /// What applying did (apply mode, when there was something to apply).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied: Option<AppliedCounts>,
    /// Why the cycle did not succeed. Never a secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When it finished, for the metrics.
    #[serde(skip)]
    pub(crate) finished_at: SystemTime,
}

impl CycleReport {
    pub(crate) fn new(started: SystemTime) -> Self {
        Self {
            commit: None,
            started: rfc3339(started),
            finished: String::new(),
            duration_seconds: 0.0,
            outcome: Outcome::Success,
            sync: None,
            plan: None,
            changes: Vec::new(),
            applied: None,
            error: None,
            finished_at: started,
        }
    }

    pub(crate) fn finish(&mut self, took: Duration, finished: SystemTime) {
        self.duration_seconds = took.as_secs_f64();
        self.finished = rfc3339(finished);
        self.finished_at = finished;
    }
}

/// What `/status` shows.
#[derive(Clone, Debug, Serialize)]
pub struct Status {
    /// `plan` or `apply`.
    pub mode: Mode,
    /// The repository, without credentials.
    pub repository: String,
    /// The branch followed.
    pub branch: String,
    /// The manifests' path in the repository.
    pub path: String,
    /// The server, as given.
    pub server: String,
    /// Whether prune is on.
    pub prune: bool,
    /// The newest commit a cycle read.
    pub commit: Option<String>,
    /// The commit of the last cycle that succeeded.
    pub reconciled_commit: Option<String>,
    /// When the last cycle that succeeded finished (RFC 3339).
    pub last_success: Option<String>,
    /// Why the last cycle did not succeed, if it did not.
    pub last_error: Option<String>,
    /// Whether the last plan found drift.
    pub drift: bool,
    /// Cycles finished since start.
    pub cycles: u64,
    /// Cycles that did not succeed since the last that did.
    pub consecutive_failures: u64,
    /// The last cycle.
    pub last_cycle: Option<CycleReport>,
}

/// The state and metrics, shared by the loop and the HTTP endpoints.
#[derive(Debug)]
pub struct Shared {
    status: Mutex<Status>,
    metrics: Metrics,
}

impl Shared {
    pub(crate) fn new(config: &AgentConfig) -> Self {
        Self {
            status: Mutex::new(Status {
                mode: config.mode,
                repository: config.repository.to_string(),
                branch: config.branch.clone(),
                path: config.path.display().to_string(),
                server: config.client.server.clone(),
                prune: config.prune,
                commit: None,
                reconciled_commit: None,
                last_success: None,
                last_error: None,
                drift: false,
                cycles: 0,
                consecutive_failures: 0,
                last_cycle: None,
            }),
            metrics: Metrics::new(config.mode),
        }
    }

    /// A copy of the status.
    pub fn status(&self) -> Status {
        self.lock().clone()
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// `Ok` with a sentence when the last cycle succeeded, `Err` with the reason otherwise
    /// (no cycle yet included).
    pub fn readiness(&self) -> Result<String, String> {
        let status = self.lock();
        match &status.last_cycle {
            None => Err("no cycle has finished yet".to_owned()),
            Some(cycle) if cycle.outcome.is_success() => Ok(format!(
                "the last cycle succeeded at commit {}",
                cycle.commit.as_deref().map(short).unwrap_or("?")
            )),
            Some(cycle) => Err(format!(
                "the last cycle ended as {}: {}",
                cycle.outcome.as_str(),
                cycle.error.as_deref().unwrap_or("no reason recorded")
            )),
        }
    }

    /// Records a finished cycle in the status and the metrics, at once for both.
    pub(crate) fn record(&self, report: &CycleReport) {
        let mut status = self.lock();
        let finished_unix = report
            .finished_at
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        self.metrics.record(report, finished_unix);
        if report.commit.is_some() {
            status.commit.clone_from(&report.commit);
        }
        status.cycles += 1;
        if report.outcome.is_success() {
            status.reconciled_commit.clone_from(&report.commit);
            status.last_success = Some(report.finished.clone());
            status.last_error = None;
            status.consecutive_failures = 0;
        } else {
            status.last_error.clone_from(&report.error);
            status.consecutive_failures += 1;
        }
        if report.plan.is_some() {
            status.drift = report.sync == Some(SyncState::Drift);
        }
        status.last_cycle = Some(report.clone());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Status> {
        // A panic while holding the lock leaves plain data behind: keep serving it.
        self.status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The first 12 hex digits of a commit, as logs show it.
pub(crate) fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// `2025-01-31T12:00:00.123Z`.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}
