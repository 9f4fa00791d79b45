//! `vboctl plan` and `vboctl show` against a real emulator: what users see, exit codes, TLS,
//! retries, token renewal, saved plans, and secrets kept out of every output.

use std::time::Duration;

use serde_json::{Value, json};
use vbo_emulator::{DEFAULT_USER, EmulatorConfig, Faults, Tls, User};

use crate::support::{Run, SERVER_SIDE_SECRET, Server, bare_vboctl, execute};

/// A manifest document for `name` with `spec` (YAML, indented as under `spec:`).
fn manifest(name: &str, spec: &str) -> String {
    let spec: String = spec
        .trim_matches('\n')
        .lines()
        .map(|line| format!("  {line}\n"))
        .collect();
    format!("apiVersion: vboctl/v1\nkind: Organization\nmetadata:\n  name: {name}\nspec:\n{spec}")
}

/// Several manifest documents in one file.
fn documents(manifests: &[String]) -> String {
    manifests.join("---\n")
}

const CONTOSO: &str = "
type: Office365
isExchangeOnline: true
exchangeOnlineSettings:
  account: backup@contoso.onmicrosoft.com
  password: {fromEnv: CONTOSO_EXO_PASSWORD}
  grantAdminAccess: true
isSharePointOnline: true
sharePointOnlineSettings:
  useMfa: true
  applicationId: 63baecf0-2624-45d0-9ece-de1db611dc98
  applicationSecret: {fromFile: secrets/contoso-app.txt}
";

const FABRIKAM: &str = r"
type: OnPremises
isExchange: true
exchangeSettings:
  serverName: mail.fabrikam.local
  username: FABRIKAM\backup
  password: {fromEnv: FABRIKAM_EXCHANGE_PASSWORD}
  useSSL: true
isSharePoint: true
sharePointSettings:
  serverName: sp.fabrikam.local
  serverPort: 5986
  username: FABRIKAM\backup
  password: {fromEnv: FABRIKAM_SHAREPOINT_PASSWORD}
  useSSL: true
";

/// FABRIKAM as the server has it: another Exchange server and the default SharePoint port.
const FABRIKAM_ON_SERVER: &str = r"
type: OnPremises
isExchange: true
exchangeSettings:
  serverName: exchange01.fabrikam.local
  username: FABRIKAM\backup
  password: {fromEnv: UNUSED}
  useSSL: true
isSharePoint: true
sharePointSettings:
  serverName: sp.fabrikam.local
  serverPort: 5985
  username: FABRIKAM\backup
  password: {fromEnv: UNUSED}
  useSSL: true
";

const LITWARE: &str = r"
type: Hybrid
office365Settings:
  username: backup@litware.onmicrosoft.com
  password: {fromEnv: LITWARE_O365_PASSWORD}
isExchange: true
exchangeSettings:
  serverName: mail.litware.example.com
  username: LITWARE\backup
  password: {fromEnv: LITWARE_EXCHANGE_PASSWORD}
  useSSL: true
";

const ADATUM: &str = "
type: Office365
isExchangeOnline: true
exchangeOnlineSettings:
  account: backup@adatum.onmicrosoft.com
  password: {fromEnv: UNUSED}
";

/// The secrets the estate's manifests read from the environment, and their values.
const ESTATE_SECRETS: &[(&str, &str)] = &[
    ("CONTOSO_EXO_PASSWORD", "Contoso-Exo-Value-1f3a"),
    ("FABRIKAM_EXCHANGE_PASSWORD", "Fabrikam-Exchange-Value-77c2"),
    (
        "FABRIKAM_SHAREPOINT_PASSWORD",
        "Fabrikam-SharePoint-Value-0b9d",
    ),
    ("LITWARE_O365_PASSWORD", "Litware-O365-Value-c4e8"),
    ("LITWARE_EXCHANGE_PASSWORD", "Litware-Exchange-Value-5a61"),
];

/// The value of the estate's file secret.
const CONTOSO_APP_SECRET: &str = "Contoso-App-File-Value-9e07";

/// A server and manifests with one of everything: contoso to create, fabrikam to update,
/// litware unchanged, adatum unmanaged.
async fn estate() -> Server {
    let server = Server::https().await;
    server
        .put(&documents(&[
            manifest("fabrikam.local", FABRIKAM_ON_SERVER),
            manifest("litware.example.com", LITWARE),
            manifest("adatum.onmicrosoft.com", ADATUM),
        ]))
        .await;
    server.write(
        "manifests/contoso.yaml",
        &manifest("contoso.onmicrosoft.com", CONTOSO),
    );
    server.write(
        "manifests/fabrikam.yaml",
        &manifest("fabrikam.local", FABRIKAM),
    );
    server.write(
        "manifests/litware.yaml",
        &manifest("litware.example.com", LITWARE),
    );
    server.write(
        "manifests/secrets/contoso-app.txt",
        &format!("{CONTOSO_APP_SECRET}\n"),
    );
    server
}

/// `vboctl ARGS` against the estate, with its secrets in the environment.
async fn plan_estate(server: &Server, args: &[&str]) -> Run {
    let mut command = server.vboctl();
    command.args(args);
    command.envs(ESTATE_SECRETS.iter().copied());
    execute(command).await
}

/// Since the test set the server up, nothing but logging in and listing reached it.
#[track_caller]
fn assert_read_only(server: &Server) {
    let (setup, now) = (server.setup_counts(), server.emulator.request_counts());
    let sent: Vec<_> = now
        .by_route
        .iter()
        .filter(|(route, count)| {
            !matches!(route.as_str(), "POST /v3/Token" | "GET /v3/Organizations")
                && setup.route(route) != **count
        })
        .collect();
    assert!(sent.is_empty(), "plan sent {sent:?}");
    assert_eq!(
        (now.created, now.updated, now.deleted),
        (setup.created, setup.updated, setup.deleted),
        "plan changed the server"
    );
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// The change for organization `name` in a plan document.
#[track_caller]
fn change<'a>(plan: &'a Value, name: &str) -> &'a Value {
    plan["changes"]
        .as_array()
        .expect("changes is an array")
        .iter()
        .find(|change| change["name"] == name)
        .unwrap_or_else(|| panic!("no change for {name} in {plan:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_creation_plan_shows_each_body_with_secret_references_and_writes_nothing() {
    let server = Server::https().await;
    server.write(
        "manifests/all.yaml",
        &documents(&[
            manifest("contoso.onmicrosoft.com", CONTOSO),
            manifest("fabrikam.local", FABRIKAM),
            manifest("litware.example.com", LITWARE),
        ]),
    );
    server.write("manifests/secrets/contoso-app.txt", CONTOSO_APP_SECRET);

    let run = plan_estate(&server, &["plan", "manifests"])
        .await
        .expect_code(0);

    for name in [
        "contoso.onmicrosoft.com",
        "fabrikam.local",
        "litware.example.com",
    ] {
        assert!(
            run.stdout
                .contains(&format!("  + organization[\"{name}\"] will be created\n")),
            "{name} is created:\n{}",
            run.stdout
        );
    }
    for line in [
        "exchangeOnlineSettings.password = (sensitive: env CONTOSO_EXO_PASSWORD)",
        "sharePointOnlineSettings.applicationSecret = (sensitive: file manifests/secrets/contoso-app.txt)",
        "sharePointSettings.serverPort = 5986",
        "office365Settings.password = (sensitive: env LITWARE_O365_PASSWORD)",
    ] {
        assert!(
            squeeze(&run.stdout).contains(line),
            "{line:?} in:\n{}",
            run.stdout
        );
    }
    assert!(
        run.stdout
            .ends_with("Plan: 3 to create, 0 to update, 0 to delete. 0 unchanged.\n"),
        "{}",
        run.stdout
    );
    let counts = server.emulator.request_counts();
    assert_eq!(counts.route("POST /v3/Token"), 1);
    assert_eq!(counts.route("GET /v3/Organizations"), 1);
    assert_read_only(&server);
    assert!(server.emulator.organizations().is_empty());
}

/// `text` with runs of spaces squeezed to one, so that aligned columns compare simply.
fn squeeze(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if !(c == ' ' && out.ends_with(' ')) {
            out.push(c);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_matches_the_manifests_plans_no_changes_whatever_its_secrets() {
    let server = Server::https().await;
    let all = documents(&[
        manifest("contoso.onmicrosoft.com", CONTOSO),
        manifest("fabrikam.local", FABRIKAM),
        manifest("litware.example.com", LITWARE),
    ]);
    // The server holds other secret values than the environment: write-only secrets are
    // never compared.
    server.put(&all).await;
    server.write("manifests/all.yaml", &all);
    server.write("manifests/secrets/contoso-app.txt", CONTOSO_APP_SECRET);

    let run = plan_estate(&server, &["plan", "manifests", "--detailed-exitcode"])
        .await
        .expect_code(0);
    assert_eq!(
        run.stdout.lines().last(),
        Some("No changes. The server matches the manifests: 3 unchanged."),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("will be"), "{}", run.stdout);

    let run = plan_estate(&server, &["plan", "manifests", "--format", "json"])
        .await
        .expect_code(0);
    let plan = json_of(&run.stdout);
    assert_eq!(
        plan["summary"],
        json!({"create": 0, "update": 0, "delete": 0, "no_op": 3})
    );
    for change in plan["changes"].as_array().unwrap() {
        assert_eq!(change["action"], "no-op", "{change:#}");
        assert_eq!(change["changed_fields"], json!([]), "{change:#}");
    }
    assert_read_only(&server);
}

/// One organization per kind of observable field, each differing from the server in that
/// field only: (name, on the server, in the manifest, expected changed fields).
fn drift_cases() -> Vec<(&'static str, Value, String, Value)> {
    let online = |account: &str, extra: Value| {
        let mut settings = json!({"account": account, "password": "x"});
        settings
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        settings
    };
    let office365 = |name: &str, settings: Value, region: &str| {
        json!({"type": "Office365", "name": name, "region": region,
               "isExchangeOnline": true, "exchangeOnlineSettings": settings})
    };
    let on_premises = |name: &str, port: u16, share_point: bool| {
        let mut body = json!({"type": "OnPremises", "name": name, "isExchange": true,
            "exchangeSettings": {"serverName": "mail.example.local", "username": "EX\\backup",
                                 "password": "x", "useSSL": true}});
        body["isSharePoint"] = json!(share_point);
        if share_point {
            body["sharePointSettings"] = json!({"serverName": "sp.example.local",
                "serverPort": port, "username": "EX\\backup", "password": "x", "useSSL": true});
        }
        body
    };
    let exo = |account: &str, extra: &str| {
        format!(
            "type: Office365\nregion: {{REGION}}\nisExchangeOnline: true\nexchangeOnlineSettings:\n  account: {account}\n  password: {{fromEnv: DRIFT_PASSWORD}}\n{extra}"
        )
    };
    let on_prem_manifest = |port: Option<u16>| {
        let mut spec = "type: OnPremises\nisExchange: true\nexchangeSettings:\n  serverName: mail.example.local\n  username: EX\\backup\n  password: {fromEnv: DRIFT_PASSWORD}\n  useSSL: true\n".to_owned();
        if let Some(port) = port {
            spec.push_str(&format!("isSharePoint: true\nsharePointSettings:\n  serverName: sp.example.local\n  serverPort: {port}\n  username: EX\\backup\n  password: {{fromEnv: DRIFT_PASSWORD}}\n  useSSL: true\n"));
        }
        spec
    };
    vec![
        (
            "flag.onmicrosoft.com",
            office365(
                "flag.onmicrosoft.com",
                online("backup@flag.onmicrosoft.com", json!({})),
                "Worldwide",
            ),
            exo("backup@flag.onmicrosoft.com", "  grantAdminAccess: true\n")
                .replace("{REGION}", "Worldwide"),
            json!([{"path": "exchangeOnlineSettings.grantAdminAccess", "before": false, "after": true}]),
        ),
        (
            "text.onmicrosoft.com",
            office365(
                "text.onmicrosoft.com",
                online("admin@text.onmicrosoft.com", json!({})),
                "Worldwide",
            ),
            exo("backup@text.onmicrosoft.com", "").replace("{REGION}", "Worldwide"),
            json!([{"path": "exchangeOnlineSettings.account",
                    "before": "admin@text.onmicrosoft.com", "after": "backup@text.onmicrosoft.com"}]),
        ),
        (
            "region.onmicrosoft.com",
            office365(
                "region.onmicrosoft.com",
                online("backup@region.onmicrosoft.com", json!({})),
                "Worldwide",
            ),
            exo("backup@region.onmicrosoft.com", "").replace("{REGION}", "Germany"),
            json!([{"path": "region", "before": "Worldwide", "after": "Germany"}]),
        ),
        (
            "port.example.local",
            on_premises("port.example.local", 5985, true),
            on_prem_manifest(Some(5986)),
            json!([{"path": "sharePointSettings.serverPort", "before": 5985, "after": 5986}]),
        ),
        (
            "removed.example.local",
            on_premises("removed.example.local", 5985, true),
            on_prem_manifest(None),
            json!([
                {"path": "isSharePoint", "before": true, "after": false},
                {"path": "sharePointSettings", "before": {
                    "grantAccessToSiteCollections": false, "grantImpersonation": false,
                    "serverName": "sp.example.local", "serverPort": 5985,
                    "skipCAverification": false, "skipCommonNameVerification": false,
                    "skipRevocationCheck": false, "useSSL": true, "username": "EX\\backup"},
                 "after": null},
            ]),
        ),
        (
            "added.example.local",
            on_premises("added.example.local", 5985, false),
            on_prem_manifest(Some(5985)),
            json!([
                {"path": "isSharePoint", "before": false, "after": true},
                {"path": "sharePointSettings", "before": null, "after": {
                    "grantAccessToSiteCollections": false, "grantImpersonation": false,
                    "serverName": "sp.example.local", "serverPort": 5985,
                    "skipCAverification": false, "skipCommonNameVerification": false,
                    "skipRevocationCheck": false, "useSSL": true, "username": "EX\\backup"}},
            ]),
        ),
        (
            "server-only.onmicrosoft.com",
            office365(
                "server-only.onmicrosoft.com",
                online(
                    "backup@server-only.onmicrosoft.com",
                    json!({"applicationId": "0f9e8d7c-6b5a-4c3d-9e1f-0a9b8c7d6e5f"}),
                ),
                "Worldwide",
            ),
            exo("backup@server-only.onmicrosoft.com", "").replace("{REGION}", "Worldwide"),
            json!([{"path": "exchangeOnlineSettings.applicationId",
                    "before": "0f9e8d7c-6b5a-4c3d-9e1f-0a9b8c7d6e5f", "after": null}]),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_in_each_kind_of_observable_field_is_an_update_of_that_field_only() {
    let server = Server::https().await;
    let cases = drift_cases();
    let bodies: Vec<Value> = cases.iter().map(|(_, body, ..)| body.clone()).collect();
    server.put_json(&bodies).await;
    let manifests: Vec<String> = cases
        .iter()
        .map(|(name, _, spec, _)| manifest(name, spec))
        .collect();
    server.write("drift.yaml", &documents(&manifests));

    let mut command = server.vboctl();
    command
        .args(["plan", "drift.yaml", "--format", "json"])
        .env("DRIFT_PASSWORD", "another value than the server's");
    let run = execute(command).await.expect_code(0);
    let plan = json_of(&run.stdout);
    for (name, _, _, expected) in &cases {
        let change = change(&plan, name);
        assert_eq!(change["action"], "update", "{name}: {change:#}");
        assert_eq!(&change["changed_fields"], expected, "{name}");
    }
    assert_eq!(plan["summary"]["update"], cases.len());

    let mut command = server.vboctl();
    command
        .args(["plan", "drift.yaml"])
        .env("DRIFT_PASSWORD", "another value than the server's");
    let text = execute(command).await.expect_code(0).stdout;
    for line in [
        "      exchangeOnlineSettings.grantAdminAccess: false -> true\n",
        "      exchangeOnlineSettings.account: \"admin@text.onmicrosoft.com\" -> \"backup@text.onmicrosoft.com\"\n",
        "      region: \"Worldwide\" -> \"Germany\"\n",
        "      sharePointSettings.serverPort: 5985 -> 5986\n",
        "      exchangeOnlineSettings.applicationId: \"0f9e8d7c-6b5a-4c3d-9e1f-0a9b8c7d6e5f\" -> (not set)\n",
        "      isSharePoint: false -> true\n",
        "        +   \"serverPort\": 5985,\n",
        "        -   \"serverPort\": 5985,\n",
        "        exchangeOnlineSettings.password = (sensitive: env DRIFT_PASSWORD)\n",
    ] {
        assert!(text.contains(line), "{line:?} in:\n{text}");
    }
    assert!(
        text.ends_with("Plan: 0 to create, 7 to update, 0 to delete. 0 unchanged.\n"),
        "{text}"
    );
    assert_read_only(&server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizations_in_no_manifest_are_unmanaged_and_deleted_only_with_prune() {
    let server = Server::https().await;
    server
        .put(&documents(&[
            manifest("litware.example.com", LITWARE),
            manifest("adatum.onmicrosoft.com", ADATUM),
            manifest("fabrikam.local", FABRIKAM_ON_SERVER),
        ]))
        .await;
    server.write("litware.yaml", &manifest("litware.example.com", LITWARE));
    let ids: std::collections::BTreeMap<String, String> = server
        .emulator
        .organizations()
        .into_iter()
        .map(|org| (org.name, org.id))
        .collect();

    let run = plan_estate(&server, &["plan", "litware.yaml", "--detailed-exitcode"])
        .await
        .expect_code(0);
    assert!(
        run.stdout.contains(&format!(
            "Unmanaged: on the server but in no manifest, left alone:\n    \"adatum.onmicrosoft.com\" (Office365; id {})\n    \"fabrikam.local\" (OnPremises; id {})\n",
            ids["adatum.onmicrosoft.com"], ids["fabrikam.local"]
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.ends_with(
            "No changes. The server matches the manifests: 1 unchanged, 2 unmanaged (not in manifests; --prune would delete them).\n"
        ),
        "{}",
        run.stdout
    );

    let run = plan_estate(&server, &["plan", "litware.yaml", "--format", "json"])
        .await
        .expect_code(0);
    let plan = json_of(&run.stdout);
    assert_eq!(
        plan["unmanaged"],
        json!([
            {"id": ids["adatum.onmicrosoft.com"], "name": "adatum.onmicrosoft.com", "type": "Office365"},
            {"id": ids["fabrikam.local"], "name": "fabrikam.local", "type": "OnPremises"},
        ])
    );
    assert_eq!(plan["summary"]["delete"], 0);

    let run = plan_estate(
        &server,
        &["plan", "litware.yaml", "--prune", "--detailed-exitcode"],
    )
    .await
    .expect_code(2);
    for name in ["adatum.onmicrosoft.com", "fabrikam.local"] {
        assert!(
            run.stdout
                .contains(&format!("  - organization[\"{name}\"] will be deleted\n")),
            "{}",
            run.stdout
        );
    }
    assert!(!run.stdout.contains("Unmanaged"), "{}", run.stdout);
    assert!(
        run.stdout
            .ends_with("Plan: 0 to create, 0 to update, 2 to delete. 1 unchanged.\n"),
        "{}",
        run.stdout
    );

    let run = plan_estate(
        &server,
        &["plan", "litware.yaml", "--prune", "--format", "json"],
    )
    .await
    .expect_code(0);
    let plan = json_of(&run.stdout);
    assert_eq!(plan["unmanaged"], json!([]));
    assert_eq!(change(&plan, "fabrikam.local")["action"], "delete");
    assert_eq!(change(&plan, "fabrikam.local")["after"], Value::Null);
    assert_eq!(
        change(&plan, "fabrikam.local")["id"],
        ids["fabrikam.local"].as_str()
    );
    // Pruning with no manifests at all would delete everything: refused before any request
    // unless asked for in so many words.
    server.write("none/empty.yaml", "");
    let before = server.emulator.request_counts();
    let run = plan_estate(&server, &["plan", "none", "--prune"])
        .await
        .expect_code(1);
    assert!(
        run.stderr.starts_with(
            "error: refusing to prune with no manifests: every organization on the server would be deleted\n"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(server.emulator.request_counts(), before);
    let run = plan_estate(&server, &["plan", "none", "--prune", "--allow-empty"])
        .await
        .expect_code(0);
    assert!(
        run.stdout
            .ends_with("Plan: 0 to create, 0 to update, 3 to delete. 0 unchanged.\n"),
        "{}",
        run.stdout
    );

    assert_read_only(&server);
    assert_eq!(server.emulator.organizations().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_type_change_is_an_error_naming_the_organization_and_nothing_is_saved() {
    let server = Server::https().await;
    server
        .put(&manifest(
            "litware.example.com",
            "type: Office365\nisExchangeOnline: true\nexchangeOnlineSettings:\n  account: backup@litware.onmicrosoft.com\n  password: {fromEnv: UNUSED}\n",
        ))
        .await;
    server.write("litware.yaml", &manifest("litware.example.com", LITWARE));

    let run = plan_estate(
        &server,
        &[
            "plan",
            "litware.yaml",
            "--detailed-exitcode",
            "--out",
            "plan.json",
        ],
    )
    .await
    .expect_code(1);
    assert!(
        run.stdout.contains(
            "error: organization \"litware.example.com\" is Office365 on the server but Hybrid in the manifest at litware.yaml:4:9: the type of an organization cannot be changed in place\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("error: 1 organization could not be planned"),
        "{}",
        run.stderr
    );
    assert!(
        !server.path().join("plan.json").exists(),
        "a plan with errors is not saved for apply:\n{}",
        run.stderr
    );
    assert!(!run.stderr.contains("Saved the plan"), "{}", run.stderr);

    let run = plan_estate(&server, &["plan", "litware.yaml", "--format", "json"])
        .await
        .expect_code(1);
    let plan = json_of(&run.stdout);
    assert_eq!(plan["errors"][0]["kind"], "type-change");
    assert_eq!(plan["errors"][0]["name"], "litware.example.com");
    assert_eq!(plan["changes"], json!([]));
    assert_read_only(&server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_secret_fails_before_any_request_naming_organization_field_and_source() {
    let server = Server::https().await;
    server.write(
        "tenants.yaml",
        &documents(&[
            manifest(
                "contoso.onmicrosoft.com",
                &CONTOSO.replace("CONTOSO_EXO_PASSWORD", "VBOCTL_TEST_UNSET_VARIABLE"),
            ),
            manifest("litware.example.com", LITWARE),
        ]),
    );

    let run = plan_estate(&server, &["plan", "tenants.yaml"])
        .await
        .expect_code(1);
    assert_eq!(
        server.emulator.request_counts().by_route,
        Default::default(),
        "nothing reached the server"
    );
    assert_eq!(run.stdout, "");
    for expected in [
        "error: 2 secrets cannot be read; nothing was sent to the server:\n",
        "  contoso.onmicrosoft.com (tenants.yaml:4:9): spec.exchangeOnlineSettings.password: environment variable VBOCTL_TEST_UNSET_VARIABLE is not set\n",
        "  contoso.onmicrosoft.com (tenants.yaml:4:9): spec.sharePointOnlineSettings.applicationSecret: ",
        "secrets/contoso-app.txt",
        "  hint: set the environment variables or create the files the manifests name\n",
    ] {
        assert!(
            run.stderr.contains(expected),
            "{expected:?} in:\n{}",
            run.stderr
        );
    }
    assert!(!run.stderr.contains("litware"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_a_clear_error_that_does_not_repeat_it() {
    let server = Server::https().await;
    server.write("litware.yaml", &manifest("litware.example.com", LITWARE));
    let mut command = server.vboctl();
    command
        .args(["plan", "litware.yaml"])
        .envs(ESTATE_SECRETS.iter().copied())
        .env("VBOCTL_PASSWORD", "Wrong-Password-e41a")
        .env("RUST_LOG", "trace");
    let run = execute(command).await.expect_code(1);
    assert_eq!(run.stdout, "");
    let messages: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.starts_with("error:") || line.starts_with("  hint:"))
        .collect();
    assert_eq!(
        messages,
        [
            "error: the server rejected the username or password for admin",
            "  hint: check --username (VBOCTL_USERNAME) and the password (VBOCTL_PASSWORD)",
        ],
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("Wrong-Password-e41a"),
        "{}",
        run.stderr
    );
    let counts = server.emulator.request_counts();
    assert_eq!(
        counts.route("POST /v3/Token"),
        1,
        "a refusal is not retried"
    );
    assert_eq!(counts.route("GET /v3/Organizations"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_options_after_the_subcommand_reach_a_server_with_its_own_certificate() {
    let server = Server::https().await;
    server.write("litware.yaml", &manifest("litware.example.com", LITWARE));
    let mut command = bare_vboctl(server.path());
    command
        .args([
            "plan",
            "litware.yaml",
            "--ca-cert",
            "ca.pem",
            "--server",
            &format!("{}/v3", server.emulator.base_url()),
            "--username",
            DEFAULT_USER,
        ])
        .env("VBOCTL_PASSWORD", vbo_emulator::DEFAULT_PASSWORD)
        .envs(ESTATE_SECRETS.iter().copied());
    let run = execute(command).await.expect_code(0);
    assert!(
        run.stdout
            .starts_with(&format!("Server: {}/v3\n", server.emulator.base_url())),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("  + organization[\"litware.example.com\"] will be created\n"),
        "{}",
        run.stdout
    );
    assert_eq!(run.stderr, "", "a verified connection warns of nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unverifiable_certificate_fails_with_a_hint_at_ca_cert() {
    let server = Server::https().await;
    server.write("litware.yaml", &manifest("litware.example.com", LITWARE));
    let mut command = server.vboctl();
    command
        .args(["plan", "litware.yaml"])
        .env_remove("VBOCTL_CA_CERT")
        .envs(ESTATE_SECRETS.iter().copied());
    let run = execute(command).await.expect_code(1);
    assert_eq!(run.stdout, "");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "only the error and its hint:\n{}",
        run.stderr
    );
    assert_eq!(
        lines[0],
        format!(
            "error: cannot verify the TLS certificate of {}/v3: it is not signed by a certificate authority this machine trusts",
            server.emulator.base_url()
        )
    );
    assert!(
        lines[1].starts_with("  hint: ") && lines[1].contains("--ca-cert FILE"),
        "{}",
        lines[1]
    );
    assert_eq!(
        server.emulator.request_counts().by_route,
        Default::default(),
        "no request got through"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_connections_warn_on_every_run() {
    const WARNING: &str = "warning: TLS certificate verification is off (--insecure): anyone on the network path can read your credentials\n";
    let server = Server::https().await;
    server.write("litware.yaml", &manifest("litware.example.com", LITWARE));
    for by_variable in [false, false, true] {
        let mut command = server.vboctl();
        command
            .args(["plan", "litware.yaml"])
            .env_remove("VBOCTL_CA_CERT")
            .envs(ESTATE_SECRETS.iter().copied());
        if by_variable {
            command.env("VBOCTL_INSECURE", "1");
        } else {
            command.arg("--insecure");
        }
        let run = execute(command).await.expect_code(0);
        assert_eq!(run.stderr, WARNING);
        assert!(run.stdout.contains("will be created"), "{}", run.stdout);
    }
    assert_eq!(
        server
            .emulator
            .request_counts()
            .route("GET /v3/Organizations"),
        3
    );

    let http = Server::start(EmulatorConfig::default()).await;
    http.write("litware.yaml", &manifest("litware.example.com", LITWARE));
    let run = plan_estate(&http, &["plan", "litware.yaml"])
        .await
        .expect_code(0);
    assert_eq!(
        run.stderr,
        "warning: the server URL is http://: the password travels unencrypted; use this only for a local emulator\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_retried_through_unavailable_and_throttled_answers() {
    // With this seed the first list is answered 503, the second 429 (Retry-After: 1), and
    // the third gets through.
    let server = Server::start(EmulatorConfig {
        tls: Tls::SelfSigned,
        faults: Faults {
            error_rate: 0.3,
            throttle_rate: 0.3,
            seed: Some(29),
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    server.write("litware.yaml", &manifest("litware.example.com", LITWARE));
    let mut command = server.vboctl();
    command
        .args(["plan", "litware.yaml"])
        .envs(ESTATE_SECRETS.iter().copied())
        .env("RUST_LOG", "vbo_client=debug");
    let run = execute(command).await.expect_code(0);
    assert!(
        run.stdout.contains("will be created"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    let counts = server.emulator.request_counts();
    assert_eq!(counts.faults.errors, 1, "{counts:?}");
    assert_eq!(counts.faults.throttles, 1, "{counts:?}");
    assert_eq!(counts.route("GET /v3/Organizations"), 3, "{counts:?}");
    assert!(
        run.stderr.contains("GET /v3/Organizations -> 503")
            && run.stderr.contains("GET /v3/Organizations -> 429")
            && run.stderr.contains("GET /v3/Organizations -> 200"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_token_that_expires_mid_run_is_refreshed_and_the_request_sent_again() {
    // Tokens live one second. With this seed the emulator delays the login 0.16 s, the first
    // list 1.5 s (so the token has expired when it is checked), the refresh 0.15 s and the
    // second list 0.09 s.
    let server = Server::start(EmulatorConfig {
        tls: Tls::SelfSigned,
        token_ttl: Duration::from_secs(1),
        faults: Faults {
            latency: Some(Duration::ZERO..=Duration::from_millis(1500)),
            seed: Some(362),
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    server.write("litware.yaml", &manifest("litware.example.com", LITWARE));
    let mut command = server.vboctl();
    command
        .args(["plan", "litware.yaml"])
        .envs(ESTATE_SECRETS.iter().copied())
        .env("RUST_LOG", "trace");
    let run = execute(command).await.expect_code(0);
    assert!(run.stdout.contains("will be created"), "{}", run.stdout);
    let counts = server.emulator.request_counts();
    assert_eq!(counts.route("POST /v3/Token"), 2, "{counts:?}");
    assert_eq!(counts.route("GET /v3/Organizations"), 2, "{counts:?}");
    for expected in [
        "GET /v3/Organizations -> 401",
        "access token refreshed",
        "GET /v3/Organizations -> 200",
    ] {
        assert!(
            run.stderr.contains(expected),
            "{expected:?} in:\n{}",
            run.stderr
        );
    }
    assert_no_token(&run.stderr);
}

/// Fails when `text` shows an access or refresh token, or the header that carries one.
#[track_caller]
fn assert_no_token(text: &str) {
    for marker in ["access_token", "refresh_token", "Bearer ", "bearer "] {
        assert!(!text.contains(marker), "{marker:?} in:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detailed_exitcode_is_two_for_changes_zero_for_none_and_one_for_errors() {
    let server = Server::https().await;
    server
        .put(&manifest("adatum.onmicrosoft.com", ADATUM))
        .await;
    server.write("litware.yaml", &manifest("litware.example.com", LITWARE));

    plan_estate(&server, &["plan", "litware.yaml", "--detailed-exitcode"])
        .await
        .expect_code(2);
    // Without the flag, changes are a success.
    plan_estate(&server, &["plan", "litware.yaml"])
        .await
        .expect_code(0);

    // Once litware exists, only the unmanaged adatum remains: that is not a change.
    server.put(&manifest("litware.example.com", LITWARE)).await;
    let run = plan_estate(&server, &["plan", "litware.yaml", "--detailed-exitcode"])
        .await
        .expect_code(0);
    assert!(run.stdout.contains("1 unmanaged"), "{}", run.stdout);

    // Errors are 1, with or without changes.
    let mut command = server.vboctl();
    command
        .args(["plan", "litware.yaml", "--detailed-exitcode"])
        .envs(ESTATE_SECRETS.iter().copied())
        .env("VBOCTL_PASSWORD", "not the password");
    execute(command).await.expect_code(1);
    server.write(
        "invalid.yaml",
        "apiVersion: vboctl/v1\nkind: Organization\nmetadata: {name: x}\nspec: {type: Nothing}\n",
    );
    let before = server.emulator.request_counts();
    let run = plan_estate(&server, &["plan", "invalid.yaml", "--detailed-exitcode"])
        .await
        .expect_code(1);
    assert!(
        run.stderr.contains("nothing was sent to the server"),
        "{}",
        run.stderr
    );
    assert_eq!(
        server.emulator.request_counts(),
        before,
        "invalid manifests stop before the server"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renderings_of_a_plan_with_every_kind_of_change() {
    let server = estate().await;
    let settings = server.snapshot_settings();
    let text = plan_estate(&server, &["plan", "manifests"])
        .await
        .expect_code(0)
        .stdout;
    let markdown = plan_estate(&server, &["plan", "manifests", "--format", "markdown"])
        .await
        .expect_code(0)
        .stdout;
    let json = plan_estate(&server, &["plan", "manifests", "--format", "json"])
        .await
        .expect_code(0)
        .stdout;
    settings.bind(|| {
        insta::assert_snapshot!("estate_text", text);
        insta::assert_snapshot!("estate_markdown", markdown);
        insta::assert_snapshot!("estate_json", json);
    });

    let plan = json_of(&json);
    let mut keys: Vec<&String> = plan.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "changes",
            "errors",
            "format_version",
            "server",
            "summary",
            "unmanaged"
        ]
    );
    for change in plan["changes"].as_array().unwrap() {
        for key in [
            "address",
            "name",
            "action",
            "before",
            "after",
            "changed_fields",
        ] {
            assert!(change.get(key).is_some(), "{key} in {change:#}");
        }
    }
    assert_eq!(
        plan["summary"],
        json!({"create": 1, "update": 1, "delete": 0, "no_op": 1})
    );
    assert_read_only(&server);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_is_private_and_show_renders_it_as_plan_did() {
    use std::os::unix::fs::PermissionsExt;

    let server = estate().await;
    for format in ["text", "json", "markdown"] {
        let planned = plan_estate(
            &server,
            &[
                "plan",
                "manifests",
                "--format",
                format,
                "--out",
                "plan.json",
            ],
        )
        .await
        .expect_code(0);
        assert_eq!(
            planned.stderr,
            "Saved the plan to plan.json. Apply it with: vboctl apply --plan plan.json\n"
        );
        let mode = std::fs::metadata(server.path().join("plan.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{format}: mode {mode:o}");

        // show needs neither a server nor secrets.
        let mut command = bare_vboctl(server.path());
        command.args(["show", "plan.json", "--format", format]);
        let shown = execute(command).await.expect_code(0);
        assert_eq!(shown.stdout, planned.stdout, "{format}");
        assert_eq!(shown.stderr, "");
    }

    let saved = json_of(&std::fs::read_to_string(server.path().join("plan.json")).unwrap());
    assert_eq!(
        saved["server"],
        format!("{}/v3", server.emulator.base_url())
    );
    let contoso = saved["desired"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "contoso.onmicrosoft.com")
        .expect("contoso's manifest is saved");
    assert_eq!(
        contoso["spec"]["exchangeOnlineSettings"]["password"],
        json!({"fromEnv": "CONTOSO_EXO_PASSWORD"})
    );
    assert_eq!(
        saved["fingerprints"]["organizations"]
            .as_object()
            .unwrap()
            .len(),
        3,
        "every observed organization is fingerprinted"
    );

    let run = plan_estate(&server, &["plan", "manifests", "--out", "manifests"])
        .await
        .expect_code(1);
    assert_eq!(
        run.stderr,
        "error: cannot save the plan to manifests: it is a folder
  hint: give a file name, for example --out plan.json
"
    );

    let mut command = bare_vboctl(server.path());
    command.args(["show", "manifests/contoso.yaml"]);
    let run = execute(command).await.expect_code(1);
    assert!(
        run.stderr
            .contains("error: manifests/contoso.yaml is not a usable saved plan"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saving_a_plan_is_refused_when_a_manifest_holds_a_literal_secret() {
    let server = Server::https().await;
    server.write(
        "tenants.yaml",
        &documents(&[
            manifest(
                "contoso.onmicrosoft.com",
                &CONTOSO.replace(
                    "{fromEnv: CONTOSO_EXO_PASSWORD}",
                    "Literal-Password-Not-Saved-3c",
                ),
            ),
            manifest("litware.example.com", LITWARE),
        ]),
    );
    server.write("secrets/contoso-app.txt", CONTOSO_APP_SECRET);

    let run = plan_estate(&server, &["plan", "tenants.yaml", "--out", "plan.json"])
        .await
        .expect_code(1);
    assert!(
        run.stderr.contains(
            "error: cannot save the plan: a saved plan holds secret references, never values, and these secrets are written in the manifests:\n  contoso.onmicrosoft.com (tenants.yaml:4:9): spec.exchangeOnlineSettings.password\n"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("hint: use {fromEnv: VAR} or {fromFile: path}"),
        "{}",
        run.stderr
    );
    assert!(!server.path().join("plan.json").exists());
    let everything = format!("{}{}", run.stdout, run.stderr);
    assert!(
        !everything.contains("Literal-Password-Not-Saved-3c"),
        "{everything}"
    );

    // Without --out the same manifests plan, showing the literal as sensitive.
    let run = plan_estate(&server, &["plan", "tenants.yaml"])
        .await
        .expect_code(0);
    assert!(
        squeeze(&run.stdout)
            .contains("exchangeOnlineSettings.password = (sensitive: literal in manifest)"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("Literal-Password-Not-Saved-3c")
            && !run.stderr.contains("Literal-Password-Not-Saved-3c")
    );
    assert_read_only(&server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_and_schema_ignore_the_connection_variables() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("litware.yaml"),
        manifest("litware.example.com", LITWARE),
    )
    .unwrap();
    for args in [&["validate", "litware.yaml"][..], &["schema"][..]] {
        let mut command = bare_vboctl(dir.path());
        command
            .args(args)
            .env("VBOCTL_SERVER", "not a server :// at all")
            .env("VBOCTL_USERNAME", "")
            .env("VBOCTL_PASSWORD", "")
            .env("VBOCTL_CA_CERT", "/nonexistent/ca.pem")
            .env("VBOCTL_INSECURE", "perhaps");
        let run = execute(command).await.expect_code(0);
        assert_eq!(run.stderr, "", "{args:?}");
        assert!(!run.stdout.is_empty(), "{args:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_or_token_reaches_any_output_even_at_trace_level() {
    const LOGIN_PASSWORD: &str = "Leak-Login-Password-c2f7";
    const ENV_SECRET: &str = "Leak-Env-Secret-5b8e";
    const FILE_SECRET: &str = "Leak-File-Secret-93ad";
    let server = Server::start(EmulatorConfig {
        users: vec![User::new(DEFAULT_USER, LOGIN_PASSWORD)],
        ..EmulatorConfig::default()
    })
    .await;
    server.write(
        "tenants.yaml",
        &documents(&[
            // A create and an update, each with a secret from the environment and one from a
            // file.
            manifest(
                "contoso.onmicrosoft.com",
                &CONTOSO.replace("CONTOSO_EXO_PASSWORD", "LEAK_SECRET"),
            ),
            manifest(
                "fabrikam.local",
                &FABRIKAM
                    .replace("FABRIKAM_EXCHANGE_PASSWORD", "LEAK_SECRET")
                    .replace(
                        "{fromEnv: FABRIKAM_SHAREPOINT_PASSWORD}",
                        "{fromFile: secrets/contoso-app.txt}",
                    ),
            ),
        ]),
    );
    server.write("secrets/contoso-app.txt", &format!("{FILE_SECRET}\n"));
    // The server's own copy of fabrikam, with another Exchange server.
    server
        .put_json(&[
            json!({"type": "OnPremises", "name": "fabrikam.local", "isExchange": true,
            "exchangeSettings": {"serverName": "old.fabrikam.local", "username": "FABRIKAM\\backup",
                                 "password": SERVER_SIDE_SECRET}}),
        ])
        .await;

    let mut outputs = Vec::new();
    for format in ["text", "json", "markdown"] {
        let mut command = server.vboctl();
        command
            .args([
                "plan",
                "tenants.yaml",
                "--format",
                format,
                "--out",
                "plan.json",
            ])
            .env("LEAK_SECRET", ENV_SECRET)
            .env("RUST_LOG", "trace");
        let run = execute(command).await.expect_code(0);
        assert!(
            run.stderr.contains("TRACE"),
            "trace logging is on:\n{}",
            run.stderr
        );
        outputs.push((format!("{format} stdout"), run.stdout));
        outputs.push((format!("{format} stderr"), run.stderr));
        outputs.push((
            format!("{format} saved plan"),
            std::fs::read_to_string(server.path().join("plan.json")).unwrap(),
        ));
    }
    assert!(
        outputs[0].1.contains("will be created") && outputs[0].1.contains("will be updated"),
        "{}",
        outputs[0].1
    );
    for (what, text) in &outputs {
        for secret in [LOGIN_PASSWORD, ENV_SECRET, FILE_SECRET, SERVER_SIDE_SECRET] {
            assert!(!text.contains(secret), "{secret} in {what}:\n{text}");
        }
        assert_no_token(text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_not_there_is_reported_at_once_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("litware.yaml"),
        manifest("litware.example.com", LITWARE),
    )
    .unwrap();
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = bare_vboctl(dir.path());
    command
        .args(["plan", "litware.yaml", "--server"])
        .arg(format!("https://127.0.0.1:{port}"))
        .args(["--username", DEFAULT_USER])
        .env("VBOCTL_PASSWORD", "irrelevant")
        .envs(ESTATE_SECRETS.iter().copied());
    let started = std::time::Instant::now();
    let run = execute(command).await.expect_code(1);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a refused connection is not retried at login: {:?}",
        started.elapsed()
    );
    assert!(
        run.stderr.starts_with(&format!(
            "error: cannot connect to https://127.0.0.1:{port}/v3: "
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .ends_with("  hint: check --server (VBOCTL_SERVER) and that the server is reachable\n"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_url_with_credentials_is_refused_without_showing_them() {
    let server = Server::https().await;
    server.write("litware.yaml", &manifest("litware.example.com", LITWARE));
    let with_credentials = server
        .emulator
        .base_url()
        .replace("https://", "https://admin:Url-Password-77@");
    let mut command = server.vboctl();
    command
        .args(["plan", "litware.yaml"])
        .env("VBOCTL_SERVER", &with_credentials)
        .envs(ESTATE_SECRETS.iter().copied());
    let run = execute(command).await.expect_code(1);
    assert!(
        run.stderr.starts_with(&format!(
            "error: invalid server URL \"https://***@{}\": it must not hold a user name or password",
            server.emulator.local_addr()
        )),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("Url-Password-77"), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(
        server.emulator.request_counts().by_route,
        Default::default()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_comes_from_the_environment_a_file_or_standard_input() {
    use std::io::Write;
    use std::process::Stdio;

    let server = Server::https().await;
    server.write("litware.yaml", &manifest("litware.example.com", LITWARE));
    let password = vbo_emulator::DEFAULT_PASSWORD;
    server.write("password.txt", &format!("{password}\n"));

    let mut command = server.vboctl();
    command
        .args(["plan", "litware.yaml", "--password-file", "password.txt"])
        .env_remove("VBOCTL_PASSWORD")
        .envs(ESTATE_SECRETS.iter().copied());
    execute(command).await.expect_code(0);

    let mut command = server.vboctl();
    command
        .args(["plan", "litware.yaml", "--password-stdin"])
        .env_remove("VBOCTL_PASSWORD")
        .envs(ESTATE_SECRETS.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let mut command = server.vboctl();
    command
        .args(["plan", "litware.yaml"])
        .env_remove("VBOCTL_PASSWORD")
        .envs(ESTATE_SECRETS.iter().copied());
    let run = execute(command).await.expect_code(1);
    assert_eq!(
        run.stderr,
        "error: no password given\n  hint: set VBOCTL_PASSWORD, or pass --password-stdin or --password-file FILE\n"
    );
    assert_eq!(server.emulator.request_counts().route("POST /v3/Token"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blank_connection_variables_count_as_unset() {
    let server = Server::https().await;
    server.write("litware.yaml", &manifest("litware.example.com", LITWARE));

    let mut command = server.vboctl();
    command
        .args(["plan", "litware.yaml", "--insecure"])
        .env("VBOCTL_CA_CERT", "")
        .envs(ESTATE_SECRETS.iter().copied());
    let run = execute(command).await.expect_code(0);
    assert!(run.stdout.contains("will be created"), "{}", run.stdout);

    for (variable, expected) in [
        (
            "VBOCTL_USERNAME",
            "error: no username given\n  hint: pass --username USER or set VBOCTL_USERNAME\n",
        ),
        (
            "VBOCTL_SERVER",
            "error: no server given\n  hint: pass --server URL or set VBOCTL_SERVER\n",
        ),
    ] {
        let mut command = server.vboctl();
        command
            .args(["plan", "litware.yaml"])
            .env(variable, "")
            .envs(ESTATE_SECRETS.iter().copied());
        let run = execute(command).await.expect_code(1);
        assert_eq!(run.stderr, expected, "{variable}");
    }
    assert_eq!(server.emulator.request_counts().route("POST /v3/Token"), 1);
}
