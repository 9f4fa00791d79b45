//! Certificates as real servers present them: self-signed ones marked CA:TRUE (what
//! `openssl req -x509` makes), ones with only a common name (what Windows makes), ones signed by
//! a private CA. Pinning by file and by thumbprint, chain verification kept for everything
//! else, and looking at a server's certificate without trusting it.

use std::path::PathBuf;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use tempfile::TempDir;
use vbo_client::tls::{CertificateInfo, Digest, Thumbprint, presented_certificates, to_pem};
use vbo_client::{Client, ClientConfig, ClientError, TlsOptions};
use vbo_emulator::{DEFAULT_PASSWORD, DEFAULT_USER, Emulator, EmulatorConfig, EmulatorHandle, Tls};
use vbo_model::Secret;

/// A certificate and its key, as PEM and DER.
struct Made {
    pem: String,
    der: Vec<u8>,
    key_pem: String,
}

/// The DN every server certificate here carries.
const SERVER_CN: &str = "vbo01.contoso.local";

fn params(names: &[&str], common_name: &str) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    let mut params = CertificateParams::new(names).expect("valid names");
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params
}

fn self_signed(params: &CertificateParams) -> Made {
    let key = KeyPair::generate().expect("a key");
    let certificate = params.self_signed(&key).expect("a certificate");
    Made {
        pem: certificate.pem(),
        der: certificate.der().to_vec(),
        key_pem: key.serialize_pem(),
    }
}

/// What `openssl req -x509 -subj /CN=… -addext subjectAltName=…` makes: self-signed, for these
/// names, and marked as a certificate authority.
fn self_signed_marked_ca(names: &[&str]) -> Made {
    let mut params = params(names, SERVER_CN);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    self_signed(&params)
}

/// What Windows often makes: a common name and no subjectAltName at all.
fn common_name_only() -> CertificateParams {
    params(&[], SERVER_CN)
}

/// A private certificate authority.
struct Authority {
    made: Made,
    issuer: Issuer<'static, KeyPair>,
}

impl Authority {
    fn new(name: &str) -> Self {
        let mut params = params(&[], name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let key = KeyPair::generate().expect("a key");
        let certificate = params.self_signed(&key).expect("a certificate");
        Self {
            made: Made {
                pem: certificate.pem(),
                der: certificate.der().to_vec(),
                key_pem: key.serialize_pem(),
            },
            issuer: Issuer::new(params, key),
        }
    }

    fn sign(&self, params: &CertificateParams) -> Made {
        let key = KeyPair::generate().expect("a key");
        let certificate = params.signed_by(&key, &self.issuer).expect("signed");
        Made {
            pem: certificate.pem(),
            der: certificate.der().to_vec(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// An emulator presenting `chain` (PEM, its own certificate first) with `key`, and a folder for
/// the files a client is given.
struct Served {
    emulator: EmulatorHandle,
    dir: TempDir,
}

impl Served {
    async fn new(chain: &str, key: &Made) -> Self {
        let dir = tempfile::tempdir().expect("a folder");
        let cert = dir.path().join("server-chain.pem");
        let key_path = dir.path().join("server-key.pem");
        std::fs::write(&cert, chain).expect("written");
        std::fs::write(&key_path, &key.key_pem).expect("written");
        let emulator = Emulator::start(EmulatorConfig {
            tls: Tls::Files {
                cert,
                key: key_path,
            },
            ..EmulatorConfig::default()
        })
        .await
        .expect("the emulator starts");
        Self { emulator, dir }
    }

    async fn presenting(made: &Made) -> Self {
        Self::new(&made.pem, made).await
    }

    /// Writes `contents` to `name` in the folder.
    fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).expect("written");
        path
    }

    fn url(&self, host: &str) -> String {
        format!("https://{host}:{}", self.emulator.local_addr().port())
    }

    /// Logs in at `host` with `tls` and lists; fails the test on any error but a TLS one.
    async fn connect(&self, host: &str, tls: TlsOptions) -> Result<(), String> {
        let mut config =
            ClientConfig::new(self.url(host), DEFAULT_USER, Secret::new(DEFAULT_PASSWORD));
        config.tls = tls;
        match Client::connect(config).await {
            Ok(client) => {
                client.list().await.expect("a trusted server lists");
                Ok(())
            }
            Err(ClientError::Tls { detail, .. }) => Err(detail),
            Err(other) => panic!("expected success or a TLS error, got {other:?}"),
        }
    }

    /// How many requests reached the server: none may, through an untrusted connection.
    fn requests(&self) -> u64 {
        self.emulator.request_counts().by_route.values().sum()
    }
}

fn trusting_file(path: PathBuf) -> TlsOptions {
    TlsOptions {
        ca_cert: Some(path),
        ..TlsOptions::default()
    }
}

fn trusting_thumbprint(text: &str) -> TlsOptions {
    TlsOptions {
        thumbprint: Some(text.parse().expect("a thumbprint")),
        ..TlsOptions::default()
    }
}

#[tokio::test]
async fn a_self_signed_certificate_marked_ca_is_trusted_when_given_as_the_file() {
    let made = self_signed_marked_ca(&["127.0.0.1", "localhost"]);
    let served = Served::presenting(&made).await;
    let file = served.file("server.pem", made.pem.as_bytes());
    for host in ["127.0.0.1", "localhost"] {
        assert_eq!(
            served.connect(host, trusting_file(file.clone())).await,
            Ok(()),
            "{host}"
        );
    }
    // The same certificate, not named: verification refuses it and says pinning is the way.
    let detail = served
        .connect("127.0.0.1", TlsOptions::default())
        .await
        .unwrap_err();
    assert!(
        detail.contains("marked as a certificate authority (CA:TRUE)")
            && detail.contains("(pinned)"),
        "{detail}"
    );
}

#[tokio::test]
async fn a_common_name_only_certificate_is_trusted_pinned_as_pem_or_der() {
    let made = self_signed(&common_name_only());
    let served = Served::presenting(&made).await;
    let pem = served.file("server.pem", made.pem.as_bytes());
    assert_eq!(
        served.connect("127.0.0.1", trusting_file(pem)).await,
        Ok(())
    );
    // Windows exports DER (.cer) by default.
    let der = served.file("server.cer", &made.der);
    assert_eq!(
        served.connect("127.0.0.1", trusting_file(der)).await,
        Ok(())
    );
    // Pinned among other certificates of a bundle, too.
    let other = Authority::new("Contoso Root CA");
    let bundle = served.file(
        "bundle.pem",
        format!("{}{}", other.made.pem, made.pem).as_bytes(),
    );
    assert_eq!(
        served.connect("localhost", trusting_file(bundle)).await,
        Ok(())
    );
}

#[tokio::test]
async fn a_pinned_certificate_is_trusted_even_past_its_validity() {
    let mut expired = params(&["127.0.0.1"], SERVER_CN);
    expired.not_after = rcgen::date_time_ymd(2020, 1, 1);
    let made = self_signed(&expired);
    let served = Served::presenting(&made).await;
    let file = served.file("server.pem", made.pem.as_bytes());
    assert_eq!(
        served.connect("127.0.0.1", trusting_file(file)).await,
        Ok(())
    );
    let thumbprint = Thumbprint::of(Digest::Sha1, &made.der).plain();
    assert_eq!(
        served
            .connect("127.0.0.1", trusting_thumbprint(&thumbprint))
            .await,
        Ok(())
    );
    // Not pinned, the chain verifier refuses it as before.
    let detail = served
        .connect("127.0.0.1", TlsOptions::default())
        .await
        .unwrap_err();
    assert_eq!(detail, "it has expired");
}

#[tokio::test]
async fn a_common_name_only_certificate_not_pinned_is_refused_naming_the_missing_subject_alt_name()
{
    let authority = Authority::new("Contoso Root CA");
    let made = authority.sign(&common_name_only());
    let served = Served::presenting(&made).await;

    // Its CA is trusted, so only the name is wrong.
    let ca = served.file("ca.pem", authority.made.pem.as_bytes());
    let detail = served
        .connect("127.0.0.1", trusting_file(ca))
        .await
        .unwrap_err();
    assert_eq!(
        detail,
        format!(
            "it names no host in subjectAltName, only a common name (CN={SERVER_CN}), which TLS \
             clients no longer match against the host name; such a certificate can be trusted \
             only as that exact certificate (pinned)"
        )
    );

    // Against the system's roots alone, both problems are named.
    let detail = served
        .connect("127.0.0.1", TlsOptions::default())
        .await
        .unwrap_err();
    assert!(
        detail.starts_with("it names no host in subjectAltName, only a common name")
            && detail
                .contains("and it is not signed by a certificate authority this machine trusts")
            && detail.ends_with("(pinned)"),
        "{detail}"
    );
    assert_eq!(served.requests(), 0, "nothing was sent");
}

#[tokio::test]
async fn a_certificate_signed_by_a_ca_in_the_file_is_verified_with_its_host_name() {
    let authority = Authority::new("Contoso Root CA");
    let made = authority.sign(&params(&["127.0.0.1"], SERVER_CN));
    let served = Served::presenting(&made).await;
    let ca = served.file("ca.pem", authority.made.pem.as_bytes());
    assert_eq!(
        served.connect("127.0.0.1", trusting_file(ca.clone())).await,
        Ok(())
    );
    // The chain is fine but the certificate is not for `localhost`: the host name is checked.
    let detail = served
        .connect("localhost", trusting_file(ca))
        .await
        .unwrap_err();
    assert_eq!(detail, "it is not valid for this host name");
}

#[tokio::test]
async fn a_certificate_neither_pinned_nor_chained_is_refused() {
    let names = ["127.0.0.1", "localhost"];
    let made = self_signed(&params(&names, SERVER_CN));
    let served = Served::presenting(&made).await;
    // A certificate just like it (same subject, same names) but with another key: nothing
    // looser than an exact match is trusted.
    let look_alike = self_signed(&params(&names, SERVER_CN));
    let file = served.file("look-alike.pem", look_alike.pem.as_bytes());
    let refused = served.connect("127.0.0.1", trusting_file(file)).await;
    assert!(refused.is_err(), "{refused:?}");
    // An unrelated CA.
    let authority = Authority::new("Contoso Root CA");
    let file = served.file("other-ca.pem", authority.made.pem.as_bytes());
    let detail = served
        .connect("127.0.0.1", trusting_file(file))
        .await
        .unwrap_err();
    assert_eq!(
        detail,
        "it is not signed by a certificate authority this machine trusts"
    );
    let detail = served
        .connect("127.0.0.1", TlsOptions::default())
        .await
        .unwrap_err();
    assert_eq!(
        detail,
        "it is not signed by a certificate authority this machine trusts"
    );
    assert_eq!(served.requests(), 0, "nothing was sent");
}

#[tokio::test]
async fn a_thumbprint_trusts_exactly_the_certificate_it_names() {
    let made = self_signed(&common_name_only());
    let served = Served::presenting(&made).await;
    let sha256 = Thumbprint::of(Digest::Sha256, &made.der);
    let sha1 = Thumbprint::of(Digest::Sha1, &made.der);
    for given in [
        sha256.colons().to_ascii_lowercase(),
        sha256.plain(),
        sha1.colons().to_ascii_lowercase(),
        sha1.plain(),
        sha1.colons().replace(':', " "),
    ] {
        assert_eq!(
            served
                .connect("127.0.0.1", trusting_thumbprint(&given))
                .await,
            Ok(()),
            "{given}"
        );
    }

    // Another certificate's thumbprint: refused, naming what the server presented, by the
    // same hash as the one given.
    let before = served.requests();
    let other = self_signed(&common_name_only());
    for digest in [Digest::Sha256, Digest::Sha1] {
        let wrong = Thumbprint::of(digest, &other.der);
        let presented = Thumbprint::of(digest, &made.der);
        let detail = served
            .connect("127.0.0.1", trusting_thumbprint(&wrong.plain()))
            .await
            .unwrap_err();
        assert_eq!(
            detail,
            format!(
                "the server presented a certificate whose {} thumbprint is {presented}, not {wrong}",
                digest.name()
            )
        );
    }
    assert_eq!(served.requests(), before, "nothing was sent");
}

#[tokio::test]
async fn the_presented_chain_is_read_without_trusting_it_or_sending_a_request() {
    let authority = Authority::new("Contoso Root CA");
    let made = authority.sign(&params(&["localhost", "127.0.0.1"], SERVER_CN));
    let served = Served::new(&format!("{}{}", made.pem, authority.made.pem), &made).await;

    let chain = presented_certificates(&served.url("127.0.0.1"), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(chain.len(), 2);
    assert_eq!(chain[0].as_ref(), made.der.as_slice());
    assert_eq!(chain[1].as_ref(), authority.made.der.as_slice());

    let leaf = CertificateInfo::parse(&chain[0]).unwrap();
    assert_eq!(leaf.subject, format!("CN={SERVER_CN}"));
    assert_eq!(leaf.issuer, "CN=Contoso Root CA");
    assert!(!leaf.is_self_issued());
    assert_eq!(leaf.common_name.as_deref(), Some(SERVER_CN));
    assert_eq!(leaf.names, ["DNS:localhost", "IP:127.0.0.1"]);
    assert!(!leaf.is_ca);
    assert!(leaf.not_before < leaf.not_after);
    assert_eq!(leaf.sha256, Thumbprint::of(Digest::Sha256, &made.der));
    assert_eq!(leaf.sha1, Thumbprint::of(Digest::Sha1, &made.der));
    let root = CertificateInfo::parse(&chain[1]).unwrap();
    assert!(root.is_ca && root.is_self_issued() && root.names.is_empty());

    // The PEM written for --ca-cert holds exactly the presented certificate.
    let pem = to_pem(&chain[0]);
    let read: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(read, [chain[0].clone()]);
    assert_eq!(pem.replace("\r\n", "\n"), made.pem.replace("\r\n", "\n"));

    assert_eq!(served.requests(), 0, "only a handshake took place");

    // Plain HTTP presents nothing, and says so.
    let error = presented_certificates(
        &served.url("127.0.0.1").replace("https://", "http://"),
        Duration::from_secs(10),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&error, ClientError::InvalidServer { reason, .. } if reason.contains("http://")),
        "{error:?}"
    );
}

#[test]
fn a_common_name_only_certificate_reads_as_having_no_names() {
    let made = self_signed(&common_name_only());
    let info = CertificateInfo::parse(&made.der).unwrap();
    assert!(info.names.is_empty());
    assert_eq!(info.common_name.as_deref(), Some(SERVER_CN));
    assert!(!info.is_ca);
    let marked = CertificateInfo::parse(&self_signed_marked_ca(&["localhost"]).der).unwrap();
    assert!(marked.is_ca);
    assert!(CertificateInfo::parse(b"not a certificate").is_err());
}
