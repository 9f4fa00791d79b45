//! HTTPS: the generated self-signed certificate, trusted by a client that verifies, and a
//! certificate given as files.

use reqwest::{Certificate, Client, StatusCode};
use vbo_emulator::{Emulator, EmulatorConfig, EmulatorError, Tls};

use crate::support::login;

fn trusting(pem: &str) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .tls_certs_only([Certificate::from_pem(pem.as_bytes()).unwrap()])
        .build()
        .unwrap()
}

async fn list(client: &Client, base_url: &str) -> StatusCode {
    let token = login(client, base_url).await;
    client
        .get(format!("{base_url}/v3/Organizations"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn the_generated_certificate_is_trusted_by_a_verifying_client() {
    let emulator = Emulator::start(EmulatorConfig {
        tls: Tls::SelfSigned,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let base = emulator.base_url().to_owned();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    let pem = emulator.ca_cert_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));

    let client = trusting(pem);
    assert_eq!(list(&client, &base).await, StatusCode::OK);
    let by_name = format!("https://localhost:{}", emulator.local_addr().port());
    assert_eq!(list(&client, &by_name).await, StatusCode::OK);

    // Verification is on: a client that trusts another certificate refuses the connection.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let stranger = trusting(&other.cert.pem());
    let error = stranger
        .get(format!("{base}/v3/Organizations"))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_connect(), "{error:?}");

    // Plain HTTP is not spoken on the HTTPS port.
    let plain = base.replacen("https://", "http://", 1);
    let answered = trusting(pem)
        .get(format!("{plain}/v3/Organizations"))
        .send()
        .await;
    assert!(answered.is_err() || answered.unwrap().status() != StatusCode::OK);
}

#[tokio::test]
async fn a_given_certificate_and_key_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let generated =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, generated.cert.pem()).unwrap();
    std::fs::write(&key, generated.signing_key.serialize_pem()).unwrap();

    let emulator = Emulator::start(EmulatorConfig {
        tls: Tls::Files {
            cert: cert.clone(),
            key: key.clone(),
        },
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    assert_eq!(emulator.ca_cert_pem(), Some(generated.cert.pem().as_str()));
    let client = trusting(&generated.cert.pem());
    assert_eq!(list(&client, emulator.base_url()).await, StatusCode::OK);

    // A key file without a key is named in the error.
    std::fs::write(&key, "not a key").unwrap();
    let error = Emulator::start(EmulatorConfig {
        tls: Tls::Files { cert, key },
        ..EmulatorConfig::default()
    })
    .await
    .unwrap_err();
    assert!(
        matches!(
            &error,
            EmulatorError::InvalidTlsFile {
                what: "private key",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("key.pem"));
}
