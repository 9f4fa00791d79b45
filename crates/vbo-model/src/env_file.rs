//! Env files: `KEY=VALUE` lines that supply `fromEnv` secrets without exporting them.
//!
//! The format is the dotenv format as Docker Compose reads it:
//!
//! - blank lines and lines starting with `#` are ignored; a line may start with `export `;
//! - a name is `[A-Za-z_][A-Za-z0-9_]*`, optionally surrounded by spaces;
//! - an unquoted value runs to the end of the line, loses a trailing ` #comment` and surrounding
//!   whitespace (`KEY=#x` is the value `#x`: a `#` starts a comment only after whitespace);
//! - a single-quoted value is taken literally, a double-quoted value understands `\n`, `\r`,
//!   `\t`, `\"`, `\\` and `\$` (any other backslash is kept as written); either may span lines,
//!   and only whitespace or a `#comment` may follow the closing quote;
//! - a name alone on its line (Compose's "take it from the environment") sets nothing;
//! - when a name is set twice, the last value counts.
//!
//! Unlike Compose, `$VAR` and `${VAR}` are not interpolated: a `$` is part of the value (a
//! password may well contain one, and a value never mixes with the environment).
//!
//! An error names the file and the line, and never shows the line's text: a mistyped line may be
//! a password.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::secret::Secret;

/// The values of an env file, by variable name. `Debug` shows names, never values.
#[derive(Clone, PartialEq, Eq)]
pub struct EnvFile {
    path: PathBuf,
    values: BTreeMap<String, Secret>,
    mode: Option<u32>,
}

/// Why an env file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EnvFileError {
    /// The file could not be opened or read (it does not exist, for example).
    #[error("cannot read the env file {}: {source}", path.display())]
    Unreadable {
        /// The file, as given.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A line is not `KEY=VALUE` as the format has it.
    #[error("{}:{line}: {problem}", path.display())]
    Syntax {
        /// The file, as given.
        path: PathBuf,
        /// 1-based line number (for a quoted value that is never closed, the line it starts on).
        line: usize,
        /// What is wrong, without the line's text.
        problem: String,
    },
}

impl EnvFile {
    /// Reads and parses the file at `path`, noting its permissions (on Unix) for
    /// [`loose_mode`](Self::loose_mode).
    pub fn read(path: &Path) -> Result<Self, EnvFileError> {
        use std::io::Read as _;
        let unreadable = |source| EnvFileError::Unreadable {
            path: path.to_owned(),
            source,
        };
        let mut file = std::fs::File::open(path).map_err(unreadable)?;
        let metadata = file.metadata().map_err(unreadable)?;
        if metadata.is_dir() {
            return Err(unreadable(std::io::Error::other("it is a folder")));
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(unreadable)?;
        let text = String::from_utf8(bytes).map_err(|error| {
            let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
            EnvFileError::Syntax {
                path: path.to_owned(),
                line: 1 + valid.iter().filter(|&&b| b == b'\n').count(),
                problem: "not UTF-8 text".to_owned(),
            }
        })?;
        let mut parsed = Self::parse(path, &text)?;
        parsed.mode = mode(&metadata);
        Ok(parsed)
    }

    /// Parses `text` as the content of the env file `path` (named in errors only).
    pub fn parse(path: &Path, text: &str) -> Result<Self, EnvFileError> {
        let values = parse(text).map_err(|(line, problem)| EnvFileError::Syntax {
            path: path.to_owned(),
            line,
            problem,
        })?;
        Ok(Self {
            path: path.to_owned(),
            values: values
                .into_iter()
                .map(|(name, value)| (name, Secret::new(value)))
                .collect(),
            mode: None,
        })
    }

    /// The file, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The value the file gives `name`, if any.
    pub fn get(&self, name: &str) -> Option<&Secret> {
        self.values.get(name)
    }

    /// The names the file sets, in sorted order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// The file's permission bits when group or others may read, write or run it (wider than
    /// 0600), which deserves a warning: the file holds secrets. `None` when they are not, when
    /// the file was not read from disk, and off Unix.
    pub fn loose_mode(&self) -> Option<u32> {
        self.mode.filter(|mode| mode & 0o077 != 0)
    }
}

impl fmt::Debug for EnvFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvFile")
            .field("path", &self.path)
            .field("names", &self.values.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

#[cfg(unix)]
fn mode(metadata: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt as _;
    Some(metadata.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn mode(_: &std::fs::Metadata) -> Option<u32> {
    None
}

/// The variables `text` sets, or the 1-based line and the problem of the first bad line.
fn parse(text: &str) -> Result<BTreeMap<String, String>, (usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text = text.replace("\r\n", "\n");
    let lines: Vec<&str> = text.split('\n').collect();
    let mut values = BTreeMap::new();
    let mut next = 0;
    while next < lines.len() {
        let number = next + 1;
        let line = lines[next].trim_start();
        next += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = match line.strip_prefix("export") {
            Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start(),
            _ => line,
        };
        let Some((name, rest)) = line.split_once('=') else {
            if is_name(line.trim_end()) {
                // A name alone: Compose takes it from the environment, which is read first anyway.
                continue;
            }
            return Err((
                number,
                "expected NAME=VALUE (the line has no '=')".to_owned(),
            ));
        };
        let name = name.trim_end();
        if !is_name(name) {
            return Err((
                number,
                "the name before '=' must be letters, digits and '_', not starting with a digit"
                    .to_owned(),
            ));
        }
        let rest = rest.trim_start_matches([' ', '\t']);
        let value = match rest.chars().next() {
            Some(quote @ ('\'' | '"')) => {
                let mut value = String::new();
                let mut current = &rest[1..];
                loop {
                    let closed = if quote == '"' {
                        scan_double(current, &mut value)
                    } else {
                        current.find('\'').map(|end| {
                            value.push_str(&current[..end]);
                            end + 1
                        })
                    };
                    if let Some(after) = closed {
                        let after = current[after..].trim_start();
                        if !after.is_empty() && !after.starts_with('#') {
                            return Err((
                                next,
                                format!(
                                    "{name}: unexpected text after the closing {quote} (only a \
                                     # comment may follow)"
                                ),
                            ));
                        }
                        break;
                    }
                    if quote == '\'' {
                        value.push_str(current);
                    }
                    let Some(line) = lines.get(next) else {
                        return Err((
                            number,
                            format!("{name}: the value's opening {quote} is never closed"),
                        ));
                    };
                    value.push('\n');
                    current = line;
                    next += 1;
                }
                value
            }
            _ => {
                let end = rest
                    .char_indices()
                    .find(|&(i, c)| c == '#' && rest[..i].ends_with([' ', '\t']))
                    .map_or(rest.len(), |(i, _)| i);
                rest[..end].trim().to_owned()
            }
        };
        values.insert(name.to_owned(), value);
    }
    Ok(values)
}

/// Reads a double-quoted value's text from `text` into `value`, undoing escapes. Returns the
/// byte offset just past the closing quote, or `None` when the line ends first (its text is
/// then in `value`).
fn scan_double(text: &str, value: &mut String) -> Option<usize> {
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Some(at + 1),
            '\\' => match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, 'r')) => value.push('\r'),
                Some((_, 't')) => value.push('\t'),
                Some((_, escaped @ ('"' | '\\' | '$'))) => value.push(escaped),
                Some((_, other)) => {
                    value.push('\\');
                    value.push(other);
                }
                None => value.push('\\'),
            },
            other => value.push(other),
        }
    }
    None
}

/// Whether `name` is `[A-Za-z_][A-Za-z0-9_]*`.
fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> BTreeMap<String, String> {
        parse(text).unwrap()
    }

    fn one(text: &str) -> String {
        let values = values(text);
        assert_eq!(values.len(), 1, "{values:?}");
        values.into_values().next().unwrap()
    }

    #[test]
    fn unquoted_values_lose_comments_and_whitespace() {
        assert_eq!(one("A=plain"), "plain");
        assert_eq!(one("A=  spaced out  "), "spaced out");
        assert_eq!(one("A=value # a comment"), "value");
        assert_eq!(one("A=value\t# a comment"), "value");
        assert_eq!(one("A=pass#word"), "pass#word");
        assert_eq!(one("A=#starts-with-hash"), "#starts-with-hash");
        assert_eq!(one("A=it's \"quoted\" inside"), "it's \"quoted\" inside");
        assert_eq!(one("A=$dollar${B}"), "$dollar${B}");
        assert_eq!(one("A=a=b=c"), "a=b=c");
        assert_eq!(one("A="), "");
        assert_eq!(one("A = spaced"), "spaced");
    }

    #[test]
    fn comments_blank_lines_and_export() {
        let text = "# secrets\n\n   \n  # indented comment\nexport A=1\nexport\tB=2\n  C=3\r\nexported=4\n";
        let values = values(text);
        assert_eq!(
            values,
            BTreeMap::from(
                [("A", "1"), ("B", "2"), ("C", "3"), ("exported", "4")]
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
            )
        );
    }

    #[test]
    fn single_quotes_are_literal() {
        assert_eq!(
            one(r"A='a \n b # not a comment'"),
            r"a \n b # not a comment"
        );
        assert_eq!(one("A='  kept  ' # comment"), "  kept  ");
        assert_eq!(one(r#"A='say "hi"'"#), r#"say "hi""#);
        assert_eq!(one("A='line one\nline two'"), "line one\nline two");
    }

    #[test]
    fn double_quotes_understand_escapes() {
        assert_eq!(one(r#"A="a\nb""#), "a\nb");
        assert_eq!(one(r#"A="tab\there\r""#), "tab\there\r");
        assert_eq!(one(r#"A="say \"hi\"""#), r#"say "hi""#);
        assert_eq!(one(r#"A="back\\slash""#), r"back\slash");
        assert_eq!(one(r#"A="\$HOME""#), "$HOME");
        assert_eq!(one(r#"A="kept \q""#), r"kept \q");
        assert_eq!(one(r#"A="a # b" # comment"#), "a # b");
        assert_eq!(one("A=\"first\nsecond\""), "first\nsecond");
        assert_eq!(one(r#"A="""#), "");
    }

    #[test]
    fn the_last_of_a_repeated_name_counts_and_a_bare_name_sets_nothing() {
        assert_eq!(one("A=1\nA=2"), "2");
        assert!(values("A\nexport B\n").is_empty());
    }

    #[test]
    fn a_byte_order_mark_is_ignored() {
        assert_eq!(values("\u{feff}A=1")["A"], "1");
    }

    #[test]
    fn bad_lines_are_reported_by_number_without_their_text() {
        let cases = [
            ("A=1\nhunter2-s3cret\n", 2, "expected NAME=VALUE"),
            ("1BAD=hunter2-s3cret", 1, "the name before '='"),
            ("MY-VAR=hunter2-s3cret", 1, "the name before '='"),
            (
                "\n\nA=\"hunter2-s3cret\nstill open",
                3,
                "A: the value's opening \"",
            ),
            ("A='hunter2-s3cret", 1, "A: the value's opening '"),
            ("A=ok\nB='x' hunter2-s3cret", 2, "B: unexpected text"),
            ("B=\"x\nhunter2\" -s3cret", 2, "B: unexpected text"),
        ];
        for (text, line, problem) in cases {
            let error = EnvFile::parse(Path::new("dir/x.env"), text).unwrap_err();
            let message = error.to_string();
            assert!(
                message.starts_with(&format!("dir/x.env:{line}: {problem}")),
                "{text:?}: {message}"
            );
            assert!(!message.contains("hunter2"), "{message}");
            assert!(!message.contains("s3cret"), "{message}");
        }
    }

    #[test]
    fn debug_shows_names_not_values() {
        let file = EnvFile::parse(Path::new("x.env"), "A=hunter2").unwrap();
        let debug = format!("{file:?}");
        assert!(debug.contains("\"A\""), "{debug}");
        assert!(!debug.contains("hunter2"), "{debug}");
    }
}
