//! Finding, reading and checking manifests: everything `vboctl validate` does, and what `plan`
//! and `apply` start from.
//!
//! ```no_run
//! use std::path::PathBuf;
//!
//! let loaded = vbo_model::load::load(&[PathBuf::from("tenants")]);
//! eprint!("{}", loaded.render(false));
//! if !loaded.has_errors(false) {
//!     for document in &loaded.documents {
//!         println!("{} ({}:{})", document.manifest.metadata.name, document.file.display(), document.line);
//!     }
//! }
//! ```

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::Manifest;
use crate::diagnostic::{Diagnostic, Severity, Source, render_all};
use crate::located::{self, Document, Pos, Span};
use crate::validate::{Anchor, Finding, SchemaCheck, rules};

/// Everything read from the manifests: the documents that are sound and every problem found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The documents without errors of their own, in file order and then document order.
    ///
    /// A document with errors is left out, so act on these only when
    /// [`has_errors`](Loaded::has_errors) is false: otherwise an organization whose manifest
    /// is broken would look unmanaged.
    pub documents: Vec<LoadedManifest>,
    /// Every problem, file by file, each file's in the order of their position.
    pub diagnostics: Vec<Diagnostic>,
    /// The files that were read, in order.
    pub files: Vec<PathBuf>,
}

/// One manifest document that passed validation, and where it was written.
#[derive(Clone, Debug)]
pub struct LoadedManifest {
    /// The manifest, with relative `fromFile` paths already made relative to its folder.
    pub manifest: Manifest,
    /// The file it came from.
    pub file: PathBuf,
    /// 1-based line of its `metadata.name` value.
    pub line: u64,
    /// 1-based column of its `metadata.name` value.
    pub column: u64,
    /// Line and column of each key written under `spec`, by dotted path
    /// (`exchangeOnlineSettings.password`), for messages about one field.
    pub fields: std::collections::BTreeMap<String, (u64, u64)>,
}

impl LoadedManifest {
    /// `file:line:column` of the document's `metadata.name`.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file.display(), self.line, self.column)
    }

    /// `file:line:column` of each key written under `spec`, by dotted path.
    pub fn field_locations(&self) -> std::collections::BTreeMap<String, String> {
        self.fields
            .iter()
            .map(|(path, (line, column))| {
                (
                    path.clone(),
                    format!("{}:{line}:{column}", self.file.display()),
                )
            })
            .collect()
    }
}

impl Loaded {
    /// Whether anything is wrong: any error, or with `strict` any warning too.
    pub fn has_errors(&self, strict: bool) -> bool {
        self.diagnostics
            .iter()
            .any(|diagnostic| strict || diagnostic.severity == Severity::Error)
    }

    /// How many diagnostics have `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.severity == severity)
            .count()
    }

    /// Every diagnostic as a terminal shows it (see [`Diagnostic::render`]).
    pub fn render(&self, styled: bool) -> String {
        render_all(&self.diagnostics, styled)
    }
}

/// Reads every manifest under `paths` and checks it.
///
/// A directory is walked for `*.yaml` and `*.yml` files in sorted order, skipping hidden
/// directories and files (names starting with `.`); a file named directly is read whatever its
/// extension. A file reached twice is read once. Each file may hold several documents
/// separated by `---`; a YAML syntax error ends the reading of its file but not of the others.
///
/// Nothing is resolved: `fromEnv` variables and `fromFile` files need not exist yet.
pub fn load(paths: &[PathBuf]) -> Loaded {
    let mut loader = Loader::new();
    for file in discover(paths, &mut loader.loaded.diagnostics) {
        match std::fs::read(&file) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => loader.add(&file, &text),
                Err(_) => loader.loaded.diagnostics.push(Diagnostic::new(
                    Severity::Error,
                    &file,
                    0,
                    0,
                    "the file is not UTF-8 text",
                )),
            },
            Err(error) => loader.loaded.diagnostics.push(Diagnostic::new(
                Severity::Error,
                &file,
                0,
                0,
                format!("cannot read the file: {error}"),
            )),
        }
    }
    loader.loaded
}

/// Checks manifests held in memory as if they had been read from `file`.
pub fn load_str(file: impl AsRef<Path>, text: &str) -> Loaded {
    let mut loader = Loader::new();
    loader.add(file.as_ref(), text);
    loader.loaded
}

/// The files to read under `paths`, reporting paths that cannot be walked.
fn discover(paths: &[PathBuf], diagnostics: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut seen = BTreeSet::new();
    let mut add = |file: PathBuf| {
        let identity = std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
        if seen.insert(identity) {
            files.push(file);
        }
    };
    let before = diagnostics.len();
    for path in paths {
        let metadata = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(error) => {
                diagnostics.push(Diagnostic::new(
                    Severity::Error,
                    path,
                    0,
                    0,
                    format!("cannot read this path: {error}"),
                ));
                continue;
            }
        };
        if !metadata.is_dir() {
            add(path.clone());
            continue;
        }
        let walk = walkdir::WalkDir::new(path)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|entry| entry.depth() == 0 || !is_hidden(entry.file_name()));
        for entry in walk {
            match entry {
                Ok(entry) if entry.file_type().is_file() && is_yaml(entry.path()) => {
                    // Walking `.` yields `./tenants.yaml`: show `tenants.yaml`, as people write it.
                    let file = entry.into_path();
                    match file.strip_prefix(".") {
                        Ok(relative) if path.as_os_str() == "." => add(relative.to_path_buf()),
                        _ => add(file),
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    let at = error.path().unwrap_or(path).to_path_buf();
                    diagnostics.push(Diagnostic::new(
                        Severity::Error,
                        at,
                        0,
                        0,
                        format!("cannot read this path: {error}"),
                    ));
                }
            }
        }
    }
    if files.is_empty() && diagnostics.len() == before {
        let shown = paths.first().cloned().unwrap_or_else(|| PathBuf::from("."));
        diagnostics.push(
            Diagnostic::new(
                Severity::Error,
                shown,
                0,
                0,
                "no manifests found: no *.yaml or *.yml files here",
            )
            .with_hint("pass the folder or files that hold your manifests"),
        );
    }
    files
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

fn is_yaml(path: &Path) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| {
            extension.eq_ignore_ascii_case("yaml") || extension.eq_ignore_ascii_case("yml")
        })
}

/// The compiled schema, built once per process.
static SCHEMA: OnceLock<Result<SchemaCheck, String>> = OnceLock::new();

/// Collects what the files yield, remembering names across files.
struct Loader {
    schema: &'static Result<SchemaCheck, String>,
    /// Each organization name seen so far (lowercase), with where.
    names: HashMap<String, (PathBuf, Pos)>,
    loaded: Loaded,
}

impl Loader {
    fn new() -> Self {
        Loader {
            schema: SCHEMA.get_or_init(SchemaCheck::new),
            names: HashMap::new(),
            loaded: Loaded::default(),
        }
    }

    /// Parses and checks every document of one file.
    fn add(&mut self, file: &Path, text: &str) {
        self.loaded.files.push(file.to_path_buf());
        let first = self.loaded.diagnostics.len();
        match located::parse(text) {
            Err(error) => {
                let source = Source::new(text, Vec::new());
                let pos = error.pos.unwrap_or(Pos { line: 0, column: 0 });
                let mut diagnostic = Diagnostic::new(
                    Severity::Error,
                    file,
                    pos.line,
                    pos.column,
                    format!("invalid YAML: {}", error.message),
                );
                diagnostic.snippet = error.pos.and_then(|pos| source.syntax_snippet(pos));
                self.loaded.diagnostics.push(diagnostic);
            }
            Ok((documents, masks)) => {
                let source = Source::new(text, masks);
                for document in &documents {
                    self.check(file, &source, document);
                }
            }
        }
        self.loaded.diagnostics[first..]
            .sort_by_key(|diagnostic| (diagnostic.line, diagnostic.column));
    }

    fn check(&mut self, file: &Path, source: &Source<'_>, document: &Document) {
        let report = |finding: Finding| {
            let place = document.place(&finding.pointer);
            let exact = document.places.contains_key(&finding.pointer);
            let span = match finding.anchor {
                Anchor::Value if exact => &place.value,
                _ => place.key_or_value(),
            };
            diagnostic(
                file,
                source,
                span,
                finding.severity,
                finding.message,
                finding.hint,
            )
        };
        let mut sound = true;
        for duplicate in &document.duplicates {
            sound = false;
            self.loaded.diagnostics.push(diagnostic(
                file,
                source,
                &duplicate.again,
                Severity::Error,
                format!(
                    "duplicate key `{}`: already written at line {}, column {}",
                    duplicate.key, duplicate.first.line, duplicate.first.column
                ),
                Some("keep one of them".to_owned()),
            ));
        }
        match self.schema {
            Ok(schema) => {
                for finding in schema.check(&document.value) {
                    sound = false;
                    self.loaded.diagnostics.push(report(finding));
                }
            }
            Err(reason) => {
                sound = false;
                self.loaded.diagnostics.push(Diagnostic::new(
                    Severity::Error,
                    file,
                    0,
                    0,
                    format!("the manifest schema does not compile: {reason}"),
                ));
            }
        }
        let name_place = document.place("/metadata/name").value.clone();
        if let Some(name) = document
            .value
            .pointer("/metadata/name")
            .and_then(|v| v.as_str())
            && !name.trim().is_empty()
        {
            let key = name.to_lowercase();
            if let Some((first_file, first)) = self.names.get(&key) {
                sound = false;
                self.loaded.diagnostics.push(diagnostic(
                    file,
                    source,
                    &name_place,
                    Severity::Error,
                    format!(
                        "organization `{name}` is already defined at {}:{}:{}",
                        first_file.display(),
                        first.line,
                        first.column
                    ),
                    Some(
                        "names are compared ignoring case: each organization needs one manifest"
                            .to_owned(),
                    ),
                ));
            } else {
                self.names.insert(key, (file.to_path_buf(), name_place.pos));
            }
        }
        if !sound {
            return;
        }
        let mut manifest = match serde_json::from_value::<Manifest>(document.value.clone()) {
            Ok(manifest) => manifest,
            Err(_) => {
                // The schema accepted what the types refuse (a decimal port such as `5985.0`):
                // report it without quoting the value, which could be anything.
                self.loaded.diagnostics.push(report(
                    Finding::error(
                        "",
                        Anchor::Value,
                        "this document does not fit the manifest types",
                    )
                    .hint("write whole numbers without a decimal point"),
                ));
                return;
            }
        };
        for finding in rules(&manifest) {
            sound &= finding.severity != Severity::Error;
            self.loaded.diagnostics.push(report(finding));
        }
        if sound {
            if let Some(folder) = file.parent() {
                manifest.spec.rebase_secret_files(folder);
            }
            self.loaded.documents.push(LoadedManifest {
                manifest,
                file: file.to_path_buf(),
                line: name_place.pos.line,
                column: name_place.pos.column,
                fields: document
                    .places
                    .iter()
                    .filter_map(|(pointer, place)| {
                        let path = pointer.strip_prefix("/spec/")?;
                        let pos = place.key_or_value().pos;
                        Some((path.replace('/', "."), (pos.line, pos.column)))
                    })
                    .collect(),
            });
        }
    }
}

fn diagnostic(
    file: &Path,
    source: &Source<'_>,
    span: &Span,
    severity: Severity,
    message: String,
    hint: Option<String>,
) -> Diagnostic {
    Diagnostic {
        file: file.to_path_buf(),
        line: span.pos.line,
        column: span.pos.column,
        severity,
        message,
        hint,
        snippet: source.snippet(span),
    }
}
