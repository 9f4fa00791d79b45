//! The corpus of invalid manifests under `tests/fixtures/invalid`: each file (or folder, for
//! problems that span files) with its expected diagnostics as a reviewed snapshot.

use std::fmt::Write as _;
use std::path::PathBuf;

use vbo_model::{Severity, load};

/// Secrets written literally in the fixtures: none may appear in any output.
const LITERAL_SECRETS: &[&str] = &[
    "Hunter2-Do-Not-Print",
    "fCblKbIf+kY10+uB+rROD+wZPT/WxcDNX+EU2O33Q1s=",
    "s3cr3t-Value",
    "12345",
];

fn fixtures() -> Vec<(String, PathBuf)> {
    let folder = PathBuf::from("tests/fixtures/invalid");
    let mut entries: Vec<(String, PathBuf)> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            let path = folder.join(&name);
            (name.trim_end_matches(".yaml").to_owned(), path)
        })
        .collect();
    entries.sort();
    entries
}

#[test]
fn corpus_is_large_enough() {
    assert!(fixtures().len() >= 30, "{}", fixtures().len());
}

#[test]
fn every_fixture_reports_what_its_snapshot_says() {
    for (name, path) in fixtures() {
        let loaded = load(&[path]);
        let mut report = String::new();
        for diagnostic in &loaded.diagnostics {
            let _ = writeln!(
                report,
                "{}: {}: {}",
                diagnostic.location(),
                diagnostic.severity.as_str(),
                diagnostic.message
            );
            if let Some(hint) = &diagnostic.hint {
                let _ = writeln!(report, "    hint: {hint}");
            }
        }
        report.push_str("\n---- as rendered ----\n\n");
        report.push_str(&loaded.render(false));

        let json = serde_json::to_string(&loaded.diagnostics).unwrap();
        for secret in LITERAL_SECRETS {
            assert!(!report.contains(secret), "{name} shows a secret:\n{report}");
            assert!(!json.contains(secret), "{name} shows a secret in JSON");
        }
        if name.starts_with("warn-") {
            assert!(!loaded.has_errors(false), "{name}:\n{report}");
            assert!(loaded.has_errors(true), "{name}:\n{report}");
            assert!(
                loaded
                    .diagnostics
                    .iter()
                    .all(|d| d.severity == Severity::Warning)
            );
        } else {
            assert!(loaded.has_errors(false), "{name} is valid:\n{report}");
        }
        insta::assert_snapshot!(name, report);
    }
}
