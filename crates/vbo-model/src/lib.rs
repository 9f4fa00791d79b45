//! The data model of vboctl.
//!
//! - [`manifest`]: the documents users keep in git (`apiVersion: vboctl/v1`, `kind: Organization`).
//! - [`wire`]: the JSON the Veeam Backup for Microsoft 365 REST API reads and returns, in its
//!   canonical form, shared by the client and the emulator so both speak the same language.
//! - [`annotation`]: problems as CI platforms show them (GitHub workflow commands, GitLab Code
//!   Quality).
//! - [`api`]: the REST API versions vboctl speaks and what differs between them, as data.
//! - [`lenient`]: reading JSON as the server's Json.NET does (any case, string booleans).
//! - [`secret`]: references to secrets and the values they resolve to, which can never be printed.
//! - [`env_file`]: `KEY=VALUE` files that supply `fromEnv` secrets (`--env-file`).
//! - [`load`]: finding manifest files, reading them and checking them, with every problem as a
//!   located [`Diagnostic`].
//! - [`schema`]: the JSON Schema editors use, and the field reference generated from it.
//! - [`export`]: manifests made from what a server reports, for `vboctl export`.
//!
//! This crate does no networking and has no async runtime.

pub mod annotation;
pub mod api;
pub mod diagnostic;
pub mod env_file;
pub mod export;
pub mod lenient;
pub mod load;
mod located;
pub mod manifest;
pub mod schema;
pub mod secret;
pub mod text;
mod validate;
pub mod wire;

pub use api::{Dialect, RestApiVersion};
pub use diagnostic::{Diagnostic, Severity};
pub use load::{Loaded, LoadedManifest, load};
pub use manifest::{Manifest, Metadata, Spec};
pub use secret::{Environment, Secret, SecretRef};
pub use wire::{Organization, OrganizationBody, OrganizationState, OrganizationType, Region};
