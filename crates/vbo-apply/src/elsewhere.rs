//! Whether an organization found on the server is the one a manifest describes, judged the way
//! a plan judges it.

use vbo_model::{Organization, RestApiVersion, Spec};
use vbo_plan::{Desired, PlanError, PlanOptions};

/// How an organization found on the server compares with its manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Comparison {
    /// Planning the manifest against it finds nothing to do.
    Matches,
    /// Planning finds these fields to change (or the type, which cannot change).
    Differs(Vec<String>),
}

/// Plans organization `name`, as `spec` describes it, against `found` alone, in the API
/// version the server is spoken to in: the same rules as `vboctl plan`, so that "matches" here
/// means what "no changes" means there.
pub(crate) fn compare(
    name: &str,
    spec: &Spec,
    found: &Organization,
    api_version: RestApiVersion,
) -> Comparison {
    let desired = [Desired::new(name, String::new(), spec.clone())];
    let plan = vbo_plan::plan(
        &desired,
        std::slice::from_ref(found),
        &PlanOptions {
            prune: false,
            server: String::new(),
            api_version,
            scope: None,
        },
    );
    let mut fields: Vec<String> = plan
        .errors
        .iter()
        .map(|report| match &report.error {
            PlanError::TypeChange {
                observed, desired, ..
            } => format!("type ({observed} there, {desired} in the manifest)"),
            other => other.to_string(),
        })
        .collect();
    fields.extend(
        plan.actionable()
            .flat_map(|change| change.changed_fields.iter().map(|field| field.path.clone())),
    );
    if fields.is_empty() {
        Comparison::Matches
    } else {
        Comparison::Differs(fields)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use vbo_model::RestApiVersion::V3;

    use super::*;

    fn spec(server: &str) -> Spec {
        serde_json::from_value(json!({
            "type": "OnPremises",
            "isExchange": true,
            "exchangeSettings": {
                "serverName": server,
                "username": "CORP\\backup",
                "password": "pw",
                "useSSL": true
            }
        }))
        .unwrap()
    }

    fn organization(name: &str, spec: &Spec) -> Organization {
        let mut value = serde_json::to_value(spec.state()).unwrap();
        value["id"] = json!("1");
        value["name"] = json!(name);
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn the_same_settings_match_whatever_the_name_case() {
        let wanted = spec("mail.corp.example.com");
        let found = organization("CORP.example.com", &wanted);
        assert_eq!(
            compare("corp.example.com", &wanted, &found, V3),
            Comparison::Matches
        );
    }

    #[test]
    fn other_settings_are_named_by_field() {
        let found = organization("corp.example.com", &spec("mail.other.example.com"));
        assert_eq!(
            compare(
                "corp.example.com",
                &spec("mail.corp.example.com"),
                &found,
                V3
            ),
            Comparison::Differs(vec!["exchangeSettings.serverName".to_owned()])
        );
    }

    #[test]
    fn another_type_is_named_as_such() {
        let office365: Spec = serde_json::from_value(json!({
            "type": "Office365",
            "isExchangeOnline": true,
            "exchangeOnlineSettings": {"account": "admin@corp.example.com", "password": "pw"}
        }))
        .unwrap();
        let found = organization("corp.example.com", &office365);
        let Comparison::Differs(fields) = compare(
            "corp.example.com",
            &spec("mail.corp.example.com"),
            &found,
            V3,
        ) else {
            panic!("a type change is a difference");
        };
        assert_eq!(
            fields,
            ["type (Office365 there, OnPremises in the manifest)"]
        );
    }
}
