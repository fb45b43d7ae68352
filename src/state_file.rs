//! State files written whole: a unique temporary file in the same directory, synced to
//! disk, then renamed over the old one, so a kill or a crash leaves the old file or the new
//! one, never half of one, and two writers never share a temporary name.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically, creating the directory if needed.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{}.", path.file_name().map_or("state".into(), |n| n.to_string_lossy())))
        .suffix(".new")
        .tempfile_in(dir)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    // The rename itself is durable once the directory is synced (where that is possible).
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Reads a state file whole; `None` when there is none (any other failure is an error).
pub fn read(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes a state file whole, or removes it when `bytes` is `None` (none there is fine).
pub fn write_or_remove(path: &Path, bytes: Option<&[u8]>) -> std::io::Result<()> {
    match bytes {
        Some(bytes) => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            write(path, bytes)
        }
        None => match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        },
    }
}
