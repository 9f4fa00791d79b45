//! What the emulator was asked and what it did, for tests to check (for example, that a
//! client's retries created nothing twice).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

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
    /// Faults injected.
    pub faults: FaultCounts,
}

impl RequestCounts {
    /// Requests received on `route`, for example `"POST /v3/Organizations"`.
    pub fn route(&self, route: &str) -> u64 {
        self.by_route.get(route).copied().unwrap_or(0)
    }
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
            faults: FaultCounts {
                errors: load(&self.errors),
                throttles: load(&self.throttles),
                resets: load(&self.resets),
                commit_then_fail: load(&self.commit_then_fail),
            },
        }
    }
}

/// Adds one to a counter.
pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::SeqCst);
}
