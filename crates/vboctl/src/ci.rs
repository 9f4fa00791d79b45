//! What `--format github` adds to a command: annotations on standard output and, when
//! `GITHUB_STEP_SUMMARY` names a file, a Markdown report appended to the job's summary.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

use vbo_model::annotation::{Annotation, escape_data, escape_property, github_workflow_commands};
use vbo_model::text::markdown_escape;
use vbo_model::{Diagnostic, Severity};

use crate::error::CliError;
use crate::ui::{Ui, count};

/// The variable GitHub Actions sets to the file a step appends its summary to.
const STEP_SUMMARY: &str = "GITHUB_STEP_SUMMARY";

/// The most characters appended to a step summary: GitHub refuses summaries over 1 MiB.
const STEP_SUMMARY_LIMIT: usize = 900_000;

/// Whether this run has printed an annotation: its failure is then explained already, and one
/// more error annotation would only take one of the ten GitHub shows.
static ANNOTATED: AtomicBool = AtomicBool::new(false);

/// Prints `annotations` as GitHub workflow commands on standard output.
pub(crate) fn print_annotations(annotations: &[Annotation]) {
    if !annotations.is_empty() {
        ANNOTATED.store(true, Ordering::Relaxed);
    }
    let commands = github_workflow_commands(annotations);
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(commands.as_bytes());
    let _ = stdout.flush();
}

/// Prints the diagnostics of manifests as GitHub workflow commands.
pub(crate) fn print_diagnostics(diagnostics: &[Diagnostic]) {
    let annotations: Vec<Annotation> = diagnostics.iter().map(Annotation::from).collect();
    print_annotations(&annotations);
}

/// `result` as it is, after printing its error as an annotation when `github` is set: a failure
/// to connect or to apply then shows on the run's page and not only in its log.
pub(crate) fn annotate_failure<T>(
    command: &str,
    github: bool,
    result: Result<T, CliError>,
) -> Result<T, CliError> {
    if github && let Err(error) = &result {
        print_failure(command, error);
    }
    result
}

/// Prints the error a command ends with as one error annotation; nothing when the run has
/// annotated its problems already.
fn print_failure(command: &str, error: &CliError) {
    if ANNOTATED.load(Ordering::Relaxed) {
        return;
    }
    let mut message = error.to_string();
    if let Some(hint) = error.hint() {
        message.push_str("\nhint: ");
        message.push_str(hint);
    }
    println!(
        "::error title={}::{}",
        escape_property(&format!("vboctl {command} failed")),
        escape_data(&message)
    );
}

/// Appends `markdown` to the file `GITHUB_STEP_SUMMARY` names, if it names one; a file that
/// cannot be written is a warning, never a failure of the command.
pub(crate) fn append_step_summary(markdown: &str, ui: &Ui) {
    let Some(path) = std::env::var_os(STEP_SUMMARY).filter(|path| !path.is_empty()) else {
        return;
    };
    let text = if markdown.len() > STEP_SUMMARY_LIMIT {
        let mut cut = STEP_SUMMARY_LIMIT;
        while !markdown.is_char_boundary(cut) {
            cut -= 1;
        }
        format!(
            "{}\n\n**The rest is left out: a step summary holds at most 1 MiB. The step's log has everything.**\n",
            &markdown[..cut]
        )
    } else {
        markdown.to_owned()
    };
    let written = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .and_then(|mut file| file.write_all(format!("{text}\n").as_bytes()));
    if let Err(error) = written {
        ui.warn(&format!(
            "cannot append to the step summary {} ({STEP_SUMMARY}): {error}",
            std::path::Path::new(&path).display()
        ));
    }
}

/// The Markdown step summary of `vboctl validate`: the verdict and a table of the problems.
pub(crate) fn validation_summary(verdict: &str, diagnostics: &[Diagnostic]) -> String {
    let mut out = format!("### vboctl validate\n\n**{}**\n", markdown_escape(verdict));
    if diagnostics.is_empty() {
        return out;
    }
    out.push_str("\n| | Where | Problem |\n|---|---|---|\n");
    for diagnostic in diagnostics {
        let mark = match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out.push_str(&format!(
            "| {mark} | <code>{}</code> | {} |\n",
            markdown_escape(&diagnostic.location()),
            markdown_escape(&diagnostic.message)
        ));
    }
    out
}

/// One row of an apply report's table: the glyph, the organization, what happened.
pub(crate) struct ReportRow {
    pub(crate) glyph: char,
    pub(crate) name: String,
    pub(crate) outcome: String,
}

/// The Markdown step summary of `vboctl apply`: the summary line, a table of the changes and
/// the problems found when verifying.
pub(crate) fn apply_summary(
    server: &str,
    summary_line: &str,
    rows: &[ReportRow],
    unconverged: &[String],
) -> String {
    let mut out = format!(
        "### vboctl apply\n\nServer: <code>{}</code>\n\n**{}**\n",
        markdown_escape(server),
        markdown_escape(summary_line)
    );
    if !rows.is_empty() {
        out.push_str("\n| | Organization | Result |\n|---|---|---|\n");
        for row in rows {
            out.push_str(&format!(
                "| {} | <code>{}</code> | {} |\n",
                row.glyph,
                markdown_escape(&row.name),
                markdown_escape(&row.outcome)
            ));
        }
    }
    if !unconverged.is_empty() {
        out.push_str(&format!(
            "\n**Not converged: {}**\n\n",
            count(unconverged.len(), "organization")
        ));
        for problem in unconverged {
            out.push_str(&format!("- {}\n", markdown_escape(problem)));
        }
    }
    out
}
