//! The decision: manifests and the server's organizations in, a [`Plan`] out.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use serde_json::{Map, Value};
use vbo_model::api::is_later_version_property;
use vbo_model::{Dialect, Organization, RestApiVersion, SecretRef, Spec};

use crate::model::{
    Action, Body, Change, Desired, ErrorReport, FieldChange, Narrowed, Narrowing,
    PLAN_FORMAT_VERSION, Plan, PlanError, PlanOptions, Summary, TargetMiss, Unmanaged, address,
};

/// Compares the manifests with the organizations the server returned and says what apply would
/// do.
///
/// Organizations match by name, ignoring case. A manifest with no match is a create; a match
/// whose observable fields differ is an update (see [`diff_state`] for what is compared); an
/// organization in no manifest is a delete with `options.prune` and unmanaged without. A
/// manifest that cannot be planned (another type than on the server, a name used twice, a name
/// the server has twice) becomes an error instead of a change, and the organizations it names
/// are neither deleted nor listed as unmanaged.
///
/// With `options.scope`, only part of the fleet is planned (see [`Narrowing`]): the manifests
/// it selects, and organizations in no manifest only when a target names them (deleted with
/// prune). Nothing outside the scope is a change or unmanaged, and the plan's `narrowed` says
/// how it was narrowed.
///
/// Pure: the same inputs, in any order, give the same plan.
///
/// ```
/// use vbo_model::{Spec, manifest::OnPremisesSpec};
/// use vbo_plan::{Action, Desired, PlanOptions, plan};
///
/// let desired = Desired::new(
///     "contoso.local",
///     "tenants.yaml:1:1",
///     Spec::OnPremises(OnPremisesSpec {
///         description: None,
///         is_exchange: false,
///         exchange_settings: None,
///         is_share_point: false,
///         share_point_settings: None,
///     }),
/// );
/// let options = PlanOptions { server: "https://vbo:4443".into(), ..PlanOptions::default() };
/// let plan = plan(&[desired], &[], &options);
/// assert_eq!(plan.changes[0].action, Action::Create);
/// assert_eq!(plan.summary.create, 1);
/// ```
pub fn plan(desired: &[Desired], observed: &[Organization], options: &PlanOptions) -> Plan {
    let scope = options
        .scope
        .as_ref()
        .map(|narrowing| Scope::new(narrowing, desired, observed, options.prune));
    let mut wanted: BTreeMap<String, Vec<&Desired>> = BTreeMap::new();
    for d in desired {
        if scope.as_ref().is_some_and(|scope| !scope.selects(d)) {
            continue;
        }
        wanted.entry(d.name.to_lowercase()).or_default().push(d);
    }
    let mut present: BTreeMap<String, Vec<&Organization>> = BTreeMap::new();
    for org in observed {
        present
            .entry(org.name.to_lowercase())
            .or_default()
            .push(org);
    }

    let dialect = options.api_version.dialect();
    let mut errors = Vec::new();
    // Tenants the server has under another name than a manifest's: matched by `msid` only
    // once no name matched, so that a rename is reported instead of a second create.
    let mut renamed = Vec::new();
    // Each name is decided on its own, on every core; the decisions are then taken in name
    // order, so the plan is the same as one decided name after name.
    let groups: Vec<(Vec<&Desired>, Vec<&Organization>)> = wanted
        .into_iter()
        .map(|(key, mut group)| {
            group.sort_by(|a, b| (&a.origin, &a.name).cmp(&(&b.origin, &b.name)));
            (group, present.remove(&key).unwrap_or_default())
        })
        .collect();
    let decisions: Vec<Decision> = groups
        .par_iter()
        .map(|(group, matches)| decide(group, matches, options.api_version, dialect))
        .collect();
    drop(groups);
    // The changes take the decisions' place in memory (collected in place): both at once
    // would be two lists of 200-byte entries.
    let mut changes: Vec<Change> = decisions
        .into_iter()
        .filter_map(|decision| match decision {
            Decision::Planned(Ok(change)) => Some(change),
            Decision::Planned(Err(error)) => {
                errors.push(ErrorReport::from(error));
                None
            }
            Decision::Unsupported(reports) => {
                errors.extend(reports);
                None
            }
            Decision::Renamed(d) => {
                renamed.push(d);
                None
            }
        })
        .collect();
    // A delete or an unmanaged entry per organization left on the server: reserved at once
    // rather than grown by doubling.
    let left: usize = present.values().map(Vec::len).sum();
    let may_delete = options.prune || scope.is_some();
    changes.reserve_exact(renamed.len() + if may_delete { left } else { 0 });
    let mut unmanaged = Vec::with_capacity(if may_delete { 0 } else { left });

    for d in renamed {
        let msid = d.msid.as_deref().unwrap_or_default();
        let holder = present.iter().find_map(|(key, orgs)| {
            orgs.iter()
                .find(|org| {
                    org.msid
                        .as_deref()
                        .is_some_and(|m| m.eq_ignore_ascii_case(msid))
                })
                .map(|org| (key.clone(), *org))
        });
        let outcome = match holder {
            Some((key, org)) => {
                present.remove(&key);
                Err(PlanError::TenantRenamed {
                    name: d.name.clone(),
                    origin: d.origin.clone(),
                    msid: msid.to_owned(),
                    server_name: org.name.clone(),
                    id: org.id.clone(),
                })
            }
            None => new_organization(d, dialect),
        };
        match outcome {
            Ok(change) => changes.push(change),
            Err(error) => errors.push(ErrorReport::from(error)),
        }
    }

    for org in present.into_values().flatten() {
        if let Some(scope) = &scope {
            // A narrowed run reaches an organization in no manifest only when a target names
            // it, and only to delete it.
            if scope.deletes(org) {
                changes.push(delete(org));
            }
        } else if options.prune {
            changes.push(delete(org));
        } else {
            unmanaged.push(Unmanaged {
                id: org.id.clone(),
                name: org.name.clone(),
                kind: org.state.kind,
                msid: org.msid.clone(),
            });
        }
    }

    let narrowed = scope.map(|scope| {
        errors.extend(scope.misses.into_iter().map(ErrorReport::from));
        scope.narrowed
    });

    // No two changes, and no two unmanaged organizations, have the same name and id, so an
    // unstable sort gives the same order as a stable one, without a copy of the list.
    changes.sort_unstable_by(|a, b| order((&a.name, a.id.as_deref()), (&b.name, b.id.as_deref())));
    unmanaged.sort_unstable_by(|a, b| order((&a.name, Some(&a.id)), (&b.name, Some(&b.id))));
    errors.sort_by(|a, b| {
        (a.error.name().to_lowercase(), &a.message)
            .cmp(&(b.error.name().to_lowercase(), &b.message))
    });

    Plan {
        format_version: PLAN_FORMAT_VERSION.to_owned(),
        server: options.server.clone(),
        api_version: options.api_version,
        narrowed,
        summary: Summary::of(&changes),
        changes,
        unmanaged,
        errors,
    }
}

/// What a [`Narrowing`] selects, worked out once against the manifests and the server.
struct Scope<'a> {
    narrowing: &'a Narrowing,
    /// Lowercase names of the organizations in no manifest that a target names, to delete.
    doomed: BTreeSet<String>,
    /// Targets that select nothing.
    misses: Vec<PlanError>,
    narrowed: Narrowed,
}

impl<'a> Scope<'a> {
    fn new(
        narrowing: &'a Narrowing,
        desired: &[Desired],
        observed: &[Organization],
        prune: bool,
    ) -> Self {
        let mut given = Vec::new();
        let mut targets = BTreeSet::new();
        for target in &narrowing.targets {
            if targets.insert(target.to_lowercase()) {
                given.push(target.clone());
            }
        }
        let in_manifests: BTreeSet<String> =
            desired.iter().map(|d| d.name.to_lowercase()).collect();
        let selected: BTreeSet<String> = desired
            .iter()
            .filter(|d| narrowing.selects(d))
            .map(|d| d.name.to_lowercase())
            .collect();
        let on_server: BTreeSet<String> = observed.iter().map(|o| o.name.to_lowercase()).collect();

        let mut doomed = BTreeSet::new();
        let mut misses = Vec::new();
        for name in &given {
            let key = name.to_lowercase();
            let reason = if selected.contains(&key) {
                continue;
            } else if in_manifests.contains(&key) {
                TargetMiss::NotSelected
            } else if !on_server.contains(&key) {
                TargetMiss::NoManifest
            } else if narrowing
                .selector
                .as_ref()
                .is_some_and(|selector| !selector.matches(&BTreeMap::new()))
            {
                // An organization in no manifest has no labels.
                TargetMiss::NotSelected
            } else if prune {
                doomed.insert(key);
                continue;
            } else {
                TargetMiss::UnmanagedWithoutPrune
            };
            misses.push(PlanError::UnmatchedTarget {
                name: name.clone(),
                reason,
            });
        }

        let narrowed = Narrowed {
            targets: given,
            selector: narrowing.selector.as_ref().map(ToString::to_string),
            selected: selected.len() + doomed.len(),
            organizations: in_manifests.union(&on_server).count(),
        };
        Scope {
            narrowing,
            doomed,
            misses,
            narrowed,
        }
    }

    /// Whether the manifest `d` is planned.
    fn selects(&self, d: &Desired) -> bool {
        self.narrowing.selects(d)
    }

    /// Whether `org`, on the server and matched by no selected manifest, is to be deleted.
    fn deletes(&self, org: &Organization) -> bool {
        self.doomed.contains(&org.name.to_lowercase())
    }
}

/// The order of names (and ids) in a plan: by name ignoring case, then as written, then by id.
fn order(a: (&str, Option<&str>), b: (&str, Option<&str>)) -> Ordering {
    let (a_name, b_name) = (a.0, b.0);
    // Most names are ASCII: compared byte by byte, lowercased on the fly, as their lowercased
    // copies would compare, without making them.
    let folded = if a_name.is_ascii() && b_name.is_ascii() {
        a_name
            .bytes()
            .map(|byte| byte.to_ascii_lowercase())
            .cmp(b_name.bytes().map(|byte| byte.to_ascii_lowercase()))
    } else {
        a_name.to_lowercase().cmp(&b_name.to_lowercase())
    };
    folded
        .then_with(|| a_name.cmp(b_name))
        .then_with(|| a.1.cmp(&b.1))
}

fn sorted(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut items: Vec<String> = items.collect();
    items.sort();
    items
}

/// The fields of `d`'s spec that `version` does not take, each as an error at its place.
fn unsupported_fields(d: &Desired, version: RestApiVersion) -> Vec<PlanError> {
    version
        .dialect()
        .unsupported(d.spec.kind(), &to_json(&d.spec))
        .into_iter()
        .map(|unsupported| PlanError::UnsupportedField {
            name: d.name.clone(),
            origin: d.field_origin(&unsupported.path),
            field: unsupported.path,
            api_version: version,
            versions: unsupported.versions,
        })
        .collect()
}

/// What one name of the manifests comes to.
enum Decision<'a> {
    /// Fields the server's version does not take: errors, and no change.
    Unsupported(Vec<ErrorReport>),
    /// No organization has the name, but the manifest gives an msid: looked up by it later.
    Renamed(&'a Desired),
    /// A change, or why there cannot be one.
    Planned(Result<Change, PlanError>),
}

/// Decides one name: the manifests that give it (`group`, more than one is an error) and the
/// organizations the server has under it (`matches`).
fn decide<'a>(
    group: &[&'a Desired],
    matches: &[&Organization],
    version: RestApiVersion,
    dialect: &Dialect,
) -> Decision<'a> {
    if let [d] = group {
        let unsupported = unsupported_fields(d, version);
        if !unsupported.is_empty() {
            return Decision::Unsupported(unsupported.into_iter().map(ErrorReport::from).collect());
        }
    }
    Decision::Planned(match (group, matches) {
        ([d], []) if d.msid.is_some() => return Decision::Renamed(d),
        ([d], []) => new_organization(d, dialect),
        ([d], [org]) => existing(d, org),
        ([d], many) => Err(PlanError::AmbiguousMatch {
            name: d.name.clone(),
            origin: d.origin.clone(),
            ids: sorted(many.iter().map(|o| o.id.clone())),
        }),
        (all, _) => Err(PlanError::DuplicateName {
            name: all[0].name.clone(),
            origins: all.iter().map(|d| d.origin.clone()).collect(),
        }),
    })
}

/// A create, unless the version refuses to add the organization as the manifest describes it.
fn new_organization(d: &Desired, dialect: &Dialect) -> Result<Change, PlanError> {
    let body = d.spec.to_reference_body(&d.name);
    match dialect.refused_new_authentication(&body) {
        Some(field) => Err(PlanError::RefusedAuthentication {
            name: d.name.clone(),
            origin: d.field_origin(field),
            field: field.to_owned(),
            api_version: dialect.version,
        }),
        None => Ok(create(d)),
    }
}

fn create(d: &Desired) -> Change {
    Change {
        address: address(&d.name),
        name: d.name.clone(),
        action: Action::Create,
        id: None,
        msid: None,
        origin: Some(d.origin.clone()),
        before: None,
        after: Some(Body::from(reference_body(&d.spec, &d.name))),
        changed_fields: Vec::new(),
        reason: "not on the server".to_owned(),
    }
}

fn existing(d: &Desired, org: &Organization) -> Result<Change, PlanError> {
    let desired_kind = d.spec.kind();
    if desired_kind != org.state.kind {
        return Err(PlanError::TypeChange {
            name: d.name.clone(),
            origin: d.origin.clone(),
            id: org.id.clone(),
            observed: org.state.kind,
            desired: desired_kind,
        });
    }
    let changed_fields = diff_state(&to_json(&org.state), &to_json(&d.spec.state()));
    let (action, mut reason) = match changed_fields.len() {
        0 => (Action::NoOp, "matches the server".to_owned()),
        1 => (Action::Update, "1 field differs from the server".to_owned()),
        n => (Action::Update, format!("{n} fields differ from the server")),
    };
    if org.name != d.name {
        reason.push_str(&format!("; the server spells the name {:?}", org.name));
    }
    Ok(Change {
        address: address(&d.name),
        name: d.name.clone(),
        action,
        id: Some(org.id.clone()),
        msid: org.msid.clone(),
        origin: Some(d.origin.clone()),
        before: Some(Body::from(observed_json(org))),
        after: Some(Body::from(reference_body(&d.spec, &d.name))),
        changed_fields,
        reason,
    })
}

fn delete(org: &Organization) -> Change {
    Change {
        address: address(&org.name),
        name: org.name.clone(),
        action: Action::Delete,
        id: Some(org.id.clone()),
        msid: org.msid.clone(),
        origin: None,
        before: Some(Body::from(observed_json(org))),
        after: None,
        changed_fields: Vec::new(),
        reason: "on the server but in no manifest, and planning with prune".to_owned(),
    }
}

/// The observed organization as a change's `before`: its name and observable state.
fn observed_json(org: &Organization) -> Value {
    let mut value = to_json(&org.state);
    if let Value::Object(map) = &mut value {
        map.insert("name".to_owned(), Value::String(org.name.clone()));
    }
    value
}

/// The body apply sends, with references in place of secrets.
///
/// A `fromFile` path that is not UTF-8 is shown lossily, so that the body always serializes;
/// the reference itself is untouched for apply.
fn reference_body(spec: &Spec, name: &str) -> Value {
    let Ok(body) = spec.to_body(name, |_, reference| {
        Ok::<_, std::convert::Infallible>(match reference {
            SecretRef::FromFile(path) => {
                SecretRef::FromFile(path.to_string_lossy().into_owned().into())
            }
            other => other.clone(),
        })
    });
    to_json(&body)
}

/// Serializes a value made of strings, numbers, booleans, maps with string keys and
/// secret references with UTF-8 paths, which cannot fail.
pub(crate) fn to_json(value: &impl serde::Serialize) -> Value {
    // Every caller passes a model type whose serialization is infallible (see above).
    serde_json::to_value(value).expect("model types always serialize to JSON")
}

/// Optional text properties that the v3 representation includes whenever they are set, so
/// that their absence from an answer means "not set" rather than "not reported". Properties a
/// v3 server does not report at all (`applicationCertificate`,
/// `applicationCertificateThumbprint`) are not listed: they cannot be compared.
pub const REPORTED_WHEN_SET: &[&str] = &["account", "applicationId", "username", "serverName"];

/// Whether a manifest that does not set `key` leaves it to the server: the properties of
/// versions after v3 ([`is_later_version_property`]) and `applicationCertificate` (the file
/// itself is never reported). What the server has there is then not a difference: apply would
/// not send it, so it could never converge.
fn left_to_the_server_when_unset(key: &str) -> bool {
    is_later_version_property(key) || key == "applicationCertificate"
}

/// The observable fields that differ between what the server reports (`observed`) and what
/// the manifest asks for (`desired`), both the JSON of an
/// [`OrganizationState`](vbo_model::OrganizationState), ordered by path.
///
/// Only what the server returned is compared:
/// - a scalar the server omitted is not compared (the server may simply not report it),
///   except the names and accounts a v3 server always reports when they are set
///   ([`REPORTED_WHEN_SET`]), and the properties of later versions
///   ([`is_later_version_property`]), which a version that takes them reports when set:
///   their absence means they are unset there;
/// - a settings object the manifest sets but the server lacks is a change from `null`;
/// - a field or object the server has and the manifest does not set is a change to `null`,
///   except `false`, which every flag defaults to, and the optional properties a manifest
///   leaves to the server when it omits them (the properties of later versions, and
///   `applicationCertificate`);
/// - objects on both sides are compared field by field.
///
/// Write-only secrets are never part of a state, so they never cause a change.
pub fn diff_state(observed: &Value, desired: &Value) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    match (observed, desired) {
        (Value::Object(o), Value::Object(d)) => diff_objects("", o, d, &mut changes),
        (o, d) if o != d => changes.push(FieldChange {
            path: String::new(),
            before: o.clone(),
            after: d.clone(),
        }),
        _ => {}
    }
    changes
}

fn diff_objects(
    prefix: &str,
    observed: &Map<String, Value>,
    desired: &Map<String, Value>,
    changes: &mut Vec<FieldChange>,
) {
    let mut keys: Vec<&String> = observed.keys().chain(desired.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let change = |before: &Value, after: &Value| FieldChange {
            path: path.clone(),
            before: before.clone(),
            after: after.clone(),
        };
        match (observed.get(key), desired.get(key)) {
            (Some(Value::Object(o)), Some(Value::Object(d))) => diff_objects(&path, o, d, changes),
            (Some(o), Some(d)) if o != d => changes.push(change(o, d)),
            (Some(_), None) if left_to_the_server_when_unset(key) => {}
            (Some(o), None) if !matches!(o, Value::Null | Value::Bool(false)) => {
                changes.push(change(o, &Value::Null));
            }
            (None, Some(d @ Value::Object(_))) => changes.push(change(&Value::Null, d)),
            (None, Some(d @ Value::String(_))) if REPORTED_WHEN_SET.contains(&key.as_str()) => {
                changes.push(change(&Value::Null, d));
            }
            (None, Some(d))
                if is_later_version_property(key)
                    && !matches!(d, Value::Null | Value::Bool(false)) =>
            {
                changes.push(change(&Value::Null, d));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
#[path = "planner_tests.rs"]
mod tests;
