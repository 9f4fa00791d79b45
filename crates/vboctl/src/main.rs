//! `vboctl`: manage the organizations of a Veeam Backup for Microsoft Office 365 server from
//! YAML manifests kept in git.
//!
//! This file only parses arguments, dispatches to [`commands`] and maps outcomes to exit codes:
//! 0 success, 1 any error (usage errors included). Exit code 2 is kept for
//! `plan --detailed-exitcode`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod commands;

use commands::Status;

/// Manage the organizations of a Veeam Backup for Microsoft Office 365 server from YAML
/// manifests kept in git.
#[derive(Debug, Parser)]
#[command(name = "vboctl", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands; each one's help text is the doc comment of its `Args`.
#[derive(Debug, Subcommand)]
enum Command {
    Validate(commands::validate::Args),
    Schema(commands::schema::Args),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            // Help and version are successes; every usage error is 1, not clap's 2.
            return if error.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Validate(args) => commands::validate::run(args),
        Command::Schema(args) => commands::schema::run(args),
    };
    match result {
        Ok(Status::Success) => ExitCode::SUCCESS,
        Ok(Status::Failure) => ExitCode::FAILURE,
        Err(error) => {
            anstream::eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
