//! The login session: the access token, its expiry, and the refresh token that renews it.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::sync::Mutex;
use vbo_model::Secret;
use vbo_model::wire::{GrantType, TokenRequest, TokenResponse};

use crate::{Client, ClientError};

/// An access token and the generation it belongs to, so that a caller that saw it rejected can
/// ask for a newer one without every concurrent caller refreshing again.
pub(crate) struct Token {
    pub(crate) value: Secret,
    pub(crate) generation: u64,
}

#[derive(Debug)]
pub(crate) struct Session {
    username: String,
    password: Secret,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    access: Option<Secret>,
    refresh: Option<Secret>,
    /// When to renew: a little before the server's expiry.
    renew_at: Option<Instant>,
    generation: u64,
}

impl Session {
    pub(crate) fn new(username: String, password: Secret) -> Self {
        Self {
            username,
            password,
            state: Mutex::new(State::default()),
        }
    }

    /// Logs in with the password grant.
    ///
    /// This is the first request to the server, so a server that cannot be reached at all is
    /// reported at once rather than retried for a minute: a wrong URL or port is far likelier
    /// than a server restarting at that moment. Later logins retry as every request does.
    pub(crate) async fn login(&self, client: &Client) -> Result<(), ClientError> {
        let mut state = self.state.lock().await;
        self.password_grant(client, &mut state, Reachability::Unknown)
            .await
    }

    /// A valid access token: the current one, or a renewed one when it is about to expire or
    /// when `stale` names the current generation (the server rejected it).
    pub(crate) async fn token(
        &self,
        client: &Client,
        stale: Option<u64>,
    ) -> Result<Token, ClientError> {
        let mut state = self.state.lock().await;
        let expiring = state.renew_at.is_none_or(|at| Instant::now() >= at);
        let rejected = stale == Some(state.generation);
        if state.access.is_none() || expiring || rejected {
            self.renew(client, &mut state).await?;
        }
        let value = state
            .access
            .clone()
            .ok_or_else(|| ClientError::UnexpectedResponse {
                method: "POST".to_owned(),
                path: client.shown(client.dialect.token_path),
                status: 200,
                detail: "no access token".to_owned(),
            })?;
        Ok(Token {
            value,
            generation: state.generation,
        })
    }

    /// Renews with the refresh token when there is one, falling back to the password grant when
    /// the server no longer accepts it.
    async fn renew(&self, client: &Client, state: &mut State) -> Result<(), ClientError> {
        if let Some(refresh) = state.refresh.take() {
            let request = TokenRequest {
                grant_type: GrantType::RefreshToken,
                username: None,
                password: None,
                refresh_token: Some(refresh),
                disable_antiforgery_token: client.dialect.disable_antiforgery.then_some(true),
            };
            match self
                .request_token(client, &request, Reachability::Reached)
                .await
            {
                Ok(response) => {
                    tracing::debug!("access token refreshed");
                    state.accept(response);
                    return Ok(());
                }
                Err(ClientError::LoginRejected { .. }) => {
                    tracing::debug!("refresh token refused; logging in again");
                }
                Err(error) => return Err(error),
            }
        }
        self.password_grant(client, state, Reachability::Reached)
            .await
    }

    async fn password_grant(
        &self,
        client: &Client,
        state: &mut State,
        reachability: Reachability,
    ) -> Result<(), ClientError> {
        let request = TokenRequest {
            grant_type: GrantType::Password,
            username: Some(self.username.clone()),
            password: Some(self.password.clone()),
            refresh_token: None,
            disable_antiforgery_token: client.dialect.disable_antiforgery.then_some(true),
        };
        let response = self.request_token(client, &request, reachability).await?;
        tracing::debug!("logged in as {}", self.username);
        state.accept(response);
        Ok(())
    }

    /// `POST /{version}/token`, retried on transient failures (a login creates nothing that could be
    /// duplicated).
    async fn request_token(
        &self,
        client: &Client,
        request: &TokenRequest,
        reachability: Reachability,
    ) -> Result<TokenResponse, ClientError> {
        let token_path = client.dialect.token_path;
        let url = client.url(token_path)?;
        let shown = client.shown(token_path);
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = client.http.post(url.clone()).form(request).send().await;
            let error = match result {
                Ok(response) => {
                    let status = response.status();
                    tracing::debug!("POST {shown} -> {} (attempt {attempt})", status.as_u16());
                    if status == StatusCode::OK {
                        let bytes = response.bytes().await.map_err(|e| {
                            ClientError::from_transport(
                                &reqwest::Method::POST,
                                &shown,
                                &client.server,
                                e,
                            )
                        })?;
                        return serde_json::from_slice(&bytes).map_err(|e| {
                            ClientError::UnexpectedResponse {
                                method: "POST".to_owned(),
                                path: shown.clone(),
                                status: 200,
                                detail: format!("the token response cannot be read: {e}"),
                            }
                        });
                    }
                    if status == StatusCode::BAD_REQUEST || status == StatusCode::UNAUTHORIZED {
                        // The grant was refused: v3 says so in OAuth's `{error}`, later versions
                        // in `{message}`. Either way the credentials (or the refresh token) did
                        // not do.
                        let _ = response.bytes().await;
                        return Err(ClientError::LoginRejected {
                            username: self.username.clone(),
                            grant: request.grant_type,
                        });
                    } else {
                        let retry_after = crate::retry::retry_after(response.headers());
                        ClientError::Status {
                            method: "POST".to_owned(),
                            path: shown.clone(),
                            status: status.as_u16(),
                            message: crate::error_message(response).await,
                            retry_after,
                            after_retry: attempt > 1,
                        }
                    }
                }
                Err(source) => ClientError::from_transport(
                    &reqwest::Method::POST,
                    &shown,
                    &client.server,
                    source,
                ),
            };
            match client
                .retry
                .delay(attempt, started.elapsed(), error.retry_after())
            {
                Some(delay) if error.is_transient() && reachability.may_retry(&error) => {
                    tokio::time::sleep(delay).await
                }
                _ => return Err(error),
            }
        }
    }
}

/// Whether the server has answered this session before, which decides whether a failure to
/// connect is worth retrying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reachability {
    /// Nothing has reached the server yet: failing to connect is most likely a wrong address.
    Unknown,
    /// The server answered before: failing to connect now is likely passing.
    Reached,
}

impl Reachability {
    fn may_retry(self, error: &ClientError) -> bool {
        self == Reachability::Reached || !matches!(error, ClientError::Connect { .. })
    }
}

impl State {
    fn accept(&mut self, response: TokenResponse) {
        let lifetime = Duration::from_secs(response.expires_in);
        // Renew a little early: a tenth of the lifetime, at most a minute.
        let margin = (lifetime / 10).min(Duration::from_secs(60));
        self.access = Some(response.access_token);
        self.refresh = response.refresh_token;
        self.renew_at = Some(Instant::now() + lifetime.saturating_sub(margin));
        self.generation += 1;
    }
}
