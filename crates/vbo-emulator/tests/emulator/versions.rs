//! One store served in several dialects: v3, v6, v7 and v8 each with their own token request,
//! spellings, links, paging, status codes, error bodies and rules.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use vbo_emulator::{
    DEFAULT_PASSWORD, DEFAULT_USER, Emulator, EmulatorConfig, EmulatorHandle, StoredOrganization,
};
use vbo_model::{Region, RestApiVersion};

use crate::support::{body_json, client, office365, on_premises};

/// An emulator and a token that every version it serves accepts.
struct Server {
    emulator: EmulatorHandle,
    client: reqwest::Client,
    token: String,
}

/// The documented token path of each version.
fn token_path(version: &str) -> String {
    if version == "v3" {
        "/v3/Token".to_owned()
    } else {
        format!("/{version}/token")
    }
}

impl Server {
    /// Starts an emulator with `config` and logs in through the newest version it serves.
    async fn start(config: EmulatorConfig) -> Self {
        let newest = *config.api_versions.iter().max().expect("a version");
        let emulator = Emulator::start(config).await.expect("the emulator starts");
        let client = client();
        let response = token(&client, emulator.base_url(), newest.as_str(), true).await;
        assert_eq!(response.status(), StatusCode::OK);
        let token = body_json(response).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        Self {
            emulator,
            client,
            token,
        }
    }

    async fn default() -> Self {
        Self::start(EmulatorConfig::default()).await
    }

    async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.emulator.base_url()))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("the request is answered")
    }

    async fn get(&self, path: &str) -> Response {
        self.send(Method::GET, path, None).await
    }

    /// `GET` expecting 200, as JSON.
    async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        body_json(response).await
    }

    async fn post(&self, version: &str, body: &Value) -> Response {
        self.send(
            Method::POST,
            &format!("/{version}/Organizations"),
            Some(body),
        )
        .await
    }

    /// POSTs `body` through `version`, expects success, and returns the representation.
    async fn create(&self, version: &str, body: &Value) -> Value {
        let response = self.post(version, body).await;
        let status = response.status();
        let json = body_json(response).await;
        assert!(status.is_success(), "{version}: {status} {json}");
        json
    }

    fn stored(&self, name: &str) -> StoredOrganization {
        self.emulator
            .organizations()
            .into_iter()
            .find(|organization| organization.name == name)
            .unwrap_or_else(|| panic!("{name} is stored"))
    }
}

/// POSTs a password grant to `version`'s token endpoint, with or without
/// `disable_antiforgery_token=true`.
async fn token(
    client: &reqwest::Client,
    base_url: &str,
    version: &str,
    disable_antiforgery: bool,
) -> Response {
    token_with(
        client,
        base_url,
        version,
        DEFAULT_PASSWORD,
        disable_antiforgery,
    )
    .await
}

async fn token_with(
    client: &reqwest::Client,
    base_url: &str,
    version: &str,
    password: &str,
    disable_antiforgery: bool,
) -> Response {
    let mut form = vec![
        ("grant_type", "password"),
        ("username", DEFAULT_USER),
        ("password", password),
    ];
    if disable_antiforgery {
        form.push(("disable_antiforgery_token", "true"));
    }
    client
        .post(format!("{base_url}{}", token_path(version)))
        .form(&form)
        .send()
        .await
        .expect("the token request is answered")
}

/// An Office365 body with application-only authentication, which v8 takes in any region.
fn app_only(name: &str) -> Value {
    json!({
        "type": "Office365",
        "name": name,
        "region": "Worldwide",
        "isExchangeOnline": true,
        "exchangeOnlineSettings": {
            "useApplicationOnlyAuth": true,
            "officeOrganizationName": name,
            "applicationId": "63baecf0-2624-45d0-9ece-de1db611dc98",
            "applicationCertificate": "MIIKAgEDMIIJvAYJKoZIhvcNAQcBoIIJrQSCCakwggmlMIIF",
            "applicationCertificatePassword": "Certificate-Pw"
        },
        "isSharePointOnline": false
    })
}

/// The organization called `name` in a list answer (a plain array or a page's `results`).
fn named<'a>(list: &'a Value, name: &str) -> &'a Value {
    let items = list
        .as_array()
        .or_else(|| list["results"].as_array())
        .expect("a list or a page");
    items
        .iter()
        .find(|organization| organization["name"] == name)
        .unwrap_or_else(|| panic!("{name} is listed: {list}"))
}

fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort_unstable();
    keys
}

#[tokio::test]
async fn an_organization_created_through_v3_is_listed_in_every_dialect() {
    let server = Server::default().await;
    let base = server.emulator.base_url().to_owned();
    let mut tenant = office365("contoso.onmicrosoft.com");
    tenant["region"] = json!("USgovCommunity");
    let tenant = server.create("v3", &tenant).await;
    let farm = server
        .create(
            "v3",
            &json!({
                "type": "OnPremises",
                "name": "farm.contoso.local",
                "isExchange": false,
                "isSharePoint": true,
                "sharePointSettings": {
                    "serverName": "sp.contoso.local", "username": "C\\u", "password": "Sp-Pw",
                    "skipCommonNameVerification": true, "grantAccessToSiteCollections": true
                }
            }),
        )
        .await;
    let hybrid = server
        .create(
            "v3",
            &json!({
                "type": "Hybrid",
                "name": "hybrid.contoso.com",
                "office365Settings": {"username": "u@hybrid.contoso.com", "password": "Pw-1"},
                "isExchange": true,
                "exchangeSettings": {"serverName": "mail", "username": "C\\u", "password": "Pw-2"}
            }),
        )
        .await;
    let id = |json: &Value| json["id"].as_str().unwrap().to_owned();
    let (tenant_id, farm_id, hybrid_id) = (id(&tenant), id(&farm), id(&hybrid));

    // v8: a page, v8's spellings and region names, relative links, the tenant's msid.
    let page = server.get_json("/v8/Organizations").await;
    assert_eq!(page["results"].as_array().unwrap().len(), 3);
    let listed = named(&page, "farm.contoso.local");
    assert_eq!(listed["id"], farm_id.as_str());
    assert_eq!(listed["isSharepoint"], true);
    assert!(listed.get("isSharePoint").is_none(), "{:?}", keys(listed));
    assert!(
        listed.get("sharePointSettings").is_none(),
        "{:?}",
        keys(listed)
    );
    let share_point = &listed["sharepointSettings"];
    assert_eq!(share_point["skipCommonnameverification"], true);
    assert_eq!(share_point["grantAccesstositecollections"], true);
    assert!(share_point.get("password").is_none());
    assert_eq!(
        listed["_links"]["self"]["href"],
        format!("/v8/Organizations/{farm_id}")
    );
    assert!(listed.get("msid").is_none(), "on-premises has no tenant");
    for (name, id) in [
        ("contoso.onmicrosoft.com", &tenant_id),
        ("hybrid.contoso.com", &hybrid_id),
    ] {
        let listed = named(&page, name);
        let msid = listed["msid"]
            .as_str()
            .unwrap_or_else(|| panic!("{listed}"));
        assert!(uuid::Uuid::parse_str(msid).is_ok(), "{msid}");
        assert_eq!(
            listed["_links"]["self"]["href"],
            format!("/v8/Organizations/{id}")
        );
    }
    assert_eq!(
        named(&page, "contoso.onmicrosoft.com")["region"],
        "USGovernment"
    );
    // One organization, one answer: the same through its own path.
    let single = server
        .get_json(&format!("/v8/Organizations/{tenant_id}"))
        .await;
    assert_eq!(&single, named(&page, "contoso.onmicrosoft.com"));

    // v3: a plain array, v3's spellings, absolute links, no msid.
    let list = server.get_json("/v3/Organizations").await;
    assert_eq!(list.as_array().unwrap().len(), 3);
    let listed = named(&list, "farm.contoso.local");
    assert_eq!(listed["isSharePoint"], true);
    assert!(listed.get("isSharepoint").is_none());
    assert_eq!(
        listed["sharePointSettings"]["skipCommonNameVerification"],
        true
    );
    assert_eq!(
        listed["_links"]["self"]["href"],
        format!("{base}/v3/organizations/{farm_id}")
    );
    for organization in list.as_array().unwrap() {
        assert!(organization.get("msid").is_none(), "{organization}");
        assert!(
            organization["_links"]["self"]["href"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{base}/v3/")),
            "{organization}"
        );
    }
    assert_eq!(
        named(&list, "contoso.onmicrosoft.com")["region"],
        "USgovCommunity"
    );

    // v6: a plain array in the later spellings, relative links, and no msid (v8 only).
    let list = server.get_json("/v6/Organizations").await;
    let listed = named(&list, "farm.contoso.local");
    assert_eq!(listed["isSharepoint"], true);
    assert_eq!(
        listed["_links"]["self"]["href"],
        format!("/v6/Organizations/{farm_id}")
    );
    assert!(
        named(&list, "contoso.onmicrosoft.com")
            .get("msid")
            .is_none()
    );
}

#[tokio::test]
async fn v8_pages_the_list_with_links_a_default_and_a_maximum() {
    let server = Server::start(EmulatorConfig {
        seed_orgs: 45,
        ..EmulatorConfig::default()
    })
    .await;
    let stored: Vec<String> = server
        .emulator
        .organizations()
        .into_iter()
        .map(|organization| organization.name)
        .collect();
    let names = |page: &Value| -> Vec<String> {
        page["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|organization| organization["name"].as_str().unwrap().to_owned())
            .collect()
    };

    let first = server.get_json("/v8/Organizations").await;
    assert_eq!(
        (first["offset"].as_u64(), first["limit"].as_u64()),
        (Some(0), Some(30))
    );
    assert_eq!(names(&first), stored[..30]);
    assert_eq!(
        first["_links"]["next"]["href"],
        "/v8/Organizations?offset=30&limit=30"
    );
    assert!(first["_links"].get("prev").is_none());

    let second = server
        .get_json("/v8/Organizations?offset=30&limit=30")
        .await;
    assert_eq!(second["offset"], 30);
    assert_eq!(second["limit"], 30);
    assert_eq!(names(&second), stored[30..]);
    assert!(
        second["_links"].get("next").is_none(),
        "{}",
        second["_links"]
    );
    assert_eq!(
        second["_links"]["prev"]["href"],
        "/v8/Organizations?offset=0&limit=30"
    );
    assert_eq!(first["setId"], second["setId"]);

    let everything = server.get_json("/v8/Organizations?limit=20000").await;
    assert_eq!(everything["limit"], 10_000);
    assert_eq!(names(&everything), stored);
    assert!(everything["_links"].get("next").is_none());

    // The set stays the same while nothing changes, and changes with a create.
    let again = server.get_json("/v8/Organizations").await;
    let set_id = first["setId"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(set_id).is_ok(), "{set_id}");
    assert_eq!(again["setId"], set_id);
    server.create("v8", &on_premises("one-more.example")).await;
    let changed = server.get_json("/v8/Organizations").await;
    assert_ne!(changed["setId"], set_id);
    let later = server.get_json("/v8/Organizations?offset=30").await;
    assert_eq!(later["setId"], changed["setId"]);
    assert_eq!(names(&later).last().unwrap(), "one-more.example");

    // Versions before v8 answer the whole list at once, whatever is asked.
    let whole = server.get_json("/v7/Organizations?limit=5").await;
    assert_eq!(whole.as_array().unwrap().len(), 46);
}

#[tokio::test]
async fn a_configured_page_limit_caps_pages_further() {
    let server = Server::start(EmulatorConfig {
        seed_orgs: 25,
        page_limit: Some(10),
        ..EmulatorConfig::default()
    })
    .await;
    for (query, offset, count, next) in [
        ("", 0, 10, Some("/v8/Organizations?offset=10&limit=10")),
        (
            "?limit=20000",
            0,
            10,
            Some("/v8/Organizations?offset=10&limit=10"),
        ),
        ("?limit=4", 0, 4, Some("/v8/Organizations?offset=4&limit=4")),
        ("?offset=20&limit=10", 20, 5, None),
    ] {
        let page = server.get_json(&format!("/v8/Organizations{query}")).await;
        assert_eq!(page["offset"], offset, "{query}");
        assert_eq!(page["results"].as_array().unwrap().len(), count, "{query}");
        assert_eq!(
            page["limit"].as_u64(),
            Some(if query.contains("limit=4") { 4 } else { 10 }),
            "{query}"
        );
        assert_eq!(page["_links"]["next"]["href"].as_str(), next, "{query}");
    }
}

#[tokio::test]
async fn each_version_answers_with_its_own_status_codes_and_error_bodies() {
    let server = Server::default().await;
    for (version, created, deleted, error_code) in [
        ("v3", 201, 200, None),
        ("v6", 200, 204, None),
        ("v7", 200, 204, Some("ResourceNotFound")),
        ("v8", 201, 204, Some("ResourceNotFound")),
    ] {
        let name = format!("{version}.contoso.local");
        let response = server.post(version, &on_premises(&name)).await;
        assert_eq!(response.status().as_u16(), created, "{version} POST");
        let id = body_json(response).await["id"].as_str().unwrap().to_owned();
        let item = format!("/{version}/Organizations/{id}");

        let mut body = on_premises(&name);
        body["exchangeSettings"]["useSSL"] = json!(false);
        let response = server.send(Method::PUT, &item, Some(&body)).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "{version} PUT");

        let response = server.send(Method::DELETE, &item, None).await;
        assert_eq!(response.status().as_u16(), deleted, "{version} DELETE");
        assert!(response.bytes().await.unwrap().is_empty());

        let response = server.get(&item).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{version}");
        let json = body_json(response).await;
        assert_eq!(
            json["message"],
            format!("Organization with ID '{id}' was not found."),
            "{version}"
        );
        assert_eq!(json["errorCode"].as_str(), error_code, "{version}: {json}");

        // A refused body: 400 with v8's ParameterValidationFailure from v7 on.
        let response = server.post(version, &json!({"type": "Exchange"})).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{version}");
        let json = body_json(response).await;
        assert!(
            json["message"].as_str().unwrap().contains("'type'"),
            "{json}"
        );
        assert_eq!(
            json["errorCode"].as_str(),
            error_code.map(|_| "ParameterValidationFailure"),
            "{version}: {json}"
        );
    }
    assert!(server.emulator.organizations().is_empty());
}

#[tokio::test]
async fn versions_that_are_not_served_are_not_found() {
    let server = Server::start(EmulatorConfig {
        api_versions: vec![RestApiVersion::V3, RestApiVersion::V8],
        ..EmulatorConfig::default()
    })
    .await;
    assert_eq!(
        server.get("/v8/Organizations").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        server.get("/v3/Organizations").await.status(),
        StatusCode::OK
    );
    for path in [
        "/v6/Organizations",
        "/v7/Organizations",
        "/v5/Organizations",
        "/v4/Organizations",
        "/v9/Organizations",
        "/Organizations",
    ] {
        let response = server.get(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(
            body_json(response).await["message"]
                .as_str()
                .unwrap()
                .contains("No HTTP resource was found"),
            "{path}"
        );
    }
    // Nor can one log in through them.
    for version in ["v6", "v7", "v5"] {
        let response = token(&server.client, server.emulator.base_url(), version, true).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{version}");
    }
    let response = server.post("v5", &on_premises("contoso.local")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(server.emulator.organizations().is_empty());
}

#[tokio::test]
async fn the_token_request_and_its_errors_follow_each_version() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let base = emulator.base_url();

    // v7 and v8 want the antiforgery token disabled; v3 and v6 do not know it.
    for (version, without, with) in [
        ("v3", 200, 200),
        ("v6", 200, 200),
        ("v7", 400, 200),
        ("v8", 400, 200),
    ] {
        let response = token(&client, base, version, false).await;
        assert_eq!(response.status().as_u16(), without, "{version} without");
        if without == 400 {
            let json = body_json(response).await;
            assert!(
                json["message"]
                    .as_str()
                    .unwrap()
                    .contains("disable_antiforgery_token=true"),
                "{json}"
            );
            assert_eq!(json["errorCode"], "ParameterValidationFailure");
        }
        let response = token(&client, base, version, true).await;
        assert_eq!(response.status().as_u16(), with, "{version} with");
        assert!(body_json(response).await["access_token"].is_string());
    }

    // A wrong password: OAuth's shape in v3, RESTExceptionInfo from v6 on.
    let wrong = "Wrong-Password-5";
    for version in ["v3", "v6", "v7", "v8"] {
        let response = token_with(&client, base, version, wrong, true).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{version}");
        let text = response.text().await.unwrap();
        assert!(!text.contains(wrong), "{version}: the password is echoed");
        let json: Value = serde_json::from_str(&text).unwrap();
        match version {
            "v3" => {
                assert_eq!(keys(&json), ["error", "error_description"]);
                assert_eq!(json["error"], "invalid_grant");
            }
            "v6" => assert_eq!(keys(&json), ["message"]),
            _ => {
                assert_eq!(keys(&json), ["errorCode", "message"], "{version}");
                assert!(!json["message"].as_str().unwrap().is_empty());
            }
        }
    }
    let counts = emulator.request_counts();
    assert_eq!(counts.route("POST /v8/token"), 3);
    assert_eq!(counts.route("POST /v3/Token"), 3);
}

#[tokio::test]
async fn v8_adds_microsoft_365_organizations_with_application_only_authentication_only() {
    let server = Server::default().await;
    let basic = office365("basic.onmicrosoft.com");

    let response = server.post("v8", &basic).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let json = body_json(response).await;
    let message = json["message"].as_str().unwrap();
    assert!(message.contains("useApplicationOnlyAuth"), "{message}");
    assert!(message.contains("exchangeOnlineSettings"), "{message}");
    assert_eq!(json["errorCode"], "ParameterValidationFailure");
    assert!(server.emulator.organizations().is_empty());

    // Modern authentication without application-only is refused too.
    let mut modern = office365("modern.onmicrosoft.com");
    modern["exchangeOnlineSettings"] = json!({
        "useMfa": true, "applicationId": "63baecf0-2624-45d0-9ece-de1db611dc98",
        "applicationSecret": "App-Secret"
    });
    let response = server.post("v8", &modern).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // In China basic authentication is still allowed.
    let mut china = office365("china.partner.onmschina.cn");
    china["region"] = json!("China");
    let response = server.post("v8", &china).await;
    assert_eq!(response.status(), StatusCode::CREATED);

    // Application-only authentication is taken anywhere.
    let response = server
        .post("v8", &app_only("apponly.onmicrosoft.com"))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let stored = server.stored("apponly.onmicrosoft.com");
    let settings = stored.body.exchange_online_settings.unwrap();
    assert_eq!(settings.use_application_only_auth, Some(true));
    assert_eq!(
        settings.office_organization_name.as_deref(),
        Some("apponly.onmicrosoft.com")
    );

    // Earlier versions have no such rule: the same basic body is added through v3 (and v7).
    let response = server.post("v3", &basic).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = server
        .post("v7", &office365("basic-v7.onmicrosoft.com"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    // And an organization added earlier with basic authentication keeps working under v8.
    let id = server.stored("basic.onmicrosoft.com").id;
    let response = server
        .send(
            Method::PUT,
            &format!("/v8/Organizations/{id}"),
            Some(&basic),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(server.emulator.organizations().len(), 4);
}

#[tokio::test]
async fn what_a_version_does_not_know_is_ignored_and_foreign_region_names_are_refused() {
    let server = Server::default().await;
    let mut teams = on_premises("teams-v3.contoso.local");
    teams["isTeamsOnline"] = json!(true);
    teams["description"] = json!("said to v3");
    server.create("v3", &teams).await;
    let stored = server.stored("teams-v3.contoso.local");
    assert_eq!(stored.body.is_teams_online, None);
    assert_eq!(stored.body.description, None);

    let mut teams = app_only("teams-v8.onmicrosoft.com");
    teams["isTeamsOnline"] = json!(true);
    teams["isTeamsChatsOnline"] = json!("True");
    teams["description"] = json!("said to v8");
    let created = server.create("v8", &teams).await;
    assert_eq!(created["isTeamsOnline"], true);
    assert_eq!(created["description"], "said to v8");
    let stored = server.stored("teams-v8.onmicrosoft.com");
    assert_eq!(stored.body.is_teams_online, Some(true));
    assert_eq!(stored.body.is_teams_chats_online, Some(true));
    assert_eq!(stored.body.description.as_deref(), Some("said to v8"));

    // v6 knows Teams but not descriptions (v7 and later).
    let mut v6 = on_premises("v6.contoso.local");
    v6["description"] = json!("said to v6");
    server.create("v6", &v6).await;
    assert_eq!(server.stored("v6.contoso.local").body.description, None);
    // And the v3 representation leaves out what v3 does not know.
    let list = server.get_json("/v3/Organizations").await;
    let listed = named(&list, "teams-v8.onmicrosoft.com");
    assert!(listed.get("isTeamsOnline").is_none(), "{listed}");
    assert!(listed.get("description").is_none(), "{listed}");

    // Region names of the other era are refused, naming the value and the version's names.
    let mut v3_name = app_only("gov.onmicrosoft.com");
    v3_name["region"] = json!("USgovCommunity");
    let response = server.post("v8", &v3_name).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let message = body_json(response).await["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("\"USgovCommunity\""), "{message}");
    assert!(message.contains("USGovernment"), "{message}");

    let mut v8_name = office365("gov.onmicrosoft.com");
    v8_name["region"] = json!("USGovernment");
    let response = server.post("v3", &v8_name).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        server
            .emulator
            .organizations()
            .iter()
            .all(|organization| organization.name != "gov.onmicrosoft.com")
    );

    // Each version's own name is taken, in any case, and stored as the one region.
    let mut v8_name = app_only("gov.onmicrosoft.com");
    v8_name["region"] = json!("usgovernment");
    server.create("v8", &v8_name).await;
    assert_eq!(
        server.stored("gov.onmicrosoft.com").body.region,
        Some(Region::UsGovernment)
    );
    let mut v3_name = office365("gov3.onmicrosoft.com");
    v3_name["region"] = json!("USgovCommunity");
    server.create("v3", &v3_name).await;
    assert_eq!(
        server.stored("gov3.onmicrosoft.com").body.region,
        Some(Region::UsGovernment)
    );
}
