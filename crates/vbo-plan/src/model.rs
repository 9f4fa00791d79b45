//! The plan as data: what goes in ([`Desired`], [`PlanOptions`]) and what comes out ([`Plan`]).
//!
//! [`Plan`] is also the versioned JSON document of `vboctl plan --format json`, described in
//! `docs/plan-format.md`: serializing it gives that document and deserializing the document
//! gives it back.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vbo_model::load::FieldPlaces;
use vbo_model::{OrganizationType, RestApiVersion, Spec};

use crate::selector::Selector;

/// Version of the plan JSON document. Minor versions only add fields; anything else bumps the
/// major version. 1.1 added `api_version`, the `msid` of changes and unmanaged organizations,
/// and the errors `unsupported-field`, `refused-authentication` and `tenant-renamed`; 1.2 added
/// `narrowed` and the error `unmatched-target`.
pub const PLAN_FORMAT_VERSION: &str = "1.2";

/// One organization as the manifests describe it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Desired {
    /// `metadata.name`: the organization's name on the server, matched ignoring case.
    pub name: String,
    /// Where the manifest is, for messages, for example `examples/msp/tenants.yaml:12:1`.
    pub origin: String,
    /// `spec`: the configuration, with secret references (never values).
    pub spec: Spec,
    /// `metadata.msid`: the Microsoft 365 tenant's id, when the manifest gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msid: Option<String>,
    /// The line and column where each field under `spec` is written in the manifest's file,
    /// by dotted path, for errors about one field. Not saved: a saved plan is applied, never
    /// planned again.
    #[serde(skip)]
    pub fields: FieldPlaces,
    /// `metadata.labels`, which `--selector` chooses by. Not saved: a saved plan holds only the
    /// manifests it selected.
    #[serde(skip)]
    pub labels: BTreeMap<String, String>,
}

impl Desired {
    /// An organization called `name`, described at `origin`, with no msid and no field
    /// locations.
    pub fn new(name: impl Into<String>, origin: impl Into<String>, spec: Spec) -> Self {
        Self {
            name: name.into(),
            origin: origin.into(),
            spec,
            msid: None,
            fields: FieldPlaces::default(),
            labels: BTreeMap::new(),
        }
    }

    /// Where the field at dotted `path` under `spec` is written (`file:line:column`), or the
    /// manifest's origin when that is not known.
    pub fn field_origin(&self, path: &str) -> String {
        match self.fields.get(path) {
            Some((line, column)) => format!("{}:{line}:{column}", self.file()),
            None => self.origin.clone(),
        }
    }

    /// The manifest's file: its origin without the line and column.
    fn file(&self) -> &str {
        self.origin.rsplitn(3, ':').nth(2).unwrap_or(&self.origin)
    }
}

/// How to plan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Plan to delete organizations that are on the server but in no manifest. Without it they
    /// are reported as unmanaged and left alone.
    pub prune: bool,
    /// The server's URL, recorded in the plan so that a saved plan names where it applies.
    pub server: String,
    /// The REST API version the server is spoken to in: what it takes decides what can be
    /// planned, and a saved plan is applied in the same version only.
    pub api_version: RestApiVersion,
    /// Plan only part of the fleet (`--target`, `--selector`); `None` plans everything.
    pub scope: Option<Narrowing>,
}

/// Which organizations a narrowed run plans: those that every given filter selects.
///
/// - Manifests are planned when their name is one of `targets` (ignoring case; any name when
///   there are none) and their `metadata.labels` match `selector` (any labels when there is
///   none). The other manifests are not planned, and the organizations they name are left
///   alone.
/// - Organizations on the server in no manifest are neither deleted nor listed as unmanaged,
///   except one that `targets` names, which is deleted with prune (when there is no selector,
///   or it matches an empty set of labels).
/// - A target that selects nothing is a [`PlanError::UnmatchedTarget`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Narrowing {
    /// Organization names, matched ignoring case.
    pub targets: Vec<String>,
    /// A label selector on the manifests.
    pub selector: Option<Selector>,
}

impl Narrowing {
    /// Whether the manifest `d` is in scope: named by a target (when there are targets) and
    /// with labels the selector matches (when there is one).
    pub fn selects(&self, d: &Desired) -> bool {
        let name = d.name.to_lowercase();
        (self.targets.is_empty() || self.targets.iter().any(|t| t.to_lowercase() == name))
            && self
                .selector
                .as_ref()
                .is_none_or(|selector| selector.matches(&d.labels))
    }
}

/// How a narrowed plan was narrowed, as the plan document records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Narrowed {
    /// The `--target` names, as given (repeats, ignoring case, removed).
    pub targets: Vec<String>,
    /// The `--selector`, in canonical form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// How many organizations are in scope: the manifests selected, and the organizations in
    /// no manifest that a target names.
    pub selected: usize,
    /// How many organizations there are, in the manifests or on the server (names compared
    /// ignoring case).
    pub organizations: usize,
}

impl Narrowed {
    /// `--target a.example.com, --selector tier=gold`: the narrowing as a command line writes
    /// it.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .targets
            .iter()
            .map(|t| format!("--target {t}"))
            .collect();
        parts.extend(self.selector.as_ref().map(|s| format!("--selector {s}")));
        parts.join(", ")
    }
}

/// Why a `--target` name selects nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TargetMiss {
    /// No manifest has the name, and the server has no organization of that name.
    NoManifest,
    /// A manifest has the name, but its labels do not match the selector.
    NotSelected,
    /// No manifest has the name; the server has an organization of that name, which only
    /// prune acts on (by deleting it).
    UnmanagedWithoutPrune,
}

/// What apply would do to one organization. The values double as the glyphs the text plan
/// shows.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum Action {
    /// Nothing: the server already matches the manifest.
    #[serde(rename = "no-op")]
    NoOp,
    /// `+`: `POST` a new organization.
    #[serde(rename = "create")]
    Create,
    /// `~`: `PUT` the whole body over the existing organization.
    #[serde(rename = "update")]
    Update,
    /// `-`: `DELETE` the organization (only when planning with prune).
    #[serde(rename = "delete")]
    Delete,
}

impl Action {
    /// The glyph shown in front of a change: `+`, `~`, `-`, or a space for no-op.
    pub fn glyph(self) -> char {
        match self {
            Action::NoOp => ' ',
            Action::Create => '+',
            Action::Update => '~',
            Action::Delete => '-',
        }
    }

    /// The name used in the JSON document: `create`, `update`, `delete` or `no-op`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::NoOp => "no-op",
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A JSON document held as compact text: the body of a create or the state of an
/// organization. A plan of thousands of changes holds thousands of them, and text takes a
/// fraction of the memory of a parsed tree. [`Body::value`] parses it back.
#[derive(Clone, PartialEq, Eq)]
pub struct Body(Box<str>);

impl Body {
    /// The document, parsed.
    pub fn value(&self) -> Value {
        // Only ever made from a `Value`: it parses back.
        serde_json::from_str(&self.0).unwrap_or(Value::Null)
    }
}

impl From<&Value> for Body {
    fn from(value: &Value) -> Self {
        Body(value.to_string().into_boxed_str())
    }
}

impl From<Value> for Body {
    fn from(value: Value) -> Self {
        Body::from(&value)
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Body {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Body {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(Body::from)
    }
}

impl JsonSchema for Body {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        <Value as JsonSchema>::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <Value as JsonSchema>::json_schema(generator)
    }
}

/// One observable field that differs between the server and the manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FieldChange {
    /// Dotted JSON path of the field in the API's spelling, for example
    /// `exchangeOnlineSettings.grantAdminAccess`.
    pub path: String,
    /// What the server reports; `null` when it does not have the field (or settings block).
    pub before: Value,
    /// What the manifest wants; `null` when the manifest does not set a field the server has.
    pub after: Value,
}

/// What apply would do to one organization, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Change {
    /// Stable address, for example `organization["contoso.onmicrosoft.com"]`.
    pub address: String,
    /// The manifest's name for creates, updates and no-ops; the server's name for deletes.
    pub name: String,
    /// What apply does.
    pub action: Action,
    /// The server's id of the organization (updates, deletes and no-ops).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The Microsoft 365 tenant's id, when the server reports it (REST API v8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msid: Option<String>,
    /// Where the manifest is (creates, updates and no-ops).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// What the server reports (its name and observable state), or `null` for a create.
    pub before: Option<Body>,
    /// The body apply sends, with secret references in place of values (`{"fromEnv": ..}`,
    /// `{"fromFile": ..}`, `{"sensitive": ..}`), or `null` for a delete.
    pub after: Option<Body>,
    /// The observable fields that differ (updates only), ordered by path.
    pub changed_fields: Vec<FieldChange>,
    /// Why, in words, for people. Apply never reads it.
    pub reason: String,
}

/// An organization on the server that no manifest describes, left alone without prune.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Unmanaged {
    /// The server's id.
    pub id: String,
    /// Its name on the server.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: OrganizationType,
    /// The Microsoft 365 tenant's id, when the server reports it (REST API v8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msid: Option<String>,
}

/// How many changes of each action the plan has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    /// Organizations to create.
    pub create: usize,
    /// Organizations to update in place.
    pub update: usize,
    /// Organizations to delete.
    pub delete: usize,
    /// Organizations that already match their manifest.
    pub no_op: usize,
}

impl Summary {
    /// Counts the actions of `changes`.
    pub fn of(changes: &[Change]) -> Self {
        let mut summary = Summary::default();
        for change in changes {
            match change.action {
                Action::NoOp => summary.no_op += 1,
                Action::Create => summary.create += 1,
                Action::Update => summary.update += 1,
                Action::Delete => summary.delete += 1,
            }
        }
        summary
    }

    /// Whether apply would change anything on the server.
    pub fn has_changes(&self) -> bool {
        self.create + self.update + self.delete > 0
    }
}

/// Why an organization could not be planned. Each names the organization; none is an update.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum PlanError {
    /// The manifest asks for another type than the organization has on the server.
    #[error(
        "organization {name:?} is {observed} on the server but {desired} in the manifest at {origin}: the type of an organization cannot be changed in place"
    )]
    TypeChange {
        /// The manifest's name.
        name: String,
        /// Where the manifest is.
        origin: String,
        /// The server's id of the organization.
        id: String,
        /// Its type on the server.
        observed: OrganizationType,
        /// The type the manifest asks for.
        desired: OrganizationType,
    },
    /// Several manifests name the same organization (ignoring case).
    #[error("organization {name:?} is described by more than one manifest: {}", origins.join(", "))]
    DuplicateName {
        /// The name, as the first manifest writes it.
        name: String,
        /// Where each of those manifests is.
        origins: Vec<String>,
    },
    /// Several organizations on the server have the manifest's name (ignoring case).
    #[error(
        "the server has {} organizations named {name:?} (ignoring case), ids {}: the manifest at {origin} cannot tell which one it describes",
        ids.len(),
        ids.join(", ")
    )]
    AmbiguousMatch {
        /// The manifest's name.
        name: String,
        /// Where the manifest is.
        origin: String,
        /// The ids of the organizations with that name.
        ids: Vec<String>,
    },
    /// The manifest sets a field that the server's API version does not take.
    #[error(
        "organization {name:?}: spec.{field} at {origin} is not taken by REST API {api_version} (the server's); it is {versions}"
    )]
    UnsupportedField {
        /// The manifest's name.
        name: String,
        /// Where the field is written.
        origin: String,
        /// Dotted path under `spec`.
        field: String,
        /// The version the server is spoken to in.
        api_version: RestApiVersion,
        /// Which versions take the field, in words.
        versions: String,
    },
    /// The server's API version refuses to add the organization with the authentication the
    /// manifest gives (REST API v8: only application-only authentication, outside China).
    #[error(
        "organization {name:?}: REST API {api_version} refuses to add a Microsoft 365 organization with basic authentication or modern authentication with legacy protocols (spec.{field} at {origin}), unless its region is China"
    )]
    RefusedAuthentication {
        /// The manifest's name.
        name: String,
        /// Where the settings block is written.
        origin: String,
        /// The settings block, `exchangeOnlineSettings` or `sharePointOnlineSettings`.
        field: String,
        /// The version the server is spoken to in.
        api_version: RestApiVersion,
    },
    /// The manifest's tenant (`metadata.msid`) is on the server under another name.
    #[error(
        "organization {name:?} (manifest at {origin}) is not on the server, but its tenant {msid} is, as organization {server_name:?} (id {id}): creating it would add the same tenant twice"
    )]
    TenantRenamed {
        /// The manifest's name.
        name: String,
        /// Where the manifest is.
        origin: String,
        /// The tenant's id.
        msid: String,
        /// The name the server has the tenant under.
        server_name: String,
        /// The server's id of that organization.
        id: String,
    },
    /// A `--target` name that selects no organization.
    #[error("{}", unmatched_target(name, *reason))]
    UnmatchedTarget {
        /// The name, as given.
        name: String,
        /// Why it selects nothing.
        reason: TargetMiss,
    },
}

fn unmatched_target(name: &str, reason: TargetMiss) -> String {
    match reason {
        TargetMiss::NoManifest => format!(
            "--target {name:?} names no organization: no manifest has that name, nor any organization on the server"
        ),
        TargetMiss::NotSelected => {
            format!("--target {name:?} names a manifest whose labels do not match --selector")
        }
        TargetMiss::UnmanagedWithoutPrune => format!(
            "--target {name:?} names an organization that is on the server but in no manifest, which only --prune acts on"
        ),
    }
}

impl PlanError {
    /// The organization's name as the (first) manifest writes it.
    pub fn name(&self) -> &str {
        match self {
            PlanError::TypeChange { name, .. }
            | PlanError::DuplicateName { name, .. }
            | PlanError::AmbiguousMatch { name, .. }
            | PlanError::UnsupportedField { name, .. }
            | PlanError::RefusedAuthentication { name, .. }
            | PlanError::TenantRenamed { name, .. }
            | PlanError::UnmatchedTarget { name, .. } => name,
        }
    }

    /// Where the manifests concerned are written (`file:line:column`): several for a name
    /// used twice, none for a `--target` that selects nothing.
    pub fn origins(&self) -> Vec<&str> {
        match self {
            PlanError::TypeChange { origin, .. }
            | PlanError::AmbiguousMatch { origin, .. }
            | PlanError::UnsupportedField { origin, .. }
            | PlanError::RefusedAuthentication { origin, .. }
            | PlanError::TenantRenamed { origin, .. } => vec![origin],
            PlanError::DuplicateName { origins, .. } => {
                origins.iter().map(String::as_str).collect()
            }
            PlanError::UnmatchedTarget { .. } => Vec::new(),
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            PlanError::TypeChange { name, .. } => format!(
                "to replace it, delete organization {name:?} on the server by hand (its backups stay in the repository) and plan again to create it; to keep it, set the manifest's type back, or give the manifest another metadata.name to create a separate organization"
            ),
            PlanError::DuplicateName { .. } => {
                "keep one manifest per organization: names are compared ignoring case".to_owned()
            }
            PlanError::AmbiguousMatch { .. } => {
                "rename or remove the extra organizations on the server, then plan again".to_owned()
            }
            PlanError::UnsupportedField { field, .. } => format!(
                "remove spec.{field}, or plan against a server that speaks a version that takes it (--api-version)"
            ),
            PlanError::RefusedAuthentication { field, .. } => format!(
                "use application-only authentication: in spec.{field} set useApplicationOnlyAuth: true, applicationId, applicationCertificate: {{fromFile: path/to/app.pfx}} and applicationCertificatePassword"
            ),
            PlanError::TenantRenamed { server_name, .. } => format!(
                "set metadata.name to {server_name:?} to manage that organization, or rename it on the server; remove metadata.msid if this really is another tenant"
            ),
            PlanError::UnmatchedTarget { reason, .. } => match reason {
                TargetMiss::NoManifest => {
                    "check the name (compared ignoring case) and the manifest paths".to_owned()
                }
                TargetMiss::NotSelected => {
                    "drop --selector, or that --target, to plan the organization".to_owned()
                }
                TargetMiss::UnmanagedWithoutPrune => {
                    "add --prune to delete it, or write a manifest for it to manage it".to_owned()
                }
            },
        }
    }
}

/// An organization that could not be planned, as the JSON document carries it: the error's
/// `kind` and fields, plus a message and a hint for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorReport {
    /// The error, with a `kind` (`type-change`, `duplicate-name`, `unmatched-target`, ...) and
    /// its fields.
    #[serde(flatten)]
    pub error: PlanError,
    /// What went wrong, for people.
    pub message: String,
    /// What to do about it, for people.
    pub hint: String,
}

impl From<PlanError> for ErrorReport {
    fn from(error: PlanError) -> Self {
        ErrorReport {
            message: error.to_string(),
            hint: error.hint(),
            error,
        }
    }
}

/// What apply would do: the result of [`plan`](crate::plan), and the JSON document of
/// `vboctl plan --format json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Plan {
    /// The version of the document's format when the plan was made, `MAJOR.MINOR`: a reader
    /// refuses another major version and ignores fields it does not know.
    pub format_version: String,
    /// The server the plan was made against.
    pub server: String,
    /// The REST API version the server was spoken to in (`v3`, `v6`, `v7`, `v8`). Plans made
    /// before this field existed were all made in v3.
    #[serde(default = "legacy_api_version")]
    pub api_version: RestApiVersion,
    /// How the run was narrowed (`--target`, `--selector`), or `None` when every manifest and
    /// every organization on the server was planned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrowed: Option<Narrowed>,
    /// One entry per organization that is in a manifest (and planned without error) and per
    /// organization to delete, ordered by lowercase name, then name, then id.
    pub changes: Vec<Change>,
    /// Organizations on the server in no manifest, left alone (always empty with prune), in the
    /// same order.
    pub unmanaged: Vec<Unmanaged>,
    /// How many changes of each action.
    pub summary: Summary,
    /// Organizations that could not be planned. A plan with errors must not be applied.
    pub errors: Vec<ErrorReport>,
}

/// The version of plans that do not say: vboctl spoke only v3 then.
fn legacy_api_version() -> RestApiVersion {
    RestApiVersion::V3
}

impl Plan {
    /// Whether apply would change anything on the server. Unmanaged organizations are not
    /// changes.
    pub fn has_changes(&self) -> bool {
        self.summary.has_changes()
    }

    /// Whether some organization could not be planned.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// How many organizations could not be planned. One organization can have several errors
    /// (one for each field the server's API version does not take, for example).
    pub fn unplanned(&self) -> usize {
        self.errors
            .iter()
            .map(|report| report.error.name().to_lowercase())
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    }

    /// The changes apply acts on: every change but the no-ops.
    pub fn actionable(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.action != Action::NoOp)
    }
}

/// `organization["<name>"]`, with the name quoted as a JSON string so that any character is
/// shown safely.
pub fn address(name: &str) -> String {
    format!("organization[{}]", quote(name))
}

/// A string as a JSON string literal: quotes added, control characters escaped.
pub(crate) fn quote(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}
