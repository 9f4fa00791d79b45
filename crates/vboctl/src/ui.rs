//! Where output goes and how it looks: colour only on a terminal, never with `NO_COLOR` or
//! `--no-color`; results on standard output, warnings and progress on standard error.

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
}

impl Ui {
    /// Reads the terminal and the environment. `no_color` is the `--no-color` flag.
    pub(crate) fn detect(no_color: bool) -> Self {
        let allowed = !no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let stderr_terminal = std::io::stderr().is_terminal();
        Self {
            stdout_color: allowed && std::io::stdout().is_terminal(),
            stderr_color: allowed && stderr_terminal,
            stderr_terminal,
            stdin_terminal: std::io::stdin().is_terminal(),
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

/// `1 error`, `2 errors`.
pub(crate) fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
