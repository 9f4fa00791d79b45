//! Carries out the changes of a plan against the server, and prepares that plan
//! ([`prepare`]: manifests, secrets, connection, list, plan). [`apply_plan`] is the whole of
//! carrying out a plan (steps, then verification), as `vboctl apply` and `vboctl agent` do.
//!
//! - Creates, updates and deletes run concurrently, at most [`ApplyOptions::parallelism`] at a
//!   time, and each result is reported as soon as it is known.
//! - A create is never sent twice blindly. When its answer is lost or late (timeout, dropped
//!   connection, 5xx) the applier lists the server first: if an organization of that name now
//!   exists, it was created and is adopted; only otherwise is the create sent again, after a
//!   backoff. So no fault can make a duplicate, and re-running after any failure converges.
//! - A create refused because the organization exists (another run created it meanwhile) lists
//!   the server too: if what is there is what the manifest describes, the step is done
//!   ([`StepOutcome::CreatedElsewhere`]); otherwise it fails, naming the fields that differ.
//! - Any other refusal (400) fails that change with the server's message; the others go on.
//! - A run can be interrupted through [`ApplyOptions::cancel`]: no change starts after that,
//!   the changes in flight finish (for at most [`ApplyOptions::grace`]), and every change that
//!   never started is reported as [`StepOutcome::NotStarted`].

mod create;
mod elsewhere;
mod from_plan;
pub mod prepare;
mod run;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use vbo_client::{Client, ClientError, RetryPolicy};
use vbo_model::{Environment, OrganizationBody, Secret, Spec};

pub use from_plan::{Scope, StepError, Unconverged, steps, verify};
pub use run::{Applied, Tally, apply_plan};
pub use tokio_util::sync::CancellationToken;

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
    /// The server refused the create because the organization exists: something else (another
    /// apply running at the same time, or a person) created it since the plan. What is there
    /// matches the manifest, so there is nothing left to do.
    CreatedElsewhere {
        /// The organization's id.
        id: String,
        /// Its name on the server.
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
    /// The run was interrupted before this step started: nothing was sent for it.
    NotStarted,
}

impl StepOutcome {
    /// Whether the step completed.
    pub fn is_success(&self) -> bool {
        !matches!(self, StepOutcome::Failed { .. } | StepOutcome::NotStarted)
    }

    /// A one-word name of the outcome, as logs and the JSON report of the CLI show it:
    /// `created`, `adopted`, `created-elsewhere`, `updated`, `deleted`, `failed` or
    /// `not-started`.
    pub fn label(&self) -> &'static str {
        match self {
            StepOutcome::Created { .. } => "created",
            StepOutcome::Adopted { .. } => "adopted",
            StepOutcome::CreatedElsewhere { .. } => "created-elsewhere",
            StepOutcome::Updated => "updated",
            StepOutcome::Deleted => "deleted",
            StepOutcome::Failed { .. } => "failed",
            StepOutcome::NotStarted => "not-started",
        }
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

/// Limits of a run, and how to stop it.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Steps in flight at once. At least 1.
    pub parallelism: usize,
    /// Bounds on sending a create again after its answer was lost or it was throttled.
    pub create_retry: RetryPolicy,
    /// Cancel it to stop the run: no step starts after that, the steps in flight finish, and
    /// those that never started end as [`StepOutcome::NotStarted`]. A create waiting to be sent
    /// again stops waiting and fails, saying so.
    pub cancel: CancellationToken,
    /// How long, once [`cancel`](Self::cancel) is cancelled, a step in flight may still take.
    /// One that takes longer is abandoned and fails with a message saying that its change may
    /// or may not have been made. Give it the client's request timeout, so that a request sent
    /// just before the interruption can still be answered.
    pub grace: Duration,
    /// Where `fromEnv` secrets are read, at the last moment before each request: the process
    /// environment, then the env file if one was given. The same one `plan` checked them in.
    pub environment: Environment,
}

impl Default for ApplyOptions {
    /// 10 steps at a time; creates retried like the client retries reads; never cancelled; a
    /// minute of grace, the client's default request timeout.
    fn default() -> Self {
        Self {
            parallelism: 10,
            create_retry: RetryPolicy::default(),
            cancel: CancellationToken::new(),
            grace: Duration::from_secs(60),
            environment: Environment::process(),
        }
    }
}

/// Runs every step, at most `options.parallelism` at once, calling `on_result` as each
/// finishes. Returns the results in the order of `steps`: one per step, those that never started
/// because the run was cancelled included (reported through `on_result` last).
pub async fn apply(
    client: &Client,
    steps: Vec<Step>,
    options: &ApplyOptions,
    mut on_result: impl FnMut(&StepResult),
) -> Vec<StepResult> {
    let count = steps.len();
    let limit = options.parallelism.max(1);
    let mut results: Vec<Option<StepResult>> = vec![None; count];
    let mut pending = steps.into_iter().enumerate();
    let mut running = FuturesUnordered::new();
    loop {
        while running.len() < limit && !options.cancel.is_cancelled() {
            let Some((index, step)) = pending.next() else {
                break;
            };
            running.push(async move { (index, run_step(client, step, options).await) });
        }
        let Some((index, result)) = running.next().await else {
            break;
        };
        on_result(&result);
        results[index] = Some(result);
    }
    for (index, step) in pending {
        tracing::debug!("{} {}: not started", step.action(), step.name);
        let result = StepResult {
            step,
            outcome: StepOutcome::NotStarted,
            attempts: 0,
            duration: Duration::ZERO,
        };
        on_result(&result);
        results[index] = Some(result);
    }
    results.into_iter().flatten().collect()
}

async fn run_step(client: &Client, step: Step, options: &ApplyOptions) -> StepResult {
    let started = Instant::now();
    let work = async {
        match &step.kind {
            StepKind::Create { spec } => create::create(client, &step.name, spec, options).await,
            StepKind::Update { id, spec } => (
                update(client, &step.name, id, spec, &options.environment).await,
                1,
            ),
            StepKind::Delete { id } => (delete(client, id).await, 1),
        }
    };
    let abandoned = async {
        options.cancel.cancelled().await;
        tokio::time::sleep(options.grace).await;
    };
    let (outcome, attempts) = tokio::select! {
        biased;
        done = work => done,
        () = abandoned => (abandoned_outcome(&step), 1),
    };
    tracing::debug!("{} {}: {}", step.action(), step.name, outcome.label());
    StepResult {
        step,
        outcome,
        attempts,
        duration: started.elapsed(),
    }
}

/// A step still waiting for the server when the grace after an interruption ran out.
fn abandoned_outcome(step: &Step) -> StepOutcome {
    let what = match step.kind {
        StepKind::Create { .. } => {
            "it may or may not have been created; run apply again: it finds the organization if \
             it exists, and creates it otherwise"
        }
        StepKind::Update { .. } => {
            "it may or may not have been updated; run apply again: an update is safe to repeat"
        }
        StepKind::Delete { .. } => {
            "it may or may not have been deleted; run apply again: it deletes it if it is still \
             there"
        }
    };
    StepOutcome::Failed {
        message: format!("interrupted while waiting for the server's answer: {what}"),
    }
}

/// Resolves the spec's secrets now, at the last moment, from `env`, into the body to send.
fn body(
    name: &str,
    spec: &Spec,
    env: &Environment,
) -> Result<OrganizationBody<Secret>, StepOutcome> {
    spec.to_body(name, |path, reference| {
        reference
            .resolve_field(path, env)
            .map_err(|error| StepOutcome::Failed {
                message: format!("{path}: {error}"),
            })
    })
}

async fn update(
    client: &Client,
    name: &str,
    id: &str,
    spec: &Spec,
    env: &Environment,
) -> StepOutcome {
    let body = match body(name, spec, env) {
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
