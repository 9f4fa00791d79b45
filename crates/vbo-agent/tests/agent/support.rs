//! A git repository made in a temporary folder with the `git` program, an emulator serving
//! REST API v3 over HTTP, and agents configured to reconcile one with the other.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;
use vbo_agent::{Agent, AgentConfig, Mode, Notifier, RepositoryUrl};
use vbo_client::{Client, ClientConfig, RetryPolicy};
use vbo_emulator::{Emulator, EmulatorConfig, EmulatorHandle, User};
use vbo_model::env_file::EnvFile;
use vbo_model::{Environment, RestApiVersion, Secret};

/// The value of `CORP_PW`, the variable the test manifests take their password from: written
/// to be found if it ever leaks into a report.
pub(crate) const CORP_PW: &str = "Corp-Secret-Value-8c1f";

/// The emulator's password, as distinctive.
pub(crate) const ADMIN_PW: &str = "Admin-Secret-Value-5e2a";

/// A git repository with one branch, `main`.
pub(crate) struct Repo {
    dir: TempDir,
}

impl Repo {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        git(dir.path(), &["init", "-q", "-b", "main"]);
        Self { dir }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `relative` (creating folders).
    pub(crate) fn write(&self, relative: &str, text: &str) {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Removes `relative`.
    pub(crate) fn remove(&self, relative: &str) {
        std::fs::remove_file(self.path().join(relative)).unwrap();
    }

    /// Commits everything and returns the commit.
    pub(crate) fn commit(&self, message: &str) -> String {
        git(self.path(), &["add", "-A"]);
        git(
            self.path(),
            &["commit", "-q", "--allow-empty", "-m", message],
        );
        git(self.path(), &["rev-parse", "HEAD"]).trim().to_owned()
    }
}

/// Runs `git` in `dir` with no configuration but an identity, and returns what it printed.
pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
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

/// An emulator, a repository and a cache folder.
pub(crate) struct World {
    pub(crate) emulator: EmulatorHandle,
    pub(crate) repo: Repo,
    pub(crate) cache: TempDir,
}

impl World {
    pub(crate) async fn start() -> Self {
        Self::with(EmulatorConfig::default()).await
    }

    pub(crate) async fn with(config: EmulatorConfig) -> Self {
        let emulator = Emulator::start(EmulatorConfig {
            api_versions: vec![RestApiVersion::V3],
            users: vec![User::new("admin", ADMIN_PW)],
            ..config
        })
        .await
        .expect("the emulator starts");
        Self {
            emulator,
            repo: Repo::new(),
            cache: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    fn client_config(&self) -> ClientConfig {
        let mut config =
            ClientConfig::new(self.emulator.base_url(), "admin", Secret::new(ADMIN_PW));
        config.retry = RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
            max_elapsed: Duration::from_secs(10),
        };
        config
    }

    /// An agent's configuration: manifests under `tenants/`, `mode`, no prune.
    pub(crate) fn config(&self, mode: Mode) -> AgentConfig {
        let env = EnvFile::parse(Path::new("test.env"), &format!("CORP_PW={CORP_PW}\n"))
            .expect("the env file parses");
        AgentConfig {
            repository: RepositoryUrl::parse(&self.repo.path().display().to_string(), None)
                .expect("the repository's path"),
            branch: "main".to_owned(),
            path: PathBuf::from("tenants"),
            cache_dir: self.cache.path().to_owned(),
            interval: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            shutdown_timeout: Duration::from_secs(10),
            mode,
            prune: false,
            parallelism: 4,
            client: self.client_config(),
            environment: Environment::with_file(env),
            notifier: None::<Notifier>,
        }
    }

    pub(crate) async fn agent(&self, mode: Mode) -> Agent {
        Agent::start(self.config(mode))
            .await
            .expect("the agent starts")
    }

    /// The names of the organizations on the server, sorted.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .emulator
            .organizations()
            .into_iter()
            .map(|o| o.name)
            .collect();
        names.sort();
        names
    }

    /// A client of the emulator, to change the server behind the agent's back.
    pub(crate) async fn client(&self) -> Client {
        Client::connect(self.client_config())
            .await
            .expect("the test logs in")
    }
}

/// A manifest of an OnPremises organization whose Exchange server is `server`, its password
/// from `CORP_PW`.
pub(crate) fn on_premises(name: &str, server: &str) -> String {
    format!(
        "apiVersion: vboctl/v1
kind: Organization
metadata:
  name: {name}
spec:
  type: OnPremises
  isExchange: true
  exchangeSettings:
    serverName: {server}
    username: CORP\\backup
    password: {{fromEnv: CORP_PW}}
    useSSL: true
"
    )
}

impl World {
    /// Replaces organization `name` on the server with what `manifest` describes, as someone
    /// editing it in the console would: the agent is not told.
    pub(crate) async fn edit_on_server(&self, name: &str, manifest: &str) {
        let id = self
            .emulator
            .organizations()
            .into_iter()
            .find(|o| o.name == name)
            .unwrap_or_else(|| panic!("{name} is on the server"))
            .id;
        let loaded = vbo_model::load::load_str("edit.yaml", manifest);
        assert!(!loaded.has_errors(false), "{}", loaded.render(false));
        let document = &loaded.documents[0];
        let body = document
            .manifest
            .spec
            .to_body(name, |_, _| {
                Ok::<_, std::convert::Infallible>(Secret::new("Console-Typed-Secret"))
            })
            .unwrap_or_else(|never| match never {});
        self.client()
            .await
            .update(&id, &body)
            .await
            .expect("the server takes the edit");
    }

    /// Commits `tenants/a.yaml`, organization `a.example.com` on mail server `mail.a`, and
    /// returns the commit.
    pub(crate) fn add_a(&self) -> String {
        self.repo
            .write("tenants/a.yaml", &on_premises("a.example.com", "mail.a"));
        self.repo.commit("add a")
    }

    /// What the server stores for `name`, secrets included, as JSON.
    pub(crate) fn stored(&self, name: &str) -> serde_json::Value {
        let organization = self
            .emulator
            .organizations()
            .into_iter()
            .find(|o| o.name == name)
            .unwrap_or_else(|| panic!("{name} is on the server"));
        serde_json::to_value(&organization).unwrap()
    }
}
