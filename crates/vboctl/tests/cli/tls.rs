//! Trusting real servers' certificates from the command line: `--ca-cert` with the server's own
//! certificate (pinning), `--tls-thumbprint`, `vboctl server-cert`, and the errors and hints
//! when a certificate is not trusted.

use std::path::Path;
use std::process::Command;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use vbo_client::tls::{Digest, Thumbprint};
use vbo_emulator::{EmulatorConfig, Tls};

use crate::support::{Run, Server, execute};

/// The common name of every server certificate here.
const SERVER_CN: &str = "vbo01.contoso.local";

/// A password that must never be printed.
const PASSWORD_MARKER: &str = "Never-Printed-Password-7f3a";

/// A certificate and its key, PEM, and the certificate's DER.
struct Made {
    pem: String,
    der: Vec<u8>,
    key_pem: String,
}

fn params(names: &[&str]) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    let mut params = CertificateParams::new(names).expect("valid names");
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, SERVER_CN);
    params
}

fn made(certificate: &rcgen::Certificate, key: &KeyPair) -> Made {
    Made {
        pem: certificate.pem(),
        der: certificate.der().to_vec(),
        key_pem: key.serialize_pem(),
    }
}

/// Self-signed and marked CA:TRUE, as `openssl req -x509` makes it, for the loopback names.
fn openssl_style() -> Made {
    let mut params = params(&["127.0.0.1", "localhost"]);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let key = KeyPair::generate().expect("a key");
    made(&params.self_signed(&key).expect("a certificate"), &key)
}

/// A common name and no subjectAltName, as Windows often makes it, signed by `issuer` or by
/// itself.
fn common_name_only(issuer: Option<&Issuer<'static, KeyPair>>) -> Made {
    let params = params(&[]);
    let key = KeyPair::generate().expect("a key");
    let certificate = match issuer {
        Some(issuer) => params.signed_by(&key, issuer),
        None => params.self_signed(&key),
    };
    made(&certificate.expect("a certificate"), &key)
}

/// A private certificate authority: its certificate (PEM) and what signs with it.
fn authority() -> (String, Issuer<'static, KeyPair>) {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, "Contoso Root CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let key = KeyPair::generate().expect("a key");
    let pem = params.self_signed(&key).expect("a certificate").pem();
    (pem, Issuer::new(params, key))
}

/// An emulator presenting `made`, with an empty manifest in its folder (so a plan is a login
/// and a list) and the certificate in `ca.pem`.
async fn presenting(made: &Made) -> Server {
    let keys = tempfile::tempdir().expect("a folder");
    let cert = keys.path().join("cert.pem");
    let key = keys.path().join("key.pem");
    std::fs::write(&cert, &made.pem).expect("written");
    std::fs::write(&key, &made.key_pem).expect("written");
    let server = Server::start(EmulatorConfig {
        tls: Tls::Files { cert, key },
        ..EmulatorConfig::default()
    })
    .await;
    server.write("manifests/none-yet.yaml", "# no organizations yet\n");
    server
}

/// `vboctl plan manifests` against `server`, trusting nothing but what `args` say.
fn plan(server: &Server, args: &[&str]) -> Command {
    let mut command = server.vboctl();
    command
        .env_remove("VBOCTL_CA_CERT")
        .args(["plan", "manifests"])
        .args(args);
    command
}

/// The run planned against the server: it logged in, listed and found nothing to do.
#[track_caller]
fn assert_planned(run: Run, server: &Server) {
    let run = run.expect_code(0);
    assert_eq!(
        run.stdout,
        format!(
            "Server: {} (REST API v3)\n\nNo changes. Neither the manifests nor the server have any organization.\n",
            server.emulator.base_url()
        )
    );
    assert_eq!(run.stderr, "", "a verified connection warns of nothing");
}

/// The run was refused for the certificate before anything reached the server, with the
/// error `detail` and the hint that leads to pinning.
#[track_caller]
fn assert_refused(run: Run, server: &Server, detail: &str) {
    let run = run.expect_code(1);
    assert_eq!(run.stdout, "");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "the error and its hint:\n{}", run.stderr);
    assert_eq!(
        lines[0],
        format!(
            "error: cannot verify the TLS certificate of {}: {detail}",
            server.emulator.base_url()
        )
    );
    assert_hint_leads_to_pinning(lines[1], server);
    assert_eq!(
        server.emulator.request_counts().by_route,
        Default::default(),
        "no request got through"
    );
}

#[track_caller]
fn assert_hint_leads_to_pinning(hint: &str, server: &Server) {
    let server_cert = format!(
        "`vboctl server-cert --server {} --out server.pem`",
        server.emulator.base_url()
    );
    assert!(
        hint.starts_with("  hint: see what the server presents with "),
        "{hint}"
    );
    let first = |needle: &str| hint.find(needle).unwrap_or(usize::MAX);
    assert!(
        first(&server_cert) < first("--ca-cert server.pem")
            && first("--tls-thumbprint HEX") < usize::MAX,
        "{hint}"
    );
    assert!(!hint.contains("--insecure"), "{hint}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_certificate_marked_ca_is_trusted_with_ca_cert() {
    let made = openssl_style();
    let server = presenting(&made).await;
    let ca = server.write("server.pem", &made.pem);
    let run = execute(plan(&server, &["--ca-cert", &ca.display().to_string()])).await;
    assert_planned(run, &server);
    // And through the variable.
    let mut command = plan(&server, &[]);
    command.env("VBOCTL_CA_CERT", &ca);
    assert_planned(execute(command).await, &server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_common_name_only_certificate_works_pinned_and_otherwise_says_how_to_pin_it() {
    let (ca_pem, issuer) = authority();
    let made = common_name_only(Some(&issuer));
    let server = presenting(&made).await;
    let expected = format!(
        "it names no host in subjectAltName, only a common name (CN={SERVER_CN}), which TLS \
         clients no longer match against the host name; such a certificate can be trusted only \
         as that exact certificate (pinned)"
    );

    // Its CA is trusted, so only the missing name stands in the way.
    let ca = server.write("ca.pem", &ca_pem);
    let run = execute(plan(&server, &["--ca-cert", &ca.display().to_string()])).await;
    assert_refused(run, &server, &expected);

    // The system's roots alone: the same, and the unknown issuer too.
    let run = execute(plan(&server, &[])).await.expect_code(1);
    assert!(
        run.stderr
            .contains("it names no host in subjectAltName, only a common name")
            && run
                .stderr
                .contains("and it is not signed by a certificate authority this machine trusts"),
        "{}",
        run.stderr
    );

    // Pinned, alone or in a bundle with its CA.
    let pinned = server.write("server.pem", &made.pem);
    let run = execute(plan(&server, &["--ca-cert", &pinned.display().to_string()])).await;
    assert_planned(run, &server);
    let bundle = server.write("bundle.pem", &format!("{ca_pem}{}", made.pem));
    let run = execute(plan(&server, &["--ca-cert", &bundle.display().to_string()])).await;
    assert_planned(run, &server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thumbprint_trusts_exactly_the_certificate_it_names() {
    let made = common_name_only(None);
    let server = presenting(&made).await;
    let sha256 = Thumbprint::of(Digest::Sha256, &made.der);
    let sha1 = Thumbprint::of(Digest::Sha1, &made.der);

    for given in [sha256.colons().to_ascii_lowercase(), sha1.plain()] {
        let run = execute(plan(&server, &["--tls-thumbprint", &given])).await;
        assert_planned(run, &server);
    }
    let mut command = plan(&server, &[]);
    command.env("VBOCTL_TLS_THUMBPRINT", sha1.colons().to_ascii_lowercase());
    assert_planned(execute(command).await, &server);

    // Another certificate's: refused, naming what the server presented, by the same hash.
    let fresh = presenting(&made).await;
    let other = common_name_only(None);
    for digest in [Digest::Sha256, Digest::Sha1] {
        let wrong = Thumbprint::of(digest, &other.der);
        let presented = Thumbprint::of(digest, &made.der);
        let run = execute(plan(&fresh, &["--tls-thumbprint", &wrong.colons()])).await;
        assert_refused(
            run,
            &fresh,
            &format!(
                "the server presented a certificate whose {} thumbprint is {presented}, not {wrong}",
                digest.name()
            ),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_or_conflicting_thumbprint_is_a_usage_error_before_any_request() {
    let made = common_name_only(None);
    let server = presenting(&made).await;
    let sha1 = Thumbprint::of(Digest::Sha1, &made.der).plain();

    let run = execute(plan(&server, &["--tls-thumbprint", &sha1[..39]]))
        .await
        .expect_code(1);
    assert_eq!(
        run.stderr,
        format!(
            "error: invalid --tls-thumbprint (VBOCTL_TLS_THUMBPRINT) \"{}\": it has 39 hex digits; \
             expected the certificate's SHA-256 fingerprint (64 hex digits) or SHA-1 thumbprint \
             (40 hex digits)\n  hint: run `vboctl server-cert` to see the server certificate's \
             SHA-256 fingerprint and SHA-1 thumbprint\n",
            &sha1[..39]
        )
    );
    let run = execute(plan(&server, &["--tls-thumbprint", "sha1:0123"]))
        .await
        .expect_code(1);
    assert!(run.stderr.contains("is not a hex digit"), "{}", run.stderr);

    let ca = server.write("server.pem", &made.pem);
    for other in [
        vec!["--ca-cert", ca.to_str().expect("a UTF-8 path")],
        vec!["--insecure"],
    ] {
        let mut args = vec!["--tls-thumbprint", sha1.as_str()];
        args.extend(other);
        let run = execute(plan(&server, &args)).await.expect_code(1);
        assert!(
            run.stderr
                .starts_with("error: --tls-thumbprint (VBOCTL_TLS_THUMBPRINT) and --"),
            "{}",
            run.stderr
        );
    }
    assert_eq!(
        server.emulator.request_counts().by_route,
        Default::default()
    );

    // A blank variable counts as unset.
    let mut command = plan(&server, &["--ca-cert", ca.to_str().expect("a UTF-8 path")]);
    command.env("VBOCTL_TLS_THUMBPRINT", "");
    assert_planned(execute(command).await, &server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_neither_pinned_nor_chained_is_still_refused() {
    let made = openssl_style();
    let server = presenting(&made).await;
    let (ca_pem, _) = authority();
    let other = openssl_style();
    let file = server.write("others.pem", &format!("{ca_pem}{}", other.pem));
    let run = execute(plan(&server, &["--ca-cert", &file.display().to_string()])).await;
    assert_refused(
        run,
        &server,
        "it is marked as a certificate authority (CA:TRUE), which a server's own certificate \
         must not be; such a certificate can be trusted only as that exact certificate (pinned)",
    );
}

/// `vboctl server-cert ARGS` in the server's folder, with a password in the environment that it
/// must neither need nor show.
async fn server_cert(server: &Server, args: &[&str]) -> Run {
    let mut command = crate::support::bare_vboctl(server.path());
    command
        .arg("server-cert")
        .args(args)
        .env("VBOCTL_PASSWORD", PASSWORD_MARKER)
        .env("VBOCTL_USERNAME", "admin");
    let run = execute(command).await;
    assert!(
        !run.stdout.contains(PASSWORD_MARKER) && !run.stderr.contains(PASSWORD_MARKER),
        "the password is never printed"
    );
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_cert_shows_and_saves_the_certificate_for_ca_cert_without_logging_in() {
    let made = common_name_only(None);
    let server = presenting(&made).await;
    let url = server.emulator.base_url().to_owned();
    let sha256 = Thumbprint::of(Digest::Sha256, &made.der);
    let sha1 = Thumbprint::of(Digest::Sha1, &made.der);

    let run = server_cert(&server, &["--server", &url, "--out", "f.pem"])
        .await
        .expect_code(0);
    assert_eq!(run.stderr, "");
    for line in [
        format!("Server: {url}\n"),
        "Certificate (the server's own):\n".to_owned(),
        format!("  Subject:             CN={SERVER_CN}\n"),
        format!("  Issuer:              CN={SERVER_CN} (self-signed)\n"),
        "  Names:               none: common name only".to_owned(),
        "  CA:                  no\n".to_owned(),
        format!("  SHA-256 fingerprint: {}\n", sha256.colons()),
        format!("                       {}\n", sha256.plain()),
        format!("  SHA-1 thumbprint:    {}\n", sha1.colons()),
        format!("                       {}\n", sha1.plain()),
        "Saved the server's own certificate to f.pem.\n".to_owned(),
        format!("  vboctl plan --server {url} --ca-cert f.pem\n"),
        format!(
            "  vboctl plan --server {url} --tls-thumbprint {}\n",
            sha256.plain()
        ),
    ] {
        assert!(run.stdout.contains(&line), "{line:?} in:\n{}", run.stdout);
    }
    // rcgen's defaults, in the form every date takes.
    assert!(
        run.stdout
            .contains("  Not before:          1975-01-01 00:00:00 UTC\n")
            && run
                .stdout
                .contains("  Not after:           4096-01-01 00:00:00 UTC\n"),
        "{}",
        run.stdout
    );
    assert_eq!(
        server.emulator.request_counts().by_route,
        Default::default(),
        "only a TLS handshake: no login, no request"
    );

    // The saved file is exactly the presented certificate, and --ca-cert trusts it.
    let saved = std::fs::read_to_string(server.path().join("f.pem")).expect("saved");
    assert_eq!(saved.replace("\r\n", "\n"), made.pem.replace("\r\n", "\n"));
    let run = execute(plan(&server, &["--ca-cert", "f.pem"])).await;
    assert_planned(run, &server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_cert_reads_the_server_from_the_environment_and_names_a_cas_certificate() {
    let made = openssl_style();
    let server = presenting(&made).await;
    let mut command = crate::support::bare_vboctl(server.path());
    command.arg("server-cert").env(
        "VBOCTL_SERVER",
        format!("{}/v3", server.emulator.base_url()),
    );
    let run = execute(command).await.expect_code(0);
    assert!(
        run.stdout
            .contains("  Names:               DNS:localhost, IP:127.0.0.1\n")
            || run
                .stdout
                .contains("  Names:               IP:127.0.0.1, DNS:localhost\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("  CA:                  yes (CA:TRUE)\n")
    );
    assert!(!run.stdout.contains("Saved"), "nothing saved without --out");

    // Without a server, or with plain HTTP, it says what to do.
    let run = server_cert(&server, &[]).await.expect_code(1);
    assert_eq!(
        run.stderr,
        "error: no server given\n  hint: pass --server URL or set VBOCTL_SERVER\n"
    );
    let plain = server
        .emulator
        .base_url()
        .replacen("https://", "http://", 1);
    let run = server_cert(&server, &["--server", &plain])
        .await
        .expect_code(1);
    assert!(
        run.stderr
            .contains("it is http://, which presents no certificate"),
        "{}",
        run.stderr
    );
    assert!(!Path::new(&server.path().join("f.pem")).exists());
}
