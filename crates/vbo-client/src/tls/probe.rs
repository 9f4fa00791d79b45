//! Looking at the certificate a server presents without trusting it: a TLS handshake and
//! nothing more, the way `openssl s_client -showcerts` does.

use std::sync::Arc;
use std::time::Duration;

use std::net::IpAddr;

use reqwest::Url;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{
    CryptoProvider, WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature,
};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;

use crate::{ClientError, server_url};

/// Connects to `server` (an `https://` URL as [`api_base_url`] reads it), completes a TLS
/// handshake without trusting the certificate, and returns the certificates the server
/// presented, its own first.
///
/// Nothing is sent but the handshake: no HTTP request and no credentials. The handshake's
/// signature is still checked, so the server has proven that it holds the private key of the
/// first certificate returned.
pub async fn presented_certificates(
    server: &str,
    connect_timeout: Duration,
) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let url = server_url(server)?;
    let shown = shown(&url);
    if url.scheme() != "https" {
        return Err(ClientError::InvalidServer {
            server: shown,
            reason: "it is http://, which presents no certificate; give the https:// URL"
                .to_owned(),
        });
    }
    let (address, name) = address_and_name(&url).ok_or_else(|| ClientError::InvalidServer {
        server: shown.clone(),
        reason: "it has no usable host".to_owned(),
    })?;
    let port = url.port_or_known_default().unwrap_or(443);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|error| ClientError::TrustSetup {
            reason: error.to_string(),
        })?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAndLook::new(&provider)))
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let connect_error = |detail: String| ClientError::Connect {
        server: shown.clone(),
        detail,
    };
    let handshake = async {
        let tcp = TcpStream::connect((address.as_str(), port))
            .await
            .map_err(|error| connect_error(error.to_string()))?;
        connector
            .connect(name, tcp)
            .await
            .map_err(|error| connect_error(format!("the TLS handshake failed: {error}")))
    };
    let mut stream = tokio::time::timeout(connect_timeout, handshake)
        .await
        .map_err(|_| connect_error("no TLS handshake within the connect timeout".to_owned()))??;
    let presented: Vec<CertificateDer<'static>> = stream
        .get_ref()
        .1
        .peer_certificates()
        .unwrap_or_default()
        .iter()
        .map(|certificate| certificate.clone().into_owned())
        .collect();
    // Say goodbye properly; the server owes us nothing more.
    let _ = tokio::time::timeout(connect_timeout, stream.shutdown()).await;
    if presented.is_empty() {
        return Err(connect_error(
            "the server presented no certificate".to_owned(),
        ));
    }
    Ok(presented)
}

/// The URL as messages show it: scheme, host and port.
fn shown(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Where to connect, and the name the handshake is for.
fn address_and_name(url: &Url) -> Option<(String, ServerName<'static>)> {
    let host = url.host_str()?;
    // An IPv6 address is written in brackets in a URL.
    let host = host
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(host);
    match host.parse::<IpAddr>() {
        Ok(ip) => Some((ip.to_string(), ServerName::IpAddress(ip.into()))),
        Err(_) => Some((host.to_owned(), ServerName::try_from(host.to_owned()).ok()?)),
    }
}

/// Accepts whatever certificate the server presents, so that it can be looked at; still checks
/// the handshake's signature with the certificate's key.
#[derive(Debug)]
struct AcceptAndLook {
    algorithms: WebPkiSupportedAlgorithms,
}

impl AcceptAndLook {
    fn new(provider: &CryptoProvider) -> Self {
        Self {
            algorithms: provider.signature_verification_algorithms,
        }
    }
}

impl ServerCertVerifier for AcceptAndLook {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // Nothing is trusted here: the connection carries nothing but the handshake.
        Ok(ServerCertVerified::assertion())
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
