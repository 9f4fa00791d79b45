//! Plain manifests read straight from the YAML parser's events.
//!
//! serde-saphyr reads YAML through granit-parser's events, then through serde. For the
//! documents manifests are made of (mappings, sequences, strings and booleans), building the
//! located tree from the events directly gives the same tree for less than half the work. Only
//! what is certain to read the same is read here: anything else (an anchor, an alias, a tag, a
//! merge key, a number, a null, a complex key, a document that is empty, a syntax error, a very
//! large or deep file) makes [`documents`] answer `None`, and serde-saphyr reads the file.

use granit_parser::{Event, Options, Parser, ScalarStyle};

use super::{At, Node, Pos, Span};

/// Larger files are left to serde-saphyr, whose budgets (nodes, depth, documents) must apply.
const MAX_BYTES: usize = 256 * 1024;

/// Deeper nesting is left to serde-saphyr, whose limit is 64.
const MAX_DEPTH: usize = 32;

/// More documents in one file are left to serde-saphyr, whose limit is 1,024.
const MAX_DOCUMENTS: usize = 512;

/// Every document of `text` as serde-saphyr would read it with vboctl's options, or `None`
/// when the text holds anything this reading does not handle.
pub(super) fn documents(text: &str) -> Option<Vec<At<Node>>> {
    if text.len() > MAX_BYTES {
        return None;
    }
    let mut options = Options::default();
    options.emit_comments = false;
    options.emit_anchor_events = false;
    let parser = Parser::with_options(granit_parser::StrInput::new(text), options);
    let mut roots = Vec::new();
    let mut open: Vec<Collection> = Vec::new();
    for item in parser {
        let (event, span) = item.ok()?;
        let span = location(&span);
        let node = match event {
            Event::StreamStart | Event::DocumentStart(..) | Event::DocumentEnd => continue,
            Event::StreamEnd => break,
            Event::Scalar(text, style, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return None;
                }
                if let Some(Collection::Map {
                    key: key @ None, ..
                }) = open.last_mut()
                {
                    *key = Some(At {
                        value: key_text(&text, style)?,
                        span,
                    });
                    continue;
                }
                At {
                    value: scalar(text.into_owned(), style)?,
                    span,
                }
            }
            Event::SequenceStart(_, anchor, ref tag) | Event::MappingStart(_, anchor, ref tag) => {
                let awaiting_key = matches!(open.last(), Some(Collection::Map { key: None, .. }));
                if anchor != 0 || tag.is_some() || awaiting_key || open.len() >= MAX_DEPTH {
                    return None;
                }
                open.push(if matches!(event, Event::SequenceStart(..)) {
                    Collection::Seq {
                        span,
                        items: Vec::new(),
                    }
                } else {
                    Collection::Map {
                        span,
                        entries: Vec::new(),
                        key: None,
                    }
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match open.pop()? {
                Collection::Seq { span, items } => At {
                    value: Node::Seq(items),
                    span,
                },
                Collection::Map {
                    span,
                    entries,
                    key: None,
                } => At {
                    value: Node::Map(entries),
                    span,
                },
                Collection::Map { key: Some(_), .. } => return None,
            },
            // Aliases, anchors' own events, and anything a later parser adds.
            _ => return None,
        };
        match open.last_mut() {
            None => {
                // A document whose root is null is skipped by serde-saphyr; left to it.
                if roots.len() >= MAX_DOCUMENTS || node.value == Node::Null {
                    return None;
                }
                roots.push(node);
            }
            Some(Collection::Seq { items, .. }) => items.push(node),
            Some(Collection::Map { entries, key, .. }) => entries.push((key.take()?, node)),
        }
    }
    open.is_empty().then_some(roots)
}

/// A sequence or mapping whose end has not been read yet.
enum Collection {
    Seq {
        span: Span,
        items: Vec<At<Node>>,
    },
    Map {
        span: Span,
        entries: Vec<(At<String>, At<Node>)>,
        /// The key read, until its value is.
        key: Option<At<String>>,
    },
}

/// Where an event is, as serde-saphyr's `Location` gives it: the line, the column counted from
/// 1, and the bytes the event covers.
fn location(span: &granit_parser::Span) -> Span {
    let (start, end) = (&span.start, &span.end);
    Span {
        pos: Pos {
            line: start.line() as u64,
            column: start.col() as u64 + 1,
        },
        bytes: start
            .byte_offset()
            .zip(end.byte_offset())
            .map(|(first, last)| first..first + last.saturating_sub(first)),
    }
}

/// A key as serde-saphyr reads a `String`: its text, unless a plain key could mean something
/// else (a null, a number, a merge key).
fn key_text(text: &str, style: ScalarStyle) -> Option<String> {
    if style == ScalarStyle::Plain && !plainly_text(text) {
        return None;
    }
    Some(text.to_owned())
}

/// A value as serde-saphyr reads it with strict (YAML 1.2) booleans: quoted and block scalars
/// are strings; a plain one is a boolean or, when it could be nothing but text, a string.
fn scalar(text: String, style: ScalarStyle) -> Option<Node> {
    if style != ScalarStyle::Plain {
        return Some(Node::Str(text));
    }
    match text.as_str() {
        "true" | "True" | "TRUE" => Some(Node::Bool(true)),
        "false" | "False" | "FALSE" => Some(Node::Bool(false)),
        _ if plainly_text(&text) => Some(Node::Str(text)),
        _ => None,
    }
}

/// Whether a plain scalar can only be a string: not empty, not a null (`~`, `null`), not the
/// merge key, and not a number of any form (a sign, a digit or a dot first, or `inf` and `nan`
/// in any case, which Rust's float parsing takes), except a GUID (`applicationId`, `msid`),
/// which no number's syntax allows.
fn plainly_text(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    if is_guid(text) {
        return true;
    }
    let lower = text.to_ascii_lowercase();
    !(first.is_ascii_digit()
        || matches!(first, '+' | '-' | '.' | '~' | '<')
        || lower == "null"
        || lower.starts_with("inf")
        || lower.starts_with("nan"))
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hexadecimal digits.
fn is_guid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(index, byte)| match index {
            8 | 13 | 18 | 23 => byte == b'-',
            _ => byte.is_ascii_hexdigit(),
        })
}
