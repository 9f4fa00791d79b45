//! `vboctl agent` as it runs for real: the binary follows a git repository made by the test,
//! reconciles the in-process emulator with it, and is watched through its HTTP endpoints, its
//! log and a webhook receiver, then stopped with SIGTERM.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vbo_emulator::{EmulatorConfig, Faults, User};

use crate::apply_support::{Background, Setup, on_premises};

/// How long anything the agent should do within an interval or two may take on a loaded
/// machine before the test gives up.
const DEADLINE: Duration = Duration::from_secs(30);

/// A distinctive value for every secret, to be looked for in everything the agent shows.
const ADMIN_PW: &str = "Admin-Pw-Agent-4f1d";
const CORP_PW: &str = "Corp-Pw-Agent-93ab";
const GIT_TOKEN: &str = "Git-Token-Agent-7c55";
const HOOK_TOKEN: &str = "Hook-Token-Agent-2e08";

/// Runs git in `dir` with no configuration but an identity.
fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(["-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// An emulator whose account has a distinctive password, `CORP_PW` for the manifests, and a
/// git repository `repo/` in the working folder.
async fn setup(config: EmulatorConfig) -> Setup {
    let mut setup = Setup::with_config(EmulatorConfig {
        users: vec![User::new("admin", ADMIN_PW)],
        ..config
    })
    .await;
    setup.set_env("CORP_PW", CORP_PW);
    setup.set_env("VBOCTL_GIT_TOKEN", GIT_TOKEN);
    std::fs::create_dir_all(setup.path().join("repo")).unwrap();
    git(&setup.path().join("repo"), &["init", "-q", "-b", "main"]);
    setup
}

/// Writes `repo/tenants/<name>.yaml`, an OnPremises organization on mail server `server`.
fn write_manifest(setup: &Setup, name: &str, server: &str) {
    setup.write(
        &format!("repo/tenants/{name}.yaml"),
        &on_premises(name, server, "{fromEnv: CORP_PW}"),
    );
}

/// Commits everything in `repo/` and returns the commit.
fn commit(setup: &Setup, message: &str) -> String {
    let repo = setup.path().join("repo");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "--allow-empty", "-m", message]);
    git(&repo, &["rev-parse", "HEAD"]).trim().to_owned()
}

/// The body of an OnPremises organization `name` on mail server `server`, its password a value
/// typed in the console.
fn console_body(name: &str, server: &str) -> vbo_model::OrganizationBody<vbo_model::Secret> {
    let loaded = vbo_model::load::load_str(
        "console.yaml",
        &on_premises(name, server, "{fromEnv: UNUSED}"),
    );
    assert!(!loaded.has_errors(false), "{}", loaded.render(false));
    loaded.documents[0]
        .manifest
        .spec
        .to_body(name, |_, _| {
            Ok::<_, std::convert::Infallible>(vbo_model::Secret::new("Console-Pw-Agent-11"))
        })
        .unwrap_or_else(|never| match never {})
}

/// A running agent and the address of its endpoints.
struct Agent {
    running: Background,
    address: String,
}

/// Starts `vboctl agent` on `repo/`'s `tenants/`, every 200ms, with `extra` arguments, and
/// waits until it serves.
async fn start(setup: &Setup, extra: &[&str]) -> Agent {
    let mut args = vec![
        "agent",
        "--repo",
        "repo",
        "--path",
        "tenants",
        "--interval",
        "200ms",
        "--max-backoff",
        "1s",
        "--listen",
        "127.0.0.1:0",
        "--cache-dir",
        "cache",
    ];
    args.extend_from_slice(extra);
    let running = setup.spawn(&args);
    running.wait_for_stderr("serving /healthz").await;
    let stderr = running.stderr_now();
    let address: String = stderr
        .split("on http://")
        .nth(1)
        .expect("the address is logged")
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
        .collect();
    Agent { running, address }
}

impl Agent {
    /// `GET path`: the status code and the body.
    async fn get(&self, path: &str) -> (u16, String) {
        get(&self.address, path).await
    }

    /// Waits until `GET path` answers `code` with a body that contains `part`.
    async fn wait_for(&self, path: &str, code: u16, part: &str) -> String {
        let started = Instant::now();
        loop {
            let (status, body) = self.get(path).await;
            if status == code && body.contains(part) {
                return body;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "GET {path} answered {status} without {part:?}:\n{body}\n--- log\n{}",
                self.running.stderr_now()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the agent with SIGTERM and returns everything it logged; it must exit 0.
    async fn stop(self) -> String {
        self.running.terminate();
        let run = self.running.finish().await;
        run.expect_code(0);
        run.all()
    }
}

/// A plain HTTP/1.0 GET, enough for the agent's endpoints.
async fn get(address: &str, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("the agent listens");
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Waits until `condition` holds, for at most [`DEADLINE`].
async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(
            started.elapsed() < DEADLINE,
            "waited {DEADLINE:?} for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A webhook receiver: every body POSTed to it, answered 200.
async fn webhook() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/hooks/{HOOK_TOKEN}",
        listener.local_addr().unwrap()
    );
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&bodies);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let kept = Arc::clone(&kept);
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                loop {
                    let read = stream.read(&mut buffer).await.unwrap_or(0);
                    if read == 0 {
                        return;
                    }
                    request.extend_from_slice(&buffer[..read]);
                    let text = String::from_utf8_lossy(&request).into_owned();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|line| {
                                let (name, value) = line.split_once(':')?;
                                name.eq_ignore_ascii_case("content-length")
                                    .then(|| value.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            kept.lock().unwrap().push(body.to_owned());
                            let _ = stream
                                .write_all(
                                    b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                                )
                                .await;
                            return;
                        }
                    }
                }
            });
        }
    });
    (url, bodies)
}

/// The samples of a metrics text, parsed by an independent Prometheus parser, by name and
/// sorted labels.
fn samples(text: &str) -> HashMap<String, f64> {
    let lines = text.lines().map(|line| Ok(line.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("the metrics parse");
    scrape
        .samples
        .into_iter()
        .filter_map(|sample| {
            let mut labels: Vec<String> = sample
                .labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{v}\""))
                .collect();
            labels.sort();
            let key = if labels.is_empty() {
                sample.metric.clone()
            } else {
                format!("{}{{{}}}", sample.metric, labels.join(","))
            };
            match sample.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => Some((key, v)),
                _ => None,
            }
        })
        .collect()
}

/// The value of `key` in `samples`.
#[track_caller]
fn sample(samples: &HashMap<String, f64>, key: &str) -> f64 {
    *samples
        .get(key)
        .unwrap_or_else(|| panic!("{key} in {samples:#?}"))
}

/// The log lines of finished or failed cycles.
fn cycle_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|line| line.contains("cycle finished") || line.contains("cycle failed"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_committed_manifest_is_created_within_an_interval() {
    let setup = setup(EmulatorConfig::default()).await;
    write_manifest(&setup, "a.example.com", "mail.a");
    commit(&setup, "add a");
    let agent = start(&setup, &["--mode", "apply"]).await;
    assert_eq!(agent.get("/healthz").await, (200, "ok\n".to_owned()));
    agent.wait_for("/readyz", 200, "ready").await;
    assert_eq!(setup.names(), ["a.example.com"]);

    write_manifest(&setup, "b.example.com", "mail.b");
    let added = commit(&setup, "add b");
    let committed = Instant::now();
    eventually("b to be created", || setup.names().len() == 2).await;
    // Every 200ms; a loaded machine may take some seconds, never an interval of minutes.
    assert!(committed.elapsed() < Duration::from_secs(20));
    let status: serde_json::Value =
        serde_json::from_str(&agent.wait_for("/status", 200, &added).await).unwrap();
    assert_eq!(status["mode"], "apply");
    assert_eq!(status["branch"], "main");

    let log = agent.stop().await;
    assert!(
        log.lines()
            .any(|line| line.contains("created b.example.com")),
        "{log}"
    );
    assert!(log.contains("agent stopped"), "{log}");
    assert_eq!(setup.emulator.request_counts().created, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_plan_mode_a_changed_field_is_reported_as_drift_and_posted() {
    let setup = setup(EmulatorConfig::default()).await;
    write_manifest(&setup, "a.example.com", "mail.a");
    commit(&setup, "add a");
    setup
        .expect(&["apply", "repo/tenants", "--auto-approve"], 0)
        .await;
    write_manifest(&setup, "a.example.com", "mail-2.a");
    let changed = commit(&setup, "move a's mail server");
    let writes = setup.writes();
    let (hook, bodies) = webhook().await;

    let agent = start(&setup, &["--notify", &hook]).await;
    agent
        .wait_for("/metrics", 200, "vboctl_drift_detected 1\n")
        .await;
    eventually("the drift notification", || {
        !bodies.lock().unwrap().is_empty()
    })
    .await;
    let status = agent.wait_for("/status", 200, "\"drift\":true").await;
    let log = agent.stop().await;

    let body: serde_json::Value = serde_json::from_str(&bodies.lock().unwrap()[0]).unwrap();
    assert_eq!(body["event"], "drift");
    assert_eq!(body["commit"], changed.as_str());
    assert_eq!(body["summary"]["update"], 1);
    assert_eq!(body["organizations"][0]["name"], "a.example.com");
    assert_eq!(
        body["organizations"][0]["fields"][0],
        "exchangeSettings.serverName"
    );
    assert!(status.contains(&changed), "{status}");
    let lines = cycle_lines(&log);
    assert!(lines[0].contains("pending"), "{log}");
    assert!(lines[1].contains("sync=\"drift\""), "{log}");
    assert!(lines[1].contains("changed=update:a.example.com"), "{log}");
    assert_eq!(setup.writes(), writes, "plan mode changed the server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_apply_mode_an_edit_on_the_server_is_detected_and_corrected() {
    let setup = setup(EmulatorConfig::default()).await;
    write_manifest(&setup, "a.example.com", "mail.a");
    commit(&setup, "add a");
    let agent = start(&setup, &["--mode", "apply"]).await;
    agent.wait_for("/readyz", 200, "ready").await;

    // Someone changes the mail server in the console.
    let id = setup.id_of("a.example.com");
    setup
        .client()
        .await
        .update(&id, &console_body("a.example.com", "edited-in-console.a"))
        .await
        .unwrap();
    eventually("the edit to be undone", || {
        setup.stored("a.example.com")["body"]["exchangeSettings"]["serverName"] == "mail.a"
    })
    .await;
    let metrics = agent
        .wait_for("/metrics", 200, "vboctl_drift_detections_total 1\n")
        .await;
    let log = agent.stop().await;
    assert!(
        sample(
            &samples(&metrics),
            "vboctl_changes_applied_total{action=\"update\"}"
        ) >= 1.0,
        "{metrics}"
    );
    assert!(
        cycle_lines(&log)
            .iter()
            .any(|line| line.contains("sync=\"drift\"") && line.contains("updated=1")),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_commit_changes_nothing_and_readyz_says_why() {
    let setup = setup(EmulatorConfig::default()).await;
    write_manifest(&setup, "a.example.com", "mail.a");
    write_manifest(&setup, "b.example.com", "mail.b");
    commit(&setup, "add a and b");
    let agent = start(&setup, &["--mode", "apply", "--prune"]).await;
    agent.wait_for("/readyz", 200, "ready").await;
    let writes = setup.writes();

    // Applied, this commit would delete a and break b.
    std::fs::remove_file(setup.path().join("repo/tenants/a.example.com.yaml")).unwrap();
    setup.write(
        "repo/tenants/b.example.com.yaml",
        &on_premises("b.example.com", "mail.b", "{fromEnv: CORP_PW}")
            .replace("serverName:", "serverNmae:"),
    );
    let broken = commit(&setup, "break b, drop a");
    let reason = agent
        .wait_for("/readyz", 503, "tenants/b.example.com.yaml")
        .await;
    assert!(reason.contains("invalid"), "{reason}");
    assert!(
        reason.contains("nothing was sent to the server"),
        "{reason}"
    );
    let status = agent.wait_for("/status", 200, &broken).await;
    assert!(status.contains("\"outcome\":\"invalid\""), "{status}");
    assert_eq!(setup.names(), ["a.example.com", "b.example.com"]);
    assert_eq!(setup.writes(), writes);

    // Fixed: the agent carries on and the delete the fix asks for is made.
    write_manifest(&setup, "b.example.com", "mail.b");
    commit(&setup, "fix b");
    agent.wait_for("/readyz", 200, "ready").await;
    assert_eq!(setup.names(), ["b.example.com"]);
    let log = agent.stop().await;
    assert!(log.contains("did you mean"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_as_prometheus_text_and_count_what_happened() {
    let setup = setup(EmulatorConfig::default()).await;
    write_manifest(&setup, "a.example.com", "mail.a");
    write_manifest(&setup, "b.example.com", "mail.b");
    commit(&setup, "add a and b");
    setup
        .client()
        .await
        .create(&console_body("legacy.example.com", "mail.legacy"))
        .await
        .unwrap();
    let agent = start(&setup, &["--mode", "apply"]).await;
    agent.wait_for("/readyz", 200, "ready").await;
    // One broken commit among good ones.
    setup.write("repo/tenants/broken.yaml", "apiVersion: vboctl/v1\nkind: [");
    commit(&setup, "break");
    agent.wait_for("/readyz", 503, "broken.yaml").await;
    std::fs::remove_file(setup.path().join("repo/tenants/broken.yaml")).unwrap();
    commit(&setup, "unbreak");
    agent.wait_for("/readyz", 200, "ready").await;

    let (code, text) = agent.get("/metrics").await;
    let log = agent.stop().await;
    assert_eq!(code, 200);
    assert!(text.ends_with("# EOF\n"), "{text}");
    let metrics = samples(&text);
    let lines = cycle_lines(&log);
    let count = |outcome: &str| {
        lines
            .iter()
            .filter(|line| line.contains(&format!("outcome=\"{outcome}\"")))
            .count() as f64
    };
    // The scrape came before the stop: at most the cycles logged.
    let success = sample(&metrics, "vboctl_cycles_total{outcome=\"success\"}");
    let invalid = sample(&metrics, "vboctl_cycles_total{outcome=\"invalid\"}");
    assert!(
        success >= 2.0 && success <= count("success"),
        "{text}\n{log}"
    );
    assert!(
        invalid >= 1.0 && invalid <= count("invalid"),
        "{text}\n{log}"
    );
    assert_eq!(
        sample(&metrics, "vboctl_cycles_total{outcome=\"error\"}"),
        0.0
    );
    assert_eq!(
        sample(&metrics, "vboctl_cycle_duration_seconds_count"),
        success + invalid
    );
    assert_eq!(
        sample(&metrics, "vboctl_changes_applied_total{action=\"create\"}"),
        2.0
    );
    assert_eq!(
        sample(&metrics, "vboctl_changes_applied_total{action=\"delete\"}"),
        0.0
    );
    assert_eq!(sample(&metrics, "vboctl_organizations_managed"), 2.0);
    assert_eq!(sample(&metrics, "vboctl_organizations_unmanaged"), 1.0);
    assert_eq!(sample(&metrics, "vboctl_drift_detected"), 0.0);
    assert_eq!(sample(&metrics, "vboctl_git_fetch_errors_total"), 0.0);
    assert!(
        sample(
            &metrics,
            "vboctl_last_successful_reconcile_timestamp_seconds"
        ) > 1.6e9
    );
    assert_eq!(
        sample(
            &metrics,
            "vboctl_agent_info{mode=\"apply\",version=\"0.1.0\"}"
        ),
        1.0
    );
    assert_eq!(setup.emulator.request_counts().created, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_slow_cycle_finishes_it_and_exits_0() {
    const COUNT: usize = 6;
    let setup = setup(EmulatorConfig::default()).await;
    for i in 0..COUNT {
        write_manifest(&setup, &format!("tenant-{i}.example.com"), "mail.t");
    }
    commit(&setup, "add tenants");
    // Each request takes a quarter of a second: two creates at a time take a while.
    setup
        .emulator
        .set_faults(Faults {
            latency: Some(Duration::from_millis(250)..=Duration::from_millis(250)),
            ..Faults::default()
        })
        .unwrap();
    let agent = start(&setup, &["--mode", "apply", "--parallelism", "2"]).await;
    eventually("a first create", || {
        setup.emulator.request_counts().created >= 1
    })
    .await;
    let log = agent.stop().await;

    let created = setup.emulator.request_counts().created as usize;
    assert!(created < COUNT, "the cycle was not interrupted:\n{log}");
    // The cycle is reported whole: one line, with what was made and what was not started.
    let lines = cycle_lines(&log);
    let interrupted: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("cycle interrupted"))
        .collect();
    assert!(lines.is_empty(), "{log}");
    assert_eq!(interrupted.len(), 1, "{log}");
    assert!(
        interrupted[0].contains(&format!("created={created} ")),
        "{created} created:\n{log}"
    );
    assert!(
        interrupted[0].contains(&format!("not_started={} ", COUNT - created)),
        "{log}"
    );
    let made = log
        .lines()
        .filter(|line| line.contains(" created tenant-"))
        .count();
    assert_eq!(made, created, "{log}");
    assert!(log.contains("agent stopped"), "{log}");
    let after = log.split("cycle interrupted").nth(1).unwrap_or_default();
    assert!(!after.contains("created tenant-"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_log_the_status_or_the_webhook() {
    let mut setup = setup(EmulatorConfig::default()).await;
    setup.set_env("RUST_LOG", "debug");
    write_manifest(&setup, "a.example.com", "mail.a");
    commit(&setup, "add a");
    let (hook, bodies) = webhook().await;
    let agent = start(&setup, &["--mode", "apply", "--notify", &hook]).await;
    agent.wait_for("/readyz", 200, "ready").await;
    let id = setup.id_of("a.example.com");
    setup.client().await.delete(&id).await.unwrap();
    eventually("the drift notification", || {
        !bodies.lock().unwrap().is_empty()
    })
    .await;
    eventually("a to be created again", || setup.names().len() == 1).await;
    let (_, status) = agent.get("/status").await;
    let (_, metrics) = agent.get("/metrics").await;
    let (_, ready) = agent.get("/readyz").await;
    let log = agent.stop().await;
    let posted = bodies.lock().unwrap().join("\n");
    assert!(posted.contains("a.example.com"), "{posted}");
    for secret in [ADMIN_PW, CORP_PW, GIT_TOKEN, HOOK_TOKEN] {
        for (what, text) in [
            ("log", &log),
            ("status", &status),
            ("metrics", &metrics),
            ("readyz", &ready),
            ("webhook", &posted),
        ] {
            assert!(!text.contains(secret), "{secret} in the {what}:\n{text}");
        }
    }
    assert_eq!(
        setup.stored("a.example.com")["body"]["exchangeSettings"]["password"],
        CORP_PW
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_commit_and_the_summary() {
    let setup = setup(EmulatorConfig::default()).await;
    write_manifest(&setup, "a.example.com", "mail.a");
    let head = commit(&setup, "add a");
    let agent = start(&setup, &["--log-format", "json"]).await;
    agent.wait_for("/readyz", 200, "ready").await;
    let log = agent.stop().await;
    let cycle: serde_json::Value = log
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|line| line["outcome"].is_string())
        .unwrap_or_else(|| panic!("a JSON cycle line in:\n{log}"));
    assert_eq!(cycle["commit"], head.as_str());
    assert_eq!(cycle["outcome"], "success");
    assert_eq!(cycle["sync"], "pending");
    assert_eq!(cycle["create"], 1);
    assert_eq!(cycle["level"], "INFO");
    assert!(setup.names().is_empty(), "plan mode created something");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_cannot_start_exits_1() {
    let setup = setup(EmulatorConfig::default()).await;
    let missing = setup
        .vboctl(&[
            "agent",
            "--repo",
            "file:///nonexistent/vboctl-agent-repository",
            "--listen",
            "127.0.0.1:0",
            "--cache-dir",
            "cache",
        ])
        .await;
    missing.expect_code(1);
    missing.assert_stderr_contains("cannot fetch file:///nonexistent/vboctl-agent-repository");

    write_manifest(&setup, "a.example.com", "mail.a");
    commit(&setup, "add a");
    let branch = setup
        .vboctl(&[
            "agent",
            "--repo",
            "repo",
            "--branch",
            "production",
            "--listen",
            "127.0.0.1:0",
            "--cache-dir",
            "cache",
        ])
        .await;
    branch.expect_code(1);
    branch.assert_stderr_contains("has no branch \"production\"");

    let interval = setup
        .vboctl(&["agent", "--repo", "repo", "--interval", "soon"])
        .await;
    interval.expect_code(1);
    interval.assert_stderr_contains("--interval");
}
