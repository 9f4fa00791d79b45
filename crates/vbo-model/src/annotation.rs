//! Problems as CI platforms show them: GitHub Actions workflow commands and GitLab Code
//! Quality reports.
//!
//! An [`Annotation`] is a problem with a place in a file, built from a manifest
//! [`Diagnostic`] or by the planner from a plan error. [`github_workflow_commands`] prints
//! annotations the way a GitHub Actions step shows them on a pull request's files;
//! [`gitlab_code_quality`] writes the JSON report a GitLab merge request shows.

use std::fmt::Write as _;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::diagnostic::{Diagnostic, Severity};

/// One problem, where it is, in the words a CI platform shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotation {
    /// Error or warning.
    pub severity: Severity,
    /// The file, relative to the folder vboctl ran in, with `/` separators; `None` when the
    /// problem is not in a file.
    pub file: Option<String>,
    /// 1-based line; 0 when the problem concerns the whole file.
    pub line: u64,
    /// 1-based column; 0 when unknown.
    pub column: u64,
    /// A short title, the same for every problem of one kind (`Invalid manifest`,
    /// `Cannot plan`).
    pub title: String,
    /// What is wrong and, on a further line, what to do. Never contains a secret value.
    pub message: String,
}

impl Annotation {
    /// An annotation at `origin`, a location written `file:line:column` (as manifests' origins
    /// are), `file`, or empty for none.
    pub fn at_origin(
        severity: Severity,
        origin: &str,
        title: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let (file, line, column) = split_origin(origin);
        Annotation {
            severity,
            file: file.map(portable_path),
            line,
            column,
            title: title.into(),
            message: message.into(),
        }
    }
}

impl From<&Diagnostic> for Annotation {
    fn from(diagnostic: &Diagnostic) -> Self {
        let title = match diagnostic.severity {
            Severity::Error => "Invalid manifest",
            Severity::Warning => "Risky manifest",
        };
        let mut message = diagnostic.message.clone();
        if let Some(hint) = &diagnostic.hint {
            message.push_str("\nhint: ");
            message.push_str(hint);
        }
        Annotation {
            severity: diagnostic.severity,
            file: Some(portable_path(&diagnostic.file.to_string_lossy())),
            line: diagnostic.line,
            column: diagnostic.column,
            title: title.to_owned(),
            message,
        }
    }
}

/// `file:line:column` split in three; a Windows drive letter stays in the file.
fn split_origin(origin: &str) -> (Option<&str>, u64, u64) {
    if origin.is_empty() {
        return (None, 0, 0);
    }
    let mut parts = origin.rsplitn(3, ':');
    let (Some(column), Some(line), Some(file)) = (parts.next(), parts.next(), parts.next()) else {
        return (Some(origin), 0, 0);
    };
    match (line.parse(), column.parse()) {
        (Ok(line), Ok(column)) if !file.is_empty() => (Some(file), line, column),
        _ => (Some(origin), 0, 0),
    }
}

/// The path with `/` separators and without a leading `./`, as both platforms expect.
fn portable_path(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut path = path.as_str();
    while let Some(rest) = path.strip_prefix("./") {
        path = rest;
    }
    path.to_owned()
}

/// How many error annotations, and how many warning annotations, GitHub shows for one step;
/// it drops the rest silently.
pub const GITHUB_ANNOTATIONS_PER_SEVERITY: usize = 10;

/// The annotations as GitHub Actions workflow commands, one per line:
/// `::error file=F,line=L,col=C,title=T::message`.
///
/// Messages and properties are escaped as the syntax requires (`%`, CR and LF everywhere; `:`
/// and `,` in properties too), so a message can span lines and never ends the command early.
/// GitHub shows at most [`GITHUB_ANNOTATIONS_PER_SEVERITY`] errors and as many warnings per
/// step: the first ones of each are printed, and the others are counted in one more
/// annotation, a notice, that says how many were left out and where to read them all.
pub fn github_workflow_commands(annotations: &[Annotation]) -> String {
    let mut out = String::new();
    let mut left_out = [0usize; 2];
    let mut shown = [0usize; 2];
    for annotation in annotations {
        let index = match annotation.severity {
            Severity::Error => 0,
            Severity::Warning => 1,
        };
        if shown[index] == GITHUB_ANNOTATIONS_PER_SEVERITY {
            left_out[index] += 1;
            continue;
        }
        shown[index] += 1;
        let mut properties = Vec::new();
        if let Some(file) = &annotation.file {
            properties.push(format!("file={}", escape_property(file)));
            if annotation.line > 0 {
                properties.push(format!("line={}", annotation.line));
                if annotation.column > 0 {
                    properties.push(format!("col={}", annotation.column));
                }
            }
        }
        properties.push(format!("title={}", escape_property(&annotation.title)));
        let _ = writeln!(
            out,
            "::{} {}::{}",
            annotation.severity.as_str(),
            properties.join(","),
            escape_data(&annotation.message)
        );
    }
    let [errors, warnings] = left_out;
    if errors + warnings > 0 {
        let mut counts = Vec::new();
        if errors > 0 {
            counts.push(plural(errors, "more error"));
        }
        if warnings > 0 {
            counts.push(plural(warnings, "more warning"));
        }
        let message = format!(
            "{} not shown as annotations: GitHub shows {GITHUB_ANNOTATIONS_PER_SEVERITY} of each per step. Every problem is in the step's log.",
            counts.join(" and ")
        );
        let _ = writeln!(
            out,
            "::notice title={}::{}",
            escape_property("More problems"),
            escape_data(&message)
        );
    }
    out
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Escapes a workflow command's message: `%`, CR and LF.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value: as a message, plus `:` and `,`.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// One entry of a GitLab Code Quality report.
#[derive(Debug, Serialize)]
struct CodeQualityIssue<'a> {
    description: &'a str,
    check_name: &'a str,
    fingerprint: String,
    severity: &'static str,
    location: CodeQualityLocation<'a>,
}

#[derive(Debug, Serialize)]
struct CodeQualityLocation<'a> {
    path: &'a str,
    lines: CodeQualityLines,
}

#[derive(Debug, Serialize)]
struct CodeQualityLines {
    begin: u64,
}

/// The annotations as a GitLab Code Quality report: a JSON array GitLab shows in merge requests
/// (`artifacts: reports: codequality`).
///
/// Errors are `critical`, warnings `minor`; `check_name` is the annotation's title. The
/// fingerprint, which GitLab uses to tell new problems from old ones, hashes the file, the
/// title and the message, not the line, so a problem keeps its fingerprint when lines above it
/// move; the same problem twice in one file is told apart by its rank. A problem in no file is
/// reported at line 1 of an empty path.
pub fn gitlab_code_quality(annotations: &[Annotation]) -> String {
    let mut seen = std::collections::HashMap::new();
    let issues: Vec<CodeQualityIssue<'_>> = annotations
        .iter()
        .map(|annotation| {
            let path = annotation.file.as_deref().unwrap_or("");
            let key = (path, annotation.title.as_str(), annotation.message.as_str());
            let rank = seen.entry(key).or_insert(0u32);
            *rank += 1;
            let mut hasher = Sha256::new();
            for part in [path, &annotation.title, &annotation.message] {
                hasher.update(part.as_bytes());
                hasher.update([0]);
            }
            hasher.update(rank.to_le_bytes());
            CodeQualityIssue {
                description: &annotation.message,
                check_name: &annotation.title,
                fingerprint: hex::encode(hasher.finalize()),
                severity: match annotation.severity {
                    Severity::Error => "critical",
                    Severity::Warning => "minor",
                },
                location: CodeQualityLocation {
                    path,
                    lines: CodeQualityLines {
                        begin: annotation.line.max(1),
                    },
                },
            }
        })
        .collect();
    // Strings and numbers only: serializing cannot fail.
    let mut json = serde_json::to_string_pretty(&issues).unwrap_or_default();
    json.push('\n');
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(file: &str, line: u64, message: &str) -> Annotation {
        Annotation {
            severity: Severity::Error,
            file: Some(file.to_owned()),
            line,
            column: 3,
            title: "Invalid manifest".to_owned(),
            message: message.to_owned(),
        }
    }

    #[test]
    fn workflow_commands_escape_messages_and_properties() {
        let annotation = Annotation {
            severity: Severity::Warning,
            file: Some("odd,name:1.yaml".to_owned()),
            line: 4,
            column: 7,
            title: "50% risky: a, b".to_owned(),
            message: "100% sure\r\nhint: use ::fromEnv:: here, please".to_owned(),
        };
        assert_eq!(
            github_workflow_commands(&[annotation]),
            "::warning file=odd%2Cname%3A1.yaml,line=4,col=7,title=50%25 risky%3A a%2C b::100%25 sure%0D%0Ahint: use ::fromEnv:: here, please\n"
        );
    }

    #[test]
    fn workflow_commands_leave_out_line_and_column_they_do_not_know() {
        let mut whole_file = error("a.yaml", 0, "empty");
        whole_file.column = 0;
        let nowhere = Annotation {
            file: None,
            ..error("", 0, "the server refused")
        };
        assert_eq!(
            github_workflow_commands(&[whole_file, nowhere]),
            "::error file=a.yaml,title=Invalid manifest::empty\n::error title=Invalid manifest::the server refused\n"
        );
    }

    #[test]
    fn workflow_commands_show_ten_of_each_severity_and_count_the_rest() {
        let mut annotations: Vec<Annotation> = (1..=13)
            .map(|n| error("a.yaml", n, &format!("error {n}")))
            .collect();
        annotations.extend((1..=11).map(|n| Annotation {
            severity: Severity::Warning,
            ..error("b.yaml", n, &format!("warning {n}"))
        }));
        let out = github_workflow_commands(&annotations);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines.iter().filter(|l| l.starts_with("::error ")).count(),
            10
        );
        assert_eq!(
            lines.iter().filter(|l| l.starts_with("::warning ")).count(),
            10
        );
        assert!(
            out.contains("::error file=a.yaml,line=10,col=3,title=Invalid manifest::error 10\n")
        );
        assert!(!out.contains("error 11"), "{out}");
        assert!(
            out.contains("warning 10") && !out.contains("warning 11"),
            "{out}"
        );
        assert_eq!(
            lines.last().copied(),
            Some(
                "::notice title=More problems::3 more errors and 1 more warning not shown as annotations: GitHub shows 10 of each per step. Every problem is in the step's log."
            )
        );
    }

    #[test]
    fn workflow_commands_within_the_cap_add_no_notice() {
        let annotations: Vec<Annotation> = (1..=10)
            .map(|n| error("a.yaml", n, &format!("error {n}")))
            .collect();
        let out = github_workflow_commands(&annotations);
        assert_eq!(out.lines().count(), 10);
        assert!(!out.contains("::notice"));
    }

    #[test]
    fn origins_split_into_file_line_and_column() {
        let at = |origin| {
            let a = Annotation::at_origin(Severity::Error, origin, "t", "m");
            (a.file, a.line, a.column)
        };
        assert_eq!(
            at("./tenants/a.yaml:3:9"),
            (Some("tenants/a.yaml".into()), 3, 9)
        );
        assert_eq!(
            at(r"C:\repo\a.yaml:3:9"),
            (Some("C:/repo/a.yaml".into()), 3, 9)
        );
        assert_eq!(at("a.yaml"), (Some("a.yaml".into()), 0, 0));
        assert_eq!(at(""), (None, 0, 0));
    }

    #[test]
    fn code_quality_reports_carry_what_gitlab_reads() {
        let report = gitlab_code_quality(&[
            error("a.yaml", 3, "unknown field `x`"),
            error("a.yaml", 9, "unknown field `x`"),
            Annotation {
                severity: Severity::Warning,
                line: 0,
                ..error("b.yaml", 0, "SSL is off")
            },
        ]);
        let issues: serde_json::Value = serde_json::from_str(&report).unwrap();
        let issues = issues.as_array().unwrap();
        assert_eq!(issues.len(), 3);
        assert_eq!(issues[0]["description"], "unknown field `x`");
        assert_eq!(issues[0]["check_name"], "Invalid manifest");
        assert_eq!(issues[0]["severity"], "critical");
        assert_eq!(issues[0]["location"]["path"], "a.yaml");
        assert_eq!(issues[0]["location"]["lines"]["begin"], 3);
        assert_eq!(issues[2]["severity"], "minor");
        assert_eq!(issues[2]["location"]["lines"]["begin"], 1);
        let fingerprints: std::collections::BTreeSet<&str> = issues
            .iter()
            .map(|i| i["fingerprint"].as_str().unwrap())
            .collect();
        assert_eq!(
            fingerprints.len(),
            3,
            "each problem has its own fingerprint, even the same one twice in a file"
        );
        // The same problem, moved to another line, keeps its fingerprint.
        let moved = gitlab_code_quality(&[error("a.yaml", 30, "unknown field `x`")]);
        let moved: serde_json::Value = serde_json::from_str(&moved).unwrap();
        assert_eq!(moved[0]["fingerprint"], issues[0]["fingerprint"]);
    }
}
