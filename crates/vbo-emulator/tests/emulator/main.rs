//! Raw HTTP tests of the emulator: a plain reqwest client against an emulator started
//! in-process on 127.0.0.1, checking status codes, headers and JSON exactly as a client of the
//! real server would see them.

mod concurrency;
mod faults;
mod logging;
mod organizations;
mod persistence;
mod support;
mod tls;
mod token;
mod versions;
