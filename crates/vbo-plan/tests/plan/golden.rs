//! Golden files of the two documents scripts read: the plan of `vboctl plan --format json`
//! (`tests/fixtures/plan-v1.json`) and the saved plan of `vboctl plan --out`
//! (`tests/fixtures/saved-plan-v1.json`), both as docs/plan-format.md describes them.
//!
//! Each fixture is checked both ways, so that a renamed, added or removed field cannot slip
//! through: the documents rendered from a known plan must equal the fixture key by key, and
//! the fixture read into the Rust types must hold the expected values field by field and
//! serialize back to the fixture unchanged (a key the types do not know would be dropped).
//!
//! The fixtures are the one place to update when the format changes on purpose: edit them, or
//! run the tests with `VBOCTL_UPDATE_FIXTURES=1` to write what the code renders now, and review
//! the difference.

use std::path::PathBuf;

use serde_json::{Value, json};
use vbo_model::{OrganizationType, Spec};
use vbo_plan::render::json as render_json;
use vbo_plan::{
    Action, Desired, Fingerprints, PLAN_FORMAT_VERSION, Plan, PlanError, PlanFile, PlanOptions,
    SAVED_PLAN_FORMAT_VERSION, Summary,
};

use crate::fixtures::{SERVER, desired, estate_plan, observed};

/// The fixture `name`, or, with `VBOCTL_UPDATE_FIXTURES` set, `rendered` written over it.
fn fixture(name: &str, rendered: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    if std::env::var_os("VBOCTL_UPDATE_FIXTURES").is_some() {
        std::fs::write(&path, rendered).expect("the fixture is written");
    }
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("{} is not JSON: {error}", path.display()))
}

/// Every difference between `actual` and `expected`, by JSON path: keys missing or extra,
/// arrays of another length, other values.
fn differences(path: &str, actual: &Value, expected: &Value, out: &mut Vec<String>) {
    match (actual, expected) {
        (Value::Object(actual), Value::Object(expected)) => {
            for key in expected.keys().filter(|key| !actual.contains_key(*key)) {
                out.push(format!("{path}.{key}: missing, the fixture has it"));
            }
            for key in actual.keys().filter(|key| !expected.contains_key(*key)) {
                out.push(format!("{path}.{key}: not in the fixture"));
            }
            for (key, value) in actual {
                if let Some(wanted) = expected.get(key) {
                    differences(&format!("{path}.{key}"), value, wanted, out);
                }
            }
        }
        (Value::Array(actual), Value::Array(expected)) if actual.len() == expected.len() => {
            for (index, (value, wanted)) in actual.iter().zip(expected).enumerate() {
                differences(&format!("{path}[{index}]"), value, wanted, out);
            }
        }
        (Value::Array(actual), Value::Array(expected)) => out.push(format!(
            "{path}: {} items, the fixture has {}",
            actual.len(),
            expected.len()
        )),
        _ if actual != expected => {
            out.push(format!("{path}: {actual} here, {expected} in the fixture"))
        }
        _ => {}
    }
}

#[track_caller]
fn assert_same_json(what: &str, actual: &Value, expected: &Value) {
    let mut found = Vec::new();
    differences("$", actual, expected, &mut found);
    assert!(
        found.is_empty(),
        "{what} differs from its fixture:\n  {}",
        found.join("\n  ")
    );
}

/// The estate without what a saved plan cannot hold or apply: the manifest with a literal
/// secret and the one whose type changed. Planned with prune, so that it deletes too: the two
/// organizations in no manifest, and the one whose manifest is left out.
fn saved_plan() -> PlanFile {
    let desired: Vec<Desired> = desired()
        .into_iter()
        .filter(|d| {
            !["woodgrove.onmicrosoft.com", "tailspin.onmicrosoft.com"].contains(&d.name.as_str())
        })
        .collect();
    let observed = observed();
    let plan = vbo_plan::plan(
        &desired,
        &observed,
        &PlanOptions {
            prune: true,
            server: SERVER.to_owned(),
            api_version: vbo_model::RestApiVersion::V3,
            scope: None,
        },
    );
    PlanFile::new(plan, &desired, &observed)
}

#[test]
fn the_plan_document_is_rendered_as_its_fixture() {
    let rendered = render_json(&estate_plan(false));
    let expected = fixture("plan-v1.json", &rendered);
    let actual: Value = serde_json::from_str(&rendered).unwrap();
    assert_same_json("the rendered plan", &actual, &expected);
}

#[test]
fn the_plan_fixture_reads_field_by_field() {
    let expected = fixture("plan-v1.json", &render_json(&estate_plan(false)));
    let plan: Plan = serde_json::from_value(expected.clone()).expect("the fixture reads");
    assert_same_json(
        "the fixture read and written again",
        &serde_json::to_value(&plan).unwrap(),
        &expected,
    );

    assert_eq!(plan.format_version, PLAN_FORMAT_VERSION);
    assert_eq!(plan.server, SERVER);
    assert_eq!(plan.api_version, vbo_model::RestApiVersion::V3);
    assert_eq!(expected["api_version"], "v3");
    let actions: Vec<(&str, Action)> = plan
        .changes
        .iter()
        .map(|c| (c.name.as_str(), c.action))
        .collect();
    assert_eq!(
        actions,
        [
            ("contoso.onmicrosoft.com", Action::Create),
            ("fabrikam.local", Action::Update),
            ("litware.onmicrosoft.com", Action::Update),
            ("northwind.onmicrosoft.com", Action::NoOp),
            ("woodgrove.onmicrosoft.com", Action::Create),
        ]
    );

    let create = &plan.changes[0];
    assert_eq!(create.address, "organization[\"contoso.onmicrosoft.com\"]");
    assert_eq!(create.id, None);
    assert_eq!(
        create.origin.as_deref(),
        Some("examples/msp/tenants.yaml:1:1")
    );
    assert_eq!(create.before, None);
    let after = create.after.as_ref().expect("a create has a body").value();
    assert_eq!(after["name"], "contoso.onmicrosoft.com");
    assert_eq!(after["type"], "Office365");
    assert_eq!(
        after["exchangeOnlineSettings"]["password"],
        json!({"fromEnv": "CONTOSO_EXO_PASSWORD"})
    );
    assert_eq!(
        after["sharePointOnlineSettings"]["applicationSecret"],
        json!({"fromFile": "secrets/contoso-app.txt"})
    );
    assert!(create.changed_fields.is_empty());
    assert_eq!(create.reason, "not on the server");

    let update = &plan.changes[1];
    assert_eq!(update.address, "organization[\"fabrikam.local\"]");
    assert_eq!(
        update.id.as_deref(),
        Some("6f1b7a52-9d3e-4f0a-8d61-2b3c4d5e6f70")
    );
    assert_eq!(
        update.origin.as_deref(),
        Some("examples/msp/tenants.yaml:20:1")
    );
    let before = update
        .before
        .as_ref()
        .expect("an update shows the server's state")
        .value();
    assert_eq!(before["name"], "fabrikam.local");
    assert_eq!(before["exchangeSettings"]["useSSL"], false);
    let changed: Vec<(&str, &Value, &Value)> = update
        .changed_fields
        .iter()
        .map(|f| (f.path.as_str(), &f.before, &f.after))
        .collect();
    assert_eq!(
        changed,
        [
            (
                "exchangeSettings.serverName",
                &json!("exchange01.fabrikam.local"),
                &json!("mail.fabrikam.local")
            ),
            ("exchangeSettings.useSSL", &json!(false), &json!(true)),
            (
                "sharePointSettings.grantAccessToSiteCollections",
                &json!(true),
                &json!(false)
            ),
            ("sharePointSettings.serverPort", &json!(5985), &json!(5986)),
        ]
    );
    assert_eq!(update.reason, "4 fields differ from the server");

    let literal = &plan.changes[4];
    assert_eq!(
        literal.after.as_ref().unwrap().value()["exchangeOnlineSettings"]["password"],
        json!({"sensitive": "literal value in manifest"})
    );

    let unmanaged: Vec<(&str, &str, OrganizationType)> = plan
        .unmanaged
        .iter()
        .map(|u| (u.id.as_str(), u.name.as_str(), u.kind))
        .collect();
    assert_eq!(
        unmanaged,
        [
            (
                "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e",
                "adatum.onmicrosoft.com",
                OrganizationType::Office365
            ),
            (
                "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                "legacy.example.com",
                OrganizationType::OnPremises
            ),
        ]
    );
    assert_eq!(
        plan.summary,
        Summary {
            create: 2,
            update: 2,
            delete: 0,
            no_op: 1
        }
    );
    assert_eq!(plan.errors.len(), 1);
    assert_eq!(
        plan.errors[0].error,
        PlanError::TypeChange {
            name: "tailspin.onmicrosoft.com".into(),
            origin: "examples/msp/tenants.yaml:60:1".into(),
            id: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d".into(),
            observed: OrganizationType::Office365,
            desired: OrganizationType::Hybrid,
        }
    );
    assert_eq!(plan.errors[0].message, plan.errors[0].error.to_string());
    assert_eq!(plan.errors[0].hint, plan.errors[0].error.hint());
    assert_eq!(expected["errors"][0]["kind"], "type-change");
}

#[test]
fn the_saved_plan_is_written_as_its_fixture() {
    let rendered = saved_plan().to_json().expect("no literal secrets");
    let expected = fixture("saved-plan-v1.json", &format!("{rendered}\n"));
    let actual: Value = serde_json::from_str(&rendered).unwrap();
    assert_same_json("the saved plan", &actual, &expected);
}

#[test]
fn the_saved_plan_fixture_reads_field_by_field() {
    let rendered = saved_plan().to_json().expect("no literal secrets");
    let expected = fixture("saved-plan-v1.json", &format!("{rendered}\n"));
    let text = serde_json::to_string(&expected).unwrap();
    let file = PlanFile::from_json(&text).expect("the fixture reads");
    assert_same_json(
        "the fixture read and written again",
        &serde_json::to_value(&file).unwrap(),
        &expected,
    );

    assert_eq!(file.format_version, SAVED_PLAN_FORMAT_VERSION);
    assert_eq!(file.server, SERVER);
    // The fingerprints are those of what the server reported when planning.
    let observed = observed();
    assert_eq!(file.fingerprints, Fingerprints::of(&observed));
    let legacy = &file.fingerprints.organizations["1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"];
    assert_eq!(legacy.name, "legacy.example.com");
    assert_eq!(legacy.sha256.len(), 64);
    assert!(file.staleness(&observed).is_fresh());

    let desired: Vec<(&str, &str)> = file
        .desired
        .iter()
        .map(|d| (d.name.as_str(), d.origin.as_str()))
        .collect();
    assert_eq!(
        desired,
        [
            ("contoso.onmicrosoft.com", "examples/msp/tenants.yaml:1:1"),
            ("fabrikam.local", "examples/msp/tenants.yaml:20:1"),
            ("litware.onmicrosoft.com", "examples/msp/tenants.yaml:30:1"),
            (
                "northwind.onmicrosoft.com",
                "examples/msp/tenants.yaml:45:1"
            ),
        ]
    );
    let Spec::OnPremises(fabrikam) = &file.desired[1].spec else {
        panic!("fabrikam.local is OnPremises: {:?}", file.desired[1].spec);
    };
    let exchange = fabrikam
        .exchange_settings
        .as_ref()
        .expect("Exchange settings");
    assert_eq!(exchange.server_name.as_deref(), Some("mail.fabrikam.local"));
    assert_eq!(
        expected["desired"][1]["spec"]["exchangeSettings"]["password"],
        json!({"fromEnv": "FABRIKAM_EXCHANGE_PASSWORD"}),
        "secrets are saved as references"
    );

    // The plan inside is the plan document, deletes included.
    assert_eq!(file.plan.format_version, PLAN_FORMAT_VERSION);
    assert_eq!(file.plan.api_version, vbo_model::RestApiVersion::V3);
    let deletes: Vec<&str> = file
        .plan
        .actionable()
        .filter(|c| c.action == Action::Delete)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        deletes,
        [
            "adatum.onmicrosoft.com",
            "legacy.example.com",
            "tailspin.onmicrosoft.com"
        ]
    );
    assert!(file.plan.unmanaged.is_empty());
    assert_eq!(file.plan, saved_plan().plan);
}
