//! `vboctl`: manage the organizations of a Veeam Backup for Microsoft 365 server from
//! YAML manifests kept in git.
//!
//! This file only parses arguments, dispatches to [`commands`] and maps outcomes to exit codes:
//! 0 success, 1 any error (usage errors included), 2 only for `plan --detailed-exitcode` when
//! there are changes, 130 when Ctrl-C interrupted `apply` (or a second signal stopped `agent`
//! at once).

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

mod ci;
mod commands;
mod connection;
mod error;
mod files;
mod interrupt;
mod logging;
mod ui;

use commands::Status;
use error::CliError;
use ui::Ui;

/// jemalloc, configured at build time (`.cargo/config.toml`) with a single arena that hands
/// back memory freed for 100 ms: plan holds every manifest and every organization of the
/// server at once, and one arena shared by all threads keeps what the threads that read them
/// freed for the threads that plan.
#[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Manage the organizations of a Veeam Backup for Microsoft 365 server from YAML
/// manifests kept in git: validate them, plan against the server's REST API (v8, v7, v6 or v3,
/// detected), and apply.
#[derive(Debug, Parser)]
#[command(name = "vboctl", version = env!("VBOCTL_VERSION"), about)]
struct Cli {
    /// Never colour the output (NO_COLOR is respected too).
    #[arg(long, global = true)]
    no_color: bool,

    #[command(subcommand)]
    command: Command,
}

/// The subcommands; each one's help text is the doc comment of its `Args`.
#[derive(Debug, Subcommand)]
enum Command {
    Validate(commands::validate::Args),
    Plan(Box<commands::plan::PlanArgs>),
    Apply(Box<commands::apply::ApplyArgs>),
    Agent(Box<commands::agent::AgentArgs>),
    Show(commands::show::ShowArgs),
    Export(Box<commands::export::ExportArgs>),
    ServerCert(commands::server_cert::ServerCertArgs),
    Schema(commands::schema::Args),
    Emulator(Box<commands::emulator::EmulatorArgs>),
    Demo(commands::demo::DemoArgs),
    Completions(commands::completions::CompletionsArgs),
    Man(commands::completions::ManArgs),
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
    let ui = Ui::detect(cli.no_color);
    let default_log_level = match cli.command {
        Command::Emulator(_) => "info",
        _ => "warn",
    };
    match &cli.command {
        Command::Agent(args) => logging::init_agent(
            ui.stderr_color,
            args.log_format == commands::agent::LogFormat::Json,
        ),
        _ => logging::init(ui.stderr_color, default_log_level),
    }
    let result = match cli.command {
        Command::Validate(args) => commands::validate::run(args, &ui).map_err(CliError::from),
        Command::Schema(args) => commands::schema::run(args).map_err(CliError::from),
        Command::Show(args) => commands::show::run(args, &ui),
        Command::Plan(args) => block_on(commands::plan::run(*args, &ui)),
        Command::Apply(args) => block_on(commands::apply::run(*args, &ui)),
        Command::Agent(args) => block_on(commands::agent::run(*args, &ui)),
        Command::Export(args) => block_on(commands::export::run(*args, &ui)),
        Command::ServerCert(args) => block_on(commands::server_cert::run(args)),
        Command::Emulator(args) => commands::emulator::run(*args),
        Command::Demo(args) => commands::demo::run(args, &ui),
        Command::Completions(args) => {
            commands::completions::completions(args, Cli::command()).map_err(CliError::from)
        }
        Command::Man(args) => {
            commands::completions::man(args, Cli::command()).map_err(CliError::from)
        }
    };
    match result {
        Ok(Status::Success) => ExitCode::SUCCESS,
        Ok(Status::Failure) => ExitCode::FAILURE,
        Ok(Status::ChangesPresent) => ExitCode::from(2),
        Ok(Status::Interrupted) => ExitCode::from(interrupt::EXIT_CODE),
        Err(error) => {
            ui.error(&error.to_string(), error.hint());
            ExitCode::FAILURE
        }
    }
}

/// Runs an async command on a fresh multi-threaded runtime.
fn block_on(future: impl Future<Output = Result<Status, CliError>>) -> Result<Status, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::message(format!("cannot start the async runtime: {e}")))?
        .block_on(future)
}
