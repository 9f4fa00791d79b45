//! Problems found in manifests, with where they are and how to show them.
//!
//! A [`Diagnostic`] serializes to `{"file", "line", "column", "severity", "message"}` (plus
//! `"hint"` when there is one) for `--format json`, and [`Diagnostic::render`] draws it for a
//! terminal with the offending source line and a caret under the problem.
//!
//! Source lines are copied into a diagnostic with every secret value replaced by `****`, so
//! rendering one can never print a password written in a manifest.

use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

use annotate_snippets::{AnnotationKind, Level, Origin, Renderer};
use serde::{Serialize, Serializer};

use crate::located::{Pos, Span, is_secret_key};

/// How bad a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The manifests cannot be used as they are.
    Error,
    /// Risky but usable; `vboctl validate --strict` treats it as an error.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem in one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The file, as it was found from the paths given to the loader.
    #[serde(serialize_with = "lossy_path")]
    pub file: PathBuf,
    /// 1-based line; 0 when the problem concerns the whole file.
    pub line: u64,
    /// 1-based column (in characters); 0 when the problem concerns the whole file.
    pub column: u64,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, in one sentence. Never contains a secret value.
    pub message: String,
    /// What to do about it, when there is more to say than the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The source line to show under the message, secrets masked.
    #[serde(skip)]
    pub snippet: Option<Snippet>,
}

/// A copy of the source line a diagnostic points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snippet {
    /// The line's text without its newline, with secret values replaced by `****`.
    pub text: String,
    /// Byte range of `text` to underline.
    pub underline: Range<usize>,
}

fn lossy_path<S: Serializer>(path: &Path, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&path.to_string_lossy())
}

impl Diagnostic {
    /// A problem at `line`:`column` of `file` (both 0 for the whole file), without a snippet.
    pub fn new(
        severity: Severity,
        file: impl Into<PathBuf>,
        line: u64,
        column: u64,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            file: file.into(),
            line,
            column,
            severity,
            message: message.into(),
            hint: None,
            snippet: None,
        }
    }

    /// The same diagnostic with a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// `file:line:column` (or just `file` for whole-file problems).
    pub fn location(&self) -> String {
        if self.line == 0 {
            self.file.display().to_string()
        } else {
            format!("{}:{}:{}", self.file.display(), self.line, self.column)
        }
    }

    /// The diagnostic as a terminal shows it:
    ///
    /// ```text
    /// error: unknown field `IsSharepoint`, did you mean `isSharePoint`?
    ///  --> tenants/contoso.yaml:9:3
    ///   |
    /// 9 |   IsSharepoint: true
    ///   |   ^^^^^^^^^^^^
    /// ```
    ///
    /// `styled` adds ANSI colours; pass `false` when the output is not a terminal (or strip
    /// them, as `anstream` does).
    pub fn render(&self, styled: bool) -> String {
        let renderer = if styled {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        let level = match self.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let path = self.file.display().to_string();
        let title = level.primary_title(self.message.as_str());
        let group = match &self.snippet {
            Some(snippet) => title.element(
                annotate_snippets::Snippet::source(snippet.text.as_str())
                    .line_start(usize::try_from(self.line).unwrap_or(usize::MAX))
                    .path(path)
                    .annotation(AnnotationKind::Primary.span(snippet.underline.clone())),
            ),
            None if self.line == 0 => title.element(Origin::path(path)),
            None => title.element(
                Origin::path(path)
                    .line(usize::try_from(self.line).unwrap_or(usize::MAX))
                    .char_column(usize::try_from(self.column).unwrap_or(usize::MAX)),
            ),
        };
        let group = match &self.hint {
            Some(hint) => group.element(Level::HELP.message(hint.as_str())),
            None => group,
        };
        renderer.render(&[group])
    }
}

/// Renders diagnostics one after the other, then a one-line count such as
/// `2 errors, 1 warning`.
pub fn render_all(diagnostics: &[Diagnostic], styled: bool) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let _ = writeln!(out, "{}\n", diagnostic.render(styled));
    }
    out
}

/// The text of one file and the byte ranges of its secrets, for building snippets.
pub(crate) struct Source<'a> {
    text: &'a str,
    /// Byte offset where each line starts.
    line_starts: Vec<usize>,
    /// Secret values to hide, sorted by start.
    masks: Vec<Range<usize>>,
}

/// What a masked secret looks like in a snippet, whatever its length.
const MASK: &str = "****";

impl<'a> Source<'a> {
    pub(crate) fn new(text: &'a str, mut masks: Vec<Range<usize>>) -> Self {
        masks.sort_by_key(|range| range.start);
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(index, _)| index + 1))
            .collect();
        Source {
            text,
            line_starts,
            masks,
        }
    }

    /// Byte range of 1-based `line`, without its line break.
    fn line_range(&self, line: u64) -> Option<Range<usize>> {
        let index = usize::try_from(line.checked_sub(1)?).ok()?;
        let start = *self.line_starts.get(index)?;
        let end = self
            .line_starts
            .get(index + 1)
            .map_or(self.text.len(), |next| next - 1);
        let end = if self.text[start..end].ends_with('\r') {
            end - 1
        } else {
            end
        };
        Some(start..end)
    }

    /// The snippet for something written at `span`: its line with secrets masked, the span
    /// underlined (one character when its extent is unknown).
    pub(crate) fn snippet(&self, span: &Span) -> Option<Snippet> {
        let line = self.line_range(span.pos.line)?;
        let text = &self.text[line.clone()];
        let start = match &span.bytes {
            Some(bytes) if line.contains(&bytes.start) || bytes.start == line.end => {
                bytes.start - line.start
            }
            _ => char_column_to_byte(text, span.pos.column),
        };
        let end = match &span.bytes {
            Some(bytes) if bytes.end > bytes.start => bytes
                .end
                .min(line.end)
                .saturating_sub(line.start)
                .max(start),
            _ => start,
        };
        let end = if end == start {
            text[start..]
                .chars()
                .next()
                .map_or(start, |c| start + c.len_utf8())
        } else {
            end
        };
        Some(self.masked(line, start..end))
    }

    /// The snippet for a syntax error, where no parsed tree tells which values are secret:
    /// none at all when a secret-like key appears on the line or just above it.
    pub(crate) fn syntax_snippet(&self, pos: Pos) -> Option<Snippet> {
        let first = pos.line.saturating_sub(3).max(1);
        let near_secret = (first..=pos.line).any(|line| {
            self.line_range(line)
                .is_some_and(|range| is_secret_key(&self.text[range]))
        });
        if near_secret {
            return None;
        }
        self.snippet(&Span { pos, bytes: None })
    }

    /// The line `line` (byte range in the file) with masks applied, and `underline` (relative to
    /// the line) moved to match.
    fn masked(&self, line: Range<usize>, underline: Range<usize>) -> Snippet {
        let mut cuts: Vec<Range<usize>> = Vec::new();
        for mask in &self.masks {
            let start = mask.start.max(line.start) - line.start;
            let end = mask.end.min(line.end).saturating_sub(line.start);
            if start < end && cuts.last().is_none_or(|last| last.end <= start) {
                cuts.push(start..end);
            }
        }
        let original = &self.text[line];
        let mut text = String::with_capacity(original.len());
        let mut cursor = 0;
        for cut in &cuts {
            text.push_str(&original[cursor..cut.start]);
            text.push_str(MASK);
            cursor = cut.end;
        }
        text.push_str(&original[cursor..]);
        // Where an offset of the original line lands in the masked one: shifted by every mask
        // before it, and snapped to the mask's edge when it falls inside one.
        let moved = |offset: usize, is_end: bool| {
            let mut result = offset;
            for cut in &cuts {
                if cut.end <= offset {
                    result = result + MASK.len() - cut.len();
                } else if cut.start < offset {
                    let mask_start = result - (offset - cut.start);
                    return if is_end {
                        mask_start + MASK.len()
                    } else {
                        mask_start
                    };
                }
            }
            result
        };
        let start = moved(underline.start, false);
        let end = moved(underline.end, true).max(start);
        Snippet {
            text,
            underline: start..end,
        }
    }
}

/// Byte offset of 1-based character `column` in `line` (the end when past it).
fn char_column_to_byte(line: &str, column: u64) -> usize {
    let skip = usize::try_from(column.saturating_sub(1)).unwrap_or(usize::MAX);
    line.char_indices()
        .nth(skip)
        .map_or(line.len(), |(index, _)| index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(line: u64, column: u64, bytes: Option<Range<usize>>) -> Span {
        Span {
            pos: Pos { line, column },
            bytes,
        }
    }

    #[test]
    fn masks_secrets_and_moves_the_underline() {
        let text = "a: 1\nx: {password: hunter2, typo: 3}\n";
        let secret = text.find("hunter2").unwrap();
        let source = Source::new(text, std::iter::once(secret..secret + 7).collect());
        let typo = text.find("typo").unwrap();
        let snippet = source.snippet(&span(2, 27, Some(typo..typo + 4))).unwrap();
        assert_eq!(snippet.text, "x: {password: ****, typo: 3}");
        assert_eq!(&snippet.text[snippet.underline.clone()], "typo");
        let on_secret = source
            .snippet(&span(2, 15, Some(secret..secret + 7)))
            .unwrap();
        assert_eq!(&on_secret.text[on_secret.underline.clone()], "****");
    }

    #[test]
    fn multi_line_secrets_are_masked_on_every_line() {
        let text = "password: first\n  second\nnext: 1\n";
        let source = Source::new(text, std::iter::once(10..24).collect());
        let second = source.snippet(&span(2, 3, None)).unwrap();
        assert_eq!(second.text, "****");
        let next = source.snippet(&span(3, 1, None)).unwrap();
        assert_eq!(next.text, "next: 1");
        assert_eq!(next.underline, 0..1);
    }

    #[test]
    fn syntax_errors_near_secrets_show_no_source() {
        let source = Source::new("a: 1\npassword: \"unterminated\n", Vec::new());
        assert!(
            source
                .syntax_snippet(Pos {
                    line: 2,
                    column: 11
                })
                .is_none()
        );
        assert!(source.syntax_snippet(Pos { line: 1, column: 1 }).is_some());
    }

    #[test]
    fn renders_location_message_and_caret() {
        let mut diagnostic = Diagnostic::new(
            Severity::Error,
            "m.yaml",
            2,
            3,
            "unknown field `IsSharepoint`, did you mean `isSharePoint`?",
        );
        diagnostic.snippet = Some(Snippet {
            text: "  IsSharepoint: true".into(),
            underline: 2..14,
        });
        let text = diagnostic.render(false);
        assert!(
            text.starts_with("error: unknown field `IsSharepoint`"),
            "{text}"
        );
        assert!(text.contains("m.yaml:2:3"), "{text}");
        assert!(text.contains("^^^^^^^^^^^^"), "{text}");
    }

    #[test]
    fn json_shape() {
        let diagnostic = Diagnostic::new(Severity::Warning, "a.yaml", 1, 2, "careful");
        assert_eq!(
            serde_json::to_value(&diagnostic).unwrap(),
            serde_json::json!({
                "file": "a.yaml", "line": 1, "column": 2,
                "severity": "warning", "message": "careful"
            })
        );
    }
}
