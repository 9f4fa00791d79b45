//! `vboctl apply`: carry out a plan, from manifests (after confirmation) or from a saved plan.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use owo_colors::OwoColorize;
use serde::Serialize;
use vbo_apply::prepare;
use vbo_apply::{ApplyOptions, Scope, StepKind, StepOutcome, StepResult, Tally};
use vbo_client::{ApiVersionChoice, Client, server_url};
use vbo_model::Environment;
use vbo_model::Severity;
use vbo_model::annotation::Annotation;
use vbo_plan::{Action, Desired, Plan, render};

use crate::ci::ReportRow;
use crate::commands::Status;
use crate::commands::plan::{ScopeArgs, prepare};
use crate::commands::show::read_plan_file;
use crate::connection::ConnectionArgs;
use crate::error::CliError;
use crate::interrupt;
use crate::ui::{Ui, count, printable};

/// How to report an apply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum ApplyFormat {
    /// A line per finished change and a summary, for people.
    #[default]
    Text,
    /// One JSON document with every change's result and the summary, for tools.
    Json,
    /// For GitHub Actions: the text report, with every manifest problem, plan error, failed
    /// change and unconverged organization as an annotation; with GITHUB_STEP_SUMMARY set, the
    /// report as a table in the job summary.
    Github,
}

/// Carry out a plan: create what is missing and, when asked, update and delete.
///
/// From manifests, plans exactly as `vboctl plan` does, shows the plan and asks for `yes` on a
/// terminal (without one it refuses unless --auto-approve). From a saved plan (--plan FILE), it
/// applies without a prompt after checking that the server has not changed since. Changes run
/// concurrently, each reported as it finishes; the result is verified by planning again. A create
/// whose answer is lost or late is never sent twice blindly, so re-running after any failure
/// converges. Ctrl-C stops starting changes, lets those in flight finish and reports what was
/// not started; a second Ctrl-C stops at once. Exit code 0 when every change applied and
/// verified, 130 when interrupted, 1 otherwise.
#[derive(Debug, Args)]
pub(crate) struct ApplyArgs {
    /// Manifest files or directories to read (default: the current directory).
    #[arg(value_name = "PATH", conflicts_with = "plan")]
    pub(crate) paths: Vec<PathBuf>,

    /// Apply a plan saved with `vboctl plan --out FILE` instead of planning now. It is applied
    /// without a prompt, and refused if the server changed since it was made.
    #[arg(long, value_name = "FILE")]
    pub(crate) plan: Option<PathBuf>,

    /// Apply without asking for confirmation.
    #[arg(long)]
    pub(crate) auto_approve: bool,

    /// Only create organizations: updates and deletes are shown but skipped.
    #[arg(long)]
    pub(crate) create_only: bool,

    /// How many changes to carry out at once.
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub(crate) parallelism: u16,

    /// How to report the result.
    #[arg(long, value_enum, default_value_t)]
    pub(crate) format: ApplyFormat,

    #[command(flatten)]
    pub(crate) scope: ScopeArgs,

    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,
}

pub(crate) async fn run(args: ApplyArgs, ui: &Ui) -> Result<Status, CliError> {
    let github = args.format == ApplyFormat::Github;
    crate::ci::annotate_failure("apply", github, apply(args, ui).await)
}

async fn apply(args: ApplyArgs, ui: &Ui) -> Result<Status, CliError> {
    // Read once: the secrets are checked before planning and read again, from the same
    // environment and file, just before each request.
    let environment = args
        .connection
        .environment(&mut |warning| ui.warn(warning))?;
    let (client, plan, desired) = match &args.plan {
        Some(path) => {
            if args.scope.prune {
                return Err(CliError::usage(
                    "--prune cannot be combined with --plan",
                    "a saved plan deletes what it was planned to delete: plan again with --prune to include deletes",
                ));
            }
            if args.scope.is_narrowed() {
                return Err(CliError::usage(
                    "--target and --selector cannot be combined with --plan",
                    "a saved plan applies exactly the changes it lists, narrowed as it was planned: plan again with --target or --selector to narrow it",
                ));
            }
            from_saved_plan(path, &args.connection, &environment, ui).await?
        }
        None => {
            let annotate = args.format == ApplyFormat::Github;
            let prepared = prepare(
                &args.paths,
                &args.scope,
                &args.connection,
                &environment,
                annotate,
                ui,
            )
            .await?;
            show_plan(&prepared.plan, args.format, ui);
            refuse_errors(&prepared.plan)?;
            if will_change(&prepared.plan, args.create_only) {
                confirm(&prepared.plan, args.auto_approve, args.create_only, ui)?;
            }
            (prepared.client, prepared.plan, prepared.desired)
        }
    };
    let scope = if args.create_only {
        Scope::CreateOnly
    } else {
        Scope::All
    };
    let options = ApplyOptions {
        parallelism: usize::from(args.parallelism),
        // A request sent just before Ctrl-C may take this long to be answered.
        grace: Duration::from_secs(args.connection.request_timeout.max(1)),
        environment,
        ..ApplyOptions::default()
    };
    execute(&client, &plan, &desired, scope, options, args.format, ui).await
}

/// Reads a saved plan and checks that it still describes the server: same server, every
/// organization it saw unchanged, no new one.
async fn from_saved_plan(
    path: &PathBuf,
    connection: &ConnectionArgs,
    environment: &Environment,
    ui: &Ui,
) -> Result<(Client, Plan, Vec<Desired>), CliError> {
    let file = read_plan_file(path)?;
    refuse_errors(&file.plan)?;
    let mut connection = connection.clone();
    match connection.server() {
        Some(server) => {
            let given = server_url(&server)?;
            let planned = server_url(&file.server)?;
            if given != planned {
                return Err(CliError::usage(
                    format!(
                        "the plan was made for {} but the server given (--server or VBOCTL_SERVER) is {}",
                        file.server,
                        given.as_str().trim_end_matches('/')
                    ),
                    "apply a plan to the server it was made for (without --server or VBOCTL_SERVER, the plan's own server is used), or plan again against this one",
                ));
            }
        }
        None => connection.server = Some(file.server.clone()),
    }
    prepare::check_secrets(&file.desired, None, environment)?;
    let mut config = connection.client_config(&mut |warning| ui.warn(warning))?;
    let planned_version = file.plan.api_version;
    match config.api_version {
        ApiVersionChoice::Exactly(asked) if asked != planned_version => {
            return Err(CliError::usage(
                format!(
                    "the plan was made in REST API {planned_version}, but --api-version \
                     (VBOCTL_API_VERSION) asks for {asked}"
                ),
                "apply a plan in the version it was made in, or plan again in this one",
            ));
        }
        _ => config.api_version = ApiVersionChoice::Exactly(planned_version),
    }
    let client = Client::connect(config).await.map_err(|error| match error {
        vbo_client::ClientError::VersionNotServed { .. } => CliError::usage(
            format!("refusing to apply {}: {error}", path.display()),
            "the plan was made in another REST API version than the server now serves: plan again",
        ),
        other => other.into(),
    })?;
    let observed = client.list().await?;
    let staleness = file.staleness(&observed);
    if !staleness.is_fresh() {
        let mut lines = Vec::new();
        for (label, names) in [
            ("added", &staleness.added),
            ("changed", &staleness.changed),
            ("removed", &staleness.removed),
        ] {
            for name in names {
                lines.push(format!("  {label} since the plan: {}", printable(name)));
            }
        }
        if lines.is_empty() {
            lines.push("  the list of organizations changed".to_owned());
        }
        return Err(CliError::usage(
            format!(
                "refusing to apply a stale plan: the server changed since {} was made\n{}",
                path.display(),
                lines.join("\n")
            ),
            "run `vboctl plan --out FILE` again and review the new plan",
        ));
    }
    Ok((client, file.plan, file.desired))
}

fn refuse_errors(plan: &Plan) -> Result<(), CliError> {
    if plan.has_errors() {
        return Err(CliError::message(format!(
            "refusing to apply: {} could not be planned; nothing was changed",
            count(plan.unplanned(), "organization")
        )));
    }
    Ok(())
}

/// Shows the plan: on standard output for text, on standard error when standard output carries
/// the JSON report.
fn show_plan(plan: &Plan, format: ApplyFormat, ui: &Ui) {
    let _ = match format {
        ApplyFormat::Text => write_plan(plan, ui.stdout_color, std::io::stdout().lock()),
        ApplyFormat::Json => write_plan(plan, ui.stderr_color, std::io::stderr().lock()),
        ApplyFormat::Github => {
            let written = write_plan(plan, false, std::io::stdout().lock());
            crate::ci::print_annotations(&render::annotations(plan));
            written
        }
    };
}

/// Writes the text plan to `out` as it is rendered.
fn write_plan(plan: &Plan, colored: bool, out: impl Write) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(out);
    render::write_text(plan, colored, &mut out)?;
    out.flush()
}

/// Whether applying `plan` would change the server: with `--create-only` only its creates
/// count, so a run that would skip everything needs no confirmation.
fn will_change(plan: &Plan, create_only: bool) -> bool {
    if create_only {
        plan.actionable().any(|c| c.action == Action::Create)
    } else {
        plan.has_changes()
    }
}

/// Asks for `yes` on a terminal; refuses without one unless `--auto-approve`.
fn confirm(plan: &Plan, auto_approve: bool, create_only: bool, ui: &Ui) -> Result<(), CliError> {
    if auto_approve {
        return Ok(());
    }
    if !ui.stdin_terminal {
        let why = if ui.ci {
            "the CI variable is set"
        } else {
            "standard input is not a terminal"
        };
        return Err(CliError::usage(
            format!("refusing to apply without confirmation: {why}"),
            "review the plan above and pass --auto-approve, or save it with `vboctl plan --out FILE` and apply that with `vboctl apply --plan FILE`",
        ));
    }
    let deletes: Vec<&str> = plan
        .actionable()
        .filter(|c| c.action == Action::Delete)
        .map(|c| c.name.as_str())
        .collect();
    if create_only {
        let skipped = plan
            .actionable()
            .filter(|c| c.action != Action::Create)
            .count();
        if skipped > 0 {
            eprintln!();
            eprintln!(
                "With --create-only, only the creates are made; {} shown above {} skipped.",
                count(skipped, "other change"),
                if skipped == 1 { "is" } else { "are" }
            );
        }
    } else if !deletes.is_empty() {
        eprintln!();
        eprintln!("These organizations will be DELETED from the server:");
        for name in &deletes {
            eprintln!("  - {}", printable(name));
        }
    }
    eprintln!();
    eprint!("Apply these changes? Only 'yes' is accepted: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::message(format!("cannot read the answer: {e}")))?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(CliError::message("apply cancelled; nothing was changed"))
    }
}

/// The JSON report of `apply --format json`.
#[derive(Serialize)]
struct Report {
    format_version: &'static str,
    server: String,
    /// Whether Ctrl-C stopped the run: the changes `not-started` were never sent.
    interrupted: bool,
    results: Vec<ResultEntry>,
    skipped: Vec<String>,
    unconverged: Vec<String>,
    summary: Summary,
}

#[derive(Serialize)]
struct ResultEntry {
    address: String,
    name: String,
    action: &'static str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    attempts: u32,
    duration_ms: u128,
}

/// The counts of the JSON report, as [`Tally`] has them.
#[derive(Serialize)]
struct Summary {
    created: usize,
    created_elsewhere: usize,
    updated: usize,
    deleted: usize,
    failed: usize,
    skipped: usize,
    not_started: usize,
}

async fn execute(
    client: &Client,
    plan: &Plan,
    desired: &[Desired],
    scope: Scope,
    options: ApplyOptions,
    format: ApplyFormat,
    ui: &Ui,
) -> Result<Status, CliError> {
    let text = format != ApplyFormat::Json;
    let changes = plan.actionable().count();
    if changes == 0 {
        if format == ApplyFormat::Json {
            print_report(client, &[], &[], &[], false);
        } else {
            println!("Nothing to apply.");
        }
        return Ok(Status::Success);
    }
    let starts = match scope {
        Scope::All => changes,
        Scope::CreateOnly => plan
            .actionable()
            .filter(|c| c.action == Action::Create)
            .count(),
    };
    let progress = (format == ApplyFormat::Text && ui.stderr_terminal && starts > 0).then(|| {
        let bar = ProgressBar::new(starts as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} changes {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    // From here on Ctrl-C no longer ends the process: it stops the run in an orderly way.
    interrupt::watch(options.cancel.clone(), *ui);
    let applied = vbo_apply::apply_plan(client, plan, desired, scope, &options, |result| {
        if text {
            let line = result_line(result, ui.stdout_color);
            match &progress {
                Some(bar) => {
                    bar.suspend(|| println!("{line}"));
                    bar.inc(1);
                }
                None => println!("{line}"),
            }
        }
    })
    .await
    .map_err(|e| CliError::message(format!("cannot apply the plan: {e}")))?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let vbo_apply::Applied {
        results,
        skipped,
        unconverged,
        interrupted,
    } = applied;

    let summary = summarize(&results, skipped.len());
    if format == ApplyFormat::Github {
        report_on_github(
            client,
            plan,
            &results,
            &summary,
            &unconverged,
            interrupted,
            ui,
        );
    }
    if format == ApplyFormat::Json {
        print_report(client, &results, &skipped, &unconverged, interrupted);
    } else {
        for address in &skipped {
            println!("  skipped {address} (--create-only)");
        }
        println!("{}", summary_line(&summary, interrupted));
        for problem in &unconverged {
            ui.error(&printable(problem), None);
        }
    }
    if interrupted {
        ui.error(
            &format!(
                "apply was interrupted: {} not started, {} failed",
                count(summary.not_started, "change"),
                count(summary.failed, "change")
            ),
            Some("run apply again: it plans anew and carries on from where this run stopped"),
        );
        return Ok(Status::Interrupted);
    }
    let failed = results.iter().filter(|r| !r.outcome.is_success()).count();
    if failed == 0 && unconverged.is_empty() {
        Ok(Status::Success)
    } else {
        Err(CliError::usage(
            format!(
                "apply did not complete: {} failed, {} not converged",
                count(failed, "change"),
                count(unconverged.len(), "organization")
            ),
            "fix what is reported above and run apply again: it carries on from where this run stopped",
        ))
    }
}

/// The annotations and the step summary of `--format github`: each failed change at its
/// manifest, each unconverged organization, and the report as a table.
fn report_on_github(
    client: &Client,
    plan: &Plan,
    results: &[StepResult],
    summary: &Summary,
    unconverged: &[String],
    interrupted: bool,
    ui: &Ui,
) {
    let mut annotations = Vec::new();
    for result in results {
        if let StepOutcome::Failed { message } = &result.outcome {
            let origin = plan
                .changes
                .iter()
                .find(|change| change.address == result.step.address)
                .and_then(|change| change.origin.as_deref())
                .unwrap_or("");
            annotations.push(Annotation::at_origin(
                Severity::Error,
                origin,
                format!(
                    "Cannot {} {}",
                    result.step.action(),
                    printable(&result.step.name)
                ),
                printable(message),
            ));
        }
    }
    for problem in unconverged {
        annotations.push(Annotation::at_origin(
            Severity::Error,
            "",
            "Not converged",
            printable(problem),
        ));
    }
    crate::ci::print_annotations(&annotations);
    let rows: Vec<ReportRow> = results
        .iter()
        .map(|result| {
            let (glyph, outcome) = result_parts(result);
            ReportRow {
                glyph: glyph.unwrap_or(' '),
                name: result.step.name.clone(),
                outcome,
            }
        })
        .collect();
    crate::ci::append_step_summary(
        &crate::ci::apply_summary(
            client.server(),
            &summary_line(summary, interrupted),
            &rows,
            unconverged,
        ),
        ui,
    );
}

fn summarize(results: &[StepResult], skipped: usize) -> Summary {
    let tally = Tally::of(results, skipped);
    Summary {
        created: tally.created,
        created_elsewhere: tally.created_elsewhere,
        updated: tally.updated,
        deleted: tally.deleted,
        failed: tally.failed,
        skipped: tally.skipped,
        not_started: tally.not_started,
    }
}

fn summary_line(summary: &Summary, interrupted: bool) -> String {
    let mut line = format!(
        "Apply {}: {} created, {} updated, {} deleted, {} failed.",
        if interrupted {
            "interrupted"
        } else {
            "complete"
        },
        summary.created,
        summary.updated,
        summary.deleted,
        summary.failed
    );
    for (n, what) in [
        (summary.created_elsewhere, "created elsewhere"),
        (summary.not_started, "not started"),
        (summary.skipped, "skipped"),
    ] {
        if n > 0 {
            line.push_str(&format!(" {n} {what}."));
        }
    }
    line
}

fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

/// `+ created contoso.onmicrosoft.com (id …) 1.2s`, `x failed fabrikam.com: <message>`.
fn result_line(result: &StepResult, colored: bool) -> String {
    let (glyph, text) = result_parts(result);
    match glyph {
        // Nothing was sent: no glyph, as for the changes --create-only skips.
        None => format!("  {text}"),
        Some(glyph) if !colored => format!("{glyph} {text}"),
        Some(glyph @ '+') => format!("{} {text}", glyph.green().bold()),
        Some(glyph @ '~') => format!("{} {text}", glyph.yellow().bold()),
        Some(glyph) => format!("{} {text}", glyph.red().bold()),
    }
}

/// The glyph of a result (none for a change not started) and what happened, in words.
fn result_parts(result: &StepResult) -> (Option<char>, String) {
    let name = printable(&result.step.name);
    let took = seconds(result.duration);
    let (glyph, text) = match &result.outcome {
        StepOutcome::Created { id, .. } => {
            let id = printable(id);
            ('+', format!("created {name} (id {id}) {took}"))
        }
        StepOutcome::Adopted { id, .. } => (
            '+',
            format!(
                "created {name} (id {}) {took}; found on the server after an answer was lost, not created twice",
                printable(id)
            ),
        ),
        StepOutcome::CreatedElsewhere { id, .. } => (
            '+',
            format!(
                "created elsewhere {name} (id {}) {took}; made meanwhile by someone else, as the manifest describes it",
                printable(id)
            ),
        ),
        StepOutcome::Updated => ('~', format!("updated {name} {took}")),
        StepOutcome::Deleted => ('-', format!("deleted {name} {took}")),
        StepOutcome::Failed { message } => ('x', format!("failed {name}: {}", printable(message))),
        StepOutcome::NotStarted => {
            return (
                None,
                format!("not started: {} {name}", result.step.action()),
            );
        }
    };
    (Some(glyph), text)
}

fn print_report(
    client: &Client,
    results: &[StepResult],
    skipped: &[String],
    unconverged: &[String],
    interrupted: bool,
) {
    let report = Report {
        // 1.1 added `interrupted`, the statuses `created-elsewhere` and `not-started`, and
        // their counts in the summary.
        format_version: "1.1",
        server: client.server().to_owned(),
        interrupted,
        results: results.iter().map(entry).collect(),
        skipped: skipped.to_vec(),
        unconverged: unconverged.to_vec(),
        summary: summarize(results, skipped.len()),
    };
    // Strings, numbers and booleans only: serializing cannot fail.
    let json = serde_json::to_string_pretty(&report).unwrap_or_default();
    println!("{json}");
}

fn entry(result: &StepResult) -> ResultEntry {
    let (id, server_name, message) = match &result.outcome {
        StepOutcome::Created { id, server_name }
        | StepOutcome::Adopted { id, server_name }
        | StepOutcome::CreatedElsewhere { id, server_name } => {
            (Some(id.clone()), Some(server_name.clone()), None)
        }
        StepOutcome::Updated | StepOutcome::Deleted | StepOutcome::NotStarted => {
            (step_id(&result.step.kind), None, None)
        }
        StepOutcome::Failed { message } => {
            (step_id(&result.step.kind), None, Some(message.clone()))
        }
    };
    ResultEntry {
        address: result.step.address.clone(),
        name: result.step.name.clone(),
        action: result.step.action(),
        status: result.outcome.label(),
        id,
        server_name,
        message,
        attempts: result.attempts,
        duration_ms: result.duration.as_millis(),
    }
}

fn step_id(kind: &StepKind) -> Option<String> {
    match kind {
        StepKind::Update { id, .. } | StepKind::Delete { id } => Some(id.clone()),
        StepKind::Create { .. } => None,
    }
}
