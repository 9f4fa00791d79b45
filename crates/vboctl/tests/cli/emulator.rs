//! `vboctl emulator`: starts, prints where to connect and with which credentials, serves a
//! verifying HTTPS client, logs one line per request, and stops cleanly on Ctrl-C.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use reqwest::{Certificate, Client, StatusCode};

/// Reads the child's stdout up to the "Press Ctrl-C" line and returns what it printed.
fn banner(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("piped stdout");
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let mut printed = String::new();
    loop {
        let line = receiver
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("the banner ends with Press Ctrl-C; got:\n{printed}"));
        printed.push_str(&line);
        printed.push('\n');
        if line.starts_with("Press Ctrl-C") {
            return printed;
        }
    }
}

async fn login(client: &Client, base: &str, user: &str, password: &str) -> reqwest::Response {
    client
        .post(format!("{base}token"))
        .form(&[
            ("grant_type", "password"),
            ("username", user),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

#[cfg(unix)]
#[tokio::test]
async fn runs_over_https_prints_credentials_safely_and_stops_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vboctl"))
        .args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--user",
            "ops:Cli-Given-Pw",
            "--user",
            "viewer",
            "--seed-orgs",
            "3",
            "--state",
            "state.json",
        ])
        .env("VBOCTL_EMULATOR_PASSWORD", "Env-Only-Pw")
        .env_remove("RUST_LOG")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let printed = banner(&mut child);

    let server = printed
        .split_whitespace()
        .find(|word| word.starts_with("https://127.0.0.1:"))
        .unwrap_or_else(|| panic!("an https URL in:\n{printed}"))
        .to_owned();
    assert!(
        printed.contains("  REST API      /v8/ /v7/ /v6/ /v3/\n"),
        "every version is served by default:\n{printed}"
    );
    let base = format!("{server}/v3/");
    assert!(
        printed.contains("  log in as     ops / Cli-Given-Pw\n"),
        "{printed}"
    );
    assert!(
        printed.contains("  log in as     viewer / (password from VBOCTL_EMULATOR_PASSWORD)\n"),
        "{printed}"
    );
    assert!(printed.contains("  organizations 3\n"), "{printed}");

    // The default --cert-out, in the working directory, is what a verifying client trusts.
    let pem = std::fs::read(dir.path().join("vboctl-emulator-ca.pem")).unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = Client::builder()
        .tls_certs_only([Certificate::from_pem(&pem).unwrap()])
        .build()
        .unwrap();
    let response = login(&client, &base, "viewer", "Env-Only-Pw").await;
    assert_eq!(response.status(), StatusCode::OK);
    let token: serde_json::Value = response.json().await.unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let wrong = login(&client, &base, "ops", "Env-Only-Pw").await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let list = client
        .get(format!("{base}Organizations"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), StatusCode::OK);
    assert_eq!(
        list.json::<Vec<serde_json::Value>>().await.unwrap().len(),
        3
    );

    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "exits cleanly on Ctrl-C: {status}");
    let mut logged = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logged)
        .unwrap();

    assert!(
        logged.contains("method=GET path=/v3/Organizations status=200"),
        "{logged}"
    );
    assert!(logged.contains("path=/v3/token status=400"), "{logged}");
    for text in [&printed, &logged] {
        assert!(!text.contains("Env-Only-Pw"), "{text}");
        assert!(!text.contains(&token), "{text}");
        assert!(
            !text.contains('\u{1b}'),
            "no colour codes when not a terminal"
        );
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join("state.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn a_user_without_a_password_is_a_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_vboctl"))
        .args([
            "emulator",
            "--http",
            "--listen",
            "127.0.0.1:0",
            "--user",
            "viewer",
        ])
        .env_remove("VBOCTL_EMULATOR_PASSWORD")
        .output()
        .unwrap();
    // Usage errors exit 1 like every other error: 2 is kept for `plan --detailed-exitcode`.
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("VBOCTL_EMULATOR_PASSWORD"), "{stderr}");
}

#[test]
fn a_busy_address_is_reported_with_exit_code_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_vboctl"))
        .args(["emulator", "--http", "--listen", &address])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains(&format!("cannot listen on {address}")),
        "{stderr}"
    );
}
