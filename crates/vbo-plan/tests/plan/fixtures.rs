//! A small managed-service provider's estate, as manifests and as the server reports it.

use serde_json::{Value, json};
use vbo_model::{Organization, OrganizationState, Spec};
use vbo_plan::{Desired, Plan, PlanOptions, plan};

pub(crate) const SERVER: &str = "https://vbo.example.com:4443";

/// The literal secret the estate's manifests write; no output may contain it.
pub(crate) const LITERAL: &str = "Woodgrove-Literal-Pa55word!";

/// An organization the server reports, with the fields a real server adds around the state.
pub(crate) fn organization(id: &str, name: &str, state: OrganizationState) -> Organization {
    Organization {
        id: id.to_owned(),
        name: name.to_owned(),
        state,
        msid: None,
        office_name: None,
        backed_up_organization_id: None,
        username: None,
        is_backed_up: Some(false),
        first_backup_time: None,
        last_backup_time: None,
        links: None,
        actions: Some(serde_json::Map::new()),
    }
}

fn manifest(name: &str, line: u32, spec: Value) -> Desired {
    Desired::new(
        name,
        format!("examples/msp/tenants.yaml:{line}:1"),
        serde_json::from_value::<Spec>(spec).expect("fixture spec is valid"),
    )
}

/// The state the server reports for `spec`, edited by `edit`.
fn reported(spec: &Desired, edit: impl FnOnce(&mut Value)) -> OrganizationState {
    let mut state = serde_json::to_value(spec.spec.state()).expect("state serializes");
    edit(&mut state);
    serde_json::from_value(state).expect("edited state is valid")
}

/// The manifests: organizations to create (one with a literal secret), to update (scalars in
/// one, whole settings blocks in another), one unchanged, one whose type changed.
pub(crate) fn desired() -> Vec<Desired> {
    vec![
        manifest(
            "contoso.onmicrosoft.com",
            1,
            json!({
                "type": "Office365",
                "region": "Worldwide",
                "isExchangeOnline": true,
                "exchangeOnlineSettings": {
                    "account": "admin@contoso.onmicrosoft.com",
                    "password": {"fromEnv": "CONTOSO_EXO_PASSWORD"},
                    "grantAdminAccess": true
                },
                "isSharePointOnline": true,
                "sharePointOnlineSettings": {
                    "useMfa": true,
                    "applicationId": "63baecf0-2624-45d0-9ece-de1db611dc98",
                    "applicationSecret": {"fromFile": "secrets/contoso-app.txt"}
                }
            }),
        ),
        manifest(
            "fabrikam.local",
            20,
            json!({
                "type": "OnPremises",
                "isExchange": true,
                "exchangeSettings": {
                    "serverName": "mail.fabrikam.local",
                    "username": "FABRIKAM\\backup",
                    "password": {"fromEnv": "FABRIKAM_EXCHANGE_PASSWORD"},
                    "useSSL": true,
                    "grantImpersonation": true
                },
                "isSharePoint": true,
                "sharePointSettings": {
                    "serverName": "sharepoint.fabrikam.local",
                    "serverPort": 5986,
                    "username": "FABRIKAM\\backup",
                    "password": {"fromEnv": "FABRIKAM_SHAREPOINT_PASSWORD"},
                    "useSSL": true
                }
            }),
        ),
        manifest(
            "litware.onmicrosoft.com",
            30,
            json!({
                "type": "Office365",
                "isExchangeOnline": false,
                "isSharePointOnline": true,
                "sharePointOnlineSettings": {
                    "account": "backup@litware.onmicrosoft.com",
                    "password": {"fromEnv": "LITWARE_SPO_PASSWORD"},
                    "grantAdminAccess": true
                }
            }),
        ),
        manifest(
            "northwind.onmicrosoft.com",
            45,
            json!({
                "type": "Office365",
                "region": "Germany",
                "isExchangeOnline": true,
                "exchangeOnlineSettings": {
                    "account": "backup@northwind.onmicrosoft.com",
                    "password": {"fromEnv": "NORTHWIND_EXO_PASSWORD"}
                }
            }),
        ),
        manifest(
            "tailspin.onmicrosoft.com",
            60,
            json!({
                "type": "Hybrid",
                "office365Settings": {
                    "username": "admin@tailspin.onmicrosoft.com",
                    "password": {"fromEnv": "TAILSPIN_PASSWORD"}
                }
            }),
        ),
        manifest(
            "woodgrove.onmicrosoft.com",
            75,
            json!({
                "type": "Office365",
                "isExchangeOnline": true,
                "exchangeOnlineSettings": {
                    "account": "admin@woodgrove.onmicrosoft.com",
                    "password": LITERAL
                }
            }),
        ),
    ]
}

/// What the server reports: fabrikam and litware drifted, northwind matches, tailspin is
/// Office365 there, and two organizations are in no manifest.
pub(crate) fn observed() -> Vec<Organization> {
    let desired = desired();
    let by_name = |name: &str| {
        desired
            .iter()
            .find(|d| d.name == name)
            .expect("fixture has the organization")
    };
    vec![
        organization(
            "6f1b7a52-9d3e-4f0a-8d61-2b3c4d5e6f70",
            "fabrikam.local",
            reported(by_name("fabrikam.local"), |s| {
                s["exchangeSettings"]["useSSL"] = json!(false);
                s["exchangeSettings"]["serverName"] = json!("exchange01.fabrikam.local");
                s["sharePointSettings"]["serverPort"] = json!(5985);
                s["sharePointSettings"]["grantAccessToSiteCollections"] = json!(true);
            }),
        ),
        organization(
            "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8",
            "litware.onmicrosoft.com",
            reported(by_name("litware.onmicrosoft.com"), |s| {
                s["isExchangeOnline"] = json!(true);
                s["exchangeOnlineSettings"] = json!({
                    "account": "admin@litware.onmicrosoft.com",
                    "grantAdminAccess": false,
                    "useMfa": false,
                    "useCustomVeeamAADApplication": false
                });
                s["sharePointOnlineSettings"]["applicationId"] =
                    json!("0f9e8d7c-6b5a-4c3d-2e1f-0a9b8c7d6e5f");
            }),
        ),
        organization(
            "0d5c2e1f-3a4b-4c6d-9e8f-7a6b5c4d3e2f",
            "northwind.onmicrosoft.com",
            reported(by_name("northwind.onmicrosoft.com"), |_| {}),
        ),
        organization(
            "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
            "tailspin.onmicrosoft.com",
            reported(by_name("contoso.onmicrosoft.com"), |_| {}),
        ),
        organization(
            "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
            "legacy.example.com",
            reported(by_name("fabrikam.local"), |s| {
                s["isSharePoint"] = json!(false);
                s.as_object_mut()
                    .expect("state is an object")
                    .remove("sharePointSettings");
            }),
        ),
        organization(
            "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e",
            "adatum.onmicrosoft.com",
            reported(by_name("northwind.onmicrosoft.com"), |_| {}),
        ),
    ]
}

/// The estate planned with or without prune.
pub(crate) fn estate_plan(prune: bool) -> Plan {
    plan(
        &desired(),
        &observed(),
        &PlanOptions {
            prune,
            server: SERVER.to_owned(),
            api_version: vbo_model::RestApiVersion::V3,
            scope: None,
        },
    )
}
