//! Interrupting a run: nothing starts after the cancellation, what is in flight finishes (within
//! the grace), and every change is reported, done or not.

use std::time::Duration;
use vbo_model::RestApiVersion::V8;

use vbo_apply::{ApplyOptions, CancellationToken, Scope, StepOutcome, StepResult};
use vbo_emulator::{EmulatorConfig, Faults};

use crate::support::{connect, desired, plan, quick_retries, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_cancel_the_changes_in_flight_finish_and_no_other_starts() {
    let emulator = start(
        V8,
        EmulatorConfig {
            faults: Faults {
                latency: Some(Duration::from_millis(100)..=Duration::from_millis(100)),
                ..Faults::default()
            },
            ..EmulatorConfig::default()
        },
    )
    .await;
    let client = connect(&emulator).await;
    let desired = desired(V8, 10);
    let plan = plan(&client, &desired, false).await;
    let (steps, _) = vbo_apply::steps(&plan, &desired, Scope::All).unwrap();
    let cancel = CancellationToken::new();
    let options = ApplyOptions {
        parallelism: 2,
        create_retry: quick_retries(),
        cancel: cancel.clone(),
        ..ApplyOptions::default()
    };
    let mut reported: Vec<StepResult> = Vec::new();
    // Interrupted as the first change finishes, with the second in flight.
    let results = vbo_apply::apply(&client, steps, &options, |result| {
        cancel.cancel();
        reported.push(result.clone());
    })
    .await;

    assert_eq!(results.len(), 10);
    let names: Vec<&str> = results.iter().map(|r| r.step.name.as_str()).collect();
    let planned: Vec<&str> = desired.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, planned, "results keep the order of the steps");
    let created = results
        .iter()
        .filter(|r| matches!(r.outcome, StepOutcome::Created { .. }))
        .count();
    assert_eq!(created, 2, "the change in flight finished");
    let not_started: Vec<&StepResult> = results
        .iter()
        .filter(|r| r.outcome == StepOutcome::NotStarted)
        .collect();
    assert_eq!(not_started.len(), 8);
    assert!(
        not_started
            .iter()
            .all(|r| r.attempts == 0 && !r.outcome.is_success())
    );
    // Every result was reported as it came, those not started last.
    assert_eq!(reported.len(), 10);
    assert!(
        reported[2..]
            .iter()
            .all(|r| r.outcome == StepOutcome::NotStarted)
    );
    // The server saw exactly the two creates.
    let counts = emulator.request_counts();
    assert_eq!(counts.route("POST /v8/Organizations"), 2);
    assert_eq!(emulator.organizations().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_still_unanswered_after_the_grace_is_reported_as_unknown() {
    let emulator = start(V8, EmulatorConfig::default()).await;
    let client = connect(&emulator).await;
    let desired = desired(V8, 2);
    let plan = plan(&client, &desired, false).await;
    let (steps, _) = vbo_apply::steps(&plan, &desired, Scope::All).unwrap();
    // The first create is made and its answer held back for long; the second is throttled,
    // waiting a second before it is sent again.
    emulator
        .set_faults(Faults {
            slow_answer_rate: 1.0,
            slow_answer_delay: Duration::from_secs(30),
            ..Faults::default()
        })
        .unwrap();
    let cancel = CancellationToken::new();
    let options = ApplyOptions {
        parallelism: 1,
        create_retry: quick_retries(),
        cancel: cancel.clone(),
        grace: Duration::from_millis(200),
        ..ApplyOptions::default()
    };
    let interrupter = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            cancel.cancel();
        })
    };
    let results = vbo_apply::apply(&client, steps, &options, |_| {}).await;
    interrupter.await.unwrap();

    match &results[0].outcome {
        StepOutcome::Failed { message } => assert!(
            message.contains("interrupted while waiting for the server's answer")
                && message.contains("may or may not have been created"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(results[1].outcome, StepOutcome::NotStarted);
    // It was made: a new plan finds it and would not create it again.
    assert_eq!(emulator.request_counts().faults.slow_answers, 1);
    emulator.set_faults(Faults::default()).unwrap();
    let next = crate::support::plan(&client, &desired, false).await;
    assert_eq!(next.summary.create, 1);
    assert_eq!(next.summary.no_op, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_waiting_to_be_sent_again_stops_waiting() {
    let emulator = start(V8, EmulatorConfig::default()).await;
    let client = connect(&emulator).await;
    let desired = desired(V8, 1);
    let plan = plan(&client, &desired, false).await;
    let (steps, _) = vbo_apply::steps(&plan, &desired, Scope::All).unwrap();
    // Throttled with Retry-After: 1, the create waits a second before it is sent again.
    emulator
        .set_faults(Faults {
            throttle_rate: 1.0,
            ..Faults::default()
        })
        .unwrap();
    let cancel = CancellationToken::new();
    let options = ApplyOptions {
        create_retry: quick_retries(),
        cancel: cancel.clone(),
        ..ApplyOptions::default()
    };
    let interrupter = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            cancel.cancel();
        })
    };
    let results = vbo_apply::apply(&client, steps, &options, |_| {}).await;
    interrupter.await.unwrap();
    match &results[0].outcome {
        StepOutcome::Failed { message } => assert!(
            message.contains("Quota Exceeded")
                && message.contains("interrupted before it was sent again, so it was not made"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(results[0].attempts, 1);
    let counts = emulator.request_counts();
    assert_eq!(counts.route("POST /v8/Organizations"), 1);
    assert_eq!(counts.faults.throttles, 1);
    assert_eq!(counts.created, 0);
}
