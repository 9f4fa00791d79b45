//! Creating an organization without ever creating it twice: after an answer that was lost or
//! late, and after a refusal that may mean "already added", the server is listed before
//! anything else is sent.

use std::time::Instant;

use vbo_client::{Client, ClientError, Outcome};
use vbo_model::{Organization, Spec};

use crate::elsewhere::{Comparison, compare};
use crate::{ApplyOptions, StepOutcome, body, failure_message};

/// Statuses with which a server refuses a create of an organization that exists: the v3
/// server answers 400 `Organization <name> has already been added.`, and 409 is the usual
/// answer elsewhere. The server's words are not matched (they depend on its language and
/// version): after such a refusal the server is listed, and what it holds decides.
const MAYBE_EXISTS: [u16; 2] = [400, 409];

/// Creates organization `name` from `spec`. Returns how it ended and how many creates were
/// sent.
pub(crate) async fn create(
    client: &Client,
    name: &str,
    spec: &Spec,
    options: &ApplyOptions,
) -> (StepOutcome, u32) {
    let body = match body(name, spec, &options.environment) {
        Ok(body) => body,
        Err(failed) => return (failed, 0),
    };
    let policy = &options.create_retry;
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
        // Before sending again, make sure no attempt whose answer was lost or late created it,
        // and that the server did not refuse it because it exists.
        maybe_created |= error.outcome() == Outcome::Unknown;
        let refused_as_existing = error
            .status()
            .is_some_and(|status| MAYBE_EXISTS.contains(&status));
        if maybe_created || refused_as_existing {
            match find(client, name).await {
                Ok(Some(found)) => {
                    return (
                        found_outcome(client, name, spec, found, maybe_created),
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
                if options.cancel.is_cancelled() {
                    return (interrupted(&error), attempt);
                }
                tracing::debug!(
                    "create {name}: retrying in {} ms after: {error}",
                    delay.as_millis()
                );
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = options.cancel.cancelled() => return (interrupted(&error), attempt),
                }
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

/// The organization called `name` is on the server although the create did not say so: it
/// was made by an attempt whose answer was lost, or by someone else meanwhile. Either way it
/// counts as done only if it is what the manifest describes.
fn found_outcome(
    client: &Client,
    name: &str,
    spec: &Spec,
    found: Organization,
    maybe_created: bool,
) -> StepOutcome {
    match compare(name, spec, &found, client.api_version()) {
        Comparison::Matches if maybe_created => {
            tracing::debug!("create {name}: found after a lost answer; adopting");
            StepOutcome::Adopted {
                id: found.id,
                server_name: found.name,
            }
        }
        Comparison::Matches => {
            tracing::debug!("create {name}: created elsewhere meanwhile, as the manifest says");
            StepOutcome::CreatedElsewhere {
                id: found.id,
                server_name: found.name,
            }
        }
        Comparison::Differs(fields) => StepOutcome::Failed {
            message: format!(
                "the organization was created elsewhere meanwhile (id {}), and differs from the \
                 manifest in {}; run plan to review the difference, then apply again to update it",
                found.id,
                fields.join(", ")
            ),
        },
    }
}

/// A create that was waiting to be sent again when the run was interrupted. It was not made:
/// the server either did not act on the attempts (a refusal, a throttle) or, after an unknown
/// outcome, did not list the organization.
fn interrupted(error: &ClientError) -> StepOutcome {
    StepOutcome::Failed {
        message: format!(
            "{}; interrupted before it was sent again, so it was not made",
            failure_message(error)
        ),
    }
}

/// The organization called `name` (ignoring case), if the server has one.
async fn find(client: &Client, name: &str) -> Result<Option<Organization>, ClientError> {
    let organizations = client.list().await?;
    Ok(organizations
        .into_iter()
        .find(|organization| organization.name.eq_ignore_ascii_case(name)))
}
