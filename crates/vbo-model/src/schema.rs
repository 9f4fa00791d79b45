//! The JSON Schema of a manifest document, generated from the Rust types so that editors,
//! `vboctl validate` and the code can never disagree.
//!
//! [`manifest_schema`] is what `vboctl schema` prints and `schemas/organization.schema.json`
//! holds; [`manifest_reference`] turns the same schema into the Markdown field reference of
//! `docs/manifest.md`.

use std::fmt::Write as _;

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::Manifest;

/// The JSON Schema (draft 2020-12) of one manifest document, as published in
/// `schemas/organization.schema.json` and printed by `vboctl schema`.
///
/// Optional properties are described by their type alone, without `null`: a manifest omits a
/// property it does not set rather than writing `null`. Enumerations are `enum` lists with
/// `enumDescriptions`, and `spec.type` selects the shape of `spec` with `if`/`then`, so that
/// editors describe the field under the cursor and name the field that does not belong.
pub fn manifest_schema() -> Value {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let schema = generator.into_root_schema_for::<Manifest>();
    let mut schema = serde_json::to_value(schema).unwrap_or_default();
    strip_null(&mut schema);
    enumerations_as_enum(&mut schema);
    spec_by_type(&mut schema);
    if let Value::Object(root) = &mut schema {
        root.insert(
            "$id".to_owned(),
            Value::String(crate::export::SCHEMA_ID.to_owned()),
        );
    }
    schema
}

/// Removes the `null` alternative schemars adds for `Option` fields: `anyOf [X, {type: null}]`
/// becomes `X`, and `type: [T, "null"]` becomes `type: T`.
fn strip_null(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if let Some(Value::Array(types)) = object.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let single = types.remove(0);
                    object.insert("type".to_owned(), single);
                }
            }
            if let Some(Value::Array(alternatives)) = object.get("anyOf")
                && alternatives.len() == 2
                && alternatives.iter().any(is_null_schema)
            {
                let kept = alternatives
                    .iter()
                    .find(|alternative| !is_null_schema(alternative))
                    .cloned();
                object.remove("anyOf");
                if let Some(Value::Object(kept)) = kept {
                    for (key, value) in kept {
                        object.entry(key).or_insert(value);
                    }
                }
            }
            object.values_mut().for_each(strip_null);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_null),
        _ => {}
    }
}

fn is_null_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}

/// What hovering over `type` in `spec` shows.
const SPEC_TYPE_DESCRIPTION: &str = "Kind of organization: `Office365`, `OnPremises` or `Hybrid`. \
     Selects which other properties `spec` takes.";

/// Writes each enumeration (a `oneOf` of string constants, as schemars renders a Rust enum
/// with documented variants) as `enum` with `enumDescriptions`.
///
/// Editors show the description of the first schema that matches a value, and a `oneOf`
/// alternative matches before the property holding it: hovering over `region:` would show
/// what `Worldwide` means instead of what `region` is. With `enum`, the property's own
/// description comes first and the values are listed with theirs below it.
fn enumerations_as_enum(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if let Some(Value::Array(alternatives)) = object.get("oneOf")
                && let Some((values, descriptions)) = string_constants(alternatives)
            {
                object.remove("oneOf");
                object.insert("type".to_owned(), Value::String("string".to_owned()));
                object.insert("enum".to_owned(), Value::Array(values));
                object.insert("enumDescriptions".to_owned(), Value::Array(descriptions));
            }
            object.values_mut().for_each(enumerations_as_enum);
        }
        Value::Array(items) => items.iter_mut().for_each(enumerations_as_enum),
        _ => {}
    }
}

/// The values and descriptions of alternatives that are each one documented string constant.
fn string_constants(alternatives: &[Value]) -> Option<(Vec<Value>, Vec<Value>)> {
    let mut values = Vec::new();
    let mut descriptions = Vec::new();
    for alternative in alternatives {
        let object = alternative.as_object()?;
        let constant = object
            .get("const")
            .filter(|constant| constant.is_string())?;
        if object
            .keys()
            .any(|key| !matches!(key.as_str(), "const" | "description" | "type"))
        {
            return None;
        }
        values.push(constant.clone());
        descriptions.push(object.get("description").cloned().unwrap_or_default());
    }
    (!values.is_empty()).then_some((values, descriptions))
}

/// Rewrites `spec` from a `oneOf` of its three shapes into `type` and one `if`/`then` per
/// shape: `$defs/Office365Spec`, `$defs/OnPremisesSpec` and `$defs/HybridSpec`.
///
/// With `oneOf`, a document whose `spec` has one wrong field matches none of the shapes, and
/// validators must guess which one was meant: an `OnPremises` spec with `region` was reported
/// as "Value must be Office365 | Hybrid". With `if`/`then`, `type` alone selects the shape,
/// and the error names the field that shape does not take.
fn spec_by_type(schema: &mut Value) {
    let Some(Value::Object(defs)) = schema.get_mut("$defs") else {
        return;
    };
    let Some(Value::Object(mut spec)) = defs.remove("Spec") else {
        return;
    };
    let Some(Value::Array(shapes)) = spec.remove("oneOf") else {
        defs.insert("Spec".to_owned(), Value::Object(spec));
        return;
    };
    let mut kinds = Vec::new();
    let mut descriptions = Vec::new();
    let mut branches = Vec::new();
    for mut shape in shapes {
        let Some(kind) = shape
            .pointer("/properties/type/const")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            continue;
        };
        if let Some(Value::Object(tag)) = shape.pointer_mut("/properties/type") {
            tag.insert(
                "description".to_owned(),
                Value::String(SPEC_TYPE_DESCRIPTION.to_owned()),
            );
        }
        let name = format!("{kind}Spec");
        descriptions.push(shape.get("description").cloned().unwrap_or_default());
        branches.push(json!({
            "if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
            "then": {"$ref": format!("#/$defs/{name}")},
        }));
        kinds.push(Value::String(kind));
        defs.insert(name, shape);
    }
    spec.insert("type".to_owned(), json!("object"));
    spec.insert(
        "properties".to_owned(),
        json!({"type": {
            "description": SPEC_TYPE_DESCRIPTION,
            "type": "string",
            "enum": kinds,
            "enumDescriptions": descriptions,
        }}),
    );
    spec.insert("required".to_owned(), json!(["type"]));
    spec.insert("allOf".to_owned(), Value::Array(branches));
    defs.insert("Spec".to_owned(), Value::Object(spec));
}

/// The definitions of `spec`'s shapes, in the order of `Spec`'s `if`/`then` branches.
fn spec_shapes(defs: &Map<String, Value>) -> Vec<&Value> {
    defs.get("Spec")
        .and_then(|spec| spec.get("allOf"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|branch| branch.get("then"))
        .filter_map(|then| resolve(then, defs))
        .collect()
}

/// The Markdown reference of every manifest field (type, default, required, description),
/// generated from [`manifest_schema`] and committed as `docs/manifest.md`.
pub fn manifest_reference() -> String {
    let schema = manifest_schema();
    let defs = schema
        .get("$defs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut out = String::new();
    out.push_str(
        "<!-- Generated by `cargo run -p vboctl -- schema --format markdown --out docs/manifest.md`. \
         Do not edit by hand: edit the doc comments in crates/vbo-model and regenerate. -->\n\n",
    );
    out.push_str("# Manifest reference\n\n");
    out.push_str(
        "Each YAML document describes one organization. A file may hold several documents \
         separated by `---`. Editors that understand the \
         `# yaml-language-server: $schema=...` modeline, at the top of each document, check \
         manifests against \
         [`schemas/organization.schema.json`](../schemas/organization.schema.json) as you type \
         (see [editor.md](editor.md)); `vboctl validate` applies the same schema and the rules \
         listed at the end.\n\n",
    );
    out.push_str("```yaml\n");
    out.push_str(EXAMPLE);
    out.push_str("```\n\n");

    write_object(&mut out, "Document", &schema, &defs);
    if let Some(metadata) = defs.get("Metadata") {
        write_object(&mut out, "metadata", metadata, &defs);
    }
    for shape in spec_shapes(&defs) {
        let kind = shape
            .pointer("/properties/type/const")
            .and_then(Value::as_str)
            .unwrap_or("?");
        write_object(&mut out, &format!("spec (type: {kind})"), shape, &defs);
    }
    for name in [
        "OnlineSettings",
        "Office365Settings",
        "ExchangeSettings",
        "SharePointSettings",
    ] {
        if let Some(definition) = defs.get(name) {
            write_object(&mut out, name, definition, &defs);
        }
    }
    write_secret_ref(&mut out, &defs);
    if let Some(region) = defs.get("Region") {
        write_enum(&mut out, "Region", region);
    }
    out.push_str(RULES);
    out
}

const EXAMPLE: &str = "\
# yaml-language-server: $schema=../schemas/organization.schema.json
apiVersion: vboctl/v1
kind: Organization
metadata:
  name: contoso.onmicrosoft.com
  labels: {region: emea}
spec:
  type: Office365
  region: Worldwide
  isExchangeOnline: true
  exchangeOnlineSettings:
    account: admin@contoso.onmicrosoft.com
    password: {fromEnv: CONTOSO_EXO_PASSWORD}
    grantAdminAccess: true
";

const RULES: &str = "\
## Rules beyond the schema

`vboctl validate` also checks what a schema cannot express. Each rule has its own message.

Errors:

- Every organization enables at least one workload: `isExchangeOnline` or `isSharePointOnline`
  for Office365, `isExchange` or `isSharePoint` for OnPremises and Hybrid.
- An enabled workload needs its settings (`isExchangeOnline: true` needs
  `exchangeOnlineSettings`), and settings of a workload that is not enabled are an error.
- Basic authentication (`useMfa: false`, the default) needs `account` and `password`.
- Modern authentication (`useMfa: true`) needs `applicationId` and exactly one of
  `applicationSecret` or `applicationCertificate`; `applicationCertificatePassword` goes with
  `applicationCertificate` only.
- `office365Settings` of a Hybrid organization needs `username` and `password`.
- On-premises `exchangeSettings` and `sharePointSettings` need `serverName`, `username` and
  `password`.
- `metadata.name` is not blank and is unique across all files, ignoring case.
- Unknown fields, duplicate keys and YAML syntax errors. A field that differs from a known one by
  case or a small typo gets a suggestion; a field of another `type` (`region` in an OnPremises
  spec) is reported with the types that take it.

Warnings (errors with `vboctl validate --strict`):

- A secret written as a literal string in the manifest.
- `useSSL: false` (or absent) on on-premises settings.
- `skipCAverification`, `skipCommonNameVerification` or `skipRevocationCheck` set to `true`.
- Modern-authentication fields (`applicationId`, `applicationSecret`, `applicationCertificate`,
  `applicationCertificatePassword`, `applicationCertificateThumbprint`) with basic
  authentication, where the server ignores them.
";

/// One `## title` section with a table of the object's properties.
fn write_object(out: &mut String, title: &str, schema: &Value, defs: &Map<String, Value>) {
    write_heading(out, title, schema);
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    out.push_str("| Field | Type | Required | Default | Description |\n");
    out.push_str("|---|---|---|---|---|\n");
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        // Required fields first (`type` leading), then the optional ones, each alphabetically.
        let mut rows: Vec<(&String, &Value)> = properties.iter().collect();
        rows.sort_by_key(|(name, _)| {
            (
                name.as_str() != "type",
                !required.contains(&name.as_str()),
                name.to_lowercase(),
            )
        });
        for (name, property) in rows {
            let default = property
                .get("default")
                .map(|value| format!("`{value}`"))
                .unwrap_or_default();
            let description = property
                .get("description")
                .or_else(|| resolve(property, defs).and_then(|target| target.get("description")))
                .and_then(Value::as_str)
                .map(one_line)
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "| `{name}` | {} | {} | {} | {} |",
                type_name(property, defs),
                if required.contains(&name.as_str()) {
                    "yes"
                } else {
                    "no"
                },
                default.replace('"', ""),
                description.replace('|', "\\|"),
            );
        }
    }
    out.push('\n');
}

fn write_secret_ref(out: &mut String, defs: &Map<String, Value>) {
    let Some(secret) = defs.get("SecretRef") else {
        return;
    };
    write_heading(out, "SecretRef", secret);
    out.push_str("| Form | Description |\n|---|---|\n");
    for form in secret
        .get("anyOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let shape = match resolve(form, defs)
            .and_then(|target| target.get("properties"))
            .and_then(Value::as_object)
            .and_then(|properties| properties.keys().next())
        {
            Some(key) => format!("`{{{key}: ...}}`"),
            None => "a string".to_owned(),
        };
        let description = form
            .get("description")
            .and_then(Value::as_str)
            .map(one_line)
            .unwrap_or_default();
        let _ = writeln!(out, "| {shape} | {description} |");
    }
    out.push('\n');
}

fn write_enum(out: &mut String, title: &str, schema: &Value) {
    write_heading(out, title, schema);
    out.push_str("| Value | Description |\n|---|---|\n");
    let descriptions = schema.get("enumDescriptions").and_then(Value::as_array);
    for (index, value) in enum_values(schema).into_iter().enumerate() {
        let description = descriptions
            .and_then(|descriptions| descriptions.get(index))
            .and_then(Value::as_str)
            .map(one_line)
            .unwrap_or_default();
        let _ = writeln!(out, "| `{value}` | {description} |");
    }
    out.push('\n');
}

/// The values of an `enum` schema.
fn enum_values(schema: &Value) -> Vec<&str> {
    schema
        .get("enum")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// `## title` and the schema's description as a paragraph.
fn write_heading(out: &mut String, title: &str, schema: &Value) {
    let _ = writeln!(out, "## {title}\n");
    if let Some(description) = schema.get("description").and_then(Value::as_str) {
        let _ = writeln!(out, "{}\n", one_line(description));
    }
}

/// The definition a `$ref` points at.
fn resolve<'a>(schema: &Value, defs: &'a Map<String, Value>) -> Option<&'a Value> {
    let reference = schema.get("$ref")?.as_str()?;
    defs.get(reference.strip_prefix("#/$defs/")?)
}

/// A short, linked type name for the reference table.
fn type_name(schema: &Value, defs: &Map<String, Value>) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        let target = defs.get(name);
        let consts = target.map(enum_values).unwrap_or_default();
        return match (name, consts.as_slice()) {
            (_, [single]) => format!("`{single}`"),
            ("Region", _) => "[Region](#region)".to_owned(),
            ("Spec", _) => "spec (see below)".to_owned(),
            _ => format!("[{name}](#{})", name.to_lowercase()),
        };
    }
    if let Some(constant) = schema.get("const").and_then(Value::as_str) {
        return format!("`{constant}`");
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") if schema.get("additionalProperties").is_some() => {
            "map of string to string".to_owned()
        }
        Some("boolean") => "boolean".to_owned(),
        Some("integer") => {
            match (
                schema.get("minimum").and_then(Value::as_u64),
                schema.get("maximum").and_then(Value::as_u64),
            ) {
                (Some(min), Some(max)) => format!("integer ({min}-{max})"),
                _ => "integer".to_owned(),
            }
        }
        Some(other) => other.to_owned(),
        None => "any".to_owned(),
    }
}

/// Doc comments wrap lines; a table cell needs one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_fields_have_no_null_alternative() {
        let schema = manifest_schema().to_string();
        assert!(!schema.contains("\"null\""), "{schema}");
    }

    #[test]
    fn spec_type_selects_one_closed_shape() {
        let schema = manifest_schema();
        let spec = &schema["$defs"]["Spec"];
        assert_eq!(
            spec["properties"]["type"]["enum"],
            json!(["Office365", "OnPremises", "Hybrid"])
        );
        assert_eq!(spec["required"], json!(["type"]));
        assert!(spec.get("oneOf").is_none(), "{spec}");
        let branches = spec["allOf"].as_array().unwrap();
        for (branch, kind) in branches.iter().zip(["Office365", "OnPremises", "Hybrid"]) {
            assert_eq!(branch["if"]["properties"]["type"]["const"], kind);
            assert_eq!(branch["then"]["$ref"], format!("#/$defs/{kind}Spec"));
            let shape = &schema["$defs"][format!("{kind}Spec")];
            assert_eq!(shape["additionalProperties"], false, "{kind}");
            assert_eq!(shape["properties"]["type"]["const"], kind);
        }
        assert_eq!(branches.len(), 3);
    }

    #[test]
    fn enumerations_list_their_values_after_the_field_description() {
        let schema = manifest_schema();
        let region = &schema["$defs"]["Region"];
        assert!(region.get("oneOf").is_none(), "{region}");
        assert_eq!(region["enum"][0], "Worldwide");
        assert_eq!(
            region["enum"].as_array().unwrap().len(),
            region["enumDescriptions"].as_array().unwrap().len()
        );
        assert!(
            region["enumDescriptions"][0]
                .as_str()
                .unwrap()
                .contains("global")
        );
        assert!(!schema.to_string().contains("\"oneOf\""), "{schema}");
    }

    #[test]
    fn reference_lists_every_settings_field() {
        let reference = manifest_reference();
        for field in [
            "`useCustomVeeamAADApplication`",
            "`applicationCertificateThumbprint`",
            "`serverPort`",
            "`configureThrottlingPolicy`",
            "`useVeeamAADApplication`",
            "`USgovDefence`",
        ] {
            assert!(reference.contains(field), "missing {field}");
        }
        assert!(reference.contains("| `serverPort` | integer (1-65535) | no | `5985` |"));
    }
}
