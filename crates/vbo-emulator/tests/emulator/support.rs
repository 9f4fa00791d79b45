//! Starting an emulator, logging in, and sending requests with a bare reqwest client.

use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use vbo_emulator::{DEFAULT_PASSWORD, DEFAULT_USER, Emulator, EmulatorConfig, EmulatorHandle};

/// A reqwest client with the ring provider installed, trusting nothing but the system roots.
pub(crate) fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder().build().expect("a client builds")
}

/// An emulator, a client, and an access token of the demo user.
pub(crate) struct Api {
    pub(crate) emulator: EmulatorHandle,
    pub(crate) client: Client,
    pub(crate) token: String,
}

impl Api {
    /// Starts an emulator with `config` and logs in as the demo user.
    pub(crate) async fn start(config: EmulatorConfig) -> Self {
        let emulator = Emulator::start(config).await.expect("the emulator starts");
        let client = client();
        let token = login(&client, emulator.base_url()).await;
        Self {
            emulator,
            client,
            token,
        }
    }

    /// An emulator with the default configuration, logged in.
    pub(crate) async fn default() -> Self {
        Self::start(EmulatorConfig::default()).await
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emulator.base_url())
    }

    pub(crate) fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }

    pub(crate) async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .header("Authorization", self.bearer())
            .send()
            .await
            .expect("the request is answered")
    }

    pub(crate) async fn post(&self, body: &Value) -> Response {
        self.post_text(&body.to_string()).await
    }

    /// POSTs `text` exactly as given, as `application/json`.
    pub(crate) async fn post_text(&self, text: &str) -> Response {
        self.client
            .post(self.url("/v3/Organizations"))
            .header("Authorization", self.bearer())
            .header("Content-Type", "application/json")
            .body(text.to_owned())
            .send()
            .await
            .expect("the request is answered")
    }

    pub(crate) async fn put(&self, id: &str, body: &Value) -> Response {
        self.client
            .put(self.url(&format!("/v3/Organizations/{id}")))
            .header("Authorization", self.bearer())
            .json(body)
            .send()
            .await
            .expect("the request is answered")
    }

    pub(crate) async fn delete(&self, id: &str) -> Response {
        self.client
            .delete(self.url(&format!("/v3/Organizations/{id}")))
            .header("Authorization", self.bearer())
            .send()
            .await
            .expect("the request is answered")
    }

    /// POSTs `body`, expects 201, and returns the representation.
    pub(crate) async fn create(&self, body: &Value) -> Value {
        let response = self.post(body).await;
        let status = response.status();
        let json = body_json(response).await;
        assert_eq!(status, StatusCode::CREATED, "{json}");
        json
    }
}

/// Logs in as the demo user at `base_url` and returns the access token.
pub(crate) async fn login(client: &Client, base_url: &str) -> String {
    let response = token_request(
        client,
        base_url,
        &[
            ("grant_type", "password"),
            ("username", DEFAULT_USER),
            ("password", DEFAULT_PASSWORD),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let json = body_json(response).await;
    json["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

/// POSTs a form to `/v3/Token`.
pub(crate) async fn token_request(
    client: &Client,
    base_url: &str,
    form: &[(&str, &str)],
) -> Response {
    client
        .post(format!("{base_url}/v3/Token"))
        .form(form)
        .send()
        .await
        .expect("the token request is answered")
}

/// The response body as JSON.
pub(crate) async fn body_json(response: Response) -> Value {
    let text = response.text().await.expect("a body");
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("not JSON ({error}): {text}"))
}

/// A valid Office365 body named `name`, with basic authentication to Exchange Online.
pub(crate) fn office365(name: &str) -> Value {
    serde_json::json!({
        "type": "Office365",
        "name": name,
        "region": "Worldwide",
        "isExchangeOnline": true,
        "exchangeOnlineSettings": {
            "account": format!("admin@{name}"),
            "password": "Exchange-Online-Pw",
            "grantAdminAccess": false,
            "useMfa": false
        },
        "isSharePointOnline": false
    })
}

/// A valid OnPremises body named `name`.
pub(crate) fn on_premises(name: &str) -> Value {
    serde_json::json!({
        "type": "OnPremises",
        "name": name,
        "isExchange": true,
        "exchangeSettings": {
            "serverName": format!("mail.{name}"),
            "username": "CONTOSO\\backup",
            "password": "Exchange-Pw",
            "useSSL": true
        },
        "isSharePoint": false
    })
}
