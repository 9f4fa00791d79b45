//! The plan for a terminal.

use owo_colors::{OwoColorize, Style};
use rayon::prelude::*;
use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use super::{clean, closing, context, leaf_values, narrowed_line, secrets, show_value, verb};
use crate::model::{Action, Body, Change, FieldChange, Plan, quote};

/// The plan for a terminal: each change with its glyph (`+` create, `~` update, `-` delete), a
/// create's body and a delete's last state field by field, an update's changed fields as
/// `before -> after` (a line diff for settings blocks), then unmanaged organizations, errors
/// and the closing `Plan: ...` or `No changes. ...` line.
///
/// `colored` adds ANSI colours; the caller decides (terminal, `--no-color`, `NO_COLOR`).
pub fn text(plan: &Plan, colored: bool) -> String {
    let mut out = Vec::new();
    // Writing to memory cannot fail, and every piece written is a `str`.
    let _ = write_text(plan, colored, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// How many changes are rendered at once: enough to keep every core busy, few enough that
/// their text takes little memory.
const RENDER_BATCH: usize = 512;

/// [`text`], written to `out` a few hundred changes at a time, so that a plan of thousands of
/// changes is never held whole in memory as text.
pub fn write_text(
    plan: &Plan,
    colored: bool,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let paint = Paint { colored };
    let mut block = String::new();
    block.push_str(&format!(
        "Server: {} (REST API {})\n",
        clean(&plan.server),
        plan.api_version
    ));
    if let Some(line) = narrowed_line(plan) {
        block.push_str(&paint.bold(&line));
        block.push('\n');
    }
    block.push('\n');
    out.write_all(block.as_bytes())?;

    // Changes are rendered a batch at a time on every core, and written in order.
    let changes: Vec<&Change> = plan.actionable().collect();
    for batch in changes.chunks(RENDER_BATCH) {
        let rendered: Vec<String> = batch
            .par_iter()
            .map(|change| {
                let mut block = String::new();
                change_block(&mut block, change, &paint);
                block.push('\n');
                block
            })
            .collect();
        for block in rendered {
            out.write_all(block.as_bytes())?;
        }
    }

    block.clear();
    if !plan.unmanaged.is_empty() {
        block.push_str(&paint.bold("Unmanaged: on the server but in no manifest, left alone:"));
        block.push('\n');
        for org in &plan.unmanaged {
            let msid = org
                .msid
                .as_ref()
                .map(|msid| format!("; msid {}", clean(msid)))
                .unwrap_or_default();
            block.push_str(&format!(
                "    {} ({}; id {}{msid})\n",
                quote(&org.name),
                org.kind,
                clean(&org.id)
            ));
            if block.len() > 64 * 1024 {
                out.write_all(block.as_bytes())?;
                block.clear();
            }
        }
        block.push('\n');
    }

    for report in &plan.errors {
        block.push_str(&format!(
            "{} {}\n  {} {}\n\n",
            paint.apply(Style::new().red().bold(), "error:"),
            clean(&report.message),
            paint.apply(Style::new().cyan().bold(), "hint:"),
            clean(&report.hint),
        ));
    }

    for (i, line) in closing(plan).into_iter().enumerate() {
        let style = match (i, plan.has_changes() || plan.has_errors()) {
            (0, false) => Style::new().green().bold(),
            (0, true) => Style::new().bold(),
            _ => Style::new().red().bold(),
        };
        block.push_str(&paint.apply(style, &line));
        block.push('\n');
    }
    out.write_all(block.as_bytes())
}

fn change_block(out: &mut String, change: &Change, paint: &Paint) {
    let style = action_style(change.action);
    out.push_str(&paint.apply(
        style,
        &format!(
            "  {} {} {}",
            change.action.glyph(),
            change.address,
            verb(change.action)
        ),
    ));
    out.push('\n');
    out.push_str(&format!(
        "      {}\n",
        paint.dim(&format!("# {}", context(change)))
    ));
    match change.action {
        Action::Create => fields(out, change.after.as_ref().map(Body::value).as_ref()),
        Action::Delete => fields(out, change.before.as_ref().map(Body::value).as_ref()),
        Action::Update => {
            for field in &change.changed_fields {
                field_change(out, field, paint);
            }
            let secrets = change
                .after
                .as_ref()
                .map(|body| secrets(&body.value()))
                .unwrap_or_default();
            if !secrets.is_empty() {
                out.push_str(&format!(
                    "      {}\n",
                    paint.dim("write-only secrets, sent again and never compared:")
                ));
                for (path, description) in secrets {
                    out.push_str(&format!("        {path} = {description}\n"));
                }
            }
        }
        Action::NoOp => {}
    }
}

/// Every leaf of a body or state, `path = value`, aligned.
fn fields(out: &mut String, value: Option<&Value>) {
    use std::fmt::Write as _;
    let leaves = value.map(leaf_values).unwrap_or_default();
    let width = leaves
        .iter()
        .map(|(path, _)| path.chars().count())
        .max()
        .unwrap_or(0);
    for (path, value) in leaves {
        // Writing to a `String` cannot fail.
        let _ = writeln!(out, "      {path:width$} = {}", show_value(value));
    }
}

fn field_change(out: &mut String, field: &FieldChange, paint: &Paint) {
    if is_block(&field.before) || is_block(&field.after) {
        out.push_str(&format!("      {}:\n", field.path));
        let old = block_text(&field.before);
        let new = block_text(&field.after);
        for line in TextDiff::from_lines(&old, &new).iter_all_changes() {
            let text = line.value().trim_end_matches('\n');
            let styled = match line.tag() {
                ChangeTag::Delete => paint.apply(Style::new().red(), &format!("- {text}")),
                ChangeTag::Insert => paint.apply(Style::new().green(), &format!("+ {text}")),
                ChangeTag::Equal => format!("  {text}"),
            };
            out.push_str(&format!("        {styled}\n"));
        }
    } else {
        out.push_str(&format!(
            "      {}: {} -> {}\n",
            field.path,
            paint.apply(Style::new().red(), &scalar(&field.before)),
            paint.apply(Style::new().green(), &scalar(&field.after)),
        ));
    }
}

fn is_block(value: &Value) -> bool {
    matches!(value, Value::Object(map) if !map.is_empty())
        || matches!(value, Value::Array(items) if !items.is_empty())
}

/// Pretty JSON of a settings block, or nothing for `null`.
fn block_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        // Values of a plan serialize infallibly; fall back to the one-line form regardless.
        other => serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string()) + "\n",
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Null => "(not set)".to_owned(),
        other => show_value(other),
    }
}

fn action_style(action: Action) -> Style {
    match action {
        Action::Create => Style::new().green().bold(),
        Action::Update => Style::new().yellow().bold(),
        Action::Delete => Style::new().red().bold(),
        Action::NoOp => Style::new().bold(),
    }
}

/// ANSI styling, or none.
struct Paint {
    colored: bool,
}

impl Paint {
    fn apply(&self, style: Style, text: &str) -> String {
        if self.colored {
            text.style(style).to_string()
        } else {
            text.to_owned()
        }
    }

    fn bold(&self, text: &str) -> String {
        self.apply(Style::new().bold(), text)
    }

    fn dim(&self, text: &str) -> String {
        self.apply(Style::new().dimmed(), text)
    }
}
