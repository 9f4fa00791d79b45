//! Discovery of files and what the loader hands to `plan` and `apply`.

use std::path::{Path, PathBuf};

use vbo_model::load::{load, load_str};
use vbo_model::{SecretRef, Severity, Spec};

const VALID: &str = "\
apiVersion: vboctl/v1
kind: Organization
metadata:
  name: NAME
spec:
  type: Office365
  isExchangeOnline: true
  exchangeOnlineSettings:
    account: admin@example.onmicrosoft.com
    password: {fromFile: secrets/pw.txt}
";

fn manifest(name: &str) -> String {
    VALID.replace("NAME", name)
}

fn write(dir: &Path, relative: &str, text: &str) {
    let path = dir.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn names(loaded: &vbo_model::Loaded) -> Vec<&str> {
    loaded
        .documents
        .iter()
        .map(|document| document.manifest.metadata.name.as_str())
        .collect()
}

#[test]
fn walks_folders_in_sorted_order_skipping_hidden_ones() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "b.yaml", &manifest("b"));
    write(dir.path(), "a/z.yml", &manifest("a-z"));
    write(dir.path(), "a/y.YAML", &manifest("a-y"));
    write(dir.path(), "c.txt", "not: a manifest");
    write(dir.path(), ".github/ci.yaml", "on: push");
    write(dir.path(), ".hidden.yaml", "nonsense: true");
    let loaded = load(&[dir.path().to_path_buf()]);
    assert!(loaded.diagnostics.is_empty(), "{}", loaded.render(false));
    assert_eq!(names(&loaded), ["a-y", "a-z", "b"]);
}

#[test]
fn a_file_named_directly_is_read_whatever_its_extension_and_only_once() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "org.txt", &manifest("txt"));
    write(dir.path(), "org.yaml", &manifest("yaml"));
    let loaded = load(&[
        dir.path().join("org.txt"),
        dir.path().to_path_buf(),
        dir.path().join("org.yaml"),
    ]);
    assert!(loaded.diagnostics.is_empty(), "{}", loaded.render(false));
    assert_eq!(names(&loaded), ["txt", "yaml"]);
    assert_eq!(loaded.files.len(), 2);
}

#[test]
fn missing_paths_and_empty_folders_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = load(&[dir.path().join("nope")]);
    assert_eq!(missing.diagnostics.len(), 1);
    assert!(
        missing.diagnostics[0]
            .message
            .starts_with("cannot read this path")
    );
    assert_eq!(missing.diagnostics[0].line, 0);

    let empty = load(&[dir.path().to_path_buf()]);
    assert_eq!(empty.diagnostics.len(), 1);
    assert_eq!(empty.diagnostics[0].severity, Severity::Error);
    assert!(
        empty.diagnostics[0]
            .message
            .starts_with("no manifests found")
    );
}

#[test]
fn a_broken_file_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1.yaml", "a: [\n");
    std::fs::write(dir.path().join("2.yaml"), [0xff, 0xfe, 0x00]).unwrap();
    write(dir.path(), "3.yaml", &manifest("three"));
    let loaded = load(&[dir.path().to_path_buf()]);
    let messages: Vec<&str> = loaded
        .diagnostics
        .iter()
        .map(|diagnostic| diagnostic.message.as_str())
        .collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[0].starts_with("invalid YAML"));
    assert_eq!(messages[1], "the file is not UTF-8 text");
    assert_eq!(names(&loaded), ["three"]);
}

#[test]
fn documents_carry_their_location_and_rebased_secret_files() {
    let text = format!("# two\n{}---\n{}", manifest("first"), manifest("second"));
    let loaded = load_str(Path::new("tenants/org.yaml"), &text);
    assert!(loaded.diagnostics.is_empty(), "{}", loaded.render(false));
    let second = &loaded.documents[1];
    assert_eq!((second.line, second.column), (16, 9));
    assert_eq!(second.location(), "tenants/org.yaml:16:9");
    let Spec::Office365(spec) = &second.manifest.spec else {
        panic!("not Office365");
    };
    let password = spec
        .exchange_online_settings
        .as_ref()
        .unwrap()
        .password
        .as_ref();
    assert_eq!(
        password,
        Some(&SecretRef::FromFile(PathBuf::from(
            "tenants/secrets/pw.txt"
        )))
    );
}

#[test]
fn documents_with_errors_are_left_out_and_warnings_kept() {
    let broken = manifest("broken").replace("isExchangeOnline: true", "isExchangeOnline: false");
    let literal = manifest("literal").replace("{fromFile: secrets/pw.txt}", "hunter2hunter2");
    let text = format!("{broken}---\n{literal}");
    let loaded = load_str("org.yaml", &text);
    assert_eq!(names(&loaded), ["literal"]);
    assert_eq!(loaded.count(Severity::Error), 2, "{}", loaded.render(false));
    assert_eq!(loaded.count(Severity::Warning), 1);
    assert!(!loaded.render(false).contains("hunter2hunter2"));
}

#[test]
fn empty_files_and_empty_documents_are_not_manifests() {
    let loaded = load_str("empty.yaml", "# nothing yet\n---\n---\n");
    assert!(loaded.diagnostics.is_empty());
    assert!(loaded.documents.is_empty());
}
