//! The committed schema and field reference are what `vboctl schema` produces today.

use crate::{repository, vboctl};

/// Compares a committed file with the output of `vboctl <args>`, naming the command that
/// regenerates it.
fn assert_up_to_date(committed: &str, args: &[&str]) {
    let output = vboctl().args(args).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let generated = String::from_utf8(output.stdout).unwrap();
    let on_disk = std::fs::read_to_string(repository().join(committed)).unwrap_or_default();
    if on_disk != generated {
        let diff = similar::TextDiff::from_lines(&on_disk, &generated)
            .unified_diff()
            .header(committed, "generated")
            .to_string();
        panic!(
            "{committed} is stale. Regenerate it with\n\n    cargo run -p vboctl -- {} --out {committed}\n\n(or `just schema`) and commit the result.\n\n{diff}",
            args.join(" ")
        );
    }
}

#[test]
fn committed_schema_is_up_to_date() {
    assert_up_to_date("schemas/organization.schema.json", &["schema"]);
}

#[test]
fn committed_field_reference_is_up_to_date() {
    assert_up_to_date("docs/manifest.md", &["schema", "--format", "markdown"]);
}

#[test]
fn schema_out_writes_the_same_text_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("schema.json");
    let output = vboctl()
        .args(["schema", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(output.stdout.is_empty());
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(written, vbo_model::schema::manifest_schema());
    assert!(jsonschema::meta::is_valid(&written));
}

#[test]
fn schema_out_to_a_missing_folder_fails_with_exit_one() {
    let output = vboctl()
        .args(["schema", "--out", "no/such/folder/schema.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("error: cannot write"));
}

#[test]
fn committed_plan_schema_is_up_to_date_and_a_valid_schema() {
    assert_up_to_date("schemas/plan.schema.json", &["schema", "plan"]);
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repository().join("schemas/plan.schema.json")).unwrap(),
    )
    .unwrap();
    assert!(jsonschema::meta::is_valid(&committed));
}

#[test]
fn the_plan_has_no_generated_markdown_reference() {
    let output = vboctl()
        .args(["schema", "plan", "--format", "markdown"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("docs/plan-format.md"));
}
