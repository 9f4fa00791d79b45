//! The webhook: a small JSON document POSTed when the server drifted from the manifests.
//!
//! The document names the commit, the plan's counts and the organizations that differ with
//! the paths of the fields that differ; never a value, so never a secret. The webhook's URL is
//! never shown either: chat webhooks carry their credential in the URL.

use std::time::Duration;

use serde::Serialize;

use crate::state::{AppliedCounts, ChangedOrganization, PlanCounts};

/// How long a delivery may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The document POSTed to the webhook.
#[derive(Clone, Debug, Serialize)]
pub struct Notification {
    /// Always `drift`.
    pub event: &'static str,
    /// `plan` or `apply`.
    pub mode: &'static str,
    /// The repository, without credentials.
    pub repository: String,
    /// The branch.
    pub branch: String,
    /// The commit the server drifted from.
    pub commit: String,
    /// The server.
    pub server: String,
    /// When the drift was found (RFC 3339).
    pub time: String,
    /// The plan's counts.
    pub summary: PlanCounts,
    /// The organizations that differ, by name, with the action that would correct each.
    pub organizations: Vec<ChangedOrganization>,
    /// In apply mode, what correcting it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied: Option<AppliedCounts>,
}

/// Why a notification was not delivered. Never shows the webhook's URL.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The request could not be sent or was not answered in time.
    #[error("the webhook could not be reached: {0}")]
    Send(String),
    /// The webhook answered with an error status.
    #[error("the webhook answered {0}")]
    Status(u16),
}

/// Posts notifications to one webhook.
#[derive(Clone)]
pub struct Notifier {
    url: reqwest::Url,
    client: reqwest::Client,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Notifier { url: **** }")
    }
}

impl Notifier {
    /// A notifier for the `http://` or `https://` URL `url`. The error never repeats the URL.
    pub fn new(url: &str) -> Result<Self, String> {
        let url =
            reqwest::Url::parse(url).map_err(|e| format!("the webhook URL cannot be read: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("the webhook URL must start with http:// or https://".to_owned());
        }
        // The client is built without a bundled crypto provider, like the rest of vboctl.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| format!("cannot set up the webhook client: {}", e.without_url()))?;
        Ok(Self { url, client })
    }

    /// POSTs `notification` as JSON.
    pub async fn send(&self, notification: &Notification) -> Result<(), NotifyError> {
        let answer = self
            .client
            .post(self.url.clone())
            .json(notification)
            .send()
            .await
            .map_err(|e| NotifyError::Send(e.without_url().to_string()))?;
        let status = answer.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(NotifyError::Status(status.as_u16()))
        }
    }
}
