//! Saved plans: they read back, refuse literal secrets, and detect a server that moved on.

use serde_json::json;
use sha2::{Digest, Sha256};
use vbo_model::{Organization, Region};
use vbo_plan::{
    Desired, LiteralSecret, PlanFile, PlanFileError, PlanOptions, Staleness, fingerprint,
    list_fingerprint,
};

use crate::fixtures::{LITERAL, SERVER, desired, estate_plan, observed};

/// The estate without its manifest that writes a literal secret.
fn referenced_only() -> Vec<Desired> {
    desired()
        .into_iter()
        .filter(|d| d.name != "woodgrove.onmicrosoft.com")
        .collect()
}

fn saved() -> PlanFile {
    let desired = referenced_only();
    let observed = observed();
    let options = PlanOptions {
        prune: false,
        server: SERVER.to_owned(),
        api_version: vbo_model::RestApiVersion::V3,
        scope: None,
    };
    let plan = vbo_plan::plan(&desired, &observed, &options);
    PlanFile::new(plan, &desired, &observed)
}

/// The position of the organization called `name`.
fn at(list: &[Organization], name: &str) -> usize {
    list.iter()
        .position(|o| o.name == name)
        .expect("the fixture has it")
}

#[test]
fn reads_back_what_it_wrote() {
    let file = saved();
    let text = file.to_json().expect("no literal secrets");
    let back = PlanFile::from_json(&text).expect("reads back");
    assert_eq!(back, file);
    assert_eq!(back.server, "https://vbo.example.com:4443");
    assert!(back.desired("fabrikam.local").is_some());
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        value["desired"][0]["spec"]["exchangeOnlineSettings"]["password"],
        json!({"fromEnv": "CONTOSO_EXO_PASSWORD"}),
        "secrets are saved as references"
    );
    assert_eq!(value["plan"]["format_version"], "1.2");
    assert_eq!(value["plan"]["api_version"], "v3");
}

#[test]
fn refuses_literal_secrets_without_showing_them() {
    let file = PlanFile::new(estate_plan(false), &desired(), &observed());
    assert_eq!(
        file.literal_secrets(),
        vec![LiteralSecret {
            name: "woodgrove.onmicrosoft.com".into(),
            origin: "examples/msp/tenants.yaml:75:1".into(),
            path: "exchangeOnlineSettings.password".into(),
        }]
    );
    let error = file.to_json().expect_err("literal secrets cannot be saved");
    assert!(matches!(error, PlanFileError::LiteralSecrets { .. }));
    let message = error.to_string();
    assert!(message.contains("woodgrove.onmicrosoft.com"), "{message}");
    assert!(
        message.contains("spec.exchangeOnlineSettings.password"),
        "{message}"
    );
    assert!(!message.contains(LITERAL));
}

#[test]
fn refuses_another_major_version_and_garbage() {
    let mut value: serde_json::Value = serde_json::from_str(&saved().to_json().unwrap()).unwrap();
    value["format_version"] = json!("2.0");
    let error = PlanFile::from_json(&value.to_string()).unwrap_err();
    assert!(matches!(&error, PlanFileError::UnsupportedVersion { found } if found == "2.0"));
    value["format_version"] = json!("1.7");
    value["added_in_1_7"] = json!(true);
    assert!(
        PlanFile::from_json(&value.to_string()).is_ok(),
        "minor versions only add fields"
    );
    assert!(matches!(
        PlanFile::from_json("{\"format_version\": \"1.0\"}"),
        Err(PlanFileError::Malformed { .. })
    ));
    assert!(matches!(
        PlanFile::from_json("not json"),
        Err(PlanFileError::Malformed { .. })
    ));
}

#[test]
fn fresh_when_nothing_changed_in_any_order() {
    let file = saved();
    let mut now = observed();
    now.reverse();
    assert!(file.staleness(&now).is_fresh());
    assert_eq!(file.staleness(&now), Staleness::default());
}

#[test]
fn backups_running_do_not_make_a_plan_stale() {
    let file = saved();
    let mut now = observed();
    now[0].is_backed_up = Some(true);
    now[0].last_backup_time = Some("2024-05-01T02:00:00Z".into());
    assert!(file.staleness(&now).is_fresh());
}

#[test]
fn names_what_was_added_changed_and_removed() {
    let file = saved();
    let mut now = observed();
    let northwind = at(&now, "northwind.onmicrosoft.com");
    now[northwind].state.region = Some(Region::China);
    let tailspin = at(&now, "tailspin.onmicrosoft.com");
    now[tailspin].name = "tailspin-renamed.onmicrosoft.com".into();
    let gone = now.remove(at(&now, "legacy.example.com"));
    let mut added = now[0].clone();
    added.id = "new-id".into();
    added.name = "newcomer.example.com".into();
    now.push(added);
    let staleness = file.staleness(&now);
    assert!(!staleness.is_fresh());
    assert_eq!(staleness.added, vec!["newcomer.example.com"]);
    assert_eq!(
        staleness.changed,
        vec![
            "northwind.onmicrosoft.com",
            "tailspin-renamed.onmicrosoft.com"
        ]
    );
    assert_eq!(staleness.removed, vec![gone.name]);
}

#[test]
fn fingerprint_is_sha256_of_canonical_json() {
    let observed = observed();
    let org = &observed[at(&observed, "northwind.onmicrosoft.com")];
    let canonical = concat!(
        r#"{"exchangeOnlineSettings":{"account":"backup@northwind.onmicrosoft.com","#,
        r#""grantAdminAccess":false,"useCustomVeeamAADApplication":false,"useMfa":false},"#,
        r#""id":"0d5c2e1f-3a4b-4c6d-9e8f-7a6b5c4d3e2f","isExchangeOnline":true,"#,
        r#""isSharePointOnline":false,"name":"northwind.onmicrosoft.com","region":"Germany","#,
        r#""type":"Office365"}"#
    );
    assert_eq!(fingerprint(org), hex::encode(Sha256::digest(canonical)));
}

#[test]
fn list_fingerprint_ignores_order_and_sees_every_organization() {
    let mut list = observed();
    let original = list_fingerprint(&list);
    list.reverse();
    assert_eq!(list_fingerprint(&list), original);
    list.pop();
    assert_ne!(list_fingerprint(&list), original);
}
