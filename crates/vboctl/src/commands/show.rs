//! `vboctl show`: render a saved plan.

use std::path::PathBuf;

use clap::Args;
use vbo_plan::PlanFile;

use crate::commands::Status;
use crate::commands::plan::{PlanFormat, print};
use crate::error::CliError;
use crate::ui::Ui;

/// Render a plan saved with `vboctl plan --out FILE`, as text, JSON, Markdown or for GitHub
/// Actions.
#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// A plan saved with `vboctl plan --out FILE`.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,

    /// How to show the plan.
    #[arg(long, value_enum, default_value_t)]
    pub(crate) format: PlanFormat,
}

pub(crate) fn run(args: ShowArgs, ui: &Ui) -> Result<Status, CliError> {
    let file = read_plan_file(&args.file)?;
    print(&file.plan, args.format, ui);
    Ok(Status::Success)
}

/// Reads and parses a saved plan.
pub(crate) fn read_plan_file(path: &PathBuf) -> Result<PlanFile, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::message(format!("cannot read the plan {}: {e}", path.display())))?;
    PlanFile::from_json(&text).map_err(|e| {
        CliError::message(format!(
            "{} is not a usable saved plan: {e}",
            path.display()
        ))
        .with_hint("save a plan with `vboctl plan --out FILE`")
    })
}
