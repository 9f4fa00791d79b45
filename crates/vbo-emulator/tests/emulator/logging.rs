//! One log line per request (method, path, status, duration), and never a body, a header or a
//! token.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::StatusCode;
use serde_json::json;
use vbo_emulator::EmulatorConfig;

use crate::support::Api;

/// Everything logged by every test in this binary.
fn captured() -> Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(Mutex::new(Vec::new()));
        let writer = Arc::clone(&log);
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Capture(Arc::clone(&writer)))
            .try_init();
        log
    })
    .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn requests_are_logged_without_bodies_headers_or_tokens() {
    let log = captured();
    let api = Api::start(EmulatorConfig::default()).await;
    let body = json!({
        "type": "OnPremises",
        "name": "logged.example",
        "isExchange": true,
        "exchangeSettings": {
            "serverName": "mail.logged.example",
            "username": "LOGGED\\user",
            "password": "Never-Logged-Pw"
        }
    });
    assert_eq!(api.post(&body).await.status(), StatusCode::CREATED);
    let response = api
        .client
        .get(api.url("/v3/Organizations/no-such-id"))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let text = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    let line = text
        .lines()
        .find(|line| line.contains("path=/v3/Organizations/no-such-id"))
        .unwrap_or_else(|| panic!("a line for the request in:\n{text}"));
    assert!(
        line.contains("method=GET") && line.contains("status=404"),
        "{line}"
    );
    assert!(line.contains("duration_ms="), "{line}");
    assert!(
        text.contains("method=POST path=/v3/Organizations status=201"),
        "{text}"
    );
    assert!(text.contains("path=/v3/Token status=200"), "{text}");
    for secret in [
        "Never-Logged-Pw",
        "mail.logged.example",
        api.token.as_str(),
        "vboctl-demo",
    ] {
        assert!(!text.contains(secret), "{secret} was logged");
    }
    assert!(!text.to_lowercase().contains("bearer"));
}
