//! Writing files that must never be half-written or readable by others.

use std::io::Write;
use std::path::Path;

/// Writes `contents` to `path` through a temporary file in the same folder, flushed to disk and
/// renamed over `path`, with mode 0600 on Unix: a crash leaves the old file or the new one,
/// never a mix.
pub(crate) fn write_private_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    // NamedTempFile creates the file with mode 0600 on Unix.
    let mut temporary = tempfile::NamedTempFile::new_in(folder)?;
    temporary.write_all(contents)?;
    temporary.as_file().sync_all()?;
    temporary.persist(path).map_err(|e| e.error)?;
    Ok(())
}
