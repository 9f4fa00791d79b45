//! The HTTP side: starting and stopping the server, routing, faults, and the handlers.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_server::ConnectionShutdown;
use serde::Serialize;
use serde_json::Value;
use tokio::task::JoinHandle;
use vbo_model::wire::{ApiError, ApplicationCertificate};
use vbo_model::{Dialect, OrganizationBody, RestApiVersion, Secret};

use crate::auth::Tokens;
use crate::faults::{AfterCommit, Before, FaultInjector};
use crate::read_body::parse_body;
use crate::stats::{Stats, bump};
use crate::store::{Store, StoreError, StoredOrganization};
use crate::{EmulatorConfig, EmulatorError, Faults, RequestCounts, seed, tls, validate};

/// Largest request body read, as the real server's default limits go: 4 MiB.
const BODY_LIMIT: usize = 4 * 1024 * 1024;

/// How long [`EmulatorHandle::shutdown`] lets requests in flight finish.
const GRACE: Duration = Duration::from_secs(5);

/// The answer the real server gives to a request without a valid bearer token.
pub(crate) const UNAUTHORIZED: &str = "Authorization has been denied for this request.";

/// Starts emulators. See [`Emulator::start`].
#[derive(Debug)]
pub enum Emulator {}

impl Emulator {
    /// Binds `config.listen`, loads the state file and seeds organizations if asked, and
    /// serves in a background task until [`EmulatorHandle::shutdown`] is called or the handle is
    /// dropped.
    ///
    /// Must be called within a Tokio runtime.
    ///
    /// ```
    /// use vbo_emulator::{Emulator, EmulatorConfig};
    ///
    /// # async fn demo() -> Result<(), vbo_emulator::EmulatorError> {
    /// let emulator = Emulator::start(EmulatorConfig::default()).await?;
    /// let url = format!("{}/v3/Token", emulator.base_url()); // http://127.0.0.1:PORT/v3/Token
    /// # let _ = url;
    /// emulator.shutdown().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start(config: EmulatorConfig) -> Result<EmulatorHandle, EmulatorError> {
        let faults = FaultInjector::new(config.faults.clone())?;
        let tls = tls::setup(&config.tls, config.listen)?;
        let store = Store::open(config.state_file.clone())?;
        if config.seed_orgs > 0 {
            store.seed(seed::organizations(config.seed_orgs)).await?;
        }

        let bind = |source| EmulatorError::Bind {
            addr: config.listen,
            source,
        };
        let listener = std::net::TcpListener::bind(config.listen).map_err(bind)?;
        let local_addr = listener.local_addr().map_err(bind)?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let host = reachable(local_addr);
        let base_url = format!("{scheme}://{host}");

        let app = Arc::new(App {
            versions: config.api_versions.clone(),
            page_limit: config.page_limit,
            store,
            tokens: Tokens::new(config.users, config.token_ttl),
            faults,
            stats: Stats::default(),
            scheme,
            host,
        });
        let service = Router::new()
            .fallback(dispatch)
            .with_state(Arc::clone(&app))
            .into_make_service();
        let server = axum_server::Handle::new();
        let trust_pem = tls.as_ref().map(|setup| setup.trust_pem.clone());
        // HTTP/1.1 only, so that a reset fault closes a connection, as a crashed server would.
        let task = match tls {
            None => {
                let listener = axum_server::from_tcp(listener).map_err(bind)?;
                tokio::spawn(listener.handle(server.clone()).http1_only().serve(service))
            }
            Some(setup) => {
                let config = axum_server::tls_rustls::RustlsConfig::from_config(setup.config);
                let listener = axum_server::from_tcp_rustls(listener, config).map_err(bind)?;
                tokio::spawn(listener.handle(server.clone()).http1_only().serve(service))
            }
        };
        tracing::debug!(%base_url, "emulator started");
        Ok(EmulatorHandle {
            base_url,
            local_addr,
            trust_pem,
            app,
            server,
            task: Some(task),
        })
    }
}

/// A running emulator. Dropping it stops the server at once; [`shutdown`](Self::shutdown)
/// lets requests in flight finish first.
#[derive(Debug)]
pub struct EmulatorHandle {
    base_url: String,
    local_addr: SocketAddr,
    trust_pem: Option<String>,
    app: Arc<App>,
    server: axum_server::Handle<SocketAddr>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl EmulatorHandle {
    /// Scheme, host and port to prefix to `/v3/...`, for example `https://127.0.0.1:4443`. An
    /// unspecified listening address (`0.0.0.0`) is given as the loopback address.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The REST API versions served, each under its own prefix (`/v8/`).
    pub fn api_versions(&self) -> &[RestApiVersion] {
        &self.app.versions
    }

    /// The address the server listens on, with the port the system chose.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The PEM certificate a client should trust when the emulator speaks HTTPS: the generated
    /// self-signed certificate, or the given certificate chain. `None` over plain HTTP.
    pub fn ca_cert_pem(&self) -> Option<&str> {
        self.trust_pem.as_deref()
    }

    /// The organizations held right now, in creation order, with their secrets.
    pub fn organizations(&self) -> Vec<StoredOrganization> {
        self.app.store.list()
    }

    /// What was asked and what was done so far.
    pub fn request_counts(&self) -> RequestCounts {
        self.app.stats.snapshot()
    }

    /// Replaces the faults in force from the next request on, reseeding their draws; the
    /// faults stay as they were if `faults` is invalid. Tests use it to set the server up
    /// without faults, then turn them on.
    pub fn set_faults(&self, faults: Faults) -> Result<(), EmulatorError> {
        self.app.faults.set(faults)
    }

    /// Stops accepting connections, lets requests in flight finish (up to five seconds), and
    /// waits for the server to stop.
    pub async fn shutdown(mut self) -> Result<(), EmulatorError> {
        self.server.graceful_shutdown(Some(GRACE));
        let Some(task) = self.task.take() else {
            return Ok(());
        };
        match task.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(source)) => Err(EmulatorError::Serve { source }),
            Err(join) => Err(EmulatorError::Serve {
                source: std::io::Error::other(join),
            }),
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        if self.task.is_some() {
            self.server.shutdown();
        }
    }
}

/// Host and port a client can reach: the loopback address stands in for an unspecified one.
fn reachable(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port()).to_string()
}

/// Everything the handlers share.
struct App {
    /// The API versions served; requests under any other prefix are not found.
    versions: Vec<RestApiVersion>,
    /// The most results a page holds, below the version's maximum.
    page_limit: Option<u32>,
    store: Store,
    tokens: Tokens,
    faults: FaultInjector,
    stats: Stats,
    scheme: &'static str,
    /// `host:port` for links when a request names no host.
    host: String,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("scheme", &self.scheme)
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

/// What to do with a request.
enum Outcome {
    /// Send this response.
    Answer(Response),
    /// Close the connection without answering.
    Drop,
}

impl From<Response> for Outcome {
    fn from(response: Response) -> Self {
        Outcome::Answer(response)
    }
}

/// What a path names, matched without regard to case as the real server does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resource<'a> {
    Token,
    Organizations,
    Organization(&'a str),
    Unknown,
}

impl<'a> Resource<'a> {
    /// The API version a path is under and what it names.
    fn parse(path: &'a str) -> (Option<RestApiVersion>, Self) {
        let mut segments = path.split('/').filter(|segment| !segment.is_empty());
        let is = |segment: Option<&str>, name: &str| {
            segment.is_some_and(|segment| segment.eq_ignore_ascii_case(name))
        };
        let Some(version) = segments
            .next()
            .and_then(|prefix| prefix.parse::<RestApiVersion>().ok())
        else {
            return (None, Resource::Unknown);
        };
        let collection = segments.next();
        let id = segments.next();
        if segments.next().is_some() {
            return (Some(version), Resource::Unknown);
        }
        let resource = match id {
            None if is(collection, "token") => Resource::Token,
            None if is(collection, "organizations") => Resource::Organizations,
            Some(id) if is(collection, "organizations") => Resource::Organization(id),
            _ => Resource::Unknown,
        };
        (Some(version), resource)
    }

    /// The methods the resource answers.
    fn allowed(self) -> &'static [Method] {
        match self {
            Resource::Token => &[Method::POST],
            Resource::Organizations => &[Method::GET, Method::POST],
            Resource::Organization(_) => &[Method::GET, Method::PUT, Method::DELETE],
            Resource::Unknown => &[],
        }
    }

    /// The name [`RequestCounts`] counts the request under, for example
    /// `GET /v8/Organizations/{id}`.
    fn route(self, version: Option<RestApiVersion>, method: &Method) -> String {
        let Some(version) = version else {
            return "other".to_owned();
        };
        let dialect = version.dialect();
        let path = match (self, method.as_str()) {
            (Resource::Token, "POST") => dialect.token_path,
            (Resource::Organizations, "GET" | "POST") => "Organizations",
            (Resource::Organization(_), "GET" | "PUT" | "DELETE") => "Organizations/{id}",
            _ => return "other".to_owned(),
        };
        format!("{method} /{version}/{path}")
    }
}

/// Every request comes here: count it, delay it, fault it, route it, log it.
async fn dispatch(State(app): State<Arc<App>>, request: Request) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let connection = request.extensions().get::<ConnectionShutdown>().cloned();
    let (version, _) = Resource::parse(&path);
    let outcome = app.handle(request).await;
    let duration_ms = started.elapsed().as_millis();
    match outcome {
        Outcome::Answer(response) => {
            let response = match version {
                Some(version) if version.dialect().error_codes => with_error_code(response).await,
                _ => response,
            };
            let status = response.status().as_u16();
            tracing::info!(%method, %path, status, duration_ms, "request");
            response
        }
        Outcome::Drop => {
            tracing::info!(%method, %path, status = "dropped", duration_ms, "request");
            if let Some(connection) = connection {
                // Closing the connection drops this future with it: nothing is ever sent.
                connection.shutdown();
                return std::future::pending().await;
            }
            // Served by something other than axum-server: there is no connection to close.
            message(StatusCode::INTERNAL_SERVER_ERROR, "An error has occurred.")
        }
    }
}

/// Waits `latency`, as precisely as the operating system sleeps. tokio's timer counts whole
/// milliseconds and rounds up, which made a 20 ms latency about 21 ms: the timer waits all but
/// the last two milliseconds, and a thread of the blocking pool sleeps the rest.
async fn wait(latency: Duration) {
    const TIMER_SLACK: Duration = Duration::from_millis(2);
    let deadline = Instant::now() + latency;
    if latency > TIMER_SLACK {
        tokio::time::sleep(latency - TIMER_SLACK).await;
    }
    let rest = deadline.saturating_duration_since(Instant::now());
    if !rest.is_zero() {
        let _ = tokio::task::spawn_blocking(move || std::thread::sleep(rest)).await;
    }
}

impl App {
    async fn handle(&self, request: Request) -> Outcome {
        let (parts, body) = request.into_parts();
        let (version, resource) = Resource::parse(parts.uri.path());
        self.stats.request(resource.route(version, &parts.method));
        let kind = match resource {
            Resource::Token => "token",
            _ => match parts.method {
                Method::POST => "post",
                Method::PUT => "put",
                Method::DELETE => "delete",
                _ => "get",
            },
        };
        let latency = self.faults.latency(kind);
        if !latency.is_zero() {
            bump(&self.stats.delayed);
            wait(latency).await;
        }
        let served = version.filter(|version| self.versions.contains(version));
        let (Some(version), resource) = (served, resource) else {
            return not_routed(parts.uri.path()).into();
        };
        let dialect = version.dialect();
        match resource {
            Resource::Unknown => return not_routed(parts.uri.path()).into(),
            _ if !resource.allowed().contains(&parts.method) => {
                return method_not_allowed(&parts.method, resource.allowed()).into();
            }
            Resource::Token => return self.token(body, dialect).await.into(),
            Resource::Organizations | Resource::Organization(_) => {}
        }

        match self.faults.before() {
            Before::Pass => {}
            Before::Reset => {
                bump(&self.stats.resets);
                return Outcome::Drop;
            }
            Before::Error => {
                bump(&self.stats.errors);
                return message(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The service is temporarily unavailable.",
                )
                .into();
            }
            Before::Throttle => {
                bump(&self.stats.throttles);
                let mut response = message(StatusCode::TOO_MANY_REQUESTS, "Quota Exceeded");
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                return response.into();
            }
        }

        let authorization = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok());
        if !self.tokens.authorized(authorization) {
            let mut response = message(StatusCode::UNAUTHORIZED, UNAUTHORIZED);
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return response.into();
        }

        let base_url = self.base_url(&parts);
        match (parts.method.clone(), resource) {
            (Method::GET, Resource::Organizations) => self.list(&parts, dialect, &base_url).into(),
            (Method::POST, Resource::Organizations) => {
                self.create(&parts, body, dialect, &base_url).await
            }
            (Method::GET, Resource::Organization(id)) => match self.store.get(id) {
                Some(organization) => json(
                    StatusCode::OK,
                    &organization.representation(dialect, &base_url),
                )
                .into(),
                None => not_found(id).into(),
            },
            (Method::PUT, Resource::Organization(id)) => {
                self.replace(&parts, body, dialect, id).await
            }
            (Method::DELETE, Resource::Organization(id)) => match self.store.delete(id).await {
                Ok(()) => {
                    bump(&self.stats.deleted);
                    self.after_commit(status_only(dialect.deleted_status)).await
                }
                Err(error) => store_error(error, id).into(),
            },
            _ => method_not_allowed(&parts.method, resource.allowed()).into(),
        }
    }

    async fn token(&self, body: Body, dialect: &Dialect) -> Response {
        let bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
            Ok(bytes) => bytes,
            Err(_) => return message(StatusCode::BAD_REQUEST, "The request body is too large."),
        };
        if dialect.disable_antiforgery && !disables_antiforgery(&bytes) {
            // A browser would carry the antiforgery cookie; a client without one must ask to
            // do without it, or every later request fails.
            return message(
                StatusCode::BAD_REQUEST,
                "The antiforgery token is missing: send disable_antiforgery_token=true.",
            );
        }
        let granted = self.tokens.grant(&bytes);
        self.stats
            .token(granted.as_ref().ok().map(|(grant, _)| *grant));
        let mut response = match granted {
            Ok((_, token)) => json(StatusCode::OK, &token),
            // v3 answers in OAuth's shape; later versions with their `{message}` body.
            Err(error) if dialect.version == RestApiVersion::V3 => {
                json(StatusCode::BAD_REQUEST, &error)
            }
            Err(error) => message(StatusCode::BAD_REQUEST, error.error_description),
        };
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        response
    }

    /// `GET /Organizations`: a plain array, or for a version that pages it the page that
    /// `offset` and `limit` ask for, with `first`, `prev` and `next` links.
    fn list(&self, parts: &Parts, dialect: &Dialect, base_url: &str) -> Response {
        let represent = |organizations: Vec<StoredOrganization>| -> Vec<Value> {
            organizations
                .iter()
                .map(|organization| organization.representation(dialect, base_url))
                .collect()
        };
        if !dialect.paged_list {
            let (organizations, _, _) = self.store.snapshot(0..usize::MAX);
            return json(StatusCode::OK, &represent(organizations));
        }
        let query = parts.uri.query().unwrap_or_default();
        let mut numbers = ["offset", "limit"].map(|name| {
            query_value(query, name).map(|text| text.parse::<u64>().map_err(|_| (name, text)))
        });
        if let Some(Err((name, text))) = numbers.iter().flatten().find(|n| n.is_err()).cloned() {
            return message(
                StatusCode::BAD_REQUEST,
                format!("The value '{text}' is not valid for {name}."),
            );
        }
        let [offset, limit] = numbers.each_mut().map(|n| n.take().and_then(Result::ok));
        let offset = offset.unwrap_or(0);
        let max_page = self
            .page_limit
            .map_or(dialect.max_page, |limit| limit.clamp(1, dialect.max_page));
        let limit = limit
            .unwrap_or(u64::from(dialect.default_page))
            .clamp(1, u64::from(max_page));
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let (organizations, total, set_id) = self
            .store
            .snapshot(start..start.saturating_add(usize::try_from(limit).unwrap_or(usize::MAX)));
        let end = start.min(total) + organizations.len();
        let path = format!("/{}/Organizations", dialect.prefix);
        let link = |offset: u64| serde_json::json!({"href": format!("{path}?offset={offset}&limit={limit}")});
        let mut links = serde_json::Map::new();
        links.insert("self".to_owned(), link(offset));
        if offset > 0 || end < total {
            links.insert("first".to_owned(), link(0));
        }
        if offset > 0 {
            links.insert("prev".to_owned(), link(offset.saturating_sub(limit)));
        }
        if end < total {
            links.insert("next".to_owned(), link(end as u64));
        }
        let page = vbo_model::wire::Page {
            offset,
            limit,
            set_id: Some(set_id),
            results: represent(organizations),
            links: Some(links),
        };
        json(StatusCode::OK, &page)
    }

    async fn create(
        &self,
        parts: &Parts,
        body: Body,
        dialect: &Dialect,
        base_url: &str,
    ) -> Outcome {
        let (name, body) = match read_organization(parts, body, dialect).await {
            Ok(read) => read,
            Err(response) => return response.into(),
        };
        if let Some(refusal) = validate::refused_authentication(&body, dialect) {
            return message(StatusCode::BAD_REQUEST, refusal).into();
        }
        match self.store.create(name, body).await {
            Ok(organization) => {
                bump(&self.stats.created);
                let representation = organization.representation(dialect, base_url);
                let status = StatusCode::from_u16(dialect.created_status).unwrap_or(StatusCode::OK);
                let mut response = json(status, &representation);
                if let Some(href) = representation
                    .pointer("/_links/self/href")
                    .and_then(Value::as_str)
                    && let Ok(location) = HeaderValue::from_str(href)
                {
                    response.headers_mut().insert(header::LOCATION, location);
                }
                self.after_commit(response).await
            }
            Err(error) => store_error(error, "").into(),
        }
    }

    async fn replace(&self, parts: &Parts, body: Body, dialect: &Dialect, id: &str) -> Outcome {
        let (name, body) = match read_organization(parts, body, dialect).await {
            Ok(read) => read,
            Err(response) => return response.into(),
        };
        match self.store.replace(id, name, body).await {
            Ok(_) => {
                bump(&self.stats.updated);
                self.after_commit(StatusCode::NO_CONTENT.into_response())
                    .await
            }
            Err(error) => store_error(error, id).into(),
        }
    }

    /// A change was made: answer as asked, or lose or delay the answer on purpose.
    async fn after_commit(&self, response: Response) -> Outcome {
        match self.faults.after_commit() {
            AfterCommit::Answer => response.into(),
            AfterCommit::Delay(delay) => {
                bump(&self.stats.slow_answers);
                tokio::time::sleep(delay).await;
                response.into()
            }
            AfterCommit::Fail => {
                bump(&self.stats.commit_then_fail);
                message(StatusCode::INTERNAL_SERVER_ERROR, "An error has occurred.").into()
            }
            AfterCommit::Drop => {
                bump(&self.stats.commit_then_fail);
                Outcome::Drop
            }
        }
    }

    /// `scheme://host[:port]` as the client addressed the server, for absolute links.
    fn base_url(&self, parts: &Parts) -> String {
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .filter(|host| !host.is_empty())
            .map(str::to_owned)
            .or_else(|| parts.uri.authority().map(ToString::to_string))
            .unwrap_or_else(|| self.host.clone());
        format!("{}://{host}", self.scheme)
    }
}

/// Reads and checks a POST or PUT body as the server of `dialect` does: its media type, its
/// JSON, its region names, and what its type requires. What the version does not know is
/// dropped, as the real server ignores unknown properties. Returns the organization's name and
/// the body, or the 4xx response to send.
async fn read_organization(
    parts: &Parts,
    body: Body,
    dialect: &Dialect,
) -> Result<(String, OrganizationBody<Secret>), Response> {
    let media_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(str::trim)
        .unwrap_or_default();
    if !["application/json", "text/json"]
        .iter()
        .any(|accepted| accepted.eq_ignore_ascii_case(media_type))
    {
        return Err(message(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "The request entity's media type is not supported for this resource: send \
             application/json.",
        ));
    }
    let bytes = axum::body::to_bytes(body, BODY_LIMIT).await.map_err(|_| {
        message(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The request body is too large.",
        )
    })?;
    let body =
        parse_body(&bytes).map_err(|error| message(StatusCode::BAD_REQUEST, error.to_string()))?;
    if let Some(region) = foreign_region(&bytes, dialect) {
        return Err(message(
            StatusCode::BAD_REQUEST,
            format!(
                "Error converting value \"{region}\" to type 'Region': {} names regions {}.",
                dialect.version,
                dialect
                    .regions
                    .iter()
                    .map(|(_, name)| *name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let body = certificate_as_read(without_unsupported(body, dialect), dialect);
    let name =
        validate::check(&body, dialect).map_err(|text| message(StatusCode::BAD_REQUEST, text))?;
    Ok((name, body))
}

/// A `region` value anywhere in the body that this version does not name (v8 does not read
/// v3's `USgovCommunity`, nor v3 v8's `USGovernment`).
fn foreign_region(bytes: &[u8], dialect: &Dialect) -> Option<String> {
    fn find(value: &Value, dialect: &Dialect) -> Option<String> {
        match value {
            Value::Object(members) => members.iter().find_map(|(name, member)| {
                let foreign = name.eq_ignore_ascii_case("region")
                    && member.as_str().is_some_and(|text| {
                        !dialect
                            .regions
                            .iter()
                            .any(|(_, known)| known.eq_ignore_ascii_case(text.trim()))
                    });
                if foreign {
                    member.as_str().map(str::to_owned)
                } else {
                    find(member, dialect)
                }
            }),
            _ => None,
        }
    }
    find(&serde_json::from_slice(bytes).ok()?, dialect)
}

/// The body without what `dialect` does not take.
fn without_unsupported(
    body: OrganizationBody<Secret>,
    dialect: &Dialect,
) -> OrganizationBody<Secret> {
    let Ok(mut value) = serde_json::to_value(&body) else {
        return body;
    };
    dialect.drop_unsupported(body.kind, &mut value);
    serde_json::from_value(value).unwrap_or(body)
}

/// The body with `applicationCertificate` read as `dialect` reads it. On the wire both forms
/// are a string, which the body's reader takes for v3's path on the server; from v6 on the
/// string is the certificate itself, a secret that no version may report back (v3 reports a
/// path, so a certificate kept as one would be shown to every v3 client).
fn certificate_as_read(
    mut body: OrganizationBody<Secret>,
    dialect: &Dialect,
) -> OrganizationBody<Secret> {
    if dialect.certificate == vbo_model::api::CertificateEncoding::Base64Content {
        for settings in [
            body.exchange_online_settings.as_mut(),
            body.share_point_online_settings.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            settings.application_certificate =
                settings
                    .application_certificate
                    .take()
                    .map(|certificate| match certificate {
                        ApplicationCertificate::ServerPath(content) => {
                            ApplicationCertificate::Content(Secret::new(content))
                        }
                        content => content,
                    });
        }
    }
    body
}

/// The answer to a path that names no API version the emulator serves.
fn not_routed(path: &str) -> Response {
    message(
        StatusCode::NOT_FOUND,
        format!("No HTTP resource was found that matches the request URI '{path}'."),
    )
}

/// A response with `status` and no body.
fn status_only(status: u16) -> Response {
    StatusCode::from_u16(status)
        .unwrap_or(StatusCode::NO_CONTENT)
        .into_response()
}

/// Whether a token request asks to do without the antiforgery token
/// (`disable_antiforgery_token=true`, the name and value in any case).
fn disables_antiforgery(form: &[u8]) -> bool {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(form).is_ok_and(|fields| {
        fields.iter().any(|(key, value)| {
            key.eq_ignore_ascii_case("disable_antiforgery_token")
                && value.trim().eq_ignore_ascii_case("true")
        })
    })
}

/// The value of `name` in a query string, names compared without regard to case.
fn query_value<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// Adds the `errorCode` later versions put beside an error's `message`.
async fn with_error_code(response: Response) -> Response {
    let code = match response.status().as_u16() {
        400 => "ParameterValidationFailure",
        401 | 403 => "ResourceAccessDenied",
        404 => "ResourceNotFound",
        409 => "OperationConflict",
        _ => return response,
    };
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let bytes = match serde_json::from_slice::<ApiError>(&bytes) {
        Ok(error) => {
            let error = ApiError {
                error_code: Some(code.to_owned()),
                ..error
            };
            serde_json::to_vec(&error).unwrap_or_else(|_| bytes.to_vec())
        }
        Err(_) => bytes.to_vec(),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes))
}

fn store_error(error: StoreError, id: &str) -> Response {
    match error {
        StoreError::NotFound => not_found(id),
        StoreError::Duplicate { name } => message(
            StatusCode::BAD_REQUEST,
            format!("Organization {name} has already been added."),
        ),
        StoreError::TypeChange { from, to } => message(
            StatusCode::BAD_REQUEST,
            format!(
                "Property 'type' cannot change from {from} to {to}: remove the organization and \
                 add it again."
            ),
        ),
        StoreError::Persist(error) => {
            tracing::error!("{error}");
            message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The change could not be saved.",
            )
        }
    }
}

fn not_found(id: &str) -> Response {
    message(
        StatusCode::NOT_FOUND,
        format!("Organization with ID '{id}' was not found."),
    )
}

fn method_not_allowed(method: &Method, allowed: &[Method]) -> Response {
    let mut response = message(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("The requested resource does not support http method '{method}'."),
    );
    let allow: Vec<&str> = allowed.iter().map(Method::as_str).collect();
    if let Ok(allow) = HeaderValue::from_str(&allow.join(", ")) {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    response
}

/// A JSON response with the media type the real server sends.
fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            )],
            bytes,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The real server's error body: `{"message": "..."}`.
fn message(status: StatusCode, text: impl Into<String>) -> Response {
    json(status, &ApiError::new(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_without_regard_to_case() {
        let v3 = Some(RestApiVersion::V3);
        let v8 = Some(RestApiVersion::V8);
        assert_eq!(Resource::parse("/v3/Token"), (v3, Resource::Token));
        assert_eq!(Resource::parse("/V3/TOKEN"), (v3, Resource::Token));
        assert_eq!(Resource::parse("/v8/token"), (v8, Resource::Token));
        assert_eq!(
            Resource::parse("/v3/organizations/"),
            (v3, Resource::Organizations)
        );
        assert_eq!(
            Resource::parse("/V8/ORGANIZATIONS/AbC"),
            (v8, Resource::Organization("AbC"))
        );
        assert_eq!(
            Resource::parse("/v3/Organizations/a/jobs"),
            (v3, Resource::Unknown)
        );
        assert_eq!(
            Resource::parse("/v2/Organizations"),
            (None, Resource::Unknown)
        );
        assert_eq!(Resource::parse("/"), (None, Resource::Unknown));
    }

    #[test]
    fn unspecified_addresses_are_reached_through_loopback() {
        assert_eq!(reachable("0.0.0.0:4443".parse().unwrap()), "127.0.0.1:4443");
        assert_eq!(reachable("[::]:4443".parse().unwrap()), "[::1]:4443");
        assert_eq!(reachable("10.1.2.3:1".parse().unwrap()), "10.1.2.3:1");
    }
}
