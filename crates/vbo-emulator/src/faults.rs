//! Misbehaviour on purpose: the random draws that decide which request fails and how.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::{EmulatorError, Faults};

/// What happens to an organizations request before it is handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Before {
    /// Handle it.
    Pass,
    /// Close the connection without answering.
    Reset,
    /// Answer 503.
    Error,
    /// Answer 429 with `Retry-After: 1`.
    Throttle,
}

/// What happens to the answer of a create, update or delete that was carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AfterCommit {
    /// Answer normally.
    Answer,
    /// Answer 500 although the change was made.
    Fail,
    /// Close the connection although the change was made.
    Drop,
    /// Answer normally, but only after this long: a client with a shorter timeout gives up on
    /// a change that was made.
    Delay(Duration),
}

/// The faults in force and the generator of their draws, which [`FaultInjector::set`] can
/// replace while the emulator runs.
pub(crate) struct FaultInjector {
    state: Mutex<State>,
}

struct State {
    faults: Faults,
    rng: StdRng,
}

impl FaultInjector {
    /// Checks the rates and the latency range, and seeds the generator.
    pub(crate) fn new(faults: Faults) -> Result<Self, EmulatorError> {
        Ok(Self {
            state: Mutex::new(State::new(faults)?),
        })
    }

    /// Replaces the faults in force, and reseeds the generator from the new seed. The faults
    /// in force stay as they were when `faults` is invalid.
    pub(crate) fn set(&self, faults: Faults) -> Result<(), EmulatorError> {
        let state = State::new(faults)?;
        *self.state() = state;
        Ok(())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How long to wait before handling a request of `kind` (`token`, `get`, `post`, `put`
    /// or `delete`): its own latency when one is set, the general one otherwise.
    pub(crate) fn latency(&self, kind: &str) -> Duration {
        let mut state = self.state();
        let own = state
            .faults
            .method_latency
            .ranges()
            .find(|(name, _)| *name == kind)
            .map(|(_, range)| range.clone());
        let Some(range) = own.or_else(|| state.faults.latency.clone()) else {
            return Duration::ZERO;
        };
        let (start, end) = (nanos(*range.start()), nanos(*range.end()));
        Duration::from_nanos(state.rng.random_range(start..=end))
    }

    /// One draw decides whether an organizations request is reset, refused or throttled.
    pub(crate) fn before(&self) -> Before {
        let mut state = self.state();
        let Faults {
            reset_rate,
            error_rate,
            throttle_rate,
            ..
        } = state.faults;
        if reset_rate + error_rate + throttle_rate == 0.0 {
            return Before::Pass;
        }
        let roll: f64 = state.rng.random();
        if roll < reset_rate {
            Before::Reset
        } else if roll < reset_rate + error_rate {
            Before::Error
        } else if roll < reset_rate + error_rate + throttle_rate {
            Before::Throttle
        } else {
            Before::Pass
        }
    }

    /// Whether the answer to a change that was made is lost, and how, or delayed. One draw
    /// decides between losing it (`commit_then_fail_rate`), delaying it (`slow_answer_rate`)
    /// and answering at once.
    pub(crate) fn after_commit(&self) -> AfterCommit {
        let mut state = self.state();
        let Faults {
            commit_then_fail_rate,
            slow_answer_rate,
            slow_answer_delay,
            ..
        } = state.faults;
        if commit_then_fail_rate + slow_answer_rate == 0.0 {
            return AfterCommit::Answer;
        }
        let (roll, drop): (f64, bool) = (state.rng.random(), state.rng.random());
        if roll < commit_then_fail_rate {
            if drop {
                AfterCommit::Drop
            } else {
                AfterCommit::Fail
            }
        } else if roll < commit_then_fail_rate + slow_answer_rate {
            AfterCommit::Delay(slow_answer_delay)
        } else {
            AfterCommit::Answer
        }
    }
}

impl State {
    fn new(faults: Faults) -> Result<Self, EmulatorError> {
        for (setting, value) in [
            ("error_rate", faults.error_rate),
            ("throttle_rate", faults.throttle_rate),
            ("reset_rate", faults.reset_rate),
            ("commit_then_fail_rate", faults.commit_then_fail_rate),
            ("slow_answer_rate", faults.slow_answer_rate),
            (
                "reset_rate + error_rate + throttle_rate",
                faults.reset_rate + faults.error_rate + faults.throttle_rate,
            ),
            (
                "commit_then_fail_rate + slow_answer_rate",
                faults.commit_then_fail_rate + faults.slow_answer_rate,
            ),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(EmulatorError::InvalidRate { setting, value });
            }
        }
        let ranges = faults
            .latency
            .iter()
            .chain(faults.method_latency.ranges().map(|(_, range)| range));
        for range in ranges {
            if range.start() > range.end() {
                return Err(EmulatorError::InvalidLatency {
                    start_ms: range.start().as_millis(),
                    end_ms: range.end().as_millis(),
                });
            }
        }
        let rng = match faults.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => rand::make_rng(),
        };
        Ok(Self { faults, rng })
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MethodLatency;

    fn injector(faults: Faults) -> FaultInjector {
        FaultInjector::new(faults).unwrap()
    }

    #[test]
    fn rates_outside_zero_to_one_are_refused() {
        for faults in [
            Faults {
                error_rate: 1.5,
                ..Faults::default()
            },
            Faults {
                reset_rate: f64::NAN,
                ..Faults::default()
            },
            Faults {
                reset_rate: 0.6,
                throttle_rate: 0.6,
                ..Faults::default()
            },
        ] {
            assert!(matches!(
                FaultInjector::new(faults),
                Err(EmulatorError::InvalidRate { .. })
            ));
        }
        let backwards = Faults {
            latency: Some(Duration::from_millis(5)..=Duration::from_millis(1)),
            ..Faults::default()
        };
        assert!(matches!(
            FaultInjector::new(backwards),
            Err(EmulatorError::InvalidLatency { .. })
        ));
    }

    #[test]
    fn the_same_seed_gives_the_same_faults() {
        let faults = Faults {
            error_rate: 0.3,
            throttle_rate: 0.3,
            seed: Some(42),
            ..Faults::default()
        };
        let (a, b) = (injector(faults.clone()), injector(faults));
        let first: Vec<Before> = (0..100).map(|_| a.before()).collect();
        let second: Vec<Before> = (0..100).map(|_| b.before()).collect();
        assert_eq!(first, second);
        assert!(first.contains(&Before::Error) && first.contains(&Before::Throttle));
        assert!(first.contains(&Before::Pass));
    }

    #[test]
    fn latency_stays_in_its_range() {
        let range = Duration::from_millis(2)..=Duration::from_millis(4);
        let faults = injector(Faults {
            latency: Some(range.clone()),
            ..Faults::default()
        });
        for _ in 0..100 {
            assert!(range.contains(&faults.latency("get")));
        }
    }

    #[test]
    fn certain_commit_failures_fail_both_ways() {
        let faults = injector(Faults {
            commit_then_fail_rate: 1.0,
            seed: Some(1),
            ..Faults::default()
        });
        let outcomes: Vec<AfterCommit> = (0..50).map(|_| faults.after_commit()).collect();
        assert!(outcomes.contains(&AfterCommit::Fail));
        assert!(outcomes.contains(&AfterCommit::Drop));
        assert!(!outcomes.contains(&AfterCommit::Answer));
    }

    #[test]
    fn slow_answers_share_the_draw_with_lost_ones() {
        let delay = Duration::from_millis(700);
        let faults = injector(Faults {
            commit_then_fail_rate: 0.5,
            slow_answer_rate: 0.5,
            slow_answer_delay: delay,
            seed: Some(3),
            ..Faults::default()
        });
        let outcomes: Vec<AfterCommit> = (0..100).map(|_| faults.after_commit()).collect();
        assert!(outcomes.contains(&AfterCommit::Delay(delay)));
        assert!(outcomes.contains(&AfterCommit::Fail) || outcomes.contains(&AfterCommit::Drop));
        assert!(!outcomes.contains(&AfterCommit::Answer));
        assert!(matches!(
            FaultInjector::new(Faults {
                commit_then_fail_rate: 0.6,
                slow_answer_rate: 0.6,
                ..Faults::default()
            }),
            Err(EmulatorError::InvalidRate {
                setting: "commit_then_fail_rate + slow_answer_rate",
                ..
            })
        ));
    }

    #[test]
    fn faults_can_be_replaced_and_an_invalid_replacement_changes_nothing() {
        let faults = injector(Faults::default());
        assert_eq!(faults.before(), Before::Pass);
        faults
            .set(Faults {
                error_rate: 1.0,
                ..Faults::default()
            })
            .unwrap();
        assert_eq!(faults.before(), Before::Error);
        assert!(
            faults
                .set(Faults {
                    throttle_rate: 2.0,
                    ..Faults::default()
                })
                .is_err()
        );
        assert_eq!(faults.before(), Before::Error);
        faults.set(Faults::default()).unwrap();
        assert_eq!(faults.before(), Before::Pass);
    }

    #[test]
    fn a_kind_of_request_can_have_its_own_latency() {
        let slow = Duration::from_millis(2000)..=Duration::from_millis(5000);
        let faults = FaultInjector::new(Faults {
            latency: Some(Duration::from_millis(20)..=Duration::from_millis(20)),
            method_latency: MethodLatency {
                post: Some(slow.clone()),
                ..MethodLatency::default()
            },
            seed: Some(7),
            ..Faults::default()
        })
        .unwrap();
        for _ in 0..50 {
            assert!(slow.contains(&faults.latency("post")));
            assert_eq!(faults.latency("get"), Duration::from_millis(20));
            assert_eq!(faults.latency("token"), Duration::from_millis(20));
        }
        let backwards = Faults {
            method_latency: MethodLatency {
                delete: Some(Duration::from_millis(5)..=Duration::from_millis(1)),
                ..MethodLatency::default()
            },
            ..Faults::default()
        };
        assert!(FaultInjector::new(backwards).is_err());
    }
}
