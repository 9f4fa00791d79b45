//! Trusting the server's certificate.
//!
//! Verification is always on (unless [`TlsOptions::insecure`] turns it off). A server is
//! trusted when the certificate it presents
//! - has exactly the thumbprint given in [`TlsOptions::thumbprint`], when one is given;
//! - or is byte for byte one of the certificates in [`TlsOptions::ca_cert`] (pinned), whatever
//!   its CA flag, key usage, validity or names: the user named that exact certificate;
//! - or chains to the system's roots or to a certificate in that file and is valid for the
//!   host name, as every TLS client checks.
//!
//! [`presented_certificates`] shows what a server presents without trusting it, and
//! [`CertificateInfo`] reads a certificate for people, so that they can check it before they
//! pin it.

mod ca_file;
mod certificate;
mod probe;
mod thumbprint;
mod verifier;

use std::sync::Arc;

pub use certificate::{CertificateInfo, CertificateTime, NotACertificate, to_pem};
pub use probe::presented_certificates;
pub use thumbprint::{Digest, Thumbprint, ThumbprintError};
pub(crate) use verifier::Refusal;

use crate::{ClientError, TlsOptions};
use verifier::TrustVerifier;

/// The rustls configuration that verifies the server's certificate as `options` say. Not for
/// [`TlsOptions::insecure`], which turns verification off altogether.
pub(crate) fn client_config(options: &TlsOptions) -> Result<rustls::ClientConfig, ClientError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let setup = |error: rustls::Error| ClientError::TrustSetup {
        reason: error.to_string(),
    };
    let verifier = match (&options.thumbprint, &options.ca_cert) {
        (Some(thumbprint), _) => TrustVerifier::thumbprint(thumbprint.clone(), &provider),
        (None, Some(path)) => {
            TrustVerifier::pinned_or_chain(ca_file::read(path)?, provider.clone()).map_err(setup)?
        }
        (None, None) => {
            TrustVerifier::pinned_or_chain(Vec::new(), provider.clone()).map_err(setup)?
        }
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(setup)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    // What reqwest offers when it builds the configuration itself.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
