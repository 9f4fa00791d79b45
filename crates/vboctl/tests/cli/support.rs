//! Shared set-up for tests that drive `vboctl` against an in-process emulator: start the
//! emulator, write manifests beside its certificate, put organizations on it, and run the
//! binary with the connection in its environment.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

use tempfile::TempDir;
use vbo_client::{Client, ClientConfig, TlsOptions};
use vbo_emulator::{Emulator, EmulatorConfig, EmulatorHandle, RequestCounts, Tls, User};
use vbo_model::load::load_str;
use vbo_model::{Organization, RestApiVersion, Secret};

/// Variables a developer's shell may hold that would change what vboctl does.
const INHERITED: &[&str] = &[
    "VBOCTL_SERVER",
    "VBOCTL_USERNAME",
    "VBOCTL_PASSWORD",
    "VBOCTL_CA_CERT",
    "VBOCTL_TLS_THUMBPRINT",
    "VBOCTL_INSECURE",
    "VBOCTL_API_VERSION",
    "RUST_LOG",
    "NO_COLOR",
    "CLICOLOR_FORCE",
    "GITHUB_STEP_SUMMARY",
];

/// The value every secret on the server gets when a test puts an organization there.
pub(crate) const SERVER_SIDE_SECRET: &str = "Server-Side-Secret-0d41";

/// An emulator and a folder for manifests, certificates and saved plans.
pub(crate) struct Server {
    pub(crate) emulator: EmulatorHandle,
    pub(crate) dir: TempDir,
    /// The emulator's certificate, written to `ca.pem` in the folder, when it speaks HTTPS.
    pub(crate) ca_cert: Option<PathBuf>,
    /// The first account the emulator accepts, which tests and vboctl log in as.
    login: User,
    /// The REST API version vboctl is told to speak (`VBOCTL_API_VERSION`); `None` lets it
    /// detect the version.
    api_version: Option<RestApiVersion>,
    /// The emulator's counts once the test had put its organizations there.
    setup: Mutex<RequestCounts>,
}

impl Server {
    /// An emulator over HTTPS with a generated certificate, trusted through `ca.pem`.
    pub(crate) async fn https() -> Self {
        Self::start(EmulatorConfig {
            tls: Tls::SelfSigned,
            ..EmulatorConfig::default()
        })
        .await
    }

    /// An emulator as configured, serving REST API v3 only (the tests that use it are written
    /// in v3's terms); its certificate, if any, is written to `ca.pem`.
    pub(crate) async fn start(config: EmulatorConfig) -> Self {
        let mut server = Self::serving(EmulatorConfig {
            api_versions: vec![RestApiVersion::V3],
            ..config
        })
        .await;
        server.api_version = Some(RestApiVersion::V3);
        server
    }

    /// An emulator exactly as configured, serving the API versions `config` names.
    pub(crate) async fn serving(config: EmulatorConfig) -> Self {
        let login = config.users.first().cloned().unwrap_or_else(User::demo);
        let emulator = Emulator::start(config).await.expect("the emulator starts");
        let dir = tempfile::tempdir().expect("a temporary folder");
        let ca_cert = emulator.ca_cert_pem().map(|pem| {
            let path = dir.path().join("ca.pem");
            std::fs::write(&path, pem).expect("the certificate is written");
            path
        });
        Self {
            emulator,
            dir,
            ca_cert,
            login,
            api_version: None,
            setup: Mutex::default(),
        }
    }

    /// The folder the binary runs in.
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `contents` to `name` in the folder (creating parent folders) and returns its path.
    pub(crate) fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("the folder is created");
        }
        std::fs::write(&path, contents).expect("the file is written");
        path
    }

    /// Logs in as the emulator's first account, trusting its certificate.
    pub(crate) async fn client(&self) -> Client {
        let mut config = ClientConfig::new(
            self.emulator.base_url(),
            self.login.name.clone(),
            self.login.password.clone(),
        );
        config.tls = TlsOptions {
            ca_cert: self.ca_cert.clone(),
            insecure: false,
            ..TlsOptions::default()
        };
        Client::connect(config).await.expect("the test logs in")
    }

    /// Puts the organizations that `manifests` (YAML text, one or more documents) describe on
    /// the server, every secret set to [`SERVER_SIDE_SECRET`], and returns them as stored.
    pub(crate) async fn put(&self, manifests: &str) -> Vec<Organization> {
        let loaded = load_str("server.yaml", manifests);
        assert!(
            !loaded.has_errors(false),
            "the server-side manifests are valid:\n{}",
            loaded.render(false)
        );
        let client = self.client().await;
        let mut created = Vec::new();
        for document in loaded.documents {
            let body = document
                .manifest
                .spec
                .to_body(&document.manifest.metadata.name, |_, _| {
                    Ok::<_, std::convert::Infallible>(Secret::new(SERVER_SIDE_SECRET))
                })
                .unwrap_or_else(|never| match never {});
            created.push(client.create(&body).await.expect("the server accepts it"));
        }
        self.set_up();
        created
    }

    /// Puts raw JSON bodies on the server, for states a manifest cannot describe.
    pub(crate) async fn put_json(&self, bodies: &[serde_json::Value]) {
        let client = self.client().await;
        for body in bodies {
            let body = serde_json::from_value(body.clone()).expect("a v3 body");
            client.create(&body).await.expect("the server accepts it");
        }
        self.set_up();
    }

    /// Records that the test has finished setting the server up.
    fn set_up(&self) {
        *self.setup.lock().unwrap() = self.emulator.request_counts();
    }

    /// The emulator's counts when the test last put organizations there: what vboctl did is
    /// the difference.
    pub(crate) fn setup_counts(&self) -> RequestCounts {
        self.setup.lock().unwrap().clone()
    }

    /// `vboctl` in the folder, without colours, logged in as the emulator's first account and
    /// trusting its certificate, with nothing inherited that changes behaviour.
    pub(crate) fn vboctl(&self) -> Command {
        let mut command = bare_vboctl(self.path());
        command
            .env("VBOCTL_SERVER", self.emulator.base_url())
            .env("VBOCTL_USERNAME", &self.login.name)
            .env("VBOCTL_PASSWORD", self.login.password.expose());
        if let Some(ca_cert) = &self.ca_cert {
            command.env("VBOCTL_CA_CERT", ca_cert);
        }
        if let Some(version) = self.api_version {
            command.env("VBOCTL_API_VERSION", version.as_str());
        }
        command
    }

    /// Insta settings that hide what changes from run to run: the port, the ids the emulator
    /// gave its organizations, and the folder.
    pub(crate) fn snapshot_settings(&self) -> insta::Settings {
        let mut settings = insta::Settings::clone_current();
        settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
        for organization in self.emulator.organizations() {
            settings.add_filter(&regex_escape(&organization.id), "[ID]");
        }
        settings.add_filter(&regex_escape(&self.path().display().to_string()), "[DIR]");
        settings
    }
}

/// The names of the organizations `emulator` holds, sorted.
pub(crate) fn organization_names(emulator: &EmulatorHandle) -> Vec<String> {
    let mut names: Vec<String> = emulator
        .organizations()
        .into_iter()
        .map(|o| o.name)
        .collect();
    names.sort();
    names
}

/// `vboctl` in `dir`, without colours and without the caller's connection variables.
pub(crate) fn bare_vboctl(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vboctl"));
    command.current_dir(dir);
    for name in INHERITED {
        command.env_remove(name);
    }
    command.env("NO_COLOR", "1");
    command
}

/// What a finished run printed and how it ended.
#[derive(Debug)]
pub(crate) struct Run {
    /// The exit code.
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// Fails with everything the run printed when it did not exit with `code`.
    #[track_caller]
    pub(crate) fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs `command` to the end off the async runtime, so the in-process emulator keeps serving.
pub(crate) async fn execute(mut command: Command) -> Run {
    let output: Output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the run finishes")
        .expect("vboctl starts");
    Run {
        code: output.status.code().expect("vboctl exits with a code"),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// `text` with the characters that mean something in a regular expression escaped.
fn regex_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}
