//! The committed JSON Schema of the plan document describes what `plan --format json` and
//! `show --format json` really print.

use serde_json::Value;

use crate::apply_support::{Setup, on_premises};
use crate::repository;

/// The committed schema, compiled.
fn committed_validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(repository().join("schemas/plan.schema.json"))
        .expect("schemas/plan.schema.json is committed");
    let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("the schema compiles")
}

/// Panics with every violation unless `document` is valid.
#[track_caller]
fn assert_valid(validator: &jsonschema::Validator, document: &Value, what: &str) {
    let problems: Vec<String> = validator
        .iter_errors(document)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(problems.is_empty(), "{what}: {problems:#?}\n{document:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_plans_of_every_shape_match_the_committed_schema() {
    let validator = committed_validator();
    let setup = Setup::start().await;
    for name in ["same", "changed", "gone"] {
        setup.write_on_premises(
            &format!("{name}.example.com"),
            &format!("mail.{name}.example.com"),
        );
    }
    setup
        .expect(&["apply", "manifests", "--auto-approve"], 0)
        .await;
    setup.write_on_premises("changed.example.com", "mail2.changed.example.com");
    setup.remove("manifests/gone.example.com.yaml");
    setup.write_on_premises("new.example.com", "mail.new.example.com");
    // A field REST API v3 does not take: a plan error.
    setup.write(
        "manifests/described.yaml",
        &format!(
            "{}  description: gold tier\n",
            on_premises(
                "described.example.com",
                "mail.example.com",
                "{fromEnv: CORP_PW}"
            )
        ),
    );

    // Create, update, no-op, unmanaged and an error in one document.
    let with_error = setup
        .expect(&["plan", "manifests", "--format", "json"], 1)
        .await
        .json();
    assert_eq!(with_error["errors"][0]["kind"], "unsupported-field");
    assert_eq!(with_error["unmanaged"][0]["name"], "gone.example.com");
    assert_valid(&validator, &with_error, "a plan with an error");

    // Deletes, and the saved plan shown again.
    setup.remove("manifests/described.yaml");
    let pruned = setup
        .expect(
            &[
                "plan",
                "manifests",
                "--prune",
                "--format",
                "json",
                "--out",
                "plan.json",
            ],
            0,
        )
        .await
        .json();
    let actions: Vec<&str> = pruned["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| change["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["update", "delete", "create", "no-op"]);
    assert_valid(&validator, &pruned, "a plan with every action");
    let shown = setup
        .expect(&["show", "plan.json", "--format", "json"], 0)
        .await
        .json();
    assert_valid(&validator, &shown, "a saved plan shown");

    // A narrowed plan.
    let narrowed = setup
        .expect(
            &[
                "plan",
                "manifests",
                "--target",
                "new.example.com",
                "--format",
                "json",
            ],
            0,
        )
        .await
        .json();
    assert!(narrowed["narrowed"].is_object());
    assert_valid(&validator, &narrowed, "a narrowed plan");

    // The schema constrains: a document without its summary, or with an unknown action, fails.
    let mut broken = pruned.clone();
    broken.as_object_mut().unwrap().remove("summary");
    assert!(!validator.is_valid(&broken));
    let mut broken = pruned;
    broken["changes"][0]["action"] = Value::from("replace");
    assert!(!validator.is_valid(&broken));
}
