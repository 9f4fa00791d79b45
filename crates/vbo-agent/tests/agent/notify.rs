//! The drift webhook: what it receives, when, and never a secret.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use tokio_util::sync::CancellationToken;
use vbo_agent::{Agent, Mode, Notifier, SyncState};

use crate::support::{ADMIN_PW, CORP_PW, World, on_premises};

/// A webhook receiver on a free port, keeping every body it gets.
async fn receiver() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new()
        .route(
            "/hook/Hook-Token-Value-6d",
            post(
                |State(bodies): State<Arc<Mutex<Vec<String>>>>, body: String| async move {
                    bodies.lock().unwrap().push(body);
                    "ok"
                },
            ),
        )
        .with_state(Arc::clone(&bodies));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (address, bodies)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_is_posted_once_with_names_and_fields_and_no_value() {
    let world = World::start().await;
    world
        .repo
        .write("tenants/a.yaml", &on_premises("a.example.com", "mail.a"));
    world
        .repo
        .write("tenants/b.yaml", &on_premises("b.example.com", "mail.b"));
    let commit = world.repo.commit("add a and b");
    let (address, bodies) = receiver().await;
    let mut config = world.config(Mode::Plan);
    config.notifier =
        Some(Notifier::new(&format!("http://{address}/hook/Hook-Token-Value-6d")).unwrap());
    let mut agent = Agent::start(config).await.unwrap();
    let run = CancellationToken::new();

    // New commit: pending, not drift; nothing posted.
    assert_eq!(agent.cycle(&run).await.sync, Some(SyncState::Pending));
    assert!(bodies.lock().unwrap().is_empty());
    // Unchanged commit, still different: drift, posted once.
    assert_eq!(agent.cycle(&run).await.sync, Some(SyncState::Drift));
    assert_eq!(agent.cycle(&run).await.sync, Some(SyncState::Drift));
    let posted = bodies.lock().unwrap().clone();
    assert_eq!(posted.len(), 1, "{posted:#?}");
    let body: serde_json::Value = serde_json::from_str(&posted[0]).unwrap();
    assert_eq!(body["event"], "drift");
    assert_eq!(body["mode"], "plan");
    assert_eq!(body["commit"], commit.as_str());
    assert_eq!(body["branch"], "main");
    assert_eq!(body["summary"]["create"], 2);
    let names: Vec<&str> = body["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a.example.com", "b.example.com"]);
    for secret in [CORP_PW, ADMIN_PW, "Hook-Token-Value-6d"] {
        assert!(!posted[0].contains(secret), "{secret} in {}", posted[0]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_that_fails_is_counted_and_tried_again() {
    let world = World::start().await;
    world.add_a();
    // Nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let mut config = world.config(Mode::Plan);
    config.notifier =
        Some(Notifier::new(&format!("http://{address}/Hook-Token-Value-6d")).unwrap());
    let mut agent = Agent::start(config).await.unwrap();
    let run = CancellationToken::new();
    for _ in 0..3 {
        agent.cycle(&run).await;
    }
    let metrics = agent.shared().metrics().encode();
    assert!(
        metrics.contains("vboctl_notification_errors_total 2\n"),
        "{metrics}"
    );
    assert!(!metrics.contains("Hook-Token-Value-6d"));
}
