//! What a certificate says, in the terms a person checks it by: subject, issuer, validity,
//! the names it is valid for, whether it is a certificate authority, and its thumbprints.

use std::fmt;
use std::net::IpAddr;

use base64::Engine as _;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer as _;
use x509_parser::time::ASN1Time;

use super::thumbprint::{Digest, Thumbprint};

/// A certificate, read for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateInfo {
    /// The subject's distinguished name, for example `CN=vbo01.contoso.local, O=Contoso`.
    pub subject: String,
    /// The issuer's distinguished name; the subject's own for a self-signed certificate.
    pub issuer: String,
    /// The subject's common name, if it has one.
    pub common_name: Option<String>,
    /// From when the certificate is valid.
    pub not_before: CertificateTime,
    /// Until when the certificate is valid.
    pub not_after: CertificateTime,
    /// The host names and addresses in its subjectAltName, as `DNS:name` and `IP:address`.
    /// Empty when it has none, which today's TLS clients need to match a host name.
    pub names: Vec<String>,
    /// Whether its basic constraints mark it as a certificate authority (`CA:TRUE`).
    pub is_ca: bool,
    /// Its SHA-256 fingerprint.
    pub sha256: Thumbprint,
    /// Its SHA-1 thumbprint, as Windows shows it.
    pub sha1: Thumbprint,
}

/// A moment a certificate names, in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CertificateTime {
    /// Seconds since 1970-01-01 00:00:00 UTC.
    pub unix: i64,
}

impl fmt::Display for CertificateTime {
    /// `2025-01-31 23:59:59 UTC`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match ASN1Time::from_timestamp(self.unix) {
            Ok(time) => {
                let time = time.to_datetime();
                write!(
                    f,
                    "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
                    time.year(),
                    u8::from(time.month()),
                    time.day(),
                    time.hour(),
                    time.minute(),
                    time.second()
                )
            }
            Err(_) => write!(f, "{} seconds after 1970", self.unix),
        }
    }
}

/// The bytes are not an X.509 certificate.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not an X.509 certificate: {reason}")]
pub struct NotACertificate {
    /// What the parser said.
    pub reason: String,
}

impl CertificateInfo {
    /// Reads the certificate whose DER encoding is `der`.
    pub fn parse(der: &[u8]) -> Result<Self, NotACertificate> {
        let (_, certificate) = X509Certificate::from_der(der).map_err(|error| NotACertificate {
            reason: error.to_string(),
        })?;
        let validity = certificate.validity();
        Ok(Self {
            subject: certificate.subject().to_string(),
            issuer: certificate.issuer().to_string(),
            common_name: certificate
                .subject()
                .iter_common_name()
                .next()
                .and_then(|name| name.as_str().ok())
                .map(str::to_owned),
            not_before: CertificateTime {
                unix: validity.not_before.timestamp(),
            },
            not_after: CertificateTime {
                unix: validity.not_after.timestamp(),
            },
            names: names(&certificate),
            is_ca: certificate.is_ca(),
            sha256: Thumbprint::of(Digest::Sha256, der),
            sha1: Thumbprint::of(Digest::Sha1, der),
        })
    }

    /// Whether the subject and the issuer are the same name, as in a self-signed certificate.
    pub fn is_self_issued(&self) -> bool {
        self.subject == self.issuer
    }
}

/// The DNS names and IP addresses of the subjectAltName extension.
fn names(certificate: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(extension)) = certificate.subject_alternative_name() else {
        return Vec::new();
    };
    extension
        .value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(name) => Some(format!("DNS:{name}")),
            GeneralName::IPAddress(bytes) => ip_address(bytes).map(|ip| format!("IP:{ip}")),
            _ => None,
        })
        .collect()
}

fn ip_address(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

/// The certificate whose DER encoding is `der` as PEM (`-----BEGIN CERTIFICATE-----`, base64
/// in lines of 64 characters), the form `--ca-cert` and most tools read.
pub fn to_pem(der: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in encoded.as_bytes().chunks(64) {
        // Base64 is ASCII, so every chunk is text.
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}
