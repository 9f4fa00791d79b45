//! The answers later API versions give (200 on create, 200 with a body on update, 204 on delete)
//! are accepted as well as v3's own, against a stub server that answers only that way.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{post, put};
use axum::{Json, response::IntoResponse};
use serde_json::json;
use vbo_client::{Client, ClientConfig};
use vbo_model::Secret;

fn organization() -> serde_json::Value {
    json!({"id": "1", "name": "contoso.local", "type": "OnPremises", "isExchange": false, "isSharePoint": false})
}

async fn token() -> impl IntoResponse {
    Json(json!({
        "access_token": "a", "token_type": "bearer", "expires_in": 3600,
        "refresh_token": "r", "userName": "admin", ".issued": "", ".expires": ""
    }))
}

async fn stub() -> String {
    let app = Router::new()
        .route("/v3/Token", post(token))
        .route(
            "/v3/Organizations",
            post(|| async { (StatusCode::OK, Json(organization())) }),
        )
        .route(
            "/v3/Organizations/1",
            put(|| async { (StatusCode::OK, Json(organization())) })
                .delete(|| async { StatusCode::NO_CONTENT }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

#[tokio::test]
async fn create_200_update_200_with_body_and_delete_204_are_accepted() {
    let server = stub().await;
    let client = Client::connect(ClientConfig::new(server, "admin", Secret::new("pw")))
        .await
        .unwrap();
    let body =
        serde_json::from_value(json!({"type": "OnPremises", "name": "contoso.local"})).unwrap();
    let created = client.create(&body).await.unwrap();
    assert_eq!(created.id, "1");
    client.update("1", &body).await.unwrap();
    client.delete("1").await.unwrap();
}

#[tokio::test]
async fn a_servers_message_cannot_carry_control_characters_to_the_terminal() {
    let app = Router::new().route("/v3/Token", post(token)).route(
        "/v3/Organizations",
        post(|| async {
            (
                StatusCode::BAD_REQUEST,
                Json(json!({"message": "bad\u{1b}[2J\nforged line"})),
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = Client::connect(ClientConfig::new(
        format!("http://{address}"),
        "admin",
        Secret::new("pw"),
    ))
    .await
    .unwrap();
    let body = serde_json::from_value(json!({"type": "OnPremises", "name": "x"})).unwrap();
    let error = client.create(&body).await.unwrap_err();
    let message = error.server_message().unwrap();
    // Folded into one line, the escape sequence shown rather than obeyed.
    assert_eq!(message, "bad\\u{1b}[2J forged line");
    assert!(!error.to_string().chars().any(char::is_control));
}
