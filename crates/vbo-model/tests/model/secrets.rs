//! Secrets that are files: a certificate is read as bytes and sent in base64, a password is
//! read as text.

use base64::Engine as _;
use std::path::Path;

use vbo_model::env_file::{EnvFile, EnvFileError};
use vbo_model::secret::SecretError;
use vbo_model::{Environment, SecretRef};

/// The process environment alone, as without --env-file.
static ENV: std::sync::LazyLock<Environment> = std::sync::LazyLock::new(Environment::process);

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
        let secret = reference.resolve_field(field, &ENV).unwrap();
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
        let error = reference.resolve_field(field, &ENV).unwrap_err();
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
        reference.resolve(&ENV),
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
        reference
            .resolve_field("x.password", &ENV)
            .unwrap()
            .expose(),
        "s3cret"
    );
    // A certificate named by a text file is still its bytes, newline and all.
    assert_eq!(
        reference
            .resolve_field("x.applicationCertificate", &ENV)
            .unwrap()
            .expose(),
        base64::engine::general_purpose::STANDARD.encode("s3cret\n")
    );
    // A literal or a variable already holds the base64 text: it is passed on as it is.
    let literal = SecretRef::Literal(vbo_model::Secret::new("MIIK"));
    assert_eq!(
        literal
            .resolve_field("x.applicationCertificate", &ENV)
            .unwrap()
            .expose(),
        "MIIK"
    );
}

#[test]
fn an_env_file_is_read_from_disk_and_serves_from_env_references() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("secrets.env");
    std::fs::write(
        &path,
        "# contoso\nexport VBOCTL_TEST_ENV_FILE_A='$lit\\n'\nVBOCTL_TEST_ENV_FILE_B=\"x\\ny\" # two lines\n",
    )
    .unwrap();
    let env = Environment::with_file(EnvFile::read(&path).unwrap());
    let get = |var: &str| SecretRef::FromEnv(var.into()).resolve(&env).unwrap();
    assert_eq!(get("VBOCTL_TEST_ENV_FILE_A").expose(), r"$lit\n");
    assert_eq!(get("VBOCTL_TEST_ENV_FILE_B").expose(), "x\ny");
    assert_eq!(
        env.file().unwrap().names().collect::<Vec<_>>(),
        ["VBOCTL_TEST_ENV_FILE_A", "VBOCTL_TEST_ENV_FILE_B"]
    );
}

#[test]
fn a_missing_env_file_is_an_error_naming_it() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("nowhere.env");
    let error = EnvFile::read(&path).unwrap_err();
    assert!(
        matches!(error, EnvFileError::Unreadable { .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot read the env file {}: ", path.display())),
        "{error}"
    );
}

#[test]
fn an_env_file_that_is_not_text_is_an_error_at_its_line() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("binary.env");
    std::fs::write(&path, b"A=1\nB=\xff\xfe-hunter2\n").unwrap();
    let error = EnvFile::read(&path).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("{}:2: not UTF-8 text", path.display())
    );
}

#[cfg(unix)]
#[test]
fn an_env_file_readable_by_others_is_noticed() {
    use std::os::unix::fs::PermissionsExt as _;
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("open.env");
    std::fs::write(&path, "A=1\n").unwrap();
    for (mode, loose) in [
        (0o600, None),
        (0o400, None),
        (0o640, Some(0o640)),
        (0o604, Some(0o604)),
    ] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        assert_eq!(
            EnvFile::read(&path).unwrap().loose_mode(),
            loose,
            "{mode:o}"
        );
    }
    // Parsed from text, not read from disk: nothing to say about permissions.
    assert_eq!(
        EnvFile::parse(Path::new("x.env"), "A=1")
            .unwrap()
            .loose_mode(),
        None
    );
}
