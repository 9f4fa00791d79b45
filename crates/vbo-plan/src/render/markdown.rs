//! The plan for a pull-request comment.

use serde_json::Value;

use vbo_model::text::markdown_escape as html;

use super::{closing, context, leaves, narrowed_line, secrets, verb};
use crate::model::{Action, Body, Change, Plan};

/// The most characters [`markdown`] produces: comfortably under the 65,536 a GitHub comment
/// accepts.
pub const MARKDOWN_LIMIT: usize = 60_000;

/// The plan as GitHub-flavoured Markdown for a pull-request comment: a summary table, errors,
/// one collapsible `<details>` section per change (a `diff` block of its fields), the unmanaged
/// organizations and the closing sentence.
///
/// The result stays under [`MARKDOWN_LIMIT`] characters: sections that do not fit are replaced
/// by a `+N more ...` line, never dropped silently.
pub fn markdown(plan: &Plan) -> String {
    markdown_within(plan, MARKDOWN_LIMIT)
}

/// Room kept for the `+N more` lines and the closing sentence.
const RESERVE: usize = 600;

pub(crate) fn markdown_within(plan: &Plan, limit: usize) -> String {
    let summary = &plan.summary;
    let mut head = String::new();
    head.push_str("### vboctl plan\n\n");
    head.push_str(&format!(
        "Server: <code>{}</code> (REST API {})\n\n",
        html(&plan.server),
        plan.api_version
    ));
    if let Some(line) = narrowed_line(plan) {
        head.push_str(&format!("**{}**\n\n", html(&line)));
    }
    head.push_str("| Create | Update | Delete | Unchanged | Unmanaged | Errors |\n");
    head.push_str("|---:|---:|---:|---:|---:|---:|\n");
    head.push_str(&format!(
        "| {} | {} | {} | {} | {} | {} |\n\n",
        summary.create,
        summary.update,
        summary.delete,
        summary.no_op,
        plan.unmanaged.len(),
        plan.errors.len()
    ));

    let tail: String = closing(plan)
        .into_iter()
        .map(|line| format!("**{}**\n", html(&line)))
        .collect();

    let mut budget = limit
        .saturating_sub(length(&head))
        .saturating_sub(length(&tail))
        .saturating_sub(RESERVE);
    let mut out = head;

    let errors: Vec<String> = plan
        .errors
        .iter()
        .map(|report| {
            format!(
                "- **error:** {}<br>hint: {}\n",
                html(&report.message),
                html(&report.hint)
            )
        })
        .collect();
    if !errors.is_empty() {
        out.push_str("**Errors**: apply refuses this plan until they are fixed.\n\n");
        push_fitting(&mut out, errors, &mut budget, "errors");
        out.push('\n');
    }

    let sections: Vec<String> = plan.actionable().map(section).collect();
    push_fitting(&mut out, sections, &mut budget, "changes");

    if !plan.unmanaged.is_empty() {
        out.push_str(&format!(
            "<details><summary>Unmanaged: {} on the server but in no manifest, left alone (<code>--prune</code> would delete them)</summary>\n\n",
            count(plan.unmanaged.len(), "organization")
        ));
        let items: Vec<String> = plan
            .unmanaged
            .iter()
            .map(|org| {
                format!(
                    "- <code>{}</code> ({}, id <code>{}</code>)\n",
                    html(&org.name),
                    org.kind,
                    html(&org.id)
                )
            })
            .collect();
        push_fitting(&mut out, items, &mut budget, "unmanaged organizations");
        out.push_str("\n</details>\n\n");
    }

    out.push_str(&tail);
    out
}

/// Appends `blocks` in order while they fit in `budget`; the first that does not fit and all
/// after it become one `+N more <what>` line.
fn push_fitting(out: &mut String, blocks: Vec<String>, budget: &mut usize, what: &str) {
    let total = blocks.len();
    for (shown, block) in blocks.into_iter().enumerate() {
        let size = length(&block);
        if size > *budget {
            out.push_str(&format!(
                "\n**+{} more {what}** not shown here, to keep this comment short: run `vboctl show` on the saved plan, or plan with `--format json`, for all of them.\n\n",
                total - shown
            ));
            *budget = 0;
            return;
        }
        *budget -= size;
        out.push_str(&block);
    }
}

/// One `<details>` section for a change.
fn section(change: &Change) -> String {
    let lines: Vec<String> = match change.action {
        Action::Create => with_sign('+', change.after.as_ref().map(Body::value).as_ref()),
        Action::Delete => with_sign('-', change.before.as_ref().map(Body::value).as_ref()),
        Action::Update => {
            let mut lines = Vec::new();
            for field in &change.changed_fields {
                lines.extend(side('-', &field.path, &field.before));
                lines.extend(side('+', &field.path, &field.after));
            }
            let secrets = change
                .after
                .as_ref()
                .map(|body| secrets(&body.value()))
                .unwrap_or_default();
            if !secrets.is_empty() {
                lines.push("# write-only secrets, sent again and never compared:".to_owned());
                lines.extend(
                    secrets
                        .into_iter()
                        .map(|(path, description)| format!("  {path} = {description}")),
                );
            }
            lines
        }
        Action::NoOp => Vec::new(),
    };
    let body = lines.join("\n");
    let fence = "`".repeat(longest_backtick_run(&body).max(2) + 1);
    format!(
        "<details><summary><code>{}</code> <code>{}</code> {}</summary>\n\n{}\n\n{fence}diff\n{body}\n{fence}\n\n</details>\n\n",
        change.action.glyph(),
        html(&change.address),
        verb(change.action),
        html(&context(change)),
    )
}

/// `+ path = value` for every leaf.
fn with_sign(sign: char, value: Option<&Value>) -> Vec<String> {
    value.map(|value| side(sign, "", value)).unwrap_or_default()
}

/// One side of a field change: nothing for `null`, else each leaf under the field's path.
fn side(sign: char, path: &str, value: &Value) -> Vec<String> {
    if value.is_null() {
        return Vec::new();
    }
    leaves(value)
        .into_iter()
        .map(|(leaf, shown)| match (path.is_empty(), leaf.is_empty()) {
            (true, _) => format!("{sign} {leaf} = {shown}"),
            (false, true) => format!("{sign} {path} = {shown}"),
            (false, false) => format!("{sign} {path}.{leaf} = {shown}"),
        })
        .collect()
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn length(text: &str) -> usize {
    text.chars().count()
}
