//! `vboctl apply` end to end: the real binary against the emulator running in this process.
//! Every claim about the server is checked on the server itself: its organizations, the
//! secrets it received, and the requests it counted.

use std::time::Duration;

use serde_json::{Value, json};
use vbo_emulator::{EmulatorConfig, Faults, User};
use vbo_model::{OrganizationBody, Secret};

use crate::apply_support::{
    Run, Setup, assert_secrets_received, env_and_file_secrets, office365, on_premises,
    result_lines, tenants,
};

/// Lines of text output after the plan: the results, the skipped changes and the summary.
fn after_plan(stdout: &str) -> String {
    let mut lines = stdout
        .lines()
        .skip_while(|line| !line.starts_with("Plan: "));
    lines.next();
    lines.map(|line| format!("{line}\n")).collect()
}

/// Checks that one of `lines` is `<glyph> <verb> <name> (id <id>) <seconds>s` or, without an
/// id, `<glyph> <verb> <name> <seconds>s`.
#[track_caller]
fn assert_result_line(lines: &[String], glyph_verb: &str, name: &str, id: Option<&str>) {
    let prefix = match id {
        Some(id) => format!("{glyph_verb} {name} (id {id}) "),
        None => format!("{glyph_verb} {name} "),
    };
    let line = lines
        .iter()
        .find(|line| line.starts_with(&prefix))
        .unwrap_or_else(|| panic!("a line starting {prefix:?} among {lines:#?}"));
    let seconds = line[prefix.len()..]
        .strip_suffix('s')
        .unwrap_or_else(|| panic!("{line:?} ends with the duration in seconds"));
    assert!(
        seconds.parse::<f64>().is_ok() && seconds.contains('.'),
        "{line:?} ends with a duration like 0.1s"
    );
}

/// A body to change the server with behind vboctl's back.
fn body(json: Value) -> OrganizationBody<Secret> {
    serde_json::from_value(json).unwrap()
}

/// An OnPremises organization `name` with Exchange server `server`.
fn on_premises_body(name: &str, server: &str) -> OrganizationBody<Secret> {
    body(json!({
        "type": "OnPremises",
        "name": name,
        "isExchange": true,
        "exchangeSettings": {
            "serverName": server,
            "username": "CORP\\backup",
            "password": "set-by-the-test",
            "useSSL": true
        }
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_then_updates_then_has_nothing_to_do() {
    let mut setup = Setup::start().await;
    env_and_file_secrets(&mut setup, "secret-from-env", "secret-from-file");

    // Without NO_COLOR: output to a pipe has no colour (and no progress bar) anyway.
    setup.unset_env("NO_COLOR");
    let run = setup
        .expect(&["apply", "manifests", "--auto-approve"], 0)
        .await;
    setup.set_env("NO_COLOR", "1");
    assert!(!run.all().contains('\u{1b}'), "{}", run.all());
    assert_eq!(setup.names(), ["env.example.com", "file.example.com"]);
    let lines = result_lines(&run.stdout);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    for name in ["env.example.com", "file.example.com"] {
        assert_result_line(&lines, "+ created", name, Some(&setup.id_of(name)));
    }
    run.assert_stdout_ends_with("Apply complete: 2 created, 0 updated, 0 deleted, 0 failed.\n");
    // The secrets were read when applying and sent; nothing was created twice.
    assert_secrets_received(&setup, "secret-from-env", "secret-from-file");
    let counts = setup.emulator.request_counts();
    assert_eq!(counts.route("POST /v3/Organizations"), 2);
    assert_eq!(counts.created, 2);

    // A changed field is an update in place, sent with the secret as it is now.
    let id = setup.id_of("env.example.com");
    setup.write(
        "manifests/env.yaml",
        &office365("env.example.com", "Germany", "{fromEnv: ENV_PW}"),
    );
    setup.set_env("ENV_PW", "secret-rotated");
    let run = setup
        .expect(&["apply", "manifests", "--auto-approve"], 0)
        .await;
    let lines = result_lines(&run.stdout);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_result_line(&lines, "~ updated", "env.example.com", None);
    run.assert_stdout_ends_with("Apply complete: 0 created, 1 updated, 0 deleted, 0 failed.\n");
    let stored = setup.stored("env.example.com");
    assert_eq!(stored["id"], id.as_str());
    assert_eq!(stored["body"]["region"], "Germany");
    assert_eq!(
        stored["body"]["exchangeOnlineSettings"]["password"],
        "secret-rotated"
    );
    let counts = setup.emulator.request_counts();
    assert_eq!(counts.route("PUT /v3/Organizations/{id}"), 1);
    assert_eq!((counts.created, counts.updated), (2, 1));

    // Converged: nothing to do, nothing sent, and no confirmation needed for nothing.
    let writes = setup.writes();
    let run = setup.expect(&["apply", "manifests"], 0).await;
    run.assert_stdout_contains("No changes.");
    run.assert_stdout_ends_with("Nothing to apply.\n");
    assert_eq!(setup.writes(), writes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_unmanaged_organizations_only_with_prune() {
    let setup = Setup::seeded(2).await;
    let unmanaged = setup.names();
    let unmanaged_ids: Vec<String> = unmanaged.iter().map(|n| setup.id_of(n)).collect();
    setup.write_on_premises("corp.example.com", "mail.corp.example.com");

    let run = setup
        .expect(&["apply", "manifests", "--auto-approve"], 0)
        .await;
    run.assert_stdout_contains("--prune would delete them");
    let mut expected = unmanaged.clone();
    expected.push("corp.example.com".to_owned());
    expected.sort();
    assert_eq!(setup.names(), expected);
    assert_eq!(
        setup
            .emulator
            .request_counts()
            .route("DELETE /v3/Organizations/{id}"),
        0
    );

    let run = setup
        .expect(&["apply", "manifests", "--prune", "--auto-approve"], 0)
        .await;
    let lines = result_lines(&run.stdout);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    for name in &unmanaged {
        assert_result_line(&lines, "- deleted", name, None);
    }
    run.assert_stdout_ends_with("Apply complete: 0 created, 0 updated, 2 deleted, 0 failed.\n");
    assert_eq!(setup.names(), ["corp.example.com"]);
    let counts = setup.emulator.request_counts();
    assert_eq!(counts.deleted, 2);
    for id in &unmanaged_ids {
        assert!(
            setup.emulator.organizations().iter().all(|o| &o.id != id),
            "{id} is gone"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_only_creates_and_skips_updates_and_deletes() {
    let setup = Setup::start().await;
    setup.write_on_premises("corp.example.com", "mail.corp.example.com");
    setup
        .expect(&["apply", "manifests", "--auto-approve"], 0)
        .await;
    let client = setup.client().await;
    client
        .create(&on_premises_body(
            "legacy.example.com",
            "mail.legacy.example.com",
        ))
        .await
        .unwrap();
    let corp_before = setup.stored("corp.example.com");
    setup.write_on_premises("corp.example.com", "mail2.corp.example.com");
    setup.write_on_premises("new.example.com", "mail.new.example.com");
    let writes = setup.emulator.request_counts();

    let run = setup
        .expect(
            &[
                "apply",
                "manifests",
                "--create-only",
                "--prune",
                "--auto-approve",
            ],
            0,
        )
        .await;
    // The plan shows every change; only the create is made.
    run.assert_stdout_contains("Plan: 1 to create, 1 to update, 1 to delete.");
    let lines = result_lines(&run.stdout);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_result_line(
        &lines,
        "+ created",
        "new.example.com",
        Some(&setup.id_of("new.example.com")),
    );
    run.assert_stdout_contains("  skipped organization[\"corp.example.com\"] (--create-only)\n  skipped organization[\"legacy.example.com\"] (--create-only)\n");
    run.assert_stdout_ends_with(
        "Apply complete: 1 created, 0 updated, 0 deleted, 0 failed. 2 skipped.\n",
    );
    assert_eq!(setup.stored("corp.example.com"), corp_before);
    assert_eq!(
        setup.names(),
        ["corp.example.com", "legacy.example.com", "new.example.com"]
    );
    let counts = setup.emulator.request_counts();
    for route in [
        "PUT /v3/Organizations/{id}",
        "DELETE /v3/Organizations/{id}",
    ] {
        assert_eq!(counts.route(route), writes.route(route), "{route}");
    }
    assert_eq!(counts.created, writes.created + 1);

    // With nothing left to create there is nothing to confirm, even without a terminal.
    let writes = setup.writes();
    let run = setup
        .expect(&["apply", "manifests", "--create-only", "--prune"], 0)
        .await;
    run.assert_stdout_ends_with(
        "Apply complete: 0 created, 0 updated, 0 deleted, 0 failed. 2 skipped.\n",
    );
    assert_eq!(setup.writes(), writes);

    // Without --create-only the skipped update is made.
    setup
        .expect(&["apply", "manifests", "--auto-approve"], 0)
        .await;
    assert_eq!(
        setup.stored("corp.example.com")["body"]["exchangeSettings"]["serverName"],
        "mail2.corp.example.com"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applies_a_saved_plan_without_prompting_and_only_once() {
    let mut setup = Setup::start().await;
    env_and_file_secrets(
        &mut setup,
        "saved-plan-env-secret",
        "saved-plan-file-secret",
    );

    setup
        .expect(&["plan", "manifests", "--out", "plan.json"], 0)
        .await;
    assert_eq!(setup.writes(), (0, 0), "planning writes nothing");
    let saved = std::fs::read_to_string(setup.path().join("plan.json")).unwrap();
    for secret in ["saved-plan-file-secret", "saved-plan-env-secret"] {
        assert!(!saved.contains(secret), "the saved plan holds {secret}");
    }

    // Standard input is not a terminal and there is no --auto-approve: a saved plan was
    // reviewed already, so it is applied without asking. It is applied from another folder:
    // the plan's `fromFile` paths are absolute.
    let run = setup
        .expect_in("elsewhere", &["apply", "--plan", "../plan.json"], 0)
        .await;
    assert!(
        !run.stderr.contains("Apply these changes?"),
        "{}",
        run.stderr
    );
    let lines = result_lines(&run.stdout);
    for name in ["env.example.com", "file.example.com"] {
        assert_result_line(&lines, "+ created", name, Some(&setup.id_of(name)));
    }
    run.assert_stdout_ends_with("Apply complete: 2 created, 0 updated, 0 deleted, 0 failed.\n");
    assert_secrets_received(&setup, "saved-plan-env-secret", "saved-plan-file-secret");

    // The plan described a server without these two: applying it again is refused.
    let writes = setup.writes();
    let run = setup.expect(&["apply", "--plan", "plan.json"], 1).await;
    run.assert_stderr_contains(
        "  added since the plan: env.example.com\n  added since the plan: file.example.com\n",
    );
    assert_eq!(setup.writes(), writes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_a_stale_plan_naming_what_changed() {
    let setup = Setup::start().await;
    for name in ["x.example.com", "y.example.com"] {
        setup.write_on_premises(name, &format!("mail.{name}"));
    }
    setup
        .expect(&["apply", "manifests", "--auto-approve"], 0)
        .await;
    // The plan to refuse: create z, update y.
    setup.write_on_premises("z.example.com", "mail.z.example.com");
    setup.write_on_premises("y.example.com", "mail2.y.example.com");
    let client = setup.client().await;
    let x_id = setup.id_of("x.example.com");
    let y_id = setup.id_of("y.example.com");

    let cases: [(&str, &str); 3] = [
        ("added", "w.example.com"),
        ("changed", "y.example.com"),
        ("removed", "x.example.com"),
    ];
    for (label, name) in cases {
        setup
            .expect(&["plan", "manifests", "--out", "plan.json"], 0)
            .await;
        match label {
            "added" => {
                client
                    .create(&on_premises_body(name, "mail.w.example.com"))
                    .await
                    .unwrap();
            }
            "changed" => client
                .update(&y_id, &on_premises_body(name, "changed-behind-the-back"))
                .await
                .unwrap(),
            _ => client.delete(&x_id).await.unwrap(),
        }
        let writes = setup.writes();
        let run = setup.expect(&["apply", "--plan", "plan.json"], 1).await;
        assert!(
            run.stderr.starts_with(
                "error: refusing to apply a stale plan: the server changed since plan.json was made\n"
            ),
            "{}",
            run.stderr
        );
        run.assert_stderr_contains(&format!("\n  {label} since the plan: {name}\n"));
        assert_eq!(
            run.stderr.matches(" since the plan: ").count(),
            1,
            "only what changed is named: {}",
            run.stderr
        );
        run.assert_stderr_contains("hint: run `vboctl plan --out FILE` again");
        assert_eq!(setup.writes(), writes, "{label}: nothing was written");
        assert!(!setup.names().contains(&"z.example.com".to_owned()));
    }

    // A fresh plan of the same manifests is applied.
    setup
        .expect(&["plan", "manifests", "--out", "plan.json"], 0)
        .await;
    setup.expect(&["apply", "--plan", "plan.json"], 0).await;
    assert_eq!(
        setup.names(),
        [
            "w.example.com",
            "x.example.com",
            "y.example.com",
            "z.example.com"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_without_a_terminal_unless_auto_approved() {
    let setup = Setup::start().await;
    setup.write_on_premises("corp.example.com", "mail.corp.example.com");
    for format in ["text", "json"] {
        let run = setup
            .expect(&["apply", "manifests", "--format", format], 1)
            .await;
        assert!(
            run.all().contains("will be created"),
            "the plan is shown: {}",
            run.all()
        );
        run.assert_stderr_contains(
            "error: refusing to apply without confirmation: standard input is not a terminal",
        );
        let hint = run
            .stderr
            .lines()
            .find(|line| line.trim_start().starts_with("hint:"))
            .unwrap_or_else(|| panic!("a hint in {}", run.stderr));
        assert!(hint.contains("--auto-approve"), "{hint}");
        assert_eq!(setup.writes(), (0, 0), "{format}: nothing was written");
        assert!(setup.names().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_with_no_manifests_refuses_unless_allow_empty() {
    let setup = Setup::seeded(2).await;
    let seeded = setup.names();
    // A folder whose only YAML file declares nothing, as after deleting every manifest but
    // keeping the file's comments.
    setup.write(
        "manifests/organizations.yaml",
        "# Every organization was moved to another repository.\n---\n",
    );

    let run = setup
        .expect(&["apply", "manifests", "--prune", "--auto-approve"], 1)
        .await;
    run.assert_stderr_contains("error: refusing to prune with no manifests: every organization on the server would be deleted");
    run.assert_stderr_contains("--allow-empty");
    // Refused before anything was changed (the login and the list may have started while the
    // manifests were read).
    assert_eq!(
        setup.writes(),
        (0, 0),
        "{:?}",
        setup.emulator.request_counts()
    );
    assert_eq!(setup.names(), seeded);

    // A folder with no YAML at all (an empty checkout, a wrong path) is not "no manifests on
    // purpose": it is refused even with --allow-empty.
    std::fs::create_dir(setup.path().join("empty")).unwrap();
    let run = setup
        .expect(
            &[
                "apply",
                "empty",
                "--prune",
                "--allow-empty",
                "--auto-approve",
            ],
            1,
        )
        .await;
    run.assert_stderr_contains("no manifests found");
    assert_eq!(
        setup.writes(),
        (0, 0),
        "{:?}",
        setup.emulator.request_counts()
    );

    // Declaring nothing on purpose, with --allow-empty: every organization goes.
    let run = setup
        .expect(
            &[
                "apply",
                "manifests",
                "--prune",
                "--allow-empty",
                "--auto-approve",
            ],
            0,
        )
        .await;
    run.assert_stdout_ends_with("Apply complete: 0 created, 0 updated, 2 deleted, 0 failed.\n");
    assert!(setup.names().is_empty());
}

/// The server has `keep.example.com` (whose manifest changes) and `old.example.com` (in no
/// manifest); the manifests add `new.example.com` and `bad.example.com`, whose password the
/// server refuses.
async fn mixed_changes(setup: &mut Setup) {
    let client = setup.client().await;
    for (name, server) in [
        ("keep.example.com", "mail.keep.example.com"),
        ("old.example.com", "mail.old.example.com"),
    ] {
        client
            .create(&on_premises_body(name, server))
            .await
            .unwrap();
    }
    setup.write(
        "manifests/keep.yaml",
        &on_premises(
            "keep.example.com",
            "mail2.keep.example.com",
            "{fromEnv: KEEP_PW}",
        ),
    );
    setup.write(
        "manifests/new.yaml",
        &office365("new.example.com", "Worldwide", "{fromEnv: NEW_PW}"),
    );
    setup.write(
        "manifests/bad.yaml",
        &on_premises(
            "bad.example.com",
            "mail.bad.example.com",
            "{fromEnv: BAD_PW}",
        ),
    );
    setup.set_env("KEEP_PW", "keep-pw");
    setup.set_env("NEW_PW", "new-pw");
    // Set, so vboctl can read it, but empty: the server answers 400.
    setup.set_env("BAD_PW", "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_change_fails_alone_and_a_rerun_converges() {
    let mut setup = Setup::start().await;
    mixed_changes(&mut setup).await;

    let run = setup
        .expect(
            &[
                "apply",
                "manifests",
                "--prune",
                "--auto-approve",
                "--parallelism",
                "1",
            ],
            1,
        )
        .await;
    let lines = result_lines(&run.stdout);
    assert!(
        lines.contains(
            &"x failed bad.example.com: Property 'exchangeSettings.password' is required."
                .to_owned()
        ),
        "{lines:#?}"
    );
    assert_result_line(
        &lines,
        "+ created",
        "new.example.com",
        Some(&setup.id_of("new.example.com")),
    );
    assert_result_line(&lines, "~ updated", "keep.example.com", None);
    assert_result_line(&lines, "- deleted", "old.example.com", None);
    insta::with_settings!({filters => vec![
        (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[id]"),
        (r"\b\d+\.\ds\b", "[time]"),
    ]}, {
        insta::assert_snapshot!(after_plan(&run.stdout));
    });
    run.assert_stderr_contains("error: apply did not complete: 1 change failed");
    assert_eq!(
        setup.names(),
        ["keep.example.com", "new.example.com"],
        "the other changes went on"
    );

    // Fixed, the next run does only what is left.
    setup.set_env("BAD_PW", "bad-pw");
    let writes = setup.emulator.request_counts();
    let run = setup
        .expect(&["apply", "manifests", "--prune", "--auto-approve"], 0)
        .await;
    let lines = result_lines(&run.stdout);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_result_line(
        &lines,
        "+ created",
        "bad.example.com",
        Some(&setup.id_of("bad.example.com")),
    );
    let counts = setup.emulator.request_counts();
    assert_eq!(counts.created, writes.created + 1);
    assert_eq!(counts.updated, writes.updated);
    assert_eq!(counts.deleted, writes.deleted);
    setup
        .expect(&["plan", "manifests", "--prune", "--detailed-exitcode"], 0)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_reports_every_change_and_the_summary() {
    let mut setup = Setup::start().await;
    mixed_changes(&mut setup).await;

    let json_apply = [
        "apply",
        "manifests",
        "--prune",
        "--auto-approve",
        "--format",
        "json",
    ];
    let run = setup.expect(&json_apply, 1).await;
    // The plan is shown on standard error; standard output is the report alone.
    run.assert_stderr_contains("will be created");
    let mut report = run.json();
    assert_eq!(report["server"], setup.emulator.base_url());
    let results = report["results"].as_array().unwrap();
    let by_name = |name: &str| {
        results
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {results:#?}"))
            .clone()
    };
    assert_eq!(by_name("new.example.com")["status"], "created");
    assert_eq!(
        by_name("new.example.com")["id"],
        setup.id_of("new.example.com").as_str()
    );
    assert_eq!(by_name("keep.example.com")["status"], "updated");
    assert_eq!(by_name("old.example.com")["status"], "deleted");
    let failed = by_name("bad.example.com");
    assert_eq!(failed["status"], "failed");
    assert_eq!(
        failed["message"],
        "Property 'exchangeSettings.password' is required."
    );

    // Only what varies from run to run is masked.
    let server = report["server"].as_str().unwrap().to_owned();
    report["server"] = json!("[server]");
    for result in report["results"].as_array_mut().unwrap() {
        if result.get("id").is_some() {
            result["id"] = json!("[id]");
        }
        result["duration_ms"] = json!("[ms]");
    }
    insta::assert_json_snapshot!(report);

    // A successful run's report, and nothing else, on standard output.
    setup.set_env("BAD_PW", "bad-pw");
    let run = setup.expect(&json_apply, 0).await;
    let report = run.json();
    assert_eq!(report["server"], server.as_str());
    assert_eq!(report["results"].as_array().unwrap().len(), 1);
    assert_eq!(report["results"][0]["status"], "created");
    assert_eq!(report["unconverged"], json!([]));
    assert_eq!(report["interrupted"], false);
    assert_eq!(
        report["summary"],
        json!({
            "created": 1,
            "created_elsewhere": 0,
            "updated": 0,
            "deleted": 0,
            "failed": 0,
            "skipped": 0,
            "not_started": 0
        })
    );

    // Nothing to do is a report too.
    let run = setup
        .expect(&["apply", "manifests", "--prune", "--format", "json"], 0)
        .await;
    let report = run.json();
    assert_eq!(report["results"], json!([]));
    assert_eq!(report["summary"]["created"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_with_errors_or_for_another_server_is_refused() {
    let setup = Setup::start().await;
    setup.write_on_premises("shift.example.com", "mail.shift.example.com");
    setup
        .expect(&["apply", "manifests", "--auto-approve"], 0)
        .await;

    // Another server entirely: refused before anything is sent to either.
    setup.write_on_premises("new.example.com", "mail.new.example.com");
    setup
        .expect(&["plan", "manifests", "--out", "plan.json"], 0)
        .await;
    let other = Setup::start().await;
    let writes = setup.writes();
    let elsewhere = other.emulator.base_url();
    for run in [
        setup
            .vboctl(&["apply", "--plan", "plan.json", "--server", elsewhere])
            .await,
        setup
            .vboctl_with(
                &["apply", "--plan", "plan.json"],
                &[("VBOCTL_SERVER", elsewhere)],
            )
            .await,
    ] {
        run.expect_code(1);
        run.assert_stderr_contains(&format!(
                "error: the plan was made for {} but the server given (--server or VBOCTL_SERVER) is {elsewhere}",
                setup.emulator.base_url(),
            ));
    }
    assert!(other.emulator.request_counts().by_route.is_empty());
    assert_eq!(setup.writes(), writes);

    // A plan that could not plan everything: the type of shift.example.com cannot change.
    setup.write(
        "manifests/shift.example.com.yaml",
        &office365("shift.example.com", "Worldwide", "{fromEnv: CORP_PW}"),
    );
    let run = setup
        .expect(
            &[
                "plan",
                "manifests",
                "--format",
                "json",
                "--out",
                "errors.json",
            ],
            1,
        )
        .await;
    assert!(
        !setup.path().join("errors.json").exists(),
        "a plan with errors is never saved"
    );
    // A saved plan edited by hand to hold those errors is refused all the same.
    let mut saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(setup.path().join("plan.json")).unwrap())
            .unwrap();
    saved["plan"] = serde_json::from_str(&run.stdout).unwrap();
    setup.write("errors.json", &saved.to_string());
    for run in [
        setup.vboctl(&["apply", "--plan", "errors.json"]).await,
        setup
            .vboctl(&["apply", "manifests", "--auto-approve"])
            .await,
    ] {
        run.expect_code(1);
        run.assert_stderr_contains(
            "error: refusing to apply: 1 organization could not be planned; nothing was changed",
        );
        assert_eq!(setup.writes(), writes);
        assert!(!setup.names().contains(&"new.example.com".to_owned()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_from_the_server_cannot_forge_lines_or_drive_the_terminal() {
    let setup = Setup::start().await;
    setup.write_on_premises("corp.example.com", "mail.corp.example.com");
    let client = setup.client().await;
    let red = "red\u{1b}[31m\nError: forged";
    let clear = "clear\u{1b}[2J\r";
    client
        .create(&on_premises_body(red, "mail.red.example.com"))
        .await
        .unwrap();
    setup
        .expect(&["plan", "manifests", "--prune", "--out", "plan.json"], 0)
        .await;
    client
        .create(&on_premises_body(clear, "mail.clear.example.com"))
        .await
        .unwrap();

    let stale = setup.expect(&["apply", "--plan", "plan.json"], 1).await;
    assert!(
        stale
            .stderr
            .contains("\n  added since the plan: clear\\u{1b}[2J\\r\n"),
        "{}",
        stale.stderr
    );
    let run = setup
        .expect(&["apply", "manifests", "--prune", "--auto-approve"], 0)
        .await;
    let lines = result_lines(&run.stdout);
    assert_result_line(&lines, "- deleted", "red\\u{1b}[31m\\nError: forged", None);
    assert_result_line(&lines, "- deleted", "clear\\u{1b}[2J\\r", None);
    for run in [&stale, &run] {
        let all = run.all();
        assert!(!all.contains('\u{1b}'), "{all}");
        assert!(!all.contains('\r'), "{all}");
        assert!(
            all.lines().all(|line| !line.starts_with("Error: forged")),
            "{all}"
        );
    }
}

/// The lines that report a create found on the server after its answer was lost or late.
fn adopted_lines(stdout: &str) -> usize {
    stdout
        .matches("found on the server after an answer was lost, not created twice")
        .count()
}

/// One CLI run through every fault at once (the applier's own tests go through each fault with
/// creates, updates and deletes): the binary's defaults converge, nothing is created twice,
/// every fault fired, and the one-second tokens were renewed. Updates are left to the
/// applier's tests: with this many answers lost, the binary's eight attempts per request are
/// not always enough for an update, and a run that gives up is not what this test is about.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_through_every_fault_at_once() {
    const COUNT: usize = 20;
    const UNMANAGED: usize = 2;
    let mut setup = Setup::with_config(EmulatorConfig {
        token_ttl: Duration::from_secs(1),
        seed_orgs: UNMANAGED,
        ..EmulatorConfig::default()
    })
    .await;
    let names = tenants(&mut setup, COUNT);
    setup
        .emulator
        .set_faults(Faults {
            // At least 150 ms a request, four at a time, 22 changes: the run outlives a token.
            latency: Some(Duration::from_millis(150)..=Duration::from_millis(250)),
            // Low enough that the binary's default of 8 attempts per request is never spent
            // (0.2^8); commit-then-fail, the case that could duplicate, stays high.
            error_rate: 0.1,
            throttle_rate: 0.05,
            reset_rate: 0.05,
            commit_then_fail_rate: 0.35,
            seed: Some(5),
            ..Faults::default()
        })
        .unwrap();
    let before = setup.emulator.request_counts();

    let run = setup
        .expect(
            &[
                "apply",
                "manifests",
                "--prune",
                "--auto-approve",
                "--parallelism",
                "4",
            ],
            0,
        )
        .await;
    let during = setup.emulator.request_counts().since(&before);
    assert_eq!(setup.names(), names, "the unmanaged ones are gone");
    assert_eq!(during.created, COUNT as u64, "each created once");
    assert_eq!(during.deleted, UNMANAGED as u64, "each deleted once");
    let faults = &during.faults;
    assert!(
        faults.errors + faults.throttles + faults.resets > 0,
        "requests were refused or reset: {faults:?}"
    );
    assert!(faults.commit_then_fail > 0, "answers were lost: {faults:?}");
    assert!(faults.delayed > 0, "requests were delayed: {faults:?}");
    assert!(
        during.tokens.refresh > 0,
        "the token expired and was renewed: {:?}",
        during.tokens
    );
    assert_eq!(result_lines(&run.stdout).len(), COUNT + UNMANAGED);
    // Each create whose answer was lost after it was made is found, said so, and not repeated.
    let adopted = adopted_lines(&run.stdout) as u64;
    assert!(adopted <= faults.commit_then_fail, "{}", run.stdout);
    run.assert_stdout_ends_with(&format!(
        "Apply complete: {COUNT} created, 0 updated, {UNMANAGED} deleted, 0 failed.\n"
    ));
    setup.emulator.set_faults(Faults::default()).unwrap();
    setup
        .expect(&["plan", "manifests", "--prune", "--detailed-exitcode"], 0)
        .await;
}

/// A create whose answer comes after `--request-timeout` has an unknown outcome: it is looked
/// for on the server, found, and never sent again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_answered_after_the_request_timeout_is_found_not_sent_again() {
    const COUNT: usize = 3;
    let mut setup = Setup::start().await;
    let names = tenants(&mut setup, COUNT);
    setup
        .emulator
        .set_faults(Faults {
            slow_answer_rate: 1.0,
            slow_answer_delay: Duration::from_millis(1500),
            ..Faults::default()
        })
        .unwrap();
    let run = setup
        .expect(
            &[
                "apply",
                "manifests",
                "--auto-approve",
                "--request-timeout",
                "1",
            ],
            0,
        )
        .await;
    assert_eq!(setup.names(), names);
    let counts = setup.emulator.request_counts();
    assert_eq!(
        counts.faults.slow_answers, COUNT as u64,
        "every answer was late"
    );
    assert_eq!(counts.route("POST /v3/Organizations"), COUNT as u64);
    assert_eq!(counts.created, COUNT as u64);
    assert_eq!(adopted_lines(&run.stdout), COUNT, "{}", run.stdout);
    run.assert_stdout_ends_with(&format!(
        "Apply complete: {COUNT} created, 0 updated, 0 deleted, 0 failed.\n"
    ));
}

/// Two CI jobs applying the same manifests at the same time: each organization is created
/// once, by one of them; the other finds it made as its manifest says, and both succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_applies_racing_on_one_server_create_each_organization_once() {
    const COUNT: usize = 30;
    // Every request takes 300 ms: both runs list the server before either has created
    // anything, so both send every create.
    let mut setup = Setup::with_config(EmulatorConfig {
        faults: Faults {
            latency: Some(Duration::from_millis(300)..=Duration::from_millis(300)),
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let names = tenants(&mut setup, COUNT);
    let apply = [
        "apply",
        "manifests",
        "--auto-approve",
        "--parallelism",
        "30",
    ];
    let apply_json = [&apply[..], &["--format", "json"]].concat();
    let (text, json) = tokio::join!(setup.vboctl(&apply), setup.vboctl(&apply_json));
    text.expect_code(0);
    json.expect_code(0);

    assert_eq!(setup.names(), names);
    let counts = setup.emulator.request_counts();
    assert_eq!(counts.created, COUNT as u64, "each created once");
    let refused = counts.route("POST /v3/Organizations") - COUNT as u64;
    assert!(refused > 0, "the two runs raced: {counts:?}");

    // Every refused create is reported as created elsewhere, in text and in JSON.
    let elsewhere_text = text
        .stdout
        .lines()
        .filter(|line| line.starts_with("+ created elsewhere tenant-"))
        .count();
    let created_text = result_lines(&text.stdout).len() - elsewhere_text;
    let report = json.json();
    let statuses: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| result["status"].as_str().unwrap())
        .collect();
    let elsewhere_json = statuses
        .iter()
        .filter(|s| **s == "created-elsewhere")
        .count();
    let created_json = statuses.iter().filter(|s| **s == "created").count();
    assert_eq!(
        created_json + elsewhere_json,
        statuses.len(),
        "{statuses:?}"
    );
    assert_eq!(
        report["summary"]["created_elsewhere"],
        elsewhere_json as u64
    );
    assert_eq!((elsewhere_text + elsewhere_json) as u64, refused);
    assert_eq!(
        created_text + created_json,
        COUNT,
        "each created by one run"
    );
    if elsewhere_text > 0 {
        text.assert_stdout_contains(&format!(" {elsewhere_text} created elsewhere.\n"));
    }
    setup
        .expect(&["plan", "manifests", "--detailed-exitcode"], 0)
        .await;
}

/// Values that must never be printed, however verbose the logging.
const LOGIN_PASSWORD: &str = "Login-Pw-3f9c1e77";
const WRONG_PASSWORD: &str = "Wrong-Pw-a01b2c3d";
const ENV_SECRET: &str = "Env-Secret-8d2a4b19";
const FILE_SECRET: &str = "File-Secret-c51e0f63";

#[track_caller]
fn assert_no_leak(run: &Run) {
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        for forbidden in [
            LOGIN_PASSWORD,
            WRONG_PASSWORD,
            ENV_SECRET,
            FILE_SECRET,
            "access_token",
            "refresh_token",
            "Bearer ",
        ] {
            assert!(
                !text.contains(forbidden),
                "`vboctl {}` printed {forbidden:?} on {stream}:\n{text}",
                run.args
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_output_of_apply_carries_a_secret_even_at_trace_level() {
    let mut setup = Setup::with_config(EmulatorConfig {
        users: vec![User::new("operator", LOGIN_PASSWORD)],
        ..EmulatorConfig::default()
    })
    .await;
    setup.set_env("RUST_LOG", "trace");
    env_and_file_secrets(&mut setup, ENV_SECRET, FILE_SECRET);
    setup.set_env("EMPTY_PW", "");
    setup.write(
        "manifests/refused.yaml",
        &on_premises(
            "refused.example.com",
            "mail.refused.example.com",
            "{fromEnv: EMPTY_PW}",
        ),
    );
    let mut runs = Vec::new();

    // Refused without a terminal; then applied as JSON with one change refused by the server.
    runs.push(setup.expect(&["apply", "manifests"], 1).await);
    let json = ["apply", "manifests", "--auto-approve", "--format", "json"];
    runs.push(setup.expect(&json, 1).await);
    // The values were really in play: the server holds them.
    assert_secrets_received(&setup, ENV_SECRET, FILE_SECRET);
    // The same failure as text; then an update, which sends the secret again.
    runs.push(
        setup
            .expect(&["apply", "manifests", "--auto-approve"], 1)
            .await,
    );
    setup.remove("manifests/refused.yaml");
    setup.write(
        "manifests/env.yaml",
        &office365("env.example.com", "China", "{fromEnv: ENV_PW}"),
    );
    runs.push(
        setup
            .expect(&["apply", "manifests", "--auto-approve"], 0)
            .await,
    );

    // A saved plan: applied, then refused as stale, in both formats.
    setup.write(
        "manifests/file.yaml",
        &on_premises(
            "file.example.com",
            "mail2.file.example.com",
            "{fromFile: secrets/file.txt}",
        ),
    );
    runs.push(
        setup
            .expect(&["plan", "manifests", "--out", "plan.json"], 0)
            .await,
    );
    let saved = std::fs::read_to_string(setup.path().join("plan.json")).unwrap();
    assert!(!saved.contains(ENV_SECRET) && !saved.contains(FILE_SECRET));
    runs.push(setup.expect(&["apply", "--plan", "plan.json"], 0).await);
    for format in ["text", "json"] {
        let stale = ["apply", "--plan", "plan.json", "--format", format];
        runs.push(setup.expect(&stale, 1).await);
    }

    // Pruning as JSON; and a login the server rejects, in both formats.
    setup.remove("manifests/env.yaml");
    let prune = [
        "apply",
        "manifests",
        "--prune",
        "--auto-approve",
        "--format",
        "json",
    ];
    runs.push(setup.expect(&prune, 0).await);
    for format in ["text", "json"] {
        let run = setup
            .vboctl_with(
                &["apply", "manifests", "--auto-approve", "--format", format],
                &[("VBOCTL_PASSWORD", WRONG_PASSWORD)],
            )
            .await;
        run.expect_code(1);
        runs.push(run);
    }

    // Plain HTTP logs differently from HTTPS: one apply over it too.
    let mut plain = Setup::over_http(EmulatorConfig {
        users: vec![User::new("operator", LOGIN_PASSWORD)],
        ..EmulatorConfig::default()
    })
    .await;
    plain.set_env("RUST_LOG", "trace");
    plain.set_env("ENV_PW", ENV_SECRET);
    plain.write(
        "manifests/env.yaml",
        &office365("env.example.com", "Worldwide", "{fromEnv: ENV_PW}"),
    );
    runs.push(
        plain
            .expect(&["apply", "manifests", "--auto-approve"], 0)
            .await,
    );
    assert_eq!(
        plain.stored("env.example.com")["body"]["exchangeOnlineSettings"]["password"],
        ENV_SECRET
    );

    for run in &runs {
        assert_no_leak(run);
        // Every run made requests, and logged them at trace level.
        assert!(
            run.stderr.contains(" TRACE "),
            "`vboctl {}`:\n{}",
            run.args,
            run.stderr
        );
    }
}
