//! The trust rule for the server's certificate.
//!
//! 1. With a thumbprint, the certificate the server presents must have exactly that thumbprint;
//!    nothing else is accepted.
//! 2. Otherwise a certificate that is byte for byte one of those in the `--ca-cert` file is
//!    trusted as it is (pinned), whatever its CA flag, key usage, validity or names say: the
//!    user named that exact certificate.
//! 3. Otherwise the chain and the host name are verified as every TLS client does, against the
//!    system's roots and the file's certificates.
//!
//! In every case the handshake's signature is checked against the presented certificate's key,
//! so the server proves that it holds that certificate's private key.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{
    CryptoProvider, WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature,
};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, RootCertStore, SignatureScheme};

use super::certificate::CertificateInfo;
use super::thumbprint::Thumbprint;

/// Verifies the server's certificate by the rule of this module.
#[derive(Debug)]
pub(crate) struct TrustVerifier {
    rule: Rule,
    algorithms: WebPkiSupportedAlgorithms,
}

#[derive(Debug)]
enum Rule {
    /// Exactly the certificate with this thumbprint.
    Thumbprint(Thumbprint),
    /// One of these exact certificates, or one that `chain` verifies.
    PinnedOrChain {
        pinned: Vec<CertificateDer<'static>>,
        chain: Chain,
    },
}

/// The verifier of chains to the system's roots and the file's certificates, made when a
/// presented certificate is not pinned: reading the system's roots takes milliseconds at every
/// start, and a server whose certificate is pinned never needs them.
#[derive(Debug)]
struct Chain {
    extra_roots: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
    verifier: OnceLock<Result<Arc<dyn ServerCertVerifier>, rustls::Error>>,
}

impl Chain {
    fn new(extra_roots: Vec<CertificateDer<'static>>, provider: Arc<CryptoProvider>) -> Self {
        Self {
            extra_roots,
            provider,
            verifier: OnceLock::new(),
        }
    }

    /// The chain verifier, made now if it was not yet.
    fn verifier(&self) -> Result<&Arc<dyn ServerCertVerifier>, rustls::Error> {
        self.verifier
            .get_or_init(|| {
                let provider = self.provider.clone();
                let verifier = if self.extra_roots.is_empty() {
                    rustls_platform_verifier::Verifier::new(provider)?
                } else {
                    rustls_platform_verifier::Verifier::new_with_extra_roots(
                        self.extra_roots.clone(),
                        provider,
                    )?
                };
                Ok(Arc::new(verifier) as Arc<dyn ServerCertVerifier>)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Whether the chain verifier was made.
    #[cfg(test)]
    fn is_made(&self) -> bool {
        self.verifier.get().is_some()
    }
}

impl TrustVerifier {
    /// Accepts only the certificate with `thumbprint`.
    pub(crate) fn thumbprint(thumbprint: Thumbprint, provider: &CryptoProvider) -> Self {
        Self {
            rule: Rule::Thumbprint(thumbprint),
            algorithms: provider.signature_verification_algorithms,
        }
    }

    /// Accepts any of `certificates` as they are, and any certificate that chains to the
    /// system's roots or to one of `certificates`, for the host name connected to.
    ///
    /// The chain is verified by the verifier reqwest uses by default (the platform's), so that
    /// what is trusted without a file stays what it always was. Without `certificates` it is
    /// made now, so that a system without usable roots is an error of the set-up; with them,
    /// only once a server presents a certificate that is not one of them.
    pub(crate) fn pinned_or_chain(
        certificates: Vec<CertificateDer<'static>>,
        provider: Arc<CryptoProvider>,
    ) -> Result<Self, rustls::Error> {
        // A certificate that cannot be a trust anchor (a malformed or unusual one) can still be
        // pinned; only the others join the roots.
        let roots: Vec<CertificateDer<'static>> = certificates
            .iter()
            .filter(|certificate| RootCertStore::empty().add((*certificate).clone()).is_ok())
            .cloned()
            .collect();
        let chain = Chain::new(roots, provider.clone());
        if certificates.is_empty() {
            chain.verifier()?;
        }
        Ok(Self {
            rule: Rule::PinnedOrChain {
                pinned: certificates,
                chain,
            },
            algorithms: provider.signature_verification_algorithms,
        })
    }
}

impl ServerCertVerifier for TrustVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match &self.rule {
            Rule::Thumbprint(expected) => {
                if expected.matches(end_entity) {
                    Ok(ServerCertVerified::assertion())
                } else {
                    Err(refuse(Refusal::ThumbprintMismatch {
                        presented: Thumbprint::of(expected.digest(), end_entity),
                        expected: expected.clone(),
                    }))
                }
            }
            Rule::PinnedOrChain { pinned, chain } => {
                if pinned
                    .iter()
                    .any(|certificate| certificate.as_ref() == end_entity.as_ref())
                {
                    return Ok(ServerCertVerified::assertion());
                }
                chain
                    .verifier()?
                    .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
                    .map_err(|error| explain(end_entity, error))
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, certificate, signature, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, certificate, signature, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Why a certificate was refused, when the words of the chain verifier alone would not tell
/// the user what to do.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refusal {
    /// The certificate is not the one the thumbprint names.
    #[error(
        "the server presented a certificate whose {} thumbprint is {presented}, not {expected}",
        presented.digest().name()
    )]
    ThumbprintMismatch {
        /// The thumbprint given.
        expected: Thumbprint,
        /// The presented certificate's thumbprint, by the same hash.
        presented: Thumbprint,
    },
    /// The certificate can be trusted only pinned: it names no host in subjectAltName, or it
    /// is a certificate authority's certificate presented as the server's own.
    #[error(
        "{}; such a certificate can be trusted only as that exact certificate (pinned)",
        reasons.join(", and ")
    )]
    OnlyPinnable {
        /// What rules out chain verification, in words, with anything else the chain verifier
        /// found wrong.
        reasons: Vec<String>,
    },
}

fn refuse(refusal: Refusal) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(refusal))))
}

/// The chain verifier's `error`, or a plainer one when the certificate has no host in
/// subjectAltName or is a certificate authority's: then pinning is the only way to trust it, and
/// the words must say so.
fn explain(end_entity: &CertificateDer<'_>, error: rustls::Error) -> rustls::Error {
    let rustls::Error::InvalidCertificate(problem) = &error else {
        return error;
    };
    let Ok(certificate) = CertificateInfo::parse(end_entity) else {
        return error;
    };
    let mut reasons = Vec::new();
    if certificate.names.is_empty() {
        reasons.push(match &certificate.common_name {
            Some(name) => format!(
                "it names no host in subjectAltName, only a common name (CN={name}), which TLS \
                 clients no longer match against the host name"
            ),
            None => "it names no host in subjectAltName, nor even a common name".to_owned(),
        });
    }
    // webpki reports a CA certificate presented as the server's own as an "other" problem.
    let ca_refused = certificate.is_ca && matches!(problem, CertificateError::Other(_));
    if ca_refused {
        reasons.push(
            "it is marked as a certificate authority (CA:TRUE), which a server's own certificate \
             must not be"
                .to_owned(),
        );
    }
    if reasons.is_empty() {
        return error;
    }
    let name_problem = matches!(
        problem,
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
    );
    if !name_problem && !ca_refused {
        reasons.push(crate::error::certificate_words(problem));
    }
    refuse(Refusal::OnlyPinnable { reasons })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate(host: &str) -> CertificateDer<'static> {
        let key = rcgen::KeyPair::generate().expect("a key");
        let params = rcgen::CertificateParams::new(vec![host.to_owned()]).expect("parameters");
        params
            .self_signed(&key)
            .expect("a certificate")
            .der()
            .clone()
    }

    fn provider() -> Arc<CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    #[test]
    fn a_pinned_certificate_is_trusted_without_reading_the_systems_roots() {
        let pinned = certificate("vbo.example.com");
        let verifier =
            TrustVerifier::pinned_or_chain(vec![pinned.clone()], provider()).expect("a verifier");
        let Rule::PinnedOrChain { chain, .. } = &verifier.rule else {
            panic!("not the pinned-or-chain rule");
        };
        assert!(!chain.is_made(), "the roots were read before any handshake");
        let name = ServerName::try_from("vbo.example.com").expect("a name");
        verifier
            .verify_server_cert(&pinned, &[], &name, &[], UnixTime::now())
            .expect("the pinned certificate is trusted");
        assert!(
            !chain.is_made(),
            "the roots were read for a pinned certificate"
        );

        // Another certificate needs the chain, which refuses this self-signed one.
        let other = certificate("vbo.example.com");
        let refused = verifier.verify_server_cert(&other, &[], &name, &[], UnixTime::now());
        assert!(refused.is_err(), "{refused:?}");
        assert!(chain.is_made());
    }

    #[test]
    fn without_a_file_the_chain_is_made_at_once() {
        let verifier = TrustVerifier::pinned_or_chain(Vec::new(), provider()).expect("a verifier");
        let Rule::PinnedOrChain { chain, .. } = &verifier.rule else {
            panic!("not the pinned-or-chain rule");
        };
        assert!(chain.is_made());
    }
}
