use super::*;
use crate::load::load_str;

fn organization(json: serde_json::Value) -> Organization {
    serde_json::from_value(json).expect("an organization")
}

#[test]
fn awkward_strings_round_trip_through_the_loader() {
    let awkward = [
        "yes",
        "No",
        "on",
        "null",
        "~",
        "123",
        "1e3",
        "0x1F",
        ".inf",
        "-x",
        "a: b",
        "a #b",
        " lead",
        "trail ",
        "#c",
        "\"q\"",
        "'s'",
        "back\\slash",
        "multi\nline",
        "tab\there",
        "ünï",
        "[x]",
        "{x}",
        "*star",
        "&amp",
        "!tag",
        "%p",
        "@at",
        "`tick",
        "a,b",
        "|",
        ">",
        "plain.name-1",
        "CONTOSO\\backup",
        "\u{7f}del",
        "x\u{2028}y",
    ];
    for text in awkward {
        let mut manifest = manifest(
            &organization(serde_json::json!({
                "id": "1", "name": text, "type": "OnPremises", "isExchange": true,
                "exchangeSettings": {"serverName": text, "username": text}
            })),
            RestApiVersion::V3,
            "P",
        );
        manifest
            .metadata
            .labels
            .insert(text.to_owned(), text.to_owned());
        let yaml = to_yaml(&manifest);
        let loaded = load_str("x.yaml", &yaml);
        assert_eq!(
            loaded.documents.len(),
            1,
            "{text:?} in\n{yaml}\n{}",
            loaded.render(false)
        );
        assert_eq!(
            loaded.documents[0].manifest, manifest,
            "{text:?} in\n{yaml}"
        );
    }
}

#[test]
fn plain_where_safe() {
    assert_eq!(scalar("contoso.onmicrosoft.com"), "contoso.onmicrosoft.com");
    assert_eq!(scalar("CONTOSO\\backup"), "CONTOSO\\backup");
    assert_eq!(scalar("yes"), "\"yes\"");
    assert_eq!(scalar("123"), "\"123\"");
    assert_eq!(scalar("a: b"), "\"a: b\"");
}

#[test]
fn file_names_are_safe_and_collisions_deterministic() {
    assert_eq!(
        file_names(&["Contoso.OnMicrosoft.com", "a b/c", ".hidden", "Ünï"]),
        [
            "contoso.onmicrosoft.com.yaml",
            "a-b-c.yaml",
            "-.hidden.yaml",
            "-n-.yaml"
        ]
    );
    // In sorted order ("A B", "a b", "a-b", "a-b-2", "a/b") each takes the first free name;
    // "a-b-2" keeps its own, so the others skip it.
    assert_eq!(
        file_names(&["a/b", "a-b-2", "a-b", "a b", "A B"]),
        [
            "a-b-5.yaml",
            "a-b-2.yaml",
            "a-b-4.yaml",
            "a-b-3.yaml",
            "a-b.yaml"
        ]
    );
}

#[test]
fn variable_prefixes_are_valid_names() {
    assert_eq!(
        variable_prefixes(&["contoso.onmicrosoft.com", "1st", "a-b", "a.b"]),
        ["CONTOSO_ONMICROSOFT_COM", "ORG_1ST", "A_B", "A_B_2"]
    );
}

#[test]
fn globs() {
    assert!(glob_matches("*.onmicrosoft.com", "Contoso.OnMicrosoft.com"));
    assert!(glob_matches("c?ntoso*", "contoso.local"));
    assert!(glob_matches("*", ""));
    assert!(!glob_matches("contoso", "contoso.local"));
    assert!(!glob_matches("?", ""));
    assert!(glob_matches("*a*b*c", "xxaxxbxxbxc"));
}

#[test]
fn basic_authentication_references_the_password_only() {
    let all = [organization(serde_json::json!({
        "id": "1", "name": "contoso.onmicrosoft.com", "type": "Office365",
        "region": "Worldwide", "isExchangeOnline": true, "isSharePointOnline": false,
        "exchangeOnlineSettings": {"account": "admin@contoso.onmicrosoft.com", "useMfa": false,
            "grantAdminAccess": true},
        "_links": {"self": {"href": "/v3/Organizations/1"}}, "lastBackuptime": "2024-01-01",
        "username": "admin@contoso.onmicrosoft.com", "msid": "9a3c3f0e-6b1f-4a53-9d3e-2f4a6c1b7e10"
    }))];
    let exported = export(&all, RestApiVersion::V3, &Filter::default());
    assert_eq!(exported.len(), 1);
    let yaml = document(&exported[0].manifest, "../schemas/organization.schema.json");
    assert_eq!(
        yaml,
        "# yaml-language-server: $schema=../schemas/organization.schema.json
apiVersion: vboctl/v1
kind: Organization
metadata:
  name: contoso.onmicrosoft.com
  msid: \"9a3c3f0e-6b1f-4a53-9d3e-2f4a6c1b7e10\"
spec:
  type: Office365
  region: Worldwide
  isExchangeOnline: true
  exchangeOnlineSettings:
    account: admin@contoso.onmicrosoft.com
    password: {fromEnv: CONTOSO_ONMICROSOFT_COM_EXO_PASSWORD}
    grantAdminAccess: true
    useMfa: false
    useCustomVeeamAADApplication: false
  isSharePointOnline: false
"
    );
    assert_eq!(
        env_example(&exported),
        "# The secrets the exported manifests read: copy this file, fill in the values, keep the
# copy out of git, and export the variables before `vboctl plan` and `vboctl apply`.

# contoso.onmicrosoft.com: spec.exchangeOnlineSettings.password
CONTOSO_ONMICROSOFT_COM_EXO_PASSWORD=
"
    );
}

#[test]
fn modern_and_app_only_authentication_reference_what_they_need() {
    let all = [organization(serde_json::json!({
        "id": "1", "name": "m.example", "type": "Office365", "isExchangeOnline": true,
        "isSharePointOnline": true,
        "exchangeOnlineSettings": {"useMfa": true, "applicationId": "x"},
        "sharePointOnlineSettings": {"useApplicationOnlyAuth": true, "applicationId": "x",
            "applicationCertificateThumbprint": "AB"}
    }))];
    let exported = export(&all, RestApiVersion::V8, &Filter::default());
    let fields: Vec<(&str, &str)> = exported[0]
        .variables
        .iter()
        .map(|v| (v.field.as_str(), v.name.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            (
                "exchangeOnlineSettings.applicationSecret",
                "M_EXAMPLE_EXO_APP_SECRET"
            ),
            (
                "sharePointOnlineSettings.applicationCertificate",
                "M_EXAMPLE_SPO_APP_CERTIFICATE"
            ),
            (
                "sharePointOnlineSettings.applicationCertificatePassword",
                "M_EXAMPLE_SPO_APP_CERTIFICATE_PASSWORD"
            ),
        ]
    );
}

#[test]
fn filters_by_name_and_type() {
    let all = [
        organization(serde_json::json!({"id": "1", "name": "a.example", "type": "OnPremises"})),
        organization(serde_json::json!({"id": "2", "name": "b.example", "type": "Office365"})),
    ];
    let names = |filter: Filter| -> Vec<String> {
        export(&all, RestApiVersion::V8, &filter)
            .into_iter()
            .map(|e| e.manifest.metadata.name)
            .collect()
    };
    assert_eq!(names(Filter::default()), ["a.example", "b.example"]);
    let by_name = Filter {
        names: vec!["B.*".into()],
        kind: None,
    };
    assert_eq!(names(by_name), ["b.example"]);
    let by_kind = Filter {
        names: vec![],
        kind: Some(OrganizationType::OnPremises),
    };
    assert_eq!(names(by_kind), ["a.example"]);
}

#[test]
fn schema_reference_walks_up_to_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("repo/.git")).unwrap();
    std::fs::create_dir_all(dir.path().join("repo/schemas")).unwrap();
    std::fs::create_dir_all(dir.path().join("repo/tenants/emea")).unwrap();
    std::fs::write(dir.path().join("repo").join(SCHEMA_PATH), "{}").unwrap();
    assert_eq!(
        schema_reference(&dir.path().join("repo/tenants/emea")),
        "../../schemas/organization.schema.json"
    );
    assert_eq!(schema_reference(&dir.path().join("repo")), SCHEMA_PATH);
    assert_eq!(schema_reference(dir.path()), SCHEMA_ID);
}
