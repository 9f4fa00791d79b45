//! The agent's cycle driven directly, against an in-process emulator and git repositories
//! made by the tests.

mod cycle;
mod git;
mod notify;
mod support;
