//! What `plan`, `apply` (and any command that starts from manifests and a server) share before
//! anything is shown: read and validate the manifests, check that every secret can be read,
//! connect (settling the REST API version once for the run), list, and plan.
//!
//! Nothing here writes to the server, and nothing is planned unless every manifest is valid and
//! every secret can be read. Reading the server changes nothing on it, so it may run while the
//! manifests are read ([`ServerReading`]); [`connect_and_plan`] does one after the other.

use std::path::PathBuf;

use vbo_client::{Client, ClientConfig, ClientError};
use vbo_model::diagnostic::Severity;
use vbo_model::load::{Loaded, load};
use vbo_model::{Environment, Organization};
use vbo_plan::{Desired, Narrowing, Plan, PlanOptions};

/// Why planning could not start.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// Some manifest has errors (the [`Loaded`] diagnostics say which); nothing was changed.
    #[error("the manifests have {errors} error(s); nothing was changed on the server")]
    InvalidManifests {
        /// How many errors.
        errors: usize,
    },
    /// `prune` with no manifest at all would delete every organization on the server.
    #[error(
        "refusing to prune with no manifests: every organization on the server would be deleted"
    )]
    PruneWithoutManifests,
    /// Some secrets the manifests reference cannot be read now; nothing was changed.
    #[error("{} secret(s) cannot be read; nothing was changed on the server", problems.len())]
    UnreadableSecrets {
        /// Each secret that cannot be read.
        problems: Vec<UnreadableSecret>,
    },
    /// Talking to the server failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// Reading the server in the background stopped before it finished: the runtime is
    /// shutting down.
    #[error("reading the server stopped before it finished")]
    ReadingStopped,
}

/// A secret reference that cannot be read, named by organization and field, never by value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableSecret {
    /// The organization's name.
    pub name: String,
    /// Where its manifest is.
    pub origin: String,
    /// Dotted path under `spec`, for example `exchangeOnlineSettings.password`.
    pub field: String,
    /// Why it cannot be read: the variable or file, never a value.
    pub reason: String,
}

/// Reads and validates the manifests under `paths` (the current folder when empty). Every
/// diagnostic, warnings included, is in the result for the caller to show; use
/// [`desired`] to go on.
pub fn read_manifests(paths: &[PathBuf]) -> Loaded {
    let default = [PathBuf::from(".")];
    load(if paths.is_empty() { &default } else { paths })
}

/// The organizations the manifests describe, or [`PrepareError::InvalidManifests`] when any
/// has an error (a broken manifest must never make its organization look unmanaged).
pub fn desired(loaded: Loaded) -> Result<Vec<Desired>, PrepareError> {
    if loaded.has_errors(false) {
        return Err(PrepareError::InvalidManifests {
            errors: loaded.count(Severity::Error),
        });
    }
    // Collected into a vector of its own exact size: collecting in place would keep the
    // documents' vector, which grew by doubling, with up to half of it unused.
    let mut desired = Vec::with_capacity(loaded.documents.len());
    desired.extend(loaded.documents.into_iter().map(|document| {
        let origin = document.location();
        let msid = document.manifest.metadata.msid;
        let labels = document.manifest.metadata.labels;
        Desired {
            msid,
            fields: document.fields,
            labels,
            ..Desired::new(
                document.manifest.metadata.name,
                origin,
                document.manifest.spec,
            )
        }
    }));
    Ok(desired)
}

/// Refuses `prune` when there is nothing desired, unless `allow_empty` says that deleting
/// everything is meant.
pub fn check_prune(
    desired: &[Desired],
    prune: bool,
    allow_empty: bool,
) -> Result<(), PrepareError> {
    if prune && desired.is_empty() && !allow_empty {
        return Err(PrepareError::PruneWithoutManifests);
    }
    Ok(())
}

/// Checks that every secret reference can be read now from `env` (the process environment and
/// the env file, if any) or from disk, naming each one that cannot. The values are read and
/// dropped: a plan holds references only.
///
/// With a `scope`, only the manifests it selects are checked: a narrowed run needs the secrets
/// of the organizations it plans, and no others.
pub fn check_secrets(
    desired: &[Desired],
    scope: Option<&Narrowing>,
    env: &Environment,
) -> Result<(), PrepareError> {
    let mut problems = Vec::new();
    for organization in desired {
        if scope.is_some_and(|scope| !scope.selects(organization)) {
            continue;
        }
        for field in organization.spec.secret_fields() {
            if let Err(error) = field.reference.resolve_field(&field.path, env) {
                problems.push(UnreadableSecret {
                    name: organization.name.clone(),
                    origin: organization.origin.clone(),
                    field: field.path,
                    reason: error.to_string(),
                });
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(PrepareError::UnreadableSecrets { problems })
    }
}

/// What planning produced, for `plan` to show and `apply` to carry out.
#[derive(Debug)]
pub struct Prepared {
    /// The logged-in client, speaking the version the plan was made in.
    pub client: Client,
    /// The organizations the manifests describe.
    pub desired: Vec<Desired>,
    /// The organizations the server has, the whole list.
    pub observed: Vec<Organization>,
    /// The plan.
    pub plan: Plan,
}

/// What the server has: a logged-in client and every organization it lists.
#[derive(Debug)]
pub struct ServerState {
    /// The logged-in client, speaking the version settled at login.
    pub client: Client,
    /// Every organization (every page).
    pub observed: Vec<Organization>,
}

/// Connects (settling the API version) and lists every organization.
pub async fn read_server(config: ClientConfig) -> Result<ServerState, ClientError> {
    let client = Client::connect(config).await?;
    let observed = client.list().await?;
    Ok(ServerState { client, observed })
}

/// [`read_server`] running on the tokio runtime while the caller does something else, such as
/// reading the manifests: the login and the list then cost no time of their own when the
/// manifests take longer. Reading changes nothing on the server, so it may start before the
/// manifests are known to be valid. Dropping it stops it.
#[derive(Debug)]
pub struct ServerReading {
    task: tokio::task::JoinHandle<Result<ServerState, ClientError>>,
}

impl ServerReading {
    /// Starts connecting and listing. Must be called within a tokio runtime, and the caller
    /// must leave the runtime's worker threads free (a multi-threaded runtime, with the
    /// caller's own work on its thread) for the reading to progress meanwhile.
    pub fn start(config: ClientConfig) -> Self {
        Self {
            task: tokio::spawn(read_server(config)),
        }
    }

    /// Waits for the reading to finish.
    pub async fn finish(mut self) -> Result<ServerState, PrepareError> {
        match (&mut self.task).await {
            Ok(read) => Ok(read?),
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => Err(PrepareError::ReadingStopped),
        }
    }
}

impl Drop for ServerReading {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Plans `desired` against what the server has, within `scope` when given (see
/// [`Narrowing`]).
pub fn plan_against(
    server: ServerState,
    desired: Vec<Desired>,
    prune: bool,
    scope: Option<Narrowing>,
) -> Prepared {
    let ServerState { client, observed } = server;
    let options = PlanOptions {
        prune,
        server: client.server().to_owned(),
        api_version: client.api_version(),
        scope,
    };
    let plan = vbo_plan::plan(&desired, &observed, &options);
    Prepared {
        client,
        desired,
        observed,
        plan,
    }
}

/// Connects (settling the API version), lists every organization and plans, within `scope`
/// when given (see [`Narrowing`]).
pub async fn connect_and_plan(
    config: ClientConfig,
    desired: Vec<Desired>,
    prune: bool,
    scope: Option<Narrowing>,
) -> Result<Prepared, PrepareError> {
    let server = read_server(config).await?;
    Ok(plan_against(server, desired, prune, scope))
}

/// What `vboctl export` reads from the server: every organization, in the version it speaks.
#[derive(Debug)]
pub struct Listed {
    /// The server, as the client names it.
    pub server: String,
    /// The REST API version the list was read in.
    pub api_version: vbo_model::RestApiVersion,
    /// Every organization (every page).
    pub organizations: Vec<Organization>,
}

/// Connects (settling the API version) and lists every organization, for export.
pub async fn connect_and_list(config: ClientConfig) -> Result<Listed, ClientError> {
    let ServerState {
        client,
        observed: organizations,
    } = read_server(config).await?;
    Ok(Listed {
        server: client.server().to_owned(),
        api_version: client.api_version(),
        organizations,
    })
}
