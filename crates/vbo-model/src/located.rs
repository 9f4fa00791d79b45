//! YAML read into a tree that remembers where every key and value was written.
//!
//! Each document becomes a [`Node`] tree whose every key and value carries its location. The
//! tree then becomes a [`serde_json::Value`] (what the schema and the typed model read) plus an
//! index from JSON Pointer to [`Place`], so that any problem found in the JSON can be reported
//! at the line and column the user wrote it.
//!
//! serde-saphyr is the reference reading. Plain manifests (no anchor, alias, tag, number, null
//! or merge key) are read straight from the events of its parser, granit-parser, with the
//! locations serde-saphyr would give: the same tree at less than half the cost
//! ([`events::documents`]). Anything else, syntax errors included, is read by serde-saphyr.
//!
//! Duplicate keys reach the tree (the parser passes them through) so that each one is reported
//! with both of its locations, rather than the parser stopping at the first.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::{DuplicateKeyPolicy, Location, Spanned};

mod events;

/// A YAML value, with the location of every nested key and value.
#[derive(Debug, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<At<Node>>),
    Map(Vec<(At<String>, At<Node>)>),
}

/// A value and where it was written.
#[derive(Debug, PartialEq)]
pub(crate) struct At<T> {
    pub(crate) value: T,
    pub(crate) span: Span,
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

/// Read by serde-saphyr as a [`Spanned`] value, which carries its location.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for At<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<T>::deserialize(deserializer)?;
        Ok(At {
            span: Span::of(&spanned.referenced),
            value: spanned.value,
        })
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_bool<E>(self, value: bool) -> Result<Node, E> {
        Ok(Node::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Node, E> {
        Ok(Node::Int(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Node, E> {
        Ok(Node::UInt(value))
    }

    fn visit_i128<E>(self, value: i128) -> Result<Node, E> {
        // Beyond 64 bits no manifest field can hold it anyway: keep its magnitude.
        Ok(Node::Float(value as f64))
    }

    fn visit_u128<E>(self, value: u128) -> Result<Node, E> {
        Ok(Node::Float(value as f64))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Node, E> {
        Ok(Node::Float(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Node, E> {
        Ok(Node::Str(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Node, E> {
        Ok(Node::Str(value))
    }

    fn visit_bytes<E>(self, value: &[u8]) -> Result<Node, E> {
        Ok(Node::Str(String::from_utf8_lossy(value).into_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key()? {
            let value = map.next_value()?;
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}

/// A 1-based line and column, as editors count them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Pos {
    pub(crate) line: u64,
    pub(crate) column: u64,
}

/// Where something was written: its start and, when known, its byte range in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) pos: Pos,
    pub(crate) bytes: Option<Range<usize>>,
}

impl Span {
    fn of(location: &Location) -> Self {
        let span = location.span();
        let bytes = match (span.byte_offset(), span.byte_len()) {
            (Some(start), Some(len)) => usize::try_from(start)
                .ok()
                .zip(usize::try_from(len).ok())
                .map(|(start, len)| start..start + len),
            _ => None,
        };
        Span {
            pos: Pos {
                line: location.line(),
                column: location.column(),
            },
            bytes,
        }
    }
}

/// Where a JSON value came from: the key that names it (absent for the document itself) and the
/// value.
#[derive(Clone, Debug)]
pub(crate) struct Place {
    pub(crate) key: Option<Span>,
    pub(crate) value: Span,
}

impl Place {
    /// The key when there is one (a missing property is best shown at its parent's key),
    /// otherwise the value.
    pub(crate) fn key_or_value(&self) -> &Span {
        self.key.as_ref().unwrap_or(&self.value)
    }
}

/// A key written twice in one mapping.
#[derive(Clone, Debug)]
pub(crate) struct DuplicateKey {
    pub(crate) key: String,
    pub(crate) first: Pos,
    pub(crate) again: Span,
}

/// One YAML document as JSON, with the locations of its parts.
#[derive(Debug)]
pub(crate) struct Document {
    /// The document as JSON (the first of duplicate keys wins).
    pub(crate) value: Value,
    /// Location of every value by JSON Pointer (`""` is the document, `/spec/type` its type).
    pub(crate) places: BTreeMap<String, Place>,
    /// Keys repeated in the same mapping.
    pub(crate) duplicates: Vec<DuplicateKey>,
    /// Location of the document itself (also `places[""]`).
    pub(crate) root: Place,
}

impl Document {
    /// The place of the value at `pointer`, or of its nearest ancestor that exists.
    pub(crate) fn place(&self, pointer: &str) -> &Place {
        let mut pointer = pointer;
        loop {
            if let Some(place) = self.places.get(pointer) {
                return place;
            }
            match pointer.rfind('/') {
                Some(cut) => pointer = &pointer[..cut],
                None => break,
            }
        }
        &self.root
    }
}

/// A YAML syntax error, or a construct vboctl does not read (an unknown tag, a complex key).
#[derive(Clone, Debug)]
pub(crate) struct SyntaxError {
    pub(crate) pos: Option<Pos>,
    pub(crate) message: String,
}

/// Whether `text` (a key, or a line of YAML) names something that holds a secret: `password`,
/// `applicationSecret`, a token, and misspellings of them (`Pasword`, `applicationSecert`), so
/// that a value under a misspelt key is hidden too.
pub(crate) fn is_secret_key(text: &str) -> bool {
    /// Answers for the short texts seen so far: a manifest repeats the same few keys, and the
    /// fuzzy comparison is by far the dearest step of reading one.
    const REMEMBERED: usize = 4096;
    thread_local! {
        static SEEN: std::cell::RefCell<std::collections::HashMap<String, bool>> =
            std::cell::RefCell::default();
    }
    if let Some(known) = SEEN.with_borrow(|seen| seen.get(text).copied()) {
        return known;
    }
    let answer = looks_like_a_secret(text);
    if text.len() <= 64 {
        SEEN.with_borrow_mut(|seen| {
            if seen.len() < REMEMBERED {
                seen.insert(text.to_owned(), answer);
            }
        });
    }
    answer
}

/// [`is_secret_key`], computed: some part of `text` is within a small edit distance of a
/// secret-like word.
fn looks_like_a_secret(text: &str) -> bool {
    let text: Vec<char> = text.to_lowercase().chars().collect();
    let near = |word: &str, allowed: usize| {
        let word: Vec<char> = word.chars().collect();
        let shortest = word.len() - allowed;
        (0..text.len()).any(|start| {
            (shortest..=word.len() + allowed).any(|len| {
                text.get(start..start + len)
                    .is_some_and(|part| strsim::generic_damerau_levenshtein(part, &word) <= allowed)
            })
        })
    };
    near("password", 2) || near("secret", 1) || near("token", 1) || near("pwd", 0)
}

/// Parses every document of a YAML file.
///
/// Also returns the byte ranges of scalar values written under secret-like keys, which must be
/// hidden wherever source text is shown.
pub(crate) fn parse(text: &str) -> Result<(Vec<Document>, Vec<Range<usize>>), SyntaxError> {
    let roots = match events::documents(text) {
        Some(roots) => roots,
        None => parse_with_serde_saphyr(text)?,
    };
    let mut masks = Vec::new();
    let documents = roots
        .into_iter()
        .map(|root| {
            let mut builder = Builder {
                places: BTreeMap::new(),
                duplicates: Vec::new(),
                masks: &mut masks,
            };
            let root_span = root.span.clone();
            let value = builder.convert(root, String::new(), None, false);
            Document {
                value,
                root: Place {
                    key: None,
                    value: root_span,
                },
                places: builder.places,
                duplicates: builder.duplicates,
            }
        })
        .collect();
    Ok((documents, masks))
}

/// Every document of `text` as serde-saphyr reads it: what [`events::documents`] gives for the
/// plain manifests it reads itself, and for everything else (anchors, tags, numbers, syntax
/// errors) the reference.
fn parse_with_serde_saphyr(text: &str) -> Result<Vec<At<Node>>, SyntaxError> {
    let mut options = serde_saphyr::Options::default();
    options.duplicate_keys = DuplicateKeyPolicy::PassThrough;
    options.strict_booleans = true;
    options.reject_unsupported_tags = true;
    options.null_as_string = true;
    serde_saphyr::from_multiple_with_options::<At<Node>>(text, options).map_err(|error| {
        SyntaxError {
            pos: error.location().map(|location| Pos {
                line: location.line(),
                column: location.column(),
            }),
            message: plain_message(&error),
        }
    })
}

/// The parser's message without the ` at line N, column M` it appends: the diagnostic carries
/// the location itself.
fn plain_message(error: &serde_saphyr::Error) -> String {
    let options = serde_saphyr::render_options! { snippets: serde_saphyr::SnippetMode::Off };
    let rendered = error.render_with_options(options);
    let message = match rendered.rfind(" at line ") {
        Some(cut) if rendered[cut..].contains(", column ") => &rendered[..cut],
        _ => rendered.as_str(),
    };
    message.trim().to_owned()
}

struct Builder<'a> {
    places: BTreeMap<String, Place>,
    duplicates: Vec<DuplicateKey>,
    masks: &'a mut Vec<Range<usize>>,
}

impl Builder<'_> {
    /// Turns `node` into JSON, recording where it and everything in it were written. The
    /// tree is consumed: its strings move into the JSON rather than being copied.
    fn convert(
        &mut self,
        node: At<Node>,
        pointer: String,
        key: Option<Span>,
        secret: bool,
    ) -> Value {
        let value_span = node.span;
        let scalar = !matches!(node.value, Node::Seq(_) | Node::Map(_));
        let value = match node.value {
            Node::Null => Value::Null,
            Node::Bool(value) => Value::Bool(value),
            Node::Int(value) => Value::from(value),
            Node::UInt(value) => Value::from(value),
            Node::Float(value) => serde_json::Number::from_f64(value)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            Node::Str(value) => Value::String(value),
            Node::Seq(items) => Value::Array(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(index, item)| {
                        self.convert(item, format!("{pointer}/{index}"), None, secret)
                    })
                    .collect(),
            ),
            Node::Map(entries) => {
                let mut object = serde_json::Map::new();
                for (name, value) in entries {
                    let key_span = name.span;
                    let child_pointer = format!("{pointer}/{}", escape(&name.value));
                    if object.contains_key(&name.value) {
                        // The first one's place was recorded when it was converted.
                        let first = self
                            .places
                            .get(&child_pointer)
                            .and_then(|place| place.key.as_ref())
                            .map_or(key_span.pos, |key| key.pos);
                        self.duplicates.push(DuplicateKey {
                            key: name.value,
                            first,
                            again: key_span,
                        });
                        continue;
                    }
                    // A reference (`fromEnv: VAR`) names where a secret is, not the secret.
                    let reference = matches!(name.value.as_str(), "fromEnv" | "fromFile");
                    let child_secret = (secret || is_secret_key(&name.value)) && !reference;
                    let child = self.convert(value, child_pointer, Some(key_span), child_secret);
                    object.insert(name.value, child);
                }
                Value::Object(object)
            }
        };
        if secret
            && scalar
            && let Some(bytes) = &value_span.bytes
        {
            self.masks.push(bytes.clone());
        }
        self.places.insert(
            pointer,
            Place {
                key,
                value: value_span,
            },
        );
        value
    }
}

/// Escapes one JSON Pointer segment (RFC 6901).
pub(crate) fn escape(segment: &str) -> std::borrow::Cow<'_, str> {
    if segment.contains(['~', '/']) {
        segment.replace('~', "~0").replace('/', "~1").into()
    } else {
        segment.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Document {
        let (mut documents, _) = parse(text).unwrap();
        assert_eq!(documents.len(), 1);
        documents.remove(0)
    }

    #[test]
    fn keys_and_values_have_their_own_locations() {
        let document = one("a:\n  - x\n  - {b: 1}\nc: true\n");
        let place = |pointer: &str| {
            let place = &document.places[pointer];
            (
                place.key.as_ref().map(|key| (key.pos.line, key.pos.column)),
                (place.value.pos.line, place.value.pos.column),
            )
        };
        assert_eq!(place("/a/1/b"), (Some((3, 6)), (3, 9)));
        assert_eq!(place("/a/0"), (None, (2, 5)));
        assert_eq!(place("/c"), (Some((4, 1)), (4, 4)));
        assert_eq!(document.value["a"][1]["b"], 1);
    }

    #[test]
    fn duplicate_keys_are_kept_with_both_locations() {
        let document = one("a: 1\nb: 2\na: 3\n");
        assert_eq!(document.value["a"], 1);
        let duplicate = &document.duplicates[0];
        assert_eq!(duplicate.key, "a");
        assert_eq!((duplicate.first.line, duplicate.first.column), (1, 1));
        assert_eq!(
            (duplicate.again.pos.line, duplicate.again.pos.column),
            (3, 1)
        );
    }

    #[test]
    fn yes_and_no_stay_strings() {
        assert_eq!(one("a: yes\n").value["a"], "yes");
        assert_eq!(one("a: True\n").value["a"], true);
    }

    #[test]
    fn secret_values_are_masked_but_references_are_not() {
        let text = "password: hunter2\nother: {Password: 'x y'}\nkey: {fromEnv: VAR}\n";
        let (_, masks) = parse(text).unwrap();
        let hidden: Vec<&str> = masks.iter().map(|range| &text[range.clone()]).collect();
        assert_eq!(hidden, ["hunter2", "'x y'"]);
    }

    #[test]
    fn secret_keys_include_their_misspellings() {
        for key in [
            "password",
            "Password",
            "pasword",
            "passwd",
            "applicationSecert",
            "pwd",
            "refresh_token",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in [
            "account",
            "serverName",
            "username",
            "applicationId",
            "fromEnv",
        ] {
            assert!(!is_secret_key(key), "{key}");
        }
    }

    /// Every YAML file of the repository (examples, test manifests, CI and deployment files).
    fn repository_yaml() -> Vec<(std::path::PathBuf, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        walkdir::WalkDir::new(&root)
            .into_iter()
            .filter_entry(|entry| {
                let name = entry.file_name().to_string_lossy();
                !(name.starts_with('.') && entry.depth() > 0
                    || name == "target"
                    || name == "node_modules")
            })
            .filter_map(Result::ok)
            .filter(|entry| {
                let name = entry.file_name().to_string_lossy();
                name.ends_with(".yaml") || name.ends_with(".yml")
            })
            .filter_map(|entry| {
                let text = std::fs::read_to_string(entry.path()).ok()?;
                Some((entry.path().to_path_buf(), text))
            })
            .collect()
    }

    /// Texts that exercise what the event reading takes, and what it must leave to
    /// serde-saphyr.
    const TRICKY: &[&str] = &[
        "a: 'single ''quoted'''\nb: \"double \\u00e9 \\n\"\nc: plain words here\n",
        "a: |\n  literal\n  block\nb: >-\n  folded\n  block\n",
        "a: {b: c, d: [e, f, {g: h}]}\n",
        "- a\n- b: c\n  d: e\n- [x, y]\n",
        "---\na: b\n---\nc: d\n...\n",
        "# comment\na: b # trailing\n# end\n",
        "a: b\na: c\n",
        "a: True\nb: FALSE\nc: yes\nd: on\n",
        "ключ: значение\nemoji: \"😀\"\n",
        "a: b\r\nc: d\r\n",
        "a: 1\nb: -2\nc: 3.5\nd: .inf\ne: 0x1F\n",
        "a: ~\nb: null\nc:\nd: NULL\n",
        "a: &x b\nc: *x\n",
        "base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n",
        "a: !vault secret\n",
        "? [complex]\n: key\n",
        "",
        "---\n---\na: b\n",
        "a: [1, 2\n",
        "a: inf\nb: NaN\nc: infinity\nd: Infinite\n",
        "'quoted key': v\n\"null\": v\n",
        "a:\n  - b:\n      c: d\n",
        "a: b\n  c: d\n",
        "key with spaces: value with: colon\n",
        "\u{feff}a: b\n",
        "a:   spaced   \nb: \"\"\nc: ''\n",
        "a:\n  password: hunter2\n  other: {Password: 'x y'}\n",
        "id: 2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901\nmsid: 12345678-1234-1234-1234-123456789012\n",
        "id: 12345678-1234-1234-1234-1234567890123\nb: 1e-5\n",
    ];

    #[test]
    fn the_event_reading_gives_what_serde_saphyr_gives() {
        let mut texts: Vec<(String, String)> = repository_yaml()
            .into_iter()
            .map(|(path, text)| (path.display().to_string(), text))
            .collect();
        assert!(texts.len() > 20, "{} YAML files found", texts.len());
        texts.extend(
            TRICKY
                .iter()
                .map(|text| (format!("{text:?}"), (*text).to_owned())),
        );
        let mut read_by_events = 0;
        for (name, text) in &texts {
            if let Some(fast) = events::documents(text) {
                read_by_events += 1;
                let reference = parse_with_serde_saphyr(text).unwrap_or_else(|error| {
                    panic!("{name}: events read it, serde-saphyr: {error:?}")
                });
                assert_eq!(fast, reference, "{name}");
            }
        }
        // Most manifests are plain: the event reading must actually be used.
        assert!(
            read_by_events * 2 > texts.len(),
            "{read_by_events} of {}",
            texts.len()
        );
    }

    #[test]
    fn what_the_event_reading_leaves_to_serde_saphyr() {
        for text in [
            "a: 1\n",
            "a: -1\n",
            "a: .5\n",
            "a: ~\n",
            "a: null\n",
            "a:\n",
            "a: &x b\n",
            "a: *x\n",
            "a: !tag b\n",
            "<<: {a: b}\n",
            "? [a]\n: b\n",
            "a: inf\n",
            "a: NaN\n",
            "a: [1, 2\n",
        ] {
            assert!(events::documents(text).is_none(), "{text:?}");
        }
        assert!(events::documents("a: b\nc: [d, 'e']\nf: true\n").is_some());
        assert!(events::documents("id: 12345678-1234-1234-1234-123456789012\n").is_some());
        assert!(events::documents("id: 12345678-1234-1234-1234-12345678901\n").is_none());
    }

    proptest::proptest! {
        /// Mappings and sequences of arbitrary scalars, written plainly, quoted or in flow:
        /// whatever the event reading takes, it reads as serde-saphyr does.
        #[test]
        fn arbitrary_documents_read_the_same_both_ways(
            lines in proptest::collection::vec(
                (
                    "[a-zA-Z][a-zA-Z0-9_]{0,6}",
                    0usize..4,
                    "[a-zA-Z0-9 :#'\"_.~!&*+,\\[\\]{}-]{0,10}",
                ),
                1..8,
            )
        ) {
            let mut text = String::new();
            for (key, form, value) in &lines {
                let line = match form {
                    0 => format!("{key}: {value}\n"),
                    1 => format!("{key}: '{}'\n", value.replace('\'', "''")),
                    2 => format!("{key}: [{value}, x]\n"),
                    _ => format!("{key}:\n  - {value}\n  - {{k: {value}}}\n"),
                };
                text.push_str(&line);
            }
            if let Some(fast) = events::documents(&text) {
                let reference = parse_with_serde_saphyr(&text);
                proptest::prop_assert!(reference.is_ok(), "{text:?}: {reference:?}");
                proptest::prop_assert_eq!(fast, reference.unwrap(), "{:?}", text);
            }
        }
    }

    proptest::proptest! {
        /// GUIDs, which the event reading takes although they start with a digit.
        #[test]
        fn guids_read_the_same_both_ways(
            guid in "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        ) {
            let text = format!("applicationId: {guid}\nlist: [{guid}]\n");
            let fast = events::documents(&text);
            proptest::prop_assert!(fast.is_some());
            proptest::prop_assert_eq!(fast.unwrap(), parse_with_serde_saphyr(&text).unwrap());
        }
    }

    #[test]
    fn syntax_errors_carry_a_location_and_no_suffix() {
        let error = parse("a: [1, 2\n").unwrap_err();
        assert!(error.pos.is_some());
        assert!(!error.message.contains(" at line "), "{}", error.message);
    }
}
