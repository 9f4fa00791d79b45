//! `vboctl export`: write a manifest for each organization the server has.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use vbo_apply::prepare;
use vbo_model::OrganizationType;
use vbo_model::export::{self, ENV_EXAMPLE_FILE, Exported, Filter, SCHEMA_ID};

use crate::commands::Status;
use crate::connection::ConnectionArgs;
use crate::error::CliError;
use crate::ui::{Ui, count, printable};

/// An organization type, as `--selector-type` takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum TypeArg {
    /// Microsoft 365 tenants.
    #[value(name = "Office365")]
    Office365,
    /// On-premises Exchange and SharePoint.
    #[value(name = "OnPremises")]
    OnPremises,
    /// Microsoft 365 with on-premises Exchange or SharePoint.
    #[value(name = "Hybrid")]
    Hybrid,
}

impl From<TypeArg> for OrganizationType {
    fn from(kind: TypeArg) -> Self {
        match kind {
            TypeArg::Office365 => OrganizationType::Office365,
            TypeArg::OnPremises => OrganizationType::OnPremises,
            TypeArg::Hybrid => OrganizationType::Hybrid,
        }
    }
}

/// Write a manifest for each organization on the server, to adopt an existing server.
///
/// Logs in, lists every organization and writes one manifest per organization into --out DIR
/// (file named after the organization, lower case), with every setting the server reports and
/// a `{fromEnv: VAR}` reference for each secret, which the server never returns. DIR also gets
/// secrets.env.example, listing every variable to set. Existing files are kept unless --force.
/// Without --out, the manifests are printed as one YAML stream. See docs/export.md.
#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// Write the manifests into this folder (created if needed) instead of printing them.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,

    /// Only organizations whose name matches GLOB (`*` any characters, `?` one; case is
    /// ignored). Repeatable: an organization matching any is exported.
    #[arg(long = "name", value_name = "GLOB")]
    pub(crate) names: Vec<String>,

    /// Only organizations of this type.
    #[arg(long, value_enum, value_name = "TYPE")]
    pub(crate) selector_type: Option<TypeArg>,

    /// Overwrite files that already exist in --out.
    #[arg(long, requires = "out")]
    pub(crate) force: bool,

    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,
}

pub(crate) async fn run(args: ExportArgs, ui: &Ui) -> Result<Status, CliError> {
    let config = args
        .connection
        .client_config(&mut |warning| ui.warn(warning))?;
    let listed = prepare::connect_and_list(config).await?;
    let filter = Filter {
        names: args.names.clone(),
        kind: args.selector_type.map(OrganizationType::from),
    };
    let exported = export::export(&listed.organizations, listed.api_version, &filter);
    let source = format!(
        "{} (REST API {})",
        printable(&listed.server),
        listed.api_version
    );
    if exported.is_empty() {
        ui.note(&format!(
            "No organization on {source} matches; nothing exported."
        ));
        return Ok(Status::Success);
    }
    match &args.out {
        None => print_stream(&exported, &source, ui),
        Some(dir) => write_files(&exported, dir, args.force, &source),
    }
}

/// Prints every manifest as one multi-document YAML stream on standard output.
fn print_stream(exported: &[Exported], source: &str, ui: &Ui) -> Result<Status, CliError> {
    let mut text = String::new();
    for (index, one) in exported.iter().enumerate() {
        if index == 0 {
            text.push_str(&export::document(&one.manifest, SCHEMA_ID));
        } else {
            text.push_str("---\n");
            text.push_str(&export::to_yaml(&one.manifest));
        }
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|source| crate::commands::Error::Write {
            path: "-".into(),
            source,
        })?;
    let variables: usize = exported.iter().map(|e| e.variables.len()).sum();
    ui.note(&format!(
        "Exported {} from {source}; their secrets are read from {} (export --out DIR also \
         writes {ENV_EXAMPLE_FILE} listing them).",
        count(exported.len(), "organization"),
        count(variables, "variable"),
    ));
    Ok(Status::Success)
}

/// Writes one file per manifest and the variables' list into `dir`, keeping existing files
/// unless `force`.
fn write_files(
    exported: &[Exported],
    dir: &Path,
    force: bool,
    source: &str,
) -> Result<Status, CliError> {
    std::fs::create_dir_all(dir).map_err(|e| {
        CliError::message(format!("cannot create the folder {}: {e}", dir.display()))
    })?;
    let schema = export::schema_reference(dir);
    let mut files: Vec<(String, String)> = exported
        .iter()
        .map(|one| {
            (
                one.file_name.clone(),
                export::document(&one.manifest, &schema),
            )
        })
        .collect();
    files.push((ENV_EXAMPLE_FILE.to_owned(), export::env_example(exported)));
    let (mut wrote, mut skipped) = (0, 0);
    let mut stdout = std::io::stdout().lock();
    for (name, contents) in files {
        let path = dir.join(&name);
        if path.exists() && !force {
            skipped += 1;
            let _ = writeln!(
                stdout,
                "skipped {} (exists; --force overwrites)",
                path.display()
            );
            continue;
        }
        std::fs::write(&path, contents)
            .map_err(|e| CliError::message(format!("cannot write {}: {e}", path.display())))?;
        wrote += 1;
        let _ = writeln!(stdout, "wrote {}", path.display());
    }
    let mut summary = format!(
        "Exported {} from {source}: wrote {}",
        count(exported.len(), "organization"),
        count(wrote, "file"),
    );
    if skipped > 0 {
        summary.push_str(&format!(
            ", skipped {} that already exist",
            count(skipped, "file")
        ));
    }
    let _ = writeln!(stdout, "{summary}.");
    let _ = stdout.flush();
    Ok(Status::Success)
}
