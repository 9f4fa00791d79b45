//! `POST /v3/Token`: the password and refresh grants, their errors, and token expiry.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use vbo_emulator::{DEFAULT_PASSWORD, DEFAULT_USER, Emulator, EmulatorConfig, User};

use crate::support::{Api, body_json, client, token_request};

fn password_form<'a>(user: &'a str, password: &'a str) -> [(&'a str, &'a str); 4] {
    [
        ("grant_type", "password"),
        ("username", user),
        ("password", password),
        // A public client sends an empty refresh_token with the password grant.
        ("refresh_token", ""),
    ]
}

#[tokio::test]
async fn the_password_grant_answers_in_the_owin_shape() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let response = token_request(
        &client,
        emulator.base_url(),
        &password_form(DEFAULT_USER, DEFAULT_PASSWORD),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let json = body_json(response).await;
    let mut keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            ".expires",
            ".issued",
            "access_token",
            "expires_in",
            "refresh_token",
            "token_type",
            "userName"
        ]
    );
    assert_eq!(json["token_type"], "bearer");
    assert_eq!(json["expires_in"], 3600);
    assert_eq!(json["userName"], DEFAULT_USER);
    let access = json["access_token"].as_str().unwrap();
    let refresh = json["refresh_token"].as_str().unwrap();
    assert!(access.len() >= 32 && refresh.len() >= 32 && access != refresh);
    assert!(!access.contains('.'), "opaque, not a JWT");
    let issued = httpdate::parse_http_date(json[".issued"].as_str().unwrap()).unwrap();
    let expires = httpdate::parse_http_date(json[".expires"].as_str().unwrap()).unwrap();
    assert_eq!(
        expires.duration_since(issued).unwrap(),
        Duration::from_secs(3600)
    );
    let skew = SystemTime::now().duration_since(issued).unwrap_or_default();
    assert!(skew < Duration::from_secs(5));
}

#[tokio::test]
async fn bad_credentials_answer_invalid_grant_without_echoing_them() {
    let emulator = Emulator::start(EmulatorConfig {
        users: vec![User::new("CONTOSO\\backup", "Correct-Horse")],
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let client = client();
    for (user, password) in [
        ("CONTOSO\\backup", "Wrong-Horse"),
        ("CONTOSO\\backup", "correct-horse"),
        ("CONTOSO\\nobody", "Correct-Horse"),
        (DEFAULT_USER, DEFAULT_PASSWORD),
    ] {
        let response =
            token_request(&client, emulator.base_url(), &password_form(user, password)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let text = response.text().await.unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["error"], "invalid_grant");
        assert!(!json["error_description"].as_str().unwrap().is_empty());
        assert!(!text.contains(password), "{text}");
    }
    // User names compare without regard to case, as Windows account names do.
    let response = token_request(
        &client,
        emulator.base_url(),
        &password_form("contoso\\BACKUP", "Correct-Horse"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn refresh_tokens_buy_a_new_pair_exactly_once() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    let base = emulator.base_url();
    let first = body_json(
        token_request(
            &client,
            base,
            &password_form(DEFAULT_USER, DEFAULT_PASSWORD),
        )
        .await,
    )
    .await;
    let refresh = first["refresh_token"].as_str().unwrap();
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];

    let response = token_request(&client, base, &form).await;
    assert_eq!(response.status(), StatusCode::OK);
    let second = body_json(response).await;
    assert_ne!(second["access_token"], first["access_token"]);
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_eq!(second["userName"], DEFAULT_USER);
    let organizations = client
        .get(format!("{base}/v3/Organizations"))
        .bearer_auth(second["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(organizations.status(), StatusCode::OK);

    for form in [
        form,
        [
            ("grant_type", "refresh_token"),
            ("refresh_token", "made-up"),
        ],
    ] {
        let response = token_request(&client, base, &form).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(body_json(response).await["error"], "invalid_grant");
    }
}

#[tokio::test]
async fn access_tokens_expire_and_a_refresh_restores_access() {
    let api = Api::start(EmulatorConfig {
        token_ttl: Duration::from_secs(1),
        ..EmulatorConfig::default()
    })
    .await;
    assert_eq!(api.get("/v3/Organizations").await.status(), StatusCode::OK);
    let login = body_json(
        token_request(
            &api.client,
            api.emulator.base_url(),
            &password_form(DEFAULT_USER, DEFAULT_PASSWORD),
        )
        .await,
    )
    .await;
    assert_eq!(login["expires_in"], 1);

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let expired = api.get("/v3/Organizations").await;
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        body_json(expired).await["message"],
        "Authorization has been denied for this request."
    );

    let refresh = login["refresh_token"].as_str().unwrap();
    let renewed = body_json(
        token_request(
            &api.client,
            api.emulator.base_url(),
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await,
    )
    .await;
    let response = api
        .client
        .get(api.url("/v3/Organizations"))
        .bearer_auth(renewed["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_token_path_matches_in_any_case_and_other_grants_are_refused() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client();
    for path in ["/v3/token", "/V3/TOKEN", "/v3/Token/"] {
        let response = client
            .post(format!("{}{path}", emulator.base_url()))
            .form(&password_form(DEFAULT_USER, DEFAULT_PASSWORD))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let response = token_request(
        &client,
        emulator.base_url(),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(response).await["error"], "unsupported_grant_type");
    assert_eq!(emulator.request_counts().route("POST /v3/Token"), 4);
}
