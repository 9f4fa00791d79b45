//! The binary's error: a message for the user, an optional hint, and nothing else. Every error
//! exits with status 1; only `plan --detailed-exitcode` uses 2, and for success, and an
//! interrupted apply 130, after reporting what it did.

use std::fmt;

use vbo_apply::prepare::PrepareError;
use vbo_client::ClientError;

use crate::ui::count;

/// An error to print as `error: <message>` followed by `hint: <hint>`.
#[derive(Debug)]
pub(crate) struct CliError {
    message: String,
    hint: Option<String>,
}

impl CliError {
    /// An error with only a message.
    pub(crate) fn message(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: None,
        }
    }

    /// An error about how the command was called, with what to do instead.
    pub(crate) fn usage(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// Adds or replaces the hint.
    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The hint, if any.
    pub(crate) fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<ClientError> for CliError {
    fn from(error: ClientError) -> Self {
        let hint = match &error {
            ClientError::Tls { server, .. } => Some(format!(
                "see what the server presents with `vboctl server-cert --server {server} --out \
                 server.pem`; once its fingerprint checks out, trust exactly that certificate \
                 with --ca-cert server.pem or --tls-thumbprint HEX (--ca-cert also takes the CA \
                 that signed it)"
            )),
            ClientError::LoginRejected { .. } => Some(
                "check --username (VBOCTL_USERNAME) and the password (VBOCTL_PASSWORD)".to_owned(),
            ),
            ClientError::Connect { .. } => {
                Some("check --server (VBOCTL_SERVER) and that the server is reachable".to_owned())
            }
            ClientError::InvalidServer { .. } => Some(
                "give the server as https://HOST:4443, for example --server https://vbo.example.com:4443"
                    .to_owned(),
            ),
            ClientError::VersionNotServed { .. } => Some(
                "leave --api-version (VBOCTL_API_VERSION) at auto to speak the newest version the server serves"
                    .to_owned(),
            ),
            ClientError::NoKnownVersion { .. } => Some(
                "check --server (VBOCTL_SERVER): the REST API listens on port 4443 by default"
                    .to_owned(),
            ),
            ClientError::ListUnstable { .. } => {
                Some("run again once the server's organizations stop changing".to_owned())
            }
            _ => None,
        };
        Self {
            message: error.to_string(),
            hint,
        }
    }
}

impl From<PrepareError> for CliError {
    fn from(error: PrepareError) -> Self {
        match error {
            PrepareError::InvalidManifests { errors } => Self::usage(
                format!(
                    "the manifests have {}; nothing was changed on the server",
                    count(errors, "error")
                ),
                "fix them and run again; `vboctl validate` checks manifests without a server",
            ),
            PrepareError::PruneWithoutManifests => Self::usage(
                error.to_string(),
                "check the paths you gave; pass --allow-empty if deleting everything is really what you want",
            ),
            PrepareError::UnreadableSecrets { problems } => {
                let lines: Vec<String> = problems
                    .iter()
                    .map(|p| {
                        format!(
                            "  {} ({}): spec.{}: {}",
                            p.name, p.origin, p.field, p.reason
                        )
                    })
                    .collect();
                Self::usage(
                    format!(
                        "{} cannot be read; nothing was changed on the server:\n{}",
                        count(problems.len(), "secret"),
                        lines.join("\n")
                    ),
                    "set the environment variables (or list them in a file given with --env-file) or create the files the manifests name",
                )
            }
            PrepareError::Client(error) => error.into(),
            PrepareError::ReadingStopped => Self::message(error.to_string()),
        }
    }
}

impl From<crate::commands::Error> for CliError {
    fn from(error: crate::commands::Error) -> Self {
        Self::message(error.to_string())
    }
}
