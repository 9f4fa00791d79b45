//! Nothing panics on arbitrary input, and no secret escapes whatever the input looks like.

use proptest::prelude::*;
use vbo_model::load::load_str;

const SEED: &str = include_str!("../../../../examples/hybrid.yaml");

/// Fragments that make random text look like YAML often enough to reach deep code paths.
fn yamlish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("\n".to_owned()),
        Just("  ".to_owned()),
        Just(": ".to_owned()),
        Just("- ".to_owned()),
        Just("---\n".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just(", ".to_owned()),
        Just("\"".to_owned()),
        Just("'".to_owned()),
        Just("&a ".to_owned()),
        Just("*a".to_owned()),
        Just("!tag ".to_owned()),
        Just("? ".to_owned()),
        Just("|\n".to_owned()),
        Just("\t".to_owned()),
        Just("spec".to_owned()),
        Just("type: Office365".to_owned()),
        Just("password".to_owned()),
        Just("serverPort: 99999".to_owned()),
        "[a-zA-Z0-9_.~-]{1,12}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(token, 0..60).prop_map(|tokens| tokens.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_yaml_never_panics(text in yamlish()) {
        let loaded = load_str("fuzz.yaml", &text);
        let _ = loaded.render(false);
        let _ = serde_json::to_string(&loaded.diagnostics).unwrap();
    }

    #[test]
    fn truncated_and_damaged_manifests_never_panic(cut in 0..SEED.len(), junk in "[ -~\n]{0,8}") {
        let mut text: String = SEED.char_indices().take_while(|(i, _)| *i < cut).map(|(_, c)| c).collect();
        text.push_str(&junk);
        let loaded = load_str("cut.yaml", &text);
        let rendered = loaded.render(true);
        // Every diagnostic points inside the file.
        let lines = text.lines().count() as u64 + 1;
        for diagnostic in &loaded.diagnostics {
            prop_assert!(diagnostic.line <= lines, "{}", rendered);
        }
    }

    #[test]
    fn literal_secrets_never_reach_the_output(
        secret in "[A-Za-z0-9]{10,20}",
        field in prop::sample::select(vec!["password", "Password", "applicationSecret", "pasword"]),
        extra in prop::sample::select(vec!["", "    bogus: 1\n", "    useMfa: yes\n", "  isSharePoint: 1\n"]),
    ) {
        let text = format!(
            "apiVersion: vboctl/v1\nkind: Organization\nmetadata:\n  name: a\nspec:\n  type: Office365\n  isExchangeOnline: true\n  exchangeOnlineSettings:\n    account: a@b.c\n    {field}: {secret}\n{extra}"
        );
        let loaded = load_str("secret.yaml", &text);
        prop_assert!(!loaded.diagnostics.is_empty());
        let rendered = loaded.render(false);
        let json = serde_json::to_string(&loaded.diagnostics).unwrap();
        prop_assert!(!rendered.contains(&secret), "{}", rendered);
        prop_assert!(!json.contains(&secret), "{}", json);
    }
}
