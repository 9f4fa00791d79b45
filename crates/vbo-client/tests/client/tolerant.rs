//! Reading answers as other servers write them: strict about `id`, `name` and `type`, lenient
//! about everything else, and one clear line for any error body.

use axum::http::StatusCode;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use vbo_client::{ClientError, Outcome};
use vbo_model::{OrganizationBody, OrganizationType, Region};

use crate::stub::{self, Stub};

/// Organizations as servers other than our emulator may write them, one oddity after another.
fn odd_organizations() -> Vec<Value> {
    vec![
        // `_links` with only `self`, no `_actions`; a v3 region name; string booleans in any
        // case; a v8-only field.
        json!({
            "id": "6f1c3a5e-0000-4000-8000-000000000001",
            "name": "only-self-link",
            "type": "Office365",
            "region": "USgovCommunity",
            "isExchangeOnline": "True",
            "isSharePointOnline": "false",
            "exchangeOnlineSettings": {
                "account": "admin@a.onmicrosoft.com",
                "grantAdminAccess": true,
                "useMfa": "False",
                "useApplicationOnlyAuth": "TRUE",
                "applicationId": "63baecf0-2624-45d0-9ece-de1db611dc98"
            },
            "msid": "d3a2f0aa-1b2c-4d5e-8f90-0a1b2c3d4e5f",
            "_links": {"self": {"href": "/v8/Organizations/6f1c3a5e-0000-4000-8000-000000000001"}}
        }),
        // No `_links` at all, `null` where a value is optional, `type` in lower case, unknown
        // members of every kind, a name in another case.
        json!({
            "id": "6f1c3a5e-0000-4000-8000-000000000002",
            "Name": "no-links",
            "type": "office365",
            "region": null,
            "description": null,
            "isExchangeOnline": true,
            "exchangeOnlineSettings": null,
            "sharePointOnlineSettings": null,
            "frobnicate": {"deep": {"x": [1, 2]}},
            "tags": ["a", {"b": null}],
            "aNumber": 3.5
        }),
        // v8's spellings of the on-premises fields, numbers and booleans as strings, a type in
        // upper case, extra links and an empty `_actions`.
        json!({
            "id": "6f1c3a5e-0000-4000-8000-000000000003",
            "name": "on-premises",
            "type": "ONPREMISES",
            "isExchange": false,
            "isSharepoint": "True",
            "sharepointSettings": {
                "serverName": "sp.contoso.local",
                "serverPort": "5985",
                "username": "CONTOSO\\backup",
                "useSSL": "true",
                "skipCAverification": false,
                "skipCommonnameverification": "True",
                "skipRevocationcheck": false,
                "grantAccesstositecollections": true,
                "somethingNew": {"x": 1}
            },
            "_links": {
                "self": {"href": "/v8/Organizations/6f1c3a5e-0000-4000-8000-000000000003"},
                "users": {"href": "/v8/Organizations/6f1c3a5e-0000-4000-8000-000000000003/Users"},
                "somethingElse": {"href": "/v8/Elsewhere"}
            },
            "_actions": {}
        }),
        // A v6+ region name, the fields of later versions, backup times as extendedView gives
        // them, and a v8 spelling of an Exchange field.
        json!({
            "id": "6f1c3a5e-0000-4000-8000-000000000004",
            "name": "hybrid",
            "type": "HYBRID",
            "region": "USGovernment",
            "description": "the hybrid one",
            "isTeamsOnline": "true",
            "isTeamsChatsOnline": false,
            "officeName": "contoso",
            "backedUpOrganizationId": "b-4",
            "isBackedup": "False",
            "firstBackuptime": null,
            "isExchange": true,
            "exchangeSettings": {"serverName": "mail.contoso.local", "configureThrottlingpolicy": "True"},
            "_actions": {"remove": {"uri": "/v8/Organizations/4", "method": "DELETE"}}
        }),
        // Empty maps written as arrays, as some serializers write them.
        json!({
            "id": "6f1c3a5e-0000-4000-8000-000000000005",
            "name": "links-as-array",
            "type": "OnPremises",
            "_links": [],
            "_actions": []
        }),
    ]
}

/// A stub that lists `organizations` as `version` does: a page (v8) or a plain array.
async fn listing(version: &'static str, organizations: Vec<Value>) -> Stub {
    let path = format!("/{version}/Organizations");
    Stub::start(&[version], move |seen| {
        (seen.method == "GET" && seen.path == path).then(|| {
            if version == "v8" {
                stub::page(&organizations, seen, 30, Some("set-1"))
            } else {
                stub::json(StatusCode::OK, &Value::Array(organizations.clone()))
            }
        })
    })
    .await
}

#[tokio::test]
async fn organizations_are_read_as_other_servers_write_them() {
    for version in ["v8", "v3"] {
        let stub = listing(version, odd_organizations()).await;
        let client = stub.connect().await;
        assert_eq!(client.api_version().as_str(), version);
        let organizations = client.list().await.unwrap();
        let names: Vec<&str> = organizations.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "only-self-link",
                "no-links",
                "on-premises",
                "hybrid",
                "links-as-array"
            ],
            "{version}"
        );

        let first = &organizations[0];
        assert_eq!(first.id, "6f1c3a5e-0000-4000-8000-000000000001");
        assert_eq!(first.state.kind, OrganizationType::Office365);
        assert_eq!(first.state.region, Some(Region::UsGovernment));
        assert_eq!(first.state.is_exchange_online, Some(true));
        assert_eq!(first.state.is_share_point_online, Some(false));
        let exchange = first.state.exchange_online_settings.as_ref().unwrap();
        assert_eq!(exchange.account.as_deref(), Some("admin@a.onmicrosoft.com"));
        assert_eq!(exchange.grant_admin_access, Some(true));
        assert_eq!(exchange.use_mfa, Some(false));
        assert_eq!(exchange.use_application_only_auth, Some(true));
        assert_eq!(
            exchange.application_id.as_deref(),
            Some("63baecf0-2624-45d0-9ece-de1db611dc98")
        );
        // Omitted: not reported.
        assert_eq!(exchange.use_custom_veeam_aad_application, None);
        assert_eq!(exchange.office_organization_name, None);
        assert_eq!(
            first.msid.as_deref(),
            Some("d3a2f0aa-1b2c-4d5e-8f90-0a1b2c3d4e5f")
        );
        // Read, but not kept: vboctl follows no link.
        assert_eq!(first.links, None);
        assert_eq!(first.actions, None);
        assert_eq!(first.state.description, None);
        assert_eq!(first.state.share_point_online_settings, None);

        let second = &organizations[1];
        assert_eq!(second.name, "no-links");
        assert_eq!(second.state.kind, OrganizationType::Office365);
        assert_eq!(second.state.region, None);
        assert_eq!(second.state.description, None);
        assert_eq!(second.state.is_exchange_online, Some(true));
        assert_eq!(second.state.exchange_online_settings, None);
        assert_eq!(second.state.share_point_online_settings, None);
        assert_eq!(second.state.is_share_point_online, None);
        assert_eq!(second.links, None);
        assert_eq!(second.actions, None);
        assert_eq!(second.msid, None);

        let third = &organizations[2];
        assert_eq!(third.state.kind, OrganizationType::OnPremises);
        assert_eq!(third.state.is_exchange, Some(false));
        assert_eq!(third.state.exchange_settings, None);
        assert_eq!(third.state.is_share_point, Some(true));
        let share_point = third.state.share_point_settings.as_ref().unwrap();
        assert_eq!(share_point.server_name.as_deref(), Some("sp.contoso.local"));
        assert_eq!(share_point.server_port, Some(5985));
        assert_eq!(share_point.username.as_deref(), Some("CONTOSO\\backup"));
        assert_eq!(share_point.use_ssl, Some(true));
        assert_eq!(share_point.skip_ca_verification, Some(false));
        assert_eq!(share_point.skip_common_name_verification, Some(true));
        assert_eq!(share_point.skip_revocation_check, Some(false));
        assert_eq!(share_point.grant_access_to_site_collections, Some(true));
        assert_eq!(share_point.grant_impersonation, None);
        assert_eq!(third.state.region, None);
        assert_eq!((&third.links, &third.actions), (&None, &None));

        let fourth = &organizations[3];
        assert_eq!(fourth.state.kind, OrganizationType::Hybrid);
        assert_eq!(fourth.state.region, Some(Region::UsGovernment));
        assert_eq!(fourth.state.description.as_deref(), Some("the hybrid one"));
        assert_eq!(fourth.state.is_teams_online, Some(true));
        assert_eq!(fourth.state.is_teams_chats_online, Some(false));
        assert_eq!(fourth.office_name.as_deref(), Some("contoso"));
        assert_eq!(fourth.backed_up_organization_id.as_deref(), Some("b-4"));
        assert_eq!(fourth.is_backed_up, Some(false));
        assert_eq!(fourth.first_backup_time, None);
        assert_eq!(fourth.last_backup_time, None);
        let exchange = fourth.state.exchange_settings.as_ref().unwrap();
        assert_eq!(exchange.server_name.as_deref(), Some("mail.contoso.local"));
        assert_eq!(exchange.configure_throttling_policy, Some(true));
        assert_eq!(exchange.use_ssl, None);
        assert!(fourth.links.is_none());
        assert!(fourth.actions.is_none());

        let fifth = &organizations[4];
        assert_eq!(fifth.state.kind, OrganizationType::OnPremises);
        assert_eq!((&fifth.links, &fifth.actions), (&None, &None));
    }
}

#[tokio::test]
async fn an_organization_without_id_name_or_type_fails_the_list_naming_its_position() {
    let good = |n: usize| stub::organization(n);
    for (missing, bad) in [
        ("id", json!({"name": "x", "type": "OnPremises"})),
        ("id", json!({"id": null, "name": "x", "type": "OnPremises"})),
        ("name", json!({"id": stub::id(99), "type": "OnPremises"})),
        (
            "name",
            json!({"id": stub::id(99), "name": null, "type": "OnPremises"}),
        ),
        ("type", json!({"id": stub::id(99), "name": "x"})),
        (
            "type",
            json!({"id": stub::id(99), "name": "x", "type": "Exchange"}),
        ),
    ] {
        let stub = listing("v3", vec![good(1), bad.clone(), good(3)]).await;
        let error = stub.connect().await.list().await.unwrap_err();
        assert!(
            matches!(error, ClientError::UnexpectedResponse { status: 200, .. }),
            "{bad}: {error:?}"
        );
        let message = error.to_string();
        assert!(
            message.starts_with("GET /v3/Organizations: "),
            "{bad}: {message}"
        );
        assert!(
            message.contains(&format!(
                "organization #2: Property '{missing}' is required."
            )),
            "{bad}: {message}"
        );
        assert!(!message.contains('\n'), "{message}");
    }

    // On a later page, the position counts from the start of the whole list.
    let mut organizations: Vec<Value> = (1..=12).map(good).collect();
    organizations[8] = json!({"id": stub::id(9), "type": "OnPremises"});
    let stub = Stub::start(&["v8"], move |seen| {
        (seen.path == "/v8/Organizations").then(|| stub::page(&organizations, seen, 7, Some("s")))
    })
    .await;
    let error = stub.connect().await.list().await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("organization #9: Property 'name' is required."),
        "{error}"
    );
}

#[tokio::test]
async fn error_bodies_of_every_shape_are_one_line_with_the_status_and_the_message() {
    let answer: Arc<Mutex<(StatusCode, &'static str, &'static str)>> =
        Arc::new(Mutex::new((StatusCode::OK, "", "")));
    let shared = Arc::clone(&answer);
    let stub = Stub::start(&["v8"], move |seen| {
        let (status, media_type, body) = *shared.lock().unwrap();
        (seen.route() == "POST /v8/Organizations").then(|| stub::raw(status, media_type, body))
    })
    .await;
    let client = stub.connect().await;
    let body: OrganizationBody =
        serde_json::from_value(json!({"type": "OnPremises", "name": "contoso.local"})).unwrap();
    let cases = [
        (
            "application/json",
            r#"{"message":"Organization contoso.local has already been added."}"#,
            "Organization contoso.local has already been added.",
        ),
        (
            "application/json",
            r#"{"message":"Not found.","errorCode":"ResourceNotFound","stackTrace":null}"#,
            "Not found. (ResourceNotFound)",
        ),
        (
            "application/json",
            r#"{"error":"invalid_request","error_description":"The request is invalid."}"#,
            "The request is invalid. (invalid_request)",
        ),
        (
            "text/html",
            "<!DOCTYPE html>\r\n<html><head><title>Service Unavailable</title></head>\r\n<body><h1>HTTP Error 503. The service is unavailable.</h1></body></html>\r\n",
            "Service Unavailable",
        ),
        ("application/json", "", "(no message)"),
        (
            "text/plain",
            "An error has occurred.\r\n\tat Veeam.Archiver.REST\r\n",
            "An error has occurred. at Veeam.Archiver.REST",
        ),
    ];
    let mut posts = 0;
    for (media_type, text, message) in cases {
        for status in [StatusCode::BAD_REQUEST, StatusCode::INTERNAL_SERVER_ERROR] {
            *answer.lock().unwrap() = (status, media_type, text);
            let error = client.create(&body).await.unwrap_err();
            posts += 1;
            let code = status.as_u16();
            assert_eq!(
                error.to_string(),
                format!("POST /v8/Organizations failed with {code}: {message}"),
                "{text:?}"
            );
            assert_eq!(error.status(), Some(code));
            assert_eq!(error.server_message(), Some(message));
            assert!(!error.to_string().chars().any(char::is_control), "{error}");
            // A refusal did nothing; a server error may have done something, and a create is
            // never sent twice.
            let outcome = if code < 500 {
                Outcome::NotPerformed
            } else {
                Outcome::Unknown
            };
            assert_eq!(error.outcome(), outcome, "{text:?} {code}");
            assert_eq!(stub.count("POST /v8/Organizations"), posts);
        }
    }
}
