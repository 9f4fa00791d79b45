//! One cycle: fetch, read the commit's manifests, plan, apply in apply mode, record, report.
//!
//! Planning and applying are `vbo_apply`'s, exactly as `vboctl plan` and `vboctl apply` do
//! them; this module only decides when, and records what happened.

use std::path::Path;
use std::time::{Instant, SystemTime};

use tokio_util::sync::CancellationToken;
use vbo_apply::prepare;
use vbo_apply::{ApplyOptions, Scope, StepKind, StepOutcome};
use vbo_model::Severity;
use vbo_model::diagnostic::Diagnostic;
use vbo_plan::{Action, Desired, Plan};

use crate::notify::Notification;
use crate::state::{
    AppliedCounts, ChangedOrganization, CycleReport, Outcome, PlanCounts, SyncState, rfc3339, short,
};
use crate::{Agent, GitError, Mode};

/// How many problems a cycle's error names before saying how many more there are.
const NAMED_PROBLEMS: usize = 5;

/// What the loop remembers from one cycle to the next.
#[derive(Debug, Default)]
pub(crate) struct Memory {
    /// The commit of the last cycle that succeeded: a plan with changes for it is drift.
    reconciled: Option<String>,
    /// The drift last notified (commit and changes), so that it is posted once.
    notified: Option<String>,
    /// The commit whose warnings were last logged, so that they are logged once per commit.
    warned: Option<String>,
}

/// Why a cycle stopped early.
struct Stop {
    outcome: Outcome,
    message: String,
}

impl Stop {
    fn new(outcome: Outcome, message: impl Into<String>) -> Self {
        Self {
            outcome,
            message: message.into(),
        }
    }
}

pub(crate) async fn run(agent: &mut Agent, shutdown: &CancellationToken) -> CycleReport {
    let clock = Instant::now();
    let mut report = CycleReport::new(SystemTime::now());
    let result = steps(agent, shutdown, &mut report).await;
    if let Err(stop) = result {
        report.outcome = stop.outcome;
        report.error = Some(stop.message);
    }
    report.finish(clock.elapsed(), SystemTime::now());
    if report.outcome.is_success() {
        agent.memory.reconciled.clone_from(&report.commit);
    }
    agent.shared.record(&report);
    log(&report);
    notify(agent, &report).await;
    report
}

async fn steps(
    agent: &mut Agent,
    shutdown: &CancellationToken,
    report: &mut CycleReport,
) -> Result<(), Stop> {
    let commit = agent.source.fetch(shutdown).await.map_err(|error| {
        if matches!(error, GitError::Interrupted { .. }) {
            Stop::new(Outcome::Interrupted, error.to_string())
        } else {
            agent.shared.metrics().git_fetch_failed();
            Stop::new(Outcome::Error, error.to_string())
        }
    })?;
    report.commit = Some(commit.clone());
    let at = format!("commit {}", short(&commit));

    let folder = agent
        .source
        .checkout(&commit, &agent.config.path)
        .await
        .map_err(|error| match error {
            GitError::NoPath { .. } => Stop::new(Outcome::Invalid, error.to_string()),
            _ => Stop::new(Outcome::Error, error.to_string()),
        })?;
    let root = agent.source.checkout_root(&commit);
    let loaded = tokio::task::spawn_blocking(move || prepare::read_manifests(&[folder]))
        .await
        .map_err(|e| Stop::new(Outcome::Error, format!("reading the manifests failed: {e}")))?;
    let diagnostics: Vec<Diagnostic> = loaded
        .diagnostics
        .iter()
        .cloned()
        .map(|mut diagnostic| {
            diagnostic.file = in_repository(&diagnostic.file, &root);
            diagnostic
        })
        .collect();
    if agent.memory.warned.as_deref() != Some(commit.as_str()) {
        agent.memory.warned = Some(commit.clone());
        for diagnostic in &diagnostics {
            log_diagnostic(&commit, diagnostic);
        }
    }
    let desired = prepare::desired(loaded).map_err(|_| {
        let errors: Vec<&Diagnostic> = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        let named: Vec<String> = errors
            .iter()
            .take(NAMED_PROBLEMS)
            .map(|d| format!("{}: {}", d.location(), d.message))
            .collect();
        Stop::new(
            Outcome::Invalid,
            format!(
                "{at}: the manifests have {}; nothing was sent to the server: {}{}",
                count(errors.len(), "error"),
                named.join("; "),
                more(errors.len())
            ),
        )
    })?;
    let desired: Vec<Desired> = desired
        .into_iter()
        .map(|organization| relative_origins(organization, &root))
        .collect();
    prepare::check_prune(&desired, agent.config.prune, false)
        .map_err(|e| Stop::new(Outcome::Invalid, format!("{at}: {e}")))?;
    prepare::check_secrets(&desired, None, &agent.config.environment).map_err(|error| {
        let message = match error {
            prepare::PrepareError::UnreadableSecrets { problems } => {
                let named: Vec<String> = problems
                    .iter()
                    .take(NAMED_PROBLEMS)
                    .map(|p| format!("{} ({}): spec.{}: {}", p.name, p.origin, p.field, p.reason))
                    .collect();
                format!(
                    "{at}: {} cannot be read; nothing was sent to the server: {}{}",
                    count(problems.len(), "secret"),
                    named.join("; "),
                    more(problems.len())
                )
            }
            other => format!("{at}: {other}"),
        };
        Stop::new(Outcome::Error, message)
    })?;
    if shutdown.is_cancelled() {
        return Err(Stop::new(
            Outcome::Interrupted,
            "shutting down before planning; nothing was sent to the server",
        ));
    }

    let managed = desired.len();
    let prepared = prepare::connect_and_plan(
        agent.config.client.clone(),
        desired,
        agent.config.prune,
        None,
    )
    .await
    .map_err(|error| Stop::new(Outcome::Error, error.to_string()))?;
    let plan = &prepared.plan;
    report.plan = Some(PlanCounts {
        create: plan.summary.create,
        update: plan.summary.update,
        delete: plan.summary.delete,
        no_op: plan.summary.no_op,
        managed,
        unmanaged: plan.unmanaged.len(),
    });
    report.changes = changed(plan);
    if plan.has_errors() {
        let named: Vec<String> = plan
            .errors
            .iter()
            .take(NAMED_PROBLEMS)
            .map(|e| format!("{}: {}", e.error.name(), e.message))
            .collect();
        return Err(Stop::new(
            Outcome::Invalid,
            format!(
                "{at}: {} could not be planned; nothing was sent to the server: {}{}",
                count(plan.unplanned(), "organization"),
                named.join("; "),
                more(plan.errors.len())
            ),
        ));
    }
    report.sync = Some(if !plan.has_changes() {
        SyncState::InSync
    } else if agent.memory.reconciled.as_deref() == Some(commit.as_str()) {
        SyncState::Drift
    } else {
        SyncState::Pending
    });
    if agent.config.mode == Mode::Plan || !plan.has_changes() {
        return Ok(());
    }
    if shutdown.is_cancelled() {
        return Err(Stop::new(
            Outcome::Interrupted,
            "shutting down before applying; nothing was changed",
        ));
    }

    let options = ApplyOptions {
        parallelism: agent.config.parallelism.max(1),
        // A change in flight at shutdown may take this long; the cycle must still be recorded
        // within the shutdown timeout.
        grace: agent
            .config
            .client
            .request_timeout
            .min(agent.config.shutdown_timeout.mul_f64(0.75)),
        environment: agent.config.environment.clone(),
        cancel: shutdown.child_token(),
        ..ApplyOptions::default()
    };
    let applied = vbo_apply::apply_plan(
        &prepared.client,
        plan,
        &prepared.desired,
        Scope::All,
        &options,
        |result| match &result.outcome {
            StepOutcome::Failed { message } => tracing::warn!(
                commit = %commit,
                action = result.step.action(),
                organization = %result.step.name,
                "cannot {} {}: {message}",
                result.step.action(),
                result.step.name
            ),
            StepOutcome::NotStarted => {}
            outcome => tracing::info!(
                commit = %commit,
                action = result.step.action(),
                organization = %result.step.name,
                outcome = outcome.label(),
                "{} {}",
                outcome.label(),
                result.step.name
            ),
        },
    )
    .await
    .map_err(|e| Stop::new(Outcome::Error, format!("{at}: cannot apply the plan: {e}")))?;
    let mut counts = AppliedCounts::default();
    let mut problems = Vec::new();
    for result in &applied.results {
        match &result.outcome {
            StepOutcome::Created { .. }
            | StepOutcome::Adopted { .. }
            | StepOutcome::CreatedElsewhere { .. } => counts.created += 1,
            StepOutcome::Updated => counts.updated += 1,
            StepOutcome::Deleted => counts.deleted += 1,
            StepOutcome::Failed { message } => {
                counts.failed += 1;
                problems.push(format!(
                    "cannot {} {}: {message}",
                    result.step.action(),
                    result.step.name
                ));
            }
            StepOutcome::NotStarted => counts.not_started += 1,
        }
        if !result.outcome.is_success() {
            match result.step.kind {
                StepKind::Create { .. } => counts.failed_creates += 1,
                StepKind::Update { .. } => counts.failed_updates += 1,
                StepKind::Delete { .. } => counts.failed_deletes += 1,
            }
        }
    }
    report.applied = Some(counts);
    problems.extend(applied.unconverged.iter().cloned());
    if applied.interrupted {
        return Err(Stop::new(
            Outcome::Interrupted,
            format!(
                "{at}: shutting down: {} not started, {} failed{}",
                count(counts.not_started, "change"),
                count(counts.failed, "change"),
                if problems.is_empty() {
                    String::new()
                } else {
                    format!(": {}", problems.join("; "))
                }
            ),
        ));
    }
    if !problems.is_empty() {
        let total = problems.len();
        problems.truncate(NAMED_PROBLEMS);
        return Err(Stop::new(
            Outcome::Error,
            format!(
                "{at}: apply did not complete: {}{}",
                problems.join("; "),
                more(total)
            ),
        ));
    }
    Ok(())
}

/// The organizations a plan changes, by name, with the fields an update changes.
fn changed(plan: &Plan) -> Vec<ChangedOrganization> {
    plan.actionable()
        .map(|change| ChangedOrganization {
            name: change.name.clone(),
            action: change.action.as_str().to_owned(),
            fields: if change.action == Action::Update {
                change
                    .changed_fields
                    .iter()
                    .map(|f| f.path.clone())
                    .collect()
            } else {
                Vec::new()
            },
        })
        .collect()
}

/// `file` as a path inside the repository, when it is under the commit's folder `root`.
fn in_repository(file: &Path, root: &Path) -> std::path::PathBuf {
    file.strip_prefix(root).unwrap_or(file).to_owned()
}

/// The organization with its manifest's and fields' locations given inside the repository.
fn relative_origins(mut organization: Desired, root: &Path) -> Desired {
    let prefix = format!("{}{}", root.display(), std::path::MAIN_SEPARATOR);
    let strip = |origin: &mut String| {
        if let Some(rest) = origin.strip_prefix(&prefix) {
            *origin = rest.to_owned();
        }
    };
    // Field locations are lines and columns in the file the origin names.
    strip(&mut organization.origin);
    organization
}

fn log_diagnostic(commit: &str, diagnostic: &Diagnostic) {
    let location = diagnostic.location();
    match diagnostic.severity {
        Severity::Error => tracing::error!(
            commit = %commit,
            location = %location,
            "{location}: {}",
            diagnostic.message
        ),
        _ => tracing::warn!(
            commit = %commit,
            location = %location,
            "{location}: {}",
            diagnostic.message
        ),
    }
}

/// The one line a cycle logs: its commit, outcome and counts, at info when it succeeded
/// without drift, warn for drift or an interruption, error otherwise.
fn log(report: &CycleReport) {
    let plan = report.plan.unwrap_or_default();
    let applied = report.applied.unwrap_or_default();
    let changed: Vec<String> = report
        .changes
        .iter()
        .map(|c| format!("{}:{}", c.action, c.name))
        .collect();
    let commit = report.commit.as_deref().unwrap_or("");
    let message = match (report.outcome, report.sync) {
        (Outcome::Success, Some(SyncState::InSync)) => format!(
            "cycle finished: commit {} in sync ({} unchanged)",
            short(commit),
            plan.no_op
        ),
        (Outcome::Success, Some(state)) => format!(
            "cycle finished: commit {} {}: {} to create, {} to update, {} to delete{}",
            short(commit),
            state.as_str(),
            plan.create,
            plan.update,
            plan.delete,
            match report.applied {
                Some(a) => format!(
                    "; applied: {} created, {} updated, {} deleted",
                    a.created, a.updated, a.deleted
                ),
                None => String::new(),
            }
        ),
        (outcome, _) => format!(
            "cycle {}: {}",
            if outcome == Outcome::Interrupted {
                "interrupted"
            } else {
                "failed"
            },
            report.error.as_deref().unwrap_or("")
        ),
    };
    macro_rules! line {
        ($level:ident) => {
            tracing::$level!(
                commit = %commit,
                outcome = report.outcome.as_str(),
                sync = report.sync.map_or("", SyncState::as_str),
                create = plan.create,
                update = plan.update,
                delete = plan.delete,
                no_op = plan.no_op,
                unmanaged = plan.unmanaged,
                created = applied.created,
                updated = applied.updated,
                deleted = applied.deleted,
                failed = applied.failed,
                not_started = applied.not_started,
                changed = %changed.join(","),
                duration_ms = (report.duration_seconds * 1000.0).round() as u64,
                "{message}"
            )
        };
    }
    match (report.outcome, report.sync) {
        (Outcome::Success, Some(SyncState::Drift)) | (Outcome::Interrupted, _) => line!(warn),
        (Outcome::Success, _) => line!(info),
        _ => line!(error),
    }
}

/// Posts drift to the webhook, once for each commit and set of changes (again after a failed
/// delivery).
async fn notify(agent: &mut Agent, report: &CycleReport) {
    match report.sync {
        Some(SyncState::Drift) => {}
        Some(SyncState::InSync) => {
            agent.memory.notified = None;
            return;
        }
        _ => return,
    }
    let (Some(commit), Some(plan)) = (&report.commit, report.plan) else {
        return;
    };
    let key = format!(
        "{commit} {}",
        report
            .changes
            .iter()
            .map(|c| format!("{}:{}", c.action, c.name))
            .collect::<Vec<_>>()
            .join(",")
    );
    if agent.memory.notified.as_deref() == Some(key.as_str()) {
        return;
    }
    let Some(notifier) = agent.config.notifier.clone() else {
        agent.memory.notified = Some(key);
        return;
    };
    let notification = Notification {
        event: "drift",
        mode: agent.config.mode.as_str(),
        repository: agent.config.repository.to_string(),
        branch: agent.config.branch.clone(),
        commit: commit.clone(),
        server: agent.config.client.server.clone(),
        time: rfc3339(SystemTime::now()),
        summary: plan,
        organizations: report.changes.clone(),
        applied: report.applied,
    };
    match notifier.send(&notification).await {
        Ok(()) => {
            agent.memory.notified = Some(key);
            tracing::info!(commit = %commit, "drift notification delivered");
        }
        // Not remembered: the next cycle that finds the drift tries again.
        Err(error) => {
            agent.shared.metrics().notification_failed();
            tracing::warn!(commit = %commit, "cannot deliver the drift notification: {error}");
        }
    }
}

/// `1 error`, `2 errors`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `` or ` (and 3 more)` after the first [`NAMED_PROBLEMS`] of `total`.
fn more(total: usize) -> String {
    if total > NAMED_PROBLEMS {
        format!(" (and {} more)", total - NAMED_PROBLEMS)
    } else {
        String::new()
    }
}
