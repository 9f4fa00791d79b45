//! Faults on purpose: each switch is observed at roughly its configured rate, is reproducible
//! with a seed, and leaves the token endpoint alone.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use vbo_emulator::{Emulator, EmulatorConfig, EmulatorError, Faults};

use crate::support::{Api, client, login, office365, token_request};

const REQUESTS: usize = 400;

/// An emulator with `faults` (seeded), logged in.
async fn faulty(faults: Faults) -> Api {
    Api::start(EmulatorConfig {
        faults: Faults {
            seed: Some(20240601),
            ..faults
        },
        ..EmulatorConfig::default()
    })
    .await
}

/// What a client saw for one request.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Status(StatusCode),
    ConnectionError,
}

async fn list(api: &Api) -> Seen {
    match api
        .client
        .get(api.url("/v3/Organizations"))
        .bearer_auth(&api.token)
        .send()
        .await
    {
        Ok(response) => {
            if response.status() == StatusCode::TOO_MANY_REQUESTS {
                assert_eq!(response.headers()["retry-after"], "1");
            }
            Seen::Status(response.status())
        }
        Err(error) => {
            assert!(!error.is_timeout() && !error.is_status(), "{error:?}");
            Seen::ConnectionError
        }
    }
}

/// Sends `REQUESTS` reads, each of which must succeed or meet `fault`; returns how many met
/// it.
async fn count_faults(api: &Api, fault: Seen) -> usize {
    let mut count = 0;
    for _ in 0..REQUESTS {
        let seen = list(api).await;
        if seen == fault {
            count += 1;
        } else {
            assert_eq!(seen, Seen::Status(StatusCode::OK));
        }
    }
    count
}

/// Asserts that `count` of `REQUESTS` is within a tolerant band around `rate`.
fn assert_rate(count: usize, rate: f64) {
    let observed = count as f64 / REQUESTS as f64;
    assert!(
        (observed - rate).abs() < 0.08,
        "observed {observed:.3}, configured {rate}"
    );
}

#[tokio::test]
async fn error_rate_answers_503_before_doing_anything() {
    let api = faulty(Faults {
        error_rate: 0.25,
        ..Faults::default()
    })
    .await;
    let errors = count_faults(&api, Seen::Status(StatusCode::SERVICE_UNAVAILABLE)).await;
    assert_rate(errors, 0.25);
    assert_eq!(api.emulator.request_counts().faults.errors, errors as u64);

    // A refused create changes nothing.
    let mut created = 0;
    for n in 0..40 {
        let response = api.post(&office365(&format!("t{n}.com"))).await;
        match response.status() {
            StatusCode::CREATED => created += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                let json: serde_json::Value = response.json().await.unwrap();
                assert!(json["message"].is_string());
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(api.emulator.organizations().len(), created);
}

#[tokio::test]
async fn throttle_rate_answers_429_with_retry_after() {
    let api = faulty(Faults {
        throttle_rate: 0.2,
        ..Faults::default()
    })
    .await;
    let throttled = count_faults(&api, Seen::Status(StatusCode::TOO_MANY_REQUESTS)).await;
    assert_rate(throttled, 0.2);
    assert_eq!(
        api.emulator.request_counts().faults.throttles,
        throttled as u64
    );
}

#[tokio::test]
async fn reset_rate_closes_the_connection_without_an_answer() {
    let api = faulty(Faults {
        reset_rate: 0.15,
        ..Faults::default()
    })
    .await;
    let resets = count_faults(&api, Seen::ConnectionError).await;
    assert_rate(resets, 0.15);
    let counts = api.emulator.request_counts();
    assert_eq!(counts.faults.resets, resets as u64);
    assert_eq!(counts.route("GET /v3/Organizations"), REQUESTS as u64);
}

#[tokio::test]
async fn commit_then_fail_makes_the_change_and_loses_the_answer() {
    let api = faulty(Faults {
        commit_then_fail_rate: 0.4,
        ..Faults::default()
    })
    .await;
    let (mut answered, mut failed, mut dropped) = (0, 0, 0);
    let creates = 150;
    for n in 0..creates {
        let result = api
            .client
            .post(api.url("/v3/Organizations"))
            .bearer_auth(&api.token)
            .json(&office365(&format!("tenant-{n}.com")))
            .send()
            .await;
        match result.map(|response| response.status()) {
            Ok(StatusCode::CREATED) => answered += 1,
            Ok(StatusCode::INTERNAL_SERVER_ERROR) => failed += 1,
            Ok(other) => panic!("unexpected {other}"),
            Err(error) => {
                assert!(!error.is_timeout(), "{error:?}");
                dropped += 1;
            }
        }
    }
    // Every create happened, whatever the client was told.
    assert_eq!(api.emulator.organizations().len(), creates);
    let counts = api.emulator.request_counts();
    assert_eq!(counts.created, creates as u64);
    assert_eq!(counts.faults.commit_then_fail, (failed + dropped) as u64);
    assert!(failed > 0 && dropped > 0, "both ways: {failed} / {dropped}");
    let observed = (failed + dropped) as f64 / creates as f64;
    assert!((observed - 0.4).abs() < 0.12, "observed {observed:.3}");
    assert_eq!(answered + failed + dropped, creates);

    // Updates too; reads never.
    let id = api.emulator.organizations()[0].id.clone();
    let mut updated = 0;
    for _ in 0..20 {
        if let Ok(response) = api
            .client
            .put(api.url(&format!("/v3/Organizations/{id}")))
            .bearer_auth(&api.token)
            .json(&office365("tenant-0.com"))
            .send()
            .await
        {
            assert!(matches!(
                response.status(),
                StatusCode::NO_CONTENT | StatusCode::INTERNAL_SERVER_ERROR
            ));
        }
        updated += 1;
    }
    assert_eq!(api.emulator.request_counts().updated, updated);
    for _ in 0..20 {
        assert_eq!(list(&api).await, Seen::Status(StatusCode::OK));
    }
}

#[tokio::test]
async fn commit_then_fail_loses_the_answer_of_deletes_too() {
    let api = Api::default().await;
    let mut ids = Vec::new();
    for n in 0..20 {
        let created = api.create(&office365(&format!("tenant-{n}.com"))).await;
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    api.emulator
        .set_faults(Faults {
            commit_then_fail_rate: 1.0,
            seed: Some(9),
            ..Faults::default()
        })
        .unwrap();
    let (mut failed, mut dropped) = (0, 0);
    for id in &ids {
        let result = api
            .client
            .delete(api.url(&format!("/v3/Organizations/{id}")))
            .bearer_auth(&api.token)
            .send()
            .await;
        match result.map(|response| response.status()) {
            Ok(StatusCode::INTERNAL_SERVER_ERROR) => failed += 1,
            Ok(other) => panic!("unexpected {other}"),
            Err(_) => dropped += 1,
        }
    }
    assert!(failed > 0 && dropped > 0, "both ways: {failed} / {dropped}");
    // Every delete happened, whatever the client was told; a second one finds nothing.
    assert!(api.emulator.organizations().is_empty());
    let counts = api.emulator.request_counts();
    assert_eq!(counts.deleted, 20);
    assert_eq!(counts.faults.commit_then_fail, 20);
    assert_eq!(api.delete(&ids[0]).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(api.emulator.request_counts().faults.commit_then_fail, 20);
}

#[tokio::test]
async fn slow_answers_come_after_the_change_was_made() {
    let api = Api::default().await;
    let delay = Duration::from_millis(400);
    api.emulator
        .set_faults(Faults {
            slow_answer_rate: 1.0,
            slow_answer_delay: delay,
            ..Faults::default()
        })
        .unwrap();
    // A client that waits long enough gets the answer, late.
    let started = Instant::now();
    let created = api.create(&office365("slow.com")).await;
    assert!(started.elapsed() >= delay);
    let id = created["id"].as_str().unwrap().to_owned();

    // A client that gives up first has made the change all the same: create, update, delete.
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let requests = [
        impatient
            .post(api.url("/v3/Organizations"))
            .json(&office365("impatient.com")),
        impatient
            .put(api.url(&format!("/v3/Organizations/{id}")))
            .json(&office365("renamed.com")),
    ];
    for request in requests {
        let error = request.bearer_auth(&api.token).send().await.unwrap_err();
        assert!(error.is_timeout(), "{error:?}");
    }
    let names: Vec<String> = api
        .emulator
        .organizations()
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, ["renamed.com", "impatient.com"]);
    let error = impatient
        .delete(api.url(&format!("/v3/Organizations/{id}")))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(api.emulator.organizations().len(), 1);
    let counts = api.emulator.request_counts();
    assert_eq!((counts.created, counts.updated, counts.deleted), (2, 1, 1));
    assert_eq!(counts.faults.slow_answers, 4);
    assert_eq!(counts.faults.commit_then_fail, 0);
}

#[tokio::test]
async fn token_grants_are_counted_by_kind() {
    let api = Api::default().await;
    let response = token_request(
        &api.client,
        api.emulator.base_url(),
        &[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", "vboctl-demo"),
        ],
    )
    .await;
    let refresh = crate::support::body_json(response).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..2 {
        // The second use of the refresh token is refused.
        token_request(
            &api.client,
            api.emulator.base_url(),
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        )
        .await;
    }
    let tokens = api.emulator.request_counts().tokens;
    // Two logins (the one of `Api::default` too), one renewal, one refusal.
    assert_eq!((tokens.password, tokens.refresh, tokens.refused), (2, 1, 1));
}

#[tokio::test]
async fn counts_since_an_earlier_snapshot_are_the_difference() {
    let api = faulty(Faults {
        error_rate: 0.5,
        ..Faults::default()
    })
    .await;
    let before = api.emulator.request_counts();
    let errors = count_faults(&api, Seen::Status(StatusCode::SERVICE_UNAVAILABLE)).await;
    let during = api.emulator.request_counts().since(&before);
    assert_eq!(during.route("GET /v3/Organizations"), REQUESTS as u64);
    assert_eq!(during.route("POST /v3/Token"), 0);
    assert_eq!(during.faults.errors, errors as u64);
    assert_eq!(during.tokens.password, 0);
    assert_eq!(before.tokens.password, 1);
}

#[tokio::test]
async fn faults_changed_while_running_apply_from_the_next_request() {
    let api = Api::default().await;
    assert_eq!(list(&api).await, Seen::Status(StatusCode::OK));
    api.emulator
        .set_faults(Faults {
            error_rate: 1.0,
            ..Faults::default()
        })
        .unwrap();
    assert_eq!(
        list(&api).await,
        Seen::Status(StatusCode::SERVICE_UNAVAILABLE)
    );
    let refused = api.emulator.set_faults(Faults {
        reset_rate: 1.5,
        ..Faults::default()
    });
    assert!(matches!(refused, Err(EmulatorError::InvalidRate { .. })));
    assert_eq!(
        list(&api).await,
        Seen::Status(StatusCode::SERVICE_UNAVAILABLE),
        "an invalid change leaves the faults as they were"
    );
    api.emulator.set_faults(Faults::default()).unwrap();
    assert_eq!(list(&api).await, Seen::Status(StatusCode::OK));
}

#[tokio::test]
async fn the_same_seed_and_requests_give_the_same_faults() {
    let faults = Faults {
        error_rate: 0.2,
        throttle_rate: 0.2,
        reset_rate: 0.1,
        ..Faults::default()
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let api = faulty(faults.clone()).await;
        let mut seen = Vec::new();
        for _ in 0..60 {
            seen.push(list(&api).await);
        }
        runs.push(seen);
    }
    assert_eq!(runs[0], runs[1]);
    for expected in [
        Seen::ConnectionError,
        Seen::Status(StatusCode::SERVICE_UNAVAILABLE),
        Seen::Status(StatusCode::TOO_MANY_REQUESTS),
        Seen::Status(StatusCode::OK),
    ] {
        assert!(runs[0].contains(&expected), "{expected:?} in {:?}", runs[0]);
    }
}

#[tokio::test]
async fn latency_delays_every_request_within_its_range() {
    let api = faulty(Faults {
        latency: Some(Duration::from_millis(40)..=Duration::from_millis(60)),
        ..Faults::default()
    })
    .await;
    for _ in 0..5 {
        let started = Instant::now();
        assert_eq!(list(&api).await, Seen::Status(StatusCode::OK));
        assert!(started.elapsed() >= Duration::from_millis(40));
    }
    assert_eq!(
        api.emulator.request_counts().faults.delayed,
        5 + 1,
        "the login too"
    );
}

#[tokio::test]
async fn the_token_endpoint_is_never_faulted() {
    let emulator = Emulator::start(EmulatorConfig {
        faults: Faults {
            error_rate: 1.0,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let client = client();
    for _ in 0..10 {
        let token = login(&client, emulator.base_url()).await;
        let response = client
            .get(format!("{}/v3/Organizations", emulator.base_url()))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}

#[tokio::test]
async fn impossible_rates_are_refused_at_start() {
    let error = Emulator::start(EmulatorConfig {
        faults: Faults {
            reset_rate: 0.5,
            error_rate: 0.5,
            throttle_rate: 0.5,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .await
    .unwrap_err();
    assert!(matches!(error, EmulatorError::InvalidRate { .. }));
    assert_eq!(
        error.to_string(),
        "reset_rate + error_rate + throttle_rate must be a number from 0 to 1, got 1.5"
    );
}
