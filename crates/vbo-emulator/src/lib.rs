//! An emulator of the Veeam Backup for Microsoft 365 REST API, as far as vboctl touches it:
//! the token endpoint and `/Organizations`, in REST API v3, v6, v7 and v8, each in its own
//! dialect (paths, paging, spellings, status codes, error bodies; see `vbo_model::api`) over one
//! store of organizations. It is the server behind vboctl's integration tests, its demo and
//! its benchmarks, and `vboctl emulator` runs it from the command line.
//!
//! It aims to be faithful where it matters to a client:
//!
//! - It reads JSON the way the real server (ASP.NET Web API 2 with Json.NET) does: property
//!   names and enum values without regard to case, `"true"`/`"false"` strings as booleans,
//!   numeric strings as integers, unknown properties ignored. The vendor's own example bodies,
//!   mixed case and all, are accepted.
//! - It answers with the real server's shapes and status codes: in v3, `201` with the
//!   organization's representation and absolute `_links` on create, `204` on replace, `200`
//!   with no body on delete, `400 {"message"}` naming the property on an invalid body or a
//!   duplicate name, `401 {"message": "Authorization has been denied for this request."}`
//!   without a valid bearer token, and the OWIN token responses; in v8, pages of 30 (at most
//!   10,000) with a `setId`, relative links, the tenant's `msid`, `204` on delete, `errorCode`
//!   beside `message`, the antiforgery switch at login, and the refusal to add Microsoft 365
//!   organizations with basic authentication outside China. A version not served answers 404.
//! - Secrets (passwords, application secrets, certificate passwords) are kept but never
//!   returned.
//! - Paths match without regard to case.
//!
//! And it misbehaves on purpose, reproducibly, when asked: latency, `503`, `429` with
//! `Retry-After`, connections closed without an answer, and changes that are made but whose
//! answer is lost or comes too late. See [`Faults`].
//!
//! ```
//! use vbo_emulator::{Emulator, EmulatorConfig, Faults};
//!
//! # async fn demo() -> Result<(), vbo_emulator::EmulatorError> {
//! let emulator = Emulator::start(EmulatorConfig {
//!     seed_orgs: 30,
//!     faults: Faults { throttle_rate: 0.05, seed: Some(1), ..Faults::default() },
//!     ..EmulatorConfig::default()
//! })
//! .await?;
//! // ... point a client at emulator.base_url() and log in as admin / vboctl-demo ...
//! assert_eq!(emulator.organizations().len(), 30);
//! assert_eq!(emulator.request_counts().created, 0);
//! emulator.shutdown().await?;
//! # Ok(())
//! # }
//! ```

mod auth;
mod config;
mod error;
mod faults;
mod read_body;
mod seed;
mod server;
mod stats;
mod store;
mod tls;
mod validate;

pub use config::{
    DEFAULT_PASSWORD, DEFAULT_TOKEN_TTL, DEFAULT_USER, EmulatorConfig, Faults, MethodLatency, Tls,
    User,
};
pub use error::EmulatorError;
pub use server::{Emulator, EmulatorHandle};
pub use stats::{FaultCounts, RequestCounts, TokenCounts};
pub use store::StoredOrganization;
