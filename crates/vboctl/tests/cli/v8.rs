//! REST API v8 end to end: the real binary against the emulator speaking v8 (and, where the
//! test is about choosing or mixing versions, v3 beside or instead of it). Every claim about
//! the server is checked on the server: what it stores and the requests it counted.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;
use vbo_emulator::{EmulatorConfig, Faults, StoredOrganization, Tls, User};
use vbo_model::RestApiVersion;
use vbo_model::wire::{ApplicationCertificate, OnlineSettings};
use vbo_model::{Organization, Secret};

use crate::apply_support::{app_only, office365, on_premises};
use crate::support::{Run, Server, execute};

/// An emulator over HTTPS serving exactly `versions`, configured otherwise as `config`; vboctl
/// is told no version and detects it.
async fn serving(versions: &[RestApiVersion], config: EmulatorConfig) -> Server {
    Server::serving(EmulatorConfig {
        api_versions: versions.to_vec(),
        tls: Tls::SelfSigned,
        ..config
    })
    .await
}

/// An emulator over HTTPS serving REST API v8 only.
async fn v8_server(config: EmulatorConfig) -> Server {
    serving(&[RestApiVersion::V8], config).await
}

/// `vboctl ARGS` against `server`, with `env` set on top of the connection.
async fn vboctl(server: &Server, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = server.vboctl();
    command.args(args).envs(env.iter().copied());
    execute(command).await
}

/// The requests the server received since the test set it up, by route, with how many.
fn sent_since_setup(server: &Server) -> BTreeMap<String, u64> {
    let setup = server.setup_counts();
    server
        .emulator
        .request_counts()
        .by_route
        .into_iter()
        .map(|(route, count)| {
            let since = count - setup.route(&route);
            (route, since)
        })
        .filter(|(_, count)| *count > 0)
        .collect()
}

/// Creates, updates and deletes the server made since the test set it up.
fn changes_since_setup(server: &Server) -> (u64, u64, u64) {
    let (setup, now) = (server.setup_counts(), server.emulator.request_counts());
    (
        now.created - setup.created,
        now.updated - setup.updated,
        now.deleted - setup.deleted,
    )
}

/// Since the test set the server up, only requests on `allowed` routes reached it, and it
/// changed nothing.
#[track_caller]
fn assert_only_sent(server: &Server, allowed: &[&str]) {
    let sent = sent_since_setup(server);
    let other: Vec<_> = sent
        .iter()
        .filter(|(route, _)| !allowed.contains(&route.as_str()))
        .collect();
    assert!(
        other.is_empty(),
        "unexpected requests {other:?} in {sent:?}"
    );
    assert_eq!(changes_since_setup(server), (0, 0, 0), "the server changed");
}

/// The organization called `name` on the server, secrets included.
#[track_caller]
fn stored(server: &Server, name: &str) -> StoredOrganization {
    let organizations = server.emulator.organizations();
    let names: Vec<String> = organizations.iter().map(|o| o.name.clone()).collect();
    organizations
        .into_iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("{name} is on the server; it has {names:?}"))
}

/// The organizations' names on the server, sorted.
fn names(server: &Server) -> Vec<String> {
    crate::support::organization_names(&server.emulator)
}

/// The certificate content the server received in `settings`.
#[track_caller]
fn certificate(settings: Option<&OnlineSettings<Secret>>) -> String {
    match settings.and_then(|s| s.application_certificate.as_ref()) {
        Some(ApplicationCertificate::Content(content)) => content.expose().to_owned(),
        other => panic!("a certificate's content, not {other:?}"),
    }
}

/// The password of the certificate the server received in `settings`.
#[track_caller]
fn certificate_password(settings: Option<&OnlineSettings<Secret>>) -> String {
    settings
        .and_then(|s| s.application_certificate_password.as_ref())
        .expect("a certificate password")
        .expose()
        .to_owned()
}

/// Bytes that stand in for a `.pfx` file, different for each `salt`, and not UTF-8, so that
/// only a binary read gets them right.
fn pfx_bytes(salt: u32) -> Vec<u8> {
    let mut bytes = vec![0x30, 0x82, 0xff, 0xfe, 0x00];
    bytes.extend((0..1536u32).map(|i| {
        let mixed = i.wrapping_mul(2_654_435_761) ^ salt.wrapping_mul(0x85eb_ca6b);
        mixed.to_le_bytes()[2]
    }));
    bytes
}

/// Standard base64, as vboctl sends a certificate file and as a variable holds one.
fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Fails when `run` printed any of `secrets`, or a piece of one long enough to recognise it.
#[track_caller]
fn assert_never_printed(run: &Run, secrets: &[&str]) {
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        for secret in secrets {
            let pieces = [
                *secret,
                &secret[..secret.len().min(16)],
                &secret[secret.len().saturating_sub(16)..],
            ];
            for piece in pieces {
                assert!(
                    !text.contains(piece),
                    "{piece:?} (of a secret) printed on {stream}:\n{text}"
                );
            }
        }
    }
}

/// A manifest of an OnPremises organization `name`, valid in every version, its password from
/// `CORP_PW`.
fn corp(name: &str) -> String {
    on_premises(name, &format!("mail.{name}"), "{fromEnv: CORP_PW}")
}

// 1. Detection --------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detection_speaks_the_newest_version_served_in_one_login() {
    let all = Server::serving(EmulatorConfig::default()).await;
    all.write("manifests/corp.yaml", &corp("corp.example.com"));
    let run = vboctl(&all, &["plan", "manifests"], &[("CORP_PW", "corp-pw")])
        .await
        .expect_code(0);
    assert!(
        run.stdout.starts_with(&format!(
            "Server: {} (REST API v8)\n",
            all.emulator.base_url()
        )),
        "{}",
        run.stdout
    );
    // One login at v8's token endpoint, no probe of older versions, then the list.
    assert_eq!(
        sent_since_setup(&all),
        BTreeMap::from([
            ("POST /v8/token".to_owned(), 1),
            ("GET /v8/Organizations".to_owned(), 1),
        ])
    );

    let v3 = serving(&[RestApiVersion::V3], EmulatorConfig::default()).await;
    v3.write("manifests/corp.yaml", &corp("corp.example.com"));
    let run = vboctl(&v3, &["plan", "manifests"], &[("CORP_PW", "corp-pw")])
        .await
        .expect_code(0);
    assert!(
        run.stdout.starts_with(&format!(
            "Server: {} (REST API v3)\n",
            v3.emulator.base_url()
        )),
        "{}",
        run.stdout
    );
    assert_eq!(sent_since_setup(&v3)["GET /v3/Organizations"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_version_the_server_does_not_serve_names_the_ones_it_does() {
    let server = serving(
        &[RestApiVersion::V8, RestApiVersion::V3],
        EmulatorConfig::default(),
    )
    .await;
    server.write("manifests/corp.yaml", &corp("corp.example.com"));
    let run = vboctl(
        &server,
        &["plan", "manifests", "--api-version", "v7"],
        &[("CORP_PW", "corp-pw")],
    )
    .await
    .expect_code(1);
    assert!(
        run.stderr.contains(&format!(
            "error: {} does not serve REST API v7; it serves v8 and v3\n",
            server.emulator.base_url()
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--api-version"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    // The login at v7 and one unauthenticated look at each version's list: nothing else.
    let sent = sent_since_setup(&server);
    for (route, count) in &sent {
        let probe = route == "POST /v7/token"
            || (route.starts_with("GET /v") && route.ends_with("/Organizations"));
        assert!(probe && *count == 1, "{route} x{count} in {sent:?}");
    }
    assert!(sent.contains_key("POST /v7/token"), "{sent:?}");
    assert_eq!(changes_since_setup(&server), (0, 0, 0));
}

// 2. Paging -----------------------------------------------------------------------------------

/// Seeded organizations: the emulator names them `seed-00001...` in creation order.
const SEEDED: usize = 95;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizations_on_the_last_page_are_found_and_every_page_is_read() {
    let server = v8_server(EmulatorConfig {
        seed_orgs: SEEDED,
        page_limit: Some(20),
        ..EmulatorConfig::default()
    })
    .await;
    let manifests = [
        app_only(
            "last-a.onmicrosoft.com",
            "{fromEnv: CERT}",
            "{fromEnv: CERT_PW}",
        ),
        app_only(
            "last-b.onmicrosoft.com",
            "{fromEnv: CERT}",
            "{fromEnv: CERT_PW}",
        ),
    ];
    server.put(&manifests.join("---\n")).await;
    // The two came after the seeded ones: organizations 96 and 97, on the fifth and last page.
    let order: Vec<String> = server
        .emulator
        .organizations()
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(order.len(), SEEDED + 2);
    assert_eq!(
        order[SEEDED..],
        ["last-a.onmicrosoft.com", "last-b.onmicrosoft.com"]
    );
    assert_eq!(server.setup_counts().route("GET /v8/Organizations"), 0);
    server.write("manifests/last.yaml", &manifests.join("---\n"));
    let env = [("CERT", "Q2VydA=="), ("CERT_PW", "cert-pw")];

    let run = vboctl(&server, &["plan", "manifests", "--detailed-exitcode"], &env)
        .await
        .expect_code(0);
    assert!(!run.stdout.contains("will be created"), "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!(
            "No changes. The server matches the manifests: 2 unchanged, {SEEDED} unmanaged"
        )),
        "{}",
        run.stdout
    );
    let pages = sent_since_setup(&server)["GET /v8/Organizations"];
    assert!(
        pages >= 5,
        "97 organizations 20 a page take 5 pages, read {pages}"
    );

    let run = vboctl(
        &server,
        &["plan", "manifests", "--prune", "--format", "json"],
        &env,
    )
    .await
    .expect_code(0);
    let plan: Value = serde_json::from_str(&run.stdout).unwrap();
    let mut deleted: Vec<&str> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "delete")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    deleted.sort_unstable();
    assert_eq!(
        deleted,
        order[..SEEDED],
        "every seeded organization is deleted"
    );
    assert_eq!(plan["summary"]["create"], 0, "{plan:#}");
    assert_eq!(plan["summary"]["delete"], SEEDED, "{plan:#}");
}

// 3. Plan, apply, plan ------------------------------------------------------------------------

/// The variables the v8 examples and the on-premises example read, with values that are
/// valid base64 where they hold a certificate.
fn example_secrets() -> Vec<(&'static str, String)> {
    vec![
        ("ADATUM_APP_CERTIFICATE", base64(&pfx_bytes(1))),
        (
            "ADATUM_APP_CERTIFICATE_PASSWORD",
            "Adatum-Pfx-Pw-61e2".into(),
        ),
        ("TAILSPIN_APP_CERTIFICATE", base64(&pfx_bytes(2))),
        (
            "TAILSPIN_APP_CERTIFICATE_PASSWORD",
            "Tailspin-Pfx-Pw-0a7d".into(),
        ),
        (
            "TAILSPIN_EXCHANGE_PASSWORD",
            "Tailspin-Exchange-Pw-93b4".into(),
        ),
        (
            "YOURMAIL_EXCHANGE_PASSWORD",
            "Yourmail-Exchange-Pw-2c58".into(),
        ),
        (
            "YOURMAIL_SHAREPOINT_PASSWORD",
            "Yourmail-SharePoint-Pw-d4f1".into(),
        ),
    ]
}

/// Copies the v8 examples and the on-premises example into `manifests/`.
fn copy_examples(server: &Server) {
    let examples = crate::repository().join("examples");
    for file in [
        "v8/office365-app-only.yaml",
        "v8/hybrid.yaml",
        "on-premises.yaml",
    ] {
        let text = std::fs::read_to_string(examples.join(file)).unwrap();
        let name = Path::new(file).file_name().unwrap().to_str().unwrap();
        server.write(&format!("manifests/{name}"), &text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_v8_examples_apply_and_then_match_the_server() {
    let server = v8_server(EmulatorConfig::default()).await;
    copy_examples(&server);
    let secrets = example_secrets();
    let env: Vec<(&str, &str)> = secrets.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let value = |name: &str| secrets.iter().find(|(k, _)| *k == name).unwrap().1.clone();

    let run = vboctl(&server, &["plan", "manifests", "--detailed-exitcode"], &env)
        .await
        .expect_code(2);
    assert!(
        run.stdout
            .contains("Plan: 3 to create, 0 to update, 0 to delete."),
        "{}",
        run.stdout
    );
    let run = vboctl(&server, &["apply", "manifests", "--auto-approve"], &env)
        .await
        .expect_code(0);
    assert!(
        run.stdout
            .ends_with("Apply complete: 3 created, 0 updated, 0 deleted, 0 failed.\n"),
        "{}",
        run.stdout
    );
    assert_eq!(
        names(&server),
        [
            "adatum.onmicrosoft.com",
            "tailspin.example.com",
            "yourmail.migrationendpoint.com"
        ]
    );
    let adatum = stored(&server, "adatum.onmicrosoft.com").body;
    for settings in [
        adatum.exchange_online_settings.as_ref(),
        adatum.share_point_online_settings.as_ref(),
    ] {
        assert_eq!(certificate(settings), value("ADATUM_APP_CERTIFICATE"));
        assert_eq!(
            certificate_password(settings),
            value("ADATUM_APP_CERTIFICATE_PASSWORD")
        );
    }
    assert_eq!(adatum.is_teams_online, Some(true));
    assert_eq!(
        adatum.description.as_deref(),
        Some("Adatum Corporation, backed up since 2024")
    );
    let tailspin = stored(&server, "tailspin.example.com").body;
    assert_eq!(
        certificate(tailspin.exchange_online_settings.as_ref()),
        value("TAILSPIN_APP_CERTIFICATE")
    );
    for secret in [&secrets[1].1, &secrets[3].1, &secrets[4].1] {
        assert_never_printed(&run, &[secret]);
    }

    let run = vboctl(&server, &["plan", "manifests", "--detailed-exitcode"], &env)
        .await
        .expect_code(0);
    assert!(
        run.stdout
            .contains("No changes. The server matches the manifests: 3 unchanged."),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_from_a_file_is_sent_as_the_base64_of_its_bytes_and_never_shown() {
    const PASSWORD: &str = "File-Pfx-Pw-7e1c90";
    // v3 beside v8: what v8 was sent, v3 must not report either.
    let server = serving(
        &[RestApiVersion::V8, RestApiVersion::V3],
        EmulatorConfig::default(),
    )
    .await;
    let bytes = pfx_bytes(3);
    assert!(std::str::from_utf8(&bytes).is_err());
    let encoded = base64(&bytes);
    server.write(
        "manifests/file.yaml",
        &app_only(
            "file.onmicrosoft.com",
            "{fromFile: certs/app.pfx}",
            "{fromEnv: PFX_PW}",
        ),
    );
    let path = server.path().join("manifests/certs/app.pfx");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let env = [("PFX_PW", PASSWORD), ("RUST_LOG", "trace")];

    let mut runs = Vec::new();
    runs.push(
        vboctl(&server, &["plan", "manifests", "--detailed-exitcode"], &env)
            .await
            .expect_code(2),
    );
    runs.push(
        vboctl(&server, &["apply", "manifests", "--auto-approve"], &env)
            .await
            .expect_code(0),
    );
    runs.push(
        vboctl(
            &server,
            &[
                "plan",
                "manifests",
                "--detailed-exitcode",
                "--format",
                "json",
            ],
            &env,
        )
        .await
        .expect_code(0),
    );
    // The organization as each version reports it, in full: a plan that would delete it
    // shows everything the server said about it.
    server.write("empty/none.yaml", "# no organization\n");
    for version in ["v8", "v3"] {
        let run = vboctl(
            &server,
            &[
                "plan",
                "empty",
                "--prune",
                "--allow-empty",
                "--format",
                "json",
                "--api-version",
                version,
            ],
            &env,
        )
        .await
        .expect_code(0);
        let plan: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(plan["changes"][0]["action"], "delete", "{plan:#}");
        assert_eq!(
            plan["changes"][0]["name"], "file.onmicrosoft.com",
            "{plan:#}"
        );
        runs.push(run);
    }
    for run in &runs {
        assert!(run.stderr.contains(" TRACE "), "{}", run.stderr);
        assert_never_printed(run, &[&encoded, PASSWORD]);
    }
    // The server received the file's bytes, base64-encoded, as the certificate itself.
    let body = stored(&server, "file.onmicrosoft.com").body;
    assert_eq!(certificate(body.exchange_online_settings.as_ref()), encoded);
    assert_eq!(
        certificate_password(body.exchange_online_settings.as_ref()),
        PASSWORD
    );
}

// 4. Saved plans ------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_records_v8_and_is_applied_only_in_the_version_it_was_made_in() {
    let server = v8_server(EmulatorConfig::default()).await;
    let certificate_value = base64(&pfx_bytes(4));
    let env = [
        ("SAVED_CERT", certificate_value.as_str()),
        ("SAVED_CERT_PW", "Saved-Pfx-Pw-4b2e"),
    ];
    server.write(
        "manifests/saved.yaml",
        &app_only(
            "saved.onmicrosoft.com",
            "{fromEnv: SAVED_CERT}",
            "{fromEnv: SAVED_CERT_PW}",
        ),
    );
    vboctl(&server, &["plan", "manifests", "--out", "plan.json"], &env)
        .await
        .expect_code(0);
    let saved = std::fs::read_to_string(server.path().join("plan.json")).unwrap();
    assert!(!saved.contains(&certificate_value) && !saved.contains("Saved-Pfx-Pw-4b2e"));
    let file: Value = serde_json::from_str(&saved).unwrap();
    assert_eq!(file["plan"]["api_version"], "v8", "{file:#}");
    vboctl(&server, &["apply", "--plan", "plan.json"], &env)
        .await
        .expect_code(0);
    let body = stored(&server, "saved.onmicrosoft.com").body;
    assert_eq!(
        certificate(body.exchange_online_settings.as_ref()),
        certificate_value
    );

    // The same file claiming v3: the v8-only server cannot take it, and nothing is sent but
    // the login attempt and the look at which versions it serves.
    server.write(
        "manifests/later.yaml",
        &app_only(
            "later.onmicrosoft.com",
            "{fromEnv: SAVED_CERT}",
            "{fromEnv: SAVED_CERT_PW}",
        ),
    );
    vboctl(&server, &["plan", "manifests", "--out", "later.json"], &env)
        .await
        .expect_code(0);
    let mut file: Value =
        serde_json::from_str(&std::fs::read_to_string(server.path().join("later.json")).unwrap())
            .unwrap();
    file["plan"]["api_version"] = "v3".into();
    server.write("later.json", &file.to_string());
    let before = server.emulator.request_counts();
    let run = vboctl(&server, &["apply", "--plan", "later.json"], &env)
        .await
        .expect_code(1);
    assert!(
        run.stderr.contains(&format!(
            "error: refusing to apply later.json: {} does not serve REST API v3; it serves v8 only\n",
            server.emulator.base_url()
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("plan again"), "{}", run.stderr);
    let after = server.emulator.request_counts();
    for (route, count) in &after.by_route {
        let sent = count - before.route(route);
        if sent > 0 {
            assert!(
                route == "POST /v3/Token"
                    || (route.starts_with("GET ") && route.ends_with("/Organizations")),
                "{route} x{sent}"
            );
        }
    }
    assert_eq!(after.created, before.created);
    assert!(!names(&server).contains(&"later.onmicrosoft.com".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_made_in_v3_is_refused_when_v8_is_asked_for() {
    let server = serving(&[RestApiVersion::V3], EmulatorConfig::default()).await;
    server.write("manifests/corp.yaml", &corp("corp.example.com"));
    let env = [("CORP_PW", "corp-pw")];
    vboctl(&server, &["plan", "manifests", "--out", "plan.json"], &env)
        .await
        .expect_code(0);
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(server.path().join("plan.json")).unwrap())
            .unwrap();
    assert_eq!(file["plan"]["api_version"], "v3");
    let before = server.emulator.request_counts();
    let run = vboctl(
        &server,
        &["apply", "--plan", "plan.json"],
        &[("CORP_PW", "corp-pw"), ("VBOCTL_API_VERSION", "v8")],
    )
    .await
    .expect_code(1);
    assert!(
        run.stderr.contains(
            "error: the plan was made in REST API v3, but --api-version (VBOCTL_API_VERSION) asks for v8\n"
        ),
        "{}",
        run.stderr
    );
    // Refused before connecting.
    assert_eq!(server.emulator.request_counts(), before);
    // In its own version it applies.
    vboctl(&server, &["apply", "--plan", "plan.json"], &env)
        .await
        .expect_code(0);
    assert_eq!(names(&server), ["corp.example.com"]);
}

// 5. Fields the version does not take ---------------------------------------------------------

/// An Office365 organization valid for v3 but for its v6 and v7 fields: `description` is at
/// 7:3, `isTeamsOnline` at 9:3.
const TEAMS: &str = "apiVersion: vboctl/v1
kind: Organization
metadata:
  name: teams.onmicrosoft.com
spec:
  type: Office365
  description: Mail and Teams
  region: Worldwide
  isTeamsOnline: true
  isExchangeOnline: true
  exchangeOnlineSettings:
    account: backup@teams.onmicrosoft.com
    password: {fromEnv: TEAMS_PW}
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_field_v3_does_not_take_is_an_error_at_its_place_before_anything_is_sent() {
    let server = serving(&[RestApiVersion::V3], EmulatorConfig::default()).await;
    server.write("manifests/teams.yaml", TEAMS);
    let env = [("TEAMS_PW", "teams-pw")];
    for command in [
        &["plan", "manifests"][..],
        &["apply", "manifests", "--auto-approve"],
    ] {
        let run = vboctl(&server, command, &env).await.expect_code(1);
        for expected in [
            "error: organization \"teams.onmicrosoft.com\": spec.isTeamsOnline at manifests/teams.yaml:9:3 is not taken by REST API v3 (the server's); it is REST API v6 and later\n  hint: remove spec.isTeamsOnline, or plan against a server that speaks a version that takes it (--api-version)\n",
            "error: organization \"teams.onmicrosoft.com\": spec.description at manifests/teams.yaml:7:3 is not taken by REST API v3 (the server's); it is REST API v7 and later\n",
        ] {
            assert!(
                run.stdout.contains(expected),
                "{expected:?} in\n{}",
                run.stdout
            );
        }
        // Two errors, one organization.
        assert!(
            run.stdout.ends_with(
                "1 organization could not be planned: fix the errors above before applying.\n"
            ),
            "{}",
            run.stdout
        );
        assert!(
            run.stderr
                .contains("error: 1 organization could not be planned")
                || run
                    .stderr
                    .contains("error: refusing to apply: 1 organization could not be planned"),
            "{}",
            run.stderr
        );
    }
    // Logging in (after v8, v7 and v6 answered that they are not served) and listing only.
    assert_only_sent(
        &server,
        &[
            "POST /v8/token",
            "POST /v7/token",
            "POST /v6/token",
            "POST /v3/Token",
            "GET /v3/Organizations",
        ],
    );
    assert!(names(&server).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v3_certificate_path_is_an_error_against_v8() {
    let server = v8_server(EmulatorConfig::default()).await;
    // `applicationCertificate` is at 13:5.
    server.write(
        "manifests/path.yaml",
        &app_only(
            "path.onmicrosoft.com",
            r"C:\Certificates\path.pfx",
            "{fromEnv: PFX_PW}",
        ),
    );
    let run = vboctl(&server, &["plan", "manifests"], &[("PFX_PW", "pfx-pw")])
        .await
        .expect_code(1);
    let expected = "error: organization \"path.onmicrosoft.com\": spec.exchangeOnlineSettings.applicationCertificate at manifests/path.yaml:13:5 is not taken by REST API v8 (the server's); it is REST API v3 only (v6 and later take the file: {fromFile: path/to/app.pfx})\n";
    assert!(run.stdout.contains(expected), "{}", run.stdout);
    assert_only_sent(&server, &["POST /v8/token", "GET /v8/Organizations"]);
}

// 6. v8's refusal of basic authentication -----------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_authentication_is_refused_before_sending_except_in_china() {
    const PASSWORD: &str = "Basic-Pw-5e0a71";
    let server = v8_server(EmulatorConfig::default()).await;
    let env = [("BASIC_PW", PASSWORD)];
    // `exchangeOnlineSettings` is at 9:3.
    server.write(
        "manifests/basic.yaml",
        &office365("basic.onmicrosoft.com", "Worldwide", "{fromEnv: BASIC_PW}"),
    );
    let refused = "error: organization \"basic.onmicrosoft.com\": REST API v8 refuses to add a Microsoft 365 organization with basic authentication or modern authentication with legacy protocols (spec.exchangeOnlineSettings at manifests/basic.yaml:9:3), unless its region is China\n  hint: use application-only authentication: in spec.exchangeOnlineSettings set useApplicationOnlyAuth: true,";
    let run = vboctl(&server, &["plan", "manifests"], &env)
        .await
        .expect_code(1);
    assert!(run.stdout.contains(refused), "{}", run.stdout);
    assert_never_printed(&run, &[PASSWORD]);
    let run = vboctl(&server, &["apply", "manifests", "--auto-approve"], &env)
        .await
        .expect_code(1);
    assert!(run.stdout.contains(refused), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("refusing to apply: 1 organization could not be planned"),
        "{}",
        run.stderr
    );
    assert_only_sent(&server, &["POST /v8/token", "GET /v8/Organizations"]);

    server.write(
        "manifests/basic.yaml",
        &office365("basic.onmicrosoft.com", "China", "{fromEnv: BASIC_PW}"),
    );
    let run = vboctl(&server, &["plan", "manifests", "--detailed-exitcode"], &env)
        .await
        .expect_code(2);
    assert!(
        run.stdout
            .contains("+ organization[\"basic.onmicrosoft.com\"] will be created"),
        "{}",
        run.stdout
    );
    vboctl(&server, &["apply", "manifests", "--auto-approve"], &env)
        .await
        .expect_code(0);
    let body = stored(&server, "basic.onmicrosoft.com").body;
    assert_eq!(body.region, Some(vbo_model::Region::China));
    assert_eq!(
        body.exchange_online_settings
            .and_then(|s| s.password)
            .map(|p| p.expose().to_owned())
            .as_deref(),
        Some(PASSWORD)
    );
}

// 7. Identity ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_under_another_name_is_a_rename_error_not_a_second_create() {
    let server = v8_server(EmulatorConfig::default()).await;
    let spec = |name: &str| app_only(name, "{fromEnv: CERT}", "{fromEnv: CERT_PW}");
    server
        .put(
            &[
                spec("old-name.onmicrosoft.com"),
                spec("bystander.onmicrosoft.com"),
            ]
            .join("---\n"),
        )
        .await;
    let listed: Vec<Organization> = server.client().await.list().await.unwrap();
    let msid_of = |name: &str| {
        let organization = listed.iter().find(|o| o.name == name).unwrap();
        (
            organization.id.clone(),
            organization
                .msid
                .clone()
                .expect("v8 reports the tenant's msid"),
        )
    };
    let (old_id, old_msid) = msid_of("old-name.onmicrosoft.com");
    let (bystander_id, bystander_msid) = msid_of("bystander.onmicrosoft.com");
    let renamed = spec("new-name.onmicrosoft.com").replace(
        "  name: new-name.onmicrosoft.com\n",
        &format!("  name: new-name.onmicrosoft.com\n  msid: {old_msid}\n"),
    );
    assert!(renamed.contains(&old_msid));
    server.write("manifests/tenant.yaml", &renamed);
    let env = [("CERT", "Q2VydA=="), ("CERT_PW", "cert-pw")];

    let error = format!(
        "error: organization \"new-name.onmicrosoft.com\" (manifest at manifests/tenant.yaml:4:9) is not on the server, but its tenant {old_msid} is, as organization \"old-name.onmicrosoft.com\" (id {old_id}): creating it would add the same tenant twice\n  hint: set metadata.name to \"old-name.onmicrosoft.com\""
    );
    for command in [
        &["plan", "manifests"][..],
        &["apply", "manifests", "--auto-approve"],
    ] {
        let run = vboctl(&server, command, &env).await.expect_code(1);
        assert!(run.stdout.contains(&error), "{}", run.stdout);
        let unmanaged = run
            .stdout
            .split("Unmanaged:")
            .nth(1)
            .and_then(|rest| rest.split("\n\n").next())
            .unwrap_or_else(|| panic!("an unmanaged section in\n{}", run.stdout));
        assert!(!unmanaged.contains("old-name"), "{unmanaged}");
        // The plan shows the tenant of what it lists.
        assert!(
            unmanaged.contains(&format!(
                "\"bystander.onmicrosoft.com\" (Office365; id {bystander_id}; msid {bystander_msid})"
            )),
            "{unmanaged}"
        );
    }
    assert_eq!(
        names(&server),
        ["bystander.onmicrosoft.com", "old-name.onmicrosoft.com"]
    );
    assert_only_sent(&server, &["POST /v8/token", "GET /v8/Organizations"]);

    // Under its server name the manifest manages it, and the plan shows its msid. The fields
    // it adds, which the organization was put there without, are updates.
    server.write(
        "manifests/tenant.yaml",
        &spec("old-name.onmicrosoft.com").replace(
            "  isExchangeOnline: true\n",
            "  description: renamed back\n  isTeamsOnline: true\n  isExchangeOnline: true\n",
        ),
    );
    let run = vboctl(&server, &["plan", "manifests", "--detailed-exitcode"], &env)
        .await
        .expect_code(2);
    for expected in [
        format!("id {old_id}; msid {old_msid}"),
        "~ organization[\"old-name.onmicrosoft.com\"] will be updated in place".to_owned(),
        "Plan: 0 to create, 1 to update, 0 to delete.".to_owned(),
    ] {
        assert!(
            run.stdout.contains(&expected),
            "{expected:?} in\n{}",
            run.stdout
        );
    }
    let run = vboctl(&server, &["plan", "manifests", "--format", "json"], &env)
        .await
        .expect_code(0);
    let plan: Value = serde_json::from_str(&run.stdout).unwrap();
    let change = &plan["changes"][0];
    assert_eq!(change["msid"], old_msid.as_str(), "{plan:#}");
    let changed: Vec<&str> = change["changed_fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["description", "isTeamsOnline"], "{plan:#}");
    vboctl(&server, &["apply", "manifests", "--auto-approve"], &env)
        .await
        .expect_code(0);
    let body = stored(&server, "old-name.onmicrosoft.com").body;
    assert_eq!(body.description.as_deref(), Some("renamed back"));
    assert_eq!(body.is_teams_online, Some(true));
    vboctl(&server, &["plan", "manifests", "--detailed-exitcode"], &env)
        .await
        .expect_code(0);
}

// 8. Faults -----------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_through_faults_and_expiring_tokens_converges_with_each_organization_once() {
    const COUNT: usize = 12;
    let server = v8_server(EmulatorConfig {
        token_ttl: Duration::from_secs(1),
        faults: Faults {
            // At least 150 ms a request: two at a time, the twelve creates alone take longer
            // than the token lives (0.9 s before its expiry vboctl renews it), so the run
            // needs more than one token whatever the faults.
            latency: Some(Duration::from_millis(150)..=Duration::from_millis(200)),
            error_rate: 0.1,
            reset_rate: 0.05,
            commit_then_fail_rate: 0.3,
            seed: Some(8),
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let documents: Vec<String> = (0..COUNT)
        .map(|i| {
            if i % 2 == 0 {
                app_only(
                    &format!("tenant-{i:02}.onmicrosoft.com"),
                    "{fromEnv: CERT}",
                    "{fromEnv: CERT_PW}",
                )
            } else {
                corp(&format!("tenant-{i:02}.example.com"))
            }
        })
        .collect();
    server.write("manifests/tenants.yaml", &documents.join("---\n"));
    let certificate_value = base64(&pfx_bytes(8));
    let env = [
        ("CERT", certificate_value.as_str()),
        ("CERT_PW", "cert-pw"),
        ("CORP_PW", "corp-pw"),
    ];

    let run = vboctl(
        &server,
        &["apply", "manifests", "--auto-approve", "--parallelism", "2"],
        &env,
    )
    .await
    .expect_code(0);
    assert!(
        run.stdout.ends_with(&format!(
            "Apply complete: {COUNT} created, 0 updated, 0 deleted, 0 failed.\n"
        )),
        "{}",
        run.stdout
    );
    let mut expected: Vec<String> = (0..COUNT)
        .map(|i| match i % 2 {
            0 => format!("tenant-{i:02}.onmicrosoft.com"),
            _ => format!("tenant-{i:02}.example.com"),
        })
        .collect();
    expected.sort();
    assert_eq!(names(&server), expected);
    let counts = server.emulator.request_counts();
    assert_eq!(counts.created, COUNT as u64, "each created once");
    let faults = &counts.faults;
    assert!(
        faults.errors + faults.resets + faults.commit_then_fail > 0,
        "faults were injected: {faults:?}"
    );
    let adopted = run
        .stdout
        .matches("found on the server after an answer was lost, not created twice")
        .count();
    assert_eq!(adopted as u64, faults.commit_then_fail, "{}", run.stdout);
    let grants = counts.route("POST /v8/token");
    assert!(grants > 1, "the token was renewed: {:?}", counts.by_route);
    for organization in server.emulator.organizations() {
        if let Some(settings) = organization.body.exchange_online_settings.as_ref() {
            assert_eq!(certificate(Some(settings)), certificate_value);
        }
    }
    vboctl(&server, &["plan", "manifests", "--detailed-exitcode"], &env)
        .await
        .expect_code(0);
}

// 9. Leaks ------------------------------------------------------------------------------------

const LOGIN_PASSWORD: &str = "Login-Pw-v8-6d1f2a";
const WRONG_PASSWORD: &str = "Wrong-Pw-v8-90c3e4";
const ENV_CERT_PASSWORD: &str = "Env-Pfx-Pw-v8-1b7c";
const FILE_CERT_PASSWORD: &str = "File-Pfx-Pw-v8-e35d";
const CORP_PASSWORD: &str = "Corp-Pw-v8-48a0";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_output_against_v8_carries_a_secret_even_at_trace_level() {
    let server = v8_server(EmulatorConfig {
        users: vec![User::new("operator", LOGIN_PASSWORD)],
        ..EmulatorConfig::default()
    })
    .await;
    let env_certificate = base64(&pfx_bytes(9));
    let file_certificate = base64(&pfx_bytes(10));
    server.write(
        "manifests/env.yaml",
        &app_only(
            "env.onmicrosoft.com",
            "{fromEnv: ENV_CERT}",
            "{fromEnv: ENV_CERT_PW}",
        ),
    );
    server.write(
        "manifests/file.yaml",
        &app_only(
            "file.onmicrosoft.com",
            "{fromFile: secrets/app.pfx}",
            "{fromFile: secrets/app.pfx.password}",
        ),
    );
    std::fs::create_dir_all(server.path().join("manifests/secrets")).unwrap();
    std::fs::write(
        server.path().join("manifests/secrets/app.pfx"),
        pfx_bytes(10),
    )
    .unwrap();
    server.write(
        "manifests/secrets/app.pfx.password",
        &format!("{FILE_CERT_PASSWORD}\n"),
    );
    server.write("manifests/corp.yaml", &corp("corp.example.com"));
    let env = [
        ("RUST_LOG", "trace"),
        ("ENV_CERT", env_certificate.as_str()),
        ("ENV_CERT_PW", ENV_CERT_PASSWORD),
        ("CORP_PW", CORP_PASSWORD),
    ];
    let mut runs = Vec::new();

    runs.push(
        vboctl(&server, &["plan", "manifests"], &env)
            .await
            .expect_code(0),
    );
    runs.push(
        vboctl(
            &server,
            &["apply", "manifests", "--auto-approve", "--format", "json"],
            &env,
        )
        .await
        .expect_code(0),
    );
    // The values were really in play: the server holds them.
    let env_body = stored(&server, "env.onmicrosoft.com").body;
    assert_eq!(
        certificate(env_body.exchange_online_settings.as_ref()),
        env_certificate
    );
    assert_eq!(
        certificate_password(env_body.exchange_online_settings.as_ref()),
        ENV_CERT_PASSWORD
    );
    let file_body = stored(&server, "file.onmicrosoft.com").body;
    assert_eq!(
        certificate(file_body.exchange_online_settings.as_ref()),
        file_certificate
    );
    assert_eq!(
        certificate_password(file_body.exchange_online_settings.as_ref()),
        FILE_CERT_PASSWORD
    );

    // An update, which sends every secret of the organization again, through a saved plan.
    server.write(
        "manifests/corp.yaml",
        &on_premises(
            "corp.example.com",
            "mail2.corp.example.com",
            "{fromEnv: CORP_PW}",
        ),
    );
    runs.push(
        vboctl(&server, &["plan", "manifests", "--out", "plan.json"], &env)
            .await
            .expect_code(0),
    );
    let saved = std::fs::read_to_string(server.path().join("plan.json")).unwrap();
    runs.push(
        vboctl(&server, &["apply", "--plan", "plan.json"], &env)
            .await
            .expect_code(0),
    );
    assert_eq!(
        stored(&server, "corp.example.com")
            .body
            .exchange_settings
            .and_then(|s| s.password)
            .map(|p| p.expose().to_owned())
            .as_deref(),
        Some(CORP_PASSWORD)
    );
    runs.push(
        vboctl(
            &server,
            &["plan", "manifests", "--format", "json", "--prune"],
            &env,
        )
        .await
        .expect_code(0),
    );
    // A login the server refuses.
    let mut wrong = env.to_vec();
    wrong.push(("VBOCTL_PASSWORD", WRONG_PASSWORD));
    runs.push(
        vboctl(&server, &["apply", "manifests", "--auto-approve"], &wrong)
            .await
            .expect_code(1),
    );

    let secrets = [
        LOGIN_PASSWORD,
        WRONG_PASSWORD,
        ENV_CERT_PASSWORD,
        FILE_CERT_PASSWORD,
        CORP_PASSWORD,
        &env_certificate,
        &file_certificate,
    ];
    for secret in secrets {
        assert!(!saved.contains(secret), "the saved plan holds a secret");
    }
    for run in &runs {
        assert!(run.stderr.contains(" TRACE "), "{}", run.stderr);
        assert_never_printed(run, &secrets);
        for token in ["access_token", "refresh_token", "Bearer "] {
            assert!(
                !run.stdout.contains(token) && !run.stderr.contains(token),
                "{token:?} printed:\n{}\n{}",
                run.stdout,
                run.stderr
            );
        }
    }
}
