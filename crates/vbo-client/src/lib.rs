//! Client of the Veeam Backup for Microsoft Office 365 REST API v3.
//!
//! [`Client::connect`] logs in with the password grant and keeps the session alive: it refreshes
//! the access token before it expires and once more when the server answers 401. Reads, updates
//! and deletes are retried on connection errors, 5xx and 429 with exponential backoff and jitter,
//! honouring `Retry-After`. A create (`POST`) is never retried here, because a create whose
//! answer was lost may have happened: the caller decides, knowing what else it can check.
//!
//! TLS verification is on by default against the system's roots; [`TlsOptions`] adds a CA file
//! or the server's own certificate, a thumbprint, or, explicitly, turns verification off. The
//! [`tls`] module says what is trusted, and shows what a server presents.

mod auth;
mod error;
mod retry;
pub mod tls;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use vbo_model::wire::ApiError;
use vbo_model::{Organization, OrganizationBody, Secret};

pub use error::{ClientError, Outcome};
pub use retry::RetryPolicy;

use auth::Session;

/// How to reach and trust the server.
#[derive(Clone, Debug, Default)]
pub struct TlsOptions {
    /// A file of certificates to trust, PEM (or one DER certificate): certificate authorities
    /// to trust besides the system's, and the server's own certificate, which is then trusted
    /// as it is (pinned) when the server presents exactly it.
    pub ca_cert: Option<PathBuf>,
    /// Trust exactly the server certificate with this SHA-256 fingerprint or SHA-1 thumbprint,
    /// and no other. When set, `ca_cert` is not read.
    pub thumbprint: Option<tls::Thumbprint>,
    /// Do not verify the server's certificate at all. Anyone on the network path can then read
    /// the credentials: use only for a throwaway test server.
    pub insecure: bool,
}

/// Everything [`Client::connect`] needs.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The server, for example `https://vbo.example.com:4443`. A trailing `/v3` is accepted.
    pub server: String,
    /// The user to log in as, often `DOMAIN\user`.
    pub username: String,
    /// The user's password.
    pub password: Secret,
    /// Certificate trust.
    pub tls: TlsOptions,
    /// How long to wait for a TCP and TLS connection.
    pub connect_timeout: Duration,
    /// How long to wait for a whole request, answer included.
    pub request_timeout: Duration,
    /// When and how often to retry reads, updates, deletes and logins.
    pub retry: RetryPolicy,
}

impl ClientConfig {
    /// A configuration with default timeouts (10 s to connect, 60 s per request) and retries.
    pub fn new(server: impl Into<String>, username: impl Into<String>, password: Secret) -> Self {
        Self {
            server: server.into(),
            username: username.into(),
            password,
            tls: TlsOptions::default(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
        }
    }
}

/// Turns `https://host:4443`, `https://host:4443/` or `https://host:4443/v3` into the API's base
/// URL `https://host:4443/v3/`.
///
/// A URL with a user name or password in it (`https://user:secret@host`) is refused, and the
/// error shows it with those replaced by `***`: credentials are given separately, and a URL is
/// printed in plans and messages.
pub fn api_base_url(server: &str) -> Result<Url, ClientError> {
    let invalid = |reason: &str| ClientError::InvalidServer {
        server: without_userinfo(server),
        reason: reason.to_owned(),
    };
    if !server.contains("://") {
        // `vbo:4443` would parse with the scheme `vbo`, and `10.0.0.5:4443` not at all.
        return Err(invalid(&format!(
            "it has no scheme: write https://{}",
            server.trim()
        )));
    }
    let mut url = Url::parse(server.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(invalid(
            "the scheme must be https:// (or http:// for a local emulator)",
        ));
    }
    if url.host_str().is_none() {
        return Err(invalid("it has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "it must not hold a user name or password; give the credentials separately",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must not have a query or fragment"));
    }
    let path = url.path().trim_end_matches('/');
    let path = if path.eq_ignore_ascii_case("/v3") || path.to_ascii_lowercase().ends_with("/v3") {
        path[..path.len() - 3].to_owned()
    } else {
        path.to_owned()
    };
    url.set_path(&format!("{path}/v3/"));
    Ok(url)
}

/// `server` with anything between `://` and an `@` of the authority replaced by `***`, so that
/// a URL with credentials in it can be shown in a message.
fn without_userinfo(server: &str) -> String {
    let Some((scheme, rest)) = server.split_once("://") else {
        return server.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***{}", &rest[at..]),
        None => server.to_owned(),
    }
}

/// From this many failed attempts on, each further retry is logged as a warning.
const PERSISTENT_FAILURE_ATTEMPTS: u32 = 3;

/// A logged-in session with the server.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    server: String,
    session: Session,
    retry: RetryPolicy,
}

/// What a request is, for retries, logs and error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Idempotency {
    /// Safe to send again after any failure.
    Idempotent,
    /// Send at most once; only a 401 (refused before processing) is retried, after a refresh.
    Once,
}

impl Client {
    /// Builds the HTTP client and logs in.
    ///
    /// Fails with [`ClientError::LoginRejected`] when the server refuses the credentials, and
    /// with [`ClientError::Tls`] when the certificate cannot be verified.
    pub async fn connect(config: ClientConfig) -> Result<Self, ClientError> {
        // reqwest is built without a bundled crypto provider; install ring once per process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let base = api_base_url(&config.server)?;
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(concat!("vboctl/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none());
        builder = if config.tls.insecure {
            builder.tls_danger_accept_invalid_certs(true)
        } else {
            builder.tls_backend_preconfigured(tls::client_config(&config.tls)?)
        };
        let http = builder
            .build()
            .map_err(|source| ClientError::Build { source })?;
        let server = base.as_str().trim_end_matches('/').to_owned();
        let session = Session::new(config.username, config.password);
        let client = Self {
            http,
            base,
            server,
            session,
            retry: config.retry,
        };
        client.session.login(&client).await?;
        Ok(client)
    }

    /// The API's base URL, for example `https://vbo.example.com:4443/v3`.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Every organization on the server (`GET /v3/Organizations`).
    pub async fn list(&self) -> Result<Vec<Organization>, ClientError> {
        let response = self
            .send(Method::GET, "Organizations", None, Idempotency::Idempotent)
            .await?;
        expect_json(Method::GET, "Organizations", response, &[StatusCode::OK]).await
    }

    /// One organization (`GET /v3/Organizations/{id}`).
    pub async fn get(&self, id: &str) -> Result<Organization, ClientError> {
        let path = format!("Organizations/{id}");
        let response = self
            .send(Method::GET, &path, None, Idempotency::Idempotent)
            .await?;
        expect_json(Method::GET, &path, response, &[StatusCode::OK]).await
    }

    /// Adds an organization (`POST /v3/Organizations`) and returns it as the server stored it.
    ///
    /// Sent once: on a timeout, a dropped connection or a 5xx the outcome is unknown
    /// ([`ClientError::outcome`] says so) and the caller must look before trying again.
    pub async fn create(
        &self,
        body: &OrganizationBody<Secret>,
    ) -> Result<Organization, ClientError> {
        let json = serde_json::to_vec(body).map_err(|source| ClientError::Encode { source })?;
        let response = self
            .send(Method::POST, "Organizations", Some(json), Idempotency::Once)
            .await?;
        expect_json(
            Method::POST,
            "Organizations",
            response,
            &[StatusCode::CREATED, StatusCode::OK],
        )
        .await
    }

    /// Replaces an organization's configuration (`PUT /v3/Organizations/{id}`), secrets included.
    pub async fn update(
        &self,
        id: &str,
        body: &OrganizationBody<Secret>,
    ) -> Result<(), ClientError> {
        let path = format!("Organizations/{id}");
        let json = serde_json::to_vec(body).map_err(|source| ClientError::Encode { source })?;
        let response = self
            .send(Method::PUT, &path, Some(json), Idempotency::Idempotent)
            .await?;
        expect_empty(Method::PUT, &path, response).await
    }

    /// Removes an organization (`DELETE /v3/Organizations/{id}`).
    ///
    /// An organization that is already gone counts as removed when an earlier attempt of this
    /// same call may have removed it.
    pub async fn delete(&self, id: &str) -> Result<(), ClientError> {
        let path = format!("Organizations/{id}");
        let response = self
            .send(Method::DELETE, &path, None, Idempotency::Idempotent)
            .await;
        match response {
            Ok(response) => expect_empty(Method::DELETE, &path, response).await,
            Err(ClientError::Status {
                status: 404,
                after_retry: true,
                ..
            }) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Sends one API request with the session's token, refreshing it when needed and retrying
    /// as `idempotency` allows. Returns the response of the last attempt when its status is a
    /// success; any other final status becomes an error.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        idempotency: Idempotency,
    ) -> Result<reqwest::Response, ClientError> {
        let url = self.url(path)?;
        let started = Instant::now();
        let mut attempt = 0u32;
        let mut stale_token = None;
        loop {
            attempt += 1;
            let token = self.session.token(self, stale_token).await?;
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token.value.expose())
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(body) = &body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let sent = Instant::now();
            let result = request.send().await;
            let error = match result {
                Ok(response) => {
                    let status = response.status();
                    tracing::debug!(
                        "{method} /v3/{path} -> {} ({} ms, attempt {attempt})",
                        status.as_u16(),
                        sent.elapsed().as_millis()
                    );
                    if status == StatusCode::UNAUTHORIZED && stale_token.is_none() {
                        // Refused before processing, so even a create is safe to send again,
                        // once, with a renewed token.
                        stale_token = Some(token.generation);
                        attempt -= 1;
                        continue;
                    }
                    if status.is_success() {
                        return Ok(response);
                    }
                    let retry_after = retry::retry_after(response.headers());
                    let message = error_message(response).await;
                    ClientError::Status {
                        method: method.to_string(),
                        path: format!("/v3/{path}"),
                        status: status.as_u16(),
                        message,
                        retry_after,
                        after_retry: attempt > 1,
                    }
                }
                Err(source) => {
                    tracing::debug!(
                        "{method} /v3/{path} -> transport error ({} ms, attempt {attempt})",
                        sent.elapsed().as_millis()
                    );
                    ClientError::from_transport(&method, path, &self.server, source)
                }
            };
            let may_retry = idempotency == Idempotency::Idempotent && error.is_transient();
            match self
                .retry
                .delay(attempt, started.elapsed(), error.retry_after())
            {
                Some(delay) if may_retry => {
                    // A retry or two is routine; more means the server is struggling, and
                    // whoever waits should know why nothing happens.
                    if attempt >= PERSISTENT_FAILURE_ATTEMPTS {
                        tracing::warn!("still retrying after attempt {attempt} failed: {error}");
                    } else {
                        tracing::debug!(
                            "{method} /v3/{path}: retrying in {} ms after: {error}",
                            delay.as_millis()
                        );
                    }
                    tokio::time::sleep(delay).await;
                }
                _ => return Err(error),
            }
        }
    }

    fn url(&self, path: &str) -> Result<Url, ClientError> {
        self.base
            .join(path)
            .map_err(|e| ClientError::InvalidServer {
                server: self.server.clone(),
                reason: e.to_string(),
            })
    }
}

/// Reads a JSON body from a response whose status must be one of `expected`.
async fn expect_json<T: DeserializeOwned>(
    method: Method,
    path: &str,
    response: reqwest::Response,
    expected: &[StatusCode],
) -> Result<T, ClientError> {
    let status = response.status();
    let unexpected = |detail: String| ClientError::UnexpectedResponse {
        method: method.to_string(),
        path: format!("/v3/{path}"),
        status: status.as_u16(),
        detail,
    };
    if !expected.contains(&status) {
        return Err(unexpected(format!(
            "expected status {}",
            list_statuses(expected)
        )));
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| unexpected(e.to_string()))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| unexpected(format!("the body is not what v3 returns: {e}")))
}

/// Accepts 200 or 204, with or without a body.
async fn expect_empty(
    method: Method,
    path: &str,
    response: reqwest::Response,
) -> Result<(), ClientError> {
    let status = response.status();
    if status == StatusCode::OK || status == StatusCode::NO_CONTENT {
        // Drain the body so the connection can be reused.
        let _ = response.bytes().await;
        Ok(())
    } else {
        Err(ClientError::UnexpectedResponse {
            method: method.to_string(),
            path: format!("/v3/{path}"),
            status: status.as_u16(),
            detail: "expected status 200 or 204".to_owned(),
        })
    }
}

fn list_statuses(statuses: &[StatusCode]) -> String {
    statuses
        .iter()
        .map(|s| s.as_u16().to_string())
        .collect::<Vec<_>>()
        .join(" or ")
}

/// The server's `{"message": ...}`, or a short excerpt of whatever it sent instead, with
/// control characters escaped so that it can neither break a line of output nor drive a
/// terminal.
async fn error_message(response: reqwest::Response) -> String {
    vbo_model::text::escape_controls(&raw_error_message(response).await).into_owned()
}

async fn raw_error_message(response: reqwest::Response) -> String {
    let bytes = response.bytes().await.unwrap_or_default();
    if let Ok(error) = serde_json::from_slice::<ApiError>(&bytes) {
        return error.message;
    }
    let text = String::from_utf8_lossy(&bytes);
    let text = text.trim();
    if text.is_empty() {
        return "(no message)".to_owned();
    }
    let excerpt: String = text.chars().take(200).collect();
    if excerpt.len() < text.len() {
        format!("{excerpt}…")
    } else {
        excerpt
    }
}
