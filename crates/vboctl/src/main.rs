//! `vboctl`: manage the organizations of a Veeam Backup for Microsoft Office 365 server from
//! YAML manifests kept in git.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod commands;

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
    /// Run an emulator of the server's REST API v3, to try vboctl without a real server.
    Emulator(Box<commands::emulator::EmulatorArgs>),
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
        Command::Emulator(args) => commands::emulator::run(*args),
    }
}
