//! Checking one manifest document: first its structure against the JSON Schema (the same one
//! editors use), then, for documents with a sound structure, the rules a schema cannot express.
//!
//! Every problem becomes a [`Finding`]: a JSON Pointer into the document, whether it concerns
//! the key or the value written there, and a message. Messages are written here, from the kind
//! of problem, and never quote a value that could be a secret.

use std::collections::BTreeSet;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{JsonType, ValidationError, Validator};
use serde_json::Value;

use crate::Manifest;
use crate::diagnostic::Severity;
use crate::located::{escape, is_secret_key};
use crate::manifest::Spec;
use crate::secret::SecretRef;
use crate::wire::{ExchangeSettings, Office365Settings, OnlineSettings, SharePointSettings};

/// Which part of a `key: value` pair a finding points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Anchor {
    /// The key (`serverPort:`), or the value when there is no key.
    Key,
    /// The value (`70000`).
    Value,
}

/// One problem in one document, located by JSON Pointer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Finding {
    pub(crate) pointer: String,
    pub(crate) anchor: Anchor,
    pub(crate) severity: Severity,
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
    /// For an unknown field with a likely meaning: the known name it stands for.
    pub(crate) rename_to: Option<String>,
}

impl Finding {
    pub(crate) fn error(
        pointer: impl Into<String>,
        anchor: Anchor,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            pointer: pointer.into(),
            anchor,
            severity: Severity::Error,
            message: message.into(),
            hint: None,
            rename_to: None,
        }
    }

    fn warning(pointer: impl Into<String>, anchor: Anchor, message: impl Into<String>) -> Self {
        Finding {
            severity: Severity::Warning,
            ..Finding::error(pointer, anchor, message)
        }
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// The compiled manifest schema, with the schema itself for looking up allowed names.
pub(crate) struct SchemaCheck {
    schema: Value,
    validator: Validator,
}

impl SchemaCheck {
    /// Compiles [`manifest_schema`](crate::schema::manifest_schema).
    pub(crate) fn new() -> Result<Self, String> {
        let schema = crate::schema::manifest_schema();
        let validator = jsonschema::validator_for(&schema).map_err(|error| error.to_string())?;
        Ok(SchemaCheck { schema, validator })
    }

    /// Every structural problem of `document`.
    ///
    /// A field that is a likely typo of a known one (`IsSharepoint`) is reported, then read as
    /// the known field so that the problems inside it are found in the same run.
    pub(crate) fn check(&self, document: &Value) -> Vec<Finding> {
        const MAX_ROUNDS: usize = 8;
        // Most documents are valid: say so without collecting and explaining errors.
        if self.validator.is_valid(document) {
            return Vec::new();
        }
        let mut current = document.clone();
        // (pointer after the rename, pointer as written), in the order they were made.
        let mut renames: Vec<(String, String)> = Vec::new();
        let mut findings = Vec::new();
        for round in 1..=MAX_ROUNDS {
            let mut found = Vec::new();
            for error in self.validator.iter_errors(&current) {
                self.explain(&error, &mut found);
            }
            let mut renamed = false;
            for finding in &found {
                if let Some(known) = &finding.rename_to
                    && round < MAX_ROUNDS
                    && rename(&mut current, &finding.pointer, known)
                {
                    renamed = true;
                    let to = format!("{}/{}", parent(&finding.pointer), escape(known));
                    renames.push((to, finding.pointer.clone()));
                }
            }
            // Typos are kept from every round; everything else from the last, once every
            // typo has been read as meant.
            let last = !renamed;
            for mut finding in found {
                if last || finding.rename_to.is_some() {
                    finding.rename_to = None;
                    finding.pointer = as_written(&finding.pointer, &renames);
                    if !findings.contains(&finding) {
                        findings.push(finding);
                    }
                }
            }
            if last {
                break;
            }
        }
        findings
    }

    /// Turns one schema error into findings with messages of our own.
    fn explain(&self, error: &ValidationError<'_>, out: &mut Vec<Finding>) {
        let pointer = error.instance_path().as_str().to_owned();
        let field = field_name(&pointer);
        match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let keyword_path = error.schema_path().as_str();
                let allowed = self.allowed_properties(keyword_path);
                let siblings = self.sibling_shapes(parent(keyword_path));
                for name in unexpected {
                    out.push(
                        field_of_another_shape(&pointer, name, &siblings)
                            .unwrap_or_else(|| unknown_field(&pointer, name, &allowed)),
                    );
                }
            }
            ValidationErrorKind::Required { property } => {
                self.missing(
                    &pointer,
                    property.as_str().unwrap_or_default(),
                    error.instance(),
                    error.schema_path().as_str(),
                    out,
                );
            }
            ValidationErrorKind::Type { kind } => {
                let expected = match kind {
                    TypeKind::Single(single) => vec![*single],
                    TypeKind::Multiple(set) => set.iter().collect(),
                };
                out.push(wrong_type(&pointer, error.instance(), &expected));
            }
            ValidationErrorKind::Constant { expected_value } => {
                out.push(not_one_of(
                    &pointer,
                    error.instance(),
                    &[expected_value.as_ref().clone()],
                ));
            }
            ValidationErrorKind::Enum { options } => {
                let options = options.as_array().cloned().unwrap_or_default();
                out.push(not_one_of(&pointer, error.instance(), &options));
            }
            ValidationErrorKind::OneOfNotValid { context }
            | ValidationErrorKind::AnyOf { context } => {
                self.explain_alternatives(error, context, out);
            }
            ValidationErrorKind::MinLength { .. } => {
                out.push(Finding::error(
                    pointer,
                    Anchor::Value,
                    format!("`{field}` must not be empty"),
                ));
            }
            ValidationErrorKind::Minimum { .. } | ValidationErrorKind::Maximum { .. } => {
                let range = self.range_of(error.schema_path().as_str());
                let message = match range {
                    (Some(min), Some(max)) => format!("`{field}` must be between {min} and {max}"),
                    (Some(min), None) => format!("`{field}` must be at least {min}"),
                    (None, Some(max)) => format!("`{field}` must be at most {max}"),
                    (None, None) => format!("`{field}` is out of range"),
                };
                out.push(Finding::error(pointer, Anchor::Value, message));
            }
            _ => {
                // Kinds the manifest schema does not use; masked so no value is ever printed.
                out.push(Finding::error(
                    pointer,
                    Anchor::Value,
                    error.masked_with("this value").to_string(),
                ));
            }
        }
    }

    /// A value that matched none of several alternatives (a secret, or a certificate given as
    /// a path or as a secret): find out which alternative the user meant and report why it
    /// does not fit, rather than "not valid under any schema".
    fn explain_alternatives(
        &self,
        error: &ValidationError<'_>,
        branches: &[Vec<ValidationError<'static>>],
        out: &mut Vec<Finding>,
    ) {
        let pointer = error.instance_path().as_str();
        let instance = error.instance();
        if is_secret_key(last_segment(pointer)) {
            out.extend(secret_reference_problems(pointer, instance));
            return;
        }
        let at_self = |e: &ValidationError<'_>| e.instance_path().as_str() == pointer;
        // Alternatives of another shape (a string where a mapping was expected).
        let fitting: Vec<&Vec<ValidationError<'static>>> = branches
            .iter()
            .filter(|errors| {
                !errors
                    .iter()
                    .any(|e| at_self(e) && matches!(e.kind(), ValidationErrorKind::Type { .. }))
            })
            .collect();
        if fitting.is_empty() {
            let mut expected = Vec::new();
            for e in branches.iter().flatten() {
                if let ValidationErrorKind::Type { kind } = e.kind() {
                    match kind {
                        TypeKind::Single(single) => expected.push(*single),
                        TypeKind::Multiple(set) => expected.extend(set.iter()),
                    }
                }
            }
            out.push(wrong_type(pointer, instance, &expected));
            return;
        }
        if let Some(best) = fitting.iter().min_by_key(|errors| errors.len()) {
            for e in best.iter() {
                self.explain(e, out);
            }
        }
    }

    /// A required field that is missing. When it is the field that selects the object's
    /// shape (`type` in `spec`), the other fields are checked against every shape, so that
    /// `Type: OnPremises` is reported as a typo (and read as `type` in the next round).
    fn missing(
        &self,
        pointer: &str,
        property: &str,
        instance: &Value,
        keyword_path: &str,
        out: &mut Vec<Finding>,
    ) {
        let object = self.schema_object(keyword_path);
        let shapes = object
            .map(|object| self.shape_properties(object, property))
            .unwrap_or_default();
        if let Some(fields) = instance.as_object()
            && !shapes.is_empty()
        {
            for name in fields.keys().filter(|name| !shapes.contains(name)) {
                out.push(unknown_field(pointer, name, &shapes));
            }
        }
        let mut finding = missing_field(pointer, property);
        let options: Vec<String> = object
            .and_then(|object| object.pointer(&format!("/properties/{}/enum", escape(property))))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|option| format!("`{option}`"))
            .collect();
        if !options.is_empty() {
            finding = finding.hint(format!("`{property}` is one of {}", options.join(", ")));
        }
        out.push(finding);
    }

    /// The schema object at `keyword_path` minus its last segment (`.../additionalProperties`
    /// or `.../required`).
    fn schema_object(&self, keyword_path: &str) -> Option<&Value> {
        self.schema.pointer(parent(keyword_path))
    }

    /// Names the schema allows in the object whose keyword failed.
    fn allowed_properties(&self, keyword_path: &str) -> Vec<String> {
        self.schema_object(keyword_path)
            .and_then(|object| object.get("properties"))
            .and_then(Value::as_object)
            .map(|properties| properties.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Names any shape of `object` allows, where `if`/`then` branches on `selector` choose
    /// the shape; empty when no branch does.
    fn shape_properties(&self, object: &Value, selector: &str) -> Vec<String> {
        let names: BTreeSet<String> = self
            .shapes(object)
            .into_iter()
            .filter(|shape| shape.selector == selector)
            .flat_map(|shape| shape.properties)
            .collect();
        names.into_iter().collect()
    }

    /// The shape defined at `shape_path` (`/$defs/OnPremisesSpec`) and the other shapes of
    /// the object whose `if`/`then` branches choose between them; empty for any other schema.
    fn sibling_shapes(&self, shape_path: &str) -> Vec<Shape> {
        let reference = format!("#{shape_path}");
        self.schema
            .get("$defs")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|defs| defs.values())
            .map(|object| self.shapes(object))
            .find(|shapes| shapes.iter().any(|shape| shape.reference == reference))
            .unwrap_or_default()
            .into_iter()
            .map(|shape| Shape {
                chosen: shape.reference == reference,
                ..shape
            })
            .collect()
    }

    /// The shapes `object` takes: one per `allOf` branch of the form
    /// `if: {properties: {SELECTOR: {const: VALUE}}}`, `then: {$ref: SHAPE}`.
    fn shapes(&self, object: &Value) -> Vec<Shape> {
        object
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|branch| {
                let condition = branch.pointer("/if/properties")?.as_object()?;
                let (selector, constant) = condition.iter().next()?;
                let reference = branch.pointer("/then/$ref")?.as_str()?;
                let properties = self
                    .resolve(&branch["then"])?
                    .get("properties")?
                    .as_object()?;
                Some(Shape {
                    selector: selector.clone(),
                    value: constant.get("const")?.as_str()?.to_owned(),
                    reference: reference.to_owned(),
                    properties: properties.keys().cloned().collect(),
                    chosen: false,
                })
            })
            .collect()
    }

    /// The schema a local `$ref` points at, or `schema` itself when it has none.
    fn resolve<'a>(&'a self, schema: &'a Value) -> Option<&'a Value> {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => self.schema.pointer(reference.strip_prefix('#')?),
            None => Some(schema),
        }
    }

    /// `minimum` and `maximum` next to the keyword that failed.
    fn range_of(&self, keyword_path: &str) -> (Option<Value>, Option<Value>) {
        let object = self.schema_object(keyword_path);
        let get = |name: &str| object.and_then(|object| object.get(name)).cloned();
        (get("minimum"), get("maximum"))
    }
}

/// One shape of an object whose shape a field's value selects: `type: OnPremises` in `spec`.
struct Shape {
    /// The field that selects it: `type`.
    selector: String,
    /// The value that selects it: `OnPremises`.
    value: String,
    /// Where the shape is defined: `#/$defs/OnPremisesSpec`.
    reference: String,
    /// The fields it takes.
    properties: Vec<String>,
    /// Whether it is the shape the object was checked against.
    chosen: bool,
}

/// A field that the chosen shape does not take but another does: `isExchangeOnline` in an
/// `OnPremises` spec. `None` when no other shape takes it either.
fn field_of_another_shape(pointer: &str, name: &str, shapes: &[Shape]) -> Option<Finding> {
    let chosen = shapes.iter().find(|shape| shape.chosen)?;
    let takers: Vec<String> = shapes
        .iter()
        .filter(|shape| !shape.chosen && shape.properties.iter().any(|field| field == name))
        .map(|shape| format!("`{}: {}`", shape.selector, shape.value))
        .collect();
    let takers = match takers.as_slice() {
        [] => return None,
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    };
    let selector = &chosen.selector;
    Some(
        Finding::error(
            format!("{pointer}/{}", escape(name)),
            Anchor::Key,
            format!(
                "field `{name}` does not apply to `{selector}: {}`",
                chosen.value
            ),
        )
        .hint(format!(
            "it is a field of {takers}: remove it, or correct `{selector}`"
        )),
    )
}

fn unknown_field(pointer: &str, name: &str, allowed: &[String]) -> Finding {
    let at = format!("{pointer}/{}", escape(name));
    match suggest(name, allowed.iter().map(String::as_str)) {
        Some(known) => {
            let finding = Finding::error(
                at,
                Anchor::Key,
                format!("unknown field `{name}`, did you mean `{known}`?"),
            );
            let finding = if known.eq_ignore_ascii_case(name) {
                finding.hint("field names are case-sensitive: write them as the API spells them")
            } else {
                finding
            };
            Finding {
                rename_to: Some(known.to_owned()),
                ..finding
            }
        }
        None if allowed.is_empty() => {
            Finding::error(at, Anchor::Key, format!("unknown field `{name}`"))
        }
        None => Finding::error(at, Anchor::Key, format!("unknown field `{name}`")).hint(format!(
            "fields allowed here: {}",
            allowed
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn missing_field(pointer: &str, property: &str) -> Finding {
    let message = if pointer.is_empty() {
        format!("missing required field `{property}`")
    } else {
        format!(
            "missing required field `{property}` in `{}`",
            field_name(pointer)
        )
    };
    Finding::error(pointer, Anchor::Key, message)
}

fn wrong_type(pointer: &str, instance: &Value, expected: &[JsonType]) -> Finding {
    let mut names: Vec<&str> = Vec::new();
    for kind in expected {
        let name = type_name(*kind);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let expected = match names.as_slice() {
        [] => "something else".to_owned(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    };
    let found = value_kind(instance);
    let message = if pointer.is_empty() {
        format!("a manifest document must be {expected}, found {found}")
    } else {
        format!(
            "`{}` must be {expected}, found {found}",
            field_name(pointer)
        )
    };
    let finding = Finding::error(pointer, Anchor::Value, message);
    let boolean_like = instance.as_str().is_some_and(|text| {
        matches!(
            text.to_ascii_lowercase().as_str(),
            "yes" | "no" | "on" | "off" | "y" | "n"
        ) || suggest(text, ["true", "false"]).is_some()
    });
    if boolean_like && expected.contains("boolean") {
        finding.hint("write `true` or `false`, without quotes")
    } else {
        finding
    }
}

/// A value outside a fixed set (an enum, a constant, a type tag).
fn not_one_of(pointer: &str, instance: &Value, options: &[Value]) -> Finding {
    let field = field_name(pointer);
    let options: Vec<&str> = options.iter().filter_map(Value::as_str).collect();
    let listed = options
        .iter()
        .map(|option| format!("`{option}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let Some(text) = instance.as_str() else {
        return Finding::error(
            pointer,
            Anchor::Value,
            format!("`{field}` must be one of {listed}"),
        );
    };
    // Enumerations never hold secrets, so the value can be quoted.
    let message = match (options.as_slice(), suggest(text, options.iter().copied())) {
        ([only], _) => format!("`{field}` must be `{only}`, found `{text}`"),
        (_, Some(known)) => format!("unknown {field} `{text}`, did you mean `{known}`?"),
        _ => format!("unknown {field} `{text}`"),
    };
    let finding = Finding::error(pointer, Anchor::Value, message);
    if options.len() > 1 {
        finding.hint(format!("`{field}` is one of {listed}"))
    } else {
        finding
    }
}

/// Why a secret field holds neither a string nor a `{fromEnv}` / `{fromFile}` reference.
/// Reads the shape only: the value is never quoted.
fn secret_reference_problems(pointer: &str, instance: &Value) -> Vec<Finding> {
    const FORMS: &str = "a string, `{fromEnv: VARIABLE}` or `{fromFile: PATH}`";
    let field = field_name(pointer);
    let Some(object) = instance.as_object() else {
        return vec![
            Finding::error(
                pointer,
                Anchor::Value,
                format!("`{field}` must be {FORMS}, found {}", value_kind(instance)),
            )
            .hint("put a literal secret in quotes, or better, reference it with `fromEnv`"),
        ];
    };
    let forms = ["fromEnv", "fromFile"];
    let mut findings = Vec::new();
    let mut meant = Vec::new();
    for key in object.keys().filter(|key| !forms.contains(&key.as_str())) {
        let finding = unknown_field(pointer, key, &forms.map(str::to_owned));
        if let Some(known) = suggest(key, forms) {
            meant.push(known);
        }
        findings.push(finding);
    }
    let given: Vec<&str> = forms
        .into_iter()
        .filter(|form| object.contains_key(*form))
        .collect();
    match given.as_slice() {
        [] if meant.is_empty() => findings.push(
            Finding::error(
                pointer,
                Anchor::Key,
                format!("`{field}` needs `fromEnv` or `fromFile`"),
            )
            .hint(format!("write {FORMS}")),
        ),
        [_, _] => findings.push(Finding::error(
            format!("{pointer}/fromFile"),
            Anchor::Key,
            format!("`{field}` takes `fromEnv` or `fromFile`, not both"),
        )),
        _ => {}
    }
    for form in given {
        let at = format!("{pointer}/{form}");
        match &object[form] {
            Value::String(text) if text.is_empty() => findings.push(Finding::error(
                at,
                Anchor::Value,
                format!("`{form}` must not be empty"),
            )),
            Value::String(_) => {}
            other => findings.push(Finding::error(
                at,
                Anchor::Value,
                format!("`{form}` must be a string, found {}", value_kind(other)),
            )),
        }
    }
    findings
}

/// The rules a schema cannot express, for a document that deserialized into `manifest`.
pub(crate) fn rules(manifest: &Manifest) -> Vec<Finding> {
    let mut out = Vec::new();
    if manifest.metadata.name.trim().is_empty() {
        out.push(Finding::error(
            "/metadata/name",
            Anchor::Value,
            "`name` must not be blank",
        ));
    }
    match &manifest.spec {
        Spec::Office365(spec) => {
            workloads(
                &mut out,
                "Office365",
                &[
                    Workload {
                        flag: "isExchangeOnline",
                        enabled: spec.is_exchange_online,
                        settings: "exchangeOnlineSettings",
                        present: spec.exchange_online_settings.is_some(),
                    },
                    Workload {
                        flag: "isSharePointOnline",
                        enabled: spec.is_share_point_online,
                        settings: "sharePointOnlineSettings",
                        present: spec.share_point_online_settings.is_some(),
                    },
                ],
            );
            if let Some(settings) = &spec.exchange_online_settings {
                online(&mut out, "/spec/exchangeOnlineSettings", settings);
            }
            if let Some(settings) = &spec.share_point_online_settings {
                online(&mut out, "/spec/sharePointOnlineSettings", settings);
            }
        }
        Spec::OnPremises(spec) => {
            on_premises(
                &mut out,
                "OnPremises",
                (spec.is_exchange, spec.exchange_settings.as_deref()),
                (spec.is_share_point, spec.share_point_settings.as_deref()),
            );
        }
        Spec::Hybrid(spec) => {
            let online_side = spec.exchange_online_settings.is_some()
                || spec.share_point_online_settings.is_some();
            match (&spec.office365_settings, online_side) {
                (Some(settings), false) => office365(&mut out, "/spec/office365Settings", settings),
                (Some(_), true) => out.push(
                    Finding::error(
                        "/spec/office365Settings",
                        Anchor::Key,
                        "`office365Settings` (REST API v3) and `exchangeOnlineSettings` or \
                         `sharePointOnlineSettings` (v6 and later) describe the same Microsoft \
                         365 side",
                    )
                    .hint("keep the form your server's API version takes"),
                ),
                (None, true) => {}
                (None, false) => out.push(
                    Finding::error(
                        "/spec",
                        Anchor::Key,
                        "a Hybrid organization needs its Microsoft 365 side: `office365Settings` \
                         (REST API v3), or `exchangeOnlineSettings` and/or \
                         `sharePointOnlineSettings` (v6 and later)",
                    )
                    .hint("add the block your server's API version takes"),
                ),
            }
            if let Some(settings) = &spec.exchange_online_settings {
                online(&mut out, "/spec/exchangeOnlineSettings", settings);
            }
            if let Some(settings) = &spec.share_point_online_settings {
                online(&mut out, "/spec/sharePointOnlineSettings", settings);
            }
            on_premises(
                &mut out,
                "Hybrid",
                (spec.is_exchange, spec.exchange_settings.as_deref()),
                (spec.is_share_point, spec.share_point_settings.as_deref()),
            );
        }
    }
    for field in manifest.spec.secret_fields() {
        if let SecretRef::Literal(_) = field.reference {
            let pointer = format!("/spec/{}", field.path.replace('.', "/"));
            let name = last_segment(&pointer).to_owned();
            out.push(
                Finding::warning(
                    pointer,
                    Anchor::Value,
                    format!(
                        "`{name}` is written in the manifest: anyone who can read the repository \
                         can read it"
                    ),
                )
                .hint("use `{fromEnv: VARIABLE}` or `{fromFile: PATH}` instead"),
            );
        }
    }
    out
}

/// One workload of a spec: its `is*` flag and its settings block.
struct Workload {
    flag: &'static str,
    enabled: bool,
    settings: &'static str,
    present: bool,
}

fn workloads(out: &mut Vec<Finding>, kind: &str, workloads: &[Workload]) {
    if workloads.iter().all(|workload| !workload.enabled) {
        let flags: Vec<String> = workloads
            .iter()
            .map(|workload| format!("`{}: true`", workload.flag))
            .collect();
        out.push(
            Finding::error(
                "/spec",
                Anchor::Key,
                format!(
                    "{} {kind} organization needs at least one workload enabled",
                    if kind.starts_with(['O', 'A', 'E', 'I', 'U']) {
                        "an"
                    } else {
                        "a"
                    }
                ),
            )
            .hint(format!("set {}", flags.join(" or "))),
        );
    }
    for workload in workloads {
        let Workload {
            flag,
            settings,
            enabled,
            present,
        } = workload;
        if *enabled && !present {
            out.push(
                Finding::error(
                    format!("/spec/{flag}"),
                    Anchor::Value,
                    format!("`{flag}` is true but `{settings}` is missing"),
                )
                .hint(format!("add `{settings}` to say how to connect")),
            );
        }
        if !enabled && *present {
            out.push(
                Finding::error(
                    format!("/spec/{settings}"),
                    Anchor::Key,
                    format!("`{settings}` is set but `{flag}` is not true"),
                )
                .hint(format!(
                    "set `{flag}: true` to back this workload up, or remove `{settings}`"
                )),
            );
        }
    }
}

fn on_premises(
    out: &mut Vec<Finding>,
    kind: &str,
    exchange: (bool, Option<&ExchangeSettings<SecretRef>>),
    share_point: (bool, Option<&SharePointSettings<SecretRef>>),
) {
    workloads(
        out,
        kind,
        &[
            Workload {
                flag: "isExchange",
                enabled: exchange.0,
                settings: "exchangeSettings",
                present: exchange.1.is_some(),
            },
            Workload {
                flag: "isSharePoint",
                enabled: share_point.0,
                settings: "sharePointSettings",
                present: share_point.1.is_some(),
            },
        ],
    );
    if let Some(settings) = exchange.1 {
        connection!(settings).check(out, "/spec/exchangeSettings");
    }
    if let Some(settings) = share_point.1 {
        connection!(settings).check(out, "/spec/sharePointSettings");
    }
}

/// The [`Connection`] part of `ExchangeSettings` or `SharePointSettings`, which name these
/// fields alike.
macro_rules! connection {
    ($settings:expr) => {
        Connection {
            server_name: &$settings.server_name,
            username: &$settings.username,
            password: $settings.password.is_some(),
            use_ssl: $settings.use_ssl,
            skips: [
                $settings.skip_ca_verification,
                $settings.skip_common_name_verification,
                $settings.skip_revocation_check,
            ],
        }
    };
}
use connection;

/// What on-premises Exchange and SharePoint settings have in common.
struct Connection<'a> {
    server_name: &'a Option<String>,
    username: &'a Option<String>,
    password: bool,
    use_ssl: bool,
    /// `skipCAverification`, `skipCommonNameVerification`, `skipRevocationCheck`.
    skips: [bool; 3],
}

impl Connection<'_> {
    fn check(&self, out: &mut Vec<Finding>, pointer: &str) {
        let block = last_segment(pointer);
        for (name, present) in [
            ("serverName", filled(self.server_name)),
            ("username", filled(self.username)),
            ("password", self.password),
        ] {
            if !present {
                out.push(Finding::error(
                    pointer,
                    Anchor::Key,
                    format!("`{block}` needs `{name}`"),
                ));
            }
        }
        if !self.use_ssl {
            out.push(
                Finding::warning(
                    format!("{pointer}/useSSL"),
                    Anchor::Value,
                    format!("`{block}` connects without SSL: the connection is not encrypted"),
                )
                .hint("set `useSSL: true`"),
            );
        }
        let checks = [
            (
                "skipCAverification",
                "the server's certificate is not checked against trusted authorities",
            ),
            (
                "skipCommonNameVerification",
                "the server's certificate may name another server",
            ),
            (
                "skipRevocationCheck",
                "a revoked certificate of the server is accepted",
            ),
        ];
        for ((name, risk), skipped) in checks.into_iter().zip(self.skips) {
            if skipped {
                out.push(
                    Finding::warning(
                        format!("{pointer}/{name}"),
                        Anchor::Value,
                        format!("`{name}` is true: {risk}"),
                    )
                    .hint(format!(
                        "trust the server's certificate on the backup server and remove `{name}`"
                    )),
                );
            }
        }
    }
}

fn online(out: &mut Vec<Finding>, pointer: &str, settings: &OnlineSettings<SecretRef>) {
    let block = last_segment(pointer);
    let modern_fields = [
        ("applicationId", settings.application_id.is_some()),
        ("applicationSecret", settings.application_secret.is_some()),
        (
            "applicationCertificate",
            settings.application_certificate.is_some(),
        ),
        (
            "applicationCertificatePassword",
            settings.application_certificate_password.is_some(),
        ),
        (
            "applicationCertificateThumbprint",
            settings.application_certificate_thumbprint.is_some(),
        ),
    ];
    let app_only = settings.use_application_only_auth == Some(true);
    if app_only {
        app_only_auth(out, pointer, settings);
        return;
    }
    if !settings.use_mfa {
        for (name, present) in [
            ("account", filled(&settings.account)),
            ("password", settings.password.is_some()),
        ] {
            if !present {
                out.push(
                    Finding::error(
                        pointer,
                        Anchor::Key,
                        format!("basic authentication needs `{name}` in `{block}`"),
                    )
                    .hint(format!(
                        "set `{name}`, or `useMfa: true` for modern authentication"
                    )),
                );
            }
        }
        for (name, present) in modern_fields {
            if present {
                out.push(
                    Finding::warning(
                        format!("{pointer}/{name}"),
                        Anchor::Key,
                        format!(
                            "`{name}` is ignored with basic authentication (`useMfa` is not true)"
                        ),
                    )
                    .hint(format!(
                        "set `useMfa: true` for modern authentication, or remove `{name}`"
                    )),
                );
            }
        }
        return;
    }
    let mfa = format!("{pointer}/useMfa");
    if !filled(&settings.application_id) {
        out.push(Finding::error(
            mfa.clone(),
            Anchor::Value,
            format!("modern authentication (`useMfa: true`) needs `applicationId` in `{block}`"),
        ));
    }
    match (
        settings.application_secret.is_some(),
        settings.application_certificate.is_some(),
    ) {
        (true, true) => out.push(Finding::error(
            format!("{pointer}/applicationCertificate"),
            Anchor::Key,
            "modern authentication takes `applicationSecret` or `applicationCertificate`, not both",
        )),
        (false, false) => out.push(
            Finding::error(
                mfa,
                Anchor::Value,
                format!(
                    "modern authentication (`useMfa: true`) needs `applicationSecret` or \
                     `applicationCertificate` in `{block}`"
                ),
            )
            .hint("give exactly one of them"),
        ),
        _ => {}
    }
    if settings.application_certificate_password.is_some()
        && settings.application_certificate.is_none()
    {
        out.push(Finding::error(
            format!("{pointer}/applicationCertificatePassword"),
            Anchor::Key,
            "`applicationCertificatePassword` goes with `applicationCertificate`, which is not set",
        ));
    }
}

/// Application-only authentication: the application and its certificate, no account.
fn app_only_auth(out: &mut Vec<Finding>, pointer: &str, settings: &OnlineSettings<SecretRef>) {
    let block = last_segment(pointer);
    let switch = format!("{pointer}/useApplicationOnlyAuth");
    if !filled(&settings.application_id) {
        out.push(Finding::error(
            switch.clone(),
            Anchor::Value,
            format!(
                "application-only authentication (`useApplicationOnlyAuth: true`) needs \
                 `applicationId` in `{block}`"
            ),
        ));
    }
    if settings.application_certificate.is_none() {
        out.push(
            Finding::error(
                switch,
                Anchor::Value,
                format!(
                    "application-only authentication (`useApplicationOnlyAuth: true`) needs \
                     `applicationCertificate` in `{block}`"
                ),
            )
            .hint("`applicationCertificate: {fromFile: path/to/app.pfx}`"),
        );
    }
    if settings.password.is_some() {
        out.push(
            Finding::warning(
                format!("{pointer}/password"),
                Anchor::Key,
                "`password` is not used with application-only authentication",
            )
            .hint("remove it, or set `useApplicationOnlyAuth: false` for basic authentication"),
        );
    }
}

fn office365(out: &mut Vec<Finding>, pointer: &str, settings: &Office365Settings<SecretRef>) {
    for (name, present) in [
        ("username", filled(&settings.username)),
        ("password", settings.password.is_some()),
    ] {
        if !present {
            out.push(Finding::error(
                pointer,
                Anchor::Key,
                format!("`office365Settings` needs `{name}`"),
            ));
        }
    }
}

/// Renames the property at `pointer` to `known` unless `known` is already there.
fn rename(document: &mut Value, pointer: &str, known: &str) -> bool {
    let name = field_name(pointer);
    let Some(object) = document
        .pointer_mut(parent(pointer))
        .and_then(Value::as_object_mut)
    else {
        return false;
    };
    if object.contains_key(known) {
        return false;
    }
    match object.remove(&name) {
        Some(value) => {
            object.insert(known.to_owned(), value);
            true
        }
        None => false,
    }
}

/// `pointer`, found in a document with typos renamed, as the user wrote it.
fn as_written(pointer: &str, renames: &[(String, String)]) -> String {
    let mut pointer = pointer.to_owned();
    for (renamed, written) in renames.iter().rev() {
        if pointer == *renamed || pointer.starts_with(&format!("{renamed}/")) {
            pointer = format!("{written}{}", &pointer[renamed.len()..]);
        }
    }
    pointer
}

/// Set and not blank.
fn filled(value: &Option<String>) -> bool {
    value.as_deref().is_some_and(|text| !text.trim().is_empty())
}

/// The closest known name to `name`: the same ignoring case first, then a small typo.
pub(crate) fn suggest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let candidates: Vec<&str> = candidates.into_iter().collect();
    if let Some(same) = candidates
        .iter()
        .find(|candidate| candidate.to_lowercase() == lower)
    {
        return Some(same);
    }
    let limit = (lower.chars().count() / 4).clamp(1, 3);
    candidates
        .iter()
        .map(|candidate| {
            (
                strsim::damerau_levenshtein(&lower, &candidate.to_lowercase()),
                *candidate,
            )
        })
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// The last segment of a JSON Pointer, unescaped (`""` for the document).
fn last_segment(pointer: &str) -> &str {
    pointer.rsplit('/').next().unwrap_or_default()
}

/// What a finding calls the field at `pointer`.
fn field_name(pointer: &str) -> String {
    if pointer.is_empty() {
        return "document".to_owned();
    }
    last_segment(pointer).replace("~1", "/").replace("~0", "~")
}

/// The pointer one level up.
fn parent(pointer: &str) -> &str {
    pointer.rfind('/').map_or("", |cut| &pointer[..cut])
}

fn type_name(kind: JsonType) -> &'static str {
    match kind {
        JsonType::Null => "null",
        JsonType::Boolean => "a boolean (`true` or `false`)",
        JsonType::Integer => "a whole number",
        JsonType::Number => "a number",
        JsonType::String => "a string",
        JsonType::Array => "a list",
        JsonType::Object => "a mapping",
    }
}

fn value_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing (null)",
        Value::Bool(_) => "a boolean",
        Value::Number(number) if number.is_f64() => "a decimal number",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_prefer_case_then_small_typos() {
        let known = ["isSharePoint", "isExchange", "sharePointSettings"];
        assert_eq!(suggest("IsSharepoint", known), Some("isSharePoint"));
        assert_eq!(suggest("isExchang", known), Some("isExchange"));
        assert_eq!(
            suggest("SharepointSettings", known),
            Some("sharePointSettings")
        );
        assert_eq!(suggest("completelyDifferent", known), None);
    }

    fn findings(yaml_json: Value) -> Vec<String> {
        let manifest: Manifest = serde_json::from_value(yaml_json).unwrap();
        rules(&manifest)
            .into_iter()
            .map(|finding| format!("{} {}", finding.pointer, finding.message))
            .collect()
    }

    fn office365(spec: Value) -> Value {
        let mut spec = spec;
        spec["type"] = "Office365".into();
        serde_json::json!({
            "apiVersion": "vboctl/v1", "kind": "Organization",
            "metadata": {"name": "a"}, "spec": spec
        })
    }

    #[test]
    fn rules_table() {
        let env = serde_json::json!({"fromEnv": "X"});
        let cases: Vec<(Value, Vec<&str>)> = vec![
            (
                office365(serde_json::json!({})),
                vec!["/spec an Office365 organization needs at least one workload enabled"],
            ),
            (
                office365(serde_json::json!({"isExchangeOnline": true})),
                vec![
                    "/spec/isExchangeOnline `isExchangeOnline` is true but `exchangeOnlineSettings` is missing",
                ],
            ),
            (
                office365(serde_json::json!({
                    "isExchangeOnline": true,
                    "exchangeOnlineSettings": {"account": "a", "password": env},
                    "sharePointOnlineSettings": {"account": "a", "password": env},
                })),
                vec![
                    "/spec/sharePointOnlineSettings `sharePointOnlineSettings` is set but `isSharePointOnline` is not true",
                ],
            ),
            (
                office365(serde_json::json!({
                    "isExchangeOnline": true,
                    "exchangeOnlineSettings": {"useMfa": true, "applicationId": "id",
                        "applicationSecret": env, "applicationCertificate": "c.pfx"},
                })),
                vec![
                    "/spec/exchangeOnlineSettings/applicationCertificate modern authentication takes `applicationSecret` or `applicationCertificate`, not both",
                ],
            ),
            (
                office365(serde_json::json!({
                    "isExchangeOnline": true,
                    "exchangeOnlineSettings": {"account": "a", "password": "literal"},
                })),
                vec![
                    "/spec/exchangeOnlineSettings/password `password` is written in the manifest: anyone who can read the repository can read it",
                ],
            ),
        ];
        for (manifest, expected) in cases {
            assert_eq!(findings(manifest), expected);
        }
    }
}
