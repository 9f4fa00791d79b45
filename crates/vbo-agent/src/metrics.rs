//! The agent's metrics, kept by prometheus-client and encoded by it in the OpenMetrics text
//! format that Prometheus scrapes.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::Mode;
use crate::state::{CycleReport, Outcome, SyncState};

/// The content type of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The outcomes a cycle can end with, as the `outcome` label spells them.
const OUTCOMES: [Outcome; 4] = [
    Outcome::Success,
    Outcome::Invalid,
    Outcome::Error,
    Outcome::Interrupted,
];

/// The actions a change can have, as the `action` label spells them.
const ACTIONS: [&str; 3] = ["create", "update", "delete"];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InfoLabels {
    mode: String,
    version: String,
}

/// Every metric the agent exports, all named `vboctl_*`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    last_success: Gauge<f64, AtomicU64>,
    last_cycle: Gauge<f64, AtomicU64>,
    cycle_duration: Histogram,
    cycles: Family<OutcomeLabels, Counter>,
    changes_applied: Family<ActionLabels, Counter>,
    changes_failed: Family<ActionLabels, Counter>,
    planned_changes: Family<ActionLabels, Gauge>,
    drift: Gauge,
    drift_detections: Counter,
    managed: Gauge,
    unmanaged: Gauge,
    git_fetch_errors: Counter,
    notification_errors: Counter,
}

impl Metrics {
    /// Registers every metric, with every label value already at zero so that rates and
    /// alerts work from the first scrape.
    pub fn new(mode: Mode) -> Self {
        let mut registry = Registry::with_prefix("vboctl");
        let last_success = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "last_successful_reconcile_timestamp_seconds",
            "When the last cycle that succeeded finished, in seconds since the Unix epoch (0 before the first)",
            last_success.clone(),
        );
        let last_cycle = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "last_cycle_timestamp_seconds",
            "When the last cycle finished, whatever its outcome, in seconds since the Unix epoch",
            last_cycle.clone(),
        );
        let cycle_duration = Histogram::new([
            0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
        ]);
        registry.register(
            "cycle_duration_seconds",
            "How long cycles took: fetch, read, plan and, in apply mode, apply",
            cycle_duration.clone(),
        );
        let cycles = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "cycles",
            "Cycles finished, by outcome: success, invalid (the commit cannot be reconciled), error, interrupted",
            cycles.clone(),
        );
        let changes_applied = Family::<ActionLabels, Counter>::default();
        registry.register(
            "changes_applied",
            "Changes made on the server in apply mode, by action",
            changes_applied.clone(),
        );
        let changes_failed = Family::<ActionLabels, Counter>::default();
        registry.register(
            "changes_failed",
            "Changes that failed or were not started in apply mode, by action",
            changes_failed.clone(),
        );
        let planned_changes = Family::<ActionLabels, Gauge>::default();
        registry.register(
            "planned_changes",
            "Changes the last plan found, by action, before any was applied",
            planned_changes.clone(),
        );
        let drift = Gauge::default();
        registry.register(
            "drift_detected",
            "1 when the last plan found changes for a commit already reconciled (the server drifted from it), else 0",
            drift.clone(),
        );
        let drift_detections = Counter::default();
        registry.register(
            "drift_detections",
            "Cycles that found the server drifted from a commit already reconciled",
            drift_detections.clone(),
        );
        let managed = Gauge::default();
        registry.register(
            "organizations_managed",
            "Organizations the manifests of the last planned commit describe",
            managed.clone(),
        );
        let unmanaged = Gauge::default();
        registry.register(
            "organizations_unmanaged",
            "Organizations on the server that no manifest describes, at the last plan",
            unmanaged.clone(),
        );
        let git_fetch_errors = Counter::default();
        registry.register(
            "git_fetch_errors",
            "Fetches of the repository that failed",
            git_fetch_errors.clone(),
        );
        let notification_errors = Counter::default();
        registry.register(
            "notification_errors",
            "Webhook notifications that could not be delivered",
            notification_errors.clone(),
        );
        let info = Family::<InfoLabels, Gauge>::default();
        registry.register(
            "agent_info",
            "Always 1; its labels are the agent's mode and version",
            info.clone(),
        );
        info.get_or_create(&InfoLabels {
            mode: mode.as_str().to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        })
        .set(1);
        for outcome in OUTCOMES {
            let _ = cycles.get_or_create(&OutcomeLabels {
                outcome: outcome.as_str().to_owned(),
            });
        }
        for action in ACTIONS {
            let labels = ActionLabels {
                action: action.to_owned(),
            };
            let _ = changes_applied.get_or_create(&labels);
            let _ = changes_failed.get_or_create(&labels);
            let _ = planned_changes.get_or_create(&labels);
        }
        Self {
            registry,
            last_success,
            last_cycle,
            cycle_duration,
            cycles,
            changes_applied,
            changes_failed,
            planned_changes,
            drift,
            drift_detections,
            managed,
            unmanaged,
            git_fetch_errors,
            notification_errors,
        }
    }

    /// Counts a fetch that failed.
    pub(crate) fn git_fetch_failed(&self) {
        self.git_fetch_errors.inc();
    }

    /// Counts a webhook that could not be delivered.
    pub(crate) fn notification_failed(&self) {
        self.notification_errors.inc();
    }

    /// Records a finished cycle.
    pub(crate) fn record(&self, report: &CycleReport, finished_unix: f64) {
        self.cycles
            .get_or_create(&OutcomeLabels {
                outcome: report.outcome.as_str().to_owned(),
            })
            .inc();
        self.cycle_duration.observe(report.duration_seconds);
        self.last_cycle.set(finished_unix);
        if report.outcome.is_success() {
            self.last_success.set(finished_unix);
        }
        if let Some(plan) = &report.plan {
            for (action, count) in [
                ("create", plan.create),
                ("update", plan.update),
                ("delete", plan.delete),
            ] {
                self.planned_changes
                    .get_or_create(&ActionLabels {
                        action: action.to_owned(),
                    })
                    .set(gauge_value(count));
            }
            self.managed.set(gauge_value(plan.managed));
            self.unmanaged.set(gauge_value(plan.unmanaged));
            let drifted = report.sync == Some(SyncState::Drift);
            self.drift.set(i64::from(drifted));
            if drifted {
                self.drift_detections.inc();
            }
        }
        if let Some(applied) = &report.applied {
            for (action, done, failed) in [
                ("create", applied.created, applied.failed_creates),
                ("update", applied.updated, applied.failed_updates),
                ("delete", applied.deleted, applied.failed_deletes),
            ] {
                let labels = ActionLabels {
                    action: action.to_owned(),
                };
                self.changes_applied
                    .get_or_create(&labels)
                    .inc_by(u64::try_from(done).unwrap_or(u64::MAX));
                self.changes_failed
                    .get_or_create(&labels)
                    .inc_by(u64::try_from(failed).unwrap_or(u64::MAX));
            }
        }
    }

    /// Every metric in the OpenMetrics text format, ending with `# EOF`.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

fn gauge_value(count: usize) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}
