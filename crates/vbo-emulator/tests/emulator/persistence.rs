//! The state file: loaded at start, rewritten atomically after every change, private to its
//! owner; and synthetic organizations for big servers.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::Value;
use vbo_emulator::{Emulator, EmulatorConfig, EmulatorError};
use vbo_model::OrganizationType;

use crate::support::{Api, body_json, office365, on_premises};

fn with_state(path: &std::path::Path) -> EmulatorConfig {
    EmulatorConfig {
        state_file: Some(path.to_owned()),
        ..EmulatorConfig::default()
    }
}

/// The organizations as `GET /v3/Organizations` returns them, by id.
async fn listed(api: &Api) -> BTreeMap<String, Value> {
    let list = body_json(api.get("/v3/Organizations").await).await;
    list.as_array()
        .unwrap()
        .iter()
        .map(|organization| {
            (
                organization["id"].as_str().unwrap().to_owned(),
                organization.clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");

    let api = Api::start(with_state(&path)).await;
    let kept = api.create(&office365("contoso.com")).await;
    let changed = api.create(&on_premises("fabrikam.local")).await;
    let removed = api.create(&office365("gone.com")).await;
    let changed_id = changed["id"].as_str().unwrap();
    let mut replacement = on_premises("fabrikam.local");
    replacement["exchangeSettings"]["serverName"] = "mail2.fabrikam.local".into();
    assert_eq!(
        api.put(changed_id, &replacement).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        api.delete(removed["id"].as_str().unwrap()).await.status(),
        StatusCode::OK
    );
    let before = listed(&api).await;
    let stored_before = api.emulator.organizations();
    let address = api.emulator.local_addr();
    api.emulator.shutdown().await.unwrap();

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the file holds secrets");
    }
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(files.len(), 1, "no temporary file is left behind");

    // Restarted on the same address, so that the links are the same too.
    let api = Api::start(EmulatorConfig {
        listen: address,
        ..with_state(&path)
    })
    .await;
    let after = listed(&api).await;
    assert_eq!(after, before);
    assert_eq!(after.len(), 2);
    assert_eq!(
        after[changed_id]["exchangeSettings"]["serverName"],
        "mail2.fabrikam.local"
    );
    assert!(after.contains_key(kept["id"].as_str().unwrap()));
    // Secrets survive too, so the store is the same as before.
    assert_eq!(api.emulator.organizations(), stored_before);
    // And names are still taken.
    assert_eq!(
        api.post(&office365("CONTOSO.com")).await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_change_that_cannot_be_saved_is_not_made() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub").join("state.json");
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let api = Api::start(with_state(&path)).await;
    api.create(&office365("contoso.com")).await;
    std::fs::remove_dir_all(dir.path().join("sub")).unwrap();

    let response = api.post(&office365("fabrikam.com")).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body_json(response).await["message"].is_string());
    let names: Vec<String> = api
        .emulator
        .organizations()
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, ["contoso.com"]);
    assert_eq!(api.emulator.request_counts().created, 1);
}

#[tokio::test]
async fn an_unreadable_state_file_is_reported_by_position_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    std::fs::write(
        &path,
        r#"{"version": 1, "organizations": [{"id": "a", "name": "n", "body": {"type": "OnPremises",
        "exchangeSettings": {"password": 1234, "note": "Hunter2-Secret"}}}]}"#,
    )
    .unwrap();
    let error = Emulator::start(with_state(&path)).await.unwrap_err();
    assert!(
        matches!(error, EmulatorError::ParseState { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("state.json") && message.contains("line 2"),
        "{message}"
    );
    assert!(
        !message.contains("1234") && !message.contains("Hunter2"),
        "{message}"
    );
}

#[tokio::test]
async fn seed_orgs_fills_the_server_with_every_type_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let config = EmulatorConfig {
        seed_orgs: 30,
        ..with_state(&path)
    };
    let api = Api::start(config.clone()).await;
    let stored = api.emulator.organizations();
    assert_eq!(stored.len(), 30);
    for kind in [
        OrganizationType::Office365,
        OrganizationType::OnPremises,
        OrganizationType::Hybrid,
    ] {
        assert_eq!(stored.iter().filter(|o| o.body.kind == kind).count(), 10);
    }
    assert_eq!(listed(&api).await.len(), 30);
    assert_eq!(
        api.emulator.request_counts().created,
        0,
        "seeds are not creates"
    );
    api.emulator.shutdown().await.unwrap();

    // Seeding again over the same state adds nothing twice.
    let again = Emulator::start(config).await.unwrap();
    assert_eq!(again.organizations(), stored);
}
