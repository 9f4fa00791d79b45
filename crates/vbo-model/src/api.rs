//! The versions of the server's REST API that vboctl speaks, and everything that differs
//! between them, as data.
//!
//! Every difference between API versions lives here, in one [`Dialect`] per version: the
//! client, the emulator and the planner read these tables instead of branching on the version.
//! What vboctl plans with is the canonical form of this crate's types; a dialect only says how
//! that form is spelled on the wire and which parts of it the version accepts.
//!
//! | | v3 | v6 | v7 | v8 |
//! |---|---|---|---|---|
//! | token path | `/v3/Token` | `/v6/token` | `/v7/token` | `/v8/token` |
//! | `disable_antiforgery_token` | no | no | yes | yes |
//! | `GET /Organizations` | array | array | array | page (`offset`, `limit`, `setId`, `results`) |
//! | `POST` answers | 201 | 200 | 200 | 201 |
//! | `DELETE` answers | 200 | 204 | 204 | 204 |
//! | error body | `{message}` | `{message}` | `{message, errorCode}` | `{message, errorCode}` |
//! | on-premises spellings | `isSharePoint`, `skipCommonNameVerification` | `isSharepoint`, `skipCommonnameverification` | same | same |
//! | `applicationCertificate` | path on the server | base64 PFX | base64 PFX | base64 PFX |

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::wire::{Organization, OrganizationBody, OrganizationType, Region};

/// A version of the server's REST API.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    Default,
    schemars::JsonSchema,
)]
pub enum RestApiVersion {
    /// REST API v3 (Veeam Backup for Microsoft Office 365 4.0), deprecated since 6.0.
    #[serde(rename = "v3")]
    V3,
    /// REST API v6 (Veeam Backup for Microsoft 365 6).
    #[serde(rename = "v6")]
    V6,
    /// REST API v7 (Veeam Backup for Microsoft 365 7).
    #[serde(rename = "v7")]
    V7,
    /// REST API v8 (Veeam Backup for Microsoft 365 8), the current one.
    #[default]
    #[serde(rename = "v8")]
    V8,
}

impl RestApiVersion {
    /// Every version vboctl speaks, newest first: the order in which detection tries them.
    pub const NEWEST_FIRST: [RestApiVersion; 4] = [
        RestApiVersion::V8,
        RestApiVersion::V7,
        RestApiVersion::V6,
        RestApiVersion::V3,
    ];

    /// `v3`, `v6`, `v7` or `v8`: the path prefix and the name users write.
    pub fn as_str(self) -> &'static str {
        self.dialect().prefix
    }

    /// What this version speaks.
    pub fn dialect(self) -> &'static Dialect {
        match self {
            RestApiVersion::V3 => &V3,
            RestApiVersion::V6 => &V6,
            RestApiVersion::V7 => &V7,
            RestApiVersion::V8 => &V8,
        }
    }
}

impl fmt::Display for RestApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A version name that vboctl does not speak.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown REST API version {given:?}: vboctl speaks v3, v6, v7 and v8")]
pub struct UnknownVersion {
    /// What was given.
    pub given: String,
}

impl FromStr for RestApiVersion {
    type Err = UnknownVersion;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        RestApiVersion::NEWEST_FIRST
            .into_iter()
            .find(|version| version.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| UnknownVersion {
                given: text.to_owned(),
            })
    }
}

/// How the server reads `applicationCertificate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertificateEncoding {
    /// The path of a `.pfx` file on the backup server (v3).
    ServerPath,
    /// The `.pfx` file itself, base64-encoded (v6 and later). Write-only.
    Base64Content,
}

/// Everything one API version does its own way.
#[derive(Debug)]
pub struct Dialect {
    /// Which version this is.
    pub version: RestApiVersion,
    /// The path prefix, `v8`.
    pub prefix: &'static str,
    /// The token endpoint under the prefix, as the version's documentation spells it.
    pub token_path: &'static str,
    /// Whether token requests carry `disable_antiforgery_token=true` (v7 and later: without it
    /// the server expects a browser's antiforgery cookie).
    pub disable_antiforgery: bool,
    /// Whether `GET /Organizations` answers a page (`{offset, limit, setId, results}`) rather
    /// than a plain array.
    pub paged_list: bool,
    /// The largest page the server hands out.
    pub max_page: u32,
    /// The page size the server uses when asked for none.
    pub default_page: u32,
    /// The status a successful `POST /Organizations` answers with.
    pub created_status: u16,
    /// The status a successful `DELETE /Organizations/{id}` answers with.
    pub deleted_status: u16,
    /// Whether error bodies carry an `errorCode` beside the `message`.
    pub error_codes: bool,
    /// Property names this version spells differently from the canonical camelCase, as
    /// `(canonical, this version)`. The server matches names without regard to case, so this
    /// is about sending exactly what the documentation shows.
    pub spellings: &'static [(&'static str, &'static str)],
    /// The region names of this version, for each canonical region.
    pub regions: &'static [(Region, &'static str)],
    /// How `applicationCertificate` is read.
    pub certificate: CertificateEncoding,
    /// Whether adding a Microsoft 365 organization needs application-only authentication
    /// unless its region is China (v8 refuses basic authentication and modern authentication
    /// with legacy protocols for new organizations).
    pub new_m365_needs_app_only_auth: bool,
}

/// Canonical names that v6 and later spell with lower-case inner words.
const V6_SPELLINGS: &[(&str, &str)] = &[
    ("isSharePoint", "isSharepoint"),
    ("sharePointSettings", "sharepointSettings"),
    ("skipCommonNameVerification", "skipCommonnameverification"),
    ("skipRevocationCheck", "skipRevocationcheck"),
    ("configureThrottlingPolicy", "configureThrottlingpolicy"),
    (
        "grantAccessToSiteCollections",
        "grantAccesstositecollections",
    ),
];

const V3_REGIONS: &[(Region, &str)] = &[
    (Region::Worldwide, "Worldwide"),
    (Region::UsGovernment, "USgovCommunity"),
    (Region::Germany, "Germany"),
    (Region::China, "China"),
    (Region::UsDefence, "USgovDefence"),
];

const V6_REGIONS: &[(Region, &str)] = &[
    (Region::Worldwide, "Worldwide"),
    (Region::Germany, "Germany"),
    (Region::China, "China"),
    (Region::UsDefence, "USDefence"),
    (Region::UsGovernment, "USGovernment"),
];

static V3: Dialect = Dialect {
    version: RestApiVersion::V3,
    prefix: "v3",
    token_path: "Token",
    disable_antiforgery: false,
    paged_list: false,
    max_page: u32::MAX,
    default_page: u32::MAX,
    created_status: 201,
    deleted_status: 200,
    error_codes: false,
    spellings: &[],
    regions: V3_REGIONS,
    certificate: CertificateEncoding::ServerPath,
    new_m365_needs_app_only_auth: false,
};

static V6: Dialect = Dialect {
    version: RestApiVersion::V6,
    prefix: "v6",
    token_path: "token",
    disable_antiforgery: false,
    paged_list: false,
    max_page: u32::MAX,
    default_page: u32::MAX,
    created_status: 200,
    deleted_status: 204,
    error_codes: false,
    spellings: V6_SPELLINGS,
    regions: V6_REGIONS,
    certificate: CertificateEncoding::Base64Content,
    new_m365_needs_app_only_auth: false,
};

static V7: Dialect = Dialect {
    version: RestApiVersion::V7,
    prefix: "v7",
    disable_antiforgery: true,
    error_codes: true,
    ..V6
};

static V8: Dialect = Dialect {
    version: RestApiVersion::V8,
    prefix: "v8",
    paged_list: true,
    max_page: 10_000,
    default_page: 30,
    created_status: 201,
    new_m365_needs_app_only_auth: true,
    ..V7
};

/// A property of the organization body that not every API version takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldAvailability {
    /// Dotted path in the body (and under a manifest's `spec`), for example
    /// `exchangeOnlineSettings.useApplicationOnlyAuth`.
    pub path: &'static str,
    /// The organization type this entry is about; `None` for every type.
    pub kind: Option<OrganizationType>,
    /// The first version that takes it.
    pub since: RestApiVersion,
    /// The last version that takes it, when later ones dropped it.
    pub until: Option<RestApiVersion>,
}

impl FieldAvailability {
    /// Whether `version` takes the property.
    pub fn accepted_by(&self, version: RestApiVersion) -> bool {
        version >= self.since && self.until.is_none_or(|until| version <= until)
    }

    /// "REST API v6 and later", "REST API v3 only".
    pub fn versions(&self) -> String {
        match self.until {
            Some(until) if until == self.since => format!("REST API {until} only"),
            Some(until) => format!("REST API {} to {until}", self.since),
            None => format!("REST API {} and later", self.since),
        }
    }
}

const fn since(path: &'static str, version: RestApiVersion) -> FieldAvailability {
    FieldAvailability {
        path,
        kind: None,
        since: version,
        until: None,
    }
}

const fn hybrid_since(path: &'static str, version: RestApiVersion) -> FieldAvailability {
    FieldAvailability {
        path,
        kind: Some(OrganizationType::Hybrid),
        since: version,
        until: None,
    }
}

/// The properties of the body that appeared in, or disappeared after, some version. Everything
/// else is taken by every version vboctl speaks.
pub const FIELD_AVAILABILITY: &[FieldAvailability] = &[
    since("description", RestApiVersion::V7),
    since("isTeamsOnline", RestApiVersion::V6),
    since("isTeamsChatsOnline", RestApiVersion::V6),
    since(
        "exchangeOnlineSettings.useApplicationOnlyAuth",
        RestApiVersion::V6,
    ),
    since(
        "exchangeOnlineSettings.officeOrganizationName",
        RestApiVersion::V6,
    ),
    since(
        "exchangeOnlineSettings.sharePointSaveAllWebParts",
        RestApiVersion::V6,
    ),
    since(
        "sharePointOnlineSettings.useApplicationOnlyAuth",
        RestApiVersion::V6,
    ),
    since(
        "sharePointOnlineSettings.officeOrganizationName",
        RestApiVersion::V6,
    ),
    since(
        "sharePointOnlineSettings.sharePointSaveAllWebParts",
        RestApiVersion::V6,
    ),
    // v3 describes a Hybrid organization's Microsoft 365 side in `office365Settings`; v6 and
    // later with the same properties as an Office365 organization.
    FieldAvailability {
        path: "office365Settings",
        kind: None,
        since: RestApiVersion::V3,
        until: Some(RestApiVersion::V3),
    },
    hybrid_since("region", RestApiVersion::V6),
    hybrid_since("isExchangeOnline", RestApiVersion::V6),
    hybrid_since("exchangeOnlineSettings", RestApiVersion::V6),
    hybrid_since("isSharePointOnline", RestApiVersion::V6),
    hybrid_since("sharePointOnlineSettings", RestApiVersion::V6),
];

/// Whether `name` is a property that some version after v3 added to every organization type
/// (`description`, `isTeamsOnline`, `useApplicationOnlyAuth`, ...), wherever it stands.
pub fn is_later_version_property(name: &str) -> bool {
    FIELD_AVAILABILITY.iter().any(|field| {
        field.kind.is_none()
            && field.since > RestApiVersion::V3
            && field.path.rsplit('.').next() == Some(name)
    })
}

/// A property set in a body (or a manifest's spec) that an API version does not take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// Dotted path, for example `isTeamsOnline`.
    pub path: String,
    /// Which versions take it, for example "REST API v6 and later".
    pub versions: String,
}

impl Dialect {
    /// The properties set in `body` (canonical JSON of a body or a spec of type `kind`) that
    /// this version does not take, including an `applicationCertificate` in the form the
    /// version does not read (a server path before v6, the file itself from v6 on).
    pub fn unsupported(&self, kind: OrganizationType, body: &Value) -> Vec<Unsupported> {
        let mut found: Vec<Unsupported> = FIELD_AVAILABILITY
            .iter()
            .filter(|field| field.kind.is_none_or(|only| only == kind))
            .filter(|field| !field.accepted_by(self.version))
            .filter(|field| is_set(body, field.path))
            .map(|field| Unsupported {
                path: field.path.to_owned(),
                versions: field.versions(),
            })
            .collect();
        for path in ["region", "office365Settings.region"] {
            let region = path
                .split('.')
                .try_fold(body, |value, name| value.get(name))
                .and_then(Value::as_str)
                .and_then(|text| text.parse::<Region>().ok());
            if let Some(region) = region
                && self.region_name(region).is_none()
            {
                found.push(Unsupported {
                    path: path.to_owned(),
                    versions: format!(
                        "a region REST API {} has no name for ({region})",
                        self.version
                    ),
                });
            }
        }
        for block in ["exchangeOnlineSettings", "sharePointOnlineSettings"] {
            let Some(certificate) = body
                .get(block)
                .and_then(|b| b.get("applicationCertificate"))
            else {
                continue;
            };
            let (form_ok, versions) = match self.certificate {
                CertificateEncoding::ServerPath => (
                    certificate.is_string(),
                    "REST API v6 and later (v3 takes a path on the backup server)",
                ),
                CertificateEncoding::Base64Content => (
                    !certificate.is_string(),
                    "REST API v3 only (v6 and later take the file: {fromFile: path/to/app.pfx})",
                ),
            };
            if !form_ok {
                found.push(Unsupported {
                    path: format!("{block}.applicationCertificate"),
                    versions: versions.to_owned(),
                });
            }
        }
        found
    }

    /// For a new organization: the settings block (`exchangeOnlineSettings` or
    /// `sharePointOnlineSettings`) whose authentication this version refuses to add a
    /// Microsoft 365 organization with. REST API v8 takes only application-only authentication
    /// (`useApplicationOnlyAuth: true`) outside the China region; organizations added earlier
    /// another way keep working, so this is about creates only.
    pub fn refused_new_authentication<S>(
        &self,
        body: &OrganizationBody<S>,
    ) -> Option<&'static str> {
        let china = body.region == Some(Region::China)
            || body
                .office365_settings
                .as_ref()
                .is_some_and(|settings| settings.region == Region::China);
        if !self.new_m365_needs_app_only_auth || body.kind == OrganizationType::OnPremises || china
        {
            return None;
        }
        [
            (
                body.is_exchange_online,
                &body.exchange_online_settings,
                "exchangeOnlineSettings",
            ),
            (
                body.is_share_point_online,
                &body.share_point_online_settings,
                "sharePointOnlineSettings",
            ),
        ]
        .into_iter()
        .filter(|(enabled, ..)| *enabled == Some(true))
        .find(|(_, settings, _)| {
            settings
                .as_ref()
                .is_none_or(|settings| settings.use_application_only_auth != Some(true))
        })
        .map(|(.., name)| name)
    }

    /// Forgets what an organization as read from this version may report but must never be
    /// shown: from v6 on, `applicationCertificate` is the certificate file itself, a secret,
    /// should a server ever return it.
    pub fn forget_write_only(&self, organization: &mut Organization) {
        if self.certificate != CertificateEncoding::Base64Content {
            return;
        }
        for settings in [
            organization.state.exchange_online_settings.as_mut(),
            organization.state.share_point_online_settings.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            settings.application_certificate = None;
        }
    }

    /// Removes from a canonical body what this version does not take, as the real server
    /// ignores properties it does not know.
    pub fn drop_unsupported(&self, kind: OrganizationType, body: &mut Value) {
        for field in FIELD_AVAILABILITY
            .iter()
            .filter(|field| field.kind.is_none_or(|only| only == kind))
            .filter(|field| !field.accepted_by(self.version))
        {
            let (parent, name) = match field.path.rsplit_once('.') {
                Some((parent, name)) => (body.get_mut(parent), name),
                None => (Some(&mut *body), field.path),
            };
            if let Some(Value::Object(members)) = parent {
                members.remove(name);
            }
        }
    }

    /// How this version spells the canonical property `name`.
    pub fn spell<'a>(&self, name: &'a str) -> &'a str {
        self.spellings
            .iter()
            .find(|(canonical, _)| *canonical == name)
            .map_or(name, |(_, spelled)| spelled)
    }

    /// This version's name of `region`, or `None` when it has no equivalent.
    pub fn region_name(&self, region: Region) -> Option<&'static str> {
        self.regions
            .iter()
            .find(|(known, _)| *known == region)
            .map(|(_, name)| *name)
    }

    /// Rewrites a canonical JSON document (a body to send, or the emulator's answer) into this
    /// version's spellings: property names from [`spellings`](Self::spellings) and region
    /// values from [`regions`](Self::regions). A region without an equivalent is left as it is
    /// (the planner refuses such a manifest before anything is sent).
    pub fn to_wire(&self, value: &mut Value) {
        match value {
            Value::Object(members) => {
                let taken = std::mem::take(members);
                for (name, mut member) in taken {
                    if name == "region"
                        && let Some(text) = member.as_str()
                        && let Ok(region) = text.parse::<Region>()
                        && let Some(spelled) = self.region_name(region)
                    {
                        member = Value::String(spelled.to_owned());
                    }
                    self.to_wire(&mut member);
                    members.insert(self.spell(&name).to_owned(), member);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.to_wire(item)),
            _ => {}
        }
    }
}

/// Whether the dotted `path` holds something other than `null` in `value`.
fn is_set(value: &Value, path: &str) -> bool {
    path.split('.')
        .try_fold(value, |value, name| value.get(name))
        .is_some_and(|value| !value.is_null())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_in_any_case_and_unknown_ones_are_refused() {
        assert_eq!("V8".parse::<RestApiVersion>(), Ok(RestApiVersion::V8));
        assert_eq!(" v3".parse::<RestApiVersion>(), Ok(RestApiVersion::V3));
        assert!("v5".parse::<RestApiVersion>().is_err());
    }

    #[test]
    fn every_version_names_every_region() {
        for version in RestApiVersion::NEWEST_FIRST {
            for region in Region::ALL {
                assert!(
                    version.dialect().region_name(region).is_some(),
                    "{version} {region:?}"
                );
            }
        }
    }

    #[test]
    fn fields_of_later_versions_are_named_with_the_versions_that_take_them() {
        let body = serde_json::json!({
            "type": "Office365",
            "description": "d",
            "isTeamsOnline": true,
            "exchangeOnlineSettings": {"useApplicationOnlyAuth": true, "applicationCertificate": {"fromFile": "a.pfx"}},
        });
        let paths = |dialect: &Dialect| -> Vec<String> {
            dialect
                .unsupported(OrganizationType::Office365, &body)
                .into_iter()
                .map(|u| format!("{}: {}", u.path, u.versions))
                .collect()
        };
        assert_eq!(
            paths(&V3),
            [
                "description: REST API v7 and later",
                "isTeamsOnline: REST API v6 and later",
                "exchangeOnlineSettings.useApplicationOnlyAuth: REST API v6 and later",
                "exchangeOnlineSettings.applicationCertificate: REST API v6 and later (v3 takes a path on the backup server)",
            ]
        );
        assert_eq!(paths(&V6), ["description: REST API v7 and later"]);
        assert!(paths(&V8).is_empty());
        let hybrid =
            serde_json::json!({"type": "Hybrid", "office365Settings": {}, "region": "China"});
        assert_eq!(
            V8.unsupported(OrganizationType::Hybrid, &hybrid)[0].path,
            "office365Settings"
        );
        assert_eq!(
            V3.unsupported(OrganizationType::Hybrid, &hybrid)[0].path,
            "region"
        );
        assert!(
            V3.unsupported(
                OrganizationType::Office365,
                &serde_json::json!({"region": "China"})
            )
            .is_empty()
        );
    }

    #[test]
    fn a_region_a_version_has_no_name_for_is_unsupported() {
        let without_germany = Dialect {
            regions: &[(Region::Worldwide, "Worldwide")],
            ..V8
        };
        let body = serde_json::json!({"type": "Hybrid", "office365Settings": {"region": "Germany"}, "region": "Worldwide"});
        let found = without_germany.unsupported(OrganizationType::Hybrid, &body);
        assert!(
            found.iter().any(|u| u.path == "office365Settings.region"
                && u.versions == "a region REST API v8 has no name for (Germany)"),
            "{found:?}"
        );
        assert!(!found.iter().any(|u| u.path == "region"), "{found:?}");
    }

    #[test]
    fn a_certificate_file_reported_from_v6_on_is_forgotten() {
        let mut organization: Organization = serde_json::from_value(serde_json::json!({
            "id": "1", "name": "a", "type": "Office365",
            "exchangeOnlineSettings": {"applicationCertificate": "MIIKPAIBAzCCCfYGCSqGSIb3DQEHAa"},
        }))
        .unwrap();
        let mut v3 = organization.clone();
        V3.forget_write_only(&mut v3);
        assert!(
            v3.state
                .exchange_online_settings
                .unwrap()
                .application_certificate
                .is_some()
        );
        V8.forget_write_only(&mut organization);
        assert_eq!(
            organization
                .state
                .exchange_online_settings
                .unwrap()
                .application_certificate,
            None
        );
    }

    #[test]
    fn later_version_properties_are_those_of_the_table() {
        for name in [
            "description",
            "isTeamsOnline",
            "isTeamsChatsOnline",
            "useApplicationOnlyAuth",
            "officeOrganizationName",
            "sharePointSaveAllWebParts",
        ] {
            assert!(is_later_version_property(name), "{name}");
        }
        for name in ["region", "office365Settings", "account", "isExchangeOnline"] {
            assert!(!is_later_version_property(name), "{name}");
        }
    }

    #[test]
    fn to_wire_respells_names_and_regions_at_any_depth() {
        let mut body = serde_json::json!({
            "type": "OnPremises",
            "region": "USGovernment",
            "isSharePoint": true,
            "sharePointSettings": {"skipCommonNameVerification": true, "grantAccessToSiteCollections": false},
            "office365Settings": {"region": "USDefence"},
        });
        V3.to_wire(&mut body);
        assert_eq!(body["region"], "USgovCommunity");
        assert_eq!(body["office365Settings"]["region"], "USgovDefence");
        assert_eq!(body["isSharePoint"], true);
        V8.to_wire(&mut body);
        assert_eq!(body["region"], "USGovernment");
        assert_eq!(body["isSharepoint"], true);
        assert_eq!(
            body["sharepointSettings"]["skipCommonnameverification"],
            true
        );
        assert_eq!(
            body["sharepointSettings"]["grantAccesstositecollections"],
            false
        );
    }
}
