//! Timing a command and reading its peak memory.
//!
//! The peak memory of a finished child is what `getrusage(RUSAGE_CHILDREN)` reports, but that
//! is the largest of all the children a process ever waited for. So each measured command runs
//! under a fresh copy of this program (`vboctl-bench __measure`), whose only child it is.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// How one run of a command went.
#[derive(Clone, Debug)]
pub(crate) struct Measurement {
    /// Wall-clock time from start to exit.
    pub(crate) seconds: f64,
    /// Peak resident memory, in KiB, where the platform reports it.
    pub(crate) max_rss_kib: Option<u64>,
    /// The exit code, when the command exited normally.
    pub(crate) code: Option<i32>,
}

/// Runs `command` (standard output discarded, standard error to `stderr`) under a copy of this
/// program, with the environment of this one plus `env`.
pub(crate) fn measure(
    command: &[OsString],
    env: &[(String, String)],
    stderr: &Path,
) -> Result<Measurement, String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let output = Command::new(me)
        .arg("__measure")
        .arg(stderr)
        .args(command)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run the measuring copy: {e}"))?;
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("the measuring copy printed no report ({e})"))?;
    Ok(Measurement {
        seconds: report["seconds"].as_f64().unwrap_or(f64::NAN),
        max_rss_kib: report["max_rss_kib"].as_u64(),
        code: report["code"].as_i64().and_then(|c| i32::try_from(c).ok()),
    })
}

/// The `__measure STDERR COMMAND...` side: runs the command as the only child, then prints
/// `{"seconds", "max_rss_kib", "code"}`.
pub(crate) fn run_as_measurer(stderr: PathBuf, command: Vec<OsString>) -> Result<(), String> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| "nothing to measure".to_owned())?;
    let stderr = std::fs::File::create(&stderr)
        .map_err(|e| format!("cannot create {}: {e}", stderr.display()))?;
    let start = Instant::now();
    let status = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", program.to_string_lossy()))?;
    let seconds = start.elapsed().as_secs_f64();
    let report = serde_json::json!({
        "seconds": seconds,
        "max_rss_kib": peak_of_children(),
        "code": status.code(),
    });
    println!("{report}");
    Ok(())
}

#[cfg(unix)]
fn peak_of_children() -> Option<u64> {
    use nix::sys::resource::{UsageWho, getrusage};
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).ok()?;
    // Linux reports KiB (macOS bytes; this benchmark's tables come from Linux).
    u64::try_from(usage.max_rss()).ok()
}

#[cfg(not(unix))]
fn peak_of_children() -> Option<u64> {
    None
}
