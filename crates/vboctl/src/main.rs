//! `vboctl`: manage the organizations of a Veeam Backup for Microsoft Office 365 server from
//! YAML manifests kept in git.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Manage the organizations of a Veeam Backup for Microsoft Office 365 server from YAML
/// manifests kept in git.
#[derive(Debug, Parser)]
#[command(name = "vboctl", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the JSON Schema of a manifest document.
    Schema,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Schema => {
            let schema = vbo_model::schema::manifest_schema();
            println!(
                "{}",
                serde_json::to_string_pretty(&schema).expect("valid JSON")
            );
            ExitCode::SUCCESS
        }
    }
}
