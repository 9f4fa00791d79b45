//! `/v3/Organizations`: every endpoint's success and error shapes, lenient reading of bodies,
//! secrets never returned, duplicate names, and case-insensitive paths.

use reqwest::StatusCode;
use serde_json::{Value, json};
use vbo_emulator::EmulatorConfig;

use crate::support::{Api, body_json, office365, on_premises};

/// The vendor page's Office365 example. The page omits the final closing brace; it is added
/// here, and nothing else is changed.
const VENDOR_OFFICE365: &str = r#"{
   "type": "Office365",
   "region": "Worldwide",
   "isExchangeOnline": false,
   "isSharePointOnline": true,
   "sharePointOnlineSettings": {
     "account": "user@organization.onmicrosoft.com",
     "Password": "password",
     "grantAdminAccess": true,
     "useMfa": false,
     "useCustomVeeamAADApplication": true
   }
}"#;

/// The vendor page's OnPremises example, verbatim.
const VENDOR_ON_PREMISES: &str = r#"{
 "Type": "OnPremises",
 "IsExchange": true,
 "ExchangeSettings":
 {
  "ServerName": "server",
  "Username": "Domain\\Administrator",
  "Password": "password",
  "UseSSL": false,
  "GrantImpersonation": true,
  "ConfigureThrottlingpolicy": true
 },
 "IsSharepoint": true,
 "SharepointSettings":
 {
  "ServerName": "server",
  "ServerPort": 5985,
  "Username": "Domain\\Administrator",
  "Password": "pass",
  "UseSSL": false,
  "GrantAccesstositecollections": true
 }
}"#;

/// The vendor page's Hybrid example, verbatim.
const VENDOR_HYBRID: &str = r#"{
 "Type": "Hybrid",
 "Office365Settings":
 {
  "Username": "userAlpha@organization.onmicrosoft.com",
  "Password": "password",
  "Region": "Worldwide",
  "GrantImpersonation": true,
  "GrantAccessToSiteCollections": true
 },
 "IsExchange": true,
 "ExchangeSettings":
 {
  "ServerName": "server",
  "Username": "Domain\\Administrator",
  "Password": "password",
  "UseSSL": false,
  "GrantImpersonation": true,
  "ConfigureThrottlingpolicy": true
 },
 "IsSharepoint": true,
 "SharepointSettings":
 {
  "ServerName": "server",
  "ServerPort": 5985,
  "Username": "Domain\\Administrator",
  "Password": "pass",
  "UseSSL": false,
  "GrantAccesstositecollections": true
 }
}"#;

const DENIED: &str = "Authorization has been denied for this request.";

/// Checks the fields every representation has, as in the vendor's example response, and
/// returns the id.
fn assert_representation(json: &Value, base_url: &str) -> String {
    let id = json["id"].as_str().expect("an id").to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "a GUID: {id}");
    assert_eq!(json["isBackedup"], false);
    assert_eq!(json["_actions"], json!({}));
    let own = format!("{base_url}/v3/organizations/{id}");
    assert_eq!(json["_links"]["self"]["href"], own.as_str());
    for link in ["jobs", "groups", "users", "sites"] {
        assert_eq!(
            json["_links"][link]["href"],
            format!("{own}/{link}").as_str()
        );
    }
    id
}

#[tokio::test]
async fn the_vendors_office365_example_is_accepted_and_named_after_the_tenant() {
    let api = Api::default().await;
    let response = api.post_text(VENDOR_OFFICE365).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let json = body_json(response).await;
    let id = assert_representation(&json, api.emulator.base_url());
    assert!(location.ends_with(&id));
    // The fields of the vendor's example response.
    assert_eq!(json["type"], "Office365");
    assert_eq!(json["username"], "user@organization.onmicrosoft.com");
    assert_eq!(json["region"], "Worldwide");
    assert_eq!(json["name"], "organization.onmicrosoft.com");
    // The non-secret settings that were sent.
    assert_eq!(json["isSharePointOnline"], true);
    assert_eq!(json["isExchangeOnline"], false);
    let settings = &json["sharePointOnlineSettings"];
    assert_eq!(settings["account"], "user@organization.onmicrosoft.com");
    assert_eq!(settings["grantAdminAccess"], true);
    assert_eq!(settings["useMfa"], false);
    assert_eq!(settings["useCustomVeeamAADApplication"], true);
    assert!(settings.get("password").is_none() && settings.get("Password").is_none());
    // The secret was read despite its capital P, and kept.
    let stored = api.emulator.organizations();
    let kept = stored[0].body.share_point_online_settings.as_ref().unwrap();
    assert_eq!(kept.password.as_ref().unwrap().expose(), "password");
}

#[tokio::test]
async fn the_vendors_on_premises_example_is_accepted_verbatim() {
    let api = Api::default().await;
    let json = api
        .create(&serde_json::from_str(VENDOR_ON_PREMISES).unwrap())
        .await;
    assert_representation(&json, api.emulator.base_url());
    assert_eq!(json["type"], "OnPremises");
    assert_eq!(json["name"], "server");
    assert_eq!(json["isExchange"], true);
    assert_eq!(json["isSharePoint"], true);
    let exchange = &json["exchangeSettings"];
    assert_eq!(exchange["serverName"], "server");
    assert_eq!(exchange["username"], "Domain\\Administrator");
    assert_eq!(exchange["useSSL"], false);
    assert_eq!(exchange["grantImpersonation"], true);
    assert_eq!(exchange["configureThrottlingPolicy"], true);
    let share_point = &json["sharePointSettings"];
    assert_eq!(share_point["serverPort"], 5985);
    assert_eq!(share_point["grantAccessToSiteCollections"], true);
    let stored = &api.emulator.organizations()[0].body;
    let password =
        |secret: &Option<vbo_model::Secret>| secret.as_ref().unwrap().expose().to_owned();
    assert_eq!(
        password(&stored.exchange_settings.as_ref().unwrap().password),
        "password"
    );
    assert_eq!(
        password(&stored.share_point_settings.as_ref().unwrap().password),
        "pass"
    );
}

#[tokio::test]
async fn the_vendors_hybrid_example_is_accepted_verbatim() {
    let api = Api::default().await;
    let response = api.post_text(VENDOR_HYBRID).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let json = body_json(response).await;
    assert_representation(&json, api.emulator.base_url());
    assert_eq!(json["type"], "Hybrid");
    assert_eq!(json["name"], "organization.onmicrosoft.com");
    let office365 = &json["office365Settings"];
    assert_eq!(
        office365["username"],
        "userAlpha@organization.onmicrosoft.com"
    );
    assert_eq!(office365["region"], "Worldwide");
    assert_eq!(office365["grantImpersonation"], true);
    assert_eq!(office365["grantAccessToSiteCollections"], true);
    assert_eq!(json["exchangeSettings"]["configureThrottlingPolicy"], true);
    assert_eq!(
        json["sharePointSettings"]["grantAccessToSiteCollections"],
        true
    );
}

#[tokio::test]
async fn string_booleans_and_enum_values_in_any_case_are_read_as_the_docs_write_them() {
    let api = Api::default().await;
    // Each value as the vendor's property tables write it.
    let json = api
        .create(&json!({
            "type": "office365",
            "region": "worldwide",
            "isExchangeOnline": "true",
            "isSharePointOnline": "FALSE",
            "exchangeOnlineSettings": {
                "account": "user@organization.onmicrosoft.com",
                "password": "password",
                "grantAdminAccess": "true",
                "useMfa": "false",
                "useCustomVeeamAADApplication": "True"
            },
            "Name": "Eastsupport.onmicrosoft.com",
            "id": "7b2b1ae1-7bbb-4651-b479-bda7edc7838b"
        }))
        .await;
    assert_eq!(json["type"], "Office365");
    assert_eq!(json["region"], "Worldwide");
    assert_eq!(json["name"], "Eastsupport.onmicrosoft.com");
    assert_eq!(json["isExchangeOnline"], true);
    assert_eq!(json["isSharePointOnline"], false);
    assert_eq!(json["exchangeOnlineSettings"]["grantAdminAccess"], true);
    assert_eq!(
        json["exchangeOnlineSettings"]["useCustomVeeamAADApplication"],
        true
    );
    // An id in the body is ignored: the server assigns one.
    assert_ne!(json["id"], "7b2b1ae1-7bbb-4651-b479-bda7edc7838b");

    // "1" is not a boolean; the answer names the property and not the value.
    let response = api
        .post(&json!({"type": "OnPremises", "name": "n", "isExchange": "1"}))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        body_json(response).await["message"],
        "Property 'isExchange' must be true or false."
    );
}

#[tokio::test]
async fn requests_without_a_valid_bearer_token_are_denied() {
    let api = Api::default().await;
    let id = api.create(&office365("contoso.com")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let item = api.url(&format!("/v3/Organizations/{id}"));
    let list = api.url("/v3/Organizations");
    for authorization in [
        None,
        Some("Bearer not-a-token".to_owned()),
        Some(format!("Basic {}", api.token)),
        Some(api.token.clone()),
    ] {
        let requests = [
            api.client.get(&list),
            api.client.post(&list).json(&office365("fabrikam.com")),
            api.client.get(&item),
            api.client.put(&item).json(&office365("contoso.com")),
            api.client.delete(&item),
        ];
        for request in requests {
            let request = match &authorization {
                Some(value) => request.header("Authorization", value),
                None => request,
            };
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(body_json(response).await, json!({"message": DENIED}));
        }
    }
    assert_eq!(api.emulator.organizations().len(), 1);
    // The scheme is not case-sensitive.
    let response = api
        .client
        .get(&list)
        .header("Authorization", format!("bearer {}", api.token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn create_read_replace_and_delete_answer_as_the_real_server_does() {
    let api = Api::default().await;
    assert_eq!(
        body_json(api.get("/v3/Organizations").await).await,
        json!([])
    );

    let created = api.create(&on_premises("contoso.local")).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let other = api.create(&office365("fabrikam.com")).await;

    let list = body_json(api.get("/v3/Organizations").await).await;
    assert_eq!(
        list,
        json!([created.clone(), other]),
        "a plain array, in creation order"
    );
    let one = api.get(&format!("/v3/Organizations/{id}")).await;
    assert_eq!(one.status(), StatusCode::OK);
    assert_eq!(body_json(one).await, created);

    // PUT is a full replacement: SharePoint is added, Exchange is dropped.
    let replacement = json!({
        "type": "OnPremises",
        "name": "contoso.local",
        "isExchange": false,
        "isSharePoint": true,
        "sharePointSettings": {
            "serverName": "sp.contoso.local",
            "username": "CONTOSO\\sp",
            "password": "SharePoint-Pw"
        }
    });
    let response = api.put(&id, &replacement).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.text().await.unwrap().is_empty());
    let replaced = body_json(api.get(&format!("/v3/Organizations/{id}")).await).await;
    assert_eq!(replaced["id"], id.as_str());
    assert_eq!(replaced["isExchange"], false);
    assert!(replaced.get("exchangeSettings").is_none());
    assert_eq!(
        replaced["sharePointSettings"]["serverName"],
        "sp.contoso.local"
    );
    assert_eq!(
        replaced["sharePointSettings"]["serverPort"], 5985,
        "the default port"
    );

    let response = api.delete(&id).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().is_empty());

    for response in [
        api.get(&format!("/v3/Organizations/{id}")).await,
        api.delete(&id).await,
        api.put(&id, &replacement).await,
    ] {
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let message = body_json(response).await["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains(&id), "{message}");
    }
    let counts = api.emulator.request_counts();
    assert_eq!((counts.created, counts.updated, counts.deleted), (2, 1, 1));
    assert_eq!(counts.route("POST /v3/Organizations"), 2);
    assert_eq!(counts.route("GET /v3/Organizations/{id}"), 3);
    assert_eq!(counts.route("PUT /v3/Organizations/{id}"), 2);
    assert_eq!(counts.route("DELETE /v3/Organizations/{id}"), 2);
}

#[tokio::test]
async fn secrets_are_never_returned_by_any_endpoint() {
    let api = Api::default().await;
    let secrets = [
        "Online-Password-1",
        "App-Secret-2",
        "Cert-Password-3",
        "Office365-Password-4",
        "Exchange-Password-5",
        "SharePoint-Password-6",
    ];
    let online = json!({
        "account": "admin@tenant.onmicrosoft.com",
        "password": secrets[0],
        "useMfa": true,
        "applicationId": "63baecf0-2624-45d0-9ece-de1db611dc98",
        "applicationSecret": secrets[1],
        "applicationCertificate": "C:\\cert.pfx",
        "applicationCertificatePassword": secrets[2]
    });
    let exchange = json!({"serverName": "mail", "username": "C\\u", "password": secrets[4]});
    let share_point = json!({"serverName": "sp", "username": "C\\u", "password": secrets[5]});
    let bodies = [
        json!({"type": "Office365", "isExchangeOnline": true, "isSharePointOnline": true,
               "exchangeOnlineSettings": online, "sharePointOnlineSettings": online}),
        json!({"type": "OnPremises", "name": "onprem", "isExchange": true, "isSharePoint": true,
               "exchangeSettings": exchange, "sharePointSettings": share_point}),
        json!({"type": "Hybrid", "name": "hybrid",
               "office365Settings": {"username": "a@hybrid.com", "password": secrets[3]},
               "isExchange": true, "exchangeSettings": exchange,
               "isSharePoint": true, "sharePointSettings": share_point}),
    ];
    let mut seen = Vec::new();
    let mut ids = Vec::new();
    for body in &bodies {
        let response = api.post(body).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let text = response.text().await.unwrap();
        ids.push(serde_json::from_str::<Value>(&text).unwrap()["id"].clone());
        seen.push(text);
    }
    seen.push(api.get("/v3/Organizations").await.text().await.unwrap());
    for (id, body) in ids.iter().zip(&bodies) {
        let id = id.as_str().unwrap();
        seen.push(
            api.get(&format!("/v3/Organizations/{id}"))
                .await
                .text()
                .await
                .unwrap(),
        );
        seen.push(api.put(id, body).await.text().await.unwrap());
    }
    // A refused duplicate must not echo the body either.
    seen.push(api.post(&bodies[1]).await.text().await.unwrap());
    for text in &seen {
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} leaked in {text}");
        }
        let lower = text.to_lowercase();
        for field in ["password", "applicationsecret"] {
            assert!(!lower.contains(field), "{field} in {text}");
        }
    }
    // They were kept, though.
    let stored = api.emulator.organizations();
    let online = stored[0].body.exchange_online_settings.as_ref().unwrap();
    assert_eq!(
        online.application_secret.as_ref().unwrap().expose(),
        secrets[1]
    );
    assert!(
        !format!("{stored:?}").contains(secrets[1]),
        "Debug redacts them"
    );
}

#[tokio::test]
async fn duplicate_names_are_refused_ignoring_case() {
    let api = Api::default().await;
    api.create(&office365("Contoso.com")).await;
    let response = api.post(&on_premises("CONTOSO.COM")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        body_json(response).await,
        json!({"message": "Organization CONTOSO.COM has already been added."})
    );
    // A derived name counts too.
    let mut unnamed = office365("contoso.com");
    unnamed.as_object_mut().unwrap().remove("name");
    let response = api.post(&unnamed).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // Renaming onto another organization's name is refused; keeping one's own name is not.
    let fabrikam = api.create(&office365("fabrikam.com")).await;
    let id = fabrikam["id"].as_str().unwrap();
    let response = api.put(id, &office365("contoso.COM")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        body_json(response).await["message"],
        "Organization contoso.COM has already been added."
    );
    assert_eq!(
        api.put(id, &office365("FABRIKAM.com")).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(api.emulator.organizations().len(), 2);
    assert_eq!(api.emulator.request_counts().created, 2);
}

#[tokio::test]
async fn invalid_bodies_answer_400_naming_the_property() {
    let api = Api::default().await;
    let cases = [
        (json!({"name": "x"}), "Property 'type' is required."),
        (
            json!({"type": "Exchange", "name": "x"}),
            "Property 'type' must be one of Office365, OnPremises, Hybrid.",
        ),
        (
            json!({"type": "Office365", "name": "x", "isExchangeOnline": true}),
            "Property 'exchangeOnlineSettings' is required when 'isExchangeOnline' is true.",
        ),
        (
            json!({"type": "Office365", "name": "x", "isExchangeOnline": true,
                   "exchangeOnlineSettings": {"account": "a@x"}}),
            "Property 'exchangeOnlineSettings.password' is required.",
        ),
        (
            json!({"type": "OnPremises", "name": "x", "isExchange": true,
                   "exchangeSettings": {"username": "u", "password": "Hunter2-Secret"}}),
            "Property 'exchangeSettings.serverName' is required.",
        ),
        (
            json!({"type": "OnPremises", "name": "x", "isSharePoint": true,
                   "sharePointSettings": {"serverName": "s", "serverPort": "Hunter2-Secret"}}),
            "Property 'sharePointSettings.serverPort' must be a whole number from 1 to 65535.",
        ),
        (
            json!({"type": "Hybrid", "name": "x"}),
            "Property 'office365Settings' is required for a Hybrid organization.",
        ),
        (
            json!({"type": "Hybrid", "name": "x", "office365Settings": {"username": "a@x"}}),
            "Property 'office365Settings.password' is required.",
        ),
    ];
    for (body, message) in cases {
        let response = api.post(&body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body_json(response).await, json!({"message": message}));
    }
    let response = api.post_text("{\"type\": \"Office365\",").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        body_json(response).await["message"],
        "The request body is not valid JSON."
    );
    let response = api
        .client
        .post(api.url("/v3/Organizations"))
        .bearer_auth(&api.token)
        .header("Content-Type", "text/plain")
        .body(office365("x.com").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(body_json(response).await["message"].is_string());

    // A PUT may not change the type.
    let id = api.create(&office365("contoso.com")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = api.put(&id, &on_premises("contoso.com")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        body_json(response).await["message"]
            .as_str()
            .unwrap()
            .starts_with("Property 'type' cannot change from Office365 to OnPremises")
    );
    assert_eq!(api.emulator.organizations().len(), 1);
}

#[tokio::test]
async fn paths_match_in_any_case_and_unknown_ones_answer_404() {
    let api = Api::default().await;
    let id = api.create(&office365("contoso.com")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for path in [
        "/V3/ORGANIZATIONS".to_owned(),
        "/v3/organizations/".to_owned(),
        format!("/v3/organizations/{}", id.to_uppercase()),
        format!("/V3/Organizations/{id}"),
    ] {
        assert_eq!(api.get(&path).await.status(), StatusCode::OK, "{path}");
    }
    let response = api.get("/v3/Organizations/not-an-id").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = api.get("/v3/Jobs").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(body_json(response).await["message"].is_string());
    let response = api
        .client
        .patch(api.url("/v3/Organizations"))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "GET, POST");
    assert_eq!(api.emulator.request_counts().route("other"), 2);
}

#[tokio::test]
async fn links_follow_the_host_the_client_used() {
    let api = Api::start(EmulatorConfig::default()).await;
    let response = api
        .client
        .post(api.url("/v3/Organizations"))
        .bearer_auth(&api.token)
        .header("Host", "vbo.contoso.local:4443")
        .json(&office365("contoso.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let json = body_json(response).await;
    let id = json["id"].as_str().unwrap();
    assert_eq!(
        json["_links"]["self"]["href"],
        format!("http://vbo.contoso.local:4443/v3/organizations/{id}").as_str()
    );
}
