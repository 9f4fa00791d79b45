//! Client of the Veeam Backup for Microsoft 365 REST API, versions v3, v6, v7 and v8.
//!
//! [`Client::connect`] finds the newest API version the server serves (or uses the one asked
//! for), logs in with the password grant and keeps the session alive: it refreshes
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
mod read;
mod retry;
pub mod tls;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode, Url};
use vbo_model::{Dialect, Organization, OrganizationBody, RestApiVersion, Secret};

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
    /// The server, for example `https://vbo.example.com:4443`. A trailing version (`/v8`) is
    /// accepted and ignored: [`api_version`](Self::api_version) decides.
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
    /// Which REST API version to speak.
    pub api_version: ApiVersionChoice,
}

/// Which REST API version [`Client::connect`] speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ApiVersionChoice {
    /// The newest version the server serves, found at login.
    #[default]
    Auto,
    /// This version, or fail naming the versions the server does serve.
    Exactly(RestApiVersion),
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
            api_version: ApiVersionChoice::Auto,
        }
    }
}

/// Turns `https://host:4443`, `https://host:4443/` or `https://host:4443/v8` into the server's
/// root URL `https://host:4443/`, under which each API version has its prefix.
///
/// A URL with a user name or password in it (`https://user:secret@host`) is refused, and the
/// error shows it with those replaced by `***`: credentials are given separately, and a URL is
/// printed in plans and messages.
pub fn server_url(server: &str) -> Result<Url, ClientError> {
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
    let path = match path.rsplit_once('/') {
        Some((parent, last)) if last.parse::<RestApiVersion>().is_ok() => parent.to_owned(),
        _ => path.to_owned(),
    };
    url.set_path(&format!("{path}/"));
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

/// A logged-in session with the server, in the dialect of one API version.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    root: Url,
    server: String,
    dialect: &'static Dialect,
    session: Session,
    retry: RetryPolicy,
    /// How many organizations the server had at the last list, counting this client's own
    /// creates and deletes since: how many pages the next list asks for at once.
    known_count: AtomicUsize,
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
    /// Builds the HTTP client, settles the API version and logs in.
    ///
    /// With [`ApiVersionChoice::Auto`] the login itself finds the version: it is tried at each
    /// version's token endpoint, newest first, and a server that does not serve a version
    /// answers 404 there. So a server that serves v8 costs one request, as a login always does.
    ///
    /// Fails with [`ClientError::LoginRejected`] when the server refuses the credentials, with
    /// [`ClientError::Tls`] when the certificate cannot be verified, and with
    /// [`ClientError::VersionNotServed`] or [`ClientError::NoKnownVersion`] when the server
    /// does not speak what was asked.
    pub async fn connect(config: ClientConfig) -> Result<Self, ClientError> {
        // reqwest is built without a bundled crypto provider; install ring once per process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let root = server_url(&config.server)?;
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
        let server = root.as_str().trim_end_matches('/').to_owned();
        let candidates: Vec<RestApiVersion> = match config.api_version {
            ApiVersionChoice::Auto => RestApiVersion::NEWEST_FIRST.to_vec(),
            ApiVersionChoice::Exactly(version) => vec![version],
        };
        for version in candidates {
            let client = Self {
                http: http.clone(),
                root: root.clone(),
                server: server.clone(),
                dialect: version.dialect(),
                session: Session::new(config.username.clone(), config.password.clone()),
                retry: config.retry,
                known_count: AtomicUsize::new(0),
            };
            match client.session.login(&client).await {
                Ok(()) => {
                    tracing::debug!("speaking REST API {version} with {server}");
                    return Ok(client);
                }
                Err(error) if error.status() == Some(404) => {
                    tracing::debug!("{server} does not serve REST API {version}");
                }
                Err(error) => return Err(error),
            }
        }
        match config.api_version {
            ApiVersionChoice::Auto => Err(ClientError::NoKnownVersion { server }),
            ApiVersionChoice::Exactly(requested) => {
                let served = served_versions(&http, &root).await;
                Err(ClientError::VersionNotServed {
                    server,
                    requested,
                    served,
                })
            }
        }
    }

    /// The server's root URL, for example `https://vbo.example.com:4443`.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The REST API version this client speaks.
    pub fn api_version(&self) -> RestApiVersion {
        self.dialect.version
    }

    /// Every organization on the server (`GET /Organizations`), page after page where the API
    /// version pages the list. See [`read::list`](crate::read) for how a list that changes
    /// while it is read is handled.
    ///
    /// The client remembers how many organizations the last list found, counting its own
    /// creates and deletes since, and asks for that many pages at once the next time.
    pub async fn list(&self) -> Result<Vec<Organization>, ClientError> {
        let organizations = read::list(self, self.known_count.load(Ordering::Relaxed)).await?;
        self.known_count
            .store(organizations.len(), Ordering::Relaxed);
        Ok(organizations)
    }

    /// One organization (`GET /Organizations/{id}`).
    pub async fn get(&self, id: &str) -> Result<Organization, ClientError> {
        let path = format!("Organizations/{id}");
        let response = self
            .send(Method::GET, &path, None, Idempotency::Idempotent)
            .await?;
        let bytes = self
            .expect_body(Method::GET, &path, response, &[StatusCode::OK])
            .await?;
        read::organization(&bytes, self.dialect)
            .map_err(|detail| self.unexpected(Method::GET, &path, 200, detail))
    }

    /// Adds an organization (`POST /Organizations`) and returns it as the server stored it.
    ///
    /// Sent once: on a timeout, a dropped connection or a 5xx the outcome is unknown
    /// ([`ClientError::outcome`] says so) and the caller must look before trying again.
    pub async fn create(
        &self,
        body: &OrganizationBody<Secret>,
    ) -> Result<Organization, ClientError> {
        let json = self.encode(body)?;
        let response = self
            .send(Method::POST, "Organizations", Some(json), Idempotency::Once)
            .await?;
        let status = response.status().as_u16();
        let bytes = self
            .expect_body(
                Method::POST,
                "Organizations",
                response,
                &[StatusCode::CREATED, StatusCode::OK],
            )
            .await?;
        self.known_count.fetch_add(1, Ordering::Relaxed);
        read::organization(&bytes, self.dialect)
            .map_err(|detail| self.unexpected(Method::POST, "Organizations", status, detail))
    }

    /// Replaces an organization's configuration (`PUT /Organizations/{id}`), secrets included.
    pub async fn update(
        &self,
        id: &str,
        body: &OrganizationBody<Secret>,
    ) -> Result<(), ClientError> {
        let path = format!("Organizations/{id}");
        let json = self.encode(body)?;
        let response = self
            .send(Method::PUT, &path, Some(json), Idempotency::Idempotent)
            .await?;
        self.expect_empty(Method::PUT, &path, response).await
    }

    /// Removes an organization (`DELETE /Organizations/{id}`).
    ///
    /// An organization that is already gone counts as removed when an earlier attempt of this
    /// same call may have removed it.
    pub async fn delete(&self, id: &str) -> Result<(), ClientError> {
        let path = format!("Organizations/{id}");
        let response = self
            .send(Method::DELETE, &path, None, Idempotency::Idempotent)
            .await;
        let deleted = match response {
            Ok(response) => self.expect_empty(Method::DELETE, &path, response).await,
            Err(ClientError::Status {
                status: 404,
                after_retry: true,
                ..
            }) => Ok(()),
            Err(error) => Err(error),
        };
        if deleted.is_ok() {
            let _ = self
                .known_count
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |count| {
                    Some(count.saturating_sub(1))
                });
        }
        deleted
    }

    /// The body as this API version spells it: canonical JSON respelled by the dialect.
    fn encode(&self, body: &OrganizationBody<Secret>) -> Result<Vec<u8>, ClientError> {
        let mut value =
            serde_json::to_value(body).map_err(|source| ClientError::Encode { source })?;
        self.dialect.to_wire(&mut value);
        serde_json::to_vec(&value).map_err(|source| ClientError::Encode { source })
    }

    /// `/v8/Organizations`: the path as messages show it.
    fn shown(&self, path: &str) -> String {
        format!("/{}/{path}", self.dialect.prefix)
    }

    fn unexpected(&self, method: Method, path: &str, status: u16, detail: String) -> ClientError {
        ClientError::UnexpectedResponse {
            method: method.to_string(),
            path: self.shown(path),
            status,
            detail,
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
                        "{method} {} -> {} ({} ms, attempt {attempt})",
                        self.shown(path),
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
                        path: self.shown(path),
                        status: status.as_u16(),
                        message,
                        retry_after,
                        after_retry: attempt > 1,
                    }
                }
                Err(source) => {
                    tracing::debug!(
                        "{method} {} -> transport error ({} ms, attempt {attempt})",
                        self.shown(path),
                        sent.elapsed().as_millis()
                    );
                    ClientError::from_transport(&method, &self.shown(path), &self.server, source)
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
                            "{method} {}: retrying in {} ms after: {error}",
                            self.shown(path),
                            delay.as_millis()
                        );
                    }
                    tokio::time::sleep(delay).await;
                }
                _ => return Err(error),
            }
        }
    }

    /// The URL of `path` under this version's prefix; `path` may carry a query.
    fn url(&self, path: &str) -> Result<Url, ClientError> {
        self.root
            .join(&format!("{}/{path}", self.dialect.prefix))
            .map_err(|e| ClientError::InvalidServer {
                server: self.server.clone(),
                reason: e.to_string(),
            })
    }

    /// The body of a response whose status must be one of `expected`.
    async fn expect_body(
        &self,
        method: Method,
        path: &str,
        response: reqwest::Response,
        expected: &[StatusCode],
    ) -> Result<bytes::Bytes, ClientError> {
        let status = response.status();
        if !expected.contains(&status) {
            return Err(self.unexpected(
                method,
                path,
                status.as_u16(),
                format!("expected status {}", list_statuses(expected)),
            ));
        }
        response
            .bytes()
            .await
            .map_err(|e| self.unexpected(method, path, status.as_u16(), e.to_string()))
    }

    /// Accepts 200 or 204, with or without a body.
    async fn expect_empty(
        &self,
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
            Err(self.unexpected(
                method,
                path,
                status.as_u16(),
                "expected status 200 or 204".to_owned(),
            ))
        }
    }
}

/// The versions a server serves, by asking each for its organizations without a token: a
/// served version refuses (401), one not served is not found (404). Only used to explain a
/// refusal, so any other answer counts as not served.
async fn served_versions(http: &reqwest::Client, root: &Url) -> Vec<RestApiVersion> {
    let mut served = Vec::new();
    for version in RestApiVersion::NEWEST_FIRST {
        let Ok(url) = root.join(&format!("{version}/Organizations")) else {
            continue;
        };
        if let Ok(response) = http.get(url).send().await
            && matches!(response.status().as_u16(), 401 | 403 | 200)
        {
            served.push(version);
        }
    }
    served
}

fn list_statuses(statuses: &[StatusCode]) -> String {
    statuses
        .iter()
        .map(|s| s.as_u16().to_string())
        .collect::<Vec<_>>()
        .join(" or ")
}

/// The server's message from an error answer, in one line, with control characters escaped so
/// that it can neither break a line of output nor drive a terminal.
async fn error_message(response: reqwest::Response) -> String {
    let bytes = response.bytes().await.unwrap_or_default();
    vbo_model::text::escape_controls(&read::error_message(&bytes)).into_owned()
}
