//! What can go wrong talking to the server, in terms a user can act on.

use std::error::Error as _;
use std::path::PathBuf;
use std::time::Duration;

use vbo_model::RestApiVersion;
use vbo_model::wire::GrantType;

/// Whether a failed request may still have changed something on the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The server did not act on the request (it refused it, or it never arrived).
    NotPerformed,
    /// The request may or may not have been carried out (timeout, dropped connection, 5xx).
    Unknown,
}

/// An error from the API client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server URL cannot be used.
    #[error("invalid server URL {server:?}: {reason}")]
    InvalidServer {
        /// The URL as given.
        server: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The CA file cannot be read.
    #[error("cannot read CA certificate file {}: {source}", path.display())]
    ReadCaCert {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The CA file holds no certificate.
    #[error(
        "{} holds no certificate (expected PEM, -----BEGIN CERTIFICATE-----, or one DER certificate)",
        path.display()
    )]
    InvalidCaCert {
        /// The file.
        path: PathBuf,
    },
    /// Certificate verification could not be set up, for example because the system has no
    /// trusted roots to load.
    #[error("cannot set up TLS certificate verification: {reason}")]
    TrustSetup {
        /// What went wrong.
        reason: String,
    },
    /// The HTTP client could not be set up.
    #[error("cannot set up the HTTP client: {source}")]
    Build {
        /// The underlying error.
        source: reqwest::Error,
    },
    /// The server refused the credentials (or, for a refresh, the refresh token).
    #[error("the server rejected the username or password for {username}")]
    LoginRejected {
        /// The user that tried to log in.
        username: String,
        /// The grant that was refused.
        grant: GrantType,
    },
    /// The server's certificate could not be verified.
    #[error("cannot verify the TLS certificate of {server}: {detail}")]
    Tls {
        /// The server.
        server: String,
        /// What the verifier said.
        detail: String,
    },
    /// No connection could be made.
    #[error("cannot connect to {server}: {detail}")]
    Connect {
        /// The server.
        server: String,
        /// What went wrong.
        detail: String,
    },
    /// The request took longer than the configured timeout.
    #[error("{method} {path} timed out")]
    Timeout {
        /// HTTP method.
        method: String,
        /// Path, for example `/v8/Organizations`.
        path: String,
    },
    /// The connection broke before a complete answer arrived.
    #[error("{method} {path}: the connection was closed before the server answered ({detail})")]
    Disconnected {
        /// HTTP method.
        method: String,
        /// Path, for example `/v8/Organizations`.
        path: String,
        /// What went wrong.
        detail: String,
    },
    /// The server answered with an error status.
    #[error("{method} {path} failed with {status}: {message}")]
    Status {
        /// HTTP method.
        method: String,
        /// Path, for example `/v8/Organizations`.
        path: String,
        /// HTTP status code.
        status: u16,
        /// The server's `message`, or an excerpt of its answer.
        message: String,
        /// The server's `Retry-After`, if any.
        retry_after: Option<Duration>,
        /// Whether earlier attempts of the same call had failed transiently.
        after_retry: bool,
    },
    /// The server answered something the API does not.
    #[error("{method} {path}: unexpected answer with status {status}: {detail}")]
    UnexpectedResponse {
        /// HTTP method.
        method: String,
        /// Path, for example `/v8/Organizations`.
        path: String,
        /// HTTP status code.
        status: u16,
        /// What was unexpected.
        detail: String,
    },
    /// The server answered none of the API versions vboctl speaks.
    #[error(
        "{server} serves none of the REST API versions vboctl speaks (v8, v7, v6, v3): is it a \
         Veeam Backup for Microsoft 365 server, and is this its REST API port?"
    )]
    NoKnownVersion {
        /// The server.
        server: String,
    },
    /// The server does not serve the API version that was asked for.
    #[error(
        "{server} does not serve REST API {requested}; {}",
        served_list(served)
    )]
    VersionNotServed {
        /// The server.
        server: String,
        /// The version asked for.
        requested: RestApiVersion,
        /// The versions it answered for.
        served: Vec<RestApiVersion>,
    },
    /// The list of organizations kept changing while it was read page by page.
    #[error(
        "the organizations of {server} changed while they were read, {reads} times in a row; \
         nothing was planned from a partial list"
    )]
    ListUnstable {
        /// The server.
        server: String,
        /// How many times the list was read.
        reads: u32,
    },
    /// A request body could not be encoded.
    #[error("cannot encode the request body: {source}")]
    Encode {
        /// The underlying error.
        source: serde_json::Error,
    },
}

impl ClientError {
    /// Whether the request may have been carried out despite the error. Only a request that
    /// reached the server and got no clear refusal is [`Outcome::Unknown`].
    pub fn outcome(&self) -> Outcome {
        match self {
            ClientError::Timeout { .. } | ClientError::Disconnected { .. } => Outcome::Unknown,
            ClientError::Status { status, .. } if *status >= 500 => Outcome::Unknown,
            ClientError::UnexpectedResponse { status, .. } if (200..300).contains(status) => {
                Outcome::Unknown
            }
            _ => Outcome::NotPerformed,
        }
    }

    /// Whether trying again later may succeed: connection trouble, timeouts, 408, 429 and 5xx.
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Connect { .. }
            | ClientError::Timeout { .. }
            | ClientError::Disconnected { .. } => true,
            ClientError::Status { status, .. } => {
                *status == 408 || *status == 429 || *status >= 500
            }
            _ => false,
        }
    }

    /// How long the server asked to wait before trying again.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ClientError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Status { status, .. } | ClientError::UnexpectedResponse { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }

    /// The server's own message, when it sent one with an error status.
    pub fn server_message(&self) -> Option<&str> {
        match self {
            ClientError::Status { message, .. } => Some(message),
            _ => None,
        }
    }

    /// Classifies a transport error from reqwest.
    pub(crate) fn from_transport(
        method: &reqwest::Method,
        path: &str,
        server: &str,
        error: reqwest::Error,
    ) -> Self {
        let path = path.to_owned();
        if let Some(detail) = certificate_problem(&error) {
            return ClientError::Tls {
                server: server.to_owned(),
                detail,
            };
        }
        // A connection that was never made, even one that timed out, carried no request:
        // check that before the timeout, which would make the outcome unknown.
        if error.is_connect() {
            let detail = if error.is_timeout() {
                "no connection within the connect timeout".to_owned()
            } else {
                innermost_message(&error)
            };
            return ClientError::Connect {
                server: server.to_owned(),
                detail,
            };
        }
        if error.is_timeout() {
            return ClientError::Timeout {
                method: method.to_string(),
                path,
            };
        }
        ClientError::Disconnected {
            method: method.to_string(),
            path,
            detail: innermost_message(&error),
        }
    }
}

/// "it serves v8 and v6", or that it answered for none.
fn served_list(served: &[RestApiVersion]) -> String {
    match served {
        [] => "it answered for none of v8, v7, v6 and v3".to_owned(),
        [only] => format!("it serves {only} only"),
        [rest @ .., last] => {
            let rest: Vec<String> = rest.iter().map(ToString::to_string).collect();
            format!("it serves {} and {last}", rest.join(", "))
        }
    }
}

/// The certificate verifier's complaint, in words, if that is what failed.
fn certificate_problem(error: &reqwest::Error) -> Option<String> {
    let problem = causes(error).find_map(|cause| match cause.downcast_ref::<rustls::Error>() {
        Some(rustls::Error::InvalidCertificate(problem)) => Some(problem),
        _ => None,
    })?;
    Some(certificate_words(problem))
}

/// What is wrong with a certificate, in words.
pub(crate) fn certificate_words(problem: &rustls::CertificateError) -> String {
    use rustls::CertificateError as Problem;
    let words = match problem {
        Problem::UnknownIssuer => "it is not signed by a certificate authority this machine trusts",
        Problem::NotValidForName | Problem::NotValidForNameContext { .. } => {
            "it is not valid for this host name"
        }
        Problem::Expired | Problem::ExpiredContext { .. } => "it has expired",
        Problem::NotValidYet | Problem::NotValidYetContext { .. } => "it is not valid yet",
        Problem::Revoked => "it has been revoked",
        Problem::BadSignature => "its signature is invalid",
        // The trust rule's own refusals say what to do in their own words.
        Problem::Other(other) => match other.0.downcast_ref::<crate::tls::Refusal>() {
            Some(refusal) => return refusal.to_string(),
            None => return format!("the certificate was refused ({problem:?})"),
        },
        _ => return format!("the certificate was refused ({problem:?})"),
    };
    words.to_owned()
}

/// Every cause of `error`, including the errors an `io::Error` wraps (which its `source()`
/// skips).
fn causes<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    let mut pending = vec![error];
    std::iter::from_fn(move || {
        let current = pending.pop()?;
        if let Some(source) = current.source() {
            pending.push(source);
        }
        if let Some(inner) = current
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            pending.push(inner);
        }
        Some(current)
    })
}

/// The most specific message in an error chain ("connection refused" rather than "error
/// sending request").
fn innermost_message(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(current) = source {
        message = current.to_string();
        source = current.source();
    }
    message
}
