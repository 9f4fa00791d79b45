//! Cycles against the emulator: creates, updates, drift, invalid commits, and what they leave
//! in the status and the metrics.

use std::collections::HashMap;

use tokio_util::sync::CancellationToken;
use vbo_agent::{Agent, Mode, Outcome, SyncState};

use crate::support::{ADMIN_PW, CORP_PW, World, on_premises};

/// The samples of the metrics text, parsed by an independent Prometheus parser, by name and
/// labels (`name{label="value"}`).
fn samples(agent: &Agent) -> HashMap<String, f64> {
    let text = agent.shared().metrics().encode();
    assert!(text.ends_with("# EOF\n"), "{text}");
    let lines = text.lines().map(|line| Ok(line.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("the metrics parse");
    let mut samples = HashMap::new();
    for sample in scrape.samples {
        let mut labels: Vec<String> = sample
            .labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{v}\""))
            .collect();
        labels.sort();
        let key = if labels.is_empty() {
            sample.metric.clone()
        } else {
            format!("{}{{{}}}", sample.metric, labels.join(","))
        };
        let value = match sample.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            prometheus_parse::Value::Histogram(buckets) => {
                buckets.last().map_or(f64::NAN, |b| b.count)
            }
            prometheus_parse::Value::Summary(_) => f64::NAN,
        };
        samples.insert(key, value);
    }
    samples
}

#[track_caller]
fn sample(samples: &HashMap<String, f64>, key: &str) -> f64 {
    *samples
        .get(key)
        .unwrap_or_else(|| panic!("{key} in {samples:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_manifest_is_created_then_the_server_is_in_sync() {
    let world = World::start().await;
    let commit = world.add_a();
    let mut agent = world.agent(Mode::Apply).await;
    let run = CancellationToken::new();

    let first = agent.cycle(&run).await;
    assert_eq!(first.outcome, Outcome::Success, "{:?}", first.error);
    assert_eq!(first.commit.as_deref(), Some(commit.as_str()));
    assert_eq!(first.sync, Some(SyncState::Pending));
    assert_eq!(first.applied.unwrap().created, 1);
    assert_eq!(world.names(), ["a.example.com"]);
    assert_eq!(
        world.stored("a.example.com")["body"]["exchangeSettings"]["password"],
        CORP_PW
    );

    let second = agent.cycle(&run).await;
    assert_eq!(second.outcome, Outcome::Success);
    assert_eq!(second.sync, Some(SyncState::InSync));
    assert!(second.applied.is_none());
    assert_eq!(world.emulator.request_counts().created, 1);

    let status = agent.shared().status();
    assert_eq!(status.reconciled_commit.as_deref(), Some(commit.as_str()));
    assert!(!status.drift);
    assert!(agent.shared().readiness().is_ok());
    let metrics = samples(&agent);
    assert_eq!(
        sample(&metrics, "vboctl_cycles_total{outcome=\"success\"}"),
        2.0
    );
    assert_eq!(
        sample(&metrics, "vboctl_cycles_total{outcome=\"error\"}"),
        0.0
    );
    assert_eq!(
        sample(&metrics, "vboctl_changes_applied_total{action=\"create\"}"),
        1.0
    );
    assert_eq!(
        sample(&metrics, "vboctl_changes_applied_total{action=\"update\"}"),
        0.0
    );
    assert_eq!(sample(&metrics, "vboctl_organizations_managed"), 1.0);
    assert_eq!(sample(&metrics, "vboctl_drift_detected"), 0.0);
    assert_eq!(sample(&metrics, "vboctl_cycle_duration_seconds_count"), 2.0);
    assert!(
        sample(
            &metrics,
            "vboctl_last_successful_reconcile_timestamp_seconds"
        ) > 1.6e9
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_plan_mode_a_changed_field_is_pending_then_drift_and_nothing_is_sent() {
    let world = World::start().await;
    world.add_a();
    let mut apply = world.agent(Mode::Apply).await;
    let run = CancellationToken::new();
    assert_eq!(apply.cycle(&run).await.outcome, Outcome::Success);
    drop(apply);

    let mut agent = world.agent(Mode::Plan).await;
    assert_eq!(agent.cycle(&run).await.sync, Some(SyncState::InSync));
    world
        .repo
        .write("tenants/a.yaml", &on_premises("a.example.com", "mail-2.a"));
    let changed = world.repo.commit("move a's mail server");
    let writes = world.emulator.request_counts();

    let pending = agent.cycle(&run).await;
    assert_eq!(pending.outcome, Outcome::Success);
    assert_eq!(pending.commit.as_deref(), Some(changed.as_str()));
    assert_eq!(pending.sync, Some(SyncState::Pending));
    assert_eq!(pending.changes.len(), 1);
    assert_eq!(pending.changes[0].name, "a.example.com");
    assert_eq!(pending.changes[0].action, "update");
    assert_eq!(pending.changes[0].fields, ["exchangeSettings.serverName"]);

    // The same commit, still not applied: the server differs from a commit already seen.
    let drift = agent.cycle(&run).await;
    assert_eq!(drift.sync, Some(SyncState::Drift));
    assert!(agent.shared().status().drift);
    let metrics = samples(&agent);
    assert_eq!(sample(&metrics, "vboctl_drift_detected"), 1.0);
    assert_eq!(sample(&metrics, "vboctl_drift_detections_total"), 1.0);
    assert_eq!(
        sample(&metrics, "vboctl_planned_changes{action=\"update\"}"),
        1.0
    );

    let after = world.emulator.request_counts();
    assert_eq!(
        (after.created, after.updated, after.deleted),
        (writes.created, writes.updated, writes.deleted),
        "plan mode changed the server"
    );
    assert_eq!(
        world.stored("a.example.com")["body"]["exchangeSettings"]["serverName"],
        "mail.a"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_apply_mode_a_changed_field_is_updated() {
    let world = World::start().await;
    world.add_a();
    let mut agent = world.agent(Mode::Apply).await;
    let run = CancellationToken::new();
    agent.cycle(&run).await;
    world
        .repo
        .write("tenants/a.yaml", &on_premises("a.example.com", "mail-2.a"));
    world.repo.commit("move a's mail server");

    let report = agent.cycle(&run).await;
    assert_eq!(report.outcome, Outcome::Success, "{:?}", report.error);
    assert_eq!(report.sync, Some(SyncState::Pending));
    assert_eq!(report.applied.unwrap().updated, 1);
    assert_eq!(
        world.stored("a.example.com")["body"]["exchangeSettings"]["serverName"],
        "mail-2.a"
    );
    let metrics = samples(&agent);
    assert_eq!(
        sample(&metrics, "vboctl_changes_applied_total{action=\"update\"}"),
        1.0
    );
    // A new commit is not drift.
    assert_eq!(sample(&metrics, "vboctl_drift_detections_total"), 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_on_the_server_is_drift_and_apply_mode_corrects_it() {
    let world = World::start().await;
    world.add_a();
    let mut agent = world.agent(Mode::Apply).await;
    let run = CancellationToken::new();
    agent.cycle(&run).await;

    world
        .edit_on_server(
            "a.example.com",
            &on_premises("a.example.com", "edited-in-console.a"),
        )
        .await;
    let report = agent.cycle(&run).await;
    assert_eq!(report.outcome, Outcome::Success, "{:?}", report.error);
    assert_eq!(report.sync, Some(SyncState::Drift));
    assert_eq!(report.applied.unwrap().updated, 1);
    let stored = world.stored("a.example.com");
    assert_eq!(stored["body"]["exchangeSettings"]["serverName"], "mail.a");
    assert_eq!(stored["body"]["exchangeSettings"]["password"], CORP_PW);

    let metrics = samples(&agent);
    assert_eq!(sample(&metrics, "vboctl_drift_detected"), 1.0);
    assert_eq!(sample(&metrics, "vboctl_drift_detections_total"), 1.0);
    // Corrected: the next cycle finds it in sync and the gauge falls back.
    assert_eq!(agent.cycle(&run).await.sync, Some(SyncState::InSync));
    assert_eq!(sample(&samples(&agent), "vboctl_drift_detected"), 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organization_deleted_by_hand_is_drift_and_created_again() {
    let world = World::start().await;
    world.add_a();
    let mut agent = world.agent(Mode::Apply).await;
    let run = CancellationToken::new();
    agent.cycle(&run).await;
    let id = world.stored("a.example.com")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    world.client().await.delete(&id).await.unwrap();

    let report = agent.cycle(&run).await;
    assert_eq!(report.sync, Some(SyncState::Drift));
    assert_eq!(report.changes[0].action, "create");
    assert_eq!(report.applied.unwrap().created, 1);
    assert_eq!(world.names(), ["a.example.com"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_commit_changes_nothing_even_with_prune() {
    let world = World::start().await;
    world
        .repo
        .write("tenants/a.yaml", &on_premises("a.example.com", "mail.a"));
    world
        .repo
        .write("tenants/b.yaml", &on_premises("b.example.com", "mail.b"));
    world.repo.commit("add a and b");
    let mut config = world.config(Mode::Apply);
    config.prune = true;
    let mut agent = Agent::start(config).await.unwrap();
    let run = CancellationToken::new();
    assert_eq!(agent.cycle(&run).await.outcome, Outcome::Success);
    let before = world.emulator.request_counts();

    // b's manifest broken (a misspelt field, a missing one), a's removed: applied, this would
    // delete both.
    world.repo.remove("tenants/a.yaml");
    world.repo.write(
        "tenants/b.yaml",
        &on_premises("b.example.com", "mail.b").replace("isExchange:", "isExchang:"),
    );
    let broken = world.repo.commit("break b, drop a");
    let report = agent.cycle(&run).await;
    assert_eq!(report.outcome, Outcome::Invalid);
    assert_eq!(report.commit.as_deref(), Some(broken.as_str()));
    let error = report.error.unwrap();
    assert!(error.contains("tenants/b.yaml:"), "{error}");
    assert!(error.contains("nothing was sent to the server"), "{error}");
    assert!(
        !error.contains(world.cache.path().to_str().unwrap()),
        "{error}"
    );
    let after = world.emulator.request_counts();
    assert_eq!(after.deleted, before.deleted);
    assert_eq!(after.updated, before.updated);
    assert_eq!(world.names(), ["a.example.com", "b.example.com"]);

    let not_ready = agent.shared().readiness().unwrap_err();
    assert!(not_ready.contains("invalid"), "{not_ready}");
    assert!(not_ready.contains("tenants/b.yaml"), "{not_ready}");
    let status = agent.shared().status();
    assert_eq!(status.commit.as_deref(), Some(broken.as_str()));
    assert_ne!(status.reconciled_commit, status.commit);
    assert_eq!(
        sample(&samples(&agent), "vboctl_cycles_total{outcome=\"invalid\"}"),
        1.0
    );

    // Every manifest removed: with prune, still nothing is deleted.
    world.repo.remove("tenants/b.yaml");
    world.repo.commit("remove everything");
    let report = agent.cycle(&run).await;
    assert_eq!(report.outcome, Outcome::Invalid, "{:?}", report.error);
    assert_eq!(world.names(), ["a.example.com", "b.example.com"]);
    assert_eq!(world.emulator.request_counts().deleted, before.deleted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_fails_the_cycle_and_counts_it() {
    let world = World::start().await;
    world.add_a();
    let mut config = world.config(Mode::Apply);
    config.client.password = vbo_model::Secret::new("Wrong-Password-Value-3b");
    let mut agent = Agent::start(config).await.unwrap();
    let report = agent.cycle(&CancellationToken::new()).await;
    assert_eq!(report.outcome, Outcome::Error);
    assert!(report.plan.is_none());
    let reason = agent.shared().readiness().unwrap_err();
    assert!(!reason.contains("Wrong-Password-Value-3b"), "{reason}");
    assert_eq!(
        sample(&samples(&agent), "vboctl_cycles_total{outcome=\"error\"}"),
        1.0
    );
    assert!(world.names().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_stay_out_of_the_status_and_the_metrics() {
    let world = World::start().await;
    world.add_a();
    let mut agent = world.agent(Mode::Apply).await;
    let run = CancellationToken::new();
    agent.cycle(&run).await;
    world
        .edit_on_server("a.example.com", &on_premises("a.example.com", "x.a"))
        .await;
    agent.cycle(&run).await;
    let status = serde_json::to_string(&agent.shared().status()).unwrap();
    let metrics = agent.shared().metrics().encode();
    for secret in [CORP_PW, ADMIN_PW, "Console-Typed-Secret"] {
        assert!(!status.contains(secret), "{secret} in {status}");
        assert!(!metrics.contains(secret), "{secret} in {metrics}");
    }
    assert!(status.contains("\"drift\":true"), "{status}");
}
