//! `vboctl schema`: the editor JSON Schema, or the Markdown field reference generated from it.

use std::io::Write as _;
use std::path::PathBuf;

use super::{Error, Status};

/// Print the JSON Schema of a manifest document, or the field reference generated from it.
///
/// The schema is generated from the same types `vboctl validate` reads, and committed as
/// schemas/organization.schema.json for editors; the Markdown reference is committed as
/// docs/manifest.md. Regenerate both with `just schema`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Write to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// `json`: the JSON Schema (draft 2020-12) editors use. `markdown`: the field reference of
    /// docs/manifest.md.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Format {
    Json,
    Markdown,
}

pub(crate) fn run(args: Args) -> Result<Status, Error> {
    let text = match args.format {
        Format::Json => {
            let mut text = serde_json::to_string_pretty(&vbo_model::schema::manifest_schema())?;
            text.push('\n');
            text
        }
        Format::Markdown => vbo_model::schema::manifest_reference(),
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
