//! How to start an emulator: who may log in, what it starts with, where it keeps its state,
//! whether it speaks TLS, and how it misbehaves.

use std::net::{Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

use vbo_model::{RestApiVersion, Secret};

/// The user name of the emulator's built-in demo account.
pub const DEFAULT_USER: &str = "admin";

/// The password of the emulator's built-in demo account. It protects nothing but the
/// emulator's own fake data, which is why it can be written here and printed at start.
pub const DEFAULT_PASSWORD: &str = "vboctl-demo";

/// The access-token lifetime of the real server: 60 minutes.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// Everything [`Emulator::start`](crate::Emulator::start) needs.
///
/// `EmulatorConfig::default()` listens on `127.0.0.1` on a free port, over plain HTTP, with the
/// built-in demo user, an empty in-memory store and no faults: what a test wants.
///
/// ```
/// use std::time::Duration;
/// use vbo_emulator::{EmulatorConfig, Faults, Tls};
///
/// let config = EmulatorConfig {
///     tls: Tls::SelfSigned,
///     token_ttl: Duration::from_secs(60),
///     faults: Faults { throttle_rate: 0.1, seed: Some(7), ..Faults::default() },
///     ..EmulatorConfig::default()
/// };
/// assert_eq!(config.users[0].name, "admin");
/// ```
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// Address to listen on. Default: `127.0.0.1:0` (a free port; read it back from
    /// [`EmulatorHandle::base_url`](crate::EmulatorHandle::base_url)).
    pub listen: SocketAddr,
    /// Accounts that may log in at `POST /v3/Token`. User names compare without regard to
    /// case, as Windows account names do; passwords compare exactly. Default: the demo user
    /// [`DEFAULT_USER`] / [`DEFAULT_PASSWORD`].
    pub users: Vec<User>,
    /// Lifetime of access tokens. Default: one hour, as on the real server.
    pub token_ttl: Duration,
    /// Number of synthetic organizations to add at start, cycling through Office365,
    /// OnPremises and Hybrid. Names that a loaded state file already holds are skipped.
    /// Default: `0`.
    pub seed_orgs: usize,
    /// File that holds the organizations across restarts: loaded at start (a missing file
    /// means an empty store) and rewritten atomically after every change, with mode `0600`
    /// because it holds the organizations' (fake) secrets. Default: none, state lives in
    /// memory only.
    pub state_file: Option<PathBuf>,
    /// Whether and how to speak HTTPS. Default: plain HTTP.
    pub tls: Tls,
    /// Misbehaviour on purpose. Default: none.
    pub faults: Faults,
    /// The REST API versions served, each in its own dialect, all from one store. A request
    /// under another version's prefix is answered 404, as a server that does not serve it
    /// does. Default: every version the emulator implements (v3, v6, v7 and v8).
    pub api_versions: Vec<RestApiVersion>,
    /// The most organizations one page of a paged list holds, below the version's own maximum
    /// (10,000 in v8), so that a few organizations already need several pages. Default: the
    /// version's maximum.
    pub page_limit: Option<u32>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            users: vec![User::demo()],
            token_ttl: DEFAULT_TOKEN_TTL,
            seed_orgs: 0,
            state_file: None,
            tls: Tls::None,
            faults: Faults::default(),
            api_versions: RestApiVersion::NEWEST_FIRST.to_vec(),
            page_limit: None,
        }
    }
}

/// An account that may log in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// User name as sent in the password grant, for example `admin` or `CONTOSO\backup`.
    pub name: String,
    /// The account's password.
    pub password: Secret,
}

impl User {
    /// An account with this name and password.
    pub fn new(name: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            password: Secret::new(password),
        }
    }

    /// The built-in demo account, [`DEFAULT_USER`] with [`DEFAULT_PASSWORD`].
    pub fn demo() -> Self {
        Self::new(DEFAULT_USER, DEFAULT_PASSWORD)
    }
}

/// Whether the emulator speaks HTTPS, and with which certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Tls {
    /// Plain HTTP.
    #[default]
    None,
    /// HTTPS with a self-signed certificate generated at start for `localhost`, `127.0.0.1`,
    /// `::1` and the listening address. Clients trust it through
    /// [`EmulatorHandle::ca_cert_pem`](crate::EmulatorHandle::ca_cert_pem).
    SelfSigned,
    /// HTTPS with this certificate chain and private key, both PEM files.
    Files {
        /// The certificate chain, leaf first.
        cert: PathBuf,
        /// The private key (PKCS#8, PKCS#1 or SEC1).
        key: PathBuf,
    },
}

/// Per kind of request, a delay drawn uniformly from a range, in place of the general
/// [`Faults::latency`]; `None` leaves that kind to the general one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MethodLatency {
    /// `POST /vN/token`: logging in and refreshing.
    pub token: Option<RangeInclusive<Duration>>,
    /// Listing and reading organizations.
    pub get: Option<RangeInclusive<Duration>>,
    /// Adding an organization.
    pub post: Option<RangeInclusive<Duration>>,
    /// Changing an organization.
    pub put: Option<RangeInclusive<Duration>>,
    /// Removing an organization.
    pub delete: Option<RangeInclusive<Duration>>,
}

impl MethodLatency {
    /// Each range set, with the name of its kind.
    pub fn ranges(&self) -> impl Iterator<Item = (&'static str, &RangeInclusive<Duration>)> {
        [
            ("token", &self.token),
            ("get", &self.get),
            ("post", &self.post),
            ("put", &self.put),
            ("delete", &self.delete),
        ]
        .into_iter()
        .filter_map(|(name, range)| range.as_ref().map(|range| (name, range)))
    }
}

/// Faults to inject on purpose. All off by default.
///
/// Latency applies to every request (per kind of request with [`Faults::method_latency`]). The other faults apply only to the
/// `/v3/Organizations` routes, never to `/v3/Token`, so that a client can always log in; a
/// client's token handling is exercised with [`EmulatorConfig::token_ttl`] instead.
///
/// For each organizations request one draw decides, in this order, whether the connection is
/// reset, a 503 is answered, or a 429 is answered; the three rates therefore add up to at most
/// 1 and each is observed at its own rate. A request that gets through and changes something
/// (a create, an update or a delete that succeeded) then draws again, once, against
/// `commit_then_fail_rate` and `slow_answer_rate`, which likewise add up to at most 1.
///
/// Faults can be changed while the emulator runs, with
/// [`EmulatorHandle::set_faults`](crate::EmulatorHandle::set_faults): a test can set the
/// server up without faults, then turn them on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Delay before handling each request, drawn uniformly from the range.
    pub latency: Option<RangeInclusive<Duration>>,
    /// Delays for one kind of request, in place of [`latency`](Self::latency): a real server
    /// adds an organization (it contacts Microsoft 365) far more slowly than it lists them.
    pub method_latency: MethodLatency,
    /// Share of organizations requests answered `503 Service Unavailable` before anything
    /// is done. From 0 to 1.
    pub error_rate: f64,
    /// Share of organizations requests answered `429 Too Many Requests` with `Retry-After: 1`
    /// before anything is done. From 0 to 1.
    pub throttle_rate: f64,
    /// Share of organizations requests whose connection is closed without an answer, before
    /// anything is done. From 0 to 1.
    pub reset_rate: f64,
    /// Share of successful creates, updates and deletes that are carried out and then answered
    /// with `500` or with a closed connection (half each): the ambiguous case a client must
    /// survive without creating duplicates. From 0 to 1.
    pub commit_then_fail_rate: f64,
    /// Share of successful creates, updates and deletes that are carried out and then answered
    /// only after [`slow_answer_delay`](Self::slow_answer_delay): with a delay longer than a
    /// client's request timeout, the client gives up on a change that was made. From 0 to 1.
    pub slow_answer_rate: f64,
    /// How long a slow answer waits after the change was made. With no delay the fault changes
    /// nothing.
    pub slow_answer_delay: Duration,
    /// Seed of the random draws, so that a run with the same requests in the same order sees
    /// the same faults. Default: a random seed.
    pub seed: Option<u64>,
}
