//! Every example validates clean, and the committed schema accepts every example document.

use std::path::{Path, PathBuf};

use serde_json::Value;
use vbo_model::load;

use crate::repository;

/// The folder of deployment files (compose, Kubernetes): YAML, but not manifests.
const DEPLOY: &str = "deploy";

fn example_files() -> Vec<PathBuf> {
    let deploy = repository().join("examples").join(DEPLOY);
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(repository().join("examples"))
        .into_iter()
        .map(|entry| entry.unwrap().into_path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .filter(|path| !path.starts_with(&deploy))
        .collect();
    files.sort();
    files
}

/// The folders and files of examples/ that hold manifests: everything but the CI pipelines of
/// examples/ci and the deployment files of examples/deploy (which are YAML, but not
/// manifests), plus the fleet those pipelines manage.
fn manifest_roots() -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = std::fs::read_dir(repository().join("examples"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.is_dir() && !path.ends_with("ci") && !path.ends_with(DEPLOY)
                || path.extension().is_some_and(|ext| ext == "yaml")
        })
        .collect();
    roots.push(repository().join("examples/ci/fleet"));
    roots.sort();
    roots
}

#[test]
fn examples_validate_clean_even_when_strict() {
    let loaded = load(&manifest_roots());
    assert!(loaded.diagnostics.is_empty(), "{}", loaded.render(false));
    assert!(!loaded.has_errors(true));
    assert_eq!(loaded.files.len(), example_files().len());
    assert_eq!(loaded.documents.len(), 21);
}

#[test]
fn msp_repository_holds_a_dozen_organizations_in_multi_document_files() {
    let loaded = load(&[repository().join("examples/msp")]);
    assert!(loaded.diagnostics.is_empty(), "{}", loaded.render(false));
    assert_eq!(loaded.documents.len(), 12);
    assert!(loaded.files.len() >= 3);
    let multi_document = loaded.files.iter().any(|file| {
        loaded
            .documents
            .iter()
            .filter(|document| &document.file == file)
            .count()
            > 1
    });
    assert!(multi_document);
}

#[test]
fn examples_use_env_secrets_only() {
    let loaded = load(&manifest_roots());
    for document in &loaded.documents {
        let fields = document.manifest.spec.secret_fields();
        assert!(!fields.is_empty(), "{}", document.location());
        for field in fields {
            assert!(
                matches!(field.reference, vbo_model::SecretRef::FromEnv(_)),
                "{} {}",
                document.location(),
                field.path
            );
        }
    }
}

#[test]
fn the_msp_secrets_env_example_names_exactly_the_variables_the_manifests_read() {
    let path = repository().join("examples/msp/secrets.env.example");
    let text = std::fs::read_to_string(&path).unwrap();
    let file = vbo_model::env_file::EnvFile::parse(&path, &text).unwrap();
    let loaded = load(&[repository().join("examples/msp")]);
    let mut referenced = std::collections::BTreeSet::new();
    for document in &loaded.documents {
        for field in document.manifest.spec.secret_fields() {
            let vbo_model::SecretRef::FromEnv(var) = field.reference else {
                panic!("{} {}: not fromEnv", document.location(), field.path);
            };
            // Each variable's line follows a comment naming the organization and the field.
            let comment = text
                .lines()
                .zip(text.lines().skip(1))
                .find(|(_, line)| *line == format!("{var}="))
                .map(|(comment, _)| comment)
                .unwrap_or_else(|| panic!("no line {var}= in {}", path.display()));
            let name = &document.manifest.metadata.name;
            assert!(
                comment.starts_with(&format!("# {name}: "))
                    && comment.contains(&format!("spec.{}", field.path)),
                "{var}: {comment}"
            );
            referenced.insert(var.clone());
        }
    }
    let listed: std::collections::BTreeSet<String> = file.names().map(str::to_owned).collect();
    assert_eq!(listed, referenced);
    // No values: every listed variable is left for the user to fill in.
    for name in &listed {
        assert_eq!(file.get(name).unwrap().expose(), "", "{name}");
    }
}

#[test]
fn every_example_starts_with_a_modeline_that_finds_the_schema() {
    for file in example_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let first = text.lines().next().unwrap_or_default();
        let target = first
            .strip_prefix("# yaml-language-server: $schema=")
            .unwrap_or_else(|| panic!("{} has no modeline", file.display()));
        assert!(
            target.ends_with("schemas/organization.schema.json"),
            "{}",
            file.display()
        );
        let schema = file.parent().unwrap().join(target);
        assert!(
            schema.is_file(),
            "{} points at {}",
            file.display(),
            schema.display()
        );
    }
}

#[test]
fn committed_schema_accepts_every_example_document() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repository().join("schemas/organization.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut documents = 0;
    for file in example_files() {
        for document in yaml_documents(&file) {
            let errors: Vec<String> = validator
                .iter_errors(&document)
                .map(|error| format!("{} at {}", error.masked(), error.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", file.display());
            documents += 1;
        }
    }
    assert_eq!(documents, 21);
}

/// The documents of a YAML file as JSON, read independently of the loader.
fn yaml_documents(file: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(file).unwrap();
    serde_saphyr::from_multiple(&text).unwrap()
}
