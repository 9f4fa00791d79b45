//! Text from outside (server answers, names, file paths) made safe to print.

use std::borrow::Cow;

/// `text` with its control characters written as escapes (`\n`, `\u{1b}`), so that nothing
/// read from a server or a file can break a line of output, forge another, or drive a
/// terminal. Text without control characters is returned as it is.
///
/// ```
/// assert_eq!(vbo_model::text::escape_controls("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
/// assert_eq!(vbo_model::text::escape_controls("plain"), "plain");
/// ```
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            escaped.extend(c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

/// Text safe inside HTML and GitHub-flavoured Markdown, table cells included: `&`, `<`, `>`,
/// `"`, `|`, backticks and the emphasis and link characters escaped, control characters shown
/// escaped.
pub fn markdown_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in escape_controls(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '|' => out.push_str("&#124;"),
            '`' => out.push_str("&#96;"),
            '*' => out.push_str("&#42;"),
            '_' => out.push_str("&#95;"),
            '[' => out.push_str("&#91;"),
            ']' => out.push_str("&#93;"),
            other => out.push(other),
        }
    }
    out
}
