//! The binary's error: a message for the user, an optional hint, and nothing else. Every error
//! exits with status 1; only `plan --detailed-exitcode` uses 2, and for success, and an
//! interrupted apply 130, after reporting what it did.

use std::fmt;

use vbo_client::ClientError;

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
            ClientError::Tls { .. } => Some(
                "pass the server's certificate or its CA with --ca-cert FILE (or VBOCTL_CA_CERT); \
                 --insecure turns verification off for throwaway test servers only",
            ),
            ClientError::LoginRejected { .. } => {
                Some("check --username (VBOCTL_USERNAME) and the password (VBOCTL_PASSWORD)")
            }
            ClientError::Connect { .. } => {
                Some("check --server (VBOCTL_SERVER) and that the server is reachable")
            }
            ClientError::InvalidServer { .. } => Some(
                "give the server as https://HOST:4443, for example --server https://vbo.example.com:4443",
            ),
            _ => None,
        };
        Self {
            message: error.to_string(),
            hint: hint.map(str::to_owned),
        }
    }
}

impl From<crate::commands::Error> for CliError {
    fn from(error: crate::commands::Error) -> Self {
        Self::message(error.to_string())
    }
}
