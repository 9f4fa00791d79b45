//! Carries out the changes of a plan against the server, and prepares that plan
//! ([`prepare`]: manifests, secrets, connection, list, plan).
//!
//! - Creates, updates and deletes run concurrently, at most [`ApplyOptions::parallelism`] at a
//!   time, and each result is reported as soon as it is known.
//! - A create is never sent twice blindly. When its answer is lost (timeout, dropped
//!   connection, 5xx) the applier lists the server first: if an organization of that name now
//!   exists, it was created and is adopted; only otherwise is the create sent again, after a
//!   backoff. So no fault can make a duplicate, and re-running after any failure converges.
//! - A refusal (400) fails that change with the server's message; the others go on.

mod from_plan;
pub mod prepare;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use vbo_client::{Client, ClientError, Outcome, RetryPolicy};
use vbo_model::{Organization, OrganizationBody, Secret, Spec};

pub use from_plan::{Scope, StepError, Unconverged, steps, verify};

/// What to do to one organization.
#[derive(Clone, Debug)]
pub enum StepKind {
    /// `POST` a new organization built from the spec.
    Create {
        /// The desired configuration; secrets are resolved just before sending.
        spec: Box<Spec>,
    },
    /// `PUT` the full configuration, secrets included, over organization `id`.
    Update {
        /// The server's id of the organization.
        id: String,
        /// The desired configuration; secrets are resolved just before sending.
        spec: Box<Spec>,
    },
    /// `DELETE` organization `id`.
    Delete {
        /// The server's id of the organization.
        id: String,
    },
}

/// One change to carry out.
#[derive(Clone, Debug)]
pub struct Step {
    /// The change's address in the plan, for example `organization["contoso.onmicrosoft.com"]`.
    pub address: String,
    /// The organization's name (`metadata.name`, or the server's name for a delete).
    pub name: String,
    /// What to do.
    pub kind: StepKind,
}

impl Step {
    /// `create`, `update` or `delete`.
    pub fn action(&self) -> &'static str {
        match self.kind {
            StepKind::Create { .. } => "create",
            StepKind::Update { .. } => "update",
            StepKind::Delete { .. } => "delete",
        }
    }
}

/// How a step ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepOutcome {
    /// The server created the organization and said so.
    Created {
        /// The new organization's id.
        id: String,
        /// The name the server registered it under (it may differ from `metadata.name`).
        server_name: String,
    },
    /// An attempt whose answer was lost had created the organization: it was found on the
    /// server and taken as created rather than created again.
    Adopted {
        /// The organization's id.
        id: String,
        /// The name the server registered it under.
        server_name: String,
    },
    /// The configuration was replaced.
    Updated,
    /// The organization was removed.
    Deleted,
    /// The step did not complete. `message` says why and, where it matters, what to do.
    Failed {
        /// What went wrong, with the server's message when it gave one. Never a secret.
        message: String,
    },
}

impl StepOutcome {
    /// Whether the step completed.
    pub fn is_success(&self) -> bool {
        !matches!(self, StepOutcome::Failed { .. })
    }
}

/// The result of one step.
#[derive(Clone, Debug)]
pub struct StepResult {
    /// The step that ran.
    pub step: Step,
    /// How it ended.
    pub outcome: StepOutcome,
    /// Requests of the step's own kind that were sent (creates are counted one by one).
    pub attempts: u32,
    /// Time from the step's start to its end.
    pub duration: Duration,
}

/// Limits of a run.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Steps in flight at once. At least 1.
    pub parallelism: usize,
    /// Bounds on sending a create again after its answer was lost or it was throttled.
    pub create_retry: RetryPolicy,
}

impl Default for ApplyOptions {
    /// 10 steps at a time; creates retried like the client retries reads.
    fn default() -> Self {
        Self {
            parallelism: 10,
            create_retry: RetryPolicy::default(),
        }
    }
}

/// Runs every step, at most `options.parallelism` at once, calling `on_result` as each
/// finishes. Returns the results in the order of `steps`.
pub async fn apply(
    client: &Client,
    steps: Vec<Step>,
    options: &ApplyOptions,
    mut on_result: impl FnMut(&StepResult),
) -> Vec<StepResult> {
    let count = steps.len();
    let mut results: Vec<Option<StepResult>> = vec![None; count];
    let mut running = futures_util::stream::iter(steps.into_iter().enumerate())
        .map(|(index, step)| async move { (index, run_step(client, step, options).await) })
        .buffer_unordered(options.parallelism.max(1));
    while let Some((index, result)) = running.next().await {
        on_result(&result);
        results[index] = Some(result);
    }
    results.into_iter().flatten().collect()
}

async fn run_step(client: &Client, step: Step, options: &ApplyOptions) -> StepResult {
    let started = Instant::now();
    let (outcome, attempts) = match &step.kind {
        StepKind::Create { spec } => create(client, &step.name, spec, &options.create_retry).await,
        StepKind::Update { id, spec } => (update(client, &step.name, id, spec).await, 1),
        StepKind::Delete { id } => (delete(client, id).await, 1),
    };
    tracing::debug!(
        "{} {}: {}",
        step.action(),
        step.name,
        outcome_label(&outcome)
    );
    StepResult {
        step,
        outcome,
        attempts,
        duration: started.elapsed(),
    }
}

fn outcome_label(outcome: &StepOutcome) -> &'static str {
    match outcome {
        StepOutcome::Created { .. } => "created",
        StepOutcome::Adopted { .. } => "adopted",
        StepOutcome::Updated => "updated",
        StepOutcome::Deleted => "deleted",
        StepOutcome::Failed { .. } => "failed",
    }
}

/// Resolves the spec's secrets now, at the last moment, into the body to send.
fn body(name: &str, spec: &Spec) -> Result<OrganizationBody<Secret>, StepOutcome> {
    spec.to_body(name, |path, reference| {
        reference
            .resolve_field(path)
            .map_err(|error| StepOutcome::Failed {
                message: format!("{path}: {error}"),
            })
    })
}

async fn create(
    client: &Client,
    name: &str,
    spec: &Spec,
    policy: &RetryPolicy,
) -> (StepOutcome, u32) {
    let body = match body(name, spec) {
        Ok(body) => body,
        Err(failed) => return (failed, 0),
    };
    let started = Instant::now();
    let mut attempt = 0;
    // Whether an attempt so far may have created the organization without our knowing.
    let mut maybe_created = false;
    loop {
        attempt += 1;
        let error = match client.create(&body).await {
            Ok(organization) => {
                return (
                    StepOutcome::Created {
                        id: organization.id,
                        server_name: organization.name,
                    },
                    attempt,
                );
            }
            Err(error) => error,
        };
        // Before sending again, make sure no attempt whose answer was lost created it. (A
        // refusal after such an attempt may be the server saying "already added".)
        maybe_created |= error.outcome() == Outcome::Unknown;
        if maybe_created {
            match find(client, name).await {
                Ok(Some(organization)) => {
                    tracing::debug!("create {name}: found after a lost answer; adopting");
                    return (
                        StepOutcome::Adopted {
                            id: organization.id,
                            server_name: organization.name,
                        },
                        attempt,
                    );
                }
                Ok(None) => {}
                Err(list_error) => {
                    return (
                        StepOutcome::Failed {
                            message: format!(
                                "the create may or may not have happened ({error}), and listing \
                                 the server to find out failed too ({list_error}); run apply \
                                 again: it will find the organization if it exists"
                            ),
                        },
                        attempt,
                    );
                }
            }
        }
        let may_retry = error.outcome() == Outcome::Unknown || error.is_transient();
        match policy.delay(attempt, started.elapsed(), error.retry_after()) {
            Some(delay) if may_retry => {
                tracing::debug!(
                    "create {name}: retrying in {} ms after: {error}",
                    delay.as_millis()
                );
                tokio::time::sleep(delay).await;
            }
            _ => {
                let message = failure_message(&error);
                let message = if may_retry {
                    format!(
                        "{message} (gave up after {attempt} attempts; run apply again to retry)"
                    )
                } else {
                    message
                };
                return (StepOutcome::Failed { message }, attempt);
            }
        }
    }
}

async fn update(client: &Client, name: &str, id: &str, spec: &Spec) -> StepOutcome {
    let body = match body(name, spec) {
        Ok(body) => body,
        Err(failed) => return failed,
    };
    match client.update(id, &body).await {
        Ok(()) => StepOutcome::Updated,
        Err(error) => StepOutcome::Failed {
            message: failure_message(&error),
        },
    }
}

async fn delete(client: &Client, id: &str) -> StepOutcome {
    match client.delete(id).await {
        // Gone already (removed by someone else since the plan): what the plan wanted.
        Ok(()) | Err(ClientError::Status { status: 404, .. }) => StepOutcome::Deleted,
        Err(error) => StepOutcome::Failed {
            message: failure_message(&error),
        },
    }
}

/// The server's own words when it refused, otherwise the whole error.
fn failure_message(error: &ClientError) -> String {
    match (error.status(), error.server_message()) {
        (Some(status), Some(message)) if (400..500).contains(&status) => message.to_owned(),
        _ => error.to_string(),
    }
}

/// The organization called `name` (ignoring case), if the server has one.
async fn find(client: &Client, name: &str) -> Result<Option<Organization>, ClientError> {
    let organizations = client.list().await?;
    Ok(organizations
        .into_iter()
        .find(|organization| organization.name.eq_ignore_ascii_case(name)))
}
