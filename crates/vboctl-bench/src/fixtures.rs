//! The manifests and request bodies the benchmark runs on, written to a folder.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

/// The variables the generated manifests read their secrets from, with the values the
/// emulator is given.
pub(crate) const SECRETS: [(&str, &str); 2] = [
    ("BENCH_PASSWORD", "bench-password"),
    // Base64, as an application certificate's content is sent.
    ("BENCH_CERTIFICATE", "QkVOQ0gtQ0VSVElGSUNBVEU="),
];

/// Writes `count` manifests, `per_file` to a file, a third of each organization type, as REST
/// API v8 takes them (Microsoft 365 with application-only authentication).
pub(crate) fn mixed_manifests(folder: &Path, count: usize, per_file: usize) -> io::Result<()> {
    write_files(folder, count, per_file, |index, out| {
        let name = format!("bench-{index:05}");
        let online = |out: &mut String, name: &str| {
            let _ = writeln!(
                out,
                "  isExchangeOnline: true\n  exchangeOnlineSettings: {{useApplicationOnlyAuth: true, officeOrganizationName: {name}.onmicrosoft.com, applicationId: 2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901, applicationCertificate: {{fromEnv: BENCH_CERTIFICATE}}, applicationCertificatePassword: {{fromEnv: BENCH_PASSWORD}}}}"
            );
        };
        match index % 3 {
            0 => {
                header(out, &format!("{name}.onmicrosoft.com"), "Office365");
                online(out, &name);
            }
            1 => on_premises(out, &format!("{name}.local")),
            _ => {
                header(out, &format!("{name}.hybrid"), "Hybrid");
                online(out, &name);
                let _ = writeln!(
                    out,
                    "  isSharePoint: true\n  sharePointSettings: {{serverName: sp.{name}.local, username: 'DOM\\backup', password: {{fromEnv: BENCH_PASSWORD}}, useSSL: true}}"
                );
            }
        }
    })
}

/// Writes `count` OnPremises manifests, `per_file` to a file: the organizations the apply runs
/// create, and the shell script too.
pub(crate) fn on_premises_manifests(
    folder: &Path,
    count: usize,
    per_file: usize,
) -> io::Result<()> {
    write_files(folder, count, per_file, |index, out| {
        on_premises(out, &format!("bench-{index:05}.local"));
    })
}

/// The request bodies of the organizations [`on_premises_manifests`] describes, one JSON
/// document per line, as `POST /v8/Organizations` takes them: what the shell script sends.
pub(crate) fn on_premises_bodies(path: &Path, count: usize) -> io::Result<()> {
    let mut out = String::new();
    for index in 0..count {
        let name = format!("bench-{index:05}.local");
        let body = serde_json::json!({
            "type": "OnPremises",
            "name": name,
            "isExchange": true,
            "exchangeSettings": {
                "serverName": format!("mail.{name}"),
                "username": "DOM\\backup",
                "password": SECRETS[0].1,
                "useSSL": true,
            },
        });
        let _ = writeln!(out, "{body}");
    }
    std::fs::write(path, out)
}

fn header(out: &mut String, name: &str, kind: &str) {
    let _ = writeln!(
        out,
        "---\napiVersion: vboctl/v1\nkind: Organization\nmetadata: {{name: {name}}}\nspec:\n  type: {kind}"
    );
}

fn on_premises(out: &mut String, name: &str) {
    header(out, name, "OnPremises");
    let _ = writeln!(
        out,
        "  isExchange: true\n  exchangeSettings: {{serverName: mail.{name}, username: 'DOM\\backup', password: {{fromEnv: BENCH_PASSWORD}}, useSSL: true}}"
    );
}

fn write_files(
    folder: &Path,
    count: usize,
    per_file: usize,
    mut document: impl FnMut(usize, &mut String),
) -> io::Result<()> {
    std::fs::create_dir_all(folder)?;
    let mut text = String::new();
    for index in 0..count {
        document(index, &mut text);
        if (index + 1) % per_file == 0 || index + 1 == count {
            let file = folder.join(format!("tenants-{:05}.yaml", index / per_file));
            std::fs::write(file, &text)?;
            text.clear();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_manifests_are_valid_and_spread_over_files() {
        let folder = tempfile::tempdir().unwrap();
        mixed_manifests(&folder.path().join("mixed"), 25, 10).unwrap();
        on_premises_manifests(&folder.path().join("on-premises"), 7, 10).unwrap();
        let mixed = vbo_model::load(&[folder.path().join("mixed")]);
        assert!(mixed.diagnostics.is_empty(), "{}", mixed.render(false));
        assert_eq!(mixed.documents.len(), 25);
        assert_eq!(mixed.files.len(), 3);
        let on_premises = vbo_model::load(&[folder.path().join("on-premises")]);
        assert!(
            on_premises.diagnostics.is_empty(),
            "{}",
            on_premises.render(false)
        );
        assert_eq!(on_premises.documents.len(), 7);
    }

    #[test]
    fn the_script_s_bodies_describe_the_same_organizations() {
        let folder = tempfile::tempdir().unwrap();
        on_premises_manifests(folder.path(), 3, 10).unwrap();
        let bodies = folder.path().join("bodies.jsonl");
        on_premises_bodies(&bodies, 3).unwrap();
        let names: Vec<String> = std::fs::read_to_string(&bodies)
            .unwrap()
            .lines()
            .map(|line| {
                let body: serde_json::Value = serde_json::from_str(line).unwrap();
                body["name"].as_str().unwrap().to_owned()
            })
            .collect();
        let loaded = vbo_model::load(&[folder.path().to_path_buf()]);
        let manifests: Vec<String> = loaded
            .documents
            .iter()
            .map(|document| document.manifest.metadata.name.clone())
            .collect();
        assert_eq!(names, manifests);
    }
}
