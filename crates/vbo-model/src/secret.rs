//! Secrets: where a manifest says a password comes from ([`SecretRef`]) and the value itself
//! ([`Secret`]).
//!
//! Neither type can leak a value by accident: [`Secret`] has no `Display` and its `Debug` prints
//! `Secret(<redacted>)`, and [`SecretRef`] serializes a literal as a marker, never as its text.
//! The only ways to reach a value are [`Secret::expose`] and serializing a [`Secret`] into a
//! request body for the server.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::env_file::EnvFile;

/// A secret value (a password, an application secret, a certificate password).
///
/// `Debug` prints `Secret(<redacted>)` and there is no `Display`, so a value cannot end up in a
/// log line or an error message by accident. It serializes as a plain string because request
/// bodies sent to the server must carry it; nothing else should serialize it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value read from the environment, a file, a prompt or a request body.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself. Call it only where the value must leave the process (an HTTP request)
    /// or be compared.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

impl JsonSchema for Secret {
    fn schema_name() -> Cow<'static, str> {
        "Secret".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        String::json_schema(generator)
    }
}

/// Spec fields whose secret is a file (a `.pfx` certificate), sent base64-encoded.
pub const BINARY_FIELDS: &[&str] = &["applicationCertificate"];

/// Where a secret comes from, as written in a manifest.
///
/// In YAML: `{fromEnv: VAR}`, `{fromFile: path}` or a literal string. Literals are accepted with
/// a warning (`vboctl validate --strict` rejects them) because they put the secret in git.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum SecretRef {
    /// Read from this environment variable when planning and applying.
    FromEnv(String),
    /// Read from this file (trailing newlines trimmed). The loader rebases a relative path on
    /// the folder of the manifest that names it.
    FromFile(PathBuf),
    /// Written in the manifest itself.
    Literal(Secret),
}

/// Why a [`SecretRef`] could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The environment variable is not set.
    #[error("environment variable {var} is not set")]
    MissingEnv {
        /// The variable's name.
        var: String,
    },
    /// The environment variable is not set, and the env file does not set it either.
    #[error("environment variable {var} is not set, and {} does not set it either", env_file.display())]
    MissingEnvAndFile {
        /// The variable's name.
        var: String,
        /// The env file that was read.
        env_file: PathBuf,
    },
    /// The variable is not in the environment, and the env file sets it to nothing (a line
    /// `VAR=` of an example file that was not filled in).
    #[error("environment variable {var} is not set, and {} sets it to an empty value", env_file.display())]
    EmptyInEnvFile {
        /// The variable's name.
        var: String,
        /// The env file that was read.
        env_file: PathBuf,
    },
    /// The environment variable holds bytes that are not UTF-8.
    #[error("environment variable {var} is not valid UTF-8")]
    NonUnicodeEnv {
        /// The variable's name.
        var: String,
    },
    /// The file could not be read.
    #[error("cannot read secret file {}: {source}", path.display())]
    UnreadableFile {
        /// The file, after rebasing on the manifest's folder.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file is not UTF-8 text.
    #[error("secret file {} is not valid UTF-8", path.display())]
    NonUnicodeFile {
        /// The file, after rebasing on the manifest's folder.
        path: PathBuf,
    },
}

/// Where `fromEnv` references are looked up: the process environment and, when one was given,
/// an env file ([`EnvFile`]).
///
/// The process environment wins: a variable set there is used even when the file sets it too,
/// so that a value exported for one run overrides the file. The file's values serve `fromEnv`
/// references only; they never enter the process environment. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    file: Option<Arc<EnvFile>>,
}

impl Environment {
    /// The process environment alone.
    pub fn process() -> Self {
        Self::default()
    }

    /// The process environment, then `file` for the variables it does not set.
    pub fn with_file(file: EnvFile) -> Self {
        Self {
            file: Some(Arc::new(file)),
        }
    }

    /// The env file, if one was given.
    pub fn file(&self) -> Option<&EnvFile> {
        self.file.as_deref()
    }

    /// The value of variable `var`: from the process environment when it is set there, else
    /// from the env file. Errors name the variable and the file, never a value.
    pub fn get(&self, var: &str) -> Result<Secret, SecretError> {
        match std::env::var(var) {
            Ok(value) => Ok(Secret::new(value)),
            Err(std::env::VarError::NotUnicode(_)) => Err(SecretError::NonUnicodeEnv {
                var: var.to_owned(),
            }),
            Err(std::env::VarError::NotPresent) => {
                let Some(file) = &self.file else {
                    return Err(SecretError::MissingEnv {
                        var: var.to_owned(),
                    });
                };
                match file.get(var) {
                    Some(value) if !value.expose().is_empty() => Ok(value.clone()),
                    Some(_) => Err(SecretError::EmptyInEnvFile {
                        var: var.to_owned(),
                        env_file: file.path().to_owned(),
                    }),
                    None => Err(SecretError::MissingEnvAndFile {
                        var: var.to_owned(),
                        env_file: file.path().to_owned(),
                    }),
                }
            }
        }
    }
}

impl SecretRef {
    /// Reads the value now: the variable from `env` (the process environment, then the env
    /// file) or the file from disk.
    ///
    /// Errors name the variable or the file, never a value.
    pub fn resolve(&self, env: &Environment) -> Result<Secret, SecretError> {
        match self {
            SecretRef::FromEnv(var) => env.get(var),
            SecretRef::FromFile(path) => {
                let bytes = std::fs::read(path).map_err(|source| SecretError::UnreadableFile {
                    path: path.clone(),
                    source,
                })?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| SecretError::NonUnicodeFile { path: path.clone() })?;
                Ok(Secret::new(text.trim_end_matches(['\n', '\r'])))
            }
            SecretRef::Literal(secret) => Ok(secret.clone()),
        }
    }

    /// Reads the value of the spec field at `path` (dotted, as
    /// [`SecretField::path`](crate::manifest::SecretField) gives it). Fields that hold a file
    /// rather than text ([`BINARY_FIELDS`]) read a `fromFile` as bytes and encode it in base64;
    /// every other field reads as [`resolve`](Self::resolve) does.
    pub fn resolve_field(&self, path: &str, env: &Environment) -> Result<Secret, SecretError> {
        let binary = BINARY_FIELDS
            .iter()
            .any(|field| path.rsplit('.').next() == Some(*field));
        match self {
            SecretRef::FromFile(path) if binary => {
                use base64::Engine as _;
                let bytes = std::fs::read(path).map_err(|source| SecretError::UnreadableFile {
                    path: path.clone(),
                    source,
                })?;
                Ok(Secret::new(
                    base64::engine::general_purpose::STANDARD.encode(bytes),
                ))
            }
            _ => self.resolve(env),
        }
    }

    /// Makes a relative `fromFile` path relative to `dir` (the manifest's folder) instead of the
    /// working directory. Other variants are unchanged.
    pub fn rebase(&mut self, dir: &Path) {
        if let SecretRef::FromFile(path) = self
            && path.is_relative()
        {
            *path = dir.join(&*path);
        }
    }

    /// A description safe to print: `env VAR`, `file PATH` or `literal in manifest`.
    pub fn describe(&self) -> String {
        match self {
            SecretRef::FromEnv(var) => format!("env {var}"),
            SecretRef::FromFile(path) => format!("file {}", path.display()),
            SecretRef::Literal(_) => "literal in manifest".to_owned(),
        }
    }

    /// Whether the secret is written in the manifest itself.
    pub fn is_literal(&self) -> bool {
        matches!(self, SecretRef::Literal(_))
    }
}

/// The YAML forms of a secret reference, used for deserialization and for the schema.
#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(
    title = "SecretRef",
    description = "A secret: `{fromEnv: VARIABLE}`, `{fromFile: PATH}`, or the value itself \
                   (accepted with a warning, since it puts the secret in git)."
)]
enum SecretRefForm {
    /// The secret written in the manifest. Accepted with a warning: anyone who can read the
    /// repository can read the secret. Prefer `fromEnv` or `fromFile`.
    Literal(String),
    /// Read the secret from an environment variable when planning and applying.
    Env(FromEnv),
    /// Read the secret from a file when planning and applying.
    File(FromFile),
}

/// Read the secret from an environment variable.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct FromEnv {
    /// Name of the environment variable that holds the secret, for example
    /// `CONTOSO_EXO_PASSWORD`. `vboctl validate` does not need it set; `plan` and `apply` do.
    #[serde(rename = "fromEnv")]
    #[schemars(length(min = 1), example = &"CONTOSO_EXO_PASSWORD")]
    from_env: String,
}

/// Read the secret from a file.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct FromFile {
    /// Path of a file holding the secret, relative to this manifest's folder. A trailing newline
    /// is ignored.
    #[serde(rename = "fromFile")]
    #[schemars(length(min = 1), example = &"secrets/contoso-exo.txt")]
    from_file: PathBuf,
}

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match SecretRefForm::deserialize(deserializer)? {
            SecretRefForm::Literal(value) => SecretRef::Literal(Secret::new(value)),
            SecretRefForm::Env(FromEnv { from_env }) => SecretRef::FromEnv(from_env),
            SecretRefForm::File(FromFile { from_file }) => SecretRef::FromFile(from_file),
        })
    }
}

/// Serializes references as written (`{fromEnv: VAR}`, `{fromFile: path}`) and a literal as
/// `{"sensitive": "literal value in manifest"}`, which carries no value and cannot be read back
/// as a secret.
impl Serialize for SecretRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1))?;
        match self {
            SecretRef::FromEnv(var) => map.serialize_entry("fromEnv", var)?,
            SecretRef::FromFile(path) => map.serialize_entry("fromFile", path)?,
            SecretRef::Literal(_) => {
                map.serialize_entry("sensitive", "literal value in manifest")?
            }
        }
        map.end()
    }
}

impl JsonSchema for SecretRef {
    fn schema_name() -> Cow<'static, str> {
        "SecretRef".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        SecretRefForm::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        let literal = SecretRef::Literal(secret);
        assert!(!format!("{literal:?}").contains("hunter2"));
        assert!(!serde_json::to_string(&literal).unwrap().contains("hunter2"));
    }

    #[test]
    fn reads_all_three_forms() {
        let parsed: Vec<SecretRef> =
            serde_json::from_str(r#"["lit", {"fromEnv": "A"}, {"fromFile": "b.txt"}]"#).unwrap();
        assert!(matches!(&parsed[0], SecretRef::Literal(s) if s.expose() == "lit"));
        assert_eq!(parsed[1], SecretRef::FromEnv("A".into()));
        assert_eq!(parsed[2], SecretRef::FromFile("b.txt".into()));
    }

    #[test]
    fn rejects_unknown_reference_keys() {
        assert!(serde_json::from_str::<SecretRef>(r#"{"fromEnvironment": "A"}"#).is_err());
    }

    #[test]
    fn file_secrets_lose_their_trailing_newline() {
        let dir = tempdir();
        std::fs::write(dir.join("pw.txt"), "s3cret\r\n").unwrap();
        let mut reference = SecretRef::FromFile("pw.txt".into());
        reference.rebase(&dir);
        assert_eq!(
            reference.resolve(&Environment::process()).unwrap().expose(),
            "s3cret"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn missing_env_names_the_variable() {
        let error = SecretRef::FromEnv("VBOCTL_TEST_SURELY_UNSET".into())
            .resolve(&Environment::process())
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "environment variable VBOCTL_TEST_SURELY_UNSET is not set"
        );
    }

    #[test]
    fn the_env_file_serves_what_the_environment_does_not_set() {
        // PATH is set in every test environment; the file's value must not replace it.
        let path = std::env::var("PATH").unwrap();
        let file = EnvFile::parse(
            Path::new("t.env"),
            "PATH=from-file\nVBOCTL_TEST_FROM_FILE=from-file\nVBOCTL_TEST_EMPTY_IN_FILE=\n",
        )
        .unwrap();
        let env = Environment::with_file(file);
        let get = |var: &str| SecretRef::FromEnv(var.into()).resolve(&env);
        assert_eq!(get("PATH").unwrap().expose(), path);
        assert_eq!(get("VBOCTL_TEST_FROM_FILE").unwrap().expose(), "from-file");
        assert_eq!(
            get("VBOCTL_TEST_EMPTY_IN_FILE").unwrap_err().to_string(),
            "environment variable VBOCTL_TEST_EMPTY_IN_FILE is not set, and t.env sets it to an \
             empty value"
        );
        assert_eq!(
            get("VBOCTL_TEST_SURELY_UNSET").unwrap_err().to_string(),
            "environment variable VBOCTL_TEST_SURELY_UNSET is not set, and t.env does not set it \
             either"
        );
    }

    fn tempdir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("vbo-model-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
