//! What people and tools see: snapshots of each rendering, and the Markdown size limit.

use serde_json::json;
use vbo_model::{OrganizationType, Spec};
use vbo_plan::render::{MARKDOWN_LIMIT, json, markdown, text};
use vbo_plan::{Desired, Plan, PlanOptions, plan};

use crate::fixtures::{SERVER, desired, estate_plan, observed, organization};

/// ANSI escapes made visible, so that the coloured snapshot reads as text.
fn visible_escapes(text: &str) -> String {
    text.replace('\u{1b}', "\\e")
}

#[test]
fn text_plan() {
    insta::assert_snapshot!("text", text(&estate_plan(false), false));
}

#[test]
fn text_plan_in_colour() {
    let coloured = text(&estate_plan(false), true);
    assert!(coloured.contains("\u{1b}["), "colour was asked for");
    insta::assert_snapshot!("text_colour", visible_escapes(&coloured));
}

#[test]
fn text_plan_without_colour_has_no_escapes() {
    assert!(!text(&estate_plan(false), false).contains('\u{1b}'));
    assert!(!markdown(&estate_plan(false)).contains('\u{1b}'));
}

#[test]
fn text_plan_with_prune() {
    insta::assert_snapshot!("text_prune", text(&estate_plan(true), false));
}

#[test]
fn text_plan_without_changes() {
    let desired: Vec<Desired> = desired()
        .into_iter()
        .filter(|d| d.name == "northwind.onmicrosoft.com")
        .collect();
    let options = PlanOptions {
        prune: false,
        server: SERVER.to_owned(),
        api_version: vbo_model::RestApiVersion::V3,
        scope: None,
    };
    let plan = plan(&desired, &observed(), &options);
    assert!(!plan.has_changes());
    let shown = text(&plan, false);
    assert!(shown.ends_with(
        "No changes. The server matches the manifests: 1 unchanged, 5 unmanaged (not in manifests; --prune would delete them).\n"
    ));
    insta::assert_snapshot!("text_no_changes", shown);
}

#[test]
fn closing_line_counts_every_action() {
    let shown = text(&estate_plan(false), false);
    assert!(shown.contains(
        "Plan: 2 to create, 2 to update, 0 to delete. 1 unchanged, 2 unmanaged (not in manifests; --prune would delete them).\n"
    ));
    assert!(
        shown.ends_with(
            "1 organization could not be planned: fix the error above before applying.\n"
        )
    );
}

#[test]
fn markdown_plan() {
    insta::assert_snapshot!("markdown", markdown(&estate_plan(true)));
}

#[test]
fn json_plan() {
    let document = json(&estate_plan(false));
    let parsed: serde_json::Value = serde_json::from_str(&document).expect("valid JSON");
    assert_eq!(parsed["format_version"], "1.2");
    assert_eq!(parsed["api_version"], "v3");
    assert_eq!(
        parsed["summary"],
        json!({"create": 2, "update": 2, "delete": 0, "no_op": 1})
    );
    let back: Plan = serde_json::from_value(parsed).expect("the document reads back as a plan");
    assert_eq!(back, estate_plan(false));
    insta::assert_snapshot!("json", document);
}

/// A plan with `n` organizations to create, each with a full body.
fn large_plan(creates: usize, unmanaged: usize) -> Plan {
    let spec: Spec = serde_json::from_value(json!({
        "type": "OnPremises",
        "isExchange": true,
        "exchangeSettings": {
            "serverName": "mail.example.local",
            "username": "EXAMPLE\\backup",
            "password": {"fromEnv": "EXCHANGE_PASSWORD"}
        },
        "isSharePoint": true,
        "sharePointSettings": {
            "serverName": "sharepoint.example.local",
            "username": "EXAMPLE\\backup",
            "password": {"fromEnv": "SHAREPOINT_PASSWORD"}
        }
    }))
    .expect("valid spec");
    let desired: Vec<Desired> = (0..creates)
        .map(|i| {
            Desired::new(
                format!("tenant-{i:05}.example.com"),
                format!("tenants/{i:05}.yaml:1:1"),
                spec.clone(),
            )
        })
        .collect();
    let observed: Vec<_> = (0..unmanaged)
        .map(|i| {
            let mut state = spec.state();
            state.kind = OrganizationType::OnPremises;
            organization(
                &format!("id-{i}"),
                &format!("old-{i:05}.example.com"),
                state,
            )
        })
        .collect();
    plan(
        &desired,
        &observed,
        &PlanOptions {
            prune: false,
            server: SERVER.to_owned(),
            api_version: vbo_model::RestApiVersion::V3,
            scope: None,
        },
    )
}

/// The number in a `**+N more <what>**` line, if there is one.
fn more(markdown: &str, what: &str) -> Option<usize> {
    let suffix = format!(" more {what}**");
    markdown.lines().find_map(|line| {
        let rest = line.strip_prefix("**+")?;
        let end = rest.find(&suffix)?;
        rest[..end].parse().ok()
    })
}

#[test]
fn markdown_stays_under_the_limit_and_says_what_it_left_out() {
    let plan = large_plan(2_000, 500);
    let shown = markdown(&plan);
    assert!(
        shown.chars().count() < MARKDOWN_LIMIT,
        "{} chars",
        shown.chars().count()
    );
    let sections = shown.matches("<details><summary><code>+</code>").count();
    let left_out = more(&shown, "changes").expect("a +N more changes line");
    assert!(sections > 10, "as many sections as fit are shown");
    assert_eq!(
        sections + left_out,
        2_000,
        "every change is shown or counted"
    );
    assert_eq!(
        more(&shown, "unmanaged organizations"),
        Some(500),
        "no room was left for unmanaged organizations, and they are counted"
    );
    assert!(
        shown.contains("| 2000 | 0 | 0 | 0 | 500 | 0 |"),
        "the table counts everything"
    );
    assert!(shown.trim_end().ends_with("--prune would delete them).**"));
}

#[test]
fn small_markdown_shows_everything() {
    let shown = markdown(&large_plan(3, 2));
    assert_eq!(shown.matches("<details><summary><code>+</code>").count(), 3);
    assert_eq!(more(&shown, "changes"), None);
    assert!(shown.contains("old-00001.example.com"));
}

#[test]
fn server_names_cannot_inject_terminal_or_markup_codes() {
    let desired = vec![];
    let hostile = "evil\u{1b}[2J</code></summary>`|*.com";
    let observed = vec![organization(
        "id\u{7}",
        hostile,
        Spec::state(&desired_spec()),
    )];
    let options = PlanOptions {
        prune: true,
        server: SERVER.to_owned(),
        api_version: vbo_model::RestApiVersion::V3,
        scope: None,
    };
    let plan = plan(&desired, &observed, &options);
    let shown = text(&plan, false);
    assert!(
        !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
        "{shown}"
    );
    let md = markdown(&plan);
    let summary = md
        .lines()
        .find(|l| l.starts_with("<details>"))
        .expect("a section");
    assert_eq!(summary.matches("</summary>").count(), 1, "{summary}");
    assert_eq!(summary.matches("</code>").count(), 2, "{summary}");
    assert!(!md.contains('\u{1b}'));
}

fn desired_spec() -> Spec {
    desired()[0].spec.clone()
}
