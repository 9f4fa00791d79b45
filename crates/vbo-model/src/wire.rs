//! The JSON of the Veeam Backup for Microsoft 365 REST API, as far as vboctl touches it, in its
//! canonical form: the camelCase names of v3's documentation. [`crate::api`] says how each API
//! version spells and restricts it.
//!
//! One definition, two users: the client sends [`OrganizationBody`] and reads [`Organization`];
//! the emulator reads the former and answers with the latter. Names are the API's canonical
//! camelCase spellings; vboctl always sends those and real JSON booleans.
//!
//! The settings structs are generic over the secret type `S`: a manifest holds
//! [`SecretRef`](crate::SecretRef)s, a request body holds [`Secret`]s. The representation the
//! server returns ([`Organization`]) has no secret fields at all: write-only values are never
//! returned.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Secret;

/// The kind of organization, which decides the shape of the rest of the body.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum OrganizationType {
    /// A Microsoft 365 tenant (Exchange Online and/or SharePoint Online).
    Office365,
    /// An on-premises Exchange and/or SharePoint deployment.
    OnPremises,
    /// A Microsoft 365 tenant together with on-premises Exchange and/or SharePoint.
    Hybrid,
}

impl OrganizationType {
    /// The name as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            OrganizationType::Office365 => "Office365",
            OrganizationType::OnPremises => "OnPremises",
            OrganizationType::Hybrid => "Hybrid",
        }
    }
}

impl std::fmt::Display for OrganizationType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The Microsoft Azure region that hosts the tenant's datacenter.
///
/// Written either way: the names of REST API v6 and later (`USGovernment`, `USDefence`) or
/// those of v3 (`USgovCommunity`, `USgovDefence`). vboctl sends each server the name its API
/// version uses.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(try_from = "String")]
pub enum Region {
    /// The global Microsoft 365 cloud. Most tenants are here.
    #[default]
    Worldwide,
    /// Microsoft 365 for US Government (v3 calls it `USgovCommunity`).
    #[serde(rename = "USGovernment")]
    UsGovernment,
    /// Microsoft Cloud Germany.
    Germany,
    /// Microsoft 365 operated by 21Vianet in China.
    China,
    /// Microsoft 365 US Government for the Department of Defense (v3 calls it `USgovDefence`).
    #[serde(rename = "USDefence")]
    UsDefence,
}

impl Region {
    /// Every region.
    pub const ALL: [Region; 5] = [
        Region::Worldwide,
        Region::UsGovernment,
        Region::Germany,
        Region::China,
        Region::UsDefence,
    ];

    /// Every accepted spelling, with what it means and the region it names: the current names
    /// first, then REST API v3's.
    const SPELLINGS: [(&'static str, Region, &'static str); 7] = [
        (
            "Worldwide",
            Region::Worldwide,
            "The global Microsoft 365 cloud. Most tenants are here.",
        ),
        ("Germany", Region::Germany, "Microsoft Cloud Germany."),
        (
            "China",
            Region::China,
            "Microsoft 365 operated by 21Vianet in China.",
        ),
        (
            "USGovernment",
            Region::UsGovernment,
            "Microsoft 365 for US Government.",
        ),
        (
            "USDefence",
            Region::UsDefence,
            "Microsoft 365 US Government for the Department of Defense.",
        ),
        (
            "USgovCommunity",
            Region::UsGovernment,
            "REST API v3's name of `USGovernment`; sent as each server's API version names it.",
        ),
        (
            "USgovDefence",
            Region::UsDefence,
            "REST API v3's name of `USDefence`; sent as each server's API version names it.",
        ),
    ];

    /// The canonical name, as REST API v6 and later write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Region::Worldwide => "Worldwide",
            Region::UsGovernment => "USGovernment",
            Region::Germany => "Germany",
            Region::China => "China",
            Region::UsDefence => "USDefence",
        }
    }
}

impl std::fmt::Display for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A region name that no API version uses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown region {0:?}")]
pub struct UnknownRegion(String);

impl std::str::FromStr for Region {
    type Err = UnknownRegion;

    /// Any accepted spelling, without regard to case, as the server reads it.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Region::SPELLINGS
            .iter()
            .find(|(name, _, _)| name.eq_ignore_ascii_case(text.trim()))
            .map(|(_, region, _)| *region)
            .ok_or_else(|| UnknownRegion(text.to_owned()))
    }
}

impl TryFrom<String> for Region {
    type Error = UnknownRegion;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl JsonSchema for Region {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Region".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let alternatives: Vec<serde_json::Value> = Region::SPELLINGS
            .iter()
            .map(|(name, _, description)| {
                serde_json::json!({"type": "string", "const": name, "description": description})
            })
            .collect();
        schemars::json_schema!({
            "description": "The Microsoft Azure region that hosts the tenant's datacenter. Written \
                with the names of REST API v6 and later or with those of v3; vboctl sends each \
                server the name its API version uses.",
            "oneOf": alternatives,
        })
    }
}

/// How to connect to Exchange Online or SharePoint Online.
///
/// Basic authentication: `account` and `password`. Modern authentication: `useMfa: true`,
/// `applicationId`, and either `applicationSecret` or `applicationCertificate` (with
/// `applicationCertificatePassword`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(rename = "OnlineSettings")]
pub struct OnlineSettings<S> {
    /// User account that connects to the tenant, for example `admin@contoso.onmicrosoft.com`.
    /// Required for basic authentication.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"admin@contoso.onmicrosoft.com")]
    pub account: Option<String>,
    /// Password of `account`. Required for basic authentication. Write-only: the server never
    /// returns it, so vboctl cannot detect when it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<S>,
    /// Give the account Site Collection Administrator rights so that it can read every site
    /// collection and site. Default: `false`.
    #[serde(default)]
    pub grant_admin_access: bool,
    /// Use modern authentication (an Azure AD application) instead of basic authentication.
    /// Default: `false`.
    #[serde(default)]
    pub use_mfa: bool,
    /// Azure AD application (client) ID used for modern authentication, for example
    /// `63baecf0-2624-45d0-9ece-de1db611dc98`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"63baecf0-2624-45d0-9ece-de1db611dc98")]
    pub application_id: Option<String>,
    /// Client secret of the Azure AD application, for modern authentication. Write-only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_secret: Option<S>,
    /// The application's certificate (`.pfx`), for modern authentication. REST API v3 takes
    /// the path of the file on the backup server, for example `C:\Certificates\contoso.pfx`;
    /// v6 and later take the file itself: write `{fromFile: certs/contoso.pfx}` (read as bytes
    /// and sent base64-encoded) or `{fromEnv: VAR}` (a variable holding the base64 text). The
    /// file is a secret: it is never shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_certificate: Option<ApplicationCertificate<S>>,
    /// Password of `applicationCertificate`. Write-only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_certificate_password: Option<S>,
    /// Thumbprint of the application's certificate, for example
    /// `56B0DF39470953D9D4C0CFA6F97112615D4FD0E1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"56B0DF39470953D9D4C0CFA6F97112615D4FD0E1")]
    pub application_certificate_thumbprint: Option<String>,
    /// Connect through the Veeam Azure AD application (native authentication) rather than one
    /// of your own. Default: `false`.
    #[serde(default, rename = "useCustomVeeamAADApplication")]
    pub use_custom_veeam_aad_application: bool,
    /// Use application-only authentication: the Microsoft Entra application given by
    /// `applicationId` and `applicationCertificate`, with no user account. REST API v6 and
    /// later; required by v8 to add a new organization outside the China region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_application_only_auth: Option<bool>,
    /// The tenant's name, for example `contoso.onmicrosoft.com`, which identifies the tenant
    /// under application-only authentication. REST API v6 and later.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"contoso.onmicrosoft.com")]
    pub office_organization_name: Option<String>,
    /// Back up every web part of SharePoint pages, not only the default ones. REST API v6 and
    /// later.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_point_save_all_web_parts: Option<bool>,
}

/// `applicationCertificate`: a path on the backup server (REST API v3) or the certificate
/// itself (v6 and later).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ApplicationCertificate<S> {
    /// REST API v3: the path of the `.pfx` file on the backup server, for example
    /// `C:\Certificates\contoso.pfx`.
    #[schemars(example = &"C:\\Certificates\\contoso.pfx")]
    ServerPath(String),
    /// REST API v6 and later: the `.pfx` file itself, `{fromFile: path}` (sent base64-encoded)
    /// or `{fromEnv: VAR}` (a variable holding the base64 text). A secret.
    Content(S),
}

impl<S> ApplicationCertificate<S> {
    /// The server path, when this is one.
    pub fn server_path(&self) -> Option<&str> {
        match self {
            ApplicationCertificate::ServerPath(path) => Some(path),
            ApplicationCertificate::Content(_) => None,
        }
    }
}

/// The Microsoft 365 side of a Hybrid organization.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(rename = "Office365Settings")]
pub struct Office365Settings<S> {
    /// Azure region of the tenant's datacenter. Default: `Worldwide`.
    #[serde(default)]
    pub region: Region,
    /// Account that connects to the tenant, as `user@domain.com` or
    /// `user@domain.onmicrosoft.com`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"admin@contoso.onmicrosoft.com")]
    pub username: Option<String>,
    /// Password of `username`. Write-only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<S>,
    /// Let backup jobs process every mailbox of the tenant (ApplicationImpersonation role).
    /// Default: `false`.
    #[serde(default)]
    pub grant_impersonation: bool,
    /// Give the account Site Collection Administrator rights so that it can read every site
    /// collection and site. Default: `false`.
    #[serde(default)]
    pub grant_access_to_site_collections: bool,
    /// Connect through the Veeam Azure AD application. Default: `false`.
    #[serde(default, rename = "useVeeamAADApplication")]
    pub use_veeam_aad_application: bool,
}

/// How to connect to an on-premises Exchange organization.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(rename = "ExchangeSettings")]
pub struct ExchangeSettings<S> {
    /// Exchange server, or its EWS endpoint, for example `mail.contoso.local`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"mail.contoso.local")]
    pub server_name: Option<String>,
    /// Account that connects to Exchange, for example `CONTOSO\backup`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"CONTOSO\\backup")]
    pub username: Option<String>,
    /// Password of `username`. Write-only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<S>,
    /// Connect to the server over SSL. Default: `false`, as on the server; vboctl warns when it
    /// is off.
    #[serde(default, rename = "useSSL")]
    pub use_ssl: bool,
    /// Skip the check that a trusted certificate authority issued the server's certificate.
    /// Default: `false`. Risky: vboctl warns when it is on.
    #[serde(default, rename = "skipCAverification")]
    pub skip_ca_verification: bool,
    /// Skip the check that the certificate's common name matches the server. Default: `false`.
    /// Risky: vboctl warns when it is on.
    #[serde(default)]
    pub skip_common_name_verification: bool,
    /// Skip the check of the certificate against its revocation list. Default: `false`. Risky:
    /// vboctl warns when it is on.
    #[serde(default)]
    pub skip_revocation_check: bool,
    /// Let backup jobs process every mailbox of the organization (ApplicationImpersonation
    /// role). Default: `false`.
    #[serde(default)]
    pub grant_impersonation: bool,
    /// Create the VeeamArchiverThrottlingPolicy on the server, which lifts Exchange throttling
    /// for the backup account. Default: `false`.
    #[serde(default)]
    pub configure_throttling_policy: bool,
}

/// The default port of the SharePoint server's remote PowerShell endpoint.
pub const DEFAULT_SHAREPOINT_PORT: u16 = 5985;

fn default_sharepoint_port() -> u16 {
    DEFAULT_SHAREPOINT_PORT
}

/// How to connect to an on-premises SharePoint farm.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(rename = "SharePointSettings")]
pub struct SharePointSettings<S> {
    /// SharePoint server, for example `sharepoint.contoso.local`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"sharepoint.contoso.local")]
    pub server_name: Option<String>,
    /// Port of the SharePoint server's remote PowerShell endpoint. Default: `5985`.
    #[serde(default = "default_sharepoint_port")]
    #[schemars(range(min = 1, max = 65535))]
    pub server_port: u16,
    /// Account that connects to SharePoint, for example `CONTOSO\backup`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"CONTOSO\\backup")]
    pub username: Option<String>,
    /// Password of `username`. Write-only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<S>,
    /// Connect to the server over SSL. Default: `false`, as on the server; vboctl warns when it
    /// is off.
    #[serde(default, rename = "useSSL")]
    pub use_ssl: bool,
    /// Skip the check that a trusted certificate authority issued the server's certificate.
    /// Default: `false`. Risky: vboctl warns when it is on.
    #[serde(default, rename = "skipCAverification")]
    pub skip_ca_verification: bool,
    /// Skip the check that the certificate's common name matches the server. Default: `false`.
    /// Risky: vboctl warns when it is on.
    #[serde(default)]
    pub skip_common_name_verification: bool,
    /// Skip the check of the certificate against its revocation list. Default: `false`. Risky:
    /// vboctl warns when it is on.
    #[serde(default)]
    pub skip_revocation_check: bool,
    /// Let backup jobs process every item of the farm. Default: `false`.
    #[serde(default)]
    pub grant_impersonation: bool,
    /// Give the account Site Collection Administrator rights so that it can read every site
    /// collection and site. Default: `false`.
    #[serde(default)]
    pub grant_access_to_site_collections: bool,
}

/// The body of `POST /v3/Organizations` and `PUT /v3/Organizations/{id}`.
///
/// Flat, as the server reads it: which properties matter depends on `type`. `S` is the secret
/// type: [`Secret`] on the wire.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(rename = "OrganizationBody")]
pub struct OrganizationBody<S = Secret> {
    /// The kind of organization.
    #[serde(rename = "type")]
    pub kind: OrganizationType,
    /// The organization's name. The server names an Office365 organization after its tenant
    /// when this is absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A description of the organization. REST API v7 and later.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Office365: the tenant's Azure region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// Office365 and Hybrid: the organization includes Microsoft Teams. REST API v6 and later.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_teams_online: Option<bool>,
    /// Office365 and Hybrid: the organization includes Teams chats. REST API v6 and later.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_teams_chats_online: Option<bool>,
    /// Office365: the organization includes Exchange Online.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_exchange_online: Option<bool>,
    /// Office365: the organization includes SharePoint Online.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_share_point_online: Option<bool>,
    /// Office365: how to connect to Exchange Online.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange_online_settings: Option<OnlineSettings<S>>,
    /// Office365: how to connect to SharePoint Online.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_point_online_settings: Option<OnlineSettings<S>>,
    /// Hybrid: the Microsoft 365 side.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub office365_settings: Option<Office365Settings<S>>,
    /// OnPremises and Hybrid: the organization includes on-premises Exchange.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_exchange: Option<bool>,
    /// OnPremises and Hybrid: how to connect to Exchange.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange_settings: Option<ExchangeSettings<S>>,
    /// OnPremises and Hybrid: the organization includes on-premises SharePoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_share_point: Option<bool>,
    /// OnPremises and Hybrid: how to connect to SharePoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_point_settings: Option<SharePointSettings<S>>,
}

impl<S> OrganizationBody<S> {
    /// A body of `kind` called `name`, with every other property unset.
    pub fn named(kind: OrganizationType, name: impl Into<String>) -> Self {
        Self {
            kind,
            name: Some(name.into()),
            description: None,
            region: None,
            is_teams_online: None,
            is_teams_chats_online: None,
            is_exchange_online: None,
            is_share_point_online: None,
            exchange_online_settings: None,
            share_point_online_settings: None,
            office365_settings: None,
            is_exchange: None,
            exchange_settings: None,
            is_share_point: None,
            share_point_settings: None,
        }
    }

    /// What the server will report about an organization made from this body: every
    /// non-secret property, with the workload settings present only where their flag is on.
    pub fn state(&self) -> OrganizationState {
        let enabled = |flag: Option<bool>| flag.unwrap_or(false);
        OrganizationState {
            kind: self.kind,
            description: self.description.clone(),
            region: self.region,
            is_teams_online: self.is_teams_online,
            is_teams_chats_online: self.is_teams_chats_online,
            is_exchange_online: self.is_exchange_online,
            is_share_point_online: self.is_share_point_online,
            exchange_online_settings: self
                .exchange_online_settings
                .as_ref()
                .filter(|_| enabled(self.is_exchange_online))
                .map(OnlineSettingsView::from)
                .map(Box::new),
            share_point_online_settings: self
                .share_point_online_settings
                .as_ref()
                .filter(|_| enabled(self.is_share_point_online))
                .map(OnlineSettingsView::from)
                .map(Box::new),
            office365_settings: self
                .office365_settings
                .as_ref()
                .map(Office365SettingsView::from)
                .map(Box::new),
            is_exchange: self.is_exchange,
            exchange_settings: self
                .exchange_settings
                .as_ref()
                .filter(|_| enabled(self.is_exchange))
                .map(ExchangeSettingsView::from)
                .map(Box::new),
            is_share_point: self.is_share_point,
            share_point_settings: self
                .share_point_settings
                .as_ref()
                .filter(|_| enabled(self.is_share_point))
                .map(SharePointSettingsView::from)
                .map(Box::new),
        }
    }
}

/// Connection settings of an online workload as the server reports them: no secrets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OnlineSettingsView {
    /// User account that connects to the tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Whether the account gets Site Collection Administrator rights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_admin_access: Option<bool>,
    /// Whether modern authentication is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_mfa: Option<bool>,
    /// Azure AD application (client) ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
    /// Path of the application's certificate on the backup server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_certificate: Option<String>,
    /// Thumbprint of the application's certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_certificate_thumbprint: Option<String>,
    /// Whether the Veeam Azure AD application is used.
    #[serde(
        default,
        rename = "useCustomVeeamAADApplication",
        skip_serializing_if = "Option::is_none"
    )]
    pub use_custom_veeam_aad_application: Option<bool>,
    /// Whether application-only authentication is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_application_only_auth: Option<bool>,
    /// The tenant's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office_organization_name: Option<String>,
    /// Whether every web part of SharePoint pages is backed up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_point_save_all_web_parts: Option<bool>,
}

impl<S> From<&OnlineSettings<S>> for OnlineSettingsView {
    fn from(settings: &OnlineSettings<S>) -> Self {
        Self {
            account: settings.account.clone(),
            grant_admin_access: Some(settings.grant_admin_access),
            use_mfa: Some(settings.use_mfa),
            application_id: settings.application_id.clone(),
            // The certificate itself (v6 and later) is write-only; only a path is reported.
            application_certificate: settings
                .application_certificate
                .as_ref()
                .and_then(ApplicationCertificate::server_path)
                .map(str::to_owned),
            application_certificate_thumbprint: settings.application_certificate_thumbprint.clone(),
            use_custom_veeam_aad_application: Some(settings.use_custom_veeam_aad_application),
            use_application_only_auth: settings.use_application_only_auth,
            office_organization_name: settings.office_organization_name.clone(),
            share_point_save_all_web_parts: settings.share_point_save_all_web_parts,
        }
    }
}

/// The Microsoft 365 side of a Hybrid organization as the server reports it: no secrets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Office365SettingsView {
    /// Azure region of the tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// Account that connects to the tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Whether backup jobs may process every mailbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_impersonation: Option<bool>,
    /// Whether the account gets Site Collection Administrator rights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_access_to_site_collections: Option<bool>,
    /// Whether the Veeam Azure AD application is used.
    #[serde(
        default,
        rename = "useVeeamAADApplication",
        skip_serializing_if = "Option::is_none"
    )]
    pub use_veeam_aad_application: Option<bool>,
}

impl<S> From<&Office365Settings<S>> for Office365SettingsView {
    fn from(settings: &Office365Settings<S>) -> Self {
        Self {
            region: Some(settings.region),
            username: settings.username.clone(),
            grant_impersonation: Some(settings.grant_impersonation),
            grant_access_to_site_collections: Some(settings.grant_access_to_site_collections),
            use_veeam_aad_application: Some(settings.use_veeam_aad_application),
        }
    }
}

/// On-premises Exchange settings as the server reports them: no secrets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeSettingsView {
    /// Exchange server or EWS endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// Account that connects to Exchange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Whether the connection uses SSL.
    #[serde(default, rename = "useSSL", skip_serializing_if = "Option::is_none")]
    pub use_ssl: Option<bool>,
    /// Whether certificate authority verification is skipped.
    #[serde(
        default,
        rename = "skipCAverification",
        skip_serializing_if = "Option::is_none"
    )]
    pub skip_ca_verification: Option<bool>,
    /// Whether common name verification is skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_common_name_verification: Option<bool>,
    /// Whether the revocation check is skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_revocation_check: Option<bool>,
    /// Whether backup jobs may process every mailbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_impersonation: Option<bool>,
    /// Whether the Veeam throttling policy is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configure_throttling_policy: Option<bool>,
}

impl<S> From<&ExchangeSettings<S>> for ExchangeSettingsView {
    fn from(settings: &ExchangeSettings<S>) -> Self {
        Self {
            server_name: settings.server_name.clone(),
            username: settings.username.clone(),
            use_ssl: Some(settings.use_ssl),
            skip_ca_verification: Some(settings.skip_ca_verification),
            skip_common_name_verification: Some(settings.skip_common_name_verification),
            skip_revocation_check: Some(settings.skip_revocation_check),
            grant_impersonation: Some(settings.grant_impersonation),
            configure_throttling_policy: Some(settings.configure_throttling_policy),
        }
    }
}

/// On-premises SharePoint settings as the server reports them: no secrets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SharePointSettingsView {
    /// SharePoint server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// Port of the SharePoint server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_port: Option<u16>,
    /// Account that connects to SharePoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Whether the connection uses SSL.
    #[serde(default, rename = "useSSL", skip_serializing_if = "Option::is_none")]
    pub use_ssl: Option<bool>,
    /// Whether certificate authority verification is skipped.
    #[serde(
        default,
        rename = "skipCAverification",
        skip_serializing_if = "Option::is_none"
    )]
    pub skip_ca_verification: Option<bool>,
    /// Whether common name verification is skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_common_name_verification: Option<bool>,
    /// Whether the revocation check is skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_revocation_check: Option<bool>,
    /// Whether backup jobs may process every item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_impersonation: Option<bool>,
    /// Whether the account gets Site Collection Administrator rights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_access_to_site_collections: Option<bool>,
}

impl<S> From<&SharePointSettings<S>> for SharePointSettingsView {
    fn from(settings: &SharePointSettings<S>) -> Self {
        Self {
            server_name: settings.server_name.clone(),
            server_port: Some(settings.server_port),
            username: settings.username.clone(),
            use_ssl: Some(settings.use_ssl),
            skip_ca_verification: Some(settings.skip_ca_verification),
            skip_common_name_verification: Some(settings.skip_common_name_verification),
            skip_revocation_check: Some(settings.skip_revocation_check),
            grant_impersonation: Some(settings.grant_impersonation),
            grant_access_to_site_collections: Some(settings.grant_access_to_site_collections),
        }
    }
}

/// The observable configuration of an organization: everything the server returns about it
/// that a manifest controls. Properties the server did not return are `None`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationState {
    /// The kind of organization.
    #[serde(rename = "type")]
    pub kind: OrganizationType,
    /// The description (REST API v7 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Office365: the tenant's Azure region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// Office365 and Hybrid: includes Microsoft Teams.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_teams_online: Option<bool>,
    /// Office365 and Hybrid: includes Teams chats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_teams_chats_online: Option<bool>,
    /// Office365: includes Exchange Online.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_exchange_online: Option<bool>,
    /// Office365: includes SharePoint Online.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_share_point_online: Option<bool>,
    /// Office365: Exchange Online connection settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_online_settings: Option<Box<OnlineSettingsView>>,
    /// Office365: SharePoint Online connection settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_point_online_settings: Option<Box<OnlineSettingsView>>,
    /// Hybrid: the Microsoft 365 side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office365_settings: Option<Box<Office365SettingsView>>,
    /// OnPremises and Hybrid: includes on-premises Exchange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_exchange: Option<bool>,
    /// OnPremises and Hybrid: Exchange connection settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_settings: Option<Box<ExchangeSettingsView>>,
    /// OnPremises and Hybrid: includes on-premises SharePoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_share_point: Option<bool>,
    /// OnPremises and Hybrid: SharePoint connection settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_point_settings: Option<Box<SharePointSettingsView>>,
}

/// A hypermedia link of the representation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Link {
    /// Absolute URL (v3) or path (`/v8/Organizations/...`, v6 and later).
    pub href: String,
}

/// An organization as `GET /Organizations` and `POST /Organizations` return it.
///
/// Only `id`, `name` and `type` are required: servers differ in everything else (links, backup
/// times, fields of later API versions), and what one does not report is "not reported", never
/// a difference.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    /// Server-assigned identifier (a GUID).
    pub id: String,
    /// The organization's name, unique on the server (compared case-insensitively).
    pub name: String,
    /// Everything a manifest controls.
    #[serde(flatten)]
    pub state: OrganizationState,
    /// The Microsoft 365 tenant's id (REST API v8): the tenant's identity, whatever the
    /// organization is called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msid: Option<String>,
    /// The name of the Microsoft 365 organization, as the server reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office_name: Option<String>,
    /// The id of the organization's backed-up data (REST API v8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backed_up_organization_id: Option<String>,
    /// Office365: the account used to connect, as the server reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Whether any backup of the organization exists.
    #[serde(
        default,
        rename = "isBackedup",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_backed_up: Option<bool>,
    /// Time of the first backup, once there is one.
    #[serde(
        default,
        rename = "firstBackuptime",
        skip_serializing_if = "Option::is_none"
    )]
    pub first_backup_time: Option<String>,
    /// Time of the last backup, once there is one.
    #[serde(
        default,
        rename = "lastBackuptime",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_backup_time: Option<String>,
    /// Hypermedia links.
    #[serde(default, rename = "_links", skip_serializing_if = "Option::is_none")]
    pub links: Option<serde_json::Map<String, serde_json::Value>>,
    /// Hypermedia actions (always `{}` in v3).
    #[serde(default, rename = "_actions", skip_serializing_if = "Option::is_none")]
    pub actions: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The `grant_type` of a token request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    /// Log in with a username and password.
    Password,
    /// Exchange a refresh token for a new access token.
    RefreshToken,
}

/// The form-encoded body of `POST /v3/Token`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenRequest {
    /// Which grant this is.
    pub grant_type: GrantType,
    /// Password grant: the user, often `DOMAIN\user`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Password grant: the user's password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// Refresh grant: the refresh token from an earlier response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// `true` to do without the browser antiforgery token (REST API v7 and later; without it
    /// the server expects the antiforgery cookie a browser keeps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_antiforgery_token: Option<bool>,
}

/// A successful answer of `POST /v3/Token` (the OWIN OAuth server's shape).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenResponse {
    /// Opaque bearer token for the `Authorization` header.
    pub access_token: Secret,
    /// Always `bearer`.
    pub token_type: String,
    /// Seconds until `access_token` expires.
    pub expires_in: u64,
    /// Single-use token that buys a new access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// The user the token belongs to.
    #[serde(rename = "userName", default)]
    pub user_name: String,
    /// When the token was issued (RFC 1123).
    #[serde(rename = ".issued", default)]
    pub issued: String,
    /// When the token expires (RFC 1123).
    #[serde(rename = ".expires", default)]
    pub expires: String,
}

/// The error body of `POST /v3/Token`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthError {
    /// An OAuth error code such as `invalid_grant`.
    pub error: String,
    /// What went wrong, for people.
    #[serde(default)]
    pub error_description: String,
}

/// The error body of every other endpoint: `{"message": "..."}`, with an `errorCode` such as
/// `ResourceNotFound` from REST API v7 on (`RESTExceptionInfo`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiError {
    /// What went wrong, for people.
    pub message: String,
    /// A machine-readable code, for example `OperationConflict` (v7 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
}

impl ApiError {
    /// An error with only a message, as v3 and v6 write them.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            error_code: None,
        }
    }
}

/// One page of `GET /v8/Organizations` (`PageOfRestOrganizationComposed`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// Position of the first result in the whole list.
    pub offset: u64,
    /// Most results a page holds.
    pub limit: u64,
    /// Identifies the snapshot of the list the page belongs to: it changes when the list does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_id: Option<String>,
    /// The results.
    pub results: Vec<T>,
    /// `first`, `prev` and `next` links, as paths.
    #[serde(default, rename = "_links", skip_serializing_if = "Option::is_none")]
    pub links: Option<serde_json::Map<String, serde_json::Value>>,
}

macro_rules! secret_fields {
    ($ty:ident { $($field:ident => $name:literal),+ $(,)? }) => {
        impl<S> $ty<S> {
            /// The same settings with each secret turned into `T` by `secret`, which receives the
            /// dotted path of the field (`<prefix>.password`) and the secret.
            pub fn try_map_secrets<T, E>(
                &self,
                prefix: &str,
                secret: &mut impl FnMut(&str, &S) -> Result<T, E>,
            ) -> Result<$ty<T>, E> {
                let mut map = |name: &str, value: &Option<S>| {
                    value
                        .as_ref()
                        .map(|value| secret(&format!("{prefix}.{name}"), value))
                        .transpose()
                };
                Ok($ty {
                    $($field: map($name, &self.$field)?,)+
                    ..self.without_secrets()
                })
            }

            /// The secrets that are set, with their field names.
            pub fn secret_slots(&self) -> Vec<(&'static str, &S)> {
                [$(($name, self.$field.as_ref())),+]
                    .into_iter()
                    .filter_map(|(name, value)| value.map(|value| (name, value)))
                    .collect()
            }

            /// The secrets that are set, for editing in place.
            pub fn secret_slots_mut(&mut self) -> Vec<&mut S> {
                [$(self.$field.as_mut()),+].into_iter().flatten().collect()
            }
        }
    };
}

impl<S> OnlineSettings<S> {
    /// The same settings with each secret turned into `T` by `secret`, which receives the
    /// dotted path of the field (`<prefix>.password`) and the secret. The certificate itself
    /// (`applicationCertificate` given as content) is a secret too; a server path is not.
    pub fn try_map_secrets<T, E>(
        &self,
        prefix: &str,
        secret: &mut impl FnMut(&str, &S) -> Result<T, E>,
    ) -> Result<OnlineSettings<T>, E> {
        let application_certificate = match &self.application_certificate {
            None => None,
            Some(ApplicationCertificate::ServerPath(path)) => {
                Some(ApplicationCertificate::ServerPath(path.clone()))
            }
            Some(ApplicationCertificate::Content(content)) => {
                Some(ApplicationCertificate::Content(secret(
                    &format!("{prefix}.applicationCertificate"),
                    content,
                )?))
            }
        };
        let mut map = |name: &str, value: &Option<S>| {
            value
                .as_ref()
                .map(|value| secret(&format!("{prefix}.{name}"), value))
                .transpose()
        };
        Ok(OnlineSettings {
            password: map("password", &self.password)?,
            application_secret: map("applicationSecret", &self.application_secret)?,
            application_certificate_password: map(
                "applicationCertificatePassword",
                &self.application_certificate_password,
            )?,
            application_certificate,
            ..self.without_secrets()
        })
    }

    /// The secrets that are set, with their field names.
    pub fn secret_slots(&self) -> Vec<(&'static str, &S)> {
        let certificate = match &self.application_certificate {
            Some(ApplicationCertificate::Content(content)) => Some(content),
            _ => None,
        };
        [
            ("password", self.password.as_ref()),
            ("applicationSecret", self.application_secret.as_ref()),
            ("applicationCertificate", certificate),
            (
                "applicationCertificatePassword",
                self.application_certificate_password.as_ref(),
            ),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|value| (name, value)))
        .collect()
    }

    /// The secrets that are set, for editing in place.
    pub fn secret_slots_mut(&mut self) -> Vec<&mut S> {
        let certificate = match &mut self.application_certificate {
            Some(ApplicationCertificate::Content(content)) => Some(content),
            _ => None,
        };
        [
            self.password.as_mut(),
            self.application_secret.as_mut(),
            certificate,
            self.application_certificate_password.as_mut(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

secret_fields!(Office365Settings { password => "password" });
secret_fields!(ExchangeSettings { password => "password" });
secret_fields!(SharePointSettings { password => "password" });

impl<S> OnlineSettings<S> {
    fn without_secrets<T>(&self) -> OnlineSettings<T> {
        OnlineSettings {
            account: self.account.clone(),
            password: None,
            grant_admin_access: self.grant_admin_access,
            use_mfa: self.use_mfa,
            application_id: self.application_id.clone(),
            application_secret: None,
            application_certificate: None,
            application_certificate_password: None,
            application_certificate_thumbprint: self.application_certificate_thumbprint.clone(),
            use_custom_veeam_aad_application: self.use_custom_veeam_aad_application,
            use_application_only_auth: self.use_application_only_auth,
            office_organization_name: self.office_organization_name.clone(),
            share_point_save_all_web_parts: self.share_point_save_all_web_parts,
        }
    }
}

impl<S> Office365Settings<S> {
    fn without_secrets<T>(&self) -> Office365Settings<T> {
        Office365Settings {
            region: self.region,
            username: self.username.clone(),
            password: None,
            grant_impersonation: self.grant_impersonation,
            grant_access_to_site_collections: self.grant_access_to_site_collections,
            use_veeam_aad_application: self.use_veeam_aad_application,
        }
    }
}

impl<S> ExchangeSettings<S> {
    fn without_secrets<T>(&self) -> ExchangeSettings<T> {
        ExchangeSettings {
            server_name: self.server_name.clone(),
            username: self.username.clone(),
            password: None,
            use_ssl: self.use_ssl,
            skip_ca_verification: self.skip_ca_verification,
            skip_common_name_verification: self.skip_common_name_verification,
            skip_revocation_check: self.skip_revocation_check,
            grant_impersonation: self.grant_impersonation,
            configure_throttling_policy: self.configure_throttling_policy,
        }
    }
}

impl<S> SharePointSettings<S> {
    fn without_secrets<T>(&self) -> SharePointSettings<T> {
        SharePointSettings {
            server_name: self.server_name.clone(),
            server_port: self.server_port,
            username: self.username.clone(),
            password: None,
            use_ssl: self.use_ssl,
            skip_ca_verification: self.skip_ca_verification,
            skip_common_name_verification: self.skip_common_name_verification,
            skip_revocation_check: self.skip_revocation_check,
            grant_impersonation: self.grant_impersonation,
            grant_access_to_site_collections: self.grant_access_to_site_collections,
        }
    }
}
