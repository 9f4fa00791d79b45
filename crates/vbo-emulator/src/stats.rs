//! What the emulator was asked and what it did, for tests to check (for example, that a
//! client's retries created nothing twice).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use vbo_model::wire::GrantType;

/// Counts of requests by route and of the changes and faults that resulted.
///
/// Routes are named by method and canonical path, under the API version asked:
/// `POST /v3/Token` (`POST /v8/token` from v6 on), `GET /v3/Organizations`,
/// `POST /v3/Organizations`, `GET /v3/Organizations/{id}`, `PUT /v3/Organizations/{id}`,
/// `DELETE /v3/Organizations/{id}`; anything else counts as `other`. Every request counts,
/// including those that were refused or hit by a fault.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestCounts {
    /// Requests received, by route.
    pub by_route: BTreeMap<String, u64>,
    /// Organizations actually created (including creates whose answer was then lost on
    /// purpose).
    pub created: u64,
    /// Organizations actually replaced by a `PUT`.
    pub updated: u64,
    /// Organizations actually deleted.
    pub deleted: u64,
    /// Tokens issued and refused at `POST /v3/Token`, by grant.
    pub tokens: TokenCounts,
    /// Faults injected.
    pub faults: FaultCounts,
}

impl RequestCounts {
    /// Requests received on `route`, for example `"POST /v3/Organizations"`.
    pub fn route(&self, route: &str) -> u64 {
        self.by_route.get(route).copied().unwrap_or(0)
    }

    /// What was counted after `earlier`, a snapshot taken before: the requests, changes,
    /// tokens and faults of what ran in between.
    ///
    /// ```
    /// # async fn demo() -> Result<(), vbo_emulator::EmulatorError> {
    /// use vbo_emulator::{Emulator, EmulatorConfig};
    ///
    /// let emulator = Emulator::start(EmulatorConfig::default()).await?;
    /// let before = emulator.request_counts();
    /// // ... run the client under test ...
    /// let during = emulator.request_counts().since(&before);
    /// assert_eq!(during.created, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn since(&self, earlier: &RequestCounts) -> RequestCounts {
        let by_route = self
            .by_route
            .iter()
            .map(|(route, count)| (route.clone(), count.saturating_sub(earlier.route(route))))
            .filter(|(_, count)| *count > 0)
            .collect();
        RequestCounts {
            by_route,
            created: self.created.saturating_sub(earlier.created),
            updated: self.updated.saturating_sub(earlier.updated),
            deleted: self.deleted.saturating_sub(earlier.deleted),
            tokens: TokenCounts {
                password: self.tokens.password.saturating_sub(earlier.tokens.password),
                refresh: self.tokens.refresh.saturating_sub(earlier.tokens.refresh),
                refused: self.tokens.refused.saturating_sub(earlier.tokens.refused),
            },
            faults: FaultCounts {
                errors: self.faults.errors.saturating_sub(earlier.faults.errors),
                throttles: self
                    .faults
                    .throttles
                    .saturating_sub(earlier.faults.throttles),
                resets: self.faults.resets.saturating_sub(earlier.faults.resets),
                commit_then_fail: self
                    .faults
                    .commit_then_fail
                    .saturating_sub(earlier.faults.commit_then_fail),
                slow_answers: self
                    .faults
                    .slow_answers
                    .saturating_sub(earlier.faults.slow_answers),
                delayed: self.faults.delayed.saturating_sub(earlier.faults.delayed),
            },
        }
    }
}

/// Tokens issued by grant, and token requests refused. A client that logs in once and renews
/// its token as it expires shows one password grant and then refresh grants.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenCounts {
    /// Tokens issued for a user name and password (logins).
    pub password: u64,
    /// Tokens issued for a refresh token (renewals).
    pub refresh: u64,
    /// Token requests refused (wrong password, unknown or used refresh token, unknown grant).
    pub refused: u64,
}

/// How many times each fault was injected.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// Requests answered 503 on purpose.
    pub errors: u64,
    /// Requests answered 429 on purpose.
    pub throttles: u64,
    /// Connections closed without an answer before handling.
    pub resets: u64,
    /// Changes made and then answered with 500 or a closed connection.
    pub commit_then_fail: u64,
    /// Changes made and then answered only after the slow-answer delay.
    pub slow_answers: u64,
    /// Requests held back by a latency above zero.
    pub delayed: u64,
}

/// The live counters behind [`RequestCounts`].
#[derive(Default)]
pub(crate) struct Stats {
    by_route: Mutex<BTreeMap<String, u64>>,
    pub(crate) created: AtomicU64,
    pub(crate) updated: AtomicU64,
    pub(crate) deleted: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) throttles: AtomicU64,
    pub(crate) resets: AtomicU64,
    pub(crate) commit_then_fail: AtomicU64,
    pub(crate) slow_answers: AtomicU64,
    pub(crate) delayed: AtomicU64,
    password_grants: AtomicU64,
    refresh_grants: AtomicU64,
    refused_grants: AtomicU64,
}

impl Stats {
    pub(crate) fn request(&self, route: String) {
        *self
            .by_route
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(route)
            .or_default() += 1;
    }

    /// Counts a token request by how it ended: issued for a grant, or refused (`None`).
    pub(crate) fn token(&self, granted: Option<GrantType>) {
        bump(match granted {
            Some(GrantType::Password) => &self.password_grants,
            Some(GrantType::RefreshToken) => &self.refresh_grants,
            None => &self.refused_grants,
        });
    }

    pub(crate) fn snapshot(&self) -> RequestCounts {
        let load = |counter: &AtomicU64| counter.load(Ordering::SeqCst);
        RequestCounts {
            by_route: self
                .by_route
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .map(|(route, count)| (route.clone(), *count))
                .collect(),
            created: load(&self.created),
            updated: load(&self.updated),
            deleted: load(&self.deleted),
            tokens: TokenCounts {
                password: load(&self.password_grants),
                refresh: load(&self.refresh_grants),
                refused: load(&self.refused_grants),
            },
            faults: FaultCounts {
                errors: load(&self.errors),
                throttles: load(&self.throttles),
                resets: load(&self.resets),
                commit_then_fail: load(&self.commit_then_fail),
                slow_answers: load(&self.slow_answers),
                delayed: load(&self.delayed),
            },
        }
    }
}

/// Adds one to a counter.
pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::SeqCst);
}
