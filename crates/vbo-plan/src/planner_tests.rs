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
    Desired::new(name, format!("manifests/{name}.yaml:1:1"), spec(value))
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

/// Planning against a server spoken to in REST API v3, which the fixtures above are written
/// for.
fn v3() -> PlanOptions {
    PlanOptions {
        api_version: RestApiVersion::V3,
        ..PlanOptions::default()
    }
}

fn v8() -> PlanOptions {
    PlanOptions {
        api_version: RestApiVersion::V8,
        ..PlanOptions::default()
    }
}

/// An Office365 organization as REST API v8 adds one: application-only authentication.
fn app_only() -> Value {
    json!({
        "type": "Office365",
        "region": "Worldwide",
        "isExchangeOnline": true,
        "isTeamsOnline": true,
        "exchangeOnlineSettings": {
            "useApplicationOnlyAuth": true,
            "officeOrganizationName": "contoso.onmicrosoft.com",
            "applicationId": "63baecf0-2624-45d0-9ece-de1db611dc98",
            "applicationCertificate": {"fromFile": "certs/contoso.pfx"},
            "applicationCertificatePassword": {"fromEnv": "CONTOSO_CERT_PASSWORD"}
        },
        "isSharePointOnline": false
    })
}

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
            api_version: RestApiVersion::V3,
            scope: None,
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
    let plan = plan(&[desired(C, office365())], &[], &v3());
    let change = &plan.changes[0];
    assert_eq!(change.address, r#"organization["contoso.onmicrosoft.com"]"#);
    assert_eq!(change.before, None);
    assert_eq!(change.id, None);
    let after = change.after.as_ref().unwrap().value();
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
    let plan = plan(&[desired(C, office365())], &[org], &v3());
    let change = &plan.changes[0];
    assert_eq!(change.action, Action::Update);
    assert_eq!(change.id.as_deref(), Some("42"));
    assert_eq!(
        change.before.as_ref().unwrap().value()["region"],
        json!("China")
    );
    assert_eq!(change.before.as_ref().unwrap().value()["name"], json!(C));
    assert_eq!(
        change.after.as_ref().unwrap().value()["region"],
        json!("Worldwide")
    );
    assert_eq!(
        change.after.as_ref().unwrap().value()["exchangeOnlineSettings"]["password"],
        json!({"fromEnv": "CONTOSO_EXO_PASSWORD"})
    );
    assert_eq!(change.reason, "1 field differs from the server");
}

#[test]
fn type_change_error_names_both_types_and_how_to_proceed() {
    let plan = plan(
        &[desired(C, hybrid())],
        &[observed("7", C, office365(), same)],
        &v3(),
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
        &v3(),
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

#[test]
fn fields_the_servers_version_does_not_take_are_errors_at_their_place() {
    let mut manifest = desired(C, app_only());
    manifest.origin = "manifests/contoso.yaml:1:1".into();
    manifest.fields = [("isTeamsOnline".into(), (7, 3))].into_iter().collect();
    let on_server = observed("9", C, office365(), same);
    let planned = plan(std::slice::from_ref(&manifest), &[on_server], &v3());
    assert!(
        planned.changes.is_empty() && planned.unmanaged.is_empty(),
        "{planned:?}"
    );
    let fields: Vec<(&str, &str)> = planned
        .errors
        .iter()
        .map(|report| match &report.error {
            PlanError::UnsupportedField { field, origin, .. } => (field.as_str(), origin.as_str()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(
        fields.contains(&("isTeamsOnline", "manifests/contoso.yaml:7:3")),
        "{fields:?}"
    );
    assert!(
        fields
            .iter()
            .any(|(f, _)| *f == "exchangeOnlineSettings.useApplicationOnlyAuth")
    );
    assert!(
        fields
            .iter()
            .any(|(f, _)| *f == "exchangeOnlineSettings.applicationCertificate")
    );
    let teams = planned
        .errors
        .iter()
        .find(|r| r.message.contains("isTeamsOnline"))
        .unwrap();
    assert_eq!(
        teams.message,
        "organization \"contoso.onmicrosoft.com\": spec.isTeamsOnline at manifests/contoso.yaml:7:3 \
         is not taken by REST API v3 (the server's); it is REST API v6 and later"
    );
    // The same manifest is fine in v8, and a v3 path certificate is an error there.
    assert!(plan_ok(&[manifest], &v8()));
    let mut path = with_certificate(office365());
    path["exchangeOnlineSettings"]["useMfa"] = json!(true);
    let planned = plan(&[desired(C, path)], &[], &v8());
    assert!(
        matches!(&planned.errors[0].error, PlanError::UnsupportedField { field, .. } if field == "exchangeOnlineSettings.applicationCertificate")
    );
}

fn plan_ok(desired: &[Desired], options: &PlanOptions) -> bool {
    plan(desired, &[], options).errors.is_empty()
}

#[test]
fn v8_refuses_to_add_with_basic_authentication_outside_china_but_keeps_existing_ones() {
    let plan_v8 = plan(&[desired(C, office365())], &[], &v8());
    assert!(plan_v8.changes.is_empty());
    let report = &plan_v8.errors[0];
    assert!(
        matches!(&report.error, PlanError::RefusedAuthentication { field, .. } if field == "exchangeOnlineSettings")
    );
    assert!(
        report.hint.contains("useApplicationOnlyAuth: true"),
        "{}",
        report.hint
    );
    // China may, v3 may, and an organization already there is updated, not refused.
    let mut china = office365();
    china["region"] = json!("China");
    assert!(plan_ok(&[desired(C, china)], &v8()));
    assert!(plan_ok(&[desired(C, office365())], &v3()));
    let existing = observed("1", C, office365(), |s| s["region"] = json!("Germany"));
    let update = plan(&[desired(C, office365())], &[existing], &v8());
    assert!(update.errors.is_empty());
    assert_eq!(update.changes[0].action, Action::Update);
}

#[test]
fn a_tenant_on_the_server_under_another_name_is_a_rename_error_not_a_second_create() {
    let msid = "9a3c3f0e-6b1f-4a53-9d3e-2f4a6c1b7e10";
    let mut on_server = observed("5", "old-name.onmicrosoft.com", app_only(), same);
    on_server.msid = Some(msid.to_uppercase());
    let mut manifest = desired(C, app_only());
    manifest.msid = Some(msid.into());
    let planned = plan(
        std::slice::from_ref(&manifest),
        std::slice::from_ref(&on_server),
        &v8(),
    );
    assert!(planned.changes.is_empty(), "{:?}", planned.changes);
    assert!(planned.unmanaged.is_empty(), "the tenant is accounted for");
    assert_eq!(
        planned.errors[0].error,
        PlanError::TenantRenamed {
            name: C.into(),
            origin: manifest.origin.clone(),
            msid: msid.into(),
            server_name: "old-name.onmicrosoft.com".into(),
            id: "5".into(),
        }
    );
    // Another tenant's msid: a create, and the other organization stays unmanaged with its msid.
    manifest.msid = Some("00000000-0000-4000-8000-000000000000".into());
    let planned = plan(&[manifest], &[on_server], &v8());
    assert_eq!(planned.changes[0].action, Action::Create);
    assert_eq!(
        planned.unmanaged[0].msid.as_deref(),
        Some(&*msid.to_uppercase())
    );
}

#[test]
fn a_later_version_field_the_manifest_sets_and_the_server_lacks_is_a_difference() {
    // An organization added before the manifest used the fields of later versions.
    let on_server = observed("3", C, app_only(), |s| {
        s.as_object_mut().unwrap().remove("isTeamsOnline");
        s["exchangeOnlineSettings"]
            .as_object_mut()
            .unwrap()
            .remove("officeOrganizationName");
    });
    let mut wanted = app_only();
    wanted["description"] = json!("ours");
    wanted["isTeamsChatsOnline"] = json!(false);
    let planned = plan(&[desired(C, wanted)], &[on_server], &v8());
    let changed: Vec<(&str, &Value, &Value)> = planned.changes[0]
        .changed_fields
        .iter()
        .map(|f| (f.path.as_str(), &f.before, &f.after))
        .collect();
    assert_eq!(
        changed,
        [
            ("description", &Value::Null, &json!("ours")),
            (
                "exchangeOnlineSettings.officeOrganizationName",
                &Value::Null,
                &json!("contoso.onmicrosoft.com")
            ),
            ("isTeamsOnline", &Value::Null, &json!(true)),
        ]
    );
}

#[test]
fn what_a_manifest_leaves_to_the_server_is_not_a_difference() {
    let on_server = observed("3", C, app_only(), |s| {
        s["description"] = json!("set in the console");
        s["isTeamsChatsOnline"] = json!(true);
        s["exchangeOnlineSettings"]["sharePointSaveAllWebParts"] = json!(true);
    });
    let planned = plan(&[desired(C, app_only())], &[on_server], &v8());
    assert_eq!(
        planned.changes[0].action,
        Action::NoOp,
        "{:?}",
        planned.changes[0].changed_fields
    );
    let mut described = app_only();
    described["description"] = json!("ours");
    let on_server = observed("3", C, app_only(), |s| s["description"] = json!("theirs"));
    let planned = plan(&[desired(C, described)], &[on_server], &v8());
    assert_eq!(planned.changes[0].changed_fields[0].path, "description");
}

// Narrowed runs (`--target`, `--selector`).

/// A fleet for narrowing: four manifests with labels, and the server with three of them and
/// two organizations in no manifest.
fn fleet() -> (Vec<Desired>, Vec<Organization>) {
    let labelled = |name: &str, labels: &[(&str, &str)]| Desired {
        labels: labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..desired(name, on_premises())
    };
    let desired = vec![
        labelled("a.example.com", &[("tier", "gold"), ("region", "emea")]),
        labelled("b.example.com", &[("tier", "gold")]),
        labelled("c.example.com", &[("tier", "silver")]),
        labelled("d.example.com", &[]),
    ];
    let changed = |s: &mut Value| s["sharePointSettings"]["useSSL"] = json!(false);
    let observed = vec![
        observed("1", "a.example.com", on_premises(), same),
        observed("2", "B.example.com", on_premises(), changed),
        observed("4", "d.example.com", on_premises(), changed),
        observed("8", "legacy.example.com", on_premises(), same),
        observed("9", "old.example.com", on_premises(), same),
    ];
    (desired, observed)
}

fn narrowed(targets: &[&str], selector: Option<&str>, prune: bool) -> PlanOptions {
    PlanOptions {
        prune,
        scope: Some(Narrowing {
            targets: targets.iter().map(|t| (*t).to_owned()).collect(),
            selector: selector.map(|s| crate::Selector::parse(s).expect("test selector")),
        }),
        ..v3()
    }
}

#[test]
fn a_narrowed_plan_stays_inside_its_scope() {
    use Action::*;
    struct Row {
        targets: &'static [&'static str],
        selector: Option<&'static str>,
        prune: bool,
        changes: &'static [(&'static str, Action)],
        misses: &'static [(&'static str, TargetMiss)],
        selected: usize,
    }
    let rows = [
        // By name, ignoring case; the server's other organizations are left alone.
        Row {
            targets: &["B.EXAMPLE.COM"],
            selector: None,
            prune: false,
            changes: &[("b.example.com", Update)],
            misses: &[],
            selected: 1,
        },
        // Repeated targets count once.
        Row {
            targets: &["a.example.com", "A.example.com"],
            selector: None,
            prune: true,
            changes: &[("a.example.com", NoOp)],
            misses: &[],
            selected: 1,
        },
        // By labels: prune reaches neither the unselected manifests' organizations (d) nor
        // the organizations in no manifest (legacy, old).
        Row {
            targets: &[],
            selector: Some("tier=gold"),
            prune: true,
            changes: &[("a.example.com", NoOp), ("b.example.com", Update)],
            misses: &[],
            selected: 2,
        },
        Row {
            targets: &[],
            selector: Some("tier notin (gold)"),
            prune: true,
            changes: &[("c.example.com", Create), ("d.example.com", Update)],
            misses: &[],
            selected: 2,
        },
        Row {
            targets: &[],
            selector: Some("tier=bronze"),
            prune: true,
            changes: &[],
            misses: &[],
            selected: 0,
        },
        // Targets and selector together: both must select.
        Row {
            targets: &["a.example.com", "b.example.com"],
            selector: Some("region=emea"),
            prune: false,
            changes: &[("a.example.com", NoOp)],
            misses: &[("b.example.com", TargetMiss::NotSelected)],
            selected: 1,
        },
        // A target on the server in no manifest: deleted with prune, an error without.
        Row {
            targets: &["legacy.example.com"],
            selector: None,
            prune: true,
            changes: &[("legacy.example.com", Delete)],
            misses: &[],
            selected: 1,
        },
        Row {
            targets: &["legacy.example.com"],
            selector: None,
            prune: false,
            changes: &[],
            misses: &[("legacy.example.com", TargetMiss::UnmanagedWithoutPrune)],
            selected: 0,
        },
        // ...and not reached by a selector it does not match (it has no labels).
        Row {
            targets: &["legacy.example.com"],
            selector: Some("tier=gold"),
            prune: true,
            changes: &[],
            misses: &[("legacy.example.com", TargetMiss::NotSelected)],
            selected: 0,
        },
        // A name nobody has.
        Row {
            targets: &["nowhere.example.com", "c.example.com"],
            selector: None,
            prune: true,
            changes: &[("c.example.com", Create)],
            misses: &[("nowhere.example.com", TargetMiss::NoManifest)],
            selected: 1,
        },
    ];
    let (desired, observed) = fleet();
    for row in rows {
        let label = format!("{:?} {:?} prune={}", row.targets, row.selector, row.prune);
        let planned = plan(
            &desired,
            &observed,
            &narrowed(row.targets, row.selector, row.prune),
        );
        let changes: Vec<(&str, Action)> = planned
            .changes
            .iter()
            .map(|c| (c.name.as_str(), c.action))
            .collect();
        assert_eq!(changes, row.changes, "{label}");
        assert!(
            planned.unmanaged.is_empty(),
            "{label}: {:?}",
            planned.unmanaged
        );
        let misses: Vec<(&str, TargetMiss)> = planned
            .errors
            .iter()
            .map(|report| match &report.error {
                PlanError::UnmatchedTarget { name, reason } => (name.as_str(), *reason),
                other => panic!("{label}: unexpected {other}"),
            })
            .collect();
        assert_eq!(misses, row.misses, "{label}");
        let narrowed = planned.narrowed.expect("the plan says it was narrowed");
        assert_eq!(narrowed.selected, row.selected, "{label}");
        assert_eq!(narrowed.organizations, 6, "{label}");
        assert_eq!(
            narrowed.selector.as_deref(),
            row.selector
                .map(|s| crate::Selector::parse(s).unwrap().to_string())
                .as_deref(),
            "{label}"
        );
    }
}

#[test]
fn a_plan_of_everything_is_not_narrowed() {
    let (desired, observed) = fleet();
    let planned = plan(&desired, &observed, &v3());
    assert_eq!(planned.narrowed, None);
    let unmanaged: Vec<&str> = planned.unmanaged.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(unmanaged, ["legacy.example.com", "old.example.com"]);
    let json = serde_json::to_value(&planned).unwrap();
    assert!(json.get("narrowed").is_none(), "absent, not null: {json}");
}

#[test]
fn the_narrowing_is_in_the_json_document_and_reads_back() {
    let (desired, observed) = fleet();
    let planned = plan(
        &desired,
        &observed,
        &narrowed(&["a.example.com"], Some("tier in (gold, silver)"), false),
    );
    let json = serde_json::to_value(&planned).unwrap();
    assert_eq!(
        json["narrowed"],
        json!({
            "targets": ["a.example.com"],
            "selector": "tier in (gold,silver)",
            "selected": 1,
            "organizations": 6
        })
    );
    let back: Plan = serde_json::from_value(json).unwrap();
    assert_eq!(back, planned);
    let text = crate::render::text(&planned, false);
    assert!(
        text.contains(
            "Narrowed to: --target a.example.com, --selector tier in (gold,silver) (1 of 6 organizations)"
        ),
        "{text}"
    );
    let markdown = crate::render::markdown(&planned);
    assert!(
        markdown.contains("**Narrowed to: --target a.example.com, --selector tier in (gold,silver) (1 of 6 organizations)"),
        "{markdown}"
    );
}

#[test]
fn a_saved_narrowed_plan_is_stale_only_for_changes_in_its_scope() {
    let (desired, server) = fleet();
    let planned = plan(
        &desired,
        &server,
        &narrowed(&["b.example.com"], None, false),
    );
    let file = crate::PlanFile::new(planned, &desired, &server);
    let names: Vec<&str> = file.desired.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        names,
        ["b.example.com"],
        "only the manifests in scope are saved"
    );
    assert_eq!(file.fingerprints.organizations.len(), 1);

    // Outside the scope: a changed, old removed, a newcomer added. Still fresh.
    let mut outside = server.clone();
    outside[0] = observed("1", "a.example.com", on_premises(), |s| {
        s["sharePointSettings"]["serverName"] = json!("elsewhere")
    });
    outside.retain(|o| o.name != "old.example.com");
    outside.push(observed("10", "new.example.com", on_premises(), same));
    assert!(
        file.staleness(&outside).is_fresh(),
        "{:?}",
        file.staleness(&outside)
    );

    // Inside: b changed.
    let mut inside = server.clone();
    inside[1] = observed("2", "B.example.com", on_premises(), same);
    let staleness = file.staleness(&inside);
    assert!(!staleness.is_fresh());
    assert_eq!(staleness.changed, ["B.example.com"]);

    // Inside: a second organization of b's name appears.
    let mut added = server.clone();
    added.push(observed("11", "b.EXAMPLE.com", on_premises(), same));
    assert_eq!(file.staleness(&added).added, ["b.EXAMPLE.com"]);

    // A target to delete is in scope too.
    let planned = plan(
        &desired,
        &server,
        &narrowed(&["legacy.example.com"], None, true),
    );
    let file = crate::PlanFile::new(planned, &desired, &server);
    assert!(file.desired.is_empty());
    assert!(file.staleness(&outside).is_fresh());
    let mut gone = server.clone();
    gone.retain(|o| o.name != "legacy.example.com");
    assert_eq!(file.staleness(&gone).removed, ["legacy.example.com"]);

    // A plan of everything is stale for any change, as before.
    let planned = plan(&desired, &server, &v3());
    let file = crate::PlanFile::new(planned, &desired, &server);
    assert!(!file.staleness(&outside).is_fresh());
}

#[test]
fn names_are_ordered_as_their_lowercased_copies_would_be() {
    // ASCII names take the fast path; the others (final sigma, dotted capital I, umlauts) the
    // lowercasing one; mixed pairs the latter too.
    let names = [
        "a", "A", "b", "B", "ab", "aB", "Ab", "a-b", "a_b", "a.b", "Z", "z", "", "0", "ä", "Ä",
        "äb", "ΣΑΣ", "σας", "Σ", "İ", "i", "I", "ß", "ss", "é", "e",
    ];
    let ids = [None, Some("1"), Some("2")];
    fn reference<'a>(name: &'a str, id: Option<&'a str>) -> (String, &'a str, Option<&'a str>) {
        (name.to_lowercase(), name, id)
    }
    for a in names {
        for b in names {
            for a_id in ids {
                for b_id in ids {
                    assert_eq!(
                        order((a, a_id), (b, b_id)),
                        reference(a, a_id).cmp(&reference(b, b_id)),
                        "{a:?} {a_id:?} against {b:?} {b_id:?}"
                    );
                }
            }
        }
    }
}
