//! Carrying out a whole plan: its steps, then a verification against the server. What
//! `vboctl apply` and `vboctl agent` share once a plan is made.

use vbo_client::Client;
use vbo_plan::{Desired, Plan};

use crate::{ApplyOptions, Scope, StepError, StepOutcome, StepResult, Unconverged};

/// What carrying out a plan did.
#[derive(Clone, Debug)]
pub struct Applied {
    /// One result per change, in the plan's order, those never started included.
    pub results: Vec<StepResult>,
    /// The addresses of the changes the scope skipped (`--create-only`).
    pub skipped: Vec<String>,
    /// What did not converge although its step reported success, or why the server could not
    /// be listed to check: one sentence each, never a secret.
    pub unconverged: Vec<String>,
    /// Whether [`ApplyOptions::cancel`] stopped the run before every change started.
    pub interrupted: bool,
}

impl Applied {
    /// How many changes ended in each way.
    pub fn tally(&self) -> Tally {
        Tally::of(&self.results, self.skipped.len())
    }

    /// Whether every change was made and verified.
    pub fn is_complete(&self) -> bool {
        !self.interrupted
            && self.unconverged.is_empty()
            && self.results.iter().all(|r| r.outcome.is_success())
    }
}

/// How many changes of a run ended in each way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Created, by this run (adopted after a lost answer included).
    pub created: usize,
    /// Found created by someone else meanwhile, as the manifest describes it.
    pub created_elsewhere: usize,
    /// Updated.
    pub updated: usize,
    /// Deleted.
    pub deleted: usize,
    /// Failed.
    pub failed: usize,
    /// Skipped because of the scope.
    pub skipped: usize,
    /// Never started because the run was interrupted.
    pub not_started: usize,
}

impl Tally {
    /// Counts `results`, with `skipped` changes the scope left out.
    pub fn of(results: &[StepResult], skipped: usize) -> Self {
        let mut tally = Self {
            skipped,
            ..Self::default()
        };
        for result in results {
            match result.outcome {
                StepOutcome::Created { .. } | StepOutcome::Adopted { .. } => tally.created += 1,
                StepOutcome::CreatedElsewhere { .. } => tally.created_elsewhere += 1,
                StepOutcome::Updated => tally.updated += 1,
                StepOutcome::Deleted => tally.deleted += 1,
                StepOutcome::Failed { .. } => tally.failed += 1,
                StepOutcome::NotStarted => tally.not_started += 1,
            }
        }
        tally
    }
}

/// Carries out `plan`'s changes within `scope` (see [`apply`](crate::apply)), calling
/// `on_result` as each finishes, then lists the server and [`verify`](crate::verify)s the
/// result. A plan without changes sends nothing. Fails before sending anything when a change
/// cannot be turned into a step.
pub async fn apply_plan(
    client: &Client,
    plan: &Plan,
    desired: &[Desired],
    scope: Scope,
    options: &ApplyOptions,
    on_result: impl FnMut(&StepResult),
) -> Result<Applied, StepError> {
    let (steps, skipped) = crate::steps(plan, desired, scope)?;
    if steps.is_empty() && skipped.is_empty() {
        return Ok(Applied {
            results: Vec::new(),
            skipped,
            unconverged: Vec::new(),
            interrupted: false,
        });
    }
    let results = crate::apply(client, steps, options, on_result).await;
    let unconverged = match client.list().await {
        Ok(observed) => crate::verify(&results, desired, &observed, client.api_version())
            .iter()
            .map(Unconverged::to_string)
            .collect(),
        Err(error) => vec![format!(
            "could not list the server to verify the result: {error}"
        )],
    };
    Ok(Applied {
        results,
        skipped,
        unconverged,
        interrupted: options.cancel.is_cancelled(),
    })
}
