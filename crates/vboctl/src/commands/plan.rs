//! `vboctl plan`: validate the manifests, read the server, and show what apply would do.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use vbo_apply::prepare::{self, Prepared};
use vbo_model::Environment;
use vbo_plan::{Desired, Narrowing, Plan, PlanFile, Selector, render};

use crate::commands::Status;
use crate::connection::ConnectionArgs;
use crate::error::CliError;
use crate::ui::{Ui, count};

/// How to show a plan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum PlanFormat {
    /// For people at a terminal.
    #[default]
    Text,
    /// The versioned JSON document described in docs/plan-format.md.
    Json,
    /// For a pull-request comment.
    Markdown,
    /// For GitHub Actions: the text plan, every manifest problem and every error as an
    /// annotation on its file; with GITHUB_STEP_SUMMARY set, the Markdown plan in the job
    /// summary.
    Github,
}

/// Which organizations a plan may touch.
#[derive(Debug, Clone, Args)]
pub(crate) struct ScopeArgs {
    /// Also delete organizations that are on the server but in no manifest.
    #[arg(long)]
    pub(crate) prune: bool,

    /// Allow --prune when the manifests declare no organization (YAML files without documents),
    /// which deletes every organization on the server. A path with no YAML file at all is
    /// always an error.
    #[arg(long, requires = "prune")]
    pub(crate) allow_empty: bool,

    /// Plan only the organization NAME (compared ignoring case); repeat for several. A name no
    /// manifest has is an error, except with --prune when an organization on the server has
    /// it: that organization is then deleted. A narrowed run deletes nothing else and lists
    /// nothing as unmanaged.
    #[arg(long = "target", value_name = "NAME")]
    pub(crate) targets: Vec<String>,

    /// Plan only the manifests whose metadata.labels match SELECTOR: requirements separated by
    /// commas, all of which must hold: key=value, key!=value, 'key in (a,b)',
    /// 'key notin (a,b)', key (the label is set), !key (it is not). With --target, both apply.
    #[arg(short = 'l', long, value_name = "SELECTOR", value_parser = Selector::parse)]
    pub(crate) selector: Option<Selector>,
}

impl ScopeArgs {
    /// The narrowing `--target` and `--selector` ask for, if any.
    pub(crate) fn narrowing(&self) -> Option<Narrowing> {
        (!self.targets.is_empty() || self.selector.is_some()).then(|| Narrowing {
            targets: self.targets.clone(),
            selector: self.selector.clone(),
        })
    }

    /// Whether `--target` or `--selector` is given.
    pub(crate) fn is_narrowed(&self) -> bool {
        !self.targets.is_empty() || self.selector.is_some()
    }
}

/// Show what apply would do: read the manifests, read the server, compare.
///
/// Validates the manifests and checks that every secret they reference can be read, while it
/// logs in and lists the organizations (reading changes nothing on the server), then prints the
/// plan: `+` create, `~` update (only the fields that differ), `-` delete (only with --prune).
/// Organizations in no manifest are listed as unmanaged. Secrets appear as references, never
/// values. Exit code 0 on success, 1 on error; with --detailed-exitcode, 2 when there are
/// changes.
#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    /// Manifest files or directories to read (default: the current directory).
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,

    /// Also save the plan to FILE (mode 0600) for `vboctl apply --plan FILE`.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,

    /// How to show the plan.
    #[arg(long, value_enum, default_value_t)]
    pub(crate) format: PlanFormat,

    /// Exit 0 when there is nothing to do, 2 when there are changes, 1 on error.
    #[arg(long)]
    pub(crate) detailed_exitcode: bool,

    #[command(flatten)]
    pub(crate) scope: ScopeArgs,

    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,
}

pub(crate) async fn run(args: PlanArgs, ui: &Ui) -> Result<Status, CliError> {
    let github = args.format == PlanFormat::Github;
    crate::ci::annotate_failure("plan", github, plan(args, ui).await)
}

async fn plan(args: PlanArgs, ui: &Ui) -> Result<Status, CliError> {
    let environment = args
        .connection
        .environment(&mut |warning| ui.warn(warning))?;
    let annotate = args.format == PlanFormat::Github;
    let prepared = prepare(
        &args.paths,
        &args.scope,
        &args.connection,
        &environment,
        annotate,
        ui,
    )
    .await?;
    let plan = &prepared.plan;
    if plan.has_errors() {
        // Show what could be planned and why the rest could not, but never save a plan that
        // apply would refuse: the note would invite the user to apply it.
        print(plan, args.format, ui);
        let mut message = format!(
            "{} could not be planned",
            count(plan.unplanned(), "organization")
        );
        if let Some(out) = &args.out {
            message.push_str(&format!("; the plan was not saved to {}", out.display()));
        }
        return Err(CliError::message(message));
    }
    if let Some(out) = &args.out {
        let desired = with_absolute_secret_files(&prepared.desired)?;
        save(
            out,
            PlanFile::new(plan.clone(), &desired, &prepared.observed),
        )?;
        ui.note(&format!(
            "Saved the plan to {}. Apply it with: vboctl apply --plan {}",
            out.display(),
            out.display()
        ));
    }
    print(plan, args.format, ui);
    let status = if args.detailed_exitcode && plan.has_changes() {
        Status::ChangesPresent
    } else {
        Status::Success
    };
    let Prepared {
        client,
        desired,
        observed,
        plan,
    } = prepared;
    drop(client);
    // The process ends next: freeing thousands of organizations one by one would only delay
    // the exit. (They hold secret references, never values.)
    std::mem::forget((desired, observed, plan));
    Ok(status)
}

/// The desired organizations with every `fromFile` path made absolute, so that a saved plan
/// can be applied from any folder.
fn with_absolute_secret_files(desired: &[Desired]) -> Result<Vec<Desired>, CliError> {
    let here = std::env::current_dir()
        .map_err(|e| CliError::message(format!("cannot read the current folder: {e}")))?;
    Ok(desired
        .iter()
        .map(|organization| {
            let mut organization = organization.clone();
            organization.spec.rebase_secret_files(&here);
            organization
        })
        .collect())
}

/// Prints a plan on standard output in `format`, as it is rendered.
pub(crate) fn print(plan: &Plan, format: PlanFormat, ui: &Ui) {
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    // A closed standard output (`| head`) is not an error worth reporting.
    let _ = match format {
        PlanFormat::Text => render::write_text(plan, ui.stdout_color, &mut stdout),
        PlanFormat::Json => render::write_json(plan, &mut stdout),
        PlanFormat::Markdown => stdout.write_all(render::markdown(plan).as_bytes()),
        PlanFormat::Github => render::write_text(plan, false, &mut stdout),
    };
    let _ = stdout.flush();
    drop(stdout);
    if format == PlanFormat::Github {
        crate::ci::print_annotations(&render::annotations(plan));
        crate::ci::append_step_summary(&render::markdown(plan), ui);
    }
}

/// Everything before rendering, shared with `apply`: the library's [`vbo_apply::prepare`]
/// steps, with the manifests' diagnostics shown on standard error. Nothing is planned when a
/// manifest is invalid or a secret cannot be read from `environment` or disk, and nothing is
/// ever changed on the server here.
///
/// The login and the list start first and run while the manifests are read (reading changes
/// nothing on the server): at thousands of manifests they then cost no time of their own. A
/// manifest error is reported alone, whatever the server answered meanwhile.
pub(crate) async fn prepare(
    paths: &[PathBuf],
    scope: &ScopeArgs,
    connection: &ConnectionArgs,
    environment: &Environment,
    annotate: bool,
    ui: &Ui,
) -> Result<Prepared, CliError> {
    // The warnings of the connection options are shown after the manifests' diagnostics, and
    // its errors only for valid manifests, as when the connection came second.
    let mut warnings = Vec::new();
    let config = connection.client_config(&mut |warning| warnings.push(warning.to_owned()));
    let reading = config.map(prepare::ServerReading::start);
    let desired = desired_from_manifests(paths, annotate, ui)?;
    tracing::debug!("read and checked {} manifests", desired.len());
    prepare::check_prune(&desired, scope.prune, scope.allow_empty)?;
    let narrowing = scope.narrowing();
    prepare::check_secrets(&desired, narrowing.as_ref(), environment)?;
    for warning in &warnings {
        ui.warn(warning);
    }
    let server = reading?.finish().await?;
    let prepared = prepare::plan_against(server, desired, scope.prune, narrowing);
    tracing::debug!("planned {} changes", prepared.plan.changes.len());
    Ok(prepared)
}

/// Reads and validates the manifests under `paths` (default `.`), printing every diagnostic on
/// standard error, and with `annotate` as GitHub annotations on standard output too; fails when
/// any is an error.
pub(crate) fn desired_from_manifests(
    paths: &[PathBuf],
    annotate: bool,
    ui: &Ui,
) -> Result<Vec<Desired>, CliError> {
    let loaded = prepare::read_manifests(paths);
    if !loaded.diagnostics.is_empty() {
        eprint!("{}", loaded.render(ui.stderr_color));
        if annotate {
            crate::ci::print_diagnostics(&loaded.diagnostics);
        }
    }
    Ok(prepare::desired(loaded)?)
}

/// Writes a saved plan atomically (temporary file, fsync, rename) and readable by its owner
/// only. Refuses plans whose manifests hold literal secrets: a saved plan never holds a value.
fn save(path: &Path, file: PlanFile) -> Result<(), CliError> {
    let literals = file.literal_secrets();
    if !literals.is_empty() {
        let list: Vec<String> = literals
            .iter()
            .map(|l| format!("  {} ({}): spec.{}", l.name, l.origin, l.path))
            .collect();
        return Err(CliError::usage(
            format!(
                "cannot save the plan: a saved plan holds secret references, never values, and these secrets are written in the manifests:\n{}",
                list.join("\n")
            ),
            "use {fromEnv: VAR} or {fromFile: path} for them",
        ));
    }
    if path.is_dir() {
        return Err(CliError::usage(
            format!("cannot save the plan to {}: it is a folder", path.display()),
            "give a file name, for example --out plan.json",
        ));
    }
    let json = file
        .to_json()
        .map_err(|e| CliError::message(format!("cannot save the plan: {e}")))?;
    crate::files::write_private_atomically(path, json.as_bytes())
        .map_err(|e| CliError::message(format!("cannot write the plan to {}: {e}", path.display())))
}
