//! Turning the organizations a server reports into manifests, for `vboctl export`.
//!
//! Pure apart from [`schema_reference`], which looks at folders: the caller lists the server
//! ([`Organization`]s in their canonical form) and writes the files; this module decides what
//! each manifest says, what its file is called, which variables its secrets come from, and how
//! it is written as YAML.
//!
//! - **What is written**: every property the server reported that a manifest takes, in the
//!   manifest types' own order (the order of `docs/manifest.md`'s example). Nothing the server
//!   manages (`id`, `_links`, `_actions`, backup times, the top-level `username`) is written;
//!   `msid` becomes `metadata.msid`. Properties the server's API version does not take are left
//!   out, as the planner would refuse them.
//! - **Secrets**: the server never returns write-only values, so each one the organization's
//!   configuration needs becomes `{fromEnv: VAR}` (see [`export`] for which, and
//!   [`variable_prefixes`] and [`secret_variable`] for the names).
//! - **Files**: one per organization, named by [`file_names`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::SecretRef;
use crate::api::{CertificateEncoding, RestApiVersion};
use crate::manifest::{
    ApiVersion, HybridSpec, Kind, Manifest, Metadata, Office365Spec, OnPremisesSpec, Spec,
};
use crate::wire::{
    ApplicationCertificate, DEFAULT_SHAREPOINT_PORT, ExchangeSettings, ExchangeSettingsView,
    Office365Settings, Office365SettingsView, OnlineSettings, OnlineSettingsView, Organization,
    OrganizationState, OrganizationType, SharePointSettings, SharePointSettingsView,
};

/// Where the published schema lives: the modeline of manifests written outside a repository
/// that holds `schemas/organization.schema.json` names it. It is the schema's `$id`.
pub const SCHEMA_ID: &str =
    "https://raw.githubusercontent.com/vboctl/vboctl/main/schemas/organization.schema.json";

/// The schema's path inside a repository of manifests.
pub const SCHEMA_PATH: &str = "schemas/organization.schema.json";

/// The file that lists every variable the exported manifests name.
pub const ENV_EXAMPLE_FILE: &str = "secrets.env.example";

/// One exported organization.
#[derive(Clone, Debug, PartialEq)]
pub struct Exported {
    /// The manifest, with `{fromEnv: VAR}` for every secret.
    pub manifest: Manifest,
    /// The file name (no folder), for example `contoso.onmicrosoft.com.yaml`.
    pub file_name: String,
    /// The variables its secrets come from, in the manifest's order.
    pub variables: Vec<Variable>,
}

/// A variable an exported manifest reads a secret from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variable {
    /// The variable's name, for example `CONTOSO_ONMICROSOFT_COM_EXO_PASSWORD`.
    pub name: String,
    /// The organization's name.
    pub organization: String,
    /// Dotted path under `spec`, for example `exchangeOnlineSettings.password`.
    pub field: String,
}

/// Which organizations to export: all of them when both parts are empty.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Name patterns (`*` any run of characters, `?` one character, case ignored); an
    /// organization is exported when any matches. Empty: every name.
    pub names: Vec<String>,
    /// Only organizations of this type.
    pub kind: Option<OrganizationType>,
}

impl Filter {
    /// Whether `organization` is to be exported.
    pub fn matches(&self, organization: &Organization) -> bool {
        self.kind.is_none_or(|kind| organization.state.kind == kind)
            && (self.names.is_empty()
                || self
                    .names
                    .iter()
                    .any(|pattern| glob_matches(pattern, &organization.name)))
    }
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters (none included),
/// `?` exactly one, and every other character itself, ignoring case.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().flat_map(char::to_lowercase).collect();
    let text: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    // Matching with backtracking to the last `*` only: never exponential.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(c) if *c == '?' || *c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// Exports the organizations `filter` selects from `all` (the server's whole list, read in
/// REST API `version`), sorted by name.
///
/// File names and variable prefixes are settled over `all`, so that an organization gets the
/// same file and variables whatever the filter.
///
/// Which secrets each settings block references, from what the server reports:
/// - on-premises `exchangeSettings` and `sharePointSettings`, and v3's `office365Settings`:
///   `password`;
/// - `exchangeOnlineSettings` and `sharePointOnlineSettings` with
///   `useApplicationOnlyAuth: true`: `applicationCertificate` and
///   `applicationCertificatePassword`;
/// - with `useMfa: true`: `applicationCertificate` and `applicationCertificatePassword` when
///   the server reports a certificate (its thumbprint, or v3's path), else `applicationSecret`;
/// - otherwise (basic authentication): `password`.
///
/// `applicationCertificate` is `{fromEnv: VAR}` (the base64 text of the `.pfx`) from v6 on; a
/// path a v3 server reports is written as it is, since it is not a secret.
pub fn export(all: &[Organization], version: RestApiVersion, filter: &Filter) -> Vec<Exported> {
    let names: Vec<&str> = all.iter().map(|o| o.name.as_str()).collect();
    let files = file_names(&names);
    let prefixes = variable_prefixes(&names);
    let mut exported: Vec<Exported> = all
        .iter()
        .zip(files)
        .zip(prefixes)
        .filter(|((organization, _), _)| filter.matches(organization))
        .map(|((organization, file_name), prefix)| {
            let manifest = manifest(organization, version, &prefix);
            let variables = manifest
                .spec
                .secret_fields()
                .into_iter()
                .filter_map(|field| match field.reference {
                    SecretRef::FromEnv(name) => Some(Variable {
                        name: name.clone(),
                        organization: organization.name.clone(),
                        field: field.path,
                    }),
                    _ => None,
                })
                .collect();
            Exported {
                manifest,
                file_name,
                variables,
            }
        })
        .collect();
    exported.sort_by(|a, b| {
        let key = |e: &Exported| (e.manifest.metadata.name.to_lowercase(), e.file_name.clone());
        key(a).cmp(&key(b))
    });
    exported
}

/// The manifest of one organization, its secrets read from variables starting with `prefix`.
pub fn manifest(organization: &Organization, version: RestApiVersion, prefix: &str) -> Manifest {
    let state = supported_state(&organization.state, version);
    let vars = Vars {
        prefix,
        content: version.dialect().certificate == CertificateEncoding::Base64Content,
    };
    let on = |flag: Option<bool>| flag == Some(true);
    let exchange = || {
        state
            .exchange_settings
            .as_ref()
            .filter(|_| on(state.is_exchange))
            .map(|s| Box::new(vars.exchange(s)))
    };
    let share_point = || {
        state
            .share_point_settings
            .as_ref()
            .filter(|_| on(state.is_share_point))
            .map(|s| Box::new(vars.share_point(s)))
    };
    let exchange_online = || {
        state
            .exchange_online_settings
            .as_ref()
            .filter(|_| on(state.is_exchange_online))
            .map(|s| Box::new(vars.online(s, "EXO")))
    };
    let share_point_online = || {
        state
            .share_point_online_settings
            .as_ref()
            .filter(|_| on(state.is_share_point_online))
            .map(|s| Box::new(vars.online(s, "SPO")))
    };
    let spec = match state.kind {
        OrganizationType::Office365 => Spec::Office365(Office365Spec {
            description: state.description.clone(),
            region: state.region.unwrap_or_default(),
            is_exchange_online: on(state.is_exchange_online),
            exchange_online_settings: exchange_online(),
            is_share_point_online: on(state.is_share_point_online),
            share_point_online_settings: share_point_online(),
            is_teams_online: state.is_teams_online,
            is_teams_chats_online: state.is_teams_chats_online,
        }),
        OrganizationType::OnPremises => Spec::OnPremises(OnPremisesSpec {
            description: state.description.clone(),
            is_exchange: on(state.is_exchange),
            exchange_settings: exchange(),
            is_share_point: on(state.is_share_point),
            share_point_settings: share_point(),
        }),
        OrganizationType::Hybrid => Spec::Hybrid(HybridSpec {
            description: state.description.clone(),
            office365_settings: state
                .office365_settings
                .as_ref()
                .map(|s| Box::new(vars.office365(s))),
            region: state.region,
            is_exchange_online: state.is_exchange_online,
            exchange_online_settings: exchange_online(),
            is_share_point_online: state.is_share_point_online,
            share_point_online_settings: share_point_online(),
            is_teams_online: state.is_teams_online,
            is_teams_chats_online: state.is_teams_chats_online,
            is_exchange: on(state.is_exchange),
            exchange_settings: exchange(),
            is_share_point: on(state.is_share_point),
            share_point_settings: share_point(),
        }),
    };
    Manifest {
        api_version: ApiVersion::V1,
        kind: Kind::Organization,
        metadata: Metadata {
            name: organization.name.clone(),
            labels: BTreeMap::new(),
            msid: organization.msid.clone().filter(|msid| is_guid(msid)),
        },
        spec,
    }
}

/// The state without what `version` does not take (a server may report more than it takes).
fn supported_state(state: &OrganizationState, version: RestApiVersion) -> OrganizationState {
    let Ok(mut value) = serde_json::to_value(state) else {
        return state.clone();
    };
    version.dialect().drop_unsupported(state.kind, &mut value);
    serde_json::from_value(value).unwrap_or_else(|_| state.clone())
}

/// Whether `text` is a GUID, as the schema's `metadata.msid` takes it.
fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Names the variables of one organization.
struct Vars<'a> {
    prefix: &'a str,
    /// Whether `applicationCertificate` is the file itself (v6 and later).
    content: bool,
}

impl Vars<'_> {
    fn env(&self, block: &str, field: &str) -> SecretRef {
        SecretRef::FromEnv(secret_variable(self.prefix, block, field))
    }

    fn online(&self, view: &OnlineSettingsView, block: &str) -> OnlineSettings<SecretRef> {
        let use_mfa = view.use_mfa.unwrap_or(false);
        let app_only = view.use_application_only_auth == Some(true);
        let reported_path = view.application_certificate.clone();
        let certificate = app_only
            || (use_mfa
                && (view.application_certificate_thumbprint.is_some() || reported_path.is_some()));
        let mut settings = OnlineSettings {
            account: view.account.clone(),
            password: None,
            grant_admin_access: view.grant_admin_access.unwrap_or(false),
            use_mfa,
            application_id: view.application_id.clone(),
            application_secret: None,
            application_certificate: None,
            application_certificate_password: None,
            application_certificate_thumbprint: view.application_certificate_thumbprint.clone(),
            use_custom_veeam_aad_application: view
                .use_custom_veeam_aad_application
                .unwrap_or(false),
            use_application_only_auth: view.use_application_only_auth,
            office_organization_name: view.office_organization_name.clone(),
            share_point_save_all_web_parts: view.share_point_save_all_web_parts,
        };
        if certificate {
            settings.application_certificate = Some(match reported_path {
                Some(path) if !self.content => ApplicationCertificate::ServerPath(path),
                _ => ApplicationCertificate::Content(self.env(block, "APP_CERTIFICATE")),
            });
            settings.application_certificate_password =
                Some(self.env(block, "APP_CERTIFICATE_PASSWORD"));
        } else if use_mfa {
            settings.application_secret = Some(self.env(block, "APP_SECRET"));
        } else {
            settings.password = Some(self.env(block, "PASSWORD"));
        }
        settings
    }

    fn office365(&self, view: &Office365SettingsView) -> Office365Settings<SecretRef> {
        Office365Settings {
            region: view.region.unwrap_or_default(),
            username: view.username.clone(),
            password: Some(self.env("O365", "PASSWORD")),
            grant_impersonation: view.grant_impersonation.unwrap_or(false),
            grant_access_to_site_collections: view
                .grant_access_to_site_collections
                .unwrap_or(false),
            use_veeam_aad_application: view.use_veeam_aad_application.unwrap_or(false),
        }
    }

    fn exchange(&self, view: &ExchangeSettingsView) -> ExchangeSettings<SecretRef> {
        ExchangeSettings {
            server_name: view.server_name.clone(),
            username: view.username.clone(),
            password: Some(self.env("EXCHANGE", "PASSWORD")),
            use_ssl: view.use_ssl.unwrap_or(false),
            skip_ca_verification: view.skip_ca_verification.unwrap_or(false),
            skip_common_name_verification: view.skip_common_name_verification.unwrap_or(false),
            skip_revocation_check: view.skip_revocation_check.unwrap_or(false),
            grant_impersonation: view.grant_impersonation.unwrap_or(false),
            configure_throttling_policy: view.configure_throttling_policy.unwrap_or(false),
        }
    }

    fn share_point(&self, view: &SharePointSettingsView) -> SharePointSettings<SecretRef> {
        SharePointSettings {
            server_name: view.server_name.clone(),
            server_port: view.server_port.unwrap_or(DEFAULT_SHAREPOINT_PORT),
            username: view.username.clone(),
            password: Some(self.env("SHAREPOINT", "PASSWORD")),
            use_ssl: view.use_ssl.unwrap_or(false),
            skip_ca_verification: view.skip_ca_verification.unwrap_or(false),
            skip_common_name_verification: view.skip_common_name_verification.unwrap_or(false),
            skip_revocation_check: view.skip_revocation_check.unwrap_or(false),
            grant_impersonation: view.grant_impersonation.unwrap_or(false),
            grant_access_to_site_collections: view
                .grant_access_to_site_collections
                .unwrap_or(false),
        }
    }
}

/// The variable of one secret: `PREFIX_BLOCK_FIELD`, for example
/// `CONTOSO_ONMICROSOFT_COM_EXO_PASSWORD`. `block` is `EXO` (exchangeOnlineSettings), `SPO`
/// (sharePointOnlineSettings), `O365` (office365Settings), `EXCHANGE` (exchangeSettings) or
/// `SHAREPOINT` (sharePointSettings); `field` is `PASSWORD`, `APP_SECRET`, `APP_CERTIFICATE`
/// or `APP_CERTIFICATE_PASSWORD`.
pub fn secret_variable(prefix: &str, block: &str, field: &str) -> String {
    format!("{prefix}_{block}_{field}")
}

/// The variable prefix of each organization name, in the same order: the name upper-cased,
/// every character other than an ASCII letter or digit written `_`, with `ORG_` in front when
/// it would start with a digit (a variable name cannot). Names that give the same prefix get
/// `_2`, `_3`, ... in the sorted order of the names, the first keeping it as it is.
pub fn variable_prefixes(names: &[&str]) -> Vec<String> {
    let base = |name: &str| {
        let prefix: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        if prefix.is_empty() || prefix.starts_with(|c: char| c.is_ascii_digit()) {
            format!("ORG_{prefix}")
        } else {
            prefix
        }
    };
    disambiguate(names, base, |prefix, n| format!("{prefix}_{n}"))
}

/// The file name of each organization name, in the same order: the name in lower case with
/// every character other than `a-z`, `0-9`, `.`, `_` and `-` written `-`, a `-` in front when
/// it would start with `.` (a hidden file, which `vboctl validate` and `plan` skip), and
/// `.yaml` after it. Names that give the same file get `-2`, `-3`, ... before `.yaml`, in the
/// sorted order of the names, the first keeping it as it is.
pub fn file_names(names: &[&str]) -> Vec<String> {
    let base = |name: &str| {
        let mut stem: String = name
            .chars()
            .flat_map(char::to_lowercase)
            .map(|c| {
                if c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        if stem.is_empty() || stem.starts_with('.') {
            stem.insert(0, '-');
        }
        stem
    };
    disambiguate(names, base, |stem, n| format!("{stem}-{n}"))
        .into_iter()
        .map(|stem| format!("{stem}.yaml"))
        .collect()
}

/// `base` of each name, made unique ignoring case: names are visited in sorted order (by
/// their lower-case form, then as written), and a name whose base is taken gets
/// `suffixed(base, n)` with the smallest `n` from 2 that no other name's base is and that is
/// not taken yet.
fn disambiguate(
    names: &[&str],
    base: impl Fn(&str) -> String,
    suffixed: impl Fn(&str, usize) -> String,
) -> Vec<String> {
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by(|&a, &b| {
        (names[a].to_lowercase(), names[a], a).cmp(&(names[b].to_lowercase(), names[b], b))
    });
    let bases: Vec<String> = names.iter().map(|name| base(name)).collect();
    let plain: BTreeSet<String> = bases.iter().map(|b| b.to_lowercase()).collect();
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut result = vec![String::new(); names.len()];
    for index in order {
        let own = &bases[index];
        result[index] = if taken.insert(own.to_lowercase()) {
            own.clone()
        } else {
            // Always found: only finitely many names are taken or planned.
            let mut n = 2;
            loop {
                let candidate = suffixed(own, n);
                let key = candidate.to_lowercase();
                if !plain.contains(&key) && taken.insert(key) {
                    break candidate;
                }
                n += 1;
            }
        };
    }
    result
}

/// The modeline's schema for manifests written to `dir`: the path from `dir` to
/// `schemas/organization.schema.json` when `dir` or a folder above it holds that file (looking
/// no higher than the first folder with a `.git`, the repository's top), else [`SCHEMA_ID`].
pub fn schema_reference(dir: &Path) -> String {
    let Ok(start) = dir.canonicalize() else {
        return SCHEMA_ID.to_owned();
    };
    let mut up = String::new();
    for folder in start.ancestors() {
        if folder.join(SCHEMA_PATH).is_file() {
            return format!("{up}{SCHEMA_PATH}");
        }
        if folder.join(".git").exists() {
            break;
        }
        up.push_str("../");
    }
    SCHEMA_ID.to_owned()
}

/// The folder of `path` for [`schema_reference`], for callers holding a file path.
pub fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// One manifest as YAML: the modeline naming `schema`, then the document.
pub fn document(manifest: &Manifest, schema: &str) -> String {
    format!(
        "# yaml-language-server: $schema={schema}\n{}",
        to_yaml(manifest)
    )
}

/// `secrets.env.example`: every variable, `VAR=` without a value, each after a comment naming
/// its organization and field.
pub fn env_example(exported: &[Exported]) -> String {
    let mut text = String::from(
        "# The secrets the exported manifests read: copy this file, fill in the values, keep the\n\
         # copy out of git, and export the variables before `vboctl plan` and `vboctl apply`.\n",
    );
    for variable in exported.iter().flat_map(|e| &e.variables) {
        let organization = crate::text::escape_controls(&variable.organization);
        let _ = write!(
            text,
            "\n# {organization}: spec.{}\n{}=\n",
            variable.field, variable.name
        );
    }
    text
}

/// A manifest as block YAML, keys in the order of its types, secret references written
/// `{fromEnv: VAR}`.
pub fn to_yaml(manifest: &Manifest) -> String {
    // serde_json writes struct fields in declaration order; reading that text into `Node`
    // keeps it, whichever map serde_json was built with.
    let node = serde_json::to_string(manifest)
        .ok()
        .and_then(|json| serde_json::from_str::<Node>(&json).ok());
    let mut out = String::new();
    if let Some(Node::Map(entries)) = &node {
        write_entries(&mut out, entries, 0);
    }
    out
}

/// A YAML value, its maps in the order they were written.
enum Node {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Node;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
                Ok(Node::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
                Ok(Node::Number(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
                Ok(Node::Number(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
                Ok(Node::Number(v.to_string()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Node, E> {
                Ok(Node::String(v.to_owned()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Node::Seq(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, Node>()? {
                    entries.push(entry);
                }
                Ok(Node::Map(entries))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

fn write_entries(out: &mut String, entries: &[(String, Node)], indent: usize) {
    for (key, value) in entries {
        out.push_str(&" ".repeat(indent));
        out.push_str(&scalar(key));
        out.push(':');
        write_value(out, value, indent);
    }
}

/// Writes what follows `key:` or `-`: a scalar on the same line, a collection below it.
fn write_value(out: &mut String, value: &Node, indent: usize) {
    match value {
        Node::Map(entries) if entries.is_empty() => out.push_str(" {}\n"),
        Node::Seq(items) if items.is_empty() => out.push_str(" []\n"),
        // A secret reference, written as users write it. Plain-safe scalars hold none of the
        // characters that end a scalar inside a flow mapping.
        Node::Map(entries) if secret_reference(entries).is_some() => {
            if let Some((key, text)) = secret_reference(entries) {
                let _ = writeln!(out, " {{{key}: {}}}", scalar(text));
            }
        }
        Node::Map(entries) => {
            out.push('\n');
            write_entries(out, entries, indent + 2);
        }
        Node::Seq(items) => {
            out.push('\n');
            for item in items {
                out.push_str(&" ".repeat(indent + 2));
                out.push('-');
                write_value(out, item, indent + 2);
            }
        }
        Node::Null => out.push_str(" null\n"),
        Node::Bool(b) => {
            let _ = writeln!(out, " {b}");
        }
        Node::Number(n) => {
            let _ = writeln!(out, " {n}");
        }
        Node::String(text) => {
            let _ = writeln!(out, " {}", scalar(text));
        }
    }
}

/// `{fromEnv: VAR}` or `{fromFile: PATH}`: the key and the text.
fn secret_reference(entries: &[(String, Node)]) -> Option<(&str, &str)> {
    match entries {
        [(key, Node::String(text))] if key == "fromEnv" || key == "fromFile" => {
            Some((key.as_str(), text.as_str()))
        }
        _ => None,
    }
}

/// A string as a YAML scalar that reads back as exactly this string: plain when that is safe
/// in every YAML version (it starts with a letter, holds only letters, digits and
/// `. _ @ / \ -`, and is not a word some YAML reads as a boolean or null), double-quoted with
/// escapes otherwise.
pub fn scalar(text: &str) -> String {
    if is_plain_safe(text) {
        text.to_owned()
    } else {
        quoted(text)
    }
}

fn is_plain_safe(text: &str) -> bool {
    const WORDS: &[&str] = &["true", "false", "yes", "no", "on", "off", "y", "n", "null"];
    text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '/' | '\\' | '-'))
        && !WORDS.iter().any(|word| word.eq_ignore_ascii_case(text))
}

fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
#[path = "export_tests.rs"]
mod tests;
