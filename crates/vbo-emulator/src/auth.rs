//! `POST /v3/Token` and bearer-token checks, as the OWIN OAuth server behind the real API does
//! them: opaque random tokens, single-use refresh tokens, access tokens that expire.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use rand::RngExt;
use vbo_model::Secret;
use vbo_model::wire::{GrantType, OAuthError, TokenResponse};

use crate::User;

/// Issued tokens and the accounts that may get them.
pub(crate) struct Tokens {
    users: Vec<User>,
    ttl: Duration,
    issued: Mutex<Issued>,
}

#[derive(Default)]
struct Issued {
    /// Access token to its user and expiry.
    access: HashMap<String, (String, Instant)>,
    /// Unused refresh token to its user.
    refresh: HashMap<String, String>,
}

impl Tokens {
    pub(crate) fn new(users: Vec<User>, ttl: Duration) -> Self {
        Self {
            users,
            ttl,
            issued: Mutex::new(Issued::default()),
        }
    }

    fn issued(&self) -> MutexGuard<'_, Issued> {
        self.issued.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Answers a form-encoded token request: a new token pair and the grant that earned it, or
    /// an OAuth error whose description never repeats what was sent.
    pub(crate) fn grant(&self, form: &[u8]) -> Result<(GrantType, TokenResponse), OAuthError> {
        let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(form)
            .map_err(|_| oauth_error("invalid_request", "The request body is not a form."))?;
        // OWIN reads form keys without regard to case; the first occurrence counts.
        let field = |name: &str| {
            fields
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.as_str())
        };
        let (grant, user) = match field("grant_type") {
            None | Some("") => {
                return Err(oauth_error("invalid_request", "grant_type is missing."));
            }
            Some("password") => {
                let name = field("username").unwrap_or_default();
                let password = field("password").unwrap_or_default();
                let user = self
                    .users
                    .iter()
                    .find(|user| {
                        user.name.eq_ignore_ascii_case(name) && user.password.expose() == password
                    })
                    .map(|user| user.name.clone())
                    .ok_or_else(|| {
                        oauth_error("invalid_grant", "The user name or password is incorrect.")
                    })?;
                (GrantType::Password, user)
            }
            Some("refresh_token") => {
                let token = field("refresh_token").unwrap_or_default();
                let user = self.issued().refresh.remove(token).ok_or_else(|| {
                    oauth_error(
                        "invalid_grant",
                        "The refresh token is unknown, expired or already used.",
                    )
                })?;
                (GrantType::RefreshToken, user)
            }
            Some(_) => {
                return Err(oauth_error(
                    "unsupported_grant_type",
                    "Only the password and refresh_token grants are supported.",
                ));
            }
        };
        Ok((grant, self.issue(user)))
    }

    fn issue(&self, user: String) -> TokenResponse {
        let access_token = random_token();
        let refresh_token = random_token();
        let now = Instant::now();
        let issued_at = SystemTime::now();
        {
            let mut issued = self.issued();
            issued.access.retain(|_, (_, expires)| *expires > now);
            issued
                .access
                .insert(access_token.clone(), (user.clone(), now + self.ttl));
            issued.refresh.insert(refresh_token.clone(), user.clone());
        }
        TokenResponse {
            access_token: Secret::new(access_token),
            token_type: "bearer".to_owned(),
            expires_in: self.ttl.as_secs(),
            refresh_token: Some(Secret::new(refresh_token)),
            user_name: user,
            issued: httpdate::fmt_http_date(issued_at),
            expires: httpdate::fmt_http_date(issued_at + self.ttl),
        }
    }

    /// Whether an `Authorization` header carries a live access token.
    pub(crate) fn authorized(&self, header: Option<&str>) -> bool {
        let Some(token) = header.and_then(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        }) else {
            return false;
        };
        let mut issued = self.issued();
        match issued.access.get(token) {
            Some((_, expires)) if *expires > Instant::now() => true,
            Some(_) => {
                issued.access.remove(token);
                false
            }
            None => false,
        }
    }
}

fn oauth_error(error: &str, description: &str) -> OAuthError {
    OAuthError {
        error: error.to_owned(),
        error_description: description.to_owned(),
    }
}

/// 32 random bytes from the thread's cryptographic generator, as hex.
fn random_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(ttl: Duration) -> Tokens {
        Tokens::new(vec![User::new("CONTOSO\\admin", "pw")], ttl)
    }

    #[test]
    fn password_grant_checks_the_password_exactly_and_the_name_loosely() {
        let tokens = tokens(Duration::from_secs(60));
        let (grant, ok) = tokens
            .grant(b"grant_type=password&username=contoso%5CADMIN&password=pw&refresh_token=")
            .unwrap();
        assert_eq!(grant, GrantType::Password);
        assert_eq!(ok.user_name, "CONTOSO\\admin");
        assert_eq!(ok.expires_in, 60);
        assert!(tokens.authorized(Some(&format!("Bearer {}", ok.access_token.expose()))));
        let bad = tokens
            .grant(b"grant_type=password&username=contoso%5Cadmin&password=PW")
            .unwrap_err();
        assert_eq!(bad.error, "invalid_grant");
        assert!(!bad.error_description.contains("PW"));
    }

    #[test]
    fn refresh_tokens_work_once() {
        let tokens = tokens(Duration::from_secs(60));
        let (_, first) = tokens
            .grant(b"grant_type=password&username=contoso%5Cadmin&password=pw")
            .unwrap();
        let refresh = first.refresh_token.unwrap();
        let form = format!(
            "grant_type=refresh_token&refresh_token={}",
            refresh.expose()
        );
        let (grant, second) = tokens.grant(form.as_bytes()).unwrap();
        assert_eq!(grant, GrantType::RefreshToken);
        assert_ne!(second.access_token, first.access_token);
        assert_eq!(
            tokens.grant(form.as_bytes()).unwrap_err().error,
            "invalid_grant"
        );
    }

    #[test]
    fn expired_and_malformed_tokens_are_refused() {
        let tokens = tokens(Duration::ZERO);
        let (_, issued) = tokens
            .grant(b"grant_type=password&username=contoso%5Cadmin&password=pw")
            .unwrap();
        let token = issued.access_token.expose();
        assert!(!tokens.authorized(Some(&format!("Bearer {token}"))));
        assert!(!tokens.authorized(Some(token)));
        assert!(!tokens.authorized(None));
    }

    #[test]
    fn unknown_grants_are_named_as_such() {
        let tokens = tokens(Duration::from_secs(60));
        assert_eq!(
            tokens
                .grant(b"grant_type=client_credentials")
                .unwrap_err()
                .error,
            "unsupported_grant_type"
        );
        assert_eq!(tokens.grant(b"").unwrap_err().error, "invalid_request");
    }
}
