//! Reading the file given with `--ca-cert`: PEM certificates (a CA bundle, the server's own
//! certificate, or both), or one DER certificate as Windows exports it (`.cer`).

use std::path::Path;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer as _;

use crate::ClientError;

/// Every certificate in the file at `path`, in file order.
pub(crate) fn read(path: &Path) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let bytes = std::fs::read(path).map_err(|source| ClientError::ReadCaCert {
        path: path.to_owned(),
        source,
    })?;
    let invalid = || ClientError::InvalidCaCert {
        path: path.to_owned(),
    };
    let pem: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|_| invalid())?;
    if !pem.is_empty() {
        return Ok(pem);
    }
    // Windows' certificate export writes binary DER by default.
    if matches!(X509Certificate::from_der(&bytes), Ok((rest, _)) if rest.is_empty()) {
        return Ok(vec![CertificateDer::from(bytes)]);
    }
    Err(invalid())
}
