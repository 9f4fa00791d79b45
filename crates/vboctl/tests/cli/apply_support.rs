//! Set-up shared by the apply and demo tests: an emulator running in the test process, a
//! folder of manifests, and the real vboctl binary run against both.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;
use vbo_client::{Client, ClientConfig, TlsOptions};
use vbo_emulator::{
    Emulator, EmulatorConfig, EmulatorHandle, RequestCounts, StoredOrganization, Tls,
};
use vbo_model::Secret;

/// The longest a single vboctl run may take before the test gives up on it.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// The routes that change the server.
const WRITE_ROUTES: [&str; 3] = [
    "POST /v3/Organizations",
    "PUT /v3/Organizations/{id}",
    "DELETE /v3/Organizations/{id}",
];

/// An emulator (over HTTPS unless asked otherwise) and a working folder holding its certificate
/// and the manifests.
pub(crate) struct Setup {
    pub(crate) emulator: EmulatorHandle,
    folder: TempDir,
    password: String,
    env: Vec<(String, String)>,
}

/// What one run of vboctl printed and how it ended.
pub(crate) struct Run {
    pub(crate) args: String,
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Setup {
    /// An empty emulator with the demo account.
    pub(crate) async fn start() -> Self {
        Self::with_config(EmulatorConfig::default()).await
    }

    /// An emulator holding `count` synthetic organizations.
    pub(crate) async fn seeded(count: usize) -> Self {
        Self::with_config(EmulatorConfig {
            seed_orgs: count,
            ..EmulatorConfig::default()
        })
        .await
    }

    /// An emulator started from `config` over HTTPS, with a self-signed certificate that
    /// vboctl is told to trust through `VBOCTL_CA_CERT`. The first account of `config` is the
    /// one vboctl logs in as.
    pub(crate) async fn with_config(config: EmulatorConfig) -> Self {
        Self::serving(Tls::SelfSigned, config).await
    }

    /// Like [`Setup::with_config`], over plain HTTP.
    pub(crate) async fn over_http(config: EmulatorConfig) -> Self {
        Self::serving(Tls::None, config).await
    }

    /// An emulator serving REST API v3 only, which these tests' manifests are written for, and
    /// vboctl told to speak it.
    async fn serving(tls: Tls, config: EmulatorConfig) -> Self {
        let user = config.users[0].clone();
        let emulator = Emulator::start(EmulatorConfig {
            tls,
            api_versions: vec![vbo_model::RestApiVersion::V3],
            ..config
        })
        .await
        .expect("the emulator starts");
        let folder = tempfile::tempdir().expect("a temporary folder");
        let password = user.password.expose().to_owned();
        let mut env = vec![
            ("VBOCTL_SERVER".to_owned(), emulator.base_url().to_owned()),
            ("VBOCTL_USERNAME".to_owned(), user.name.clone()),
            ("VBOCTL_PASSWORD".to_owned(), password.clone()),
            ("NO_COLOR".to_owned(), "1".to_owned()),
            ("VBOCTL_API_VERSION".to_owned(), "v3".to_owned()),
            ("CORP_PW".to_owned(), "corp-pw".to_owned()),
        ];
        if let Some(pem) = emulator.ca_cert_pem() {
            let ca_cert = folder.path().join("emulator-ca.pem");
            std::fs::write(&ca_cert, pem).unwrap();
            env.push(("VBOCTL_CA_CERT".to_owned(), ca_cert.display().to_string()));
        }
        Self {
            emulator,
            folder,
            password,
            env,
        }
    }

    /// The working folder: vboctl runs here, so paths in its output are relative and stable.
    pub(crate) fn path(&self) -> &Path {
        self.folder.path()
    }

    /// Writes `text` to `relative` under the working folder, creating folders as needed.
    pub(crate) fn write(&self, relative: &str, text: &str) {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Writes `manifests/<name>.yaml`: an OnPremises organization `name` whose Exchange server
    /// is `server`, its password from `CORP_PW` (which every run has).
    pub(crate) fn write_on_premises(&self, name: &str, server: &str) {
        self.write(
            &format!("manifests/{name}.yaml"),
            &on_premises(name, server, "{fromEnv: CORP_PW}"),
        );
    }

    /// Removes the file `relative` under the working folder.
    pub(crate) fn remove(&self, relative: &str) {
        std::fs::remove_file(self.path().join(relative)).unwrap();
    }

    /// Sets a variable for every later run, replacing an earlier value.
    pub(crate) fn set_env(&mut self, name: &str, value: &str) {
        self.env.retain(|(key, _)| key != name);
        self.env.push((name.to_owned(), value.to_owned()));
    }

    /// Unsets a variable for every later run.
    pub(crate) fn unset_env(&mut self, name: &str) {
        self.env.retain(|(key, _)| key != name);
    }

    /// Runs vboctl with `args` in the working folder, with standard input not a terminal.
    pub(crate) async fn vboctl(&self, args: &[&str]) -> Run {
        self.vboctl_with(args, &[]).await
    }

    /// Runs vboctl with `args` and panics with its output unless it exits with `code`.
    pub(crate) async fn expect(&self, args: &[&str], code: i32) -> Run {
        let run = self.vboctl(args).await;
        run.expect_code(code);
        run
    }

    /// Runs vboctl in the folder `relative` under the working folder (created if needed) and
    /// checks its exit code.
    pub(crate) async fn expect_in(&self, relative: &str, args: &[&str], code: i32) -> Run {
        let folder = self.path().join(relative);
        std::fs::create_dir_all(&folder).unwrap();
        let run = run_vboctl(folder, args, self.env.clone()).await;
        run.expect_code(code);
        run
    }

    /// Like [`Setup::vboctl`], with extra variables for this run only.
    pub(crate) async fn vboctl_with(&self, args: &[&str], extra: &[(&str, &str)]) -> Run {
        let mut env = self.env.clone();
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        run_vboctl(self.path().to_owned(), args, env).await
    }

    /// The organizations' names on the server, sorted.
    pub(crate) fn names(&self) -> Vec<String> {
        crate::support::organization_names(&self.emulator)
    }

    /// The organization called `name` as the server stores it, secrets included, as JSON.
    pub(crate) fn stored(&self, name: &str) -> Value {
        let organization: StoredOrganization = self
            .emulator
            .organizations()
            .into_iter()
            .find(|o| o.name == name)
            .unwrap_or_else(|| panic!("{name} is on the server; it has {:?}", self.names()));
        serde_json::to_value(&organization).unwrap()
    }

    /// The id the server gave `name`.
    pub(crate) fn id_of(&self, name: &str) -> String {
        self.stored(name)["id"].as_str().unwrap().to_owned()
    }

    /// Requests received so far that could change the server (POST, PUT, DELETE), and changes
    /// the server made: a refusal must leave both where they were.
    pub(crate) fn writes(&self) -> (u64, u64) {
        let counts = self.emulator.request_counts();
        let requests = WRITE_ROUTES.iter().map(|route| counts.route(route)).sum();
        (requests, counts.created + counts.updated + counts.deleted)
    }

    /// A client of the emulator, for tests that change the server behind vboctl's back.
    pub(crate) async fn client(&self) -> Client {
        let mut config = ClientConfig::new(
            self.emulator.base_url(),
            self.env_value("VBOCTL_USERNAME").unwrap_or_default(),
            Secret::new(self.password.clone()),
        );
        config.tls = TlsOptions {
            ca_cert: self.env_value("VBOCTL_CA_CERT").map(PathBuf::from),
            insecure: false,
            ..TlsOptions::default()
        };
        Client::connect(config).await.expect("the test logs in")
    }

    fn env_value(&self, name: &str) -> Option<String> {
        self.env
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    }
}

impl Setup {
    /// vboctl with `args`, to run in the working folder with exactly the environment of
    /// [`Setup::vboctl`].
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vboctl"));
        command
            .args(args)
            .current_dir(self.path())
            .env_clear()
            .envs(self.env.clone());
        command
    }

    /// Starts vboctl with `args` in the working folder without waiting for it, its output read
    /// as it comes, so that a test can act while it runs (interrupt it, for one).
    pub(crate) fn spawn(&self, args: &[&str]) -> Background {
        let mut child = self
            .command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("vboctl starts");
        let stdout = Captured::read(child.stdout.take().expect("piped"));
        let stderr = Captured::read(child.stderr.take().expect("piped"));
        Background {
            args: args.join(" "),
            child,
            stdout,
            stderr,
        }
    }

    /// Waits until the emulator's counts satisfy `condition`, for at most [`RUN_TIMEOUT`].
    pub(crate) async fn wait_for_counts(
        &self,
        what: &str,
        condition: impl Fn(&RequestCounts) -> bool,
    ) {
        let started = Instant::now();
        while !condition(&self.emulator.request_counts()) {
            assert!(
                started.elapsed() < RUN_TIMEOUT,
                "waited {RUN_TIMEOUT:?} for {what}: {:?}",
                self.emulator.request_counts()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Output of a running process, collected by a thread as it comes.
#[derive(Clone)]
struct Captured {
    text: Arc<Mutex<String>>,
    reader: Arc<Mutex<Option<std::thread::JoinHandle<()>>>>,
}

impl Captured {
    fn read(mut source: impl Read + Send + 'static) -> Self {
        let text = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&text);
        let reader = std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(read) = source.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..read]));
            }
        });
        Self {
            text,
            reader: Arc::new(Mutex::new(Some(reader))),
        }
    }

    fn now(&self) -> String {
        self.text.lock().unwrap().clone()
    }

    /// Everything, once the process closed the stream.
    fn all(&self) -> String {
        if let Some(reader) = self.reader.lock().unwrap().take() {
            reader.join().expect("the reader thread ends");
        }
        self.now()
    }
}

/// A vboctl run in the background.
pub(crate) struct Background {
    args: String,
    child: Child,
    stdout: Captured,
    stderr: Captured,
}

impl Background {
    /// Sends SIGINT, as Ctrl-C in a terminal does.
    #[cfg(unix)]
    pub(crate) fn interrupt(&self) {
        use nix::sys::signal::{Signal, kill};
        use nix::unistd::Pid;
        let pid = i32::try_from(self.child.id()).expect("a process id fits");
        kill(Pid::from_raw(pid), Signal::SIGINT).expect("the signal is sent");
    }

    /// Sends SIGTERM, as a service manager or Kubernetes does to stop a process.
    #[cfg(unix)]
    pub(crate) fn terminate(&self) {
        use nix::sys::signal::{Signal, kill};
        use nix::unistd::Pid;
        let pid = i32::try_from(self.child.id()).expect("a process id fits");
        kill(Pid::from_raw(pid), Signal::SIGTERM).expect("the signal is sent");
    }

    /// What the process has written to standard error so far.
    pub(crate) fn stderr_now(&self) -> String {
        self.stderr.now()
    }

    /// Waits until standard error contains `part`, for at most [`RUN_TIMEOUT`].
    pub(crate) async fn wait_for_stderr(&self, part: &str) {
        let started = Instant::now();
        while !self.stderr.now().contains(part) {
            assert!(
                started.elapsed() < RUN_TIMEOUT,
                "`vboctl {}` did not print {part:?} within {RUN_TIMEOUT:?}:\n{}",
                self.args,
                self.stderr.now()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits for the process to end, for at most [`RUN_TIMEOUT`], and returns what it printed.
    pub(crate) async fn finish(mut self) -> Run {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self
                .child
                .try_wait()
                .expect("the process can be waited for")
            {
                break status;
            }
            if started.elapsed() > RUN_TIMEOUT {
                let _ = self.child.kill();
                panic!(
                    "`vboctl {}` did not finish within {RUN_TIMEOUT:?}:\n{}\n{}",
                    self.args,
                    self.stdout.now(),
                    self.stderr.now()
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        Run {
            args: self.args,
            code: status.code(),
            stdout: self.stdout.all(),
            stderr: self.stderr.all(),
        }
    }
}

/// Runs the vboctl binary on a blocking thread, with exactly the environment `env` (nothing is
/// inherited from the test process), standard input closed, and a time limit.
pub(crate) async fn run_vboctl(folder: PathBuf, args: &[&str], env: Vec<(String, String)>) -> Run {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let shown = args.join(" ");
    let blocking = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_vboctl"))
            .args(&args)
            .current_dir(folder)
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .output()
            .expect("vboctl runs")
    });
    let output = tokio::time::timeout(RUN_TIMEOUT, blocking)
        .await
        .unwrap_or_else(|_| panic!("`vboctl {shown}` did not finish within {RUN_TIMEOUT:?}"))
        .unwrap();
    Run {
        args: shown,
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 on stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 on stderr"),
    }
}

impl Run {
    /// Panics with both outputs unless the exit code is `code`.
    #[track_caller]
    pub(crate) fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "`vboctl {}` exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.args,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Standard output parsed as one JSON document.
    #[track_caller]
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "`vboctl {}` printed no single JSON document ({e}):\n{}",
                self.args, self.stdout
            )
        })
    }

    /// Panics with standard output unless it ends with `tail`.
    #[track_caller]
    pub(crate) fn assert_stdout_ends_with(&self, tail: &str) {
        assert!(
            self.stdout.ends_with(tail),
            "{tail:?} ends:\n{}",
            self.stdout
        );
    }

    /// Panics with standard output unless it contains `part`.
    #[track_caller]
    pub(crate) fn assert_stdout_contains(&self, part: &str) {
        assert!(self.stdout.contains(part), "{part:?} in:\n{}", self.stdout);
    }

    /// Panics with standard error unless it contains `part`.
    #[track_caller]
    pub(crate) fn assert_stderr_contains(&self, part: &str) {
        assert!(self.stderr.contains(part), "{part:?} in:\n{}", self.stderr);
    }

    /// Both outputs, for assertions that care about neither in particular.
    pub(crate) fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// A manifest of organization `name` whose spec is `spec` (YAML lines indented by two).
fn manifest(name: &str, spec: &str) -> String {
    format!("apiVersion: vboctl/v1\nkind: Organization\nmetadata:\n  name: {name}\nspec:\n{spec}")
}

/// A manifest of an OnPremises organization whose Exchange password comes from `password`
/// (YAML, for example `{fromEnv: VAR}`).
pub(crate) fn on_premises(name: &str, server: &str, password: &str) -> String {
    manifest(
        name,
        &format!(
            "  type: OnPremises
  isExchange: true
  exchangeSettings:
    serverName: {server}
    username: CORP\\backup
    password: {password}
    useSSL: true
"
        ),
    )
}

/// A manifest of an Office365 organization backed up for Exchange Online with basic
/// authentication, its password from `password`, in `region`.
pub(crate) fn office365(name: &str, region: &str, password: &str) -> String {
    manifest(
        name,
        &format!(
            "  type: Office365
  region: {region}
  isExchangeOnline: true
  exchangeOnlineSettings:
    account: backup@{name}
    password: {password}
"
        ),
    )
}

/// A manifest of an Office365 organization as REST API v8 adds one: Exchange Online with
/// application-only authentication, the certificate and its password from `certificate` and
/// `password` (YAML, for example `{fromEnv: VAR}` or `{fromFile: certs/app.pfx}`).
pub(crate) fn app_only(name: &str, certificate: &str, password: &str) -> String {
    manifest(
        name,
        &format!(
            "  type: Office365
  region: Worldwide
  isExchangeOnline: true
  exchangeOnlineSettings:
    useApplicationOnlyAuth: true
    officeOrganizationName: {name}
    applicationId: 8f1c2a4e-5b6d-4e7f-9a0b-1c2d3e4f5a6b
    applicationCertificate: {certificate}
    applicationCertificatePassword: {password}
"
        ),
    )
}

/// Writes `manifests/env.yaml`, an Office365 organization `env.example.com` whose password is
/// `env_secret` from `ENV_PW`, and `manifests/file.yaml`, an OnPremises organization
/// `file.example.com` whose password is `file_secret` from a file next to it.
pub(crate) fn env_and_file_secrets(setup: &mut Setup, env_secret: &str, file_secret: &str) {
    setup.write(
        "manifests/env.yaml",
        &office365("env.example.com", "Worldwide", "{fromEnv: ENV_PW}"),
    );
    setup.write(
        "manifests/file.yaml",
        &on_premises(
            "file.example.com",
            "mail.file.example.com",
            "{fromFile: secrets/file.txt}",
        ),
    );
    setup.write("manifests/secrets/file.txt", &format!("{file_secret}\n"));
    setup.set_env("ENV_PW", env_secret);
}

/// Writes `manifests/tenants.yaml` with `count` OnPremises organizations, their password from
/// `TENANT_PW` (set for every later run), and returns their names.
pub(crate) fn tenants(setup: &mut Setup, count: usize) -> Vec<String> {
    let names: Vec<String> = (0..count)
        .map(|i| format!("tenant-{i:02}.example.com"))
        .collect();
    let documents: Vec<String> = names
        .iter()
        .map(|name| on_premises(name, &format!("mail.{name}"), "{fromEnv: TENANT_PW}"))
        .collect();
    setup.write("manifests/tenants.yaml", &documents.join("---\n"));
    setup.set_env("TENANT_PW", "tenant-pw");
    names
}

/// Checks that the server received the secrets [`env_and_file_secrets`] set.
#[track_caller]
pub(crate) fn assert_secrets_received(setup: &Setup, env_secret: &str, file_secret: &str) {
    assert_eq!(
        setup.stored("env.example.com")["body"]["exchangeOnlineSettings"]["password"],
        env_secret
    );
    assert_eq!(
        setup.stored("file.example.com")["body"]["exchangeSettings"]["password"],
        file_secret
    );
}

/// The lines of `text` that report a finished change (`+ `, `~ `, `- `, `x `), sorted.
pub(crate) fn result_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text
        .lines()
        .filter(|line| ["+ ", "~ ", "- ", "x "].iter().any(|p| line.starts_with(p)))
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}
