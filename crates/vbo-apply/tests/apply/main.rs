//! The applier against the in-process emulator: every fault the emulator can inject, alone and
//! together, must end with each organization created exactly once and nothing left to do; a run
//! racing another one, or interrupted, must say what it did and did not do.

mod faults;
mod interrupt;
mod race;
mod support;
mod verify;
