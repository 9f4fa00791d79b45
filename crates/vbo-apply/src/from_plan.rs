//! From a [`Plan`] to [`Step`]s, and from the server's answer after applying to a verdict.

use std::collections::{HashMap, HashSet};

use vbo_model::{Organization, RestApiVersion};
use vbo_plan::{Action, Desired, Plan, PlanOptions};

use crate::{Step, StepKind, StepOutcome, StepResult};

/// Which changes of a plan to carry out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every create, update and delete.
    All,
    /// Creates only: updates and deletes are shown but skipped.
    CreateOnly,
}

/// A change of the plan that cannot be turned into a step.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// A create or update whose manifest is not among the desired organizations.
    #[error("the plan changes organization {name:?} but no manifest describes it")]
    MissingDesired {
        /// The organization's name.
        name: String,
    },
    /// An update or delete without the server's id.
    #[error("the plan changes organization {name:?} but does not say which server object it is")]
    MissingId {
        /// The organization's name.
        name: String,
    },
}

/// The steps that carry out `plan`'s changes within `scope`, with specs from `desired`, and the
/// changes skipped because of the scope.
pub fn steps(
    plan: &Plan,
    desired: &[Desired],
    scope: Scope,
) -> Result<(Vec<Step>, Vec<String>), StepError> {
    let mut steps = Vec::new();
    let mut skipped = Vec::new();
    let by_name = by_name(desired);
    for change in plan.actionable() {
        if scope == Scope::CreateOnly && change.action != Action::Create {
            skipped.push(change.address.clone());
            continue;
        }
        let spec = || {
            by_name
                .get(change.name.as_str())
                .map(|d| Box::new(d.spec.clone()))
                .ok_or_else(|| StepError::MissingDesired {
                    name: change.name.clone(),
                })
        };
        let id = || {
            change.id.clone().ok_or_else(|| StepError::MissingId {
                name: change.name.clone(),
            })
        };
        let kind = match change.action {
            Action::Create => StepKind::Create { spec: spec()? },
            Action::Update => StepKind::Update {
                id: id()?,
                spec: spec()?,
            },
            Action::Delete => StepKind::Delete { id: id()? },
            Action::NoOp => continue,
        };
        steps.push(Step {
            address: change.address.clone(),
            name: change.name.clone(),
            kind,
        });
    }
    Ok((steps, skipped))
}

/// The desired organizations by name, the first of a name winning, so that thousands of changes
/// do not each search every manifest.
fn by_name(desired: &[Desired]) -> HashMap<&str, &Desired> {
    desired.iter().rev().map(|d| (d.name.as_str(), d)).collect()
}

/// Something that did not converge although its step reported success.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unconverged {
    /// The server registered the new organization under another name than `metadata.name`
    /// (it names Office365 organizations after their tenant), so the next plan would try to
    /// create it again.
    #[error(
        "the server registered {name:?} as {server_name:?}: set `metadata.name: {server_name}` in {origin} so that the next plan does not try to create it again"
    )]
    RegisteredUnderAnotherName {
        /// `metadata.name`.
        name: String,
        /// The name on the server.
        server_name: String,
        /// Where the manifest is.
        origin: String,
    },
    /// Created, but the server does not list it.
    #[error("{name:?} was created but the server does not list it")]
    Missing {
        /// `metadata.name`.
        name: String,
    },
    /// Updated, but the server still reports other values.
    #[error("{name:?} still differs from its manifest after the update: {}", fields.join(", "))]
    StillDiffers {
        /// `metadata.name`.
        name: String,
        /// The paths that differ.
        fields: Vec<String>,
    },
    /// Deleted, but the server still lists it.
    #[error("{name:?} was deleted but the server still lists it (id {id})")]
    StillPresent {
        /// The organization's name.
        name: String,
        /// Its id.
        id: String,
    },
}

/// Checks the server's organizations after a run against what each successful step promised:
/// planning the applied manifests again must find nothing to do, and deleted organizations
/// must be gone. `api_version` is the version the plan was made (and applied) in.
pub fn verify(
    results: &[StepResult],
    desired: &[Desired],
    observed: &[Organization],
    api_version: RestApiVersion,
) -> Vec<Unconverged> {
    let mut problems = Vec::new();
    let by_name = by_name(desired);
    let applied: Vec<Desired> = results
        .iter()
        .filter(|r| r.outcome.is_success() && !matches!(r.step.kind, StepKind::Delete { .. }))
        .filter_map(|r| by_name.get(r.step.name.as_str()).map(|d| (*d).clone()))
        .collect();
    let options = PlanOptions {
        prune: false,
        server: String::new(),
        api_version,
        scope: None,
    };
    let replan = vbo_plan::plan(&applied, observed, &options);
    for change in &replan.changes {
        match change.action {
            Action::NoOp | Action::Delete => {}
            Action::Create => {
                let server_name = results.iter().find_map(|r| match &r.outcome {
                    StepOutcome::Created { server_name, .. }
                    | StepOutcome::Adopted { server_name, .. }
                    | StepOutcome::CreatedElsewhere { server_name, .. }
                        if r.step.name == change.name
                            && !server_name.eq_ignore_ascii_case(&change.name) =>
                    {
                        Some(server_name.clone())
                    }
                    _ => None,
                });
                problems.push(match server_name {
                    Some(server_name) => Unconverged::RegisteredUnderAnotherName {
                        name: change.name.clone(),
                        server_name,
                        origin: change.origin.clone().unwrap_or_default(),
                    },
                    None => Unconverged::Missing {
                        name: change.name.clone(),
                    },
                });
            }
            Action::Update => problems.push(Unconverged::StillDiffers {
                name: change.name.clone(),
                fields: change
                    .changed_fields
                    .iter()
                    .map(|f| f.path.clone())
                    .collect(),
            }),
        }
    }
    for error in &replan.errors {
        problems.push(Unconverged::StillDiffers {
            name: error.error.name().to_owned(),
            fields: vec![error.message.clone()],
        });
    }
    let listed: HashSet<&str> = observed.iter().map(|o| o.id.as_str()).collect();
    for result in results {
        if let (StepKind::Delete { id }, true) = (&result.step.kind, result.outcome.is_success())
            && listed.contains(id.as_str())
        {
            problems.push(Unconverged::StillPresent {
                name: result.step.name.clone(),
                id: id.clone(),
            });
        }
    }
    problems
}
