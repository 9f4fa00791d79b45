//! `vboctl validate`: text and JSON output, strictness and exit codes.

use serde_json::Value;

use crate::vboctl;

const FIXTURES: &str = "crates/vbo-model/tests/fixtures/invalid";

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn valid_examples_exit_zero_with_a_summary() {
    // Every manifest of examples/, but not the CI pipelines of examples/ci nor the deployment
    // files of examples/deploy: YAML files that are not manifests are errors when a folder
    // holding them is validated.
    let output = vboctl()
        .args([
            "validate",
            "examples/hybrid.yaml",
            "examples/office365-modern-auth.yaml",
            "examples/office365-sharepoint-basic.yaml",
            "examples/on-premises.yaml",
            "examples/msp",
            "examples/v8",
            "examples/ci/fleet",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        stdout(&output),
        "valid: 21 organizations in 12 files, 0 warnings\n"
    );
}

#[test]
fn text_output_shows_every_problem_with_its_source_line() {
    let output = vboctl()
        .args([
            "validate",
            &format!("{FIXTURES}/case-typos-from-vendor-docs.yaml"),
            &format!("{FIXTURES}/wrong-region.yaml"),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&output));
}

#[test]
fn json_output_is_an_array_of_located_diagnostics() {
    let output = vboctl()
        .args([
            "validate",
            "--format",
            "json",
            &format!("{FIXTURES}/warn-literal-secrets.yaml"),
            &format!("{FIXTURES}/wrong-types.yaml"),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(!text.contains("Hunter2-Do-Not-Print"));
    let diagnostics: Value = serde_json::from_str(&text).unwrap();
    let first = &diagnostics[0];
    assert_eq!(
        first,
        &serde_json::json!({
            "file": format!("{FIXTURES}/warn-literal-secrets.yaml"),
            "line": 10,
            "column": 15,
            "severity": "warning",
            "message": "`password` is written in the manifest: anyone who can read the repository can read it",
            "hint": "use `{fromEnv: VARIABLE}` or `{fromFile: PATH}` instead",
        })
    );
    let severities: Vec<&str> = diagnostics
        .as_array()
        .unwrap()
        .iter()
        .map(|diagnostic| diagnostic["severity"].as_str().unwrap())
        .collect();
    assert_eq!(
        severities,
        [
            "warning", "warning", "error", "error", "error", "error", "error"
        ]
    );
}

#[test]
fn warnings_pass_unless_strict() {
    let file = format!("{FIXTURES}/warn-ssl-off-and-skipped-checks.yaml");
    let relaxed = vboctl().args(["validate", &file]).output().unwrap();
    assert_eq!(relaxed.status.code(), Some(0));
    assert!(stdout(&relaxed).ends_with("valid: 1 organization in 1 file, 4 warnings\n"));

    let strict = vboctl()
        .args(["validate", "--strict", &file])
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(1));
    assert!(
        stdout(&strict)
            .ends_with("invalid: 0 errors, 4 warnings (--strict makes warnings errors)\n")
    );

    let json = vboctl()
        .args(["validate", "--strict", "--format", "json", &file])
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(1));
}

#[test]
fn valid_json_output_is_an_empty_array() {
    let output = vboctl()
        .args(["validate", "--format=json", "examples/msp"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), "[]\n");
}

#[test]
fn the_current_folder_is_the_default_path() {
    let output = vboctl()
        .arg("validate")
        .current_dir(crate::repository().join("examples/msp"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).starts_with("valid: 12 organizations in 4 files"));
}

#[test]
fn usage_errors_exit_one_and_help_exits_zero() {
    let unknown = vboctl()
        .args(["validate", "--format", "yaml"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("invalid value 'yaml'"));

    let no_command = vboctl().output().unwrap();
    assert_eq!(no_command.status.code(), Some(1));

    for flag in ["--help", "--version"] {
        let output = vboctl().arg(flag).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{flag}");
        assert!(!output.stdout.is_empty());
    }
    let help = vboctl().args(["validate", "--help"]).output().unwrap();
    assert_eq!(help.status.code(), Some(0));
    assert!(stdout(&help).contains("--strict"));
}

#[test]
fn a_missing_path_is_an_error() {
    let output = vboctl()
        .args(["validate", "no/such/folder"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("error: cannot read this path"));
}
