//! Shared set-up: an emulator, a client with quick retries, and desired organizations.

use std::time::Duration;

use vbo_apply::{ApplyOptions, Scope, StepResult};
use vbo_client::{Client, ClientConfig, RetryPolicy};
use vbo_emulator::{DEFAULT_PASSWORD, DEFAULT_USER, Emulator, EmulatorConfig, EmulatorHandle};
use vbo_model::{RestApiVersion, Secret, Spec};
use vbo_plan::{Desired, Plan, PlanOptions};

/// Retries with short delays, and bounds generous enough for every fault at once: with 80% of
/// requests failing and 30% of those asking to wait a second, a few creates need dozens of
/// attempts.
pub(crate) fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 200,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        max_elapsed: Duration::from_secs(600),
    }
}

/// The versions every fault scenario runs in: the first and the current REST API.
pub(crate) const VERSIONS: [RestApiVersion; 2] = [RestApiVersion::V3, RestApiVersion::V8];

/// An emulator serving `version` only, so that the client speaks it.
pub(crate) async fn start(version: RestApiVersion, config: EmulatorConfig) -> EmulatorHandle {
    let config = EmulatorConfig {
        api_versions: vec![version],
        ..config
    };
    Emulator::start(config).await.expect("the emulator starts")
}

pub(crate) async fn connect(emulator: &EmulatorHandle) -> Client {
    connect_with_timeout(emulator, Duration::from_secs(10)).await
}

/// A client whose requests give up after `request_timeout`.
pub(crate) async fn connect_with_timeout(
    emulator: &EmulatorHandle,
    request_timeout: Duration,
) -> Client {
    let mut config = ClientConfig::new(
        emulator.base_url(),
        DEFAULT_USER,
        Secret::new(DEFAULT_PASSWORD),
    );
    config.retry = quick_retries();
    config.request_timeout = request_timeout;
    Client::connect(config).await.expect("login succeeds")
}

/// `count` organizations of all three types as `version` takes them, with literal secrets
/// (tests cannot set variables).
pub(crate) fn desired(version: RestApiVersion, count: usize) -> Vec<Desired> {
    (0..count).map(|i| organization(version, i, "")).collect()
}

/// The first `count` organizations of [`desired`] as they were before: same names and types,
/// another server or account (`mail-old.`, `admin-old@`, `sp-old.`), so that planning
/// [`desired`] against them updates each.
pub(crate) fn drifted(version: RestApiVersion, count: usize) -> Vec<Desired> {
    (0..count)
        .map(|i| organization(version, i, "-old"))
        .collect()
}

/// Organization `i`: Office365, OnPremises or Hybrid by turns, its servers and accounts
/// spelled with `variant`. Their Microsoft 365 side uses basic authentication in region China,
/// which v8 still lets a new organization use; a Hybrid one describes that side as `version`
/// does (`office365Settings` in v3, an Office365 organization's workloads from v6 on).
fn organization(version: RestApiVersion, i: usize, variant: &str) -> Desired {
    let name = format!("tenant-{i:03}.example.com");
    let spec = match i % 3 {
        0 => serde_json::json!({
            "type": "Office365",
            "region": "China",
            "isExchangeOnline": true,
            "exchangeOnlineSettings": {"account": format!("admin{variant}@{name}"), "password": "pw"}
        }),
        1 => serde_json::json!({
            "type": "OnPremises",
            "isExchange": true,
            "exchangeSettings": {"serverName": format!("mail{variant}.{name}"), "username": "DOM\\backup", "password": "pw", "useSSL": true}
        }),
        _ if version == RestApiVersion::V3 => serde_json::json!({
            "type": "Hybrid",
            "office365Settings": {"username": format!("admin@{name}"), "password": "pw"},
            "isSharePoint": true,
            "sharePointSettings": {"serverName": format!("sp{variant}.{name}"), "username": "DOM\\backup", "password": "pw"}
        }),
        _ => serde_json::json!({
            "type": "Hybrid",
            "region": "China",
            "isExchangeOnline": true,
            "exchangeOnlineSettings": {"account": format!("admin@{name}"), "password": "pw"},
            "isSharePoint": true,
            "sharePointSettings": {"serverName": format!("sp{variant}.{name}"), "username": "DOM\\backup", "password": "pw"}
        }),
    };
    Desired::new(
        name,
        format!("tenants.yaml:{}:1", i + 1),
        serde_json::from_value::<Spec>(spec).expect("a valid spec"),
    )
}

pub(crate) async fn plan(client: &Client, desired: &[Desired], prune: bool) -> Plan {
    let observed = client.list().await.expect("list succeeds");
    vbo_plan::plan(
        desired,
        &observed,
        &PlanOptions {
            prune,
            server: client.server().to_owned(),
            api_version: client.api_version(),
            scope: None,
        },
    )
}

/// Plans and applies everything, all at once, returning the results.
pub(crate) async fn plan_and_apply(
    client: &Client,
    desired: &[Desired],
    prune: bool,
) -> Vec<StepResult> {
    // All at once: a run then lasts as long as its slowest change, not a sum of waves.
    let options = ApplyOptions {
        parallelism: desired.len().max(1),
        create_retry: quick_retries(),
        ..ApplyOptions::default()
    };
    plan_and_apply_with(client, desired, prune, &options).await
}

/// Plans and applies everything with `options`, returning the results.
pub(crate) async fn plan_and_apply_with(
    client: &Client,
    desired: &[Desired],
    prune: bool,
    options: &ApplyOptions,
) -> Vec<StepResult> {
    let plan = plan(client, desired, prune).await;
    let (steps, _) = vbo_apply::steps(&plan, desired, Scope::All).expect("steps");
    vbo_apply::apply(client, steps, options, |_| {}).await
}

/// Panics, naming each, unless every step succeeded.
#[track_caller]
pub(crate) fn assert_all_succeeded(results: &[StepResult]) {
    let failures: Vec<_> = results
        .iter()
        .filter(|r| !r.outcome.is_success())
        .map(|r| {
            format!(
                "{} {}: {:?} after {:?} and {} attempts",
                r.step.action(),
                r.step.name,
                r.outcome,
                r.duration,
                r.attempts
            )
        })
        .collect();
    assert!(failures.is_empty(), "failed steps: {failures:#?}");
}
