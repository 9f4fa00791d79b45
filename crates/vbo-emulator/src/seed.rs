//! Synthetic organizations for benchmarks and for trying `plan` against a big server.

use vbo_model::wire::{ExchangeSettings, Office365Settings, OnlineSettings, SharePointSettings};
use vbo_model::{OrganizationBody, OrganizationType, Region, Secret};

/// `count` valid organizations, cycling Office365, OnPremises, Hybrid, named
/// `seed-00001.onmicrosoft.com`, `seed-00002.onprem.example`, `seed-00003.hybrid.example`, ...
pub(crate) fn organizations(count: usize) -> Vec<(String, OrganizationBody<Secret>)> {
    (1..=count)
        .map(|n| match n % 3 {
            1 => office365(n),
            2 => on_premises(n),
            _ => hybrid(n),
        })
        .collect()
}

fn password(n: usize) -> Option<Secret> {
    Some(Secret::new(format!("seed-password-{n}")))
}

fn office365(n: usize) -> (String, OrganizationBody<Secret>) {
    let name = format!("seed-{n:05}.onmicrosoft.com");
    let settings = OnlineSettings {
        account: Some(format!("admin@{name}")),
        password: password(n),
        grant_admin_access: n.is_multiple_of(2),
        use_mfa: false,
        application_id: None,
        application_secret: None,
        application_certificate: None,
        application_certificate_password: None,
        application_certificate_thumbprint: None,
        use_custom_veeam_aad_application: false,
        use_application_only_auth: None,
        office_organization_name: None,
        share_point_save_all_web_parts: None,
    };
    let body = OrganizationBody {
        region: Some(Region::Worldwide),
        is_exchange_online: Some(true),
        exchange_online_settings: Some(settings.clone()),
        is_share_point_online: Some(n.is_multiple_of(2)),
        share_point_online_settings: Some(settings),
        ..OrganizationBody::named(OrganizationType::Office365, &name)
    };
    (name, body)
}

fn exchange(n: usize, name: &str) -> ExchangeSettings<Secret> {
    ExchangeSettings {
        server_name: Some(format!("mail.{name}")),
        username: Some(format!("SEED{n}\\backup")),
        password: password(n),
        use_ssl: true,
        skip_ca_verification: false,
        skip_common_name_verification: false,
        skip_revocation_check: false,
        grant_impersonation: true,
        configure_throttling_policy: n.is_multiple_of(2),
    }
}

fn share_point(n: usize, name: &str) -> SharePointSettings<Secret> {
    SharePointSettings {
        server_name: Some(format!("sharepoint.{name}")),
        server_port: vbo_model::wire::DEFAULT_SHAREPOINT_PORT,
        username: Some(format!("SEED{n}\\backup")),
        password: password(n),
        use_ssl: true,
        skip_ca_verification: false,
        skip_common_name_verification: false,
        skip_revocation_check: false,
        grant_impersonation: false,
        grant_access_to_site_collections: true,
    }
}

fn on_premises(n: usize) -> (String, OrganizationBody<Secret>) {
    let name = format!("seed-{n:05}.onprem.example");
    let body = OrganizationBody {
        is_exchange: Some(true),
        exchange_settings: Some(exchange(n, &name)),
        is_share_point: Some(true),
        share_point_settings: Some(share_point(n, &name)),
        ..OrganizationBody::named(OrganizationType::OnPremises, &name)
    };
    (name, body)
}

fn hybrid(n: usize) -> (String, OrganizationBody<Secret>) {
    let name = format!("seed-{n:05}.hybrid.example");
    let body = OrganizationBody {
        office365_settings: Some(Office365Settings {
            region: Region::Worldwide,
            username: Some(format!("admin@seed-{n:05}.onmicrosoft.com")),
            password: password(n),
            grant_impersonation: true,
            grant_access_to_site_collections: true,
            use_veeam_aad_application: false,
        }),
        is_exchange: Some(true),
        exchange_settings: Some(exchange(n, &name)),
        is_share_point: Some(false),
        ..OrganizationBody::named(OrganizationType::Hybrid, &name)
    };
    (name, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_valid_distinct_and_of_every_type() {
        let seeds = organizations(6);
        let mut names = std::collections::HashSet::new();
        for (name, body) in &seeds {
            let v3 = vbo_model::RestApiVersion::V3.dialect();
            assert_eq!(
                crate::validate::check(body, v3).as_deref(),
                Ok(name.as_str())
            );
            assert!(names.insert(name.to_lowercase()));
        }
        let kinds: Vec<OrganizationType> = seeds.iter().map(|(_, body)| body.kind).collect();
        assert_eq!(
            kinds,
            [
                OrganizationType::Office365,
                OrganizationType::OnPremises,
                OrganizationType::Hybrid
            ]
            .repeat(2)
        );
    }
}
