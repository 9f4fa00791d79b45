//! Reading JSON the way the real server writes and reads it (ASP.NET Web API with Json.NET).
//!
//! Json.NET matches property names and enum values without regard to case, reads the strings
//! `"true"` and `"false"` (any case) as booleans and numeric strings as integers, and ignores
//! properties it does not know. Both sides of vboctl need that reading: the emulator reads
//! request bodies as the real server does, and the client reads the server's answers, whose
//! spellings vary between API versions (`isSharePoint` in v3, `isSharepoint` in v8). This
//! module rewrites an incoming JSON value into the canonical form that this crate's strict serde
//! types accept.
//!
//! What counts as canonical is not written down here: it is read from the JSON Schema that
//! `schemars` derives from the target type, so a field added to the wire types is understood
//! here without any change.
//!
//! Two modes:
//! - [`Lenient::read_request`] is the server's reading of a body: a value of the wrong kind is
//!   an error naming the property.
//! - [`Lenient::read_response`] is a client's reading of an answer: only what the type requires
//!   must be there and be right; an optional property that is `null`, of the wrong kind or not
//!   understood is left out ("not reported") rather than failing the whole answer.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// What one place in a document may hold, derived from the schema.
#[derive(Debug, Clone, PartialEq)]
enum Shape {
    /// An object with these properties (canonical names) and these required ones.
    Object {
        properties: Vec<(String, Node)>,
        required: Vec<String>,
    },
    /// `true` or `false`.
    Boolean,
    /// A whole number within the bounds, when the schema gives them.
    Integer { min: Option<i64>, max: Option<i64> },
    /// Any string.
    String,
    /// One of these strings.
    Enum(Vec<String>),
    /// An object whose keys are data (`_links`, `_actions`): kept as it is, keys unmatched.
    Map,
    /// Anything: the schema says nothing this module understands.
    Any,
}

/// A [`Shape`] and whether `null` is allowed in its place.
#[derive(Debug, Clone, PartialEq)]
struct Node {
    shape: Shape,
    nullable: bool,
}

/// Why a document cannot be read, naming the property (dotted canonical path) and never its
/// value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The body is not JSON at all.
    #[error("The request body is not valid JSON.")]
    NotJson,
    /// A required property is absent (or null).
    #[error("Property '{path}' is required.")]
    Missing {
        /// Dotted path of the property.
        path: String,
    },
    /// A property (or, with an empty path, the body itself) holds a value of the wrong kind.
    #[error("{}", describe_invalid(path, expected))]
    Invalid {
        /// Dotted path of the property; empty for the body itself.
        path: String,
        /// What the property may hold, for example `true or false`.
        expected: String,
    },
}

/// How strictly [`normalize`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// As a server reads a request: every value must be of its kind.
    Request,
    /// As a client reads an answer: optional values that cannot be read are left out.
    Response,
}

/// The canonical shape of one type, computed once from its JSON Schema. Keep it in a
/// `static LazyLock` next to the code that reads that type.
#[derive(Debug, Clone)]
pub struct Lenient {
    root: Node,
}

impl Lenient {
    /// The reader of `T`, from the schema `schemars` derives for it.
    pub fn of<T: schemars::JsonSchema>() -> Self {
        let schema = schemars::schema_for!(T);
        let root = schema.as_value();
        Self {
            root: node(root, root),
        }
    }

    /// Reads a request body as the server does: parses the JSON, rewrites it into canonical
    /// form, and builds `T` from it.
    pub fn read_request<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, BodyError> {
        let value = Json::parse(bytes).ok_or(BodyError::NotJson)?;
        let canonical = normalize(value.0, &self.root, Place::Root, Mode::Request)?;
        // After normalisation every value has the kind the types expect, so this only fails if
        // the schema and the serde forms disagree; say so without echoing anything from it.
        serde_json::from_value(canonical).map_err(|_| BodyError::Invalid {
            path: String::new(),
            expected: "an organization".to_owned(),
        })
    }

    /// Reads one value of an answer tolerantly: names in any case, string booleans, enum values
    /// in any case, unknown properties ignored, and optional properties that are `null`, of
    /// the wrong kind or unknown to this version of vboctl left out. Fails only when something
    /// `T` requires is missing or unreadable.
    pub fn read_response<T: DeserializeOwned>(&self, value: Json) -> Result<T, BodyError> {
        let canonical = normalize(value.0, &self.root, Place::Root, Mode::Response)?;
        serde_json::from_value(canonical).map_err(|error| BodyError::Invalid {
            path: String::new(),
            // Only structure reaches this message: the normalised value holds no property the
            // type does not know, and serde names fields and kinds, not values of strings.
            expected: format!("readable ({})", first_line(&error.to_string())),
        })
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// A parsed JSON document that keeps object members in document order, for reading with a
/// [`Lenient`] reader and for finding members without regard to case.
#[derive(Debug, Clone, PartialEq)]
pub struct Json(Raw);

impl Json {
    /// Parses `bytes`; `None` when they are not JSON.
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).map(Json).ok()
    }

    /// The elements, when this is an array.
    pub fn as_array(&self) -> Option<Vec<Json>> {
        match &self.0 {
            Raw::Array(items) => Some(items.iter().cloned().map(Json).collect()),
            _ => None,
        }
    }

    /// The elements, when this is an array, taken without copying them; the value itself
    /// otherwise.
    pub fn into_array(self) -> Result<Vec<Json>, Json> {
        match self.0 {
            Raw::Array(items) => Ok(items.into_iter().map(Json).collect()),
            other => Err(Json(other)),
        }
    }

    /// The last member called `name` (compared without regard to case), when this is an
    /// object, taken without copying it.
    pub fn into_member(self, name: &str) -> Option<Json> {
        match self.0 {
            Raw::Object(members) => members
                .into_iter()
                .rev()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| Json(value)),
            _ => None,
        }
    }

    /// The last member called `name` (compared without regard to case), when this is an
    /// object.
    pub fn member(&self, name: &str) -> Option<Json> {
        match &self.0 {
            Raw::Object(members) => members
                .iter()
                .rev()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| Json(value.clone())),
            _ => None,
        }
    }

    /// The text, when this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.0 {
            Raw::String(text) => Some(text),
            _ => None,
        }
    }

    /// The number, when this is a whole number or a string holding one.
    pub fn as_u64(&self) -> Option<u64> {
        match &self.0 {
            Raw::Number(number) => number.as_u64(),
            Raw::String(text) => text.trim().parse().ok(),
            _ => None,
        }
    }

    /// Whether this is an object.
    pub fn is_object(&self) -> bool {
        matches!(self.0, Raw::Object(_))
    }

    /// The value as a `serde_json::Value` (members in sorted order, the last spelling of a
    /// repeated name winning).
    pub fn to_value(&self) -> Value {
        self.0.to_value()
    }
}

/// Where a value is in a document, spelled out as a dotted path only for an error.
#[derive(Clone, Copy)]
enum Place<'a> {
    /// The document itself.
    Root,
    /// The property `name` of the object at the place before.
    Member(&'a Place<'a>, &'a str),
}

impl Place<'_> {
    /// The dotted path, empty for the document itself.
    fn dotted(&self) -> String {
        match self {
            Place::Root => String::new(),
            Place::Member(parent, name) => join(&parent.dotted(), name),
        }
    }
}

/// Rewrites `value` into the canonical form of `node`, or says which property is wrong.
fn normalize(value: Raw, node: &Node, place: Place<'_>, mode: Mode) -> Result<Value, BodyError> {
    let wrong = || invalid(&place.dotted(), expectation(&node.shape));
    if let Raw::Null = value {
        return if node.nullable || node.shape == Shape::Any {
            Ok(Value::Null)
        } else {
            Err(wrong())
        };
    }
    match (&node.shape, value) {
        (Shape::Any, value) | (Shape::Map, value @ Raw::Object(_)) => Ok(value.into_value()),
        (
            Shape::Object {
                properties,
                required,
            },
            Raw::Object(members),
        ) => {
            let mut output = Map::new();
            // In document order, so that a later spelling of the same property wins, as it does
            // when Json.NET populates an object.
            for (key, value) in members {
                let Some((name, child)) = properties
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(&key))
                else {
                    continue;
                };
                match normalize(value, child, Place::Member(&place, name), mode) {
                    Ok(Value::Null) if mode == Mode::Response => {
                        output.remove(name);
                    }
                    Ok(canonical) => {
                        output.insert(name.clone(), canonical);
                    }
                    // An answer's optional property that cannot be read is not reported;
                    // whether it was required is checked below.
                    Err(_) if mode == Mode::Response => {
                        output.remove(name);
                    }
                    Err(error) => return Err(error),
                }
            }
            for name in required {
                if output.get(name).is_none_or(Value::is_null) {
                    return Err(BodyError::Missing {
                        path: join(&place.dotted(), name),
                    });
                }
            }
            Ok(Value::Object(output))
        }
        (Shape::Boolean, Raw::Bool(flag)) => Ok(Value::Bool(flag)),
        (Shape::Boolean, Raw::String(text)) => parse_bool(&text).map(Value::Bool).ok_or_else(wrong),
        (Shape::Integer { min, max }, value @ (Raw::Number(_) | Raw::String(_))) => {
            let number = match value {
                Raw::Number(number) => number.as_i64(),
                Raw::String(text) => text.trim().parse::<i64>().ok(),
                _ => None,
            };
            number
                .filter(|n| min.is_none_or(|min| *n >= min) && max.is_none_or(|max| *n <= max))
                .map(Value::from)
                .ok_or_else(wrong)
        }
        (Shape::String, Raw::String(text)) => Ok(Value::String(text)),
        (Shape::Enum(allowed), Raw::String(text)) => allowed
            .iter()
            .find(|candidate| candidate.eq_ignore_ascii_case(text.trim()))
            .map(|canonical| Value::String(canonical.clone()))
            .ok_or_else(wrong),
        _ => Err(wrong()),
    }
}

/// A JSON value that keeps object members in document order (`serde_json::Value` sorts them),
/// so that the last of several spellings of a property wins, as in Json.NET.
#[derive(Debug, Clone, PartialEq)]
enum Raw {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Raw>),
    Object(Vec<(String, Raw)>),
}

impl Raw {
    fn into_value(self) -> Value {
        match self {
            Raw::Null => Value::Null,
            Raw::Bool(flag) => Value::Bool(flag),
            Raw::Number(number) => Value::Number(number),
            Raw::String(text) => Value::String(text),
            Raw::Array(items) => Value::Array(items.into_iter().map(Raw::into_value).collect()),
            Raw::Object(members) => Value::Object(
                members
                    .into_iter()
                    .map(|(key, value)| (key, value.into_value()))
                    .collect(),
            ),
        }
    }

    fn to_value(&self) -> Value {
        match self {
            Raw::Null => Value::Null,
            Raw::Bool(flag) => Value::Bool(*flag),
            Raw::Number(number) => Value::Number(number.clone()),
            Raw::String(text) => Value::String(text.clone()),
            Raw::Array(items) => Value::Array(items.iter().map(Raw::to_value).collect()),
            Raw::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(key, value)| (key.clone(), value.to_value()))
                    .collect(),
            ),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Raw {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> serde::de::Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }

    fn visit_bool<E>(self, value: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Raw, E> {
        Ok(Raw::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Raw, E> {
        Ok(Raw::Number(value.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<Raw, E> {
        serde_json::Number::from_f64(value)
            .map(Raw::Number)
            .ok_or_else(|| E::custom("not a finite number"))
    }

    fn visit_str<E>(self, value: &str) -> Result<Raw, E> {
        Ok(Raw::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Raw, E> {
        Ok(Raw::String(value))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Raw::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut members = Vec::new();
        while let Some(member) = map.next_entry()? {
            members.push(member);
        }
        Ok(Raw::Object(members))
    }
}

/// `"true"` and `"false"` in any case, with surrounding spaces, as .NET's `Boolean.Parse` reads
/// them. `"1"`, `"yes"` and the like are not booleans.
fn parse_bool(text: &str) -> Option<bool> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn describe_invalid(path: &str, expected: &str) -> String {
    if path.is_empty() {
        format!("The request body must be {expected}.")
    } else {
        format!("Property '{path}' must be {expected}.")
    }
}

fn invalid(path: &str, expected: String) -> BodyError {
    BodyError::Invalid {
        path: path.to_owned(),
        expected,
    }
}

fn expectation(shape: &Shape) -> String {
    match shape {
        Shape::Object { .. } | Shape::Map => "an object".to_owned(),
        Shape::Boolean => "true or false".to_owned(),
        Shape::Integer {
            min: Some(min),
            max: Some(max),
        } => format!("a whole number from {min} to {max}"),
        Shape::Integer { .. } => "a whole number".to_owned(),
        Shape::String => "a string".to_owned(),
        Shape::Enum(allowed) => format!("one of {}", allowed.join(", ")),
        Shape::Any => "a value".to_owned(),
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// Interprets the schema `schema`, resolving `$ref`s against `root`.
fn node(schema: &Value, root: &Value) -> Node {
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        return match resolve(target, root) {
            Some(resolved) => node(resolved, root),
            None => unknown(),
        };
    }
    for combinator in ["anyOf", "oneOf"] {
        let Some(branches) = schema.get(combinator).and_then(Value::as_array) else {
            continue;
        };
        let constants: Option<Vec<String>> = branches
            .iter()
            .map(|branch| {
                branch
                    .get("const")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .collect();
        if let Some(values) = constants {
            return Node {
                shape: Shape::Enum(values),
                nullable: false,
            };
        }
        let (nulls, others): (Vec<&Value>, Vec<&Value>) = branches
            .iter()
            .partition(|branch| branch.get("type").and_then(Value::as_str) == Some("null"));
        return match others.as_slice() {
            [only] => Node {
                nullable: !nulls.is_empty() || node(only, root).nullable,
                ..node(only, root)
            },
            _ => unknown(),
        };
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let values: Option<Vec<String>> = values
            .iter()
            .map(|value| value.as_str().map(str::to_owned))
            .collect();
        return match values {
            Some(values) => Node {
                shape: Shape::Enum(values),
                nullable: false,
            },
            None => unknown(),
        };
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(single)) => vec![single.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let nullable = types.contains(&"null");
    let shape = match types.iter().find(|kind| **kind != "null").copied() {
        Some("object") => object(schema, root),
        Some("boolean") => Shape::Boolean,
        Some("integer") => Shape::Integer {
            min: schema.get("minimum").and_then(Value::as_i64),
            max: schema.get("maximum").and_then(Value::as_i64),
        },
        Some("string") => Shape::String,
        _ => Shape::Any,
    };
    Node { shape, nullable }
}

fn object(schema: &Value, root: &Value) -> Shape {
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|properties| {
            properties
                .iter()
                .map(|(name, property)| (name.clone(), node(property, root)))
                .collect()
        })
        .unwrap_or_default();
    let required = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| {
            names
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let is_map = schema.get("properties").is_none()
        && schema.get("additionalProperties") != Some(&Value::Bool(false));
    if is_map {
        // A map (`_links`, `_actions`): its keys are data, not property names to match.
        return Shape::Map;
    }
    Shape::Object {
        properties,
        required,
    }
}

fn resolve<'a>(reference: &str, root: &'a Value) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    root.pointer(pointer)
}

fn unknown() -> Node {
    Node {
        shape: Shape::Any,
        nullable: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::sync::LazyLock;

    use crate::wire::{
        ApplicationCertificate, ExchangeSettings, Office365Settings, OnlineSettings,
        SharePointSettings,
    };
    use crate::{Organization, OrganizationBody, OrganizationType, Region, Secret};

    static BODY: LazyLock<Lenient> = LazyLock::new(Lenient::of::<OrganizationBody<Secret>>);

    fn parse_body(bytes: &[u8]) -> Result<OrganizationBody<Secret>, BodyError> {
        BODY.read_request(bytes)
    }

    /// Every property of the wire types must be reachable: if one were missed, a body that
    /// carries it would silently lose it.
    fn full_body() -> OrganizationBody<Secret> {
        let online = OnlineSettings {
            account: Some("admin@contoso.onmicrosoft.com".into()),
            password: Some(Secret::new("pw1")),
            grant_admin_access: true,
            use_mfa: true,
            application_id: Some("63baecf0-2624-45d0-9ece-de1db611dc98".into()),
            application_secret: Some(Secret::new("pw2")),
            application_certificate: Some(ApplicationCertificate::ServerPath(
                "C:\\cert.pfx".into(),
            )),
            application_certificate_password: Some(Secret::new("pw3")),
            application_certificate_thumbprint: Some("56B0".into()),
            use_custom_veeam_aad_application: true,
            use_application_only_auth: Some(false),
            office_organization_name: Some("contoso.onmicrosoft.com".into()),
            share_point_save_all_web_parts: Some(true),
        };
        OrganizationBody {
            kind: OrganizationType::Hybrid,
            name: Some("contoso".into()),
            description: Some("d".into()),
            region: Some(Region::UsDefence),
            is_teams_online: Some(true),
            is_teams_chats_online: Some(false),
            is_exchange_online: Some(true),
            is_share_point_online: Some(false),
            exchange_online_settings: Some(online.clone()),
            share_point_online_settings: Some(online),
            office365_settings: Some(Office365Settings {
                region: Region::UsGovernment,
                username: Some("u@contoso.com".into()),
                password: Some(Secret::new("pw4")),
                grant_impersonation: true,
                grant_access_to_site_collections: true,
                use_veeam_aad_application: true,
            }),
            is_exchange: Some(true),
            exchange_settings: Some(ExchangeSettings {
                server_name: Some("mail".into()),
                username: Some("C\\u".into()),
                password: Some(Secret::new("pw5")),
                use_ssl: true,
                skip_ca_verification: true,
                skip_common_name_verification: true,
                skip_revocation_check: true,
                grant_impersonation: true,
                configure_throttling_policy: true,
            }),
            is_share_point: Some(true),
            share_point_settings: Some(SharePointSettings {
                server_name: Some("sp".into()),
                server_port: 443,
                username: Some("C\\u".into()),
                password: Some(Secret::new("pw6")),
                use_ssl: true,
                skip_ca_verification: true,
                skip_common_name_verification: true,
                skip_revocation_check: true,
                grant_impersonation: true,
                grant_access_to_site_collections: true,
            }),
        }
    }

    /// Rewrites every key with `case` and every boolean as a string, as the vendor's examples do.
    fn scramble(value: &Value, case: &mut impl FnMut(&str) -> String) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(key, value)| (case(key), scramble(value, case)))
                    .collect(),
            ),
            Value::Bool(flag) => Value::String(if *flag { "True" } else { "false" }.into()),
            Value::String(text) if text == "Hybrid" => Value::String("hybrid".into()),
            other => other.clone(),
        }
    }

    fn read(value: &Value) -> Result<OrganizationBody<Secret>, BodyError> {
        parse_body(value.to_string().as_bytes())
    }

    #[test]
    fn canonical_bodies_read_back_unchanged() {
        let body = full_body();
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(read(&json).unwrap(), body);
    }

    #[test]
    fn lower_case_names_and_string_booleans_read_back_unchanged() {
        let body = full_body();
        let json = scramble(&serde_json::to_value(&body).unwrap(), &mut |key| {
            key.to_ascii_lowercase()
        });
        assert_eq!(read(&json).unwrap(), body);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_casing_reads_back_unchanged(flips in proptest::collection::vec(any::<bool>(), 64)) {
            let body = full_body();
            let mut index = 0;
            let json = scramble(&serde_json::to_value(&body).unwrap(), &mut |key| {
                key.chars()
                    .map(|c| {
                        index += 1;
                        if flips[index % flips.len()] { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() }
                    })
                    .collect()
            });
            prop_assert_eq!(read(&json).unwrap(), body);
        }
    }

    #[test]
    fn unknown_properties_are_dropped() {
        let json = serde_json::json!({
            "type": "office365", "name": "n", "id": "7b2b1ae1", "frobnicate": {"x": 1},
            "exchangeOnlineSettings": {"account": "a@b", "somethingNew": true}
        });
        let body = read(&json).unwrap();
        assert_eq!(body.kind, OrganizationType::Office365);
        assert_eq!(
            body.exchange_online_settings.unwrap().account.as_deref(),
            Some("a@b")
        );
    }

    #[test]
    fn later_spelling_of_a_property_wins() {
        let body = parse_body(br#"{"type":"OnPremises","name":"a","NAME":"b"}"#).unwrap();
        assert_eq!(body.name.as_deref(), Some("b"));
        let body = parse_body(br#"{"type":"OnPremises","NAME":"b","name":"a"}"#).unwrap();
        assert_eq!(body.name.as_deref(), Some("a"));
    }

    #[test]
    fn errors_name_the_property_and_never_the_value() {
        let cases = [
            (
                serde_json::json!({"type": "Office365", "isExchangeOnline": "1"}),
                "Property 'isExchangeOnline' must be true or false.",
            ),
            (
                serde_json::json!({"type": "Exchange"}),
                "Property 'type' must be one of Office365, OnPremises, Hybrid.",
            ),
            (
                serde_json::json!({"type": "OnPremises", "sharePointSettings": {"serverPort": "hunter2"}}),
                "Property 'sharePointSettings.serverPort' must be a whole number from 1 to 65535.",
            ),
            (
                serde_json::json!({"type": "OnPremises", "exchangeSettings": {"password": 12345}}),
                "Property 'exchangeSettings.password' must be a string.",
            ),
            (
                serde_json::json!({"type": "OnPremises", "exchangeSettings": {"useSSL": null}}),
                "Property 'exchangeSettings.useSSL' must be true or false.",
            ),
            (
                serde_json::json!({"name": "x"}),
                "Property 'type' is required.",
            ),
            (
                serde_json::json!([1, 2]),
                "The request body must be an object.",
            ),
        ];
        for (json, message) in cases {
            assert_eq!(read(&json).unwrap_err().to_string(), message, "{json}");
        }
        assert_eq!(parse_body(b"{nope").unwrap_err(), BodyError::NotJson);
    }

    #[test]
    fn numeric_strings_are_integers_where_an_integer_is_expected() {
        let body = read(&serde_json::json!({
            "type": "OnPremises",
            "sharePointSettings": {"serverPort": "5985"}
        }))
        .unwrap();
        assert_eq!(body.share_point_settings.unwrap().server_port, 5985);
    }

    #[test]
    fn the_schema_was_understood() {
        let Shape::Object {
            properties,
            required,
        } = &BODY.root.shape
        else {
            panic!("the body is an object");
        };
        assert_eq!(required, &["type".to_owned()]);
        let names: Vec<&str> = properties.iter().map(|(name, _)| name.as_str()).collect();
        assert!(names.contains(&"isSharePointOnline"), "{names:?}");
        assert!(
            properties.iter().all(|(_, node)| node.shape != Shape::Any),
            "every property has a known shape: {properties:?}"
        );
    }

    static ORGANIZATION: LazyLock<Lenient> = LazyLock::new(Lenient::of::<Organization>);

    fn read_answer(value: &Value) -> Result<Organization, BodyError> {
        ORGANIZATION.read_response(Json::parse(value.to_string().as_bytes()).unwrap())
    }

    #[test]
    fn an_answer_must_hold_id_name_and_type() {
        let cases = [
            (serde_json::json!({"name": "a", "type": "Office365"}), "id"),
            (
                serde_json::json!({"id": null, "name": "a", "type": "Office365"}),
                "id",
            ),
            (
                serde_json::json!({"id": 7, "name": "a", "type": "Office365"}),
                "id",
            ),
            (serde_json::json!({"id": "1", "type": "Hybrid"}), "name"),
            (
                serde_json::json!({"id": "1", "name": {"x": 1}, "type": "Hybrid"}),
                "name",
            ),
            (serde_json::json!({"id": "1", "name": "a"}), "type"),
            (
                serde_json::json!({"id": "1", "name": "a", "type": "Exchange"}),
                "type",
            ),
            (
                serde_json::json!({"id": "1", "name": "a", "type": null}),
                "type",
            ),
        ];
        for (json, path) in cases {
            assert_eq!(
                read_answer(&json),
                Err(BodyError::Missing {
                    path: path.to_owned()
                }),
                "{json}"
            );
        }
        assert!(matches!(
            read_answer(&serde_json::json!([{"id": "1", "name": "a", "type": "Hybrid"}])),
            Err(BodyError::Invalid { .. })
        ));
    }

    #[test]
    fn an_answer_leaves_out_optional_values_that_are_null_unknown_or_of_the_wrong_kind() {
        let organization = read_answer(&serde_json::json!({
            "ID": "1",
            "name": "a",
            "type": "hybrid",
            "region": null,
            "description": 42,
            "isTeamsOnline": "maybe",
            "isTeamsChatsOnline": "TRUE",
            "isExchangeOnline": null,
            "isSharePointOnline": "False",
            "exchangeOnlineSettings": "not an object",
            "sharePointOnlineSettings": {"useMfa": 1, "account": "a@b", "unknown": {"x": []}},
            "isSharepoint": "true",
            "sharepointSettings": {
                "serverPort": 70000,
                "serverName": "sp",
                "useSSL": "yes",
                "skipCAverification": "False",
                "skipCommonnameverification": "TRUE"
            },
            "exchangeSettings": {"serverName": ["x"], "username": "u"},
            "msid": {"x": 1},
            "officeName": null,
            "frobnicate": [1, 2, {"deep": null}],
            "isBackedup": "1",
            "lastBackuptime": "2024-01-01T00:00:00Z",
            "_links": {"self": {"href": "/v8/Organizations/1"}},
            "_actions": null
        }))
        .unwrap();
        assert_eq!(organization.id, "1");
        assert_eq!(organization.name, "a");
        let state = &organization.state;
        assert_eq!(state.kind, OrganizationType::Hybrid);
        assert_eq!(state.region, None);
        assert_eq!(state.description, None);
        assert_eq!(state.is_teams_online, None);
        assert_eq!(state.is_teams_chats_online, Some(true));
        assert_eq!(state.is_exchange_online, None);
        assert_eq!(state.is_share_point_online, Some(false));
        assert_eq!(state.exchange_online_settings, None);
        let online = state.share_point_online_settings.as_ref().unwrap();
        assert_eq!(online.use_mfa, None);
        assert_eq!(online.account.as_deref(), Some("a@b"));
        assert_eq!(state.is_share_point, Some(true));
        let share_point = state.share_point_settings.as_ref().unwrap();
        assert_eq!(share_point.server_port, None);
        assert_eq!(share_point.server_name.as_deref(), Some("sp"));
        assert_eq!(share_point.use_ssl, None);
        assert_eq!(share_point.skip_ca_verification, Some(false));
        assert_eq!(share_point.skip_common_name_verification, Some(true));
        let exchange = state.exchange_settings.as_ref().unwrap();
        assert_eq!(exchange.server_name, None);
        assert_eq!(exchange.username.as_deref(), Some("u"));
        assert_eq!(state.office365_settings, None);
        assert_eq!(organization.msid, None);
        assert_eq!(organization.office_name, None);
        assert_eq!(organization.is_backed_up, None);
        assert_eq!(
            organization.last_backup_time.as_deref(),
            Some("2024-01-01T00:00:00Z")
        );
        assert_eq!(organization.first_backup_time, None);
        assert_eq!(
            organization.links.as_ref().map(|links| links.len()),
            Some(1)
        );
        assert_eq!(organization.actions, None);
    }

    #[test]
    fn links_and_actions_of_the_wrong_kind_are_left_out_too() {
        for odd in [
            serde_json::json!([]),
            serde_json::json!("self"),
            serde_json::json!(3),
            serde_json::json!(true),
        ] {
            let organization = read_answer(&serde_json::json!({
                "id": "1", "name": "a", "type": "OnPremises", "_links": odd, "_actions": odd
            }))
            .unwrap_or_else(|error| panic!("{odd}: {error}"));
            assert_eq!(organization.links, None, "{odd}");
            assert_eq!(organization.actions, None, "{odd}");
        }
    }

    #[test]
    fn what_a_dialect_writes_reads_back_as_the_canonical_body() {
        let body = full_body();
        let canonical = serde_json::to_value(&body).unwrap();
        for version in crate::RestApiVersion::NEWEST_FIRST {
            let dialect = version.dialect();
            let mut wire = canonical.clone();
            dialect.to_wire(&mut wire);
            // The wire form is not the canonical one: the round trip has something to undo.
            assert_ne!(wire, canonical, "{version}");
            if version == crate::RestApiVersion::V3 {
                assert_eq!(wire["region"], "USgovDefence");
                assert_eq!(wire["office365Settings"]["region"], "USgovCommunity");
                assert_eq!(wire["isSharePoint"], true);
            } else {
                assert_eq!(wire["region"], "USDefence");
                assert_eq!(wire["isSharepoint"], true);
                assert_eq!(
                    wire["sharepointSettings"]["grantAccesstositecollections"],
                    true
                );
                assert_eq!(wire["exchangeSettings"]["configureThrottlingpolicy"], true);
                assert!(wire.get("isSharePoint").is_none());
            }
            assert_eq!(read(&wire).unwrap(), body, "{version}: request");

            let organization = Organization {
                id: "1".into(),
                name: "contoso".into(),
                state: body.state(),
                msid: Some("d3a2f0aa-1b2c-4d5e-8f90-0a1b2c3d4e5f".into()),
                office_name: Some("contoso".into()),
                backed_up_organization_id: None,
                username: Some("u@contoso.com".into()),
                is_backed_up: Some(false),
                first_backup_time: None,
                last_backup_time: None,
                links: None,
                actions: None,
            };
            let mut answer = serde_json::to_value(&organization).unwrap();
            dialect.to_wire(&mut answer);
            let json = Json::parse(answer.to_string().as_bytes()).unwrap();
            assert_eq!(
                ORGANIZATION
                    .read_response::<Organization>(json.clone())
                    .unwrap(),
                organization,
                "{version}: response"
            );
        }
    }
}
