//! `vboctl validate`: every problem in every manifest, in one run.

use std::io::Write as _;
use std::path::PathBuf;

use vbo_model::annotation::{Annotation, gitlab_code_quality};
use vbo_model::{Loaded, Severity};

use super::{Error, Status};
use crate::ui::count;

/// Check manifests: YAML syntax, the schema, and the rules between fields.
///
/// Reports every problem of every file in one run, each at its file:line:column: YAML syntax
/// errors, unknown or misspelt fields, wrong types and values, the rules between fields, and
/// names used twice. Nothing is sent to the server and secrets are not resolved: the variables
/// and files that `fromEnv` and `fromFile` name need not exist.
///
/// Exit code 0 when the manifests are valid (warnings allowed unless --strict), 1 otherwise.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Files or folders to check. Folders are searched for *.yaml and *.yml files, skipping
    /// hidden ones.
    #[arg(value_name = "PATH", default_value = ".")]
    paths: Vec<PathBuf>,
    /// Treat warnings (literal secrets, SSL off, skipped certificate checks) as errors.
    #[arg(long)]
    strict: bool,
    /// How to report the problems.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// How `validate` reports.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Format {
    /// For people: each problem with the offending source line, then a summary.
    Text,
    /// For tools: an array of `{file, line, column, severity, message}` objects, with `hint`
    /// when there is one.
    Json,
    /// For GitHub Actions: each problem as an annotation on the file (workflow commands), then
    /// the summary; with GITHUB_STEP_SUMMARY set, a table of the problems in the job summary.
    Github,
    /// For GitLab: a Code Quality report (JSON) to save as the job's
    /// `artifacts:reports:codequality`, so problems show in the merge request.
    Gitlab,
}

pub(crate) fn run(args: Args, ui: &crate::ui::Ui) -> Result<Status, Error> {
    let loaded = vbo_model::load(&args.paths);
    let failed = loaded.has_errors(args.strict);
    let stdout_error = |source| Error::Write {
        path: "-".into(),
        source,
    };
    match args.format {
        Format::Json => {
            let mut text = serde_json::to_string_pretty(&loaded.diagnostics)?;
            text.push('\n');
            std::io::stdout()
                .write_all(text.as_bytes())
                .map_err(stdout_error)?;
        }
        Format::Gitlab => {
            let annotations: Vec<Annotation> =
                loaded.diagnostics.iter().map(Annotation::from).collect();
            std::io::stdout()
                .write_all(gitlab_code_quality(&annotations).as_bytes())
                .map_err(stdout_error)?;
        }
        Format::Github => {
            let verdict = verdict(&loaded, failed, args.strict);
            crate::ci::print_diagnostics(&loaded.diagnostics);
            println!("{verdict}");
            crate::ci::append_step_summary(
                &crate::ci::validation_summary(&verdict, &loaded.diagnostics),
                ui,
            );
        }
        Format::Text => {
            let mut out = anstream::stdout();
            write!(out, "{}", loaded.render(ui.stdout_color)).map_err(stdout_error)?;
            writeln!(out, "{}", verdict(&loaded, failed, args.strict)).map_err(stdout_error)?;
        }
    }
    Ok(if failed {
        Status::Failure
    } else {
        Status::Success
    })
}

/// `valid: 3 organizations in 2 files, 0 warnings` or `invalid: 1 error, 2 warnings`.
fn verdict(loaded: &Loaded, failed: bool, strict: bool) -> String {
    let errors = loaded.count(Severity::Error);
    let warnings = loaded.count(Severity::Warning);
    if failed {
        format!(
            "invalid: {}, {}{}",
            count(errors, "error"),
            count(warnings, "warning"),
            if strict && errors == 0 {
                " (--strict makes warnings errors)"
            } else {
                ""
            }
        )
    } else {
        format!(
            "valid: {} in {}, {}",
            count(loaded.documents.len(), "organization"),
            count(loaded.files.len(), "file"),
            count(warnings, "warning"),
        )
    }
}
