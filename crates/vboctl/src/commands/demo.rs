//! `vboctl demo`: the whole job, end to end, against an emulator started in this process.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use owo_colors::OwoColorize;
use vbo_client::{Client, ClientConfig, TlsOptions};
use vbo_emulator::{DEFAULT_PASSWORD, DEFAULT_USER, Emulator, EmulatorConfig, EmulatorHandle, Tls};
use vbo_model::{Environment, Manifest, RestApiVersion, Secret, SecretRef};

use crate::commands::Status;
use crate::error::CliError;
use crate::ui::Ui;

/// Run the main job end to end on an embedded emulator: validate, plan, apply, plan again.
///
/// Starts an emulator of the server's REST API (v3, v6, v7 and v8; vboctl detects v8) on
/// 127.0.0.1 (HTTPS with a generated certificate) holding dozens of organizations, more than
/// one page of its list, among them one that already matches an example; writes the example
/// manifests to a temporary folder, sets the secret variables they reference, and runs each
/// vboctl command as you would, printing it first. Nothing is left running afterwards.
#[derive(Debug, clap::Args)]
pub(crate) struct DemoArgs {}

/// The example manifests the demo applies, as shipped in `examples/`.
/// REST API v8 adds Microsoft 365 organizations with application-only authentication only, so
/// these are the examples written for it, and an on-premises one that every version takes.
const MANIFESTS: [(&str, &str); 3] = [
    (
        "office365-app-only.yaml",
        include_str!("../../../../examples/v8/office365-app-only.yaml"),
    ),
    (
        "on-premises.yaml",
        include_str!("../../../../examples/on-premises.yaml"),
    ),
    (
        "hybrid.yaml",
        include_str!("../../../../examples/v8/hybrid.yaml"),
    ),
];

/// Organizations on the server that no manifest describes: more than the 30 a v8 page holds
/// by default, so that planning has to read every page.
const SEEDED: usize = 42;

/// The emulator's page size in the demo, so that the list takes several pages.
const PAGE_LIMIT: u32 = 20;

/// The example that is already on the server when the demo starts.
const ALREADY_THERE: &str = "on-premises.yaml";

/// Where the manifests go, relative to the demo's folder.
const MANIFEST_DIR: &str = "manifests";

/// The organization on the server that no manifest describes.
const UNMANAGED: &str = "legacy.onmicrosoft.com";

pub(crate) fn run(_args: DemoArgs, ui: &Ui) -> Result<Status, CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::message(format!("cannot start the async runtime: {e}")))?;
    let folder = tempfile::Builder::new()
        .prefix("vboctl-demo-")
        .tempdir()
        .map_err(|e| CliError::message(format!("cannot create a temporary folder: {e}")))?;
    let emulator = runtime
        .block_on(Emulator::start(EmulatorConfig {
            tls: Tls::SelfSigned,
            seed_orgs: SEEDED,
            page_limit: Some(PAGE_LIMIT),
            ..EmulatorConfig::default()
        }))
        .map_err(|e| CliError::message(format!("cannot start the emulator: {e}")))?;
    let result = demo(&runtime, &emulator, folder.path(), ui);
    let stopped = runtime.block_on(emulator.shutdown());
    let status = result?;
    stopped.map_err(|e| CliError::message(format!("cannot stop the emulator: {e}")))?;
    Ok(status)
}

fn demo(
    runtime: &tokio::runtime::Runtime,
    emulator: &EmulatorHandle,
    folder: &Path,
    ui: &Ui,
) -> Result<Status, CliError> {
    let io = |e: std::io::Error| CliError::message(format!("cannot prepare the demo folder: {e}"));
    let manifests = folder.join(MANIFEST_DIR);
    std::fs::create_dir(&manifests).map_err(io)?;
    for (name, text) in MANIFESTS {
        std::fs::write(manifests.join(name), text).map_err(io)?;
    }
    let ca_cert = folder.join("emulator-ca.pem");
    std::fs::write(&ca_cert, emulator.ca_cert_pem().unwrap_or_default()).map_err(io)?;
    let secrets = demo_secrets()?;

    let out = Out::new(ui);
    out.heading("vboctl demo");
    println!(
        "An emulator of the Veeam Backup for Microsoft 365 REST API (v3, v6, v7 and v8) is\n\
         listening on {} with a self-signed certificate, written to {}.\n\
         The example manifests are in {}.",
        emulator.base_url(),
        ca_cert.display(),
        manifests.display()
    );
    let version = runtime.block_on(preload(emulator, &ca_cert, &secrets))?;
    println!(
        "vboctl detected REST API {version}, the newest the server serves, and speaks it from here on."
    );
    println!(
        "The server already has {} (as in examples/{ALREADY_THERE}), {UNMANAGED} and {SEEDED} \
         seeded organizations, which no manifest describes: {} in all, read {PAGE_LIMIT} a page.",
        name_of(ALREADY_THERE)?,
        SEEDED + 2
    );
    println!(
        "\nEvery command below runs in {} with this environment:",
        folder.display()
    );
    println!("  export VBOCTL_SERVER={}", emulator.base_url());
    println!("  export VBOCTL_CA_CERT={}", ca_cert.display());
    println!(
        "  export VBOCTL_USERNAME={DEFAULT_USER} VBOCTL_PASSWORD=…   # the emulator's demo account (see `vboctl emulator --help`)"
    );
    println!(
        "  export {}   # random values, one per variable the manifests reference",
        secrets
            .keys()
            .map(|k| format!("{k}=…"))
            .collect::<Vec<_>>()
            .join(" ")
    );

    let mut environment: Vec<(String, String)> = vec![
        ("VBOCTL_SERVER".into(), emulator.base_url().to_owned()),
        ("VBOCTL_CA_CERT".into(), ca_cert.display().to_string()),
        ("VBOCTL_USERNAME".into(), DEFAULT_USER.into()),
        ("VBOCTL_PASSWORD".into(), DEFAULT_PASSWORD.into()),
    ];
    environment.extend(
        secrets
            .iter()
            .map(|(k, v)| (k.clone(), v.expose().to_owned())),
    );

    let steps: [(&str, &[&str], i32); 4] = [
        (
            "Validate the manifests (no server needed)",
            &["validate", MANIFEST_DIR],
            0,
        ),
        (
            "Plan: compare the manifests with the server",
            &["plan", MANIFEST_DIR],
            0,
        ),
        (
            "Apply: create what is missing (--auto-approve skips the prompt)",
            &["apply", MANIFEST_DIR, "--auto-approve"],
            0,
        ),
        (
            "Plan again: nothing is left to do (--detailed-exitcode exits 0 when there are no changes, 2 when there are)",
            &["plan", MANIFEST_DIR, "--detailed-exitcode"],
            0,
        ),
    ];
    for (index, (title, args, expected)) in steps.iter().enumerate() {
        out.heading(&format!("Step {} of {}: {title}", index + 1, steps.len()));
        out.command(args);
        let code = run_vboctl(folder, args, &environment, ui)?;
        if code != *expected {
            return Err(CliError::message(format!(
                "the demo step `vboctl {}` exited with {code}, expected {expected}",
                args.join(" ")
            )));
        }
    }

    out.heading("Done");
    println!(
        "That is the whole loop. To try it yourself, start an emulator in one terminal with\n\
         `vboctl emulator` and run the commands above from another; against a real server, pass\n\
         --server https://HOST:4443 and trust its certificate (`vboctl server-cert`). See README.md."
    );
    Ok(Status::Success)
}

/// A random value for every variable the demo manifests reference.
fn demo_secrets() -> Result<BTreeMap<String, Secret>, CliError> {
    let mut secrets = BTreeMap::new();
    for (_, text) in MANIFESTS {
        for manifest in parse(text)? {
            for field in manifest.spec.secret_fields() {
                if let SecretRef::FromEnv(var) = field.reference {
                    secrets.insert(var.clone(), Secret::new(random_value()));
                }
            }
        }
    }
    Ok(secrets)
}

fn random_value() -> String {
    format!("demo-{:016x}", rand::random::<u64>())
}

fn parse(text: &str) -> Result<Vec<Manifest>, CliError> {
    let loaded = vbo_model::load::load_str("example.yaml", text);
    if loaded.has_errors(false) {
        return Err(CliError::message(format!(
            "an embedded example manifest is invalid:\n{}",
            loaded.render(false)
        )));
    }
    Ok(loaded.documents.into_iter().map(|d| d.manifest).collect())
}

fn name_of(file: &str) -> Result<String, CliError> {
    let (_, text) = MANIFESTS
        .iter()
        .find(|(name, _)| *name == file)
        .ok_or_else(|| CliError::message(format!("no embedded example {file}")))?;
    parse(text)?
        .into_iter()
        .next()
        .map(|m| m.metadata.name)
        .ok_or_else(|| CliError::message(format!("the example {file} is empty")))
}

/// Puts one example's organization and one unmanaged organization on the server, and returns
/// the REST API version the client detected.
async fn preload(
    emulator: &EmulatorHandle,
    ca_cert: &Path,
    secrets: &BTreeMap<String, Secret>,
) -> Result<RestApiVersion, CliError> {
    let mut config = ClientConfig::new(
        emulator.base_url(),
        DEFAULT_USER,
        Secret::new(DEFAULT_PASSWORD),
    );
    config.tls = TlsOptions {
        ca_cert: Some(ca_cert.to_owned()),
        insecure: false,
        ..TlsOptions::default()
    };
    let client = Client::connect(config).await?;
    let (_, text) = MANIFESTS
        .iter()
        .find(|(name, _)| *name == ALREADY_THERE)
        .ok_or_else(|| CliError::message("the demo lacks its preloaded example"))?;
    for manifest in parse(text)? {
        let body =
            manifest
                .spec
                .to_body(&manifest.metadata.name, |path, reference| match reference {
                    SecretRef::FromEnv(var) => secrets
                        .get(var)
                        .cloned()
                        .ok_or_else(|| CliError::message(format!("no demo value for {path}"))),
                    other => other
                        .resolve_field(path, &Environment::process())
                        .map_err(|e| CliError::message(e.to_string())),
                })?;
        client.create(&body).await?;
    }
    let unmanaged: vbo_model::OrganizationBody<Secret> =
        serde_json::from_value(serde_json::json!({
            "type": "Office365",
            "name": UNMANAGED,
            "region": "Worldwide",
            "isExchangeOnline": true,
            "exchangeOnlineSettings": {
                "useApplicationOnlyAuth": true,
                "applicationId": "0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f",
                "applicationCertificate": random_value(),
                "applicationCertificatePassword": random_value()
            },
            "isSharePointOnline": false
        }))
        .map_err(|e| {
            CliError::message(format!("the demo's unmanaged organization is invalid: {e}"))
        })?;
    client.create(&unmanaged).await?;
    Ok(client.api_version())
}

/// Runs this very binary with `args` in `folder`, output going straight to the terminal.
fn run_vboctl(
    folder: &Path,
    args: &[&str],
    environment: &[(String, String)],
    ui: &Ui,
) -> Result<i32, CliError> {
    let executable = std::env::current_exe()
        .map_err(|e| CliError::message(format!("cannot find the vboctl executable: {e}")))?;
    let _ = std::io::stdout().flush();
    let mut command = Command::new(executable);
    command
        .args(args)
        .current_dir(folder)
        .envs(environment.iter().map(|(k, v)| (k, v)));
    if !ui.stdout_color {
        command.env("NO_COLOR", "1");
    }
    let status = command
        .status()
        .map_err(|e| CliError::message(format!("cannot run vboctl {}: {e}", args.join(" "))))?;
    Ok(status.code().unwrap_or(1))
}

/// Headings and command lines.
struct Out {
    colored: bool,
}

impl Out {
    fn new(ui: &Ui) -> Self {
        Self {
            colored: ui.stdout_color,
        }
    }

    fn heading(&self, title: &str) {
        if self.colored {
            println!("\n{} {}", "==>".blue().bold(), title.bold());
        } else {
            println!("\n==> {title}");
        }
    }

    fn command(&self, args: &[&str]) {
        let line = format!("$ vboctl {}", args.join(" "));
        if self.colored {
            println!("{}", line.dimmed());
        } else {
            println!("{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    /// The end-to-end leak test of the demo looks for values of exactly this shape.
    #[test]
    fn random_values_are_demo_and_16_hexadecimal_digits() {
        let value = super::random_value();
        assert_eq!(value.len(), 21, "{value}");
        assert!(value.starts_with("demo-"), "{value}");
        assert!(value[5..].chars().all(|c| c.is_ascii_hexdigit()), "{value}");
    }
}
