//! Why an emulator could not start or stop cleanly.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why an emulator could not start, persist its state, or stop cleanly.
///
/// Messages name files and settings, never a secret: a state file that cannot be parsed is
/// reported by line and column only, because it holds the organizations' passwords.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The listening address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address from the configuration.
        addr: SocketAddr,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A fault rate is not a number from 0 to 1, or the rates of faults that exclude each other
    /// add up to more than 1.
    #[error("{setting} must be a number from 0 to 1, got {value}")]
    InvalidRate {
        /// The setting, for example `error_rate` or `reset_rate + error_rate + throttle_rate`.
        setting: &'static str,
        /// The value given.
        value: f64,
    },
    /// The latency range is empty (its start is after its end).
    #[error("the latency range starts at {start_ms} ms, after its end at {end_ms} ms")]
    InvalidLatency {
        /// Start of the range, in milliseconds.
        start_ms: u128,
        /// End of the range, in milliseconds.
        end_ms: u128,
    },
    /// No certificate could be generated.
    #[error("cannot generate a self-signed certificate: {source}")]
    GenerateCertificate {
        /// What rcgen said.
        source: rcgen::Error,
    },
    /// A certificate or key file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    ReadTlsFile {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A certificate or key file holds no usable PEM item.
    #[error("{} holds no {what} in PEM form", path.display())]
    InvalidTlsFile {
        /// The file.
        path: PathBuf,
        /// What was looked for: `certificate` or `private key`.
        what: &'static str,
    },
    /// The certificate and key were read but rustls rejected them (for example, they do not
    /// match).
    #[error("cannot use the certificate and key: {source}")]
    Tls {
        /// What rustls said.
        source: rustls::Error,
    },
    /// The state file exists but could not be read.
    #[error("cannot read state file {}: {source}", path.display())]
    ReadState {
        /// The state file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The state file is not a state file this emulator wrote.
    #[error(
        "state file {} is not valid at line {line}, column {column}; move it away to start empty",
        path.display()
    )]
    ParseState {
        /// The state file.
        path: PathBuf,
        /// Line of the first problem.
        line: usize,
        /// Column of the first problem.
        column: usize,
    },
    /// The state file names two organizations the same (ignoring case) or reuses an id.
    #[error("state file {} holds organization {name} twice", path.display())]
    DuplicateInState {
        /// The state file.
        path: PathBuf,
        /// The repeated name or id.
        name: String,
    },
    /// The state could not be written.
    #[error("cannot write state file {}: {source}", path.display())]
    WriteState {
        /// The state file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The server stopped with an error.
    #[error("the server failed: {source}")]
    Serve {
        /// What went wrong.
        source: std::io::Error,
    },
}
