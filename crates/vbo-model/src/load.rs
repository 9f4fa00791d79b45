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

use rayon::prelude::*;
use serde::Deserialize as _;
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::Manifest;
use crate::diagnostic::{Diagnostic, Severity, Source, render_all};
use crate::located::{self, Document, Pos, Span};
use crate::validate::{Anchor, Finding, SchemaCheck, rules};

mod places;

pub use places::FieldPlaces;

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
    pub fields: FieldPlaces,
}

impl LoadedManifest {
    /// `file:line:column` of the document's `metadata.name`.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file.display(), self.line, self.column)
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
    let mut diagnostics = Vec::new();
    let files = discover(paths, &mut diagnostics);
    let schema = SCHEMA.get_or_init(SchemaCheck::new);
    // Files are read and checked on every core; only the comparison of names across files
    // needs them in order, and it is cheap.
    let readings: Vec<FileReading> = files
        .into_par_iter()
        .map(|file| match std::fs::read(&file) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => read_file(schema, file, &text),
                Err(_) => FileReading::unreadable(file, "the file is not UTF-8 text".to_owned()),
            },
            Err(error) => FileReading::unreadable(file, format!("cannot read the file: {error}")),
        })
        .collect();
    let mut names = Names::default();
    let mut loaded = Loaded {
        diagnostics,
        ..Loaded::default()
    };
    for reading in readings {
        names.merge(reading, &mut loaded);
    }
    loaded
}

/// Checks manifests held in memory as if they had been read from `file`.
pub fn load_str(file: impl AsRef<Path>, text: &str) -> Loaded {
    let schema = SCHEMA.get_or_init(SchemaCheck::new);
    let mut loaded = Loaded::default();
    Names::default().merge(
        read_file(schema, file.as_ref().to_path_buf(), text),
        &mut loaded,
    );
    loaded
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

/// What one file yields, before names are compared with the other files'.
struct FileReading {
    file: PathBuf,
    /// One per document, in order; empty when the file could not be parsed.
    documents: Vec<DocumentReading>,
    /// A problem with the whole file: unreadable, not UTF-8, or not YAML.
    failure: Option<Diagnostic>,
}

impl FileReading {
    fn unreadable(file: PathBuf, message: String) -> Self {
        FileReading {
            failure: Some(Diagnostic::new(Severity::Error, &file, 0, 0, message)),
            file,
            documents: Vec::new(),
        }
    }
}

/// What one document yields, before its name is compared with the others'.
struct DocumentReading {
    /// Problems whatever its name: duplicate keys and what the schema refuses.
    problems: Vec<Diagnostic>,
    /// Its organization's name, when it has one.
    name: Option<NameAt>,
    /// For a document the schema accepts: what the rules between fields found, and the
    /// manifest unless one of those is an error. Dropped when the name was used before.
    typed: Option<(Vec<Diagnostic>, Option<LoadedManifest>)>,
}

/// A document's `metadata.name` and where it is written.
struct NameAt {
    name: String,
    /// The diagnostic to report if an earlier document has the name, without its message.
    place: Diagnostic,
}

/// Parses and checks every document of one file, on its own.
fn read_file(schema: &Result<SchemaCheck, String>, file: PathBuf, text: &str) -> FileReading {
    match located::parse(text) {
        Err(error) => {
            let source = Source::new(text, Vec::new());
            let pos = error.pos.unwrap_or(Pos { line: 0, column: 0 });
            let mut diagnostic = Diagnostic::new(
                Severity::Error,
                &file,
                pos.line,
                pos.column,
                format!("invalid YAML: {}", error.message),
            );
            diagnostic.snippet = error.pos.and_then(|pos| source.syntax_snippet(pos));
            FileReading {
                file,
                documents: Vec::new(),
                failure: Some(diagnostic),
            }
        }
        Ok((documents, masks)) => {
            let source = Source::new(text, masks);
            let documents = documents
                .into_iter()
                .map(|document| check(schema, &file, &source, document))
                .collect();
            FileReading {
                file,
                documents,
                failure: None,
            }
        }
    }
}

fn check(
    schema: &Result<SchemaCheck, String>,
    file: &Path,
    source: &Source<'_>,
    document: Document,
) -> DocumentReading {
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
    let mut problems = Vec::new();
    for duplicate in &document.duplicates {
        problems.push(diagnostic(
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
    match schema {
        Ok(schema) => problems.extend(schema.check(&document.value).into_iter().map(report)),
        Err(reason) => problems.push(Diagnostic::new(
            Severity::Error,
            file,
            0,
            0,
            format!("the manifest schema does not compile: {reason}"),
        )),
    }
    let name_place = document.place("/metadata/name").value.clone();
    let name = document
        .value
        .pointer("/metadata/name")
        .and_then(|v| v.as_str())
        .filter(|name| !name.trim().is_empty())
        .map(|name| NameAt {
            name: name.to_owned(),
            place: diagnostic(
                file,
                source,
                &name_place,
                Severity::Error,
                String::new(),
                Some(
                    "names are compared ignoring case: each organization needs one manifest"
                        .to_owned(),
                ),
            ),
        });
    let typed = problems.is_empty().then(|| {
        let mut manifest = match Manifest::deserialize(&document.value) {
            Ok(manifest) => manifest,
            Err(_) => {
                // The schema accepted what the types refuse (a decimal port such as `5985.0`):
                // report it without quoting the value, which could be anything.
                let finding = Finding::error(
                    "",
                    Anchor::Value,
                    "this document does not fit the manifest types",
                )
                .hint("write whole numbers without a decimal point");
                return (vec![report(finding)], None);
            }
        };
        let findings: Vec<Diagnostic> = rules(&manifest).into_iter().map(report).collect();
        if findings.iter().any(|d| d.severity == Severity::Error) {
            return (findings, None);
        }
        if let Some(folder) = file.parent() {
            manifest.spec.rebase_secret_files(folder);
        }
        let loaded = LoadedManifest {
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
                    Some((field_path(path), (pos.line, pos.column)))
                })
                .collect(),
        };
        (findings, Some(loaded))
    });
    DocumentReading {
        problems,
        name,
        typed,
    }
}

/// The dotted path (`exchangeOnlineSettings.password`) of the field at `pointer` under `spec`,
/// shared by every manifest read on this thread that has it: thousands of manifests repeat the
/// same few dozen paths.
fn field_path(pointer: &str) -> Arc<str> {
    /// At most this many paths are remembered per thread.
    const REMEMBERED: usize = 4096;
    thread_local! {
        static PATHS: RefCell<HashMap<String, Arc<str>>> = RefCell::default();
    }
    if let Some(path) = PATHS.with_borrow(|paths| paths.get(pointer).cloned()) {
        return path;
    }
    let path: Arc<str> = pointer.replace('/', ".").into();
    PATHS.with_borrow_mut(|paths| {
        if paths.len() < REMEMBERED {
            paths.insert(pointer.to_owned(), path.clone());
        }
    });
    path
}

/// Each organization name seen so far (lowercase), with where it was first written.
#[derive(Default)]
struct Names(HashMap<String, (PathBuf, u64, u64)>);

impl Names {
    /// Adds what one file yielded to `loaded`, reporting names already used, in file order
    /// and, within the file, by position.
    fn merge(&mut self, reading: FileReading, loaded: &mut Loaded) {
        let first = loaded.diagnostics.len();
        loaded.diagnostics.extend(reading.failure);
        for document in reading.documents {
            loaded.diagnostics.extend(document.problems);
            let mut typed = document.typed;
            if let Some(NameAt { name, mut place }) = document.name {
                let key = name.to_lowercase();
                match self.0.get(&key) {
                    Some((file, line, column)) => {
                        place.message = format!(
                            "organization `{name}` is already defined at {}:{line}:{column}",
                            file.display()
                        );
                        loaded.diagnostics.push(place);
                        typed = None;
                    }
                    None => {
                        self.0
                            .insert(key, (reading.file.clone(), place.line, place.column));
                    }
                }
            }
            if let Some((findings, manifest)) = typed {
                loaded.diagnostics.extend(findings);
                loaded.documents.extend(manifest);
            }
        }
        loaded.diagnostics[first..].sort_by_key(|diagnostic| (diagnostic.line, diagnostic.column));
        loaded.files.push(reading.file);
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
