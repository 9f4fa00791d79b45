//! `vboctl plan` and `vboctl show` against a real emulator: what users see, exit codes, TLS,
//! retries, token renewal, saved plans, and secrets kept out of every output.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use vbo_emulator::{
    DEFAULT_TOKEN_TTL, DEFAULT_USER, EmulatorConfig, Faults, MethodLatency, RequestCounts, Tls,
    User,
};

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

/// An emulator over HTTPS holding fabrikam (as [`FABRIKAM_ON_SERVER`]), litware and adatum.
async fn estate_server() -> Server {
    let server = Server::https().await;
    server
        .put(&documents(&[
            manifest("fabrikam.local", FABRIKAM_ON_SERVER),
            manifest("litware.example.com", LITWARE),
            manifest("adatum.onmicrosoft.com", ADATUM),
        ]))
        .await;
    server
}

/// A server and manifests with one of everything: contoso to create, fabrikam to update,
/// litware unchanged, adatum unmanaged.
async fn estate() -> Server {
    let server = estate_server().await;
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

/// `vboctl ARGS` against `server`, with the estate's secrets in the environment.
async fn plan_estate(server: &Server, args: &[&str]) -> Run {
    plan_with(server, args, &[]).await
}

/// `vboctl ARGS` against `server`, with the estate's secrets in the environment and each of
/// `env` set (`Some`) or removed (`None`).
async fn plan_with(server: &Server, args: &[&str], env: &[(&str, Option<&str>)]) -> Run {
    execute(estate_command(server, args, env)).await
}

/// The command [`plan_with`] runs.
fn estate_command(server: &Server, args: &[&str], env: &[(&str, Option<&str>)]) -> Command {
    let mut command = server.vboctl();
    command.args(args).envs(ESTATE_SECRETS.iter().copied());
    for (name, value) in env {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    command
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

/// `vboctl ARGS --format json` as [`plan_with`] runs it, which must exit with `code`: the plan
/// document it printed.
async fn plan_json(
    server: &Server,
    args: &[&str],
    env: &[(&str, Option<&str>)],
    code: i32,
) -> Value {
    let args: Vec<&str> = args.iter().copied().chain(["--format", "json"]).collect();
    json_of(&plan_with(server, &args, env).await.expect_code(code).stdout)
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
    assert_ends_with(
        &run.stdout,
        "Plan: 3 to create, 0 to update, 0 to delete. 0 unchanged.\n",
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
    assert_lacks(&run.stdout, "will be");

    let plan = plan_json(&server, &["plan", "manifests"], &[], 0).await;
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
    // An Office365 tenant with Exchange Online: on the server the account, extra settings and
    // the region; in the manifest the account, extra YAML settings and the region.
    let office365 = |name: &'static str,
                     (account, extra, region): (&str, Value, &str),
                     (wanted_account, wanted_extra, wanted_region): (&str, &str, &str),
                     expected: Value| {
        let mut settings = json!({"account": account, "password": "x"});
        settings
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let body = json!({"type": "Office365", "name": name, "region": region,
                          "isExchangeOnline": true, "exchangeOnlineSettings": settings});
        let spec = format!(
            "type: Office365\nregion: {wanted_region}\nisExchangeOnline: true\nexchangeOnlineSettings:\n  account: {wanted_account}\n  password: {{fromEnv: DRIFT_PASSWORD}}\n{wanted_extra}"
        );
        (name, body, spec, expected)
    };
    // On-premises Exchange, and SharePoint on the given port when there is one: on the server,
    // in the manifest.
    let on_premises = |name: &'static str,
                       port: Option<u16>,
                       wanted_port: Option<u16>,
                       expected| {
        let mut body = json!({"type": "OnPremises", "name": name, "isExchange": true,
            "exchangeSettings": {"serverName": "mail.example.local", "username": "EX\\backup",
                                 "password": "x", "useSSL": true},
            "isSharePoint": port.is_some()});
        if let Some(port) = port {
            body["sharePointSettings"] = json!({"serverName": "sp.example.local",
                "serverPort": port, "username": "EX\\backup", "password": "x", "useSSL": true});
        }
        let mut spec = "type: OnPremises\nisExchange: true\nexchangeSettings:\n  serverName: mail.example.local\n  username: EX\\backup\n  password: {fromEnv: DRIFT_PASSWORD}\n  useSSL: true\n".to_owned();
        if let Some(port) = wanted_port {
            spec.push_str(&format!("isSharePoint: true\nsharePointSettings:\n  serverName: sp.example.local\n  serverPort: {port}\n  username: EX\\backup\n  password: {{fromEnv: DRIFT_PASSWORD}}\n  useSSL: true\n"));
        }
        (name, body, spec, expected)
    };
    // The SharePoint settings as the server reports them, and as a plan shows them.
    let share_point = json!({
        "grantAccessToSiteCollections": false, "grantImpersonation": false,
        "serverName": "sp.example.local", "serverPort": 5985,
        "skipCAverification": false, "skipCommonNameVerification": false,
        "skipRevocationCheck": false, "useSSL": true, "username": "EX\\backup"});
    let application_id = "0f9e8d7c-6b5a-4c3d-9e1f-0a9b8c7d6e5f";
    vec![
        office365(
            "flag.onmicrosoft.com",
            ("backup@flag.onmicrosoft.com", json!({}), "Worldwide"),
            (
                "backup@flag.onmicrosoft.com",
                "  grantAdminAccess: true\n",
                "Worldwide",
            ),
            json!([{"path": "exchangeOnlineSettings.grantAdminAccess", "before": false, "after": true}]),
        ),
        office365(
            "text.onmicrosoft.com",
            ("admin@text.onmicrosoft.com", json!({}), "Worldwide"),
            ("backup@text.onmicrosoft.com", "", "Worldwide"),
            json!([{"path": "exchangeOnlineSettings.account",
                    "before": "admin@text.onmicrosoft.com", "after": "backup@text.onmicrosoft.com"}]),
        ),
        office365(
            "region.onmicrosoft.com",
            ("backup@region.onmicrosoft.com", json!({}), "Worldwide"),
            ("backup@region.onmicrosoft.com", "", "Germany"),
            json!([{"path": "region", "before": "Worldwide", "after": "Germany"}]),
        ),
        on_premises(
            "port.example.local",
            Some(5985),
            Some(5986),
            json!([{"path": "sharePointSettings.serverPort", "before": 5985, "after": 5986}]),
        ),
        on_premises(
            "removed.example.local",
            Some(5985),
            None,
            json!([
                {"path": "isSharePoint", "before": true, "after": false},
                {"path": "sharePointSettings", "before": share_point, "after": null},
            ]),
        ),
        on_premises(
            "added.example.local",
            None,
            Some(5985),
            json!([
                {"path": "isSharePoint", "before": false, "after": true},
                {"path": "sharePointSettings", "before": null, "after": share_point},
            ]),
        ),
        office365(
            "server-only.onmicrosoft.com",
            (
                "backup@server-only.onmicrosoft.com",
                json!({"applicationId": application_id}),
                "Worldwide",
            ),
            ("backup@server-only.onmicrosoft.com", "", "Worldwide"),
            json!([{"path": "exchangeOnlineSettings.applicationId",
                    "before": application_id, "after": null}]),
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

    let plan = plan_json(
        &server,
        &["plan", "drift.yaml"],
        &[("DRIFT_PASSWORD", Some("another value than the server's"))],
        0,
    )
    .await;
    for (name, _, _, expected) in &cases {
        let change = change(&plan, name);
        assert_eq!(change["action"], "update", "{name}: {change:#}");
        assert_eq!(&change["changed_fields"], expected, "{name}");
    }
    assert_eq!(plan["summary"]["update"], cases.len());

    let text = plan_with(
        &server,
        &["plan", "drift.yaml"],
        &[("DRIFT_PASSWORD", Some("another value than the server's"))],
    )
    .await
    .expect_code(0)
    .stdout;
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
        assert_contains(&text, line);
    }
    assert!(
        text.ends_with("Plan: 0 to create, 7 to update, 0 to delete. 0 unchanged.\n"),
        "{text}"
    );
    assert_read_only(&server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizations_in_no_manifest_are_unmanaged_and_deleted_only_with_prune() {
    let server = estate_server().await;
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

    let plan = plan_json(&server, &["plan", "litware.yaml"], &[], 0).await;
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
        assert_contains(
            &run.stdout,
            &format!("  - organization[\"{name}\"] will be deleted\n"),
        );
    }
    assert_lacks(&run.stdout, "Unmanaged");
    assert_ends_with(
        &run.stdout,
        "Plan: 0 to create, 0 to update, 2 to delete. 1 unchanged.\n",
    );

    let plan = plan_json(&server, &["plan", "litware.yaml", "--prune"], &[], 0).await;
    assert_eq!(plan["unmanaged"], json!([]));
    assert_eq!(change(&plan, "fabrikam.local")["action"], "delete");
    assert_eq!(change(&plan, "fabrikam.local")["after"], Value::Null);
    assert_eq!(
        change(&plan, "fabrikam.local")["id"],
        ids["fabrikam.local"].as_str()
    );
    // Pruning with no manifests at all would delete everything: refused before anything is
    // changed unless asked for in so many words (the login and the list may have started while
    // the manifests were read).
    server.write("none/empty.yaml", "");
    let before = writes(&server.emulator.request_counts());
    let run = plan_estate(&server, &["plan", "none", "--prune"])
        .await
        .expect_code(1);
    assert_starts_with(
        &run.stderr,
        "error: refusing to prune with no manifests: every organization on the server would be deleted\n",
    );
    assert_eq!(writes(&server.emulator.request_counts()), before);
    let run = plan_estate(&server, &["plan", "none", "--prune", "--allow-empty"])
        .await
        .expect_code(0);
    assert_ends_with(
        &run.stdout,
        "Plan: 0 to create, 0 to update, 3 to delete. 0 unchanged.\n",
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
    assert_contains(
        &run.stdout,
        "error: organization \"litware.example.com\" is Office365 on the server but Hybrid in the manifest at litware.yaml:4:9: the type of an organization cannot be changed in place\n",
    );
    assert_contains(
        &run.stderr,
        "error: 1 organization could not be planned; the plan was not saved to plan.json\n",
    );
    assert!(
        !server.path().join("plan.json").exists(),
        "a plan with errors is not saved for apply:\n{}",
        run.stderr
    );
    assert_lacks(&run.stderr, "Saved the plan");

    let plan = plan_json(&server, &["plan", "litware.yaml"], &[], 1).await;
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
    assert_nothing_changed(&server, &run);
    for expected in [
        "error: 2 secrets cannot be read; nothing was changed on the server:\n",
        "  contoso.onmicrosoft.com (tenants.yaml:4:9): spec.exchangeOnlineSettings.password: environment variable VBOCTL_TEST_UNSET_VARIABLE is not set\n",
        "  contoso.onmicrosoft.com (tenants.yaml:4:9): spec.sharePointOnlineSettings.applicationSecret: ",
        "secrets/contoso-app.txt",
        "  hint: set the environment variables (or list them in a file given with --env-file) or create the files the manifests name\n",
    ] {
        assert_contains(&run.stderr, expected);
    }
    assert_lacks(&run.stderr, "litware");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_manifests_fail_before_any_change_with_every_problem() {
    let server = Server::https().await;
    server.write(
        "tenants.yaml",
        &documents(&[
            manifest(
                "contoso.onmicrosoft.com",
                &CONTOSO.replace("isExchangeOnline", "IsExchangeOnline"),
            ),
            manifest(
                "litware.example.com",
                &LITWARE.replace("type: Hybrid", "type: Hybird"),
            ),
        ]),
    );

    let run = plan_estate(&server, &["plan", "tenants.yaml"])
        .await
        .expect_code(1);
    assert_nothing_changed(&server, &run);
    for expected in [
        "did you mean `isExchangeOnline`?",
        "Hybird",
        "tenants.yaml:",
        "error: the manifests have 2 errors; nothing was changed on the server",
    ] {
        assert_contains(&run.stderr, expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_manifest_is_reported_alone_and_at_once_whatever_the_server_does() {
    // vboctl logs in and lists while it reads the manifests; a broken manifest must still be
    // the only error shown, and must not wait for the server.
    let server = Server::https().await;
    server.write(
        "invalid.yaml",
        "apiVersion: vboctl/v1\nkind: Organization\nmetadata: {name: x}\nspec: {type: Nothing}\n",
    );
    let expected = "error: the manifests have 1 error; nothing was changed on the server";

    // A login the server refuses.
    let run = plan_with(
        &server,
        &["plan", "invalid.yaml"],
        &[("VBOCTL_PASSWORD", Some("Wrong-Password-e41a"))],
    )
    .await
    .expect_code(1);
    assert_contains(&run.stderr, expected);
    assert_contains(&run.stderr, "unknown type `Nothing`");
    assert_lacks(&run.stderr, "rejected the username or password");
    assert_nothing_changed(&server, &run);

    // A login that would take a minute.
    let minute = Duration::from_secs(60);
    server
        .emulator
        .set_faults(Faults {
            method_latency: MethodLatency {
                token: Some(minute..=minute),
                ..MethodLatency::default()
            },
            ..Faults::default()
        })
        .expect("valid faults");
    let started = std::time::Instant::now();
    let run = plan_estate(&server, &["plan", "invalid.yaml"])
        .await
        .expect_code(1);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the run waited for the login: {:?}",
        started.elapsed()
    );
    assert_contains(&run.stderr, expected);
    assert_nothing_changed(&server, &run);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_a_clear_error_that_does_not_repeat_it() {
    let server = litware().await;
    let run = plan_with(
        &server,
        &["plan", "litware.yaml"],
        &[
            ("VBOCTL_PASSWORD", Some("Wrong-Password-e41a")),
            ("RUST_LOG", Some("trace")),
        ],
    )
    .await
    .expect_code(1);
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
    let server = litware().await;
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
    assert_starts_with(
        &run.stdout,
        &format!("Server: {} (REST API v3)\n", server.emulator.base_url()),
    );
    assert_contains(
        &run.stdout,
        "  + organization[\"litware.example.com\"] will be created\n",
    );
    assert_eq!(run.stderr, "", "a verified connection warns of nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unverifiable_certificate_fails_with_a_hint_at_server_cert() {
    let server = litware().await;
    let run = plan_with(
        &server,
        &["plan", "litware.yaml"],
        &[("VBOCTL_CA_CERT", None)],
    )
    .await
    .expect_code(1);
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
            "error: cannot verify the TLS certificate of {}: it is not signed by a certificate authority this machine trusts",
            server.emulator.base_url()
        )
    );
    assert!(
        lines[1].starts_with("  hint: ")
            && lines[1].contains("vboctl server-cert")
            && lines[1].contains("--tls-thumbprint")
            && lines[1].contains("--ca-cert")
            && !lines[1].contains("--insecure"),
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
    let server = litware().await;
    for by_variable in [false, false, true] {
        let (flag, variable) = if by_variable {
            (None, Some("1"))
        } else {
            (Some("--insecure"), None)
        };
        let args: Vec<&str> = ["plan", "litware.yaml"].into_iter().chain(flag).collect();
        let env = [("VBOCTL_CA_CERT", None), ("VBOCTL_INSECURE", variable)];
        let run = plan_with(&server, &args, &env).await.expect_code(0);
        assert_eq!(run.stderr, WARNING);
        assert_contains(&run.stdout, "will be created");
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

/// A folder with litware's manifest in `litware.yaml`, and no server.
fn litware_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("litware.yaml"),
        manifest("litware.example.com", LITWARE),
    )
    .unwrap();
    dir
}

/// An emulator over HTTPS, empty, and litware's manifest in `litware.yaml`.
async fn litware() -> Server {
    let server = Server::https().await;
    server.write("litware.yaml", &manifest("litware.example.com", LITWARE));
    server
}

/// Plans litware's creation over HTTPS through an emulator with these faults and token
/// lifetime, logging as `rust_log` says; fails unless the plan succeeds.
async fn plan_litware_through(
    faults: Faults,
    token_ttl: Duration,
    rust_log: &str,
) -> (Server, Run) {
    let server = Server::start(EmulatorConfig {
        tls: Tls::SelfSigned,
        token_ttl,
        faults,
        ..EmulatorConfig::default()
    })
    .await;
    server.write("litware.yaml", &manifest("litware.example.com", LITWARE));
    let run = plan_with(
        &server,
        &["plan", "litware.yaml"],
        &[("RUST_LOG", Some(rust_log))],
    )
    .await
    .expect_code(0);
    assert!(
        run.stdout.contains("will be created"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    (server, run)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_retried_through_unavailable_and_throttled_answers() {
    // With this seed the first list is answered 503, the second 429 (Retry-After: 1), and
    // the third gets through.
    let faults = Faults {
        error_rate: 0.3,
        throttle_rate: 0.3,
        seed: Some(29),
        ..Faults::default()
    };
    let (server, run) = plan_litware_through(faults, DEFAULT_TOKEN_TTL, "vbo_client=debug").await;
    let counts = server.emulator.request_counts();
    assert_eq!(counts.faults.errors, 1, "{counts:?}");
    assert_eq!(counts.faults.throttles, 1, "{counts:?}");
    assert_eq!(counts.route("GET /v3/Organizations"), 3, "{counts:?}");
    for status in [503, 429, 200] {
        assert_contains(&run.stderr, &format!("GET /v3/Organizations -> {status}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_failing_again_and_again_is_reported_while_retrying() {
    // With this seed the first three lists are answered 503 and the fourth gets through.
    let server = Server::start(EmulatorConfig {
        tls: Tls::SelfSigned,
        faults: Faults {
            error_rate: 0.75,
            seed: Some(15),
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    server.write("litware.yaml", &manifest("litware.example.com", LITWARE));
    // Without RUST_LOG: the warning is for the person waiting, without a timestamp.
    let run = plan_with(&server, &["plan", "litware.yaml"], &[("RUST_LOG", None)])
        .await
        .expect_code(0);
    let counts = server.emulator.request_counts();
    assert_eq!(counts.faults.errors, 3, "{counts:?}");
    assert_eq!(counts.route("GET /v3/Organizations"), 4, "{counts:?}");
    // Two failures are routine and stay quiet; the third is worth a word.
    assert_lacks(&run.stderr, "attempt 2 failed");
    assert_starts_with(
        &run.stderr,
        " WARN still retrying after attempt 3 failed: GET /v3/Organizations failed with 503: The service is temporarily unavailable.\n",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_token_that_expires_mid_run_is_refreshed_and_the_request_sent_again() {
    // Tokens live one second. With this seed the emulator delays the login 0.16 s, the first
    // list 1.5 s (so the token has expired when it is checked), the refresh 0.15 s and the
    // second list 0.09 s.
    let faults = Faults {
        latency: Some(Duration::ZERO..=Duration::from_millis(1500)),
        seed: Some(362),
        ..Faults::default()
    };
    let (server, run) = plan_litware_through(faults, Duration::from_secs(1), "trace").await;
    let counts = server.emulator.request_counts();
    assert_eq!(counts.route("POST /v3/Token"), 2, "{counts:?}");
    assert_eq!(counts.route("GET /v3/Organizations"), 2, "{counts:?}");
    for expected in [
        "GET /v3/Organizations -> 401",
        "access token refreshed",
        "GET /v3/Organizations -> 200",
    ] {
        assert_contains(&run.stderr, expected);
    }
    assert_no_token(&run.stderr);
}

/// Fails unless the server received no write (it may have been read: vboctl logs in and lists
/// while it reads the manifests) and nothing was printed.
#[track_caller]
fn assert_nothing_changed(server: &Server, run: &Run) {
    let writes = writes(&server.emulator.request_counts());
    assert_eq!(
        writes,
        (Vec::new(), (0, 0, 0)),
        "no write reached the server"
    );
    assert_eq!(run.stdout, "");
}

/// The write requests among `counts` (neither a `GET` nor a login), and how many
/// organizations they created, updated and deleted.
fn writes(counts: &RequestCounts) -> (Vec<(String, u64)>, (u64, u64, u64)) {
    let requests = counts
        .by_route
        .iter()
        .filter(|(route, _)| {
            !route.starts_with("GET ") && !route.to_lowercase().ends_with("/token")
        })
        .map(|(route, count)| (route.clone(), *count))
        .collect();
    (requests, (counts.created, counts.updated, counts.deleted))
}

/// Fails, showing `text`, unless it contains `expected`.
#[track_caller]
fn assert_contains(text: &str, expected: &str) {
    assert!(text.contains(expected), "{expected:?} in:\n{text}");
}

/// Fails, showing `text`, when it contains `unexpected`.
#[track_caller]
fn assert_lacks(text: &str, unexpected: &str) {
    assert!(!text.contains(unexpected), "{unexpected:?} in:\n{text}");
}

/// Fails, showing `text`, unless it begins with `expected`.
#[track_caller]
fn assert_starts_with(text: &str, expected: &str) {
    assert!(text.starts_with(expected), "{expected:?} first in:\n{text}");
}

/// Fails, showing `text`, unless it ends with `expected`.
#[track_caller]
fn assert_ends_with(text: &str, expected: &str) {
    assert!(text.ends_with(expected), "{expected:?} last in:\n{text}");
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
    assert_contains(&run.stdout, "1 unmanaged");

    // Errors are 1, with or without changes.
    plan_with(
        &server,
        &["plan", "litware.yaml", "--detailed-exitcode"],
        &[("VBOCTL_PASSWORD", Some("not the password"))],
    )
    .await
    .expect_code(1);
    server.write(
        "invalid.yaml",
        "apiVersion: vboctl/v1\nkind: Organization\nmetadata: {name: x}\nspec: {type: Nothing}\n",
    );
    let before = server.emulator.request_counts();
    let run = plan_estate(&server, &["plan", "invalid.yaml", "--detailed-exitcode"])
        .await
        .expect_code(1);
    assert_contains(&run.stderr, "nothing was changed on the server");
    let during = server.emulator.request_counts().since(&before);
    assert_eq!(
        (during.created, during.updated, during.deleted),
        (0, 0, 0),
        "invalid manifests change nothing"
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
            "api_version",
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
    assert_eq!(saved["server"], server.emulator.base_url());
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
    assert_contains(
        &run.stderr,
        "error: manifests/contoso.yaml is not a usable saved plan",
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
    assert_contains(
        &run.stderr,
        "error: cannot save the plan: a saved plan holds secret references, never values, and these secrets are written in the manifests:\n  contoso.onmicrosoft.com (tenants.yaml:4:9): spec.exchangeOnlineSettings.password\n",
    );
    assert_contains(&run.stderr, "hint: use {fromEnv: VAR} or {fromFile: path}");
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
    assert_lacks(&run.stdout, "Literal-Password-Not-Saved-3c");
    assert_lacks(&run.stderr, "Literal-Password-Not-Saved-3c");
    assert_read_only(&server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_and_schema_ignore_the_connection_variables() {
    let dir = litware_folder();
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
        let args = [
            "plan",
            "tenants.yaml",
            "--format",
            format,
            "--out",
            "plan.json",
        ];
        let env = [
            ("LEAK_SECRET", Some(ENV_SECRET)),
            ("RUST_LOG", Some("trace")),
        ];
        let run = plan_with(&server, &args, &env).await.expect_code(0);
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
    let dir = litware_folder();
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
    assert_starts_with(
        &run.stderr,
        &format!("error: cannot connect to https://127.0.0.1:{port}: "),
    );
    assert_ends_with(
        &run.stderr,
        "  hint: check --server (VBOCTL_SERVER) and that the server is reachable\n",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_url_with_credentials_is_refused_without_showing_them() {
    let server = litware().await;
    let with_credentials = server
        .emulator
        .base_url()
        .replace("https://", "https://admin:Url-Password-77@");
    let run = plan_with(
        &server,
        &["plan", "litware.yaml"],
        &[("VBOCTL_SERVER", Some(with_credentials.as_str()))],
    )
    .await
    .expect_code(1);
    assert_starts_with(
        &run.stderr,
        &format!(
            "error: invalid server URL \"https://***@{}\": it must not hold a user name or password",
            server.emulator.local_addr()
        ),
    );
    assert_lacks(&run.stderr, "Url-Password-77");
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

    let server = litware().await;
    let password = vbo_emulator::DEFAULT_PASSWORD;
    server.write("password.txt", &format!("{password}\n"));

    plan_with(
        &server,
        &["plan", "litware.yaml", "--password-file", "password.txt"],
        &[("VBOCTL_PASSWORD", None)],
    )
    .await
    .expect_code(0);

    let mut command = estate_command(
        &server,
        &["plan", "litware.yaml", "--password-stdin"],
        &[("VBOCTL_PASSWORD", None)],
    );
    command
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

    let run = plan_with(
        &server,
        &["plan", "litware.yaml"],
        &[("VBOCTL_PASSWORD", None)],
    )
    .await
    .expect_code(1);
    assert_eq!(
        run.stderr,
        "error: no password given\n  hint: set VBOCTL_PASSWORD, or pass --password-stdin or --password-file FILE\n"
    );
    assert_eq!(server.emulator.request_counts().route("POST /v3/Token"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blank_connection_variables_count_as_unset() {
    let server = litware().await;

    let run = plan_with(
        &server,
        &["plan", "litware.yaml", "--insecure"],
        &[("VBOCTL_CA_CERT", Some(""))],
    )
    .await
    .expect_code(0);
    assert_contains(&run.stdout, "will be created");

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
        let run = plan_with(&server, &["plan", "litware.yaml"], &[(variable, Some(""))])
            .await
            .expect_code(1);
        assert_eq!(run.stderr, expected, "{variable}");
    }
    assert_eq!(server.emulator.request_counts().route("POST /v3/Token"), 1);
}
