//! The client against the in-process emulator (login, TLS trust, retries, token refresh) and
//! against a stub answering as later API versions do.

mod stub;
mod tls;
mod tolerant;
mod variants;
mod versions;

use std::time::Duration;

use vbo_client::{Client, ClientConfig, ClientError, Outcome, RetryPolicy, TlsOptions};
use vbo_emulator::{
    DEFAULT_PASSWORD, DEFAULT_USER, Emulator, EmulatorConfig, EmulatorHandle, Faults, Tls,
};
use vbo_model::{OrganizationBody, OrganizationType, Secret};

async fn emulator(config: EmulatorConfig) -> EmulatorHandle {
    Emulator::start(config).await.expect("the emulator starts")
}

fn config_for(emulator: &EmulatorHandle) -> ClientConfig {
    let mut config = ClientConfig::new(
        emulator.base_url(),
        DEFAULT_USER,
        Secret::new(DEFAULT_PASSWORD),
    );
    config.retry = RetryPolicy {
        max_attempts: 20,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
        max_elapsed: Duration::from_secs(30),
    };
    config
}

fn on_premises(name: &str) -> OrganizationBody<Secret> {
    serde_json::from_value(serde_json::json!({
        "type": "OnPremises",
        "name": name,
        "isExchange": true,
        "exchangeSettings": {"serverName": "mail.contoso.local", "username": "CONTOSO\\backup", "password": "pw"},
        "isSharePoint": false
    }))
    .expect("a valid body")
}

#[tokio::test]
async fn logs_in_and_round_trips_create_update_delete_over_http() {
    let emulator = emulator(EmulatorConfig::default()).await;
    let client = Client::connect(config_for(&emulator)).await.unwrap();
    assert!(!client.server().ends_with('/'));
    assert_eq!(client.api_version(), vbo_model::RestApiVersion::V8);

    let created = client.create(&on_premises("contoso.local")).await.unwrap();
    assert_eq!(created.name, "contoso.local");
    assert_eq!(created.state.kind, OrganizationType::OnPremises);

    let mut body = on_premises("contoso.local");
    body.exchange_settings.as_mut().unwrap().use_ssl = true;
    client.update(&created.id, &body).await.unwrap();
    let fetched = client.get(&created.id).await.unwrap();
    assert_eq!(fetched.state.exchange_settings.unwrap().use_ssl, Some(true));

    client.delete(&created.id).await.unwrap();
    assert!(client.list().await.unwrap().is_empty());
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_wrong_password_is_a_clear_login_error() {
    let emulator = emulator(EmulatorConfig::default()).await;
    let mut config = config_for(&emulator);
    config.password = Secret::new("not-the-password");
    let error = Client::connect(config).await.unwrap_err();
    assert!(
        matches!(error, ClientError::LoginRejected { .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!("the server rejected the username or password for {DEFAULT_USER}")
    );
    assert!(!format!("{error:?}").contains("not-the-password"));
}

#[tokio::test]
async fn trusts_the_emulators_certificate_given_as_a_ca_file() {
    let emulator = emulator(EmulatorConfig {
        tls: Tls::SelfSigned,
        ..EmulatorConfig::default()
    })
    .await;
    assert!(emulator.base_url().starts_with("https://"));
    let folder = tempfile::tempdir().unwrap();
    let ca = folder.path().join("ca.pem");
    std::fs::write(&ca, emulator.ca_cert_pem().unwrap()).unwrap();

    let mut config = config_for(&emulator);
    config.tls = TlsOptions {
        ca_cert: Some(ca),
        insecure: false,
        ..TlsOptions::default()
    };
    let client = Client::connect(config).await.unwrap();
    assert!(client.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn refuses_an_untrusted_certificate_and_says_why() {
    let emulator = emulator(EmulatorConfig {
        tls: Tls::SelfSigned,
        ..EmulatorConfig::default()
    })
    .await;
    let error = Client::connect(config_for(&emulator)).await.unwrap_err();
    match &error {
        ClientError::Tls { detail, .. } => {
            assert!(
                detail.contains("not signed by a certificate authority"),
                "{detail}"
            )
        }
        other => panic!("expected a TLS error, got {other:?}"),
    }
    assert_eq!(emulator.request_counts().route("POST /v8/token"), 0);
}

#[tokio::test]
async fn insecure_skips_verification() {
    let emulator = emulator(EmulatorConfig {
        tls: Tls::SelfSigned,
        ..EmulatorConfig::default()
    })
    .await;
    let mut config = config_for(&emulator);
    config.tls.insecure = true;
    let client = Client::connect(config).await.unwrap();
    assert!(client.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn reads_are_retried_through_503s() {
    let emulator = emulator(EmulatorConfig {
        seed_orgs: 3,
        faults: Faults {
            error_rate: 0.5,
            seed: Some(7),
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let client = Client::connect(config_for(&emulator)).await.unwrap();
    for _ in 0..10 {
        assert_eq!(client.list().await.unwrap().len(), 3);
    }
    let counts = emulator.request_counts();
    assert!(counts.faults.errors > 0, "no 503 was injected: {counts:?}");
    assert_eq!(
        counts.route("GET /v8/Organizations"),
        10 + counts.faults.errors
    );
}

#[tokio::test]
async fn reads_wait_out_429s() {
    let emulator = emulator(EmulatorConfig {
        faults: Faults {
            throttle_rate: 0.4,
            seed: Some(3),
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let client = Client::connect(config_for(&emulator)).await.unwrap();
    let started = std::time::Instant::now();
    for _ in 0..4 {
        client.list().await.unwrap();
    }
    let throttles = emulator.request_counts().faults.throttles;
    assert!(throttles > 0, "no 429 was injected");
    // Each 429 carries Retry-After: 1, which the client honours.
    assert!(started.elapsed() >= Duration::from_secs(throttles));
}

#[tokio::test]
async fn a_create_is_sent_once_even_when_it_fails_transiently() {
    let emulator = emulator(EmulatorConfig {
        faults: Faults {
            error_rate: 1.0,
            seed: Some(1),
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let client = Client::connect(config_for(&emulator)).await.unwrap();
    let error = client
        .create(&on_premises("contoso.local"))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert_eq!(error.outcome(), Outcome::Unknown);
    assert_eq!(emulator.request_counts().route("POST /v8/Organizations"), 1);
}

#[tokio::test]
async fn an_expired_token_is_renewed_mid_run() {
    let emulator = emulator(EmulatorConfig {
        token_ttl: Duration::from_secs(1),
        ..EmulatorConfig::default()
    })
    .await;
    let client = Client::connect(config_for(&emulator)).await.unwrap();
    client.list().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1300)).await;
    client.list().await.unwrap();
    let counts = emulator.request_counts();
    assert!(counts.route("POST /v8/token") >= 2, "{counts:?}");
    assert_eq!(counts.route("GET /v8/Organizations"), 2);
}

#[tokio::test]
async fn a_refused_create_carries_the_servers_message() {
    let emulator = emulator(EmulatorConfig::default()).await;
    let client = Client::connect(config_for(&emulator)).await.unwrap();
    client.create(&on_premises("contoso.local")).await.unwrap();
    let error = client
        .create(&on_premises("CONTOSO.local"))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(400));
    assert_eq!(error.outcome(), Outcome::NotPerformed);
    assert!(
        error
            .server_message()
            .unwrap()
            .contains("has already been added"),
        "{error}"
    );
}

#[test]
fn server_urls_are_normalised_to_the_server_root() {
    for (given, base) in [
        ("https://vbo:4443", "https://vbo:4443/"),
        ("https://vbo:4443/", "https://vbo:4443/"),
        ("https://vbo:4443/v3", "https://vbo:4443/"),
        ("https://vbo:4443/V8/", "https://vbo:4443/"),
        ("https://vbo:4443/proxy/v8", "https://vbo:4443/proxy/"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/"),
    ] {
        assert_eq!(
            vbo_client::server_url(given).unwrap().as_str(),
            base,
            "{given}"
        );
    }
    for bad in [
        "vbo:4443",
        "ftp://vbo",
        "https://vbo:4443/?x=1",
        "not a url",
    ] {
        assert!(vbo_client::server_url(bad).is_err(), "{bad}");
    }
    for (given, shown) in [
        (
            "https://admin:Url-Secret-9@vbo:4443",
            "https://***@vbo:4443",
        ),
        ("https://admin@vbo:4443/v3", "https://***@vbo:4443/v3"),
        (
            "https://a:b@c:Url-Secret-9@vbo:4443/",
            "https://***@vbo:4443/",
        ),
    ] {
        let error = vbo_client::server_url(given).unwrap_err().to_string();
        assert!(
            error.starts_with(&format!("invalid server URL {shown:?}: it must not hold")),
            "{error}"
        );
        assert!(!error.contains("Url-Secret-9") && !error.contains("admin"));
    }
    for bare in ["vbo:4443", "10.0.0.5:4443"] {
        let error = vbo_client::server_url(bare).unwrap_err().to_string();
        assert!(
            error.ends_with(&format!("it has no scheme: write https://{bare}")),
            "{error}"
        );
    }
}

/// Retries slow enough that a retried login would take a second or more.
fn slow_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        base_delay: Duration::from_secs(2),
        max_delay: Duration::from_secs(2),
        max_elapsed: Duration::from_secs(30),
    }
}

#[tokio::test]
async fn a_server_that_refuses_connections_at_login_is_reported_at_once() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = ClientConfig::new(
        format!("https://127.0.0.1:{port}"),
        DEFAULT_USER,
        Secret::new(DEFAULT_PASSWORD),
    );
    config.retry = slow_retries();
    let started = std::time::Instant::now();
    let error = Client::connect(config).await.unwrap_err();
    assert!(
        matches!(error, ClientError::Connect { .. }),
        "expected a connection error, got {error:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "not retried: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_connect_timeout_is_a_connection_error_that_sent_nothing() {
    // Accepts TCP connections (the kernel does) but never answers the TLS handshake.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut config = ClientConfig::new(
        format!("https://{}", silent.local_addr().unwrap()),
        DEFAULT_USER,
        Secret::new(DEFAULT_PASSWORD),
    );
    config.connect_timeout = Duration::from_millis(200);
    config.retry = slow_retries();
    let started = std::time::Instant::now();
    let error = Client::connect(config).await.unwrap_err();
    match &error {
        ClientError::Connect { detail, .. } => {
            assert!(detail.contains("connect timeout"), "{detail}")
        }
        other => panic!("expected a connection error, got {other:?}"),
    }
    assert_eq!(error.outcome(), Outcome::NotPerformed);
    assert!(error.is_transient());
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "the first login is not retried: {:?}",
        started.elapsed()
    );
}
