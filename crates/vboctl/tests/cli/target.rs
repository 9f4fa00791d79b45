//! Narrowed runs end to end (`--target`, `--selector`): plan and apply touch only the
//! organizations selected, prune stays inside them, the plan says so, and a saved narrowed plan
//! applies only its scope and is stale only for changes inside it.

use crate::apply_support::{Setup, on_premises};

/// Writes `manifests/<name>.yaml`: an OnPremises organization `name.corp.local` whose Exchange
/// server is `server`, with `labels` (a YAML flow mapping, for example `{tier: gold}`).
fn write(setup: &Setup, name: &str, server: &str, labels: &str) {
    let full = format!("{name}.corp.local");
    let manifest = on_premises(&full, server, "{fromEnv: CORP_PW}").replace(
        &format!("  name: {full}\n"),
        &format!("  name: {full}\n  labels: {labels}\n"),
    );
    assert!(manifest.contains("labels:"), "{manifest}");
    setup.write(&format!("manifests/{name}.yaml"), &manifest);
}

/// The Exchange server the server stores for `name.corp.local`.
fn server_name(setup: &Setup, name: &str) -> String {
    let stored = setup.stored(&format!("{name}.corp.local"));
    stored["body"]["exchangeSettings"]["serverName"]
        .as_str()
        .unwrap_or_else(|| panic!("{stored}"))
        .to_owned()
}

/// a and b (tier gold), c (tier silver) and legacy, all on the server; legacy's manifest then
/// removed, and every other manifest changed since.
async fn fleet() -> Setup {
    let setup = Setup::start().await;
    write(&setup, "a", "mail.corp.local", "{tier: gold, region: emea}");
    write(&setup, "b", "mail.corp.local", "{tier: gold}");
    write(&setup, "c", "mail.corp.local", "{tier: silver}");
    write(&setup, "legacy", "mail.corp.local", "{}");
    setup
        .expect(&["apply", "manifests", "--auto-approve"], 0)
        .await;
    setup.remove("manifests/legacy.yaml");
    write(&setup, "a", "new.corp.local", "{tier: gold, region: emea}");
    write(&setup, "b", "new.corp.local", "{tier: gold}");
    write(&setup, "c", "new.corp.local", "{tier: silver}");
    setup
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_and_apply_by_labels_keep_prune_inside_the_selection() {
    let setup = fleet().await;

    let json = setup
        .expect(
            &[
                "plan",
                "manifests",
                "-l",
                "tier=gold",
                "--prune",
                "--format",
                "json",
            ],
            0,
        )
        .await
        .json();
    assert_eq!(json["format_version"], "1.2");
    assert_eq!(
        json["narrowed"],
        serde_json::json!({"targets": [], "selector": "tier=gold", "selected": 2, "organizations": 4})
    );
    let changes: Vec<(&str, &str)> = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        changes,
        [("a.corp.local", "update"), ("b.corp.local", "update")],
        "neither c (not selected) nor legacy (in no manifest) is planned, nor deleted"
    );
    assert_eq!(json["unmanaged"], serde_json::json!([]));

    for (format, header) in [
        (
            "text",
            "Narrowed to: --selector tier=gold (2 of 4 organizations)",
        ),
        (
            "markdown",
            "**Narrowed to: --selector tier=gold (2 of 4 organizations)",
        ),
    ] {
        setup
            .expect(
                &[
                    "plan",
                    "manifests",
                    "--selector",
                    "tier=gold",
                    "--format",
                    format,
                ],
                0,
            )
            .await
            .assert_stdout_contains(header);
    }

    setup
        .expect(
            &[
                "apply",
                "manifests",
                "-l",
                "tier=gold",
                "--prune",
                "--auto-approve",
            ],
            0,
        )
        .await;
    assert_eq!(server_name(&setup, "a"), "new.corp.local");
    assert_eq!(server_name(&setup, "b"), "new.corp.local");
    assert_eq!(server_name(&setup, "c"), "mail.corp.local", "not selected");
    assert!(
        setup.names().contains(&"legacy.corp.local".to_owned()),
        "prune stayed inside the selection: {:?}",
        setup.names()
    );

    // Set-based forms select the rest.
    setup
        .expect(
            &[
                "apply",
                "manifests",
                "-l",
                "tier notin (gold),!region",
                "--auto-approve",
            ],
            0,
        )
        .await;
    assert_eq!(server_name(&setup, "c"), "new.corp.local");
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_and_apply_by_name() {
    let setup = fleet().await;

    let run = setup
        .expect(&["plan", "manifests", "--target", "C.CORP.LOCAL"], 0)
        .await;
    run.assert_stdout_contains("Narrowed to: --target C.CORP.LOCAL (1 of 4 organizations)");
    run.assert_stdout_contains("organization[\"c.corp.local\"] will be updated");
    assert!(!run.stdout.contains("a.corp.local"), "{}", run.stdout);
    assert!(
        !run.stdout.contains("legacy"),
        "not listed as unmanaged: {}",
        run.stdout
    );

    setup
        .expect(
            &[
                "apply",
                "manifests",
                "--target",
                "c.corp.local",
                "--prune",
                "--auto-approve",
            ],
            0,
        )
        .await;
    assert_eq!(server_name(&setup, "c"), "new.corp.local");
    assert_eq!(server_name(&setup, "a"), "mail.corp.local");
    assert!(setup.names().contains(&"legacy.corp.local".to_owned()));

    // An organization in no manifest: only with --prune, and then it is deleted.
    let before = setup.writes();
    let run = setup
        .expect(&["plan", "manifests", "--target", "legacy.corp.local"], 1)
        .await;
    run.assert_stdout_contains("only --prune acts on");
    let run = setup
        .expect(
            &[
                "apply",
                "manifests",
                "--target",
                "legacy.corp.local",
                "--auto-approve",
            ],
            1,
        )
        .await;
    run.assert_stderr_contains("refusing to apply");
    assert_eq!(setup.writes(), before, "nothing was sent");
    let run = setup
        .expect(
            &[
                "apply",
                "manifests",
                "--target",
                "legacy.corp.local",
                "--prune",
                "--auto-approve",
            ],
            0,
        )
        .await;
    run.assert_stdout_contains("organization[\"legacy.corp.local\"] will be deleted");
    assert!(!setup.names().contains(&"legacy.corp.local".to_owned()));
    assert_eq!(server_name(&setup, "a"), "mail.corp.local", "still outside");

    // A name nobody has.
    let run = setup
        .expect(&["plan", "manifests", "--target", "nowhere.corp.local"], 1)
        .await;
    run.assert_stdout_contains("--target \"nowhere.corp.local\" names no organization");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_selector_is_a_usage_error_naming_the_bad_part() {
    let setup = Setup::start().await;
    write(&setup, "a", "mail.corp.local", "{tier: gold}");
    for (selector, part) in [
        ("tier in (gold", "unclosed parenthesis in \"(gold\""),
        ("tier=gold,,a=b", "empty requirement at character 11"),
        ("tier>3", "key \"tier>3\""),
    ] {
        let run = setup
            .expect(&["plan", "manifests", "--selector", selector], 1)
            .await;
        run.assert_stderr_contains(part);
    }
    let (requests, _) = setup.writes();
    assert_eq!(requests, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_narrowed_plan_applies_only_its_scope_and_ignores_changes_outside_it() {
    let setup = fleet().await;
    setup
        .expect(
            &[
                "plan",
                "manifests",
                "--target",
                "a.corp.local",
                "--out",
                "plan-a.json",
            ],
            0,
        )
        .await;
    setup
        .expect(
            &[
                "plan",
                "manifests",
                "-l",
                "tier=silver",
                "--out",
                "plan-c.json",
            ],
            0,
        )
        .await;
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(setup.path().join("plan-a.json")).unwrap())
            .unwrap();
    assert_eq!(saved["plan"]["narrowed"]["targets"][0], "a.corp.local");
    assert_eq!(saved["desired"].as_array().unwrap().len(), 1);

    // Since: c changed on the server (inside plan-c's scope, outside plan-a's), legacy
    // deleted (outside both).
    setup
        .expect(
            &[
                "apply",
                "manifests",
                "--target",
                "c.corp.local",
                "--auto-approve",
            ],
            0,
        )
        .await;
    setup
        .expect(
            &[
                "apply",
                "manifests",
                "--target",
                "legacy.corp.local",
                "--prune",
                "--auto-approve",
            ],
            0,
        )
        .await;

    let run = setup.expect(&["apply", "--plan", "plan-a.json"], 0).await;
    run.assert_stdout_contains("a.corp.local");
    assert!(!run.stdout.contains("b.corp.local"), "{}", run.stdout);
    assert_eq!(server_name(&setup, "a"), "new.corp.local");
    assert_eq!(
        server_name(&setup, "b"),
        "mail.corp.local",
        "outside the plan"
    );

    let before = setup.writes();
    let run = setup.expect(&["apply", "--plan", "plan-c.json"], 1).await;
    run.assert_stderr_contains("changed since the plan: c.corp.local");
    assert!(!run.stderr.contains("a.corp.local"), "{}", run.stderr);
    assert_eq!(setup.writes(), before);

    let run = setup
        .expect(
            &["apply", "--plan", "plan-a.json", "--target", "b.corp.local"],
            1,
        )
        .await;
    run.assert_stderr_contains("--target and --selector cannot be combined with --plan");
}
