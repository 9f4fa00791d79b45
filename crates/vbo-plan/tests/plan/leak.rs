//! Literal secrets written in manifests never reach a rendering or a saved plan.

use proptest::prelude::*;
use vbo_model::{Organization, SecretRef};
use vbo_plan::render::{json, markdown, text};
use vbo_plan::{Desired, PlanFile, plan};

use crate::fixtures::{LITERAL, desired, estate_plan, observed};
use crate::properties::{SECRET_MARK, options, scenario};

/// Every output a plan can produce, including a saved plan written without the literal check.
fn outputs(desired: &[Desired], observed: &[Organization], prune: bool) -> Vec<(String, String)> {
    let plan = plan(desired, observed, &options(prune));
    let file = PlanFile::new(plan.clone(), desired, observed);
    let mut outputs = vec![
        ("text".to_owned(), text(&plan, false)),
        ("text in colour".to_owned(), text(&plan, true)),
        ("markdown".to_owned(), markdown(&plan)),
        ("json".to_owned(), json(&plan)),
        (
            "saved plan, serialized directly".to_owned(),
            serde_json::to_string(&file).expect("serializes"),
        ),
        ("debug of the plan".to_owned(), format!("{plan:?}")),
        ("debug of the saved plan".to_owned(), format!("{file:?}")),
    ];
    match file.to_json() {
        Ok(saved) => outputs.push(("saved plan".to_owned(), saved)),
        Err(error) => outputs.push(("saved plan refusal".to_owned(), error.to_string())),
    }
    outputs
}

#[test]
fn the_estate_literal_never_appears() {
    let desired = desired();
    assert!(
        desired
            .iter()
            .flat_map(|d| d.spec.secret_fields())
            .any(|f| matches!(f.reference, SecretRef::Literal(s) if s.expose() == LITERAL)),
        "the fixture does write the literal"
    );
    for prune in [false, true] {
        for (what, output) in outputs(&desired, &observed(), prune) {
            assert!(!output.contains(LITERAL), "{what} shows the literal secret");
        }
    }
    assert!(text(&estate_plan(false), false).contains("(sensitive: literal in manifest)"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn literal_secrets_never_appear((desired, observed, prune) in scenario()) {
        for (what, output) in outputs(&desired, &observed, prune) {
            prop_assert!(!output.contains(SECRET_MARK), "{} shows a literal secret", what);
        }
    }
}
