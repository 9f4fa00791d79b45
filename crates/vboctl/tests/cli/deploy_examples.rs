//! The deployment files of examples/deploy (compose, Kubernetes, systemd) and the Dockerfile
//! parse and name only commands and flags vboctl has: each vboctl command in them is run with
//! `--help`, which clap refuses when a flag or a value is wrong.

use serde_json::Value;

use crate::{repository, vboctl};

fn read(path: &str) -> String {
    std::fs::read_to_string(repository().join(path)).unwrap()
}

/// Panics unless `vboctl <args> --help` succeeds.
#[track_caller]
fn assert_accepted(source: &str, args: &[String]) {
    let output = vboctl().args(args).arg("--help").output().unwrap();
    assert!(
        output.status.success(),
        "{source}: `vboctl {}` is not a command vboctl has:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("a list of words: {value}"))
        .iter()
        .map(|word| word.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_compose_file_runs_the_agent_against_the_emulator() {
    let compose: Value = serde_saphyr::from_str(&read("examples/deploy/compose.yaml")).unwrap();
    let services = &compose["services"];
    let emulator = strings(&services["emulator"]["command"]);
    assert_eq!(emulator[0], "emulator");
    assert_accepted("compose.yaml emulator", &emulator);
    let agent = strings(&services["agent"]["command"]);
    assert_eq!(agent[0], "agent");
    assert!(
        agent.contains(&"--listen=0.0.0.0:9464".to_owned()),
        "{agent:?}"
    );
    assert_accepted("compose.yaml agent", &agent);
    assert_eq!(
        services["agent"]["environment"]["VBOCTL_SERVER"],
        "http://emulator:4443"
    );
}

#[test]
fn the_kubernetes_deployment_probes_health_and_readiness() {
    let documents: Vec<Value> =
        serde_saphyr::from_multiple(&read("examples/deploy/kubernetes.yaml")).unwrap();
    let deployment = documents
        .iter()
        .find(|document| document["kind"] == "Deployment")
        .expect("a Deployment");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let args = strings(&container["args"]);
    assert_eq!(args[0], "agent");
    assert_accepted("kubernetes.yaml", &args);
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(container["ports"][0]["containerPort"], 9464);
    // Credentials come from a Secret, never from the file.
    assert!(container["envFrom"][0]["secretRef"]["name"].is_string());
    assert!(!read("examples/deploy/kubernetes.yaml").contains("VBOCTL_PASSWORD: "));
    let security = &deployment["spec"]["template"]["spec"]["securityContext"];
    assert_eq!(security["runAsNonRoot"], true);
}

#[test]
fn the_systemd_unit_starts_the_agent() {
    let unit = read("examples/deploy/vboctl-agent.service").replace("\\\n", " ");
    let exec = unit
        .lines()
        .find_map(|line| line.strip_prefix("ExecStart="))
        .expect("an ExecStart line");
    let mut words = exec.split_whitespace();
    assert_eq!(words.next(), Some("/usr/local/bin/vboctl"));
    let args: Vec<String> = words
        .map(|word| word.replace("${CACHE_DIRECTORY}", "/var/cache/vboctl"))
        .collect();
    assert_eq!(args[0], "agent");
    assert_accepted("vboctl-agent.service", &args);
    assert!(
        unit.contains("EnvironmentFile="),
        "secrets come from a file"
    );
}

#[test]
fn the_dockerfile_builds_vboctl_and_runs_the_agent_unprivileged() {
    let dockerfile = read("Dockerfile");
    assert!(dockerfile.contains("cargo build --release --locked -p vboctl"));
    assert!(dockerfile.contains("ENTRYPOINT [\"/usr/local/bin/vboctl\"]"));
    assert!(dockerfile.contains("CMD [\"agent\"]"));
    let user = dockerfile
        .lines()
        .find_map(|line| line.strip_prefix("USER "))
        .expect("a USER line");
    assert!(
        !user.starts_with("0") && !user.starts_with("root"),
        "{user}"
    );
    // The build stage's toolchain is at least the one the workspace declares it needs.
    let toolchain = dockerfile
        .lines()
        .find_map(|line| line.strip_prefix("FROM rust:"))
        .and_then(|tag| tag.split('-').next())
        .expect("a Rust build stage");
    let version =
        |text: &str| -> Vec<u32> { text.split('.').map(|part| part.parse().unwrap()).collect() };
    assert!(
        version(toolchain) >= version(env!("CARGO_PKG_RUST_VERSION")),
        "the Dockerfile builds with Rust {toolchain}, older than the workspace's rust-version {}",
        env!("CARGO_PKG_RUST_VERSION")
    );
}
