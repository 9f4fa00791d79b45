//! The data model of vboctl.
//!
//! - [`manifest`]: the documents users keep in git (`apiVersion: vboctl/v1`, `kind: Organization`).
//! - [`wire`]: the JSON the Veeam Backup for Microsoft Office 365 REST API v3 reads and returns,
//!   shared by the client and the emulator so both speak exactly the same language.
//! - [`secret`]: references to secrets and the values they resolve to, which can never be printed.
//!
//! This crate does no networking and has no async runtime.

pub mod manifest;
pub mod schema;
pub mod secret;
pub mod wire;

pub use manifest::{Manifest, Metadata, Spec};
pub use secret::{Secret, SecretRef};
pub use wire::{Organization, OrganizationBody, OrganizationState, OrganizationType, Region};
