//! The applier against the in-process emulator: every fault the emulator can inject, alone and
//! together, must end with each organization created exactly once and nothing left to do.

mod faults;
mod support;
mod verify;
