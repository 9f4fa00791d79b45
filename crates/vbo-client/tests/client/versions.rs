//! Speaking each API version: detection at login, the token request's fields, v8's paging
//! (complete, in order, re-read when the list changes under it) and each version's spellings
//! on the way out.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{Value, json};
use vbo_client::{ApiVersionChoice, ClientError};
use vbo_model::{OrganizationBody, RestApiVersion};

use crate::stub::{self, Stub};

/// `count` organizations, `org-01` on.
fn organizations(range: std::ops::RangeInclusive<usize>) -> Vec<Value> {
    range.map(stub::organization).collect()
}

/// The offsets of the list requests the stub received.
fn offsets(stub: &Stub) -> Vec<u64> {
    stub.on("GET /v8/Organizations")
        .iter()
        .map(|seen| seen.query_value("offset").unwrap_or(0))
        .collect()
}

fn names(organizations: &[vbo_model::Organization]) -> Vec<String> {
    organizations.iter().map(|o| o.name.clone()).collect()
}

fn expected_names(range: std::ops::RangeInclusive<usize>) -> Vec<String> {
    range.map(|n| format!("org-{n:02}")).collect()
}

/// How many pages a list asks for ahead of the one it reads (the client's `PAGES_AHEAD`).
const PAGES_AHEAD: usize = 4;

/// How many times the list was asked for from its start.
fn reads_from_start(stub: &Stub) -> usize {
    offsets(stub).iter().filter(|offset| **offset == 0).count()
}

#[tokio::test]
async fn every_page_is_read_in_order_and_few_past_the_end() {
    // (organizations, pages that hold them): the server pages by 7 whatever is asked.
    for (count, pages) in [(20, 3), (21, 4), (6, 1), (0, 1)] {
        let all = organizations(1..=count);
        let stub = Stub::start(&["v8"], move |seen| {
            (seen.route() == "GET /v8/Organizations").then(|| stub::page(&all, seen, 7, Some("s")))
        })
        .await;
        let client = stub.connect().await;
        assert_eq!(client.api_version(), RestApiVersion::V8);
        let listed = client.list().await.unwrap();
        assert_eq!(names(&listed), expected_names(1..=count), "{count}");
        let mut asked = offsets(&stub);
        asked.sort_unstable();
        let needed: Vec<u64> = (0..pages as u64).map(|page| page * 7).collect();
        assert_eq!(
            asked[..pages],
            needed,
            "{count} organizations in pages of 7"
        );
        // A short first page ends the list at once; after a full one, at most the pages asked
        // for ahead go past the end, and each is asked for once.
        let past_end = asked.len() - pages;
        if pages == 1 {
            assert_eq!(past_end, 0, "{count}: {asked:?}");
        }
        assert!(past_end <= PAGES_AHEAD, "{count}: {asked:?}");
        asked.dedup();
        assert_eq!(asked.len(), pages + past_end, "{count}: no page twice");
        for seen in stub.on("GET /v8/Organizations") {
            assert!(seen.query_value("limit").is_some(), "{}", seen.query);
        }
    }
}

#[tokio::test]
async fn a_list_asks_at_once_for_as_many_pages_as_the_last_one_had() {
    // 2,500 organizations in pages of 1,000.
    let all = organizations(1..=2500);
    let stub = Stub::start(&["v8"], move |seen| {
        (seen.route() == "GET /v8/Organizations").then(|| stub::page(&all, seen, 10_000, Some("s")))
    })
    .await;
    let client = stub.connect().await;
    // The first list knows nothing: one page, then up to four ahead.
    assert_eq!(client.list().await.unwrap().len(), 2500);
    let first = stub.count("GET /v8/Organizations");
    assert!(
        (3..=3 + PAGES_AHEAD).contains(&first),
        "{:?}",
        offsets(&stub)
    );
    // The second expects 2,500: four pages that hold them and show the end, asked for
    // together.
    assert_eq!(client.list().await.unwrap().len(), 2500);
    let mut second = offsets(&stub).split_off(first);
    second.sort_unstable();
    assert_eq!(second, [0, 626, 1252, 1878]);
}

#[tokio::test]
async fn a_list_that_changes_between_pages_is_read_again_from_the_start() {
    // The first page comes from the list before a change, every later one from the list after
    // it. Merging the two would repeat an organization (an insert at the front) or, worse, skip
    // one (a delete at the front: org-07 moves onto page 1, already read, and would be planned
    // as a create). Only the changed setId tells the second case.
    for (change, before, after) in [("insert", 1..=19, 0..=19), ("delete", 0..=19, 1..=19)] {
        let (before, after) = (organizations(before), organizations(after.clone()));
        let expected: Vec<String> = after
            .iter()
            .map(|o| o["name"].as_str().unwrap().to_owned())
            .collect();
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&requests);
        let stub = Stub::start(&["v8"], move |seen| {
            (seen.route() == "GET /v8/Organizations").then(|| {
                if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                    stub::page(&before, seen, 7, Some("set-before"))
                } else {
                    stub::page(&after, seen, 7, Some("set-after"))
                }
            })
        })
        .await;
        let listed = stub.connect().await.list().await.unwrap();
        assert_eq!(names(&listed), expected, "{change}");
        // Page 1 of the old list, page 2 of the new one (another setId), then the new one whole.
        assert_eq!(reads_from_start(&stub), 2, "{change}: {:?}", offsets(&stub));
    }
}

#[tokio::test]
async fn without_a_set_id_an_organization_seen_twice_restarts_the_read() {
    let before = organizations(1..=19);
    let after = organizations(0..=19);
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&requests);
    let stub = Stub::start(&["v8"], move |seen| {
        (seen.route() == "GET /v8/Organizations").then(|| {
            let list = if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                &before
            } else {
                &after
            };
            stub::page(list, seen, 7, None)
        })
    })
    .await;
    let listed = stub.connect().await.list().await.unwrap();
    assert_eq!(names(&listed), expected_names(0..=19));
    // org-07 ends page 1 of the old list and starts page 2 of the new one.
    assert_eq!(reads_from_start(&stub), 2, "{:?}", offsets(&stub));
}

#[tokio::test]
async fn a_list_that_never_holds_still_fails_after_a_bounded_number_of_reads() {
    let all = organizations(1..=20);
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&requests);
    let stub = Stub::start(&["v8"], move |seen| {
        (seen.route() == "GET /v8/Organizations").then(|| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            stub::page(&all, seen, 7, Some(&format!("set-{n}")))
        })
    })
    .await;
    let error = stub.connect().await.list().await.unwrap_err();
    let reads = match &error {
        ClientError::ListUnstable { reads, .. } => *reads,
        other => panic!("expected ListUnstable, got {other:?}"),
    };
    assert!((2..=10).contains(&reads), "{reads} reads");
    // Each read stopped at its second page, with the pages asked for ahead of it.
    assert_eq!(reads_from_start(&stub), reads as usize);
    assert!(stub.count("GET /v8/Organizations") <= (1 + PAGES_AHEAD) * reads as usize);
    let message = error.to_string();
    assert!(
        message.contains("nothing was planned from a partial list"),
        "{message}"
    );
}

#[tokio::test]
async fn a_plain_array_under_v8_is_the_whole_list() {
    let all = organizations(1..=40);
    let stub = Stub::start(&["v8"], move |seen| {
        (seen.route() == "GET /v8/Organizations")
            .then(|| stub::json(StatusCode::OK, &Value::Array(all.clone())))
    })
    .await;
    let listed = stub.connect().await.list().await.unwrap();
    assert_eq!(names(&listed), expected_names(1..=40));
    assert_eq!(stub.count("GET /v8/Organizations"), 1);
}

/// Answers every list with no organizations.
fn empty_lists(seen: &stub::Seen) -> Option<axum::response::Response> {
    (seen.method == "GET" && seen.path.ends_with("/Organizations"))
        .then(|| stub::json(StatusCode::OK, &json!([])))
}

#[tokio::test]
async fn detection_takes_the_newest_version_served_with_that_versions_token_fields() {
    // Only v6: v8 and v7 are tried first and not found; v6 has no antiforgery field.
    let stub = Stub::start(&["v6"], empty_lists).await;
    let client = stub.connect().await;
    assert_eq!(client.api_version(), RestApiVersion::V6);
    let tokens: Vec<String> = stub
        .seen()
        .iter()
        .filter(|seen| seen.method == "POST")
        .map(|seen| seen.path.clone())
        .collect();
    assert_eq!(tokens, ["/v8/token", "/v7/token", "/v6/token"]);
    let login = &stub.on("POST /v6/token")[0];
    assert_eq!(
        login.form_names(),
        ["grant_type", "username", "password"],
        "the fields of the v6 login"
    );
    assert_eq!(login.form_value("grant_type").as_deref(), Some("password"));
    assert!(
        login
            .content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
    );
    client.list().await.unwrap();
    assert_eq!(stub.count("GET /v6/Organizations"), 1);

    // v7: the password grant and the refresh grant both do without the antiforgery token.
    let stub = Stub::with_ttl(&["v7"], 1, empty_lists).await;
    let client = stub.connect().await;
    assert_eq!(client.api_version(), RestApiVersion::V7);
    client.list().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    client.list().await.unwrap();
    let logins = stub.on("POST /v7/token");
    assert_eq!(logins.len(), 2, "a login, then a refresh");
    for (login, grant) in logins.iter().zip(["password", "refresh_token"]) {
        assert_eq!(login.form_value("grant_type").as_deref(), Some(grant));
        assert_eq!(
            login.form_value("disable_antiforgery_token").as_deref(),
            Some("true"),
            "{grant}: {:?}",
            login.form_names()
        );
    }
    assert_eq!(stub.count("GET /v7/Organizations"), 2);

    // v8 and v3 both served: v8, in one request.
    let stub = Stub::start(&["v8", "v3"], empty_lists).await;
    let client = stub.connect().await;
    assert_eq!(client.api_version(), RestApiVersion::V8);
    assert_eq!(stub.seen().len(), 1);
    assert_eq!(
        stub.on("POST /v8/token")[0]
            .form_value("disable_antiforgery_token")
            .as_deref(),
        Some("true")
    );

    // Only v3: its own token path, and no antiforgery field.
    let stub = Stub::start(&["v3"], empty_lists).await;
    let client = stub.connect().await;
    assert_eq!(client.api_version(), RestApiVersion::V3);
    let login = &stub.on("POST /v3/Token")[0];
    assert!(
        !login
            .form_names()
            .contains(&"disable_antiforgery_token".to_owned())
    );
}

#[tokio::test]
async fn an_explicit_version_the_server_does_not_serve_names_those_it_does() {
    let stub = Stub::start(&["v6", "v3"], empty_lists).await;
    let error = stub
        .connect_with(ApiVersionChoice::Exactly(RestApiVersion::V8))
        .await
        .unwrap_err();
    match &error {
        ClientError::VersionNotServed {
            requested, served, ..
        } => {
            assert_eq!(*requested, RestApiVersion::V8);
            assert_eq!(served, &[RestApiVersion::V6, RestApiVersion::V3]);
        }
        other => panic!("expected VersionNotServed, got {other:?}"),
    }
    let message = error.to_string();
    assert!(message.contains("does not serve REST API v8"), "{message}");
    assert!(message.ends_with("it serves v6 and v3"), "{message}");
    // Only v8's token endpoint was tried to log in.
    let logins: Vec<String> = stub
        .seen()
        .iter()
        .filter(|seen| seen.method == "POST")
        .map(|seen| seen.path.clone())
        .collect();
    assert_eq!(logins, ["/v8/token"]);

    // An explicit version that is served is spoken, even when a newer one is served too.
    let stub = Stub::start(&["v8", "v6"], empty_lists).await;
    let client = stub
        .connect_with(ApiVersionChoice::Exactly(RestApiVersion::V6))
        .await
        .unwrap();
    assert_eq!(client.api_version(), RestApiVersion::V6);
    assert_eq!(stub.count("POST /v8/token"), 0);
}

#[tokio::test]
async fn a_server_that_serves_no_known_version_says_so() {
    let stub = Stub::start(&[], |_| None).await;
    let error = stub.connect_with(ApiVersionChoice::Auto).await.unwrap_err();
    assert!(
        matches!(error, ClientError::NoKnownVersion { .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("serves none of the REST API versions vboctl speaks"),
        "{error}"
    );
    let tried: Vec<String> = stub.seen().iter().map(|seen| seen.route()).collect();
    assert_eq!(
        tried,
        [
            "POST /v8/token",
            "POST /v7/token",
            "POST /v6/token",
            "POST /v3/Token"
        ]
    );
}

/// A body with everything whose spelling or value differs between versions.
fn respelled_body() -> OrganizationBody {
    serde_json::from_value(json!({
        "type": "Hybrid",
        "name": "contoso",
        "region": "USGovernment",
        "isExchange": true,
        "exchangeSettings": {
            "serverName": "mail.contoso.local", "username": "C\\u", "password": "pw",
            "skipCommonNameVerification": true, "skipRevocationCheck": true,
            "configureThrottlingPolicy": true
        },
        "isSharePoint": true,
        "sharePointSettings": {
            "serverName": "sp.contoso.local", "username": "C\\u", "password": "pw",
            "skipCommonNameVerification": true, "grantAccessToSiteCollections": true
        }
    }))
    .unwrap()
}

/// A stub of `version` that answers a create with the organization and records its body.
async fn creating(version: &'static str) -> Stub {
    let path = format!("/{version}/Organizations");
    Stub::start(&[version], move |seen| {
        (seen.method == "POST" && seen.path == path).then(|| {
            stub::json(
                StatusCode::CREATED,
                &json!({"id": stub::id(1), "name": "contoso", "type": "Hybrid"}),
            )
        })
    })
    .await
}

fn sent_body(stub: &Stub, route: &str) -> Value {
    let posts = stub.on(route);
    assert_eq!(posts.len(), 1);
    assert!(
        posts[0]
            .content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("application/json"))
    );
    serde_json::from_slice(&posts[0].body).unwrap()
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

#[tokio::test]
async fn a_body_is_sent_in_the_spellings_and_region_names_of_the_version_spoken() {
    let stub = creating("v8").await;
    let created = stub
        .connect()
        .await
        .create(&respelled_body())
        .await
        .unwrap();
    assert_eq!(created.name, "contoso");
    let sent = sent_body(&stub, "POST /v8/Organizations");
    assert_eq!(sent["region"], "USGovernment");
    assert_eq!(sent["isSharepoint"], true);
    assert!(sent.get("isSharePoint").is_none(), "{:?}", keys(&sent));
    assert!(
        sent.get("sharePointSettings").is_none(),
        "{:?}",
        keys(&sent)
    );
    let share_point = &sent["sharepointSettings"];
    assert_eq!(share_point["skipCommonnameverification"], true);
    assert_eq!(share_point["grantAccesstositecollections"], true);
    assert!(share_point.get("skipCommonNameVerification").is_none());
    let exchange = &sent["exchangeSettings"];
    assert_eq!(exchange["skipCommonnameverification"], true);
    assert_eq!(exchange["skipRevocationcheck"], true);
    assert_eq!(exchange["configureThrottlingpolicy"], true);
    // Secrets go out as they are; the names that need no respelling stay.
    assert_eq!(exchange["password"], "pw");
    assert_eq!(exchange["serverName"], "mail.contoso.local");

    let stub = creating("v3").await;
    stub.connect()
        .await
        .create(&respelled_body())
        .await
        .unwrap();
    let sent = sent_body(&stub, "POST /v3/Organizations");
    assert_eq!(sent["region"], "USgovCommunity");
    assert_eq!(sent["isSharePoint"], true);
    assert!(sent.get("isSharepoint").is_none(), "{:?}", keys(&sent));
    let share_point = &sent["sharePointSettings"];
    assert_eq!(share_point["skipCommonNameVerification"], true);
    assert_eq!(share_point["grantAccessToSiteCollections"], true);
    assert_eq!(sent["exchangeSettings"]["configureThrottlingPolicy"], true);
}
