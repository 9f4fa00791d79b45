//! `vboctl emulator` as a child process, on a free port of the loopback interface.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running emulator; stopped when dropped.
pub(crate) struct RunningEmulator {
    child: Child,
    /// Its root URL, for `VBOCTL_SERVER`.
    pub(crate) url: String,
    /// Its generated certificate, for `VBOCTL_CA_CERT` and curl's `--cacert`.
    pub(crate) ca_cert: PathBuf,
}

/// Starts `vboctl emulator` holding `seeded` organizations, with `faults` (emulator options
/// such as `--latency 20`), and waits until it listens.
pub(crate) fn start(
    vboctl: &Path,
    work: &Path,
    seeded: usize,
    faults: &[&str],
) -> Result<RunningEmulator, String> {
    let ca_cert = work.join("emulator-ca.pem");
    let mut child = Command::new(vboctl)
        .args(["emulator", "--listen", "127.0.0.1:0", "--seed-orgs"])
        .arg(seeded.to_string())
        .arg("--cert-out")
        .arg(&ca_cert)
        .args(faults)
        // One log line per request would cost the emulator more than answering it.
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {} emulator: {e}", vboctl.display()))?;
    let stdout = child.stdout.take().ok_or("the emulator has no output")?;
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        // Keep reading to the end, so the emulator never blocks on a full pipe.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.trim().strip_prefix("listening on") {
                let _ = sender.send(url.trim().to_owned());
            }
        }
    });
    match receiver.recv_timeout(Duration::from_secs(120)) {
        Ok(url) => Ok(RunningEmulator {
            child,
            url,
            ca_cert,
        }),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            Err("the emulator did not start listening within 120 s".to_owned())
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
