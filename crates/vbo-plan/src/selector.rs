//! Label selectors (`vboctl plan --selector 'tier=gold,region in (emea,apac)'`): which manifests
//! a narrowed run plans, by their `metadata.labels`.
//!
//! The syntax is kubectl's: requirements separated by commas, all of which must hold.
//!
//! | requirement | matches a manifest whose labels |
//! | --- | --- |
//! | `key=value` (or `key==value`) | have `key` set to `value` |
//! | `key!=value` | do not have `key` set to `value` (including not having `key`) |
//! | `key in (a,b)` | have `key` set to `a` or `b` |
//! | `key notin (a,b)` | do not have `key` set to `a` nor `b` (including not having `key`) |
//! | `key` | have `key`, whatever its value |
//! | `!key` | do not have `key` |
//!
//! Keys and values are made of letters, digits and `-`, `_`, `.`, `/`, `:`, `@`, `+`; a value
//! may be empty (`key=`). Spaces around operators, commas and parentheses are ignored.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A parsed label selector: every requirement must hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

/// One condition of a [`Selector`] on a manifest's labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// `key=value`: the label is set to the value.
    Equals {
        /// The label's key.
        key: String,
        /// The value it must have.
        value: String,
    },
    /// `key!=value`: the label is missing or set to another value.
    NotEquals {
        /// The label's key.
        key: String,
        /// The value it must not have.
        value: String,
    },
    /// `key in (a,b)`: the label is set to one of the values.
    In {
        /// The label's key.
        key: String,
        /// The values it may have.
        values: Vec<String>,
    },
    /// `key notin (a,b)`: the label is missing or set to none of the values.
    NotIn {
        /// The label's key.
        key: String,
        /// The values it must not have.
        values: Vec<String>,
    },
    /// `key`: the label is set, to anything.
    Exists {
        /// The label's key.
        key: String,
    },
    /// `!key`: the label is not set.
    DoesNotExist {
        /// The label's key.
        key: String,
    },
}

/// Why a selector could not be read. Each names the part at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// Nothing to select by.
    #[error("the selector is empty")]
    Empty,
    /// A requirement between commas is empty.
    #[error("empty requirement at character {position} (two commas in a row, or a trailing comma)")]
    EmptyRequirement {
        /// 1-based position in the selector.
        position: usize,
    },
    /// A requirement that is none of the forms a selector takes.
    #[error(
        "cannot read {part:?}: expected key=value, key!=value, key in (a,b), key notin (a,b), key or !key"
    )]
    Malformed {
        /// The requirement, as written.
        part: String,
    },
    /// A key or value with a character a selector does not take.
    #[error("{what} {text:?} in {part:?} is not valid: use letters, digits and - _ . / : @ + only")]
    BadCharacters {
        /// `key` or `value`.
        what: &'static str,
        /// The key or value.
        text: String,
        /// The requirement it is in.
        part: String,
    },
    /// `in (` or `notin (` without its closing parenthesis.
    #[error("unclosed parenthesis in {part:?}")]
    Unclosed {
        /// The selector from the opening parenthesis on.
        part: String,
    },
    /// `key in ()`.
    #[error("{part:?} lists no value: write at least one between the parentheses")]
    EmptySet {
        /// The requirement, as written.
        part: String,
    },
}

impl Selector {
    /// Reads a selector; see the [module](self) for the syntax.
    pub fn parse(text: &str) -> Result<Self, SelectorError> {
        if text.trim().is_empty() {
            return Err(SelectorError::Empty);
        }
        let requirements = split_requirements(text)?
            .into_iter()
            .map(parse_requirement)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Selector { requirements })
    }

    /// The requirements, in the order written.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Whether `labels` satisfy every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }
}

impl Requirement {
    /// Whether `labels` satisfy this requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Requirement::Equals { key, value } => labels.get(key) == Some(value),
            Requirement::NotEquals { key, value } => labels.get(key) != Some(value),
            Requirement::In { key, values } => labels.get(key).is_some_and(|v| values.contains(v)),
            Requirement::NotIn { key, values } => {
                labels.get(key).is_none_or(|v| !values.contains(v))
            }
            Requirement::Exists { key } => labels.contains_key(key),
            Requirement::DoesNotExist { key } => !labels.contains_key(key),
        }
    }
}

impl FromStr for Selector {
    type Err = SelectorError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Selector::parse(text)
    }
}

/// The selector in its canonical form: `tier=gold,region in (apac,emea),!legacy`.
impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, requirement) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{requirement}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Requirement::Equals { key, value } => write!(f, "{key}={value}"),
            Requirement::NotEquals { key, value } => write!(f, "{key}!={value}"),
            Requirement::In { key, values } => write!(f, "{key} in ({})", values.join(",")),
            Requirement::NotIn { key, values } => write!(f, "{key} notin ({})", values.join(",")),
            Requirement::Exists { key } => f.write_str(key),
            Requirement::DoesNotExist { key } => write!(f, "!{key}"),
        }
    }
}

/// The requirements between top-level commas (commas inside parentheses belong to a set),
/// trimmed, each with its 1-based character position.
fn split_requirements(text: &str) -> Result<Vec<&str>, SelectorError> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut open: Option<usize> = None;
    for (at, c) in text.char_indices() {
        match c {
            '(' if open.is_none() => open = Some(at),
            ')' => open = None,
            ',' if open.is_none() => {
                parts.push((start, &text[start..at]));
                start = at + 1;
            }
            _ => {}
        }
    }
    if let Some(at) = open {
        return Err(SelectorError::Unclosed {
            part: text[at..].to_owned(),
        });
    }
    parts.push((start, &text[start..]));
    parts
        .into_iter()
        .map(|(start, part)| {
            let position = text[..start].chars().count() + 1;
            match part.trim() {
                "" => Err(SelectorError::EmptyRequirement { position }),
                trimmed => Ok(trimmed),
            }
        })
        .collect()
}

fn parse_requirement(part: &str) -> Result<Requirement, SelectorError> {
    let malformed = || SelectorError::Malformed {
        part: part.to_owned(),
    };
    let key = |text: &str| checked("key", text.trim(), part, false);
    let value = |text: &str| checked("value", text.trim(), part, true);

    if let Some(rest) = part.strip_prefix('!')
        && !rest.contains(['=', '(', ')', '!'])
    {
        return Ok(Requirement::DoesNotExist { key: key(rest)? });
    }
    if let Some((k, v)) = part.split_once("!=") {
        return Ok(Requirement::NotEquals {
            key: key(k)?,
            value: value(v)?,
        });
    }
    if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
        return Ok(Requirement::Equals {
            key: key(k)?,
            value: value(v)?,
        });
    }
    if part.contains('(') {
        let (head, set) = part.split_once('(').ok_or_else(malformed)?;
        let set = set.strip_suffix(')').ok_or_else(malformed)?;
        let mut words = head.split_whitespace();
        let (Some(k), Some(operator), None) = (words.next(), words.next(), words.next()) else {
            return Err(malformed());
        };
        let values = set.split(',').map(value).collect::<Result<Vec<_>, _>>()?;
        if values.iter().all(String::is_empty) {
            return Err(SelectorError::EmptySet {
                part: part.to_owned(),
            });
        }
        if values.iter().any(String::is_empty) {
            return Err(malformed());
        }
        return match operator {
            "in" => Ok(Requirement::In {
                key: key(k)?,
                values,
            }),
            "notin" => Ok(Requirement::NotIn {
                key: key(k)?,
                values,
            }),
            _ => Err(malformed()),
        };
    }
    if part.split_whitespace().count() == 1 && !part.contains([')', '!']) {
        return Ok(Requirement::Exists { key: key(part)? });
    }
    Err(malformed())
}

/// `text` when every character is one a key or value may have (and a key is not empty).
fn checked(
    what: &'static str,
    text: &str,
    part: &str,
    may_be_empty: bool,
) -> Result<String, SelectorError> {
    let allowed = |c: char| c.is_alphanumeric() || "-_./:@+".contains(c);
    if (text.is_empty() && !may_be_empty) || !text.chars().all(allowed) {
        return Err(SelectorError::BadCharacters {
            what,
            text: text.to_owned(),
            part: part.to_owned(),
        });
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn parses_every_form_to_its_canonical_text() {
        let cases = [
            ("tier=gold", "tier=gold"),
            ("tier==gold", "tier=gold"),
            (" tier = gold ", "tier=gold"),
            ("tier!=gold", "tier!=gold"),
            ("tier=", "tier="),
            ("region in (emea, apac)", "region in (emea,apac)"),
            ("region notin (emea)", "region notin (emea)"),
            ("legacy", "legacy"),
            ("!legacy", "!legacy"),
            ("! legacy", "!legacy"),
            (
                "tier=gold,region in (emea,apac),!legacy,owner",
                "tier=gold,region in (emea,apac),!legacy,owner",
            ),
            ("example.com/team=ops", "example.com/team=ops"),
        ];
        for (text, canonical) in cases {
            let selector = Selector::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(selector.to_string(), canonical, "{text:?}");
            assert_eq!(
                Selector::parse(canonical).as_ref(),
                Ok(&selector),
                "{canonical:?} reads back"
            );
        }
    }

    #[test]
    fn refuses_malformed_selectors_naming_the_bad_part() {
        let cases: &[(&str, &str)] = &[
            ("", "the selector is empty"),
            ("   ", "the selector is empty"),
            ("tier=gold,", "empty requirement at character 11"),
            ("tier=gold,,a=b", "empty requirement at character 11"),
            ("tier in (gold", "unclosed parenthesis in \"(gold\""),
            ("tier in ()", "\"tier in ()\" lists no value"),
            ("tier in (a,,b)", "cannot read \"tier in (a,,b)\""),
            ("tier within (a)", "cannot read \"tier within (a)\""),
            ("tier gold", "cannot read \"tier gold\""),
            ("tier>3", "key \"tier>3\" in \"tier>3\" is not valid"),
            ("=gold", "key \"\" in \"=gold\" is not valid"),
            (
                "tier=go ld",
                "value \"go ld\" in \"tier=go ld\" is not valid",
            ),
            ("a=b,c d=e", "key \"c d\" in \"c d=e\" is not valid"),
            ("!", "key \"\" in \"!\" is not valid"),
            ("in (a)", "cannot read \"in (a)\""),
        ];
        for (text, expected) in cases {
            let error = Selector::parse(text).expect_err(text).to_string();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }

    #[test]
    fn matches_labels_as_kubectl_does() {
        let gold_emea = labels(&[("tier", "gold"), ("region", "emea")]);
        let silver = labels(&[("tier", "silver")]);
        let none = labels(&[]);
        // (selector, gold_emea, silver, none)
        let cases = [
            ("tier=gold", true, false, false),
            ("tier!=gold", false, true, true),
            ("tier in (gold,silver)", true, true, false),
            ("tier notin (gold)", false, true, true),
            ("region", true, false, false),
            ("!region", false, true, true),
            ("tier=gold,region=emea", true, false, false),
            ("tier=gold,region=apac", false, false, false),
            ("tier,!region", false, true, false),
            ("tier=", false, false, false),
        ];
        for (text, a, b, c) in cases {
            let selector = Selector::parse(text).expect(text);
            assert_eq!(
                [
                    selector.matches(&gold_emea),
                    selector.matches(&silver),
                    selector.matches(&none)
                ],
                [a, b, c],
                "{text:?}"
            );
        }
    }
}
