//! `vboctl server-cert`: show the certificate a server presents, without trusting it, and save
//! it for `--ca-cert`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use clap::Args;
use vbo_client::tls::{CertificateInfo, Digest, Thumbprint, presented_certificates, to_pem};

use crate::commands::{Error, Status};
use crate::error::CliError;
use crate::ui::printable;

/// Show the TLS certificate a server presents, without trusting it.
///
/// Connects and completes a TLS handshake, nothing more: no login, no request, and no password
/// is read. Prints each certificate the server presents, its own first: subject, issuer,
/// validity, the names it is valid for, whether it is a certificate authority, its SHA-256
/// fingerprint and SHA-1 thumbprint. Check a thumbprint against the server itself (the
/// certificate's details on the Windows server show the SHA-1 thumbprint), then trust exactly
/// that certificate with --ca-cert FILE (saved with --out FILE) or --tls-thumbprint HEX.
#[derive(Debug, Args)]
pub(crate) struct ServerCertArgs {
    /// The server's REST API, for example https://vbo.example.com:4443 (a trailing version such
    /// as /v8 is accepted and ignored).
    #[arg(
        long,
        env = "VBOCTL_SERVER",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub(crate) server: Option<String>,

    /// Also save the server's own certificate to FILE as PEM, ready for --ca-cert FILE.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,

    /// Seconds to wait for the connection and the handshake.
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub(crate) connect_timeout: u64,
}

pub(crate) async fn run(args: ServerCertArgs) -> Result<Status, CliError> {
    let server = args
        .server
        .filter(|server| !server.trim().is_empty())
        .ok_or_else(|| {
            CliError::usage("no server given", "pass --server URL or set VBOCTL_SERVER")
        })?;
    let timeout = Duration::from_secs(args.connect_timeout.max(1));
    let chain = presented_certificates(&server, timeout).await?;
    let mut text = format!("Server: {}\n", printable(&server));
    let now = unix_now();
    for (index, der) in chain.iter().enumerate() {
        let role = if index == 0 {
            "the server's own".to_owned()
        } else {
            format!("certificate {} of the chain the server sent", index + 1)
        };
        text.push('\n');
        match CertificateInfo::parse(der) {
            Ok(certificate) => describe(&mut text, &role, &certificate, now),
            Err(error) => {
                let _ = writeln!(text, "Certificate ({role}): cannot be read: {error}");
            }
        }
    }
    // `chain` is never empty: presented_certificates fails when the server sent nothing.
    let Some(leaf) = chain.first() else {
        return Err(CliError::message("the server presented no certificate"));
    };
    let thumbprint = Thumbprint::of(Digest::Sha256, leaf);
    text.push('\n');
    if let Some(path) = &args.out {
        std::fs::write(path, to_pem(leaf)).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        let _ = writeln!(
            text,
            "Saved the server's own certificate to {}.",
            printable(&path.display().to_string())
        );
    }
    let _ = writeln!(
        text,
        "Check the fingerprint against the server itself (for example the certificate's details \
         on the Windows server), then trust exactly this certificate:"
    );
    let server = printable(&server);
    if let Some(path) = &args.out {
        let _ = writeln!(
            text,
            "  vboctl plan --server {server} --ca-cert {}",
            printable(&path.display().to_string())
        );
        let _ = writeln!(text, "or, without the file:");
    }
    let _ = writeln!(
        text,
        "  vboctl plan --server {server} --tls-thumbprint {}",
        thumbprint.plain()
    );
    if args.out.is_none() {
        let _ = writeln!(
            text,
            "or save it with --out FILE and trust it with --ca-cert FILE."
        );
    }
    print!("{text}");
    Ok(Status::Success)
}

/// Appends the certificate's description to `text`.
fn describe(text: &mut String, role: &str, certificate: &CertificateInfo, now: i64) {
    let issuer = if certificate.is_self_issued() {
        format!("{} (self-signed)", printable(&certificate.issuer))
    } else {
        printable(&certificate.issuer).into_owned()
    };
    let validity = if now < certificate.not_before.unix {
        " (not valid yet)"
    } else if now > certificate.not_after.unix {
        " (expired)"
    } else {
        ""
    };
    let names = if certificate.names.is_empty() {
        "none: common name only (pin it with --ca-cert or --tls-thumbprint; no host name can \
         match it)"
            .to_owned()
    } else {
        printable(&certificate.names.join(", ")).into_owned()
    };
    let ca = if certificate.is_ca {
        "yes (CA:TRUE)"
    } else {
        "no"
    };
    let lines = [
        ("Subject", printable(&certificate.subject).into_owned()),
        ("Issuer", issuer),
        ("Not before", certificate.not_before.to_string()),
        ("Not after", format!("{}{validity}", certificate.not_after)),
        ("Names", names),
        ("CA", ca.to_owned()),
        ("SHA-256 fingerprint", certificate.sha256.colons()),
        ("", certificate.sha256.plain()),
        ("SHA-1 thumbprint", certificate.sha1.colons()),
        ("", certificate.sha1.plain()),
    ];
    let _ = writeln!(text, "Certificate ({role}):");
    for (label, value) in lines {
        let label = if label.is_empty() {
            String::new()
        } else {
            format!("{label}:")
        };
        let _ = writeln!(text, "  {label:<21}{value}");
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
