//! Properties that hold for any manifests and any server: planning is deterministic, accounts
//! for every manifest once, and converges once applied.

use proptest::option;
use proptest::prelude::*;
use serde_json::Value;
use vbo_model::manifest::{HybridSpec, Office365Spec, OnPremisesSpec};
use vbo_model::wire::{
    ApplicationCertificate, ExchangeSettings, Office365Settings, OnlineSettings, SharePointSettings,
};
use vbo_model::{Organization, Region, Secret, SecretRef, Spec};
use vbo_plan::{Action, Desired, Plan, PlanOptions, plan};

use crate::fixtures::organization;

/// Every literal secret the strategies make starts with this; no output may contain it.
pub(crate) const SECRET_MARK: &str = "LEAKCHECK";

const NAMES: [&str; 6] = [
    "contoso.com",
    "fabrikam.local",
    "northwind.org",
    "tailspin.io",
    "adatum.net",
    "woodgrove.bank",
];

fn secret_ref() -> impl Strategy<Value = SecretRef> {
    prop_oneof![
        "[A-Z]{3,8}_PASSWORD".prop_map(SecretRef::FromEnv),
        "secrets/[a-z]{3,8}\\.txt".prop_map(|path| SecretRef::FromFile(path.into())),
        "[0-9]{8}".prop_map(|n| SecretRef::Literal(Secret::new(format!("{SECRET_MARK}{n}")))),
    ]
}

fn region() -> impl Strategy<Value = Region> {
    prop_oneof![
        Just(Region::Worldwide),
        Just(Region::UsGovernment),
        Just(Region::Germany),
        Just(Region::China),
        Just(Region::UsDefence),
    ]
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("admin@example.com".to_owned()),
        Just("backup@example.com".to_owned()),
        Just("EXAMPLE\\backup".to_owned()),
        Just("mail.example.local".to_owned()),
    ]
}

fn online() -> impl Strategy<Value = OnlineSettings<SecretRef>> {
    (
        option::of(word()),
        option::of(secret_ref()),
        any::<bool>(),
        any::<bool>(),
        option::of(Just("63baecf0-2624-45d0-9ece-de1db611dc98".to_owned())),
        option::of(secret_ref()),
        option::of(Just("C:\\Certificates\\app.pfx".to_owned())),
        option::of(secret_ref()),
        option::of(Just("56B0DF39470953D9D4C0CFA6F97112615D4FD0E1".to_owned())),
        any::<bool>(),
    )
        .prop_map(
            |(account, password, admin, mfa, app, secret, cert, cert_pw, thumb, aad)| {
                OnlineSettings {
                    account,
                    password,
                    grant_admin_access: admin,
                    use_mfa: mfa,
                    application_id: app,
                    application_secret: secret,
                    application_certificate: cert.map(ApplicationCertificate::ServerPath),
                    application_certificate_password: cert_pw,
                    application_certificate_thumbprint: thumb,
                    use_custom_veeam_aad_application: aad,
                    use_application_only_auth: None,
                    office_organization_name: None,
                    share_point_save_all_web_parts: None,
                }
            },
        )
}

fn exchange() -> impl Strategy<Value = ExchangeSettings<SecretRef>> {
    (
        option::of(word()),
        option::of(word()),
        option::of(secret_ref()),
        prop::array::uniform6(any::<bool>()),
    )
        .prop_map(
            |(server_name, username, password, flags)| ExchangeSettings {
                server_name,
                username,
                password,
                use_ssl: flags[0],
                skip_ca_verification: flags[1],
                skip_common_name_verification: flags[2],
                skip_revocation_check: flags[3],
                grant_impersonation: flags[4],
                configure_throttling_policy: flags[5],
            },
        )
}

fn share_point() -> impl Strategy<Value = SharePointSettings<SecretRef>> {
    (
        option::of(word()),
        prop_oneof![Just(5985u16), Just(443u16), 1u16..=65535],
        option::of(word()),
        option::of(secret_ref()),
        prop::array::uniform6(any::<bool>()),
    )
        .prop_map(
            |(server_name, server_port, username, password, flags)| SharePointSettings {
                server_name,
                server_port,
                username,
                password,
                use_ssl: flags[0],
                skip_ca_verification: flags[1],
                skip_common_name_verification: flags[2],
                skip_revocation_check: flags[3],
                grant_impersonation: flags[4],
                grant_access_to_site_collections: flags[5],
            },
        )
}

fn office365_settings() -> impl Strategy<Value = Office365Settings<SecretRef>> {
    (
        region(),
        option::of(word()),
        option::of(secret_ref()),
        prop::array::uniform3(any::<bool>()),
    )
        .prop_map(|(region, username, password, flags)| Office365Settings {
            region,
            username,
            password,
            grant_impersonation: flags[0],
            grant_access_to_site_collections: flags[1],
            use_veeam_aad_application: flags[2],
        })
}

/// The on-premises half shared by OnPremises and Hybrid specs.
fn on_premises() -> impl Strategy<Value = OnPremisesSpec> {
    (
        any::<bool>(),
        option::of(exchange()),
        any::<bool>(),
        option::of(share_point()),
    )
        .prop_map(
            |(is_exchange, exchange_settings, is_share_point, share_point_settings)| {
                OnPremisesSpec {
                    description: None,
                    is_exchange,
                    exchange_settings: exchange_settings.map(Box::new),
                    is_share_point,
                    share_point_settings: share_point_settings.map(Box::new),
                }
            },
        )
}

fn spec() -> impl Strategy<Value = Spec> {
    prop_oneof![
        (
            region(),
            any::<bool>(),
            option::of(online()),
            any::<bool>(),
            option::of(online())
        )
            .prop_map(|(region, exo, exo_settings, spo, spo_settings)| {
                Spec::Office365(Office365Spec {
                    description: None,
                    region,
                    is_exchange_online: exo,
                    exchange_online_settings: exo_settings.map(Box::new),
                    is_share_point_online: spo,
                    share_point_online_settings: spo_settings.map(Box::new),
                    is_teams_online: None,
                    is_teams_chats_online: None,
                })
            }),
        on_premises().prop_map(Spec::OnPremises),
        (office365_settings(), on_premises()).prop_map(|(office365_settings, on_prem)| {
            Spec::Hybrid(HybridSpec {
                description: None,
                office365_settings: Some(Box::new(office365_settings)),
                region: None,
                is_exchange_online: None,
                exchange_online_settings: None,
                is_share_point_online: None,
                share_point_online_settings: None,
                is_teams_online: None,
                is_teams_chats_online: None,
                is_exchange: on_prem.is_exchange,
                exchange_settings: on_prem.exchange_settings,
                is_share_point: on_prem.is_share_point,
                share_point_settings: on_prem.share_point_settings,
            })
        }),
    ]
}

/// A name of the pool written in one of three cases, so that matches ignore case.
fn spelled(name: &str, case: u8) -> String {
    match case % 3 {
        0 => name.to_owned(),
        1 => name.to_uppercase(),
        _ => {
            let mut chars = name.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
    }
}

/// Removes the leaves (not `type`) whose turn in `drop` is true: fields the server omitted.
fn omit(value: &mut Value, drop: &mut impl Iterator<Item = bool>) {
    if let Value::Object(map) = value {
        let keys: Vec<String> = map.keys().filter(|k| *k != "type").cloned().collect();
        for key in keys {
            match map.get_mut(&key) {
                Some(child @ Value::Object(_)) => omit(child, drop),
                Some(_) if drop.next().unwrap_or(false) => {
                    map.remove(&key);
                }
                _ => {}
            }
        }
    }
}

/// One organization the server has: a copy of a manifest's (maybe drifted, maybe with fields
/// omitted) or anything else, under a pool name.
#[derive(Debug, Clone)]
struct Reported {
    copy_of: Option<usize>,
    name: usize,
    case: u8,
    spec: Spec,
    drop: Vec<bool>,
}

fn reported() -> impl Strategy<Value = Reported> {
    (
        option::weighted(0.6, 0..6usize),
        0..NAMES.len(),
        any::<u8>(),
        spec(),
        prop::collection::vec(prop::bool::weighted(0.15), 40),
    )
        .prop_map(|(copy_of, name, case, spec, drop)| Reported {
            copy_of,
            name,
            case,
            spec,
            drop,
        })
}

/// Manifests, what the server reports, and whether to prune.
pub(crate) fn scenario() -> impl Strategy<Value = (Vec<Desired>, Vec<Organization>, bool)> {
    let desired = prop::collection::vec((0..NAMES.len(), any::<u8>(), spec()), 0..6);
    (
        desired,
        prop::collection::vec(reported(), 0..6),
        any::<bool>(),
    )
        .prop_map(|(wanted, server, prune)| {
            let desired: Vec<Desired> = wanted
                .into_iter()
                .enumerate()
                .map(|(i, (name, case, spec))| {
                    Desired::new(
                        spelled(NAMES[name], case),
                        format!("manifests/{i}.yaml:1:1"),
                        spec,
                    )
                })
                .collect();
            let observed = server
                .into_iter()
                .enumerate()
                .map(|(i, r)| {
                    let copied = r.copy_of.and_then(|k| desired.get(k));
                    let (name, spec) = match copied {
                        Some(d) => (spelled(&d.name.to_lowercase(), r.case), &d.spec),
                        None => (spelled(NAMES[r.name], r.case), &r.spec),
                    };
                    let mut state = serde_json::to_value(spec.state()).expect("state serializes");
                    omit(&mut state, &mut r.drop.into_iter());
                    let state = serde_json::from_value(state).expect("a state without some fields");
                    organization(&format!("id-{i}"), &name, state)
                })
                .collect();
            (desired, observed, prune)
        })
}

pub(crate) fn options(prune: bool) -> PlanOptions {
    PlanOptions {
        prune,
        server: "https://vbo.example.com:4443".to_owned(),
        api_version: vbo_model::RestApiVersion::V3,
        scope: None,
    }
}

/// The server after a perfect apply of `plan`: what it reports afterwards.
fn apply_in_memory(
    plan: &Plan,
    desired: &[Desired],
    observed: &[Organization],
) -> Vec<Organization> {
    let mut server = observed.to_vec();
    for (i, change) in plan.changes.iter().enumerate() {
        let wanted = || {
            desired
                .iter()
                .find(|d| d.name == change.name)
                .expect("a create or update names its manifest")
                .spec
                .state()
        };
        match change.action {
            Action::Create => {
                server.push(organization(&format!("new-{i}"), &change.name, wanted()))
            }
            Action::Update => {
                for org in server
                    .iter_mut()
                    .filter(|o| Some(&o.id) == change.id.as_ref())
                {
                    org.state = wanted();
                }
            }
            Action::Delete => server.retain(|o| Some(&o.id) != change.id.as_ref()),
            Action::NoOp => {}
        }
    }
    server
}

fn reversed<T: Clone>(items: &[T]) -> Vec<T> {
    items.iter().rev().cloned().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn planning_is_deterministic_and_ignores_input_order((desired, observed, prune) in scenario()) {
        let first = plan(&desired, &observed, &options(prune));
        prop_assert_eq!(&first, &plan(&desired, &observed, &options(prune)));
        prop_assert_eq!(&first, &plan(&reversed(&desired), &reversed(&observed), &options(prune)));
    }

    #[test]
    fn every_manifest_is_one_change_or_one_error((desired, observed, prune) in scenario()) {
        let plan = plan(&desired, &observed, &options(prune));
        let mut names: Vec<String> = desired.iter().map(|d| d.name.to_lowercase()).collect();
        names.sort();
        names.dedup();
        for name in &names {
            let changes = plan
                .changes
                .iter()
                .filter(|c| c.action != Action::Delete && &c.name.to_lowercase() == name)
                .count();
            let errors = plan.errors.iter().filter(|e| &e.error.name().to_lowercase() == name).count();
            prop_assert_eq!(changes + errors, 1, "{} in {:#?}", name, plan);
        }
        for change in plan.changes.iter().filter(|c| c.action == Action::Delete) {
            prop_assert!(prune);
            prop_assert!(!names.contains(&change.name.to_lowercase()), "deletes only what no manifest names");
        }
        for org in &plan.unmanaged {
            prop_assert!(!prune);
            prop_assert!(!names.contains(&org.name.to_lowercase()));
        }
        let mut ids: Vec<&str> = plan
            .changes
            .iter()
            .filter_map(|c| c.id.as_deref())
            .chain(plan.unmanaged.iter().map(|u| u.id.as_str()))
            .collect();
        let count = ids.len();
        ids.sort();
        ids.dedup();
        prop_assert_eq!(ids.len(), count, "each organization on the server is in one change at most");
    }

    #[test]
    fn after_applying_the_plan_nothing_is_left_to_do((desired, observed, prune) in scenario()) {
        let first = plan(&desired, &observed, &options(prune));
        let server = apply_in_memory(&first, &desired, &observed);
        let again = plan(&desired, &server, &options(prune));
        prop_assert!(!again.has_changes(), "{}", vbo_plan::render::text(&again, false));
        prop_assert_eq!(&again.errors, &first.errors);
        prop_assert_eq!(&again.unmanaged, &first.unmanaged);
        prop_assert_eq!(again.summary.no_op, first.changes.len() - first.summary.delete);
    }
}
