//! The server's own checks of a body it could read: what each organization type requires, and
//! the name the organization gets.

use vbo_model::wire::{
    ApplicationCertificate, ExchangeSettings, OnlineSettings, SharePointSettings,
};
use vbo_model::{Dialect, OrganizationBody, OrganizationType, Secret};

/// Checks `body` as the server of `dialect` does and returns the name the organization gets,
/// or the message of a 400 answer naming the first property that is missing.
pub(crate) fn check(body: &OrganizationBody<Secret>, dialect: &Dialect) -> Result<String, String> {
    match body.kind {
        OrganizationType::Office365 => check_online_workloads(body)?,
        OrganizationType::OnPremises => check_on_premises(body)?,
        // v3 takes the Microsoft 365 side in `office365Settings`; later versions as an
        // Office365 organization's workloads.
        OrganizationType::Hybrid if dialect.version == vbo_model::RestApiVersion::V3 => {
            let Some(settings) = &body.office365_settings else {
                return Err(
                    "Property 'office365Settings' is required for a Hybrid organization.".into(),
                );
            };
            require(settings.username.as_deref(), "office365Settings.username")?;
            require(secret(&settings.password), "office365Settings.password")?;
            check_on_premises(body)?;
        }
        OrganizationType::Hybrid => {
            check_online_workloads(body)?;
            check_on_premises(body)?;
        }
    }
    if let Some(name) = blank(body.name.as_deref()) {
        return Ok(name.to_owned());
    }
    derived_name(body).map(str::to_owned).ok_or_else(|| {
        let source = match body.kind {
            OrganizationType::Office365 => "an account that names the tenant",
            OrganizationType::OnPremises | OrganizationType::Hybrid => "a server name",
        };
        format!("Property 'name' is required when no enabled workload has {source}.")
    })
}

fn check_online_workloads(body: &OrganizationBody<Secret>) -> Result<(), String> {
    for (flag, flag_name, settings, settings_name) in online_workloads(body) {
        if flag {
            let settings = required_when(settings, settings_name, flag_name)?;
            check_online(settings, settings_name)?;
        }
    }
    Ok(())
}

/// The message of REST API v8's refusal to add a Microsoft 365 organization with basic
/// authentication, or with modern authentication and legacy protocols, outside China, when
/// `dialect` has that rule and `body` breaks it.
pub(crate) fn refused_authentication(
    body: &OrganizationBody<Secret>,
    dialect: &Dialect,
) -> Option<String> {
    dialect.refused_new_authentication(body).map(|name| {
        format!(
            "Adding Microsoft 365 organizations using basic authentication or modern \
             authentication with legacy protocols is not supported ('{name}'): use \
             application-only authentication ('useApplicationOnlyAuth': true). Basic \
             authentication is only available in the China region."
        )
    })
}

/// The name the server gives an organization whose body has none. Office365: the domain of
/// the first enabled workload's account (the tenant), as the real server does. Hybrid: the
/// domain of the Microsoft 365 user; OnPremises: the first enabled server. (Public documents
/// do not say how the real server names these two; their examples carry no name.)
fn derived_name(body: &OrganizationBody<Secret>) -> Option<&str> {
    match body.kind {
        OrganizationType::Office365 => online_workloads(body)
            .into_iter()
            .filter(|(flag, ..)| *flag)
            .filter_map(|(_, _, settings, _)| settings?.account.as_deref())
            .find_map(domain),
        OrganizationType::Hybrid => body
            .office365_settings
            .as_ref()
            .and_then(|settings| settings.username.as_deref())
            .and_then(domain)
            .or_else(|| {
                online_workloads(body)
                    .into_iter()
                    .filter(|(flag, ..)| *flag)
                    .filter_map(|(_, _, settings, _)| settings?.account.as_deref())
                    .find_map(domain)
            }),
        OrganizationType::OnPremises => [
            body.exchange_settings
                .as_ref()
                .filter(|_| body.is_exchange == Some(true))
                .and_then(|settings| settings.server_name.as_deref()),
            body.share_point_settings
                .as_ref()
                .filter(|_| body.is_share_point == Some(true))
                .and_then(|settings| settings.server_name.as_deref()),
        ]
        .into_iter()
        .find_map(|name| blank(name).map(str::trim)),
    }
}

/// The part of an account after `@`.
fn domain(account: &str) -> Option<&str> {
    account
        .rsplit_once('@')
        .map(|(_, domain)| domain.trim())
        .filter(|domain| !domain.is_empty())
}

/// The account the server reports as the organization's `username`: for Office365 the account
/// of the first enabled workload, for Hybrid the Microsoft 365 user, for OnPremises none.
pub(crate) fn reported_username(body: &OrganizationBody<Secret>) -> Option<String> {
    match body.kind {
        OrganizationType::Office365 => online_workloads(body)
            .into_iter()
            .filter(|(flag, ..)| *flag)
            .find_map(|(_, _, settings, _)| settings.and_then(|s| s.account.clone())),
        OrganizationType::Hybrid => body
            .office365_settings
            .as_ref()
            .and_then(|settings| settings.username.clone()),
        OrganizationType::OnPremises => None,
    }
}

type Workload<'a> = (
    bool,
    &'static str,
    Option<&'a OnlineSettings<Secret>>,
    &'static str,
);

fn online_workloads(body: &OrganizationBody<Secret>) -> [Workload<'_>; 2] {
    [
        (
            body.is_exchange_online == Some(true),
            "isExchangeOnline",
            body.exchange_online_settings.as_ref(),
            "exchangeOnlineSettings",
        ),
        (
            body.is_share_point_online == Some(true),
            "isSharePointOnline",
            body.share_point_online_settings.as_ref(),
            "sharePointOnlineSettings",
        ),
    ]
}

fn check_online(settings: &OnlineSettings<Secret>, prefix: &str) -> Result<(), String> {
    let certificate = settings
        .application_certificate
        .as_ref()
        .and_then(|certificate| match certificate {
            ApplicationCertificate::ServerPath(text) => blank(Some(text)),
            ApplicationCertificate::Content(content) => blank(Some(content.expose())),
        });
    if settings.use_application_only_auth == Some(true) {
        require(
            settings.application_id.as_deref(),
            &format!("{prefix}.applicationId"),
        )?;
        require(certificate, &format!("{prefix}.applicationCertificate"))?;
    } else if settings.use_mfa {
        require(
            settings.application_id.as_deref(),
            &format!("{prefix}.applicationId"),
        )?;
        if secret(&settings.application_secret).is_none() && certificate.is_none() {
            return Err(format!(
                "Property '{prefix}.applicationSecret' or '{prefix}.applicationCertificate' is \
                 required for modern authentication."
            ));
        }
    } else {
        require(settings.account.as_deref(), &format!("{prefix}.account"))?;
        require(secret(&settings.password), &format!("{prefix}.password"))?;
    }
    Ok(())
}

fn check_on_premises(body: &OrganizationBody<Secret>) -> Result<(), String> {
    if body.is_exchange == Some(true) {
        let settings: &ExchangeSettings<Secret> = required_when(
            body.exchange_settings.as_ref(),
            "exchangeSettings",
            "isExchange",
        )?;
        check_server(
            "exchangeSettings",
            settings.server_name.as_deref(),
            settings.username.as_deref(),
            &settings.password,
        )?;
    }
    if body.is_share_point == Some(true) {
        let settings: &SharePointSettings<Secret> = required_when(
            body.share_point_settings.as_ref(),
            "sharePointSettings",
            "isSharePoint",
        )?;
        check_server(
            "sharePointSettings",
            settings.server_name.as_deref(),
            settings.username.as_deref(),
            &settings.password,
        )?;
    }
    Ok(())
}

fn check_server(
    prefix: &str,
    server_name: Option<&str>,
    username: Option<&str>,
    password: &Option<Secret>,
) -> Result<(), String> {
    require(server_name, &format!("{prefix}.serverName"))?;
    require(username, &format!("{prefix}.username"))?;
    require(secret(password), &format!("{prefix}.password"))
}

fn required_when<'a, T>(
    settings: Option<&'a T>,
    settings_name: &str,
    flag_name: &str,
) -> Result<&'a T, String> {
    settings.ok_or_else(|| {
        format!("Property '{settings_name}' is required when '{flag_name}' is true.")
    })
}

fn require(value: Option<&str>, path: &str) -> Result<(), String> {
    match blank(value) {
        Some(_) => Ok(()),
        None => Err(format!("Property '{path}' is required.")),
    }
}

/// The value, unless it is absent or only whitespace.
fn blank(value: Option<&str>) -> Option<&str> {
    value.filter(|value| !value.trim().is_empty())
}

fn secret(value: &Option<Secret>) -> Option<&str> {
    value.as_ref().map(Secret::expose)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read_body::parse_body;

    fn check_json(json: serde_json::Value) -> Result<String, String> {
        check(
            &parse_body(json.to_string().as_bytes()).unwrap(),
            vbo_model::RestApiVersion::V3.dialect(),
        )
    }

    #[test]
    fn each_type_requires_what_it_connects_with() {
        use serde_json::json;
        let cases = [
            (
                json!({"type": "Office365", "isExchangeOnline": true}),
                "Property 'exchangeOnlineSettings' is required when 'isExchangeOnline' is true.",
            ),
            (
                json!({"type": "Office365", "isSharePointOnline": true,
                       "sharePointOnlineSettings": {"account": "a@contoso.com"}}),
                "Property 'sharePointOnlineSettings.password' is required.",
            ),
            (
                json!({"type": "Office365", "isExchangeOnline": true,
                       "exchangeOnlineSettings": {"useMfa": true, "applicationId": "x"}}),
                "Property 'exchangeOnlineSettings.applicationSecret' or \
                 'exchangeOnlineSettings.applicationCertificate' is required for modern \
                 authentication.",
            ),
            (
                json!({"type": "Office365", "isExchangeOnline": true,
                       "exchangeOnlineSettings": {"useMfa": true, "applicationId": "x",
                                                  "applicationSecret": "s"}}),
                "Property 'name' is required when no enabled workload has an account that \
                 names the tenant.",
            ),
            (
                json!({"type": "OnPremises", "name": "n", "isExchange": true,
                       "exchangeSettings": {"serverName": "s", "password": "p"}}),
                "Property 'exchangeSettings.username' is required.",
            ),
            (
                json!({"type": "OnPremises", "name": "n", "isSharePoint": true}),
                "Property 'sharePointSettings' is required when 'isSharePoint' is true.",
            ),
            (
                json!({"type": "OnPremises", "isExchange": false,
                       "exchangeSettings": {"serverName": "disabled.contoso.local"}}),
                "Property 'name' is required when no enabled workload has a server name.",
            ),
            (
                json!({"type": "Hybrid", "name": "n"}),
                "Property 'office365Settings' is required for a Hybrid organization.",
            ),
            (
                json!({"type": "Hybrid", "name": "n",
                       "office365Settings": {"username": "u@c.com", "password": "  "}}),
                "Property 'office365Settings.password' is required.",
            ),
        ];
        for (json, message) in cases {
            assert_eq!(check_json(json.clone()), Err(message.to_owned()), "{json}");
        }
    }

    #[test]
    fn office365_is_named_after_the_first_enabled_accounts_domain() {
        let json = serde_json::json!({
            "type": "Office365",
            "isExchangeOnline": false,
            "exchangeOnlineSettings": {"account": "a@ignored.com", "password": "p"},
            "isSharePointOnline": true,
            "sharePointOnlineSettings": {"account": "admin@contoso.onmicrosoft.com", "password": "p"}
        });
        assert_eq!(check_json(json.clone()).unwrap(), "contoso.onmicrosoft.com");
        let body = parse_body(json.to_string().as_bytes()).unwrap();
        assert_eq!(
            reported_username(&body).as_deref(),
            Some("admin@contoso.onmicrosoft.com")
        );
    }

    #[test]
    fn on_premises_and_hybrid_are_named_after_a_server_or_the_tenant() {
        let on_premises = serde_json::json!({
            "type": "OnPremises",
            "isExchange": true,
            "exchangeSettings": {"serverName": "mail.contoso.local", "username": "C\\u", "password": "p"}
        });
        assert_eq!(check_json(on_premises).unwrap(), "mail.contoso.local");
        let hybrid = serde_json::json!({
            "type": "Hybrid",
            "office365Settings": {"username": "admin@contoso.onmicrosoft.com", "password": "p"}
        });
        assert_eq!(check_json(hybrid).unwrap(), "contoso.onmicrosoft.com");
    }

    #[test]
    fn a_given_name_wins() {
        let json = serde_json::json!({"type": "OnPremises", "name": "Contoso"});
        assert_eq!(check_json(json).unwrap(), "Contoso");
    }
}
