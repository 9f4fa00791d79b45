//! `vboctl emulator`: run the REST API emulator (v3, v6, v7, v8) until Ctrl-C, to try vboctl without a real
//! server.

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::commands::Status;
use crate::error::CliError;
use vbo_emulator::{
    DEFAULT_PASSWORD, DEFAULT_USER, Emulator, EmulatorConfig, EmulatorHandle, Faults,
    MethodLatency, Tls, User,
};
use vbo_model::RestApiVersion;

/// The environment variable that holds the password of a `--user NAME` given without one.
const PASSWORD_ENV: &str = "VBOCTL_EMULATOR_PASSWORD";

/// Where the generated certificate goes without `--cert-out`.
const DEFAULT_CERT_OUT: &str = "vboctl-emulator-ca.pem";

/// Run an emulator of the server's REST API (v3, v6, v7 and v8 from one store), to try vboctl
/// without a real server.
///
/// It serves `POST /v3/Token` and `/v3/Organizations` like the real server, over HTTPS with a
/// self-signed certificate generated at start (written to --cert-out, so a client can trust
/// it). It can misbehave on purpose: the fault options are all off by default, and --seed makes
/// them reproducible. Runs until Ctrl-C.
#[derive(Debug, clap::Args)]
pub(crate) struct EmulatorArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4443")]
    listen: SocketAddr,

    /// An account that may log in, as NAME:PASSWORD; or NAME alone to take the password from
    /// VBOCTL_EMULATOR_PASSWORD. Repeat for more accounts. [default: admin:vboctl-demo]
    #[arg(long = "user", value_name = "NAME[:PASSWORD]")]
    users: Vec<String>,

    /// Keep the organizations in FILE across restarts: loaded at start, rewritten atomically
    /// after every change. The file holds the organizations' (fake) secrets and is written
    /// with mode 0600.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,

    /// Add N synthetic organizations of all three types at start.
    #[arg(long, value_name = "N", default_value_t = 0)]
    seed_orgs: usize,

    /// Serve HTTPS (the default).
    #[arg(long, conflicts_with = "http")]
    tls: bool,

    /// Serve plain HTTP instead of HTTPS.
    #[arg(long, conflicts_with_all = ["cert", "key", "cert_out"])]
    http: bool,

    /// Serve this PEM certificate chain instead of generating one (with --key).
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,

    /// The PEM private key of --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,

    /// Write the generated certificate here, for clients to trust as a CA file.
    /// [default: vboctl-emulator-ca.pem]
    #[arg(long, value_name = "FILE", conflicts_with = "cert")]
    cert_out: Option<PathBuf>,

    /// Delay every request by MS milliseconds, or by a random time from MS to MS.
    #[arg(long, value_name = "MS[..MS]", value_parser = parse_latency)]
    latency: Option<RangeInclusive<Duration>>,

    /// Delay logins and token refreshes (POST /vN/token) so, in place of --latency.
    #[arg(long, value_name = "MS[..MS]", value_parser = parse_latency)]
    latency_token: Option<RangeInclusive<Duration>>,

    /// Delay lists and reads of organizations (GET) so, in place of --latency.
    #[arg(long, value_name = "MS[..MS]", value_parser = parse_latency)]
    latency_get: Option<RangeInclusive<Duration>>,

    /// Delay adding an organization (POST) so, in place of --latency: a real server takes
    /// seconds, as it contacts Microsoft 365 (for example --latency-post 2000..5000).
    #[arg(long, value_name = "MS[..MS]", value_parser = parse_latency)]
    latency_post: Option<RangeInclusive<Duration>>,

    /// Delay changing an organization (PUT) so, in place of --latency.
    #[arg(long, value_name = "MS[..MS]", value_parser = parse_latency)]
    latency_put: Option<RangeInclusive<Duration>>,

    /// Delay removing an organization (DELETE) so, in place of --latency.
    #[arg(long, value_name = "MS[..MS]", value_parser = parse_latency)]
    latency_delete: Option<RangeInclusive<Duration>>,

    /// Answer this share of organizations requests with 503, doing nothing (0 to 1).
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_rate)]
    error_rate: f64,

    /// Answer this share of organizations requests with 429 and Retry-After: 1 (0 to 1).
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_rate)]
    throttle_rate: f64,

    /// Close the connection of this share of organizations requests without answering
    /// (0 to 1).
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_rate)]
    reset_rate: f64,

    /// Make this share of creates, updates and deletes, then answer 500 or close the
    /// connection (0 to 1).
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_rate)]
    commit_then_fail_rate: f64,

    /// Make this share of creates, updates and deletes, then answer only after
    /// --slow-answer-delay (0 to 1). With a delay past the client's --request-timeout, the
    /// client gives up on a change that was made.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_rate)]
    slow_answer_rate: f64,

    /// How long a slow answer waits, in milliseconds. The default is just past vboctl's
    /// default request timeout of 60 seconds.
    #[arg(long, value_name = "MS", default_value_t = 61_000)]
    slow_answer_delay: u64,

    /// Lifetime of access tokens, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    token_ttl: u64,

    /// The REST API versions to serve, each in its own dialect from one store, for example
    /// v3,v8. [default: v3,v6,v7,v8]
    #[arg(long, value_name = "VERSIONS", value_delimiter = ',', value_parser = clap::value_parser!(RestApiVersion))]
    api_versions: Vec<RestApiVersion>,

    /// Hold at most N organizations per page of a paged list (v8), below the version's own
    /// maximum of 10,000, so that a few organizations already take several pages.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    page_limit: Option<u32>,

    /// Seed of the fault draws, to see the same faults for the same requests again.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
}

/// How an account's password is shown at start.
#[derive(Debug, PartialEq, Eq)]
enum Shown {
    /// The built-in demo password or one given on the command line: printed.
    Printed(String),
    /// Taken from the environment: named, never printed.
    FromEnv,
}

/// Runs the emulator until Ctrl-C (or SIGTERM).
pub(crate) fn run(args: EmulatorArgs) -> Result<Status, CliError> {
    let env_password = std::env::var(PASSWORD_ENV).ok();
    let (config, accounts) = configure(&args, env_password).map_err(CliError::message)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| CliError::message(format!("cannot start the async runtime: {error}")))?;
    runtime
        .block_on(serve(config, &accounts, &args))
        .map_err(CliError::message)?;
    Ok(Status::Success)
}

async fn serve(
    config: EmulatorConfig,
    accounts: &[(String, Shown)],
    args: &EmulatorArgs,
) -> Result<(), String> {
    let generated = config.tls == Tls::SelfSigned;
    let emulator = Emulator::start(config)
        .await
        .map_err(|error| error.to_string())?;
    let cert_out = match (generated, emulator.ca_cert_pem()) {
        (true, Some(pem)) => {
            let path = args
                .cert_out
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_CERT_OUT));
            std::fs::write(&path, pem).map_err(|error| {
                format!(
                    "cannot write the certificate to {}: {error}",
                    path.display()
                )
            })?;
            Some(path)
        }
        _ => None,
    };
    print_banner(&emulator, accounts, cert_out.as_deref(), args);
    wait_for_stop().await;
    println!("Stopping.");
    emulator.shutdown().await.map_err(|error| error.to_string())
}

fn print_banner(
    emulator: &EmulatorHandle,
    accounts: &[(String, Shown)],
    cert_out: Option<&Path>,
    args: &EmulatorArgs,
) {
    println!("vboctl emulator: a stand-in for the REST API of Veeam Backup for Microsoft 365");
    println!("  listening on  {}", emulator.base_url());
    println!(
        "  REST API      {}",
        emulator
            .api_versions()
            .iter()
            .map(|version| format!("/{version}/"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    if let Some(path) = cert_out {
        let shown = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
        println!(
            "  certificate   {} (trust it as a CA file)",
            shown.display()
        );
    } else if let Some(cert) = &args.cert {
        println!("  certificate   {}", cert.display());
    }
    for (name, password) in accounts {
        match password {
            Shown::Printed(password) => println!("  log in as     {name} / {password}"),
            Shown::FromEnv => println!("  log in as     {name} / (password from {PASSWORD_ENV})"),
        }
    }
    if let Some(state) = &args.state {
        println!("  state         {}", state.display());
    }
    println!("  organizations {}", emulator.organizations().len());
    if let Some(faults) = describe_faults(args) {
        println!("  faults        {faults}");
    }
    println!("Press Ctrl-C to stop.");
}

/// A one-line summary of the faults switched on, if any.
fn describe_faults(args: &EmulatorArgs) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(latency) = &args.latency {
        parts.push(format!(
            "latency {}..{} ms",
            latency.start().as_millis(),
            latency.end().as_millis()
        ));
    }
    for (kind, latency) in method_latency(args).ranges() {
        parts.push(format!(
            "{kind} latency {}..{} ms",
            latency.start().as_millis(),
            latency.end().as_millis()
        ));
    }
    for (name, rate) in [
        ("error", args.error_rate),
        ("throttle", args.throttle_rate),
        ("reset", args.reset_rate),
        ("commit-then-fail", args.commit_then_fail_rate),
    ] {
        if rate > 0.0 {
            parts.push(format!("{name} {rate}"));
        }
    }
    if args.slow_answer_rate > 0.0 {
        parts.push(format!(
            "slow answer {} after {} ms",
            args.slow_answer_rate, args.slow_answer_delay
        ));
    }
    if parts.is_empty() {
        return None;
    }
    if let Some(seed) = args.seed {
        parts.push(format!("seed {seed}"));
    }
    Some(parts.join(", "))
}

/// The library configuration and the accounts to print, from the arguments.
fn configure(
    args: &EmulatorArgs,
    env_password: Option<String>,
) -> Result<(EmulatorConfig, Vec<(String, Shown)>), String> {
    let mut users = Vec::new();
    let mut accounts = Vec::new();
    for spec in &args.users {
        let (name, password, shown) = match spec.split_once(':') {
            Some((name, password)) => (
                name,
                password.to_owned(),
                Shown::Printed(password.to_owned()),
            ),
            None => match &env_password {
                Some(password) => (spec.as_str(), password.clone(), Shown::FromEnv),
                None => {
                    return Err(format!(
                        "--user {spec} has no password: write {spec}:PASSWORD or set \
                         {PASSWORD_ENV}"
                    ));
                }
            },
        };
        if name.is_empty() || password.is_empty() {
            return Err("--user needs a name and a non-empty password, as NAME:PASSWORD".into());
        }
        users.push(User::new(name, password));
        accounts.push((name.to_owned(), shown));
    }
    if users.is_empty() {
        users.push(User::demo());
        accounts.push((
            DEFAULT_USER.to_owned(),
            Shown::Printed(DEFAULT_PASSWORD.to_owned()),
        ));
    }
    let tls = match (args.http, &args.cert, &args.key) {
        (true, _, _) => Tls::None,
        (false, Some(cert), Some(key)) => Tls::Files {
            cert: cert.clone(),
            key: key.clone(),
        },
        _ => Tls::SelfSigned,
    };
    let config = EmulatorConfig {
        listen: args.listen,
        users,
        token_ttl: Duration::from_secs(args.token_ttl),
        seed_orgs: args.seed_orgs,
        state_file: args.state.clone(),
        tls,
        faults: Faults {
            latency: args.latency.clone(),
            method_latency: method_latency(args),
            error_rate: args.error_rate,
            throttle_rate: args.throttle_rate,
            reset_rate: args.reset_rate,
            commit_then_fail_rate: args.commit_then_fail_rate,
            slow_answer_rate: args.slow_answer_rate,
            slow_answer_delay: Duration::from_millis(args.slow_answer_delay),
            seed: args.seed,
        },
        page_limit: args.page_limit,
        api_versions: if args.api_versions.is_empty() {
            RestApiVersion::NEWEST_FIRST.to_vec()
        } else {
            args.api_versions.clone()
        },
    };
    if args.commit_then_fail_rate + args.slow_answer_rate > 1.0 {
        return Err(
            "--commit-then-fail-rate and --slow-answer-rate add up to more than 1: one draw \
             decides between them"
                .to_owned(),
        );
    }
    Ok((config, accounts))
}

/// The latencies of one kind of request that the arguments set.
fn method_latency(args: &EmulatorArgs) -> MethodLatency {
    MethodLatency {
        token: args.latency_token.clone(),
        get: args.latency_get.clone(),
        post: args.latency_post.clone(),
        put: args.latency_put.clone(),
        delete: args.latency_delete.clone(),
    }
}

/// `MS` or `MS..MS`, in milliseconds.
fn parse_latency(text: &str) -> Result<RangeInclusive<Duration>, String> {
    let millis = |part: &str| {
        part.trim()
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| format!("'{part}' is not a whole number of milliseconds"))
    };
    let (start, end) = match text.split_once("..") {
        Some((start, end)) => (millis(start)?, millis(end)?),
        None => {
            let fixed = millis(text)?;
            (fixed, fixed)
        }
    };
    if start > end {
        return Err(format!("the range {text} ends before it starts"));
    }
    Ok(start..=end)
}

/// A share from 0 to 1.
fn parse_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(format!("'{text}' is not a number from 0 to 1")),
    }
}

/// Waits for Ctrl-C, or SIGTERM on Unix.
async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Harness {
        #[command(flatten)]
        args: EmulatorArgs,
    }

    fn parse(line: &[&str]) -> Result<EmulatorArgs, clap::Error> {
        Harness::try_parse_from(std::iter::once("emulator").chain(line.iter().copied()))
            .map(|harness| harness.args)
    }

    #[test]
    fn defaults_are_https_on_4443_with_the_demo_user() {
        let (config, accounts) = configure(&parse(&[]).unwrap(), None).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:4443");
        assert_eq!(config.tls, Tls::SelfSigned);
        assert_eq!(config.users, [User::demo()]);
        assert_eq!(
            accounts,
            [("admin".to_owned(), Shown::Printed("vboctl-demo".to_owned()))]
        );
        assert_eq!(config.token_ttl, Duration::from_secs(3600));
        // No fault is on; the slow-answer delay waits for --slow-answer-rate.
        assert_eq!(
            config.faults,
            Faults {
                slow_answer_delay: Duration::from_secs(61),
                ..Faults::default()
            }
        );
        assert_eq!(describe_faults(&parse(&[]).unwrap()), None);
    }

    #[test]
    fn every_switch_reaches_the_config() {
        let args = parse(&[
            "--listen",
            "0.0.0.0:8443",
            "--user",
            "CONTOSO\\ops:pa:ss",
            "--user",
            "viewer",
            "--state",
            "s.json",
            "--seed-orgs",
            "9",
            "--http",
            "--latency",
            "5..20",
            "--latency-token",
            "1",
            "--latency-get",
            "2..3",
            "--latency-post",
            "2000..5000",
            "--latency-put",
            "40",
            "--latency-delete",
            "50..60",
            "--error-rate",
            "0.1",
            "--throttle-rate",
            "0.2",
            "--reset-rate",
            "0.05",
            "--commit-then-fail-rate",
            "0.3",
            "--slow-answer-rate",
            "0.2",
            "--slow-answer-delay",
            "2500",
            "--token-ttl",
            "60",
            "--seed",
            "7",
        ])
        .unwrap();
        let (config, accounts) = configure(&args, Some("from-env".into())).unwrap();
        assert_eq!(
            config.users,
            [
                User::new("CONTOSO\\ops", "pa:ss"),
                User::new("viewer", "from-env")
            ]
        );
        assert_eq!(accounts[1], ("viewer".to_owned(), Shown::FromEnv));
        assert_eq!(config.tls, Tls::None);
        assert_eq!(config.seed_orgs, 9);
        assert_eq!(config.state_file, Some(PathBuf::from("s.json")));
        assert_eq!(config.token_ttl, Duration::from_secs(60));
        assert_eq!(
            config.faults,
            Faults {
                latency: Some(Duration::from_millis(5)..=Duration::from_millis(20)),
                method_latency: MethodLatency {
                    token: Some(Duration::from_millis(1)..=Duration::from_millis(1)),
                    get: Some(Duration::from_millis(2)..=Duration::from_millis(3)),
                    post: Some(Duration::from_millis(2000)..=Duration::from_millis(5000)),
                    put: Some(Duration::from_millis(40)..=Duration::from_millis(40)),
                    delete: Some(Duration::from_millis(50)..=Duration::from_millis(60)),
                },
                error_rate: 0.1,
                throttle_rate: 0.2,
                reset_rate: 0.05,
                commit_then_fail_rate: 0.3,
                slow_answer_rate: 0.2,
                slow_answer_delay: Duration::from_millis(2500),
                seed: Some(7),
            }
        );
        assert_eq!(
            describe_faults(&args).unwrap(),
            "latency 5..20 ms, token latency 1..1 ms, get latency 2..3 ms, post latency \
             2000..5000 ms, put latency 40..40 ms, delete latency 50..60 ms, error 0.1, \
             throttle 0.2, reset 0.05, commit-then-fail 0.3, slow answer 0.2 after 2500 ms, seed 7"
        );
    }

    #[test]
    fn lost_and_slow_answers_cannot_exceed_one_draw() {
        let args = parse(&[
            "--commit-then-fail-rate",
            "0.6",
            "--slow-answer-rate",
            "0.5",
        ])
        .unwrap();
        let error = configure(&args, None).unwrap_err();
        assert!(error.contains("add up to more than 1"), "{error}");
        let (config, _) = configure(&parse(&["--slow-answer-rate", "1"]).unwrap(), None).unwrap();
        assert_eq!(config.faults.slow_answer_delay, Duration::from_secs(61));
    }

    #[test]
    fn a_user_without_a_password_needs_the_environment() {
        let args = parse(&["--user", "viewer"]).unwrap();
        let error = configure(&args, None).unwrap_err();
        assert!(error.contains("VBOCTL_EMULATOR_PASSWORD"), "{error}");
    }

    #[test]
    fn contradictory_or_malformed_switches_are_usage_errors() {
        for line in [
            &["--http", "--tls"][..],
            &["--http", "--cert-out", "x.pem"],
            &["--cert", "c.pem"],
            &["--error-rate", "1.5"],
            &["--latency", "20..5"],
            &["--latency", "fast"],
        ] {
            assert!(parse(line).is_err(), "{line:?}");
        }
        let given = parse(&["--cert", "c.pem", "--key", "k.pem"]).unwrap();
        let (config, _) = configure(&given, None).unwrap();
        assert_eq!(
            config.tls,
            Tls::Files {
                cert: "c.pem".into(),
                key: "k.pem".into()
            }
        );
        assert_eq!(
            parse_latency("15").unwrap(),
            Duration::from_millis(15)..=Duration::from_millis(15)
        );
    }
}
