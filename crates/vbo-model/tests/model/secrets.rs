//! Secrets that are files: a certificate is read as bytes and sent in base64, a password is
//! read as text.

use base64::Engine as _;
use vbo_model::SecretRef;
use vbo_model::secret::SecretError;

/// Bytes that are not UTF-8, as a `.pfx` file's are, ending in a newline that must be kept.
const PFX: &[u8] = &[0x30, 0x82, 0x0a, 0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, b'\n'];

#[test]
fn a_certificate_file_is_its_bytes_in_base64_and_a_password_file_must_be_text() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("app.pfx");
    std::fs::write(&path, PFX).unwrap();
    let reference = SecretRef::FromFile(path.clone());

    for field in [
        "x.applicationCertificate",
        "spec.exchangeOnlineSettings.applicationCertificate",
        "applicationCertificate",
    ] {
        let secret = reference.resolve_field(field).unwrap();
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(secret.expose())
                .unwrap(),
            PFX,
            "{field}"
        );
        assert_eq!(
            secret.expose(),
            base64::engine::general_purpose::STANDARD.encode(PFX)
        );
    }

    for field in [
        "x.password",
        "x.applicationCertificatePassword",
        "x.applicationCertificateThumbprint",
    ] {
        let error = reference.resolve_field(field).unwrap_err();
        assert!(
            matches!(&error, SecretError::NonUnicodeFile { path: named } if *named == path),
            "{field}: {error:?}"
        );
        assert_eq!(
            error.to_string(),
            format!("secret file {} is not valid UTF-8", path.display())
        );
    }
    assert!(matches!(
        reference.resolve(),
        Err(SecretError::NonUnicodeFile { .. })
    ));
}

#[test]
fn text_secrets_are_unchanged_by_the_certificate_rule() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("pw.txt");
    std::fs::write(&path, "s3cret\n").unwrap();
    let reference = SecretRef::FromFile(path);
    assert_eq!(
        reference.resolve_field("x.password").unwrap().expose(),
        "s3cret"
    );
    // A certificate named by a text file is still its bytes, newline and all.
    assert_eq!(
        reference
            .resolve_field("x.applicationCertificate")
            .unwrap()
            .expose(),
        base64::engine::general_purpose::STANDARD.encode("s3cret\n")
    );
    // A literal or a variable already holds the base64 text: it is passed on as it is.
    let literal = SecretRef::Literal(vbo_model::Secret::new("MIIK"));
    assert_eq!(
        literal
            .resolve_field("x.applicationCertificate")
            .unwrap()
            .expose(),
        "MIIK"
    );
}
