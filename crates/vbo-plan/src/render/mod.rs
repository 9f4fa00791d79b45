//! Plans for people and programs: [`text`] for a terminal, [`markdown`] for a pull-request
//! comment, [`json`] for tools.
//!
//! Each renderer is a pure function of the [`Plan`] (which may come from a saved plan file) and
//! returns the whole output, ending with a newline. None of them can show a secret value: a
//! plan only holds references, shown as `(sensitive: env VAR)`.

mod markdown;
mod text;

pub use markdown::{MARKDOWN_LIMIT, markdown};
pub use text::{text, write_text};

use serde_json::Value;
use vbo_model::annotation::Annotation;
/// Control characters escaped in everything a rendering copies from the server or a file.
use vbo_model::text::escape_controls as clean;
use vbo_model::{Secret, SecretRef, Severity};

use crate::model::{Plan, Summary};

/// [`json`], written to `out` as it is serialized.
pub fn write_json(plan: &Plan, out: &mut impl std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, plan)?;
    out.write_all(b"\n")
}

/// The plan's JSON document (see `docs/plan-format.md`), pretty-printed.
pub fn json(plan: &Plan) -> String {
    // A plan holds strings, numbers, booleans and JSON values only: serializing cannot fail.
    let mut out = serde_json::to_string_pretty(plan).expect("a plan always serializes to JSON");
    out.push('\n');
    out
}

/// Every error of the plan as an annotation at the manifest it concerns (one per manifest when
/// a name is used twice), for `--format github`.
pub fn annotations(plan: &Plan) -> Vec<Annotation> {
    let mut out = Vec::new();
    for report in &plan.errors {
        let title = format!("Cannot plan {}", clean(report.error.name()));
        let message = format!("{}\nhint: {}", clean(&report.message), clean(&report.hint));
        let origins = report.error.origins();
        if origins.is_empty() {
            out.push(Annotation::at_origin(Severity::Error, "", &title, &message));
        }
        for origin in origins {
            out.push(Annotation::at_origin(
                Severity::Error,
                origin,
                &title,
                &message,
            ));
        }
    }
    out
}

/// `(sensitive: env VAR)` when `value` is a secret reference as a plan's body holds it
/// (`{"fromEnv": ..}`, `{"fromFile": ..}` or the literal marker `{"sensitive": ..}`).
fn secret_description(value: &Value) -> Option<String> {
    let Value::Object(map) = value else {
        return None;
    };
    let (key, Value::String(text)) = map.iter().next().filter(|_| map.len() == 1)? else {
        return None;
    };
    let reference = match key.as_str() {
        "fromEnv" => SecretRef::FromEnv(text.clone()),
        "fromFile" => SecretRef::FromFile(text.into()),
        // The marker carries no value: describe it as the literal it stands for.
        "sensitive" => SecretRef::Literal(Secret::new(String::new())),
        _ => return None,
    };
    Some(format!("(sensitive: {})", clean(&reference.describe())))
}

/// A value on one line: JSON for scalars and objects, the description for a secret reference.
fn show_value(value: &Value) -> String {
    secret_description(value).unwrap_or_else(|| value.to_string())
}

/// Every leaf of `value` (a body or a state) with its dotted path: `type` and `name` first,
/// then in key order; secret references count as leaves.
fn leaf_values(value: &Value) -> Vec<(String, &Value)> {
    fn walk<'v>(prefix: &str, value: &'v Value, out: &mut Vec<(String, &'v Value)>) {
        match value {
            Value::Object(map) if secret_description(value).is_none() && !map.is_empty() => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by_key(|(key, _)| {
                    let rank = match (prefix.is_empty(), key.as_str()) {
                        (true, "type") => 0,
                        (true, "name") => 1,
                        _ => 2,
                    };
                    (rank, key.as_str())
                });
                for (key, child) in entries {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(&path, child, out);
                }
            }
            _ => out.push((prefix.to_owned(), value)),
        }
    }
    let mut out = Vec::new();
    walk("", value, &mut out);
    out
}

/// Every leaf of `value` with its dotted path, shown on one line.
fn leaves(value: &Value) -> Vec<(String, String)> {
    leaf_values(value)
        .into_iter()
        .map(|(path, leaf)| (path, show_value(leaf)))
        .collect()
}

/// The secret references in a body, with their paths and descriptions.
fn secrets(value: &Value) -> Vec<(String, String)> {
    leaf_values(value)
        .into_iter()
        .filter_map(|(path, leaf)| secret_description(leaf).map(|shown| (path, shown)))
        .collect()
}

/// `Plan: 2 to create, 1 to update, 0 to delete. 7 unchanged, 3 unmanaged (...).` or the
/// `No changes.` sentence, and a sentence about errors when there are some.
fn closing(plan: &Plan) -> Vec<String> {
    let Summary {
        create,
        update,
        delete,
        no_op,
    } = plan.summary;
    let mut rest = format!("{no_op} unchanged");
    let unmanaged = plan.unmanaged.len();
    if unmanaged > 0 {
        rest.push_str(&format!(
            ", {unmanaged} unmanaged (not in manifests; --prune would delete them)"
        ));
    }
    let mut lines = Vec::new();
    if plan.has_changes() || plan.has_errors() {
        lines.push(format!(
            "Plan: {create} to create, {update} to update, {delete} to delete. {rest}."
        ));
    } else if no_op == 0 && unmanaged == 0 && plan.narrowed.is_some() {
        lines.push("No changes. The narrowing selects no organization.".to_owned());
    } else if no_op == 0 && unmanaged == 0 {
        lines.push(
            "No changes. Neither the manifests nor the server have any organization.".to_owned(),
        );
    } else {
        lines.push(format!(
            "No changes. The server matches the manifests: {rest}."
        ));
    }
    let errors = if plan.errors.len() == 1 {
        "error"
    } else {
        "errors"
    };
    match plan.unplanned() {
        0 => {}
        1 => lines.push(format!(
            "1 organization could not be planned: fix the {errors} above before applying."
        )),
        n => lines.push(format!(
            "{n} organizations could not be planned: fix the {errors} above before applying."
        )),
    }
    lines
}

/// `Narrowed to: --target a.example.com, --selector tier=gold (3 of 12 organizations)` for a
/// narrowed plan.
fn narrowed_line(plan: &Plan) -> Option<String> {
    let narrowed = plan.narrowed.as_ref()?;
    let total = if narrowed.organizations == 1 {
        "1 organization".to_owned()
    } else {
        format!("{} organizations", narrowed.organizations)
    };
    Some(format!(
        "Narrowed to: {} ({} of {total}); the others were not planned",
        clean(&narrowed.describe()),
        narrowed.selected
    ))
}

/// What a change's heading says after the address.
fn verb(action: crate::Action) -> &'static str {
    match action {
        crate::Action::NoOp => "is unchanged",
        crate::Action::Create => "will be created",
        crate::Action::Update => "will be updated in place",
        crate::Action::Delete => "will be deleted",
    }
}

/// The reason, the manifest's location and the id, joined for a comment line.
fn context(change: &crate::Change) -> String {
    let mut parts = vec![change.reason.clone()];
    parts.extend(change.origin.clone());
    parts.extend(change.id.as_ref().map(|id| format!("id {id}")));
    parts.extend(change.msid.as_ref().map(|msid| format!("msid {msid}")));
    clean(&parts.join("; ")).into_owned()
}
