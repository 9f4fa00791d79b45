//! `vboctl completions SHELL`: the shell completion script, and `vboctl man`: the man pages.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use clap_complete::Shell;

use crate::commands::{Error, Status};

/// Print the completion script for a shell.
///
/// Install it where the shell looks, for example:
/// `vboctl completions bash > ~/.local/share/bash-completion/completions/vboctl`,
/// `vboctl completions zsh > ~/.zfunc/_vboctl` (with `~/.zfunc` in `fpath`),
/// `vboctl completions fish > ~/.config/fish/completions/vboctl.fish`.
#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell: bash, zsh, fish, powershell or elvish.
    #[arg(value_enum)]
    shell: Shell,
}

/// Prints the completion script of `command` for the shell asked.
pub(crate) fn completions(
    args: CompletionsArgs,
    mut command: clap::Command,
) -> Result<Status, Error> {
    let name = command.get_name().to_owned();
    // Generated in memory, then written: the generator panics on a failed write (a closed
    // pipe), and a closed pipe is an error to report, not a crash.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, name, &mut script);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&script)
        .and_then(|()| stdout.flush())
        .map_err(|source| Error::Write {
            path: PathBuf::from("-"),
            source,
        })?;
    Ok(Status::Success)
}

/// Write the man pages: vboctl(1) and one page per subcommand (vboctl-plan(1), ...).
///
/// Install them where `man` looks, for example `vboctl man --out ~/.local/share/man/man1`.
#[derive(Debug, Args)]
pub(crate) struct ManArgs {
    /// The folder to write `vboctl.1`, `vboctl-plan.1`, ... into (created if needed).
    #[arg(long, value_name = "DIR", default_value = ".")]
    out: PathBuf,
}

/// Writes the roff man pages of `command` and of each of its subcommands into `args.out`,
/// naming each file it wrote.
pub(crate) fn man(args: ManArgs, command: clap::Command) -> Result<Status, Error> {
    let write_error = |source| Error::Write {
        path: args.out.clone(),
        source,
    };
    std::fs::create_dir_all(&args.out).map_err(write_error)?;
    let command = command.version(env!("CARGO_PKG_VERSION"));
    let mut pages = vec![("vboctl".to_owned(), command.clone())];
    for sub in command.get_subcommands() {
        if sub.is_hide_set() {
            continue;
        }
        let name = format!("vboctl-{}", sub.get_name());
        let page = sub
            .clone()
            .display_name(name.clone())
            .bin_name(name.clone())
            .version(env!("CARGO_PKG_VERSION"));
        pages.push((name, page));
    }
    let mut stdout = std::io::stdout().lock();
    for (name, page) in pages {
        let path = args.out.join(format!("{name}.1"));
        let mut roff = Vec::new();
        clap_mangen::Man::new(page)
            .render(&mut roff)
            .map_err(write_error)?;
        std::fs::write(&path, roff).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        let _ = writeln!(stdout, "wrote {}", path.display());
    }
    Ok(Status::Success)
}
