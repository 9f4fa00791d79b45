//! A small server that answers as other servers do, not as our emulator: it serves the token
//! endpoints of the API versions it is told to, refuses requests without a bearer token under
//! them, answers everything else with a closure, and records every request it received.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use vbo_client::{ApiVersionChoice, Client, ClientConfig, ClientError, RetryPolicy};
use vbo_model::Secret;

/// The password every test client logs in with. Tests never print a request's form body, so
/// it would not show up in their output even if a test failed.
pub(crate) const PASSWORD: &str = "Stub-Password-7";

/// One request the stub received.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) authorized: bool,
    pub(crate) content_type: Option<String>,
    pub(crate) body: Vec<u8>,
}

impl Seen {
    /// `GET /v8/Organizations`.
    pub(crate) fn route(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The value of a query parameter (name compared without regard to case).
    pub(crate) fn query_value(&self, name: &str) -> Option<u64> {
        self.query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .and_then(|(_, value)| value.parse().ok())
    }

    /// The form fields of a token request, as `(name, value)`. Only for fields whose values
    /// are plain words; never print the result, it holds the password.
    pub(crate) fn form(&self) -> Vec<(String, String)> {
        String::from_utf8_lossy(&self.body)
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (key.to_owned(), value.to_owned())
            })
            .collect()
    }

    /// The names of the form fields, safe to print.
    pub(crate) fn form_names(&self) -> Vec<String> {
        self.form().into_iter().map(|(key, _)| key).collect()
    }

    /// The value of one form field.
    pub(crate) fn form_value(&self, name: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }
}

type Answer = dyn Fn(&Seen) -> Option<Response> + Send + Sync;

struct Inner {
    served: Vec<&'static str>,
    ttl: u64,
    answer: Box<Answer>,
    seen: Mutex<Vec<Seen>>,
}

/// A running stub.
pub(crate) struct Stub {
    pub(crate) url: String,
    inner: Arc<Inner>,
}

impl Stub {
    /// A stub serving the token endpoints of `served` (`"v8"`, `"v3"`, ...), with access tokens
    /// that last an hour, and answering every other request under those versions with
    /// `answer` (404 when it gives `None`).
    pub(crate) async fn start(
        served: &[&'static str],
        answer: impl Fn(&Seen) -> Option<Response> + Send + Sync + 'static,
    ) -> Self {
        Self::with_ttl(served, 3600, answer).await
    }

    /// As [`start`](Self::start), with access tokens that last `ttl` seconds.
    pub(crate) async fn with_ttl(
        served: &[&'static str],
        ttl: u64,
        answer: impl Fn(&Seen) -> Option<Response> + Send + Sync + 'static,
    ) -> Self {
        let inner = Arc::new(Inner {
            served: served.to_vec(),
            ttl,
            answer: Box::new(answer),
            seen: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&inner));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url: format!("http://{address}"),
            inner,
        }
    }

    /// Every request received so far, in order.
    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.inner
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many requests were received on `route` (`"GET /v8/Organizations"`).
    pub(crate) fn count(&self, route: &str) -> usize {
        self.seen()
            .iter()
            .filter(|seen| seen.route() == route)
            .count()
    }

    /// The requests received on `route`.
    pub(crate) fn on(&self, route: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|seen| seen.route() == route)
            .collect()
    }

    /// A client configuration for this stub, with quick retries.
    pub(crate) fn config(&self) -> ClientConfig {
        let mut config = ClientConfig::new(&self.url, "admin", Secret::new(PASSWORD));
        config.retry = RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            max_elapsed: Duration::from_secs(10),
        };
        config
    }

    /// Connects with automatic version detection.
    pub(crate) async fn connect(&self) -> Client {
        Client::connect(self.config()).await.unwrap()
    }

    /// Connects asking for `choice`.
    pub(crate) async fn connect_with(
        &self,
        choice: ApiVersionChoice,
    ) -> Result<Client, ClientError> {
        let mut config = self.config();
        config.api_version = choice;
        Client::connect(config).await
    }
}

/// The documented token path of a version: v3's `Token`, later versions' `token`.
pub(crate) fn token_path(version: &str) -> String {
    if version == "v3" {
        "/v3/Token".to_owned()
    } else {
        format!("/{version}/token")
    }
}

async fn handle(State(inner): State<Arc<Inner>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let seen = Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        authorized: parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("Bearer ")),
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
        body: body.to_vec(),
    };
    inner
        .seen
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(seen.clone());
    let version = inner
        .served
        .iter()
        .find(|version| seen.path.starts_with(&format!("/{version}/")));
    let Some(version) = version else {
        return not_found(&seen.path);
    };
    if seen.method == "POST" && seen.path == token_path(version) {
        return json(
            StatusCode::OK,
            &json!({
                "access_token": "stub-access", "token_type": "bearer", "expires_in": inner.ttl,
                "refresh_token": "stub-refresh", "userName": "admin",
                ".issued": "Mon, 01 Jan 2024 00:00:00 GMT", ".expires": "Mon, 01 Jan 2024 01:00:00 GMT"
            }),
        );
    }
    if !seen.authorized {
        return json(
            StatusCode::UNAUTHORIZED,
            &json!({"message": "Authorization has been denied for this request."}),
        );
    }
    (inner.answer)(&seen).unwrap_or_else(|| not_found(&seen.path))
}

/// The answer of a server to a path it does not route.
pub(crate) fn not_found(path: &str) -> Response {
    json(
        StatusCode::NOT_FOUND,
        &json!({"message": format!("No HTTP resource was found that matches the request URI '{path}'.")}),
    )
}

/// A JSON answer.
pub(crate) fn json(status: StatusCode, value: &Value) -> Response {
    raw(status, "application/json; charset=utf-8", value.to_string())
}

/// An answer with this media type and body, exactly.
pub(crate) fn raw(status: StatusCode, media_type: &'static str, body: impl Into<Body>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(media_type))],
        body.into(),
    )
        .into_response()
}

/// A minimal organization, `org-NN`, with an id made from `n`.
pub(crate) fn organization(n: usize) -> Value {
    json!({"id": id(n), "name": format!("org-{n:02}"), "type": "OnPremises"})
}

/// The id of [`organization`] `n`.
pub(crate) fn id(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// One page of `all` as a v8 server writes it, for the `offset` and `limit` asked, holding at
/// most `cap` organizations, with `setId` when given.
pub(crate) fn page(all: &[Value], seen: &Seen, cap: u64, set_id: Option<&str>) -> Response {
    let offset = seen.query_value("offset").unwrap_or(0);
    let limit = seen.query_value("limit").unwrap_or(30).min(cap);
    let start = (offset as usize).min(all.len());
    let end = (start + limit as usize).min(all.len());
    let mut links =
        json!({"self": {"href": format!("/v8/Organizations?offset={offset}&limit={limit}")}});
    if end < all.len() {
        links["next"] = json!({"href": format!("/v8/Organizations?offset={end}&limit={limit}")});
    }
    let mut body = json!({
        "offset": offset,
        "limit": limit,
        "results": all[start..end],
        "_links": links,
    });
    if let Some(set_id) = set_id {
        body["setId"] = json!(set_id);
    }
    json(StatusCode::OK, &body)
}
