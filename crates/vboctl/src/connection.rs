//! How to reach the server, and where secrets come from: the options shared by every command
//! that talks to it.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use clap::builder::TypedValueParser as _;
use vbo_client::tls::Thumbprint;
use vbo_client::{ApiVersionChoice, ClientConfig, TlsOptions};
use vbo_model::env_file::EnvFile;
use vbo_model::{Environment, Secret};

use crate::error::CliError;

/// Connection options, accepted after the subcommand by every command that talks to a server.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Server connection")]
pub(crate) struct ConnectionArgs {
    /// The server's REST API, for example https://vbo.example.com:4443 (a trailing /v8 is
    /// accepted and ignored: --api-version decides).
    #[arg(
        long,
        env = "VBOCTL_SERVER",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub(crate) server: Option<String>,

    /// The user to log in as, often DOMAIN\user. The password comes from VBOCTL_PASSWORD,
    /// --password-stdin or --password-file, never from a flag value.
    #[arg(
        long,
        env = "VBOCTL_USERNAME",
        hide_env_values = true,
        value_name = "USER"
    )]
    pub(crate) username: Option<String>,

    /// Read the password from the first line of standard input.
    #[arg(long, conflicts_with = "password_file")]
    pub(crate) password_stdin: bool,

    /// Read the password from this file (a trailing newline is ignored).
    #[arg(long, value_name = "FILE")]
    pub(crate) password_file: Option<PathBuf>,

    /// Trust the certificates in this file (PEM, or one DER .cer): the server's own
    /// certificate (as saved by `vboctl server-cert --out FILE`), trusted exactly as it is, or
    /// the certificate authorities that signed it.
    // Any value is accepted here, the empty one included, so that an empty VBOCTL_CA_CERT
    // (a CI variable left blank) counts as unset instead of failing the parse.
    #[arg(
        long,
        env = "VBOCTL_CA_CERT",
        hide_env_values = true,
        value_name = "FILE",
        value_parser = clap::builder::OsStringValueParser::new().map(PathBuf::from)
    )]
    pub(crate) ca_cert: Option<PathBuf>,

    /// Trust exactly the server certificate with this SHA-256 fingerprint (64 hex digits) or
    /// SHA-1 thumbprint (40 hex digits, as Windows shows it); colons, spaces and case do not
    /// matter. `vboctl server-cert` shows both.
    // Read as text and checked in client_config, so that an empty variable counts as unset.
    #[arg(
        long,
        env = "VBOCTL_TLS_THUMBPRINT",
        hide_env_values = true,
        value_name = "HEX"
    )]
    pub(crate) tls_thumbprint: Option<String>,

    /// Do not verify the server's TLS certificate. Anyone on the network path can then read your
    /// credentials: use only for throwaway test servers.
    #[arg(long, env = "VBOCTL_INSECURE",
        hide_env_values = true, value_parser = clap::builder::FalseyValueParser::new())]
    pub(crate) insecure: bool,

    /// The server's REST API version: auto (the newest it serves, found at login), v3, v6, v7
    /// or v8.
    #[arg(
        long,
        env = "VBOCTL_API_VERSION",
        value_name = "VERSION",
        default_value = "auto",
        value_parser = parse_api_version
    )]
    pub(crate) api_version: ApiVersionChoice,

    /// Seconds to wait for a connection to the server.
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub(crate) connect_timeout: u64,

    /// Seconds to wait for each request's answer.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub(crate) request_timeout: u64,

    /// Read the variables of `fromEnv` secrets from this file of KEY=VALUE lines (the dotenv
    /// format as Docker Compose reads it: # comments, 'literal' or "escaped" values, an optional
    /// `export `). A variable set in the environment wins over the file. The file serves
    /// fromEnv secrets only (not VBOCTL_* settings), its values are never shown, and it should
    /// be readable by you alone (chmod 600).
    // Any value is accepted, the empty one included: an empty VBOCTL_ENV_FILE counts as unset.
    #[arg(
        long,
        env = "VBOCTL_ENV_FILE",
        hide_env_values = true,
        value_name = "FILE",
        value_parser = clap::builder::OsStringValueParser::new().map(PathBuf::from)
    )]
    pub(crate) env_file: Option<PathBuf>,
}

/// The environment variable that holds the password.
pub(crate) const PASSWORD_ENV: &str = "VBOCTL_PASSWORD";

impl ConnectionArgs {
    /// The client configuration these options describe, reading the password from where they
    /// say. Prints the warnings that insecure transport deserves.
    /// The server given by --server or VBOCTL_SERVER, unless blank.
    pub(crate) fn server(&self) -> Option<String> {
        given(&self.server)
    }

    pub(crate) fn client_config(
        &self,
        warn: &mut dyn FnMut(&str),
    ) -> Result<ClientConfig, CliError> {
        // An empty value, typically a variable set to nothing, counts as not given.
        let server = given(&self.server).ok_or_else(|| {
            CliError::usage("no server given", "pass --server URL or set VBOCTL_SERVER")
        })?;
        let username = given(&self.username).ok_or_else(|| {
            CliError::usage(
                "no username given",
                "pass --username USER or set VBOCTL_USERNAME",
            )
        })?;
        let thumbprint = self.thumbprint()?;
        let ca_cert = self
            .ca_cert
            .clone()
            .filter(|path| !path.as_os_str().is_empty());
        if thumbprint.is_some() && (ca_cert.is_some() || self.insecure) {
            let other = if self.insecure {
                "--insecure (VBOCTL_INSECURE)"
            } else {
                "--ca-cert (VBOCTL_CA_CERT)"
            };
            return Err(CliError::usage(
                format!("--tls-thumbprint (VBOCTL_TLS_THUMBPRINT) and {other} are both given"),
                "give one way to trust the server: --tls-thumbprint trusts exactly one certificate",
            ));
        }
        let password = self.password()?;
        if self.insecure {
            warn(
                "TLS certificate verification is off (--insecure): anyone on the network path can \
                 read your credentials",
            );
        }
        if server
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("http://")
        {
            warn(
                "the server URL is http://: the password travels unencrypted; use this only for a local emulator",
            );
        }
        let mut config = ClientConfig::new(server, username, password);
        config.tls = TlsOptions {
            ca_cert,
            thumbprint,
            insecure: self.insecure,
        };
        config.api_version = self.api_version;
        config.connect_timeout = Duration::from_secs(self.connect_timeout.max(1));
        config.request_timeout = Duration::from_secs(self.request_timeout.max(1));
        Ok(config)
    }

    /// Where `fromEnv` secrets are read: the environment, then the file given by --env-file or
    /// VBOCTL_ENV_FILE (unless blank). Warns when the file is open to its group or others.
    pub(crate) fn environment(&self, warn: &mut dyn FnMut(&str)) -> Result<Environment, CliError> {
        let Some(path) = self
            .env_file
            .as_ref()
            .filter(|path| !path.as_os_str().is_empty())
        else {
            return Ok(Environment::process());
        };
        let file = EnvFile::read(path).map_err(|error| {
            CliError::usage(
                error.to_string(),
                "check the file given by --env-file or VBOCTL_ENV_FILE",
            )
        })?;
        if let Some(mode) = file.loose_mode() {
            warn(&format!(
                "the env file {} holds secrets but its group or others have access to it (mode \
                 {mode:04o}); restrict it with: chmod 600 {}",
                path.display(),
                path.display()
            ));
        }
        Ok(Environment::with_file(file))
    }

    /// The thumbprint given by --tls-thumbprint or VBOCTL_TLS_THUMBPRINT, unless blank.
    fn thumbprint(&self) -> Result<Option<Thumbprint>, CliError> {
        let Some(text) = given(&self.tls_thumbprint) else {
            return Ok(None);
        };
        text.parse().map(Some).map_err(|error| {
            CliError::usage(
                format!("invalid --tls-thumbprint (VBOCTL_TLS_THUMBPRINT) {text:?}: {error}"),
                "run `vboctl server-cert` to see the server certificate's SHA-256 fingerprint and SHA-1 thumbprint",
            )
        })
    }

    fn password(&self) -> Result<Secret, CliError> {
        if self.password_stdin {
            let mut input = String::new();
            std::io::stdin().read_to_string(&mut input).map_err(|e| {
                CliError::message(format!("cannot read the password from standard input: {e}"))
            })?;
            let line = input.lines().next().unwrap_or_default();
            return non_empty(Secret::new(line), "standard input");
        }
        if let Some(path) = &self.password_file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                CliError::message(format!(
                    "cannot read the password file {}: {e}",
                    path.display()
                ))
            })?;
            return non_empty(
                Secret::new(text.trim_end_matches(['\n', '\r'])),
                &path.display().to_string(),
            );
        }
        match std::env::var(PASSWORD_ENV) {
            Ok(value) => non_empty(Secret::new(value), PASSWORD_ENV),
            Err(std::env::VarError::NotUnicode(_)) => Err(CliError::message(format!(
                "the password in {PASSWORD_ENV} is not UTF-8 text"
            ))),
            Err(std::env::VarError::NotPresent) => Err(CliError::usage(
                "no password given",
                "set VBOCTL_PASSWORD, or pass --password-stdin or --password-file FILE",
            )),
        }
    }
}

/// `auto` (or blank, a CI variable left empty), `v3`, `v6`, `v7` or `v8`.
fn parse_api_version(text: &str) -> Result<ApiVersionChoice, String> {
    if text.trim().is_empty() || text.trim().eq_ignore_ascii_case("auto") {
        return Ok(ApiVersionChoice::Auto);
    }
    text.parse()
        .map(ApiVersionChoice::Exactly)
        .map_err(|error: vbo_model::api::UnknownVersion| format!("{error}, or auto"))
}

/// The value, unless it is missing or blank.
fn given(value: &Option<String>) -> Option<String> {
    value.clone().filter(|value| !value.trim().is_empty())
}

fn non_empty(secret: Secret, source: &str) -> Result<Secret, CliError> {
    if secret.expose().is_empty() {
        Err(CliError::message(format!(
            "the password from {source} is empty"
        )))
    } else {
        Ok(secret)
    }
}
