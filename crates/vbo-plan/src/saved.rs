//! Saved plans (`vboctl plan --out FILE`) and the fingerprints that keep apply from acting on a
//! stale one.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use vbo_model::{Organization, OrganizationState, SecretRef};

use crate::model::{Desired, Plan};
use crate::planner::to_json;

/// Version of the saved plan file. Minor versions only add fields; anything else bumps the
/// major version, and a file of another major version is refused.
pub const SAVED_PLAN_FORMAT_VERSION: &str = "1.0";

/// A plan saved for a later `vboctl apply --plan FILE`: the plan itself plus what apply needs to
/// do it and to refuse it once the server has moved on.
///
/// Secrets appear only as references (`{"fromEnv": ..}`, `{"fromFile": ..}`): a saved plan never
/// holds a value, so manifests with literal secrets cannot be saved (see
/// [`PlanFile::literal_secrets`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanFile {
    /// [`SAVED_PLAN_FORMAT_VERSION`] when the file was written.
    pub format_version: String,
    /// The server the plan was made against.
    pub server: String,
    /// What the server looked like when planning.
    pub fingerprints: Fingerprints,
    /// The manifests planned, with secret references, ordered by lowercase name.
    pub desired: Vec<Desired>,
    /// The plan, as `vboctl plan --format json` prints it.
    pub plan: Plan,
}

/// Fingerprints of the organizations the server returned when planning.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprints {
    /// Each organization's fingerprint, by id.
    pub organizations: BTreeMap<String, OrganizationFingerprint>,
    /// Fingerprint of the whole list (see [`list_fingerprint`]).
    pub list: String,
}

/// One organization as it was when planning.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationFingerprint {
    /// Its name then, to name it if it has gone since.
    pub name: String,
    /// [`fingerprint`] of the organization.
    pub sha256: String,
}

/// A secret written in a manifest, which a saved plan cannot carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiteralSecret {
    /// The organization's name.
    pub name: String,
    /// Where its manifest is.
    pub origin: String,
    /// The field under `spec`, for example `exchangeOnlineSettings.password`.
    pub path: String,
}

/// Why a saved plan cannot be written or read.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    /// The manifests write secrets literally; a saved plan never carries secret values.
    #[error(
        "a saved plan cannot carry literal secrets, and {} written in the manifests: {}",
        if secrets.len() == 1 { "one is" } else { "some are" },
        describe_literals(secrets)
    )]
    LiteralSecrets {
        /// Each literal secret.
        secrets: Vec<LiteralSecret>,
    },
    /// A `fromFile` path cannot be written to the file because it is not UTF-8.
    #[error(
        "the secret file of organization {name:?} at spec.{path} is not a UTF-8 path, which a saved plan cannot record"
    )]
    NonUnicodePath {
        /// The organization's name.
        name: String,
        /// The field under `spec`.
        path: String,
    },
    /// The plan could not be turned into JSON.
    #[error("cannot write the plan as JSON: {source}")]
    Unserializable {
        /// What the JSON serializer said.
        source: serde_json::Error,
    },
    /// The text is not a saved plan.
    #[error("not a saved vboctl plan: {source}")]
    Malformed {
        /// What the JSON parser said.
        source: serde_json::Error,
    },
    /// The file was written by a vboctl with another major format version.
    #[error(
        "saved plan format {found} is not supported (this vboctl reads {SAVED_PLAN_FORMAT_VERSION}); make the plan again with this vboctl"
    )]
    UnsupportedVersion {
        /// The file's `format_version`.
        found: String,
    },
}

fn describe_literals(secrets: &[LiteralSecret]) -> String {
    secrets
        .iter()
        .map(|s| format!("{:?} spec.{} ({})", s.name, s.path, s.origin))
        .collect::<Vec<_>>()
        .join(", ")
}

impl PlanFile {
    /// Records `plan`, made from `desired` and `observed`, for a later apply.
    ///
    /// A narrowed plan (see [`Plan::narrowed`]) records only what is in its scope: the manifests
    /// it planned, and the fingerprints of the organizations it is about (those its changes
    /// and targets name, and those holding a planned manifest's tenant), so that a change on
    /// the server outside the scope does not make it stale.
    pub fn new(plan: Plan, desired: &[Desired], observed: &[Organization]) -> Self {
        let mut desired = desired.to_vec();
        if let Some(names) = scope_names(&plan) {
            desired.retain(|d| names.contains(&d.name.to_lowercase()));
        }
        let observed = in_scope(&plan, &desired, observed);
        desired.sort_by(|a, b| {
            (a.name.to_lowercase(), &a.name, &a.origin).cmp(&(
                b.name.to_lowercase(),
                &b.name,
                &b.origin,
            ))
        });
        PlanFile {
            format_version: SAVED_PLAN_FORMAT_VERSION.to_owned(),
            server: plan.server.clone(),
            fingerprints: Fingerprints::of(&observed),
            desired,
            plan,
        }
    }

    /// The secrets the manifests write literally. A saved plan cannot carry them: refuse to save
    /// when this is not empty, and suggest `fromEnv` or `fromFile`.
    pub fn literal_secrets(&self) -> Vec<LiteralSecret> {
        self.desired
            .iter()
            .flat_map(|d| {
                d.spec
                    .secret_fields()
                    .into_iter()
                    .filter(|field| field.reference.is_literal())
                    .map(|field| LiteralSecret {
                        name: d.name.clone(),
                        origin: d.origin.clone(),
                        path: field.path,
                    })
            })
            .collect()
    }

    /// The manifest behind a change, found by its name.
    pub fn desired(&self, name: &str) -> Option<&Desired> {
        self.desired.iter().find(|d| d.name == name)
    }

    /// The file's text: pretty JSON, ready to be written (with mode 0600) by the caller.
    ///
    /// Refuses literal secrets and non-UTF-8 secret file paths, which a file could not carry
    /// faithfully.
    pub fn to_json(&self) -> Result<String, PlanFileError> {
        let secrets = self.literal_secrets();
        if !secrets.is_empty() {
            return Err(PlanFileError::LiteralSecrets { secrets });
        }
        for d in &self.desired {
            for field in d.spec.secret_fields() {
                if let SecretRef::FromFile(path) = field.reference
                    && path.to_str().is_none()
                {
                    return Err(PlanFileError::NonUnicodePath {
                        name: d.name.clone(),
                        path: field.path,
                    });
                }
            }
        }
        serde_json::to_string_pretty(self)
            .map_err(|source| PlanFileError::Unserializable { source })
    }

    /// Reads a saved plan written by [`PlanFile::to_json`].
    pub fn from_json(text: &str) -> Result<Self, PlanFileError> {
        let value: Value =
            serde_json::from_str(text).map_err(|source| PlanFileError::Malformed { source })?;
        let found = value
            .get("format_version")
            .and_then(Value::as_str)
            .unwrap_or("(none)");
        if major(found) != major(SAVED_PLAN_FORMAT_VERSION) {
            return Err(PlanFileError::UnsupportedVersion {
                found: found.to_owned(),
            });
        }
        serde_json::from_value(value).map_err(|source| PlanFileError::Malformed { source })
    }

    /// What changed on the server since the plan was made, judged by the fingerprints.
    /// Apply refuses a plan that is not [`Staleness::is_fresh`].
    ///
    /// For a narrowed plan only the organizations in its scope count (see [`PlanFile::new`]):
    /// one added, changed or removed outside it does not make the plan stale.
    pub fn staleness(&self, observed: &[Organization]) -> Staleness {
        let now = Fingerprints::of(&in_scope(&self.plan, &self.desired, observed));
        let mut staleness = Staleness {
            list_changed: now.list != self.fingerprints.list,
            ..Staleness::default()
        };
        if !staleness.list_changed {
            return staleness;
        }
        for (id, current) in &now.organizations {
            match self.fingerprints.organizations.get(id) {
                None => staleness.added.push(current.name.clone()),
                Some(then) if then.sha256 != current.sha256 => {
                    staleness.changed.push(current.name.clone());
                }
                Some(_) => {}
            }
        }
        for (id, then) in &self.fingerprints.organizations {
            if !now.organizations.contains_key(id) {
                staleness.removed.push(then.name.clone());
            }
        }
        for names in [
            &mut staleness.added,
            &mut staleness.changed,
            &mut staleness.removed,
        ] {
            names.sort_by_key(|name| (name.to_lowercase(), name.clone()));
        }
        staleness
    }
}

/// The lowercase names a narrowed plan is about: those of its changes and of its targets.
/// `None` for a plan of everything.
fn scope_names(plan: &Plan) -> Option<BTreeSet<String>> {
    let narrowed = plan.narrowed.as_ref()?;
    Some(
        plan.changes
            .iter()
            .map(|c| c.name.to_lowercase())
            .chain(narrowed.targets.iter().map(|t| t.to_lowercase()))
            .collect(),
    )
}

/// The organizations of `observed` that a plan made from `desired` is about: all of them for a
/// plan of everything; for a narrowed plan, those named by [`scope_names`], those its changes
/// name by id, and those holding the tenant (`msid`) of a manifest in `desired`.
fn in_scope(plan: &Plan, desired: &[Desired], observed: &[Organization]) -> Vec<Organization> {
    let Some(names) = scope_names(plan) else {
        return observed.to_vec();
    };
    let ids: BTreeSet<&str> = plan
        .changes
        .iter()
        .filter_map(|c| c.id.as_deref())
        .collect();
    let msids: BTreeSet<String> = desired
        .iter()
        .filter_map(|d| d.msid.as_ref().map(|m| m.to_lowercase()))
        .collect();
    observed
        .iter()
        .filter(|org| {
            names.contains(&org.name.to_lowercase())
                || ids.contains(org.id.as_str())
                || org
                    .msid
                    .as_ref()
                    .is_some_and(|m| msids.contains(&m.to_lowercase()))
        })
        .cloned()
        .collect()
}

fn major(version: &str) -> &str {
    version.split('.').next().unwrap_or(version)
}

/// Organizations that were added, changed or removed on the server since a plan was made.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Staleness {
    /// Names of organizations that appeared.
    pub added: Vec<String>,
    /// Names of organizations whose name or observable state changed.
    pub changed: Vec<String>,
    /// Names (as they were) of organizations that are gone.
    pub removed: Vec<String>,
    /// Whether the list's fingerprint differs. With the three lists empty, it changed in a way
    /// no single organization explains (the server returned one id twice).
    pub list_changed: bool,
}

impl Staleness {
    /// Whether the server still looks as it did when planning.
    pub fn is_fresh(&self) -> bool {
        !self.list_changed
    }
}

impl Fingerprints {
    /// Fingerprints of every organization in `observed` and of the whole list.
    pub fn of(observed: &[Organization]) -> Self {
        Fingerprints {
            organizations: observed
                .iter()
                .map(|org| {
                    let fp = OrganizationFingerprint {
                        name: org.name.clone(),
                        sha256: fingerprint(org),
                    };
                    (org.id.clone(), fp)
                })
                .collect(),
            list: list_fingerprint(observed),
        }
    }
}

/// What a fingerprint covers: everything a plan depends on. Backup times, links and actions
/// are left out: they change as backups run, and a plan does not depend on them.
#[derive(Serialize)]
struct Fingerprinted<'a> {
    id: &'a str,
    name: &'a str,
    #[serde(flatten)]
    state: &'a OrganizationState,
}

/// SHA-256 (hex) of the canonical JSON (keys sorted, no whitespace) of an organization's id,
/// name and observable state.
pub fn fingerprint(org: &Organization) -> String {
    sha256(&canonical_json(&to_json(&Fingerprinted {
        id: &org.id,
        name: &org.name,
        state: &org.state,
    })))
}

/// SHA-256 (hex) of the canonical JSON of `[[id, fingerprint], ...]` sorted by id: it changes
/// when any organization appears, disappears or changes.
pub fn list_fingerprint(observed: &[Organization]) -> String {
    let mut pairs: Vec<(&str, String)> = observed
        .iter()
        .map(|org| (org.id.as_str(), fingerprint(org)))
        .collect();
    pairs.sort();
    sha256(&canonical_json(&to_json(&pairs)))
}

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// JSON with object keys sorted at every level and no whitespace, whatever order the map kept.
fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by_key(|(key, _)| *key);
            let body: Vec<String> = entries
                .into_iter()
                .map(|(key, value)| {
                    format!("{}:{}", Value::String(key.clone()), canonical_json(value))
                })
                .collect();
            format!("{{{}}}", body.join(","))
        }
        Value::Array(items) => {
            let body: Vec<String> = items.iter().map(canonical_json).collect();
            format!("[{}]", body.join(","))
        }
        scalar => scalar.to_string(),
    }
}
