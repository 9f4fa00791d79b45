//! Apply creates, updates and deletes through each fault, then check that the fault fired, that
//! the server holds each organization exactly once as its manifest describes it, and that a new
//! plan has nothing to do.

use std::collections::BTreeSet;
use std::time::Duration;

use vbo_apply::{ApplyOptions, StepKind, StepOutcome, StepResult};
use vbo_emulator::{EmulatorConfig, Faults, RequestCounts};
use vbo_model::RestApiVersion;
use vbo_model::RestApiVersion::V8;

use crate::support::{
    VERSIONS, assert_all_succeeded, connect, connect_with_timeout, desired, drifted, plan,
    plan_and_apply, plan_and_apply_with, quick_retries, start,
};

/// Organizations in the manifests.
const COUNT: usize = 50;
/// Of those, how many are on the server with other settings: updates.
const DRIFTED: usize = 10;
/// Organizations on the server in no manifest: deletes, since the run prunes.
const UNMANAGED: usize = 10;
/// Organizations the run creates.
const CREATES: usize = COUNT - DRIFTED;

/// How a run meets its faults.
#[derive(Clone)]
struct Scenario {
    faults: Faults,
    token_ttl: Option<Duration>,
    request_timeout: Duration,
    parallelism: usize,
}

impl Scenario {
    /// `faults` (seeded), everything else as a client would have it, all changes at once.
    fn new(faults: Faults) -> Self {
        Self {
            faults: Faults {
                seed: Some(20_26),
                ..faults
            },
            token_ttl: None,
            request_timeout: Duration::from_secs(10),
            parallelism: COUNT + UNMANAGED,
        }
    }
}

/// What happened while the faults were on.
struct Converged {
    /// The REST API version the run spoke.
    version: RestApiVersion,
    results: Vec<StepResult>,
    /// What the emulator counted during the run.
    during: RequestCounts,
}

impl Converged {
    fn count(&self, outcome: impl Fn(&StepOutcome) -> bool) -> usize {
        self.results.iter().filter(|r| outcome(&r.outcome)).count()
    }

    /// Requests on `route` under this run's version, for example `POST Organizations`.
    fn route(&self, method: &str, path: &str) -> u64 {
        self.during
            .route(&format!("{method} /{}/{path}", self.version))
    }
}

/// [`converges_in`] each REST API version of [`VERSIONS`], one after the other.
async fn converges_through(scenario: Scenario) -> Vec<Converged> {
    let mut runs = Vec::new();
    for version in VERSIONS {
        runs.push(converges_in(version, scenario.clone()).await);
    }
    runs
}

/// Sets up the server without faults (organizations to update, organizations in no manifest),
/// then turns the faults on and applies the manifests with prune: every change must succeed,
/// once, and leave nothing to do.
async fn converges_in(version: RestApiVersion, scenario: Scenario) -> Converged {
    let mut config = EmulatorConfig {
        seed_orgs: UNMANAGED,
        ..EmulatorConfig::default()
    };
    if let Some(ttl) = scenario.token_ttl {
        config.token_ttl = ttl;
    }
    let emulator = start(version, config).await;
    let client = connect_with_timeout(&emulator, scenario.request_timeout).await;
    assert_eq!(client.api_version(), version);
    assert_all_succeeded(&plan_and_apply(&client, &drifted(version, DRIFTED), false).await);
    let desired = desired(version, COUNT);

    emulator.set_faults(scenario.faults).expect("valid faults");
    let before = emulator.request_counts();
    let options = ApplyOptions {
        parallelism: scenario.parallelism,
        create_retry: quick_retries(),
        ..ApplyOptions::default()
    };
    let results = plan_and_apply_with(&client, &desired, true, &options).await;
    let during = emulator.request_counts().since(&before);

    assert_all_succeeded(&results);
    assert_eq!(results.len(), COUNT + UNMANAGED);
    for result in &results {
        let expected = matches!(
            (&result.step.kind, &result.outcome),
            (
                StepKind::Create { .. },
                StepOutcome::Created { .. } | StepOutcome::Adopted { .. },
            ) | (StepKind::Update { .. }, StepOutcome::Updated)
                | (StepKind::Delete { .. }, StepOutcome::Deleted)
        );
        assert!(
            expected,
            "{} {}: {:?}",
            result.step.action(),
            result.step.name,
            result.outcome
        );
    }

    // Exactly the manifests' organizations, each once: the unmanaged ones are gone.
    let stored: Vec<String> = emulator
        .organizations()
        .iter()
        .map(|o| o.name.to_lowercase())
        .collect();
    let wanted: BTreeSet<String> = desired.iter().map(|d| d.name.to_lowercase()).collect();
    assert_eq!(
        stored.len(),
        COUNT,
        "a duplicate, or one missing: {stored:?}"
    );
    assert_eq!(stored.into_iter().collect::<BTreeSet<_>>(), wanted);
    assert_eq!(
        during.created, CREATES as u64,
        "each created once: {during:?}"
    );
    assert_eq!(
        during.deleted, UNMANAGED as u64,
        "each deleted once: {during:?}"
    );
    // An update whose answer was lost is sent again, and made again: that is harmless.
    assert!(during.updated >= DRIFTED as u64, "{during:?}");
    // Only a create whose answer was lost or late can be adopted.
    let adopted = results
        .iter()
        .filter(|r| matches!(r.outcome, StepOutcome::Adopted { .. }))
        .count() as u64;
    assert!(
        adopted <= during.faults.commit_then_fail + during.faults.slow_answers,
        "{adopted} adopted: {during:?}"
    );

    // Every update took: a new plan, still through the faults, has nothing to do.
    let again = plan(&client, &desired, true).await;
    assert!(
        !again.has_changes(),
        "a plan after apply still has changes: {:?}",
        again.summary
    );
    Converged {
        version,
        results,
        during,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_503s() {
    for run in converges_through(Scenario::new(Faults {
        error_rate: 0.3,
        ..Faults::default()
    }))
    .await
    {
        assert!(run.during.faults.errors > 0, "{:?}", run.during);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_429s() {
    for run in converges_through(Scenario::new(Faults {
        throttle_rate: 0.3,
        ..Faults::default()
    }))
    .await
    {
        assert!(run.during.faults.throttles > 0, "{:?}", run.during);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_dropped_connections() {
    for run in converges_through(Scenario::new(Faults {
        reset_rate: 0.2,
        ..Faults::default()
    }))
    .await
    {
        assert!(run.during.faults.resets > 0, "{:?}", run.during);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_changes_whose_answer_is_lost() {
    for run in converges_through(Scenario::new(Faults {
        commit_then_fail_rate: 0.3,
        ..Faults::default()
    }))
    .await
    {
        assert!(run.during.faults.commit_then_fail > 0, "{:?}", run.during);
        // Creates among them: found and adopted, never sent again.
        assert!(run.count(|o| matches!(o, StepOutcome::Adopted { .. })) > 0);
    }
}

/// A request that times out is an unknown outcome, like a lost answer: the emulator makes the
/// change and answers after the client gave up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_answers_that_come_after_the_timeout() {
    let mut scenario = Scenario::new(Faults {
        slow_answer_rate: 0.3,
        slow_answer_delay: Duration::from_millis(1000),
        ..Faults::default()
    });
    scenario.request_timeout = Duration::from_millis(500);
    for run in converges_through(scenario).await {
        assert!(run.during.faults.slow_answers > 0, "{:?}", run.during);
        let adopted = run.count(|o| matches!(o, StepOutcome::Adopted { .. }));
        assert!(adopted > 0, "some creates timed out");
        // Every create was made on its first request, late answer or not; none was sent again.
        assert_eq!(
            run.route("POST", "Organizations"),
            CREATES as u64,
            "{:?}",
            run.during
        );
    }
}

/// Tokens that expire within the run: the client must renew them as it goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_one_second_tokens() {
    let mut scenario = Scenario::new(Faults {
        latency: Some(Duration::from_millis(80)..=Duration::from_millis(150)),
        ..Faults::default()
    });
    scenario.token_ttl = Some(Duration::from_secs(1));
    // Three at a time, each at least 80 ms: the run outlasts a token's lifetime.
    scenario.parallelism = 3;
    for run in converges_through(scenario).await {
        let tokens = &run.during.tokens;
        assert!(tokens.refresh > 0, "tokens were renewed: {tokens:?}");
        assert_eq!(tokens.refused, 0, "{tokens:?}");
        assert!(run.during.faults.delayed > 0, "{:?}", run.during);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_latency() {
    for run in converges_through(Scenario::new(Faults {
        latency: Some(Duration::from_millis(5)..=Duration::from_millis(120)),
        ..Faults::default()
    }))
    .await
    {
        assert!(run.during.faults.delayed > 0, "{:?}", run.during);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_every_fault_at_once() {
    let mut scenario = Scenario::new(Faults {
        latency: Some(Duration::from_millis(1)..=Duration::from_millis(60)),
        error_rate: 0.2,
        throttle_rate: 0.1,
        reset_rate: 0.1,
        commit_then_fail_rate: 0.3,
        slow_answer_rate: 0.1,
        slow_answer_delay: Duration::from_millis(1000),
        ..Faults::default()
    });
    scenario.request_timeout = Duration::from_millis(500);
    scenario.token_ttl = Some(Duration::from_secs(1));
    for run in converges_through(scenario).await {
        let faults = &run.during.faults;
        for (fault, count) in [
            ("503", faults.errors),
            ("429", faults.throttles),
            ("reset", faults.resets),
            ("commit then fail", faults.commit_then_fail),
            ("slow answer", faults.slow_answers),
            ("latency", faults.delayed),
        ] {
            assert!(count > 0, "{fault} never fired: {faults:?}");
        }
        // A 429 asks for a second's wait, longer than a token lives: tokens were renewed.
        assert!(run.during.tokens.refresh > 0, "{:?}", run.during.tokens);
    }
}

/// Deletes whose answer is always lost: sent again, they meet 404, which means done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_whose_answer_was_lost_is_done() {
    let emulator = start(
        V8,
        EmulatorConfig {
            seed_orgs: UNMANAGED,
            ..EmulatorConfig::default()
        },
    )
    .await;
    let client = connect(&emulator).await;
    emulator
        .set_faults(Faults {
            commit_then_fail_rate: 1.0,
            seed: Some(4),
            ..Faults::default()
        })
        .unwrap();
    let before = emulator.request_counts();
    let results = plan_and_apply(&client, &[], true).await;
    let during = emulator.request_counts().since(&before);
    assert_all_succeeded(&results);
    assert_eq!(results.len(), UNMANAGED);
    assert!(results.iter().all(|r| r.outcome == StepOutcome::Deleted));
    assert!(emulator.organizations().is_empty());
    assert_eq!(during.deleted, UNMANAGED as u64);
    assert_eq!(during.faults.commit_then_fail, UNMANAGED as u64);
    assert_eq!(
        during.route("DELETE /v8/Organizations/{id}"),
        2 * UNMANAGED as u64,
        "each sent again once: {during:?}"
    );
}

/// Updates whose answer is often lost: sent again, they replace the organization with the same
/// body, and the result is what the manifests say.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_sent_again_after_a_lost_answer_is_harmless() {
    let emulator = start(V8, EmulatorConfig::default()).await;
    let client = connect(&emulator).await;
    assert_all_succeeded(&plan_and_apply(&client, &drifted(V8, DRIFTED), false).await);
    emulator
        .set_faults(Faults {
            commit_then_fail_rate: 0.5,
            seed: Some(4),
            ..Faults::default()
        })
        .unwrap();
    let before = emulator.request_counts();
    let desired = desired(V8, DRIFTED);
    let results = plan_and_apply(&client, &desired, false).await;
    let during = emulator.request_counts().since(&before);
    assert_all_succeeded(&results);
    assert!(results.iter().all(|r| r.outcome == StepOutcome::Updated));
    assert!(during.faults.commit_then_fail > 0, "{during:?}");
    assert!(
        during.updated > DRIFTED as u64,
        "some sent again: {during:?}"
    );
    assert_eq!(emulator.organizations().len(), DRIFTED);
    assert!(!plan(&client, &desired, false).await.has_changes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_is_adopted_not_created_again() {
    let emulator = start(
        V8,
        EmulatorConfig {
            faults: Faults {
                commit_then_fail_rate: 1.0,
                seed: Some(20_26),
                ..Faults::default()
            },
            ..EmulatorConfig::default()
        },
    )
    .await;
    let client = connect(&emulator).await;
    let desired = desired(V8, 3);
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
    assert_eq!(counts.route("POST /v8/Organizations"), 3);
    assert_eq!(counts.created, 3);
    assert_eq!(counts.faults.commit_then_fail, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_fails_that_change_and_the_others_go_on() {
    let emulator = start(V8, EmulatorConfig::default()).await;
    let client = connect(&emulator).await;
    let mut desired = desired(V8, 4);
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
    let emulator = start(V8, EmulatorConfig::default()).await;
    let client = connect(&emulator).await;
    let mut desired = desired(V8, 6);
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
    let emulator = start(V8, EmulatorConfig::default()).await;
    let client = connect(&emulator).await;
    let desired = desired(V8, 2);
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
