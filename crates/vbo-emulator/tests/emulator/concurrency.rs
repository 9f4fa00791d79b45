//! Many clients at once: distinct creates all succeed, and a name is taken exactly once.

use std::collections::HashSet;
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;
use tokio::task::JoinSet;

use crate::support::{Api, body_json, office365};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_parallel_creates_all_succeed() {
    let api = Arc::new(Api::default().await);
    let mut tasks = JoinSet::new();
    for n in 0..200 {
        let api = Arc::clone(&api);
        tasks.spawn(async move {
            let response = api
                .post(&office365(&format!("tenant-{n:03}.onmicrosoft.com")))
                .await;
            (response.status(), body_json(response).await)
        });
    }
    let mut ids = HashSet::new();
    while let Some(result) = tasks.join_next().await {
        let (status, json) = result.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{json}");
        assert!(ids.insert(json["id"].as_str().unwrap().to_owned()));
    }
    assert_eq!(ids.len(), 200);
    let stored = api.emulator.organizations();
    assert_eq!(stored.len(), 200);
    let names: HashSet<String> = stored.iter().map(|o| o.name.clone()).collect();
    assert_eq!(names.len(), 200);
    let counts = api.emulator.request_counts();
    assert_eq!(counts.created, 200);
    assert_eq!(counts.route("POST /v3/Organizations"), 200);
    let list = body_json(api.get("/v3/Organizations").await).await;
    assert_eq!(list.as_array().unwrap().len(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_creates_of_one_name_create_exactly_one() {
    let api = Arc::new(Api::default().await);
    for round in 0..5 {
        let name = format!("race-{round}.onmicrosoft.com");
        let mut tasks = JoinSet::new();
        for n in 0..40 {
            let api = Arc::clone(&api);
            // The same name in varying case: the comparison ignores case.
            let spelled = if n % 2 == 0 {
                name.clone()
            } else {
                name.to_uppercase()
            };
            tasks.spawn(async move {
                let response = api.post(&office365(&spelled)).await;
                (response.status(), body_json(response).await, spelled)
            });
        }
        let mut created = 0;
        while let Some(result) = tasks.join_next().await {
            let (status, json, spelled) = result.unwrap();
            match status {
                StatusCode::CREATED => created += 1,
                StatusCode::BAD_REQUEST => assert_eq!(
                    json,
                    json!({"message": format!("Organization {spelled} has already been added.")})
                ),
                other => panic!("unexpected {other}: {json}"),
            }
        }
        assert_eq!(created, 1, "round {round}");
    }
    assert_eq!(api.emulator.organizations().len(), 5);
    assert_eq!(api.emulator.request_counts().created, 5);
}
