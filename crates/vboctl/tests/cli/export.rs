//! `vboctl export` end to end: what it writes validates, and a plan of it against the same
//! server, with the variables it names set, changes nothing; in every API version.

use vbo_emulator::{EmulatorConfig, Tls};
use vbo_model::RestApiVersion;

use crate::support::{Run, SERVER_SIDE_SECRET, Server, execute};

/// An emulator over HTTPS serving exactly `version`, holding `manifests`.
async fn server_with(version: RestApiVersion, manifests: &str) -> Server {
    let server = Server::serving(EmulatorConfig {
        api_versions: vec![version],
        tls: Tls::SelfSigned,
        page_limit: Some(2),
        ..EmulatorConfig::default()
    })
    .await;
    server.put(manifests).await;
    server
}

async fn vboctl(server: &Server, args: &[&str], env: &[(String, String)]) -> Run {
    let mut command = server.vboctl();
    command.args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    execute(command).await
}

fn doc(name: &str, spec: &str) -> String {
    format!(
        "---\napiVersion: vboctl/v1\nkind: Organization\nmetadata:\n  name: {name}\nspec:\n{spec}"
    )
}

const ON_PREMISES: &str = "  type: OnPremises
  isExchange: true
  exchangeSettings:
    serverName: mail.contoso.local
    username: CONTOSO\\backup
    password: {fromEnv: X}
    useSSL: true
  isSharePoint: true
  sharePointSettings:
    serverName: sp.contoso.local
    serverPort: 5986
    username: CONTOSO\\sp
    password: {fromEnv: X}
";

const OFFICE365_BASIC: &str = "  type: Office365
  region: USGovernment
  isExchangeOnline: true
  exchangeOnlineSettings:
    account: admin@basic.onmicrosoft.com
    password: {fromEnv: X}
    grantAdminAccess: true
";

const HYBRID_V3: &str = "  type: Hybrid
  office365Settings:
    region: Germany
    username: admin@hybrid.onmicrosoft.com
    password: {fromEnv: X}
    grantImpersonation: true
  isExchange: true
  exchangeSettings:
    serverName: mail.hybrid.local
    username: HYBRID\\backup
    password: {fromEnv: X}
";

const OFFICE365_APP_ONLY: &str = "  type: Office365
  isExchangeOnline: true
  exchangeOnlineSettings:
    useApplicationOnlyAuth: true
    officeOrganizationName: app.onmicrosoft.com
    applicationId: 8f1c2a4e-5b6d-4e7f-9a0b-1c2d3e4f5a6b
    applicationCertificate: {fromEnv: X}
    applicationCertificatePassword: {fromEnv: X}
  isSharePointOnline: true
  sharePointOnlineSettings:
    useApplicationOnlyAuth: true
    officeOrganizationName: app.onmicrosoft.com
    applicationId: 8f1c2a4e-5b6d-4e7f-9a0b-1c2d3e4f5a6b
    applicationCertificate: {fromEnv: X}
    sharePointSaveAllWebParts: true
  isTeamsOnline: true
";

const HYBRID_V6: &str = "  type: Hybrid
  region: Worldwide
  isExchangeOnline: true
  exchangeOnlineSettings:
    useApplicationOnlyAuth: true
    officeOrganizationName: hybrid6.onmicrosoft.com
    applicationId: 8f1c2a4e-5b6d-4e7f-9a0b-1c2d3e4f5a6b
    applicationCertificate: {fromEnv: X}
  isSharePoint: true
  sharePointSettings:
    serverName: sp.hybrid6.local
    username: HYBRID6\\sp
    password: {fromEnv: X}
";

/// The manifests each version's server is given, in the form that version takes.
fn fleet(version: RestApiVersion) -> String {
    let mut all = doc("contoso.local", ON_PREMISES);
    if version == RestApiVersion::V3 {
        all += &doc("basic.onmicrosoft.com", OFFICE365_BASIC);
        all += &doc("hybrid.onmicrosoft.com", HYBRID_V3);
    } else {
        all += &doc("app.onmicrosoft.com", OFFICE365_APP_ONLY);
        all += &doc("hybrid6.onmicrosoft.com", HYBRID_V6);
        if version == RestApiVersion::V7 {
            all += &doc(
                "described.local",
                &format!("  description: \"Tier: gold, yes\"\n{ON_PREMISES}"),
            );
        }
    }
    all
}

/// The variables `secrets.env.example` lists, each with a value.
fn variables(example: &str) -> Vec<(String, String)> {
    example
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            (
                line.trim_end_matches('=').to_owned(),
                "any-value".to_owned(),
            )
        })
        .collect()
}

async fn round_trip(version: RestApiVersion) {
    let server = server_with(version, &fleet(version)).await;
    let exported = vboctl(&server, &["export", "--out", "tenants"], &[])
        .await
        .expect_code(0);
    let files: Vec<_> = std::fs::read_dir(server.path().join("tenants"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    let organizations = server.emulator.organizations().len();
    assert_eq!(files.len(), organizations + 1, "{files:?}");
    let mut everything = exported.stdout.clone() + &exported.stderr;
    for file in &files {
        everything += &std::fs::read_to_string(file).unwrap();
    }
    assert!(!everything.contains(SERVER_SIDE_SECRET), "{everything}");
    let example =
        std::fs::read_to_string(server.path().join("tenants/secrets.env.example")).unwrap();
    let env = variables(&example);

    let validated = vboctl(&server, &["validate", "tenants"], &[]).await;
    assert_eq!(
        validated.code, 0,
        "{}\n{}",
        validated.stdout, validated.stderr
    );
    // Strict validation finds nothing but the documented warnings that describe the server as
    // it is (here, connections without SSL, as the fleet has them), and no error at all.
    let strict = vboctl(
        &server,
        &["validate", "--strict", "--format", "json", "tenants"],
        &[],
    )
    .await;
    let problems: serde_json::Value = serde_json::from_str(&strict.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", strict.stdout, strict.stderr));
    for problem in problems.as_array().unwrap() {
        assert_eq!(problem["severity"], "warning", "{problem}");
        let message = problem["message"].as_str().unwrap();
        assert!(
            message.ends_with("connects without SSL: the connection is not encrypted"),
            "{version}: an undocumented warning: {problem}"
        );
    }
    if version >= RestApiVersion::V8 {
        // The tenant's id the server reports becomes the manifest's identity.
        let client = server.client().await;
        let mut tenants = 0;
        for organization in client.list().await.unwrap() {
            let Some(msid) = organization.msid else {
                continue;
            };
            tenants += 1;
            let file = files
                .iter()
                .find(|file| {
                    std::fs::read_to_string(file)
                        .unwrap()
                        .contains(&format!("name: {}\n", organization.name))
                })
                .unwrap_or_else(|| panic!("a file for {}", organization.name));
            let text = std::fs::read_to_string(file).unwrap();
            let written = text
                .lines()
                .find_map(|line| line.strip_prefix("  msid: "))
                .map(|value| value.trim_matches('"'));
            assert_eq!(written, Some(msid.as_str()), "{text}");
        }
        assert!(
            tenants >= 2,
            "the v8 fleet has Microsoft 365 tenants with an msid"
        );
    }
    let planned = vboctl(&server, &["plan", "tenants", "--detailed-exitcode"], &env).await;
    assert_eq!(
        planned.code, 0,
        "{version}: {}\n{}",
        planned.stdout, planned.stderr
    );
    assert!(!planned.stdout.contains("unmanaged"), "{}", planned.stdout);
    assert!(!(planned.stdout + &planned.stderr).contains(SERVER_SIDE_SECRET));
}

#[tokio::test]
async fn export_round_trips_in_v3() {
    round_trip(RestApiVersion::V3).await;
}

#[tokio::test]
async fn export_round_trips_in_v6() {
    round_trip(RestApiVersion::V6).await;
}

#[tokio::test]
async fn export_round_trips_in_v7() {
    round_trip(RestApiVersion::V7).await;
}

#[tokio::test]
async fn export_round_trips_in_v8() {
    round_trip(RestApiVersion::V8).await;
}

#[tokio::test]
async fn export_keeps_existing_files_unless_forced_and_filters() {
    let server = server_with(RestApiVersion::V3, &fleet(RestApiVersion::V3)).await;
    let only = vboctl(
        &server,
        &[
            "export",
            "--out",
            "t",
            "--name",
            "*.LOCAL",
            "--selector-type",
            "OnPremises",
        ],
        &[],
    )
    .await
    .expect_code(0);
    assert!(
        only.stdout.contains("wrote t/contoso.local.yaml"),
        "{}",
        only.stdout
    );
    assert!(!only.stdout.contains("basic"), "{}", only.stdout);
    std::fs::write(server.path().join("t/contoso.local.yaml"), "mine").unwrap();
    let again = vboctl(&server, &["export", "--out", "t"], &[])
        .await
        .expect_code(0);
    assert!(
        again
            .stdout
            .contains("skipped t/contoso.local.yaml (exists; --force overwrites)"),
        "{}",
        again.stdout
    );
    assert!(again.stdout.contains("wrote t/basic.onmicrosoft.com.yaml"));
    assert_eq!(
        std::fs::read_to_string(server.path().join("t/contoso.local.yaml")).unwrap(),
        "mine"
    );
    vboctl(&server, &["export", "--out", "t", "--force"], &[])
        .await
        .expect_code(0);
    assert!(
        std::fs::read_to_string(server.path().join("t/contoso.local.yaml"))
            .unwrap()
            .contains("mail.contoso.local")
    );
}

#[tokio::test]
async fn export_prints_one_stream_without_out() {
    let server = server_with(RestApiVersion::V3, &fleet(RestApiVersion::V3)).await;
    let run = vboctl(&server, &["export"], &[]).await.expect_code(0);
    assert!(
        run.stdout
            .starts_with("# yaml-language-server: $schema=https://"),
        "{}",
        run.stdout
    );
    assert_eq!(run.stdout.matches("\n---\n").count(), 2, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("{fromEnv: HYBRID_ONMICROSOFT_COM_O365_PASSWORD}")
    );
    assert!(!run.stdout.contains(SERVER_SIDE_SECRET));
    assert_eq!(
        std::fs::read_dir(server.path()).unwrap().count(),
        1,
        "only ca.pem"
    );
}

#[tokio::test]
async fn export_names_colliding_files_apart_and_lists_variables() {
    let server = server_with(
        RestApiVersion::V3,
        &(doc("Contoso Local", ON_PREMISES) + &doc("contoso-local", ON_PREMISES)),
    )
    .await;
    vboctl(&server, &["export", "--out", "."], &[])
        .await
        .expect_code(0);
    assert!(server.path().join("contoso-local.yaml").exists());
    assert!(server.path().join("contoso-local-2.yaml").exists());
    let example = std::fs::read_to_string(server.path().join("secrets.env.example")).unwrap();
    assert!(
        example.contains(
            "# Contoso Local: spec.exchangeSettings.password\nCONTOSO_LOCAL_EXCHANGE_PASSWORD=\n"
        ),
        "{example}"
    );
    assert!(example.contains(
        "# contoso-local: spec.sharePointSettings.password\nCONTOSO_LOCAL_2_SHAREPOINT_PASSWORD=\n"
    ), "{example}");
}
