//! The JSON Schema of the plan document (`vboctl plan --format json`, `vboctl show --format
//! json`), generated from [`Plan`] so that the schema and the document cannot disagree.

use schemars::generate::SchemaSettings;
use serde_json::Value;

use crate::model::{PLAN_FORMAT_VERSION, Plan};

/// Where the published schema of the plan document lives; its `$id`.
pub const PLAN_SCHEMA_ID: &str =
    "https://raw.githubusercontent.com/vboctl/vboctl/main/schemas/plan.schema.json";

/// The JSON Schema (draft 2020-12) of the plan document, as committed in
/// `schemas/plan.schema.json` and printed by `vboctl schema plan`.
///
/// It describes the document of format version [`PLAN_FORMAT_VERSION`]; readers must ignore
/// fields they do not know, so the schema does not forbid additional properties.
pub fn plan_schema() -> Value {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let schema = generator.into_root_schema_for::<Plan>();
    let mut schema = serde_json::to_value(schema).unwrap_or_default();
    if let Value::Object(root) = &mut schema {
        root.insert("$id".to_owned(), Value::String(PLAN_SCHEMA_ID.to_owned()));
        root.insert(
            "title".to_owned(),
            Value::String(format!("vboctl plan document {PLAN_FORMAT_VERSION}")),
        );
        root.insert(
            "description".to_owned(),
            Value::String(
                "What `vboctl apply` would do: the document of `vboctl plan --format json` and `vboctl show --format json`. See docs/plan-format.md.".to_owned(),
            ),
        );
    }
    schema
}
