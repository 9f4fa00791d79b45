//! The JSON Schema of a manifest document, generated from the Rust types so that editors,
//! `vboctl validate` and the code can never disagree.

use schemars::generate::SchemaSettings;

use crate::Manifest;

/// The JSON Schema (draft 2020-12) of one manifest document, as published in
/// `schemas/organization.schema.json` and printed by `vboctl schema`.
pub fn manifest_schema() -> serde_json::Value {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let schema = generator.into_root_schema_for::<Manifest>();
    serde_json::to_value(schema).expect("a schema is always representable as JSON")
}
