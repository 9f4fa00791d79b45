//! `--format github` and `--format gitlab`: what CI platforms read from vboctl's output.

use std::path::Path;

use serde_json::Value;

use crate::apply_support::{Setup, on_premises};
use crate::support::{bare_vboctl, execute};

/// The lines of `stdout` that are workflow commands.
fn workflow_commands(stdout: &str) -> Vec<&str> {
    stdout.lines().filter(|l| l.starts_with("::")).collect()
}

/// A manifest whose region is wrong: one error at line 7, column 11.
fn wrong_region(name: &str) -> String {
    format!(
        "apiVersion: vboctl/v1\nkind: Organization\nmetadata:\n  name: {name}\nspec:\n  type: Office365\n  region: Mars\n"
    )
}

/// Twelve manifests with an error each, one of them in a file whose name needs escaping and
/// whose error message holds a `%`, and one valid manifest with two warnings.
fn broken_manifests(dir: &Path) {
    let tenants = dir.join("tenants");
    std::fs::create_dir_all(&tenants).unwrap();
    std::fs::write(
        tenants.join("a,b:c.yaml"),
        "apiVersion: vboctl/v1\nkind: Organization\nmetadata:\n  name: odd.example.com\nspec:\n  type: Office365\n  50%off: true\n",
    )
    .unwrap();
    for n in 1..=11 {
        std::fs::write(
            tenants.join(format!("t{n:02}.yaml")),
            wrong_region(&format!("t{n:02}.example.com")),
        )
        .unwrap();
    }
    // A literal password and SSL off: two warnings, never the password itself.
    std::fs::write(
        tenants.join("w.yaml"),
        "apiVersion: vboctl/v1\nkind: Organization\nmetadata:\n  name: w.example.com\nspec:\n  type: OnPremises\n  isExchange: true\n  exchangeSettings:\n    serverName: mail.w.example.com\n    username: backup\n    password: hunter2-literal\n    useSSL: false\n",
    )
    .unwrap();
}

#[tokio::test]
async fn validate_for_github_annotates_ten_errors_escapes_them_and_counts_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    broken_manifests(dir.path());
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let mut command = bare_vboctl(dir.path());
    command
        .args(["validate", "--format", "github", "tenants"])
        .env("GITHUB_STEP_SUMMARY", &summary);
    let run = execute(command).await.expect_code(1);
    let lines: Vec<&str> = run.stdout.lines().collect();

    // The odd file's error: `,` and `:` escaped in the file property, `%` in the message.
    assert_eq!(
        lines[0],
        "::error file=tenants/a%2Cb%3Ac.yaml,line=7,col=3,title=Invalid manifest::unknown field `50%25off`%0Ahint: fields allowed here: `description`, `exchangeOnlineSettings`, `isExchangeOnline`, `isSharePointOnline`, `isTeamsChatsOnline`, `isTeamsOnline`, `region`, `sharePointOnlineSettings`, `type`",
        "{}",
        run.stdout
    );
    let errors: Vec<&&str> = lines.iter().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(errors.len(), 10, "{}", run.stdout);
    assert_eq!(
        errors[1],
        &"::error file=tenants/t01.yaml,line=7,col=11,title=Invalid manifest::unknown region `Mars`%0Ahint: `region` is one of `Worldwide`, `Germany`, `China`, `USGovernment`, `USDefence`, `USgovCommunity`, `USgovDefence`"
    );
    assert!(
        !run.stdout.contains("t10.yaml"),
        "past the cap: {}",
        run.stdout
    );
    let warnings: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with("::warning "))
        .collect();
    assert_eq!(warnings.len(), 2, "{}", run.stdout);
    assert!(
        warnings
            .iter()
            .all(|l| l.starts_with("::warning file=tenants/w.yaml,line=")),
        "{warnings:#?}"
    );
    assert!(lines.contains(
        &"::notice title=More problems::2 more errors not shown as annotations: GitHub shows 10 of each per step. Every problem is in the step's log."
    ));
    assert_eq!(lines.last(), Some(&"invalid: 12 errors, 2 warnings"));
    assert!(!run.stdout.contains("hunter2"), "{}", run.stdout);

    // The job summary gets every problem, after what an earlier step wrote.
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        summary.starts_with(
            "earlier step\n### vboctl validate\n\n**invalid: 12 errors, 2 warnings**\n"
        ),
        "{summary}"
    );
    assert!(
        summary.contains(
            "| error | <code>tenants/t11.yaml:7:11</code> | unknown region &#96;Mars&#96; |"
        ),
        "{summary}"
    );
    assert!(!summary.contains("hunter2"), "{summary}");
}

#[tokio::test]
async fn validate_for_gitlab_writes_a_code_quality_report() {
    let dir = tempfile::tempdir().unwrap();
    broken_manifests(dir.path());
    let mut command = bare_vboctl(dir.path());
    command.args(["validate", "--format", "gitlab", "tenants"]);
    let run = execute(command).await.expect_code(1);
    let report: Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    let issues = report.as_array().expect("an array");
    assert_eq!(issues.len(), 14, "every problem, no cap: {}", run.stdout);
    let t11 = issues
        .iter()
        .find(|issue| issue["location"]["path"] == "tenants/t11.yaml")
        .expect("t11's problem");
    assert_eq!(t11["location"]["lines"]["begin"], 7);
    assert_eq!(t11["severity"], "critical");
    assert_eq!(t11["check_name"], "Invalid manifest");
    assert!(
        t11["description"]
            .as_str()
            .unwrap()
            .starts_with("unknown region `Mars`"),
        "{t11}"
    );
    let warning = issues
        .iter()
        .find(|issue| issue["location"]["path"] == "tenants/w.yaml")
        .expect("a warning");
    assert_eq!(warning["severity"], "minor");
    let fingerprints: std::collections::BTreeSet<&str> = issues
        .iter()
        .map(|issue| issue["fingerprint"].as_str().expect("a fingerprint"))
        .collect();
    assert_eq!(fingerprints.len(), 14, "one fingerprint per problem");
    assert!(!run.stdout.contains("hunter2"));

    // Valid manifests give an empty report, and exit 0.
    std::fs::remove_dir_all(dir.path().join("tenants")).unwrap();
    std::fs::create_dir_all(dir.path().join("tenants")).unwrap();
    std::fs::write(
        dir.path().join("tenants/ok.yaml"),
        on_premises("ok.example.com", "mail.ok.example.com", "{fromEnv: OK_PW}"),
    )
    .unwrap();
    let mut command = bare_vboctl(dir.path());
    command.args(["validate", "--format", "gitlab", "tenants"]);
    let run = execute(command).await.expect_code(0);
    assert_eq!(run.stdout, "[]\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_for_github_annotates_plan_errors_and_writes_the_markdown_plan_to_the_summary() {
    let mut setup = Setup::start().await;
    setup.write_on_premises("corp.example.com", "mail.corp.example.com");
    // A field REST API v3 does not take, in two manifests: a plan error at each field.
    for name in ["described-a", "described-b"] {
        setup.write(
            &format!("manifests/{name}.yaml"),
            &format!(
                "{}  description: gold tier\n",
                on_premises(
                    &format!("{name}.example.com"),
                    "mail.example.com",
                    "{fromEnv: CORP_PW}"
                )
            ),
        );
    }
    let summary = setup.path().join("summary.md");
    setup.set_env("GITHUB_STEP_SUMMARY", &summary.display().to_string());

    let run = setup
        .expect(&["plan", "manifests", "--format", "github"], 1)
        .await;
    let annotations = workflow_commands(&run.stdout);
    assert_eq!(annotations.len(), 2, "{}", run.stdout);
    assert!(
        annotations[0].starts_with(
            "::error file=manifests/described-a.yaml,line=13,col=3,title=Cannot plan described-a.example.com::organization \"described-a.example.com\": spec.description at manifests/described-a.yaml:13:3 is not taken by REST API v3 (the server's); it is "
        ),
        "{}",
        run.stdout
    );
    assert!(
        annotations[0].contains("%0Ahint: remove spec.description, or plan against"),
        "{}",
        run.stdout
    );
    assert!(
        annotations[1].starts_with("::error file=manifests/described-b.yaml,line=13,col=3,"),
        "{}",
        run.stdout
    );
    // The plan itself is in the log, without colour.
    assert!(
        run.stdout
            .contains("organization[\"corp.example.com\"] will be created"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains('\u{1b}'));
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(summary.starts_with("### vboctl plan\n"), "{summary}");
    assert!(summary.contains("| 1 | 0 | 0 | 0 | 0 | 2 |"), "{summary}");

    // An error that is not about a manifest (here, the server refuses the login) is one
    // annotation too.
    setup.set_env("VBOCTL_PASSWORD", "Wr0ng-S3cret");
    setup.remove("manifests/described-a.yaml");
    setup.remove("manifests/described-b.yaml");
    let run = setup
        .expect(&["plan", "manifests", "--format", "github"], 1)
        .await;
    let annotations = workflow_commands(&run.stdout);
    assert_eq!(annotations.len(), 1, "{}", run.stdout);
    assert!(
        annotations[0].starts_with("::error title=vboctl plan failed::"),
        "{}",
        run.stdout
    );
    assert!(!run.all().contains("Wr0ng-S3cret"), "{}", run.all());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_for_github_annotates_failed_changes_and_reports_to_the_summary() {
    let mut setup = Setup::start().await;
    setup.write_on_premises("corp.example.com", "mail.corp.example.com");
    setup.write(
        "manifests/bad.yaml",
        &on_premises(
            "bad.example.com",
            "mail.bad.example.com",
            "{fromEnv: BAD_PW}",
        ),
    );
    // Set, so vboctl can read it, but empty: the server answers 400.
    setup.set_env("BAD_PW", "");
    let summary = setup.path().join("summary.md");
    setup.set_env("GITHUB_STEP_SUMMARY", &summary.display().to_string());

    let run = setup
        .expect(
            &["apply", "manifests", "--auto-approve", "--format", "github"],
            1,
        )
        .await;
    let annotations = workflow_commands(&run.stdout);
    assert_eq!(
        annotations,
        [
            "::error file=manifests/bad.yaml,line=4,col=9,title=Cannot create bad.example.com::Property 'exchangeSettings.password' is required."
        ],
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Apply complete: 1 created, 0 updated, 0 deleted, 1 failed."),
        "{}",
        run.stdout
    );
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(summary.starts_with("### vboctl apply\n"), "{summary}");
    assert!(
        summary.contains("**Apply complete: 1 created, 0 updated, 0 deleted, 1 failed.**"),
        "{summary}"
    );
    assert!(
        summary.contains(
            "| x | <code>bad.example.com</code> | failed bad.example.com: Property 'exchangeSettings.password' is required. |"
        ),
        "{summary}"
    );
    assert!(
        summary.contains("| + | <code>corp.example.com</code> | created corp.example.com (id "),
        "{summary}"
    );
    assert!(!summary.contains("corp-pw") && !run.stdout.contains("corp-pw"));
}
