//! The HTTPS side: a self-signed certificate generated at start, or one read from files.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::{EmulatorError, Tls};

/// A ready server configuration and the PEM a client should trust.
pub(crate) struct TlsSetup {
    pub(crate) config: Arc<rustls::ServerConfig>,
    pub(crate) trust_pem: String,
}

/// Builds the TLS side for `tls`, or nothing for plain HTTP.
pub(crate) fn setup(tls: &Tls, listen: SocketAddr) -> Result<Option<TlsSetup>, EmulatorError> {
    let (certs, key, trust_pem) = match tls {
        Tls::None => return Ok(None),
        Tls::SelfSigned => self_signed(listen.ip())?,
        Tls::Files { cert, key } => from_files(cert, key)?,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|source| EmulatorError::Tls { source })?;
    // HTTP/1.1 only: a reset fault then closes a whole connection, as a crashed server would.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(TlsSetup {
        config: Arc::new(config),
        trust_pem,
    }))
}

type Material = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>, String);

/// A certificate for `localhost`, the loopback addresses and `ip`, signed by its own key, like
/// the one the real server generates at installation.
fn self_signed(ip: IpAddr) -> Result<Material, EmulatorError> {
    let generate = |source| EmulatorError::GenerateCertificate { source };
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if !ip.is_unspecified() && !ip.is_loopback() {
        names.push(ip.to_string());
    }
    let mut params = rcgen::CertificateParams::new(names).map_err(generate)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "vbo-emulator");
    let key = rcgen::KeyPair::generate().map_err(generate)?;
    let cert = params.self_signed(&key).map_err(generate)?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    Ok((vec![cert.der().clone()], key_der, cert.pem()))
}

fn from_files(cert_path: &Path, key_path: &Path) -> Result<Material, EmulatorError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| EmulatorError::ReadTlsFile {
            path: path.to_owned(),
            source,
        })
    };
    let cert_pem = read(cert_path)?;
    let key_pem = read(key_path)?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .ok()
        .filter(|certs: &Vec<_>| !certs.is_empty())
        .ok_or_else(|| EmulatorError::InvalidTlsFile {
            path: cert_path.to_owned(),
            what: "certificate",
        })?;
    let key =
        PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| EmulatorError::InvalidTlsFile {
            path: key_path.to_owned(),
            what: "private key",
        })?;
    let trust_pem = String::from_utf8_lossy(&cert_pem).into_owned();
    Ok((certs, key, trust_pem))
}
