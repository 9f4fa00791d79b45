//! The `vboctl` binary as users run it.

mod emulator;
