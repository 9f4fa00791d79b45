//! Certificate thumbprints: the SHA-256 fingerprint and the SHA-1 thumbprint that browsers,
//! Windows and the backup server's console show, read as people copy them and written as they
//! are shown.

use std::fmt;
use std::str::FromStr;

use sha1::Sha1;
use sha2::{Digest as _, Sha256};

/// The hash a thumbprint is made with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Digest {
    /// SHA-256, 32 bytes: what browsers and `openssl x509 -fingerprint -sha256` show.
    Sha256,
    /// SHA-1, 20 bytes: what Windows and the backup server's console show as "Thumbprint".
    Sha1,
}

impl Digest {
    /// `SHA-256` or `SHA-1`.
    pub fn name(self) -> &'static str {
        match self {
            Digest::Sha256 => "SHA-256",
            Digest::Sha1 => "SHA-1",
        }
    }

    /// How many hex digits a thumbprint of this kind has.
    pub fn hex_digits(self) -> usize {
        match self {
            Digest::Sha256 => 64,
            Digest::Sha1 => 40,
        }
    }

    fn of(self, der: &[u8]) -> Vec<u8> {
        match self {
            Digest::Sha256 => Sha256::digest(der).to_vec(),
            Digest::Sha1 => Sha1::digest(der).to_vec(),
        }
    }
}

/// The hash of a certificate's DER bytes: a SHA-256 fingerprint or a SHA-1 thumbprint.
///
/// Parsed from 64 (SHA-256) or 40 (SHA-1) hex digits, in any case, with or without colons or
/// spaces between them, as Windows, browsers and `openssl x509 -fingerprint` show them.
/// Displayed as upper-case hex pairs separated by colons.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Thumbprint {
    digest: Digest,
    bytes: Vec<u8>,
}

impl Thumbprint {
    /// The `digest` thumbprint of the certificate whose DER encoding is `der`.
    pub fn of(digest: Digest, der: &[u8]) -> Self {
        Self {
            digest,
            bytes: digest.of(der),
        }
    }

    /// Which hash this is.
    pub fn digest(&self) -> Digest {
        self.digest
    }

    /// Whether the certificate whose DER encoding is `der` has this thumbprint.
    pub fn matches(&self, der: &[u8]) -> bool {
        self.digest.of(der) == self.bytes
    }

    /// Upper-case hex without separators, for example `3A9F…`: how Windows and
    /// `--tls-thumbprint` examples write it.
    pub fn plain(&self) -> String {
        hex::encode_upper(&self.bytes)
    }

    /// Upper-case hex pairs separated by colons, for example `3A:9F:…`: how `openssl` and
    /// browsers show it.
    pub fn colons(&self) -> String {
        self.bytes
            .iter()
            .map(|byte| format!("{byte:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }
}

impl fmt::Display for Thumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.colons())
    }
}

/// Why a text is not a thumbprint.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ThumbprintError {
    /// A character other than a hex digit, a colon or a space.
    #[error(
        "{character:?} is not a hex digit; expected the certificate's SHA-256 fingerprint \
         (64 hex digits) or SHA-1 thumbprint (40 hex digits), colons and spaces allowed"
    )]
    NotHex {
        /// The offending character.
        character: char,
    },
    /// Neither 64 nor 40 hex digits.
    #[error(
        "it has {digits} hex digits; expected the certificate's SHA-256 fingerprint \
         (64 hex digits) or SHA-1 thumbprint (40 hex digits)"
    )]
    Length {
        /// How many hex digits there were.
        digits: usize,
    },
}

impl FromStr for Thumbprint {
    type Err = ThumbprintError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut digits = String::with_capacity(text.len());
        for character in text.chars() {
            match character {
                c if c.is_ascii_hexdigit() => digits.push(c),
                // Separators people copy along: colons (openssl, browsers), spaces (the
                // Windows certificate dialog), and the invisible left-to-right mark that the
                // Windows dialog puts in front of the thumbprint.
                ':' | ' ' | '\t' | '\u{200e}' | '\u{feff}' => {}
                character => return Err(ThumbprintError::NotHex { character }),
            }
        }
        let digest = match digits.len() {
            64 => Digest::Sha256,
            40 => Digest::Sha1,
            digits => return Err(ThumbprintError::Length { digits }),
        };
        let bytes = hex::decode(&digits).map_err(|_| ThumbprintError::Length {
            digits: digits.len(),
        })?;
        Ok(Self { digest, bytes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA1: &str = "a909502dd82ae41433e6f83886b00d4277a32a7b";

    #[test]
    fn reads_both_kinds_in_any_case_with_or_without_separators() {
        let plain: Thumbprint = SHA1.parse().unwrap();
        assert_eq!(plain.digest(), Digest::Sha1);
        assert_eq!(plain.plain(), SHA1.to_ascii_uppercase());
        for variant in [
            SHA1.to_ascii_uppercase(),
            "A9:09:50:2D:D8:2A:E4:14:33:E6:F8:38:86:B0:0D:42:77:A3:2A:7B".to_owned(),
            "a9 09 50 2d d8 2a e4 14 33 e6 f8 38 86 b0 0d 42 77 a3 2a 7b".to_owned(),
            format!("\u{200e}{SHA1}"),
            format!(" {SHA1}\t"),
        ] {
            assert_eq!(
                variant.parse::<Thumbprint>(),
                Ok(plain.clone()),
                "{variant}"
            );
        }
        let sha256: Thumbprint = "ab".repeat(32).parse().unwrap();
        assert_eq!(sha256.digest(), Digest::Sha256);
        assert_eq!(sha256.colons(), ["AB"; 32].join(":"));
        assert_eq!(sha256.to_string(), sha256.colons());
    }

    #[test]
    fn refuses_other_lengths_and_characters() {
        assert_eq!(
            "abc".parse::<Thumbprint>(),
            Err(ThumbprintError::Length { digits: 3 })
        );
        assert_eq!(
            "".parse::<Thumbprint>(),
            Err(ThumbprintError::Length { digits: 0 })
        );
        assert_eq!(
            "ab".repeat(31).parse::<Thumbprint>(),
            Err(ThumbprintError::Length { digits: 62 })
        );
        assert_eq!(
            format!("{}zz", &SHA1[..38]).parse::<Thumbprint>(),
            Err(ThumbprintError::NotHex { character: 'z' })
        );
        let error = "sha256:ab".parse::<Thumbprint>().unwrap_err();
        assert!(error.to_string().contains("not a hex digit"), "{error}");
    }

    #[test]
    fn computes_and_matches_a_certificates_digests() {
        let der = b"not really a certificate, but bytes all the same";
        for digest in [Digest::Sha256, Digest::Sha1] {
            let thumbprint = Thumbprint::of(digest, der);
            assert_eq!(thumbprint.plain().len(), digest.hex_digits());
            assert!(thumbprint.matches(der));
            assert!(!thumbprint.matches(b"other bytes"));
            assert_eq!(thumbprint.plain().parse::<Thumbprint>(), Ok(thumbprint));
        }
        // The SHA-1 of the empty input, as every implementation gives it.
        assert_eq!(
            Thumbprint::of(Digest::Sha1, b"").plain(),
            "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"
        );
    }
}
