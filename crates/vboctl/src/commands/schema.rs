//! `vboctl schema`: the editor JSON Schema of manifests and the Markdown field reference
//! generated from it, or the JSON Schema of the plan document.

use std::io::Write as _;
use std::path::PathBuf;

use super::{Error, Status};

/// Print the JSON Schema of a manifest document (or the field reference generated from it), or
/// of the plan document.
///
/// The manifest schema is generated from the same types `vboctl validate` reads, and committed
/// as schemas/organization.schema.json for editors; the Markdown reference is committed as
/// docs/manifest.md. The plan schema describes `vboctl plan --format json` and is committed as
/// schemas/plan.schema.json. Regenerate all three with `just schema`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Which document: `organization`, a manifest; `plan`, the JSON plan.
    #[arg(value_enum, default_value_t = Document::Organization)]
    document: Document,
    /// Write to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// `json`: the JSON Schema (draft 2020-12) editors use. `markdown`: the field reference of
    /// docs/manifest.md.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Document {
    Organization,
    Plan,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Format {
    Json,
    Markdown,
}

pub(crate) fn run(args: Args) -> Result<Status, Error> {
    let text = match (args.document, args.format) {
        (Document::Organization, Format::Json) => pretty(&vbo_model::schema::manifest_schema())?,
        (Document::Organization, Format::Markdown) => vbo_model::schema::manifest_reference(),
        (Document::Plan, Format::Json) => pretty(&vbo_plan::schema::plan_schema())?,
        (Document::Plan, Format::Markdown) => return Err(Error::NoPlanReference),
    };
    match &args.out {
        Some(path) => std::fs::write(path, text).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?,
        None => std::io::stdout()
            .write_all(text.as_bytes())
            .map_err(|source| Error::Write {
                path: "-".into(),
                source,
            })?,
    }
    Ok(Status::Success)
}

fn pretty(schema: &serde_json::Value) -> Result<String, Error> {
    let mut text = serde_json::to_string_pretty(schema)?;
    text.push('\n');
    Ok(text)
}
