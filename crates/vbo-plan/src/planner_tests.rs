//! Table-driven tests of the planner: one row per kind of difference the server can show.

use serde_json::{Value, json};
use vbo_model::{Organization, Spec};

use super::*;

fn spec(value: Value) -> Spec {
    serde_json::from_value(value).expect("test spec is valid")
}

fn office365() -> Value {
    json!({
        "type": "Office365",
        "region": "Worldwide",
        "isExchangeOnline": true,
        "exchangeOnlineSettings": {
            "account": "admin@contoso.onmicrosoft.com",
            "password": {"fromEnv": "CONTOSO_EXO_PASSWORD"},
            "grantAdminAccess": true
        },
        "isSharePointOnline": false
    })
}

fn on_premises() -> Value {
    json!({
        "type": "OnPremises",
        "isExchange": false,
        "isSharePoint": true,
        "sharePointSettings": {
            "serverName": "sharepoint.contoso.local",
            "username": "CONTOSO\\backup",
            "password": {"fromFile": "secrets/sp.txt"},
            "useSSL": true
        }
    })
}

fn hybrid() -> Value {
    json!({
        "type": "Hybrid",
        "office365Settings": {
            "region": "Germany",
            "username": "admin@contoso.onmicrosoft.com",
            "password": {"fromEnv": "HYBRID_PASSWORD"}
        },
        "isExchange": false,
        "isSharePoint": false
    })
}

fn desired(name: &str, value: Value) -> Desired {
    Desired {
        name: name.to_owned(),
        origin: format!("manifests/{name}.yaml:1:1"),
        spec: spec(value),
    }
}

/// The organization the server reports once `value` was applied under `name`, edited by
/// `edit` (a change on the server since).
fn observed(id: &str, name: &str, value: Value, edit: impl FnOnce(&mut Value)) -> Organization {
    let mut state = serde_json::to_value(spec(value).state()).expect("state serializes");
    edit(&mut state);
    state["id"] = json!(id);
    state["name"] = json!(name);
    serde_json::from_value(state).expect("edited state is an organization")
}

fn same(_: &mut Value) {}

fn with_application_id(mut value: Value) -> Value {
    value["exchangeOnlineSettings"]["applicationId"] = json!("63baecf0");
    value
}

fn with_certificate(mut value: Value) -> Value {
    value["exchangeOnlineSettings"]["applicationCertificate"] = json!("C:\\certs\\contoso.pfx");
    value["exchangeOnlineSettings"]["applicationCertificateThumbprint"] = json!("56B0DF39");
    value
}

/// A field change as a row writes it: (path, before, after).
type Field<'a> = (&'a str, Value, Value);
/// A change as a row writes it: (name, action, changed fields).
type Expected<'a> = (&'a str, Action, Vec<Field<'a>>);

#[derive(Default)]
struct Case {
    name: &'static str,
    desired: Vec<Desired>,
    observed: Vec<Organization>,
    prune: bool,
    /// (name, action, [(path, before, after)]) in plan order.
    changes: Vec<Expected<'static>>,
    unmanaged: Vec<&'static str>,
    /// (name, kind) of each error.
    errors: Vec<(&'static str, &'static str)>,
}

const C: &str = "contoso.onmicrosoft.com";

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "create when the server lacks it",
            desired: vec![desired(C, office365())],
            changes: vec![(C, Action::Create, vec![])],
            ..Case::default()
        },
        Case {
            name: "no-op when the server matches",
            desired: vec![desired(C, office365())],
            observed: vec![observed("1", C, office365(), same)],
            changes: vec![(C, Action::NoOp, vec![])],
            ..Case::default()
        },
        Case {
            name: "bool flag",
            desired: vec![desired(C, office365())],
            observed: vec![observed("1", C, office365(), |s| {
                s["exchangeOnlineSettings"]["grantAdminAccess"] = json!(false)
            })],
            changes: vec![(
                C,
                Action::Update,
                vec![(
                    "exchangeOnlineSettings.grantAdminAccess",
                    json!(false),
                    json!(true),
                )],
            )],
            ..Case::default()
        },
        Case {
            name: "string",
            desired: vec![desired(C, office365())],
            observed: vec![observed("1", C, office365(), |s| {
                s["exchangeOnlineSettings"]["account"] = json!("old@contoso.onmicrosoft.com")
            })],
            changes: vec![(
                C,
                Action::Update,
                vec![(
                    "exchangeOnlineSettings.account",
                    json!("old@contoso.onmicrosoft.com"),
                    json!("admin@contoso.onmicrosoft.com"),
                )],
            )],
            ..Case::default()
        },
        Case {
            name: "enum region",
            desired: vec![desired(C, office365())],
            observed: vec![observed("1", C, office365(), |s| {
                s["region"] = json!("Germany")
            })],
            changes: vec![(
                C,
                Action::Update,
                vec![("region", json!("Germany"), json!("Worldwide"))],
            )],
            ..Case::default()
        },
        Case {
            name: "enum region nested in a hybrid",
            desired: vec![desired("h", hybrid())],
            observed: vec![observed("1", "h", hybrid(), |s| {
                s["office365Settings"]["region"] = json!("China")
            })],
            changes: vec![(
                "h",
                Action::Update,
                vec![("office365Settings.region", json!("China"), json!("Germany"))],
            )],
            ..Case::default()
        },
        Case {
            name: "port number, default on one side",
            desired: vec![desired("sp", on_premises())],
            observed: vec![observed("1", "sp", on_premises(), |s| {
                s["sharePointSettings"]["serverPort"] = json!(443)
            })],
            changes: vec![(
                "sp",
                Action::Update,
                vec![("sharePointSettings.serverPort", json!(443), json!(5985))],
            )],
            ..Case::default()
        },
        Case {
            name: "settings block the manifest enables and the server lacks",
            desired: vec![desired(C, {
                let mut spec = office365();
                spec["isSharePointOnline"] = json!(true);
                spec["sharePointOnlineSettings"] = json!({"account": "sp@contoso.onmicrosoft.com"});
                spec
            })],
            observed: vec![observed("1", C, office365(), same)],
            changes: vec![(
                C,
                Action::Update,
                vec![
                    ("isSharePointOnline", json!(false), json!(true)),
                    (
                        "sharePointOnlineSettings",
                        Value::Null,
                        json!({
                            "account": "sp@contoso.onmicrosoft.com",
                            "grantAdminAccess": false,
                            "useMfa": false,
                            "useCustomVeeamAADApplication": false
                        }),
                    ),
                ],
            )],
            ..Case::default()
        },
        Case {
            name: "settings block the server has and the manifest turned off",
            desired: vec![desired(C, {
                let mut spec = office365();
                spec["isExchangeOnline"] = json!(false);
                spec
            })],
            observed: vec![observed("1", C, office365(), same)],
            changes: vec![(
                C,
                Action::Update,
                vec![
                    (
                        "exchangeOnlineSettings",
                        json!({
                            "account": "admin@contoso.onmicrosoft.com",
                            "grantAdminAccess": true,
                            "useMfa": false,
                            "useCustomVeeamAADApplication": false
                        }),
                        Value::Null,
                    ),
                    ("isExchangeOnline", json!(true), json!(false)),
                ],
            )],
            ..Case::default()
        },
        Case {
            name: "field set on the server only becomes null",
            desired: vec![desired(C, office365())],
            observed: vec![observed("1", C, office365(), |s| {
                s["exchangeOnlineSettings"]["applicationId"] = json!("63baecf0")
            })],
            changes: vec![(
                C,
                Action::Update,
                vec![(
                    "exchangeOnlineSettings.applicationId",
                    json!("63baecf0"),
                    Value::Null,
                )],
            )],
            ..Case::default()
        },
        Case {
            name: "scalars the server omits are not compared",
            desired: vec![desired(C, office365())],
            observed: vec![observed("1", C, office365(), |s| {
                let settings = s["exchangeOnlineSettings"].as_object_mut().unwrap();
                settings.remove("useMfa");
                s.as_object_mut().unwrap().remove("region");
            })],
            changes: vec![(C, Action::NoOp, vec![])],
            ..Case::default()
        },
        Case {
            name: "a certificate path v3 servers do not report is not compared",
            desired: vec![desired(C, with_certificate(office365()))],
            observed: vec![observed("1", C, with_certificate(office365()), |s| {
                let settings = s["exchangeOnlineSettings"].as_object_mut().unwrap();
                settings.remove("applicationCertificate");
                settings.remove("applicationCertificateThumbprint");
            })],
            changes: vec![(C, Action::NoOp, vec![])],
            ..Case::default()
        },
        Case {
            name: "an account or application id the server omits is unset there",
            desired: vec![desired(C, with_application_id(office365()))],
            observed: vec![observed("1", C, office365(), |s| {
                s["exchangeOnlineSettings"]
                    .as_object_mut()
                    .unwrap()
                    .remove("account");
            })],
            changes: vec![(
                C,
                Action::Update,
                vec![
                    (
                        "exchangeOnlineSettings.account",
                        Value::Null,
                        json!("admin@contoso.onmicrosoft.com"),
                    ),
                    (
                        "exchangeOnlineSettings.applicationId",
                        Value::Null,
                        json!("63baecf0"),
                    ),
                ],
            )],
            ..Case::default()
        },
        Case {
            name: "a false flag of another type's workload is no difference",
            desired: vec![desired(C, office365())],
            observed: vec![observed("1", C, office365(), |s| {
                s["isExchange"] = json!(false);
                s["isSharePoint"] = json!(false);
            })],
            changes: vec![(C, Action::NoOp, vec![])],
            ..Case::default()
        },
        Case {
            name: "write-only secrets never cause an update",
            desired: vec![desired(C, {
                let mut spec = office365();
                spec["exchangeOnlineSettings"]["password"] = json!("a literal now");
                spec["exchangeOnlineSettings"]["applicationSecret"] = json!({"fromEnv": "NEW"});
                spec
            })],
            observed: vec![observed("1", C, office365(), same)],
            changes: vec![(C, Action::NoOp, vec![])],
            ..Case::default()
        },
        Case {
            name: "names match ignoring case",
            desired: vec![desired("Contoso.OnMicrosoft.com", office365())],
            observed: vec![observed("1", C, office365(), same)],
            changes: vec![("Contoso.OnMicrosoft.com", Action::NoOp, vec![])],
            ..Case::default()
        },
        Case {
            name: "unmanaged without prune",
            desired: vec![desired(C, office365())],
            observed: vec![
                observed("1", C, office365(), same),
                observed("2", "legacy.example.com", on_premises(), same),
            ],
            changes: vec![(C, Action::NoOp, vec![])],
            unmanaged: vec!["legacy.example.com"],
            ..Case::default()
        },
        Case {
            name: "delete with prune",
            desired: vec![desired(C, office365())],
            observed: vec![
                observed("1", C, office365(), same),
                observed("2", "legacy.example.com", on_premises(), same),
            ],
            prune: true,
            changes: vec![
                (C, Action::NoOp, vec![]),
                ("legacy.example.com", Action::Delete, vec![]),
            ],
            ..Case::default()
        },
        Case {
            name: "type change is an error, not an update, and never a delete",
            desired: vec![desired(C, hybrid())],
            observed: vec![observed("1", C, office365(), same)],
            prune: true,
            errors: vec![(C, "type-change")],
            ..Case::default()
        },
        Case {
            name: "a name in two manifests is one error",
            desired: vec![
                desired(C, office365()),
                desired("CONTOSO.onmicrosoft.com", office365()),
            ],
            observed: vec![observed("1", C, office365(), same)],
            prune: true,
            errors: vec![("CONTOSO.onmicrosoft.com", "duplicate-name")],
            ..Case::default()
        },
        Case {
            name: "a name the server has twice is an error",
            desired: vec![desired(C, office365())],
            observed: vec![
                observed("1", C, office365(), same),
                observed("2", "Contoso.onmicrosoft.com", office365(), same),
            ],
            errors: vec![(C, "ambiguous-match")],
            ..Case::default()
        },
        Case {
            name: "changes are ordered by lowercase name whatever the action",
            desired: vec![
                desired("zeta.com", office365()),
                desired("Beta.com", office365()),
                desired("alpha.com", office365()),
            ],
            observed: vec![
                observed("9", "gamma.com", on_premises(), same),
                observed("8", "alpha.com", office365(), same),
                observed("7", "Delta.com", on_premises(), same),
            ],
            prune: true,
            changes: vec![
                ("alpha.com", Action::NoOp, vec![]),
                ("Beta.com", Action::Create, vec![]),
                ("Delta.com", Action::Delete, vec![]),
                ("gamma.com", Action::Delete, vec![]),
                ("zeta.com", Action::Create, vec![]),
            ],
            ..Case::default()
        },
    ]
}

#[test]
fn planner_table() {
    for case in cases() {
        let options = PlanOptions {
            prune: case.prune,
            server: "https://vbo.example.com:4443".into(),
        };
        let plan = plan(&case.desired, &case.observed, &options);
        let got: Vec<Expected<'_>> = plan
            .changes
            .iter()
            .map(|c| {
                let fields = c
                    .changed_fields
                    .iter()
                    .map(|f| (f.path.as_str(), f.before.clone(), f.after.clone()))
                    .collect();
                (c.name.as_str(), c.action, fields)
            })
            .collect();
        assert_eq!(got, case.changes, "{}: changes", case.name);
        let unmanaged: Vec<&str> = plan.unmanaged.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(unmanaged, case.unmanaged, "{}: unmanaged", case.name);
        let errors: Vec<(&str, String)> = plan
            .errors
            .iter()
            .map(|e| {
                let kind = serde_json::to_value(&e.error).unwrap()["kind"].clone();
                (e.error.name(), kind.as_str().unwrap().to_owned())
            })
            .collect();
        let expected: Vec<(&str, String)> = case
            .errors
            .iter()
            .map(|(name, kind)| (*name, (*kind).to_owned()))
            .collect();
        assert_eq!(errors, expected, "{}: errors", case.name);
        assert_eq!(
            plan.summary,
            Summary::of(&plan.changes),
            "{}: summary",
            case.name
        );
    }
}

#[test]
fn create_carries_the_reference_body_and_no_before() {
    let plan = plan(&[desired(C, office365())], &[], &PlanOptions::default());
    let change = &plan.changes[0];
    assert_eq!(change.address, r#"organization["contoso.onmicrosoft.com"]"#);
    assert_eq!(change.before, None);
    assert_eq!(change.id, None);
    let after = change.after.as_ref().unwrap();
    assert_eq!(after["name"], json!(C));
    assert_eq!(after["type"], json!("Office365"));
    assert_eq!(
        after["exchangeOnlineSettings"]["password"],
        json!({"fromEnv": "CONTOSO_EXO_PASSWORD"})
    );
}

#[test]
fn update_carries_id_before_and_the_full_body() {
    let org = observed("42", C, office365(), |s| s["region"] = json!("China"));
    let plan = plan(&[desired(C, office365())], &[org], &PlanOptions::default());
    let change = &plan.changes[0];
    assert_eq!(change.action, Action::Update);
    assert_eq!(change.id.as_deref(), Some("42"));
    assert_eq!(change.before.as_ref().unwrap()["region"], json!("China"));
    assert_eq!(change.before.as_ref().unwrap()["name"], json!(C));
    assert_eq!(change.after.as_ref().unwrap()["region"], json!("Worldwide"));
    assert_eq!(
        change.after.as_ref().unwrap()["exchangeOnlineSettings"]["password"],
        json!({"fromEnv": "CONTOSO_EXO_PASSWORD"})
    );
    assert_eq!(change.reason, "1 field differs from the server");
}

#[test]
fn type_change_error_names_both_types_and_how_to_proceed() {
    let plan = plan(
        &[desired(C, hybrid())],
        &[observed("7", C, office365(), same)],
        &PlanOptions::default(),
    );
    assert!(plan.changes.is_empty());
    assert!(plan.unmanaged.is_empty());
    let report = &plan.errors[0];
    assert_eq!(
        report.error,
        PlanError::TypeChange {
            name: C.into(),
            origin: format!("manifests/{C}.yaml:1:1"),
            id: "7".into(),
            observed: vbo_model::OrganizationType::Office365,
            desired: vbo_model::OrganizationType::Hybrid,
        }
    );
    assert!(
        report
            .message
            .contains("Office365 on the server but Hybrid")
    );
    assert!(report.hint.contains("delete organization"));
    assert!(report.hint.contains("metadata.name"));
}

#[test]
fn case_difference_is_mentioned_but_not_a_change() {
    let plan = plan(
        &[desired("Contoso.OnMicrosoft.com", office365())],
        &[observed("1", C, office365(), same)],
        &PlanOptions::default(),
    );
    assert_eq!(plan.changes[0].action, Action::NoOp);
    assert!(
        plan.changes[0]
            .reason
            .contains(r#"spells the name "contoso.onmicrosoft.com""#)
    );
}

#[test]
fn diff_state_of_scalars_and_mismatched_shapes() {
    assert_eq!(diff_state(&json!(1), &json!(1)), vec![]);
    assert_eq!(
        diff_state(&json!(1), &json!(2)),
        vec![FieldChange {
            path: String::new(),
            before: json!(1),
            after: json!(2)
        }]
    );
    assert_eq!(
        diff_state(&json!({"a": {"b": 1}}), &json!({"a": 3})),
        vec![FieldChange {
            path: "a".into(),
            before: json!({"b": 1}),
            after: json!(3)
        }]
    );
}
