//! Where output goes and how it looks: colour only on a terminal, never with `NO_COLOR`,
//! `--no-color` or in CI; results on standard output, warnings and progress on standard error.

use std::io::IsTerminal;

use owo_colors::OwoColorize;
pub(crate) use vbo_model::text::escape_controls as printable;

/// Output settings decided once per run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ui {
    /// Colour on standard output.
    pub(crate) stdout_color: bool,
    /// Colour on standard error.
    pub(crate) stderr_color: bool,
    /// Standard error is a terminal (progress bars).
    pub(crate) stderr_terminal: bool,
    /// Standard input is a terminal (prompts).
    pub(crate) stdin_terminal: bool,
    /// The `CI` variable is set: nothing is interactive, whatever is attached.
    pub(crate) ci: bool,
}

impl Ui {
    /// Reads the terminal and the environment. `no_color` is the `--no-color` flag.
    ///
    /// In CI (the `CI` variable set to anything but empty, `0` or `false`, as every CI platform
    /// sets it) the run is non-interactive even when a pseudo-terminal is attached: no colour,
    /// no progress bar, no prompt.
    pub(crate) fn detect(no_color: bool) -> Self {
        let ci = std::env::var("CI").is_ok_and(|value| is_set(&value));
        let allowed = !ci && !no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let stderr_terminal = !ci && std::io::stderr().is_terminal();
        Self {
            stdout_color: allowed && std::io::stdout().is_terminal(),
            stderr_color: allowed && stderr_terminal,
            stderr_terminal,
            stdin_terminal: !ci && std::io::stdin().is_terminal(),
            ci,
        }
    }

    /// Prints `warning: <message>` on standard error.
    pub(crate) fn warn(&self, message: &str) {
        if self.stderr_color {
            eprintln!("{} {message}", "warning:".yellow().bold());
        } else {
            eprintln!("warning: {message}");
        }
    }

    /// Prints `error: <message>` and an optional `hint: <hint>` on standard error.
    pub(crate) fn error(&self, message: &str, hint: Option<&str>) {
        if self.stderr_color {
            eprintln!("{} {message}", "error:".red().bold());
            if let Some(hint) = hint {
                eprintln!("  {} {hint}", "hint:".cyan().bold());
            }
        } else {
            eprintln!("error: {message}");
            if let Some(hint) = hint {
                eprintln!("  hint: {hint}");
            }
        }
    }

    /// Prints a line of information on standard error.
    pub(crate) fn note(&self, message: &str) {
        eprintln!("{message}");
    }
}

/// Whether an environment flag such as `CI` is on: set to anything but empty, `0` or `false`.
fn is_set(value: &str) -> bool {
    !(value.is_empty() || value == "0" || value.eq_ignore_ascii_case("false"))
}

/// `1 error`, `2 errors`.
pub(crate) fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
