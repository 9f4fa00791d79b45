//! Verification after a run: what the server reports must match what each step promised.

use std::time::Duration;

use vbo_model::RestApiVersion::V8;

use vbo_apply::{Step, StepKind, StepOutcome, StepResult, Unconverged, verify};
use vbo_model::Organization;

use crate::support::desired;

fn result(name: &str, kind: StepKind, outcome: StepOutcome) -> StepResult {
    StepResult {
        step: Step {
            address: vbo_plan::address(name),
            name: name.to_owned(),
            kind,
        },
        outcome,
        attempts: 1,
        duration: Duration::ZERO,
    }
}

fn observed(name: &str, spec: &vbo_model::Spec, id: &str) -> Organization {
    let mut value = serde_json::to_value(spec.state()).unwrap();
    value["id"] = id.into();
    value["name"] = name.into();
    serde_json::from_value(value).unwrap()
}

#[test]
fn a_server_that_renamed_the_organization_is_named_with_the_fix() {
    let desired = desired(V8, 1);
    let wanted = &desired[0];
    let results = [result(
        &wanted.name,
        StepKind::Create {
            spec: Box::new(wanted.spec.clone()),
        },
        StepOutcome::Created {
            id: "1".into(),
            server_name: "example.onmicrosoft.com".into(),
        },
    )];
    let problems = verify(
        &results,
        &desired,
        &[observed("example.onmicrosoft.com", &wanted.spec, "1")],
        V8,
    );
    assert_eq!(
        problems,
        [Unconverged::RegisteredUnderAnotherName {
            name: wanted.name.clone(),
            server_name: "example.onmicrosoft.com".into(),
            origin: wanted.origin.clone(),
        }]
    );
    let message = problems[0].to_string();
    assert!(
        message.contains("metadata.name: example.onmicrosoft.com"),
        "{message}"
    );
    assert!(message.contains(&wanted.origin), "{message}");
}

#[test]
fn a_converged_run_has_no_problems_and_a_lingering_delete_is_one() {
    let desired = desired(V8, 2);
    let results = [
        result(
            &desired[0].name,
            StepKind::Create {
                spec: Box::new(desired[0].spec.clone()),
            },
            StepOutcome::Created {
                id: "1".into(),
                server_name: desired[0].name.clone(),
            },
        ),
        result(
            "gone.example.com",
            StepKind::Delete { id: "9".into() },
            StepOutcome::Deleted,
        ),
    ];
    let converged = [observed(&desired[0].name, &desired[0].spec, "1")];
    assert_eq!(verify(&results, &desired, &converged, V8), []);

    let lingering = [
        observed(&desired[0].name, &desired[0].spec, "1"),
        observed("gone.example.com", &desired[1].spec, "9"),
    ];
    assert_eq!(
        verify(&results, &desired, &lingering, V8),
        [Unconverged::StillPresent {
            name: "gone.example.com".into(),
            id: "9".into()
        }]
    );
}

#[test]
fn an_update_the_server_did_not_take_is_reported_with_its_fields() {
    let desired = desired(V8, 2);
    let wanted = &desired[1];
    let results = [result(
        &wanted.name,
        StepKind::Update {
            id: "2".into(),
            spec: Box::new(wanted.spec.clone()),
        },
        StepOutcome::Updated,
    )];
    let mut stale = observed(&wanted.name, &wanted.spec, "2");
    stale.state.exchange_settings.as_mut().unwrap().use_ssl = Some(false);
    let problems = verify(&results, &desired, &[stale], V8);
    assert_eq!(
        problems,
        [Unconverged::StillDiffers {
            name: wanted.name.clone(),
            fields: vec!["exchangeSettings.useSSL".into()],
        }]
    );
}
