//! The manifest: one document per organization, as users keep them in git.
//!
//! ```yaml
//! apiVersion: vboctl/v1
//! kind: Organization
//! metadata:
//!   name: contoso.onmicrosoft.com
//! spec:
//!   type: Office365
//!   isExchangeOnline: true
//!   exchangeOnlineSettings:
//!     account: admin@contoso.onmicrosoft.com
//!     password: {fromEnv: CONTOSO_EXO_PASSWORD}
//! ```
//!
//! `spec` carries the request body's properties for its `type`, under the API's own names, so
//! what a user writes is what is sent. `metadata.name` becomes the body's `name`.

use std::collections::BTreeMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::SecretRef;
use crate::wire::{
    ExchangeSettings, Office365Settings, OnlineSettings, OrganizationBody, OrganizationState,
    OrganizationType, Region, SharePointSettings,
};

/// The manifest format's version. Only `vboctl/v1` exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ApiVersion {
    /// The first and current format.
    #[serde(rename = "vboctl/v1")]
    V1,
}

/// What a document describes. Only `Organization` exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Kind {
    /// An organization of the backup server.
    Organization,
}

/// One organization that should exist on the Veeam Backup for Microsoft 365 server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(
    title = "vboctl Organization manifest",
    example = example_manifest()
)]
pub struct Manifest {
    /// Version of the manifest format. Always `vboctl/v1`.
    pub api_version: ApiVersion,
    /// Kind of document. Always `Organization`.
    pub kind: Kind,
    /// Identity of the organization.
    pub metadata: Metadata,
    /// Desired configuration of the organization, as sent to the server.
    pub spec: Spec,
}

fn example_manifest() -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "vboctl/v1",
        "kind": "Organization",
        "metadata": {"name": "contoso.onmicrosoft.com", "labels": {"region": "emea"}},
        "spec": {
            "type": "Office365",
            "region": "Worldwide",
            "isExchangeOnline": true,
            "exchangeOnlineSettings": {
                "account": "admin@contoso.onmicrosoft.com",
                "password": {"fromEnv": "CONTOSO_EXO_PASSWORD"},
                "grantAdminAccess": true
            },
            "isSharePointOnline": false
        }
    })
}

/// Identity of the organization.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Metadata {
    /// The organization's name on the server, which is its identity: vboctl matches manifests
    /// to organizations by this name, ignoring case. Must be unique across all manifests.
    /// For Office365 use the tenant's name, for example `contoso.onmicrosoft.com`: the server
    /// names Office365 organizations after their tenant.
    #[schemars(length(min = 1), example = &"contoso.onmicrosoft.com")]
    pub name: String,
    /// Free-form labels for your own bookkeeping, for example `{region: emea, tier: gold}`.
    /// They are not sent to the server.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The Microsoft 365 tenant's id (a GUID), which REST API v8 reports as `msid`. Optional:
    /// when an organization of another name holds this tenant, the plan reports a rename
    /// instead of adding the tenant a second time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        regex(pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
        example = &"9a3c3f0e-6b1f-4a53-9d3e-2f4a6c1b7e10"
    )]
    pub msid: Option<String>,
}

/// Desired configuration of the organization. `type` selects which other properties apply.
// The settings blocks of the specs are boxed: a manifest sets one or two of them, and plan
// holds every manifest at once, so a block not set costs a pointer rather than its size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type")]
pub enum Spec {
    /// A Microsoft 365 tenant: Exchange Online and/or SharePoint Online.
    Office365(Office365Spec),
    /// An on-premises Exchange and/or SharePoint deployment.
    OnPremises(OnPremisesSpec),
    /// A Microsoft 365 tenant together with on-premises Exchange and/or SharePoint.
    Hybrid(HybridSpec),
}

/// A Microsoft 365 tenant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Office365Spec {
    /// A description of the organization, shown in the backup console. REST API v7 and later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"Contoso Ltd., gold tier")]
    pub description: Option<String>,
    /// Azure region of the tenant's datacenter. Default: `Worldwide`.
    #[serde(default)]
    pub region: Region,
    /// Back up Exchange Online. Needs `exchangeOnlineSettings`. Default: `false`.
    #[serde(default)]
    pub is_exchange_online: bool,
    /// How to connect to Exchange Online. Only with `isExchangeOnline: true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange_online_settings: Option<Box<OnlineSettings<SecretRef>>>,
    /// Back up SharePoint Online. Needs `sharePointOnlineSettings`. Default: `false`.
    #[serde(default)]
    pub is_share_point_online: bool,
    /// How to connect to SharePoint Online. Only with `isSharePointOnline: true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_point_online_settings: Option<Box<OnlineSettings<SecretRef>>>,
    /// Back up Microsoft Teams. REST API v6 and later. Default: not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_teams_online: Option<bool>,
    /// Back up Teams chats (needs `isTeamsOnline`). REST API v6 and later. Default: not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_teams_chats_online: Option<bool>,
}

/// An on-premises Exchange and/or SharePoint deployment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OnPremisesSpec {
    /// A description of the organization, shown in the backup console. REST API v7 and later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"Contoso Ltd., gold tier")]
    pub description: Option<String>,
    /// Back up on-premises Exchange. Needs `exchangeSettings`. Default: `false`.
    #[serde(default)]
    pub is_exchange: bool,
    /// How to connect to Exchange. Only with `isExchange: true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange_settings: Option<Box<ExchangeSettings<SecretRef>>>,
    /// Back up on-premises SharePoint. Needs `sharePointSettings`. Default: `false`.
    #[serde(default)]
    pub is_share_point: bool,
    /// How to connect to SharePoint. Only with `isSharePoint: true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_point_settings: Option<Box<SharePointSettings<SecretRef>>>,
}

/// A Microsoft 365 tenant together with on-premises Exchange and/or SharePoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HybridSpec {
    /// A description of the organization, shown in the backup console. REST API v7 and later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"Contoso Ltd., gold tier")]
    pub description: Option<String>,
    /// How to connect to the Microsoft 365 side, as REST API v3 takes it. Later versions
    /// describe that side with `region`, `isExchangeOnline`, `exchangeOnlineSettings`,
    /// `isSharePointOnline` and `sharePointOnlineSettings` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office365_settings: Option<Box<Office365Settings<SecretRef>>>,
    /// Azure region of the tenant's datacenter (REST API v6 and later; v3 takes it in
    /// `office365Settings`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// Back up Exchange Online (REST API v6 and later). Needs `exchangeOnlineSettings`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_exchange_online: Option<bool>,
    /// How to connect to Exchange Online (REST API v6 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_online_settings: Option<Box<OnlineSettings<SecretRef>>>,
    /// Back up SharePoint Online (REST API v6 and later). Needs `sharePointOnlineSettings`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_share_point_online: Option<bool>,
    /// How to connect to SharePoint Online (REST API v6 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_point_online_settings: Option<Box<OnlineSettings<SecretRef>>>,
    /// Back up Microsoft Teams. REST API v6 and later. Default: not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_teams_online: Option<bool>,
    /// Back up Teams chats (needs `isTeamsOnline`). REST API v6 and later. Default: not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_teams_chats_online: Option<bool>,
    /// Back up on-premises Exchange. Needs `exchangeSettings`. Default: `false`.
    #[serde(default)]
    pub is_exchange: bool,
    /// How to connect to Exchange. Only with `isExchange: true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange_settings: Option<Box<ExchangeSettings<SecretRef>>>,
    /// Back up on-premises SharePoint. Needs `sharePointSettings`. Default: `false`.
    #[serde(default)]
    pub is_share_point: bool,
    /// How to connect to SharePoint. Only with `isSharePoint: true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_point_settings: Option<Box<SharePointSettings<SecretRef>>>,
}

/// A secret field of a spec: where it is (`exchangeOnlineSettings.password`) and what it says.
#[derive(Debug)]
pub struct SecretField<'a> {
    /// Dotted path under `spec`, for example `exchangeOnlineSettings.password`.
    pub path: String,
    /// The reference written there.
    pub reference: &'a SecretRef,
}

impl Spec {
    /// The organization type this spec describes.
    pub fn kind(&self) -> OrganizationType {
        match self {
            Spec::Office365(_) => OrganizationType::Office365,
            Spec::OnPremises(_) => OrganizationType::OnPremises,
            Spec::Hybrid(_) => OrganizationType::Hybrid,
        }
    }

    /// The request body for an organization called `name`, with every secret reference turned
    /// into `T` by `secret` (called with the field's dotted path and its reference).
    ///
    /// With `T = Secret` this is what is sent; with `T = SecretRef` (cloning) it is what a plan
    /// shows.
    pub fn to_body<T, E>(
        &self,
        name: &str,
        mut secret: impl FnMut(&str, &SecretRef) -> Result<T, E>,
    ) -> Result<OrganizationBody<T>, E> {
        let mut body = OrganizationBody::named(self.kind(), name);
        match self {
            Spec::Office365(spec) => {
                body.description = spec.description.clone();
                body.region = Some(spec.region);
                body.is_teams_online = spec.is_teams_online;
                body.is_teams_chats_online = spec.is_teams_chats_online;
                body.is_exchange_online = Some(spec.is_exchange_online);
                body.is_share_point_online = Some(spec.is_share_point_online);
                body.exchange_online_settings = spec
                    .exchange_online_settings
                    .as_ref()
                    .map(|s| s.try_map_secrets("exchangeOnlineSettings", &mut secret))
                    .transpose()?;
                body.share_point_online_settings = spec
                    .share_point_online_settings
                    .as_ref()
                    .map(|s| s.try_map_secrets("sharePointOnlineSettings", &mut secret))
                    .transpose()?;
            }
            Spec::OnPremises(spec) => {
                body.description = spec.description.clone();
                body.is_exchange = Some(spec.is_exchange);
                body.is_share_point = Some(spec.is_share_point);
                body.exchange_settings = spec
                    .exchange_settings
                    .as_ref()
                    .map(|s| s.try_map_secrets("exchangeSettings", &mut secret))
                    .transpose()?;
                body.share_point_settings = spec
                    .share_point_settings
                    .as_ref()
                    .map(|s| s.try_map_secrets("sharePointSettings", &mut secret))
                    .transpose()?;
            }
            Spec::Hybrid(spec) => {
                body.description = spec.description.clone();
                body.office365_settings = spec
                    .office365_settings
                    .as_ref()
                    .map(|s| s.try_map_secrets("office365Settings", &mut secret))
                    .transpose()?;
                body.region = spec.region;
                body.is_teams_online = spec.is_teams_online;
                body.is_teams_chats_online = spec.is_teams_chats_online;
                body.is_exchange_online = spec.is_exchange_online;
                body.is_share_point_online = spec.is_share_point_online;
                body.exchange_online_settings = spec
                    .exchange_online_settings
                    .as_ref()
                    .map(|s| s.try_map_secrets("exchangeOnlineSettings", &mut secret))
                    .transpose()?;
                body.share_point_online_settings = spec
                    .share_point_online_settings
                    .as_ref()
                    .map(|s| s.try_map_secrets("sharePointOnlineSettings", &mut secret))
                    .transpose()?;
                body.is_exchange = Some(spec.is_exchange);
                body.is_share_point = Some(spec.is_share_point);
                body.exchange_settings = spec
                    .exchange_settings
                    .as_ref()
                    .map(|s| s.try_map_secrets("exchangeSettings", &mut secret))
                    .transpose()?;
                body.share_point_settings = spec
                    .share_point_settings
                    .as_ref()
                    .map(|s| s.try_map_secrets("sharePointSettings", &mut secret))
                    .transpose()?;
            }
        }
        Ok(body)
    }

    /// The body a plan shows: secret references in place of values.
    pub fn to_reference_body(&self, name: &str) -> OrganizationBody<SecretRef> {
        let Ok(body) = self.to_body(name, |_, reference| {
            Ok::<_, std::convert::Infallible>(reference.clone())
        });
        body
    }

    /// What the server should report once an organization made from this spec exists.
    pub fn state(&self) -> OrganizationState {
        let Ok(body) = self.to_body("", |_, _| Ok::<(), std::convert::Infallible>(()));
        body.state()
    }

    /// Every secret field that is set, in a stable order.
    pub fn secret_fields(&self) -> Vec<SecretField<'_>> {
        let mut fields = Vec::new();
        for (prefix, slots) in self.settings_secrets() {
            for (field, reference) in slots {
                fields.push(SecretField {
                    path: format!("{prefix}.{field}"),
                    reference,
                });
            }
        }
        fields
    }

    /// The secret slots of each settings block that is present, with the block's name.
    fn settings_secrets(&self) -> Vec<(&'static str, Vec<(&'static str, &SecretRef)>)> {
        let mut blocks = Vec::new();
        match self {
            Spec::Office365(spec) => {
                if let Some(s) = &spec.exchange_online_settings {
                    blocks.push(("exchangeOnlineSettings", s.secret_slots()));
                }
                if let Some(s) = &spec.share_point_online_settings {
                    blocks.push(("sharePointOnlineSettings", s.secret_slots()));
                }
            }
            Spec::OnPremises(spec) => {
                if let Some(s) = &spec.exchange_settings {
                    blocks.push(("exchangeSettings", s.secret_slots()));
                }
                if let Some(s) = &spec.share_point_settings {
                    blocks.push(("sharePointSettings", s.secret_slots()));
                }
            }
            Spec::Hybrid(spec) => {
                if let Some(s) = &spec.office365_settings {
                    blocks.push(("office365Settings", s.secret_slots()));
                }
                if let Some(s) = &spec.exchange_online_settings {
                    blocks.push(("exchangeOnlineSettings", s.secret_slots()));
                }
                if let Some(s) = &spec.share_point_online_settings {
                    blocks.push(("sharePointOnlineSettings", s.secret_slots()));
                }
                if let Some(s) = &spec.exchange_settings {
                    blocks.push(("exchangeSettings", s.secret_slots()));
                }
                if let Some(s) = &spec.share_point_settings {
                    blocks.push(("sharePointSettings", s.secret_slots()));
                }
            }
        }
        blocks
    }

    /// Makes every relative `fromFile` path relative to `dir`, the manifest's folder.
    pub fn rebase_secret_files(&mut self, dir: &Path) {
        let mut rebase = |reference: &mut SecretRef| reference.rebase(dir);
        match self {
            Spec::Office365(spec) => {
                for settings in [
                    spec.exchange_online_settings.as_mut(),
                    spec.share_point_online_settings.as_mut(),
                ]
                .into_iter()
                .flatten()
                {
                    settings
                        .secret_slots_mut()
                        .into_iter()
                        .for_each(&mut rebase);
                }
            }
            Spec::OnPremises(OnPremisesSpec {
                exchange_settings,
                share_point_settings,
                ..
            }) => {
                if let Some(settings) = exchange_settings {
                    settings
                        .secret_slots_mut()
                        .into_iter()
                        .for_each(&mut rebase);
                }
                if let Some(settings) = share_point_settings {
                    settings
                        .secret_slots_mut()
                        .into_iter()
                        .for_each(&mut rebase);
                }
            }
            Spec::Hybrid(spec) => {
                if let Some(settings) = spec.office365_settings.as_mut() {
                    settings
                        .secret_slots_mut()
                        .into_iter()
                        .for_each(&mut rebase);
                }
                for settings in [
                    spec.exchange_online_settings.as_mut(),
                    spec.share_point_online_settings.as_mut(),
                ]
                .into_iter()
                .flatten()
                {
                    settings
                        .secret_slots_mut()
                        .into_iter()
                        .for_each(&mut rebase);
                }
                if let Some(settings) = spec.exchange_settings.as_mut() {
                    settings
                        .secret_slots_mut()
                        .into_iter()
                        .for_each(&mut rebase);
                }
                if let Some(settings) = spec.share_point_settings.as_mut() {
                    settings
                        .secret_slots_mut()
                        .into_iter()
                        .for_each(&mut rebase);
                }
            }
        }
    }
}
