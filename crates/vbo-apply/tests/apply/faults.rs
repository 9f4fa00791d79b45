//! Apply 50 organizations through each fault, then check the server holds each exactly once and
//! a new plan has nothing to do.

use std::collections::BTreeSet;
use std::time::Duration;

use vbo_apply::StepOutcome;
use vbo_emulator::{EmulatorConfig, Faults};

use crate::support::{connect, desired, plan, plan_and_apply, start};

const COUNT: usize = 50;

async fn converges_through(faults: Faults, token_ttl: Option<Duration>) {
    let mut config = EmulatorConfig {
        faults,
        ..EmulatorConfig::default()
    };
    if let Some(ttl) = token_ttl {
        config.token_ttl = ttl;
    }
    let emulator = start(config).await;
    let client = connect(&emulator).await;
    let desired = desired(COUNT);

    let results = plan_and_apply(&client, &desired, false).await;
    let failures: Vec<_> = results
        .iter()
        .filter(|r| !r.outcome.is_success())
        .map(|r| {
            format!(
                "{}: {:?} after {:?} and {} attempts",
                r.step.name, r.outcome, r.duration, r.attempts
            )
        })
        .collect();
    assert!(failures.is_empty(), "failed steps: {failures:#?}");
    assert_eq!(results.len(), COUNT);

    let stored = emulator.organizations();
    let names: BTreeSet<String> = stored.iter().map(|o| o.name.to_lowercase()).collect();
    assert_eq!(
        stored.len(),
        COUNT,
        "the server holds a duplicate or lacks one"
    );
    assert_eq!(names.len(), COUNT);
    let counts = emulator.request_counts();
    assert_eq!(
        counts.created, COUNT as u64,
        "each organization is created once: {counts:?}"
    );

    let again = plan(&client, &desired, false).await;
    assert!(!again.has_changes(), "a plan after apply still has changes");
    emulator.shutdown().await.unwrap();
}

fn seeded(faults: Faults) -> Faults {
    Faults {
        seed: Some(20_26),
        ..faults
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_503s() {
    converges_through(
        seeded(Faults {
            error_rate: 0.3,
            ..Faults::default()
        }),
        None,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_429s() {
    converges_through(
        seeded(Faults {
            throttle_rate: 0.3,
            ..Faults::default()
        }),
        None,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_dropped_connections() {
    converges_through(
        seeded(Faults {
            reset_rate: 0.2,
            ..Faults::default()
        }),
        None,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_creates_whose_answer_is_lost() {
    let emulator_faults = seeded(Faults {
        commit_then_fail_rate: 0.3,
        ..Faults::default()
    });
    converges_through(emulator_faults, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_one_second_tokens() {
    converges_through(
        seeded(Faults {
            latency: Some(Duration::from_millis(50)..=Duration::from_millis(150)),
            ..Faults::default()
        }),
        Some(Duration::from_secs(1)),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_latency() {
    converges_through(
        seeded(Faults {
            latency: Some(Duration::from_millis(5)..=Duration::from_millis(120)),
            ..Faults::default()
        }),
        None,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_every_fault_at_once() {
    converges_through(
        seeded(Faults {
            latency: Some(Duration::from_millis(1)..=Duration::from_millis(60)),
            error_rate: 0.3,
            throttle_rate: 0.3,
            reset_rate: 0.2,
            commit_then_fail_rate: 0.3,
            ..Faults::default()
        }),
        Some(Duration::from_secs(1)),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_is_adopted_not_created_again() {
    let emulator = start(EmulatorConfig {
        faults: seeded(Faults {
            commit_then_fail_rate: 1.0,
            ..Faults::default()
        }),
        ..EmulatorConfig::default()
    })
    .await;
    let client = connect(&emulator).await;
    let desired = desired(3);
    let results = plan_and_apply(&client, &desired, false).await;
    for result in &results {
        assert!(
            matches!(result.outcome, StepOutcome::Adopted { .. }),
            "{}: {:?}",
            result.step.name,
            result.outcome
        );
        assert_eq!(result.attempts, 1);
    }
    let counts = emulator.request_counts();
    assert_eq!(counts.route("POST /v3/Organizations"), 3);
    assert_eq!(counts.created, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_fails_that_change_and_the_others_go_on() {
    let emulator = start(EmulatorConfig::default()).await;
    let client = connect(&emulator).await;
    let mut desired = desired(4);
    // An OnPremises organization without a server name: the server refuses it.
    if let vbo_model::Spec::OnPremises(spec) = &mut desired[1].spec {
        spec.exchange_settings.as_mut().unwrap().server_name = None;
    }
    let results = plan_and_apply(&client, &desired, false).await;
    let failed: Vec<_> = results.iter().filter(|r| !r.outcome.is_success()).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].step.name, desired[1].name);
    match &failed[0].outcome {
        StepOutcome::Failed { message } => assert!(message.contains("serverName"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(emulator.organizations().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_and_prunes_converge() {
    let emulator = start(EmulatorConfig::default()).await;
    let client = connect(&emulator).await;
    let mut desired = desired(6);
    plan_and_apply(&client, &desired, false).await;

    // Change one, drop one from the manifests, and apply with prune.
    if let vbo_model::Spec::OnPremises(spec) = &mut desired[1].spec {
        spec.exchange_settings.as_mut().unwrap().use_ssl = false;
    }
    let dropped = desired.remove(5);
    let results = plan_and_apply(&client, &desired, true).await;
    let outcomes: Vec<_> = results
        .iter()
        .map(|r| (r.step.name.clone(), r.outcome.clone()))
        .collect();
    assert!(
        outcomes.contains(&(desired[1].name.clone(), StepOutcome::Updated)),
        "{outcomes:?}"
    );
    assert!(
        outcomes.contains(&(dropped.name.clone(), StepOutcome::Deleted)),
        "{outcomes:?}"
    );
    assert_eq!(results.len(), 2);
    assert!(!plan(&client, &desired, true).await.has_changes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_of_an_organization_already_gone_is_done() {
    let emulator = start(EmulatorConfig::default()).await;
    let client = connect(&emulator).await;
    let desired = desired(2);
    plan_and_apply(&client, &desired, false).await;

    // Plan to prune the second, then let someone else remove it first.
    let kept = &desired[..1];
    let plan = plan(&client, kept, true).await;
    let gone = plan.actionable().next().unwrap().id.clone().unwrap();
    client.delete(&gone).await.unwrap();
    let (steps, _) = vbo_apply::steps(&plan, kept, vbo_apply::Scope::All).unwrap();
    let results =
        vbo_apply::apply(&client, steps, &vbo_apply::ApplyOptions::default(), |_| {}).await;
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].outcome, StepOutcome::Deleted);
}
