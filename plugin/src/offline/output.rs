//! Every file Earstage writes (reports, renders, plots, histories, measured curves, the weekly
//! record, the editor's exports) goes through here: refused before any work is done when the
//! name is a folder, names another format, lies in a folder that does not exist or names a file
//! that exists (without `force`); written beside the target and renamed at the end, so a failed
//! write leaves nothing and never half-overwrites what the user had.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{path} is a folder; name the file to write")]
    IsFolder { path: PathBuf },
    #[error("{path}: this writes {writes}; name a file ending in .{extension}")]
    WrongExtension {
        path: PathBuf,
        writes: &'static str,
        /// The accepted extensions, as the message lists them ("png or .svg").
        extension: String,
    },
    #[error("{path}: the folder {folder} does not exist")]
    NoFolder { path: PathBuf, folder: PathBuf },
    #[error("{path} already exists; choose another name or add --force to replace it")]
    Exists { path: PathBuf },
    #[error("{path}: cannot write: {reason}")]
    Write { path: PathBuf, reason: String },
}

/// Refuses `path` as a new file of the format `writes` (named by one of `extensions`, compared
/// without case; any name when `extensions` is empty) before anything is made.
pub fn check_new_file(
    path: &Path,
    force: bool,
    extensions: &[&'static str],
    writes: &'static str,
) -> Result<(), OutputError> {
    if path.is_dir() {
        return Err(OutputError::IsFolder {
            path: path.to_owned(),
        });
    }
    let named = extensions.is_empty()
        || path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| extensions.iter().any(|x| e.eq_ignore_ascii_case(x)));
    if !named {
        return Err(OutputError::WrongExtension {
            path: path.to_owned(),
            writes,
            extension: extensions.join(" or ."),
        });
    }
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !folder.is_dir()
    {
        return Err(OutputError::NoFolder {
            path: path.to_owned(),
            folder: folder.to_owned(),
        });
    }
    if path.exists() && !force {
        return Err(OutputError::Exists {
            path: path.to_owned(),
        });
    }
    Ok(())
}

/// Writes `path` through `write` (given the temporary path beside it), then renames it into
/// place; on any failure the temporary file is removed and `path` is untouched.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<(), OutputError> {
    write_atomically_with(path, |partial| {
        write(partial).map_err(|reason| OutputError::Write {
            path: path.to_owned(),
            reason,
        })
    })
}

/// [`write_atomically`] for a writer with errors of its own (a render's read and write errors).
pub fn write_atomically_with<E: From<OutputError>>(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    let partial = path.with_file_name(name);
    let result = write(&partial).and_then(|()| {
        std::fs::rename(&partial, path).map_err(|e| {
            E::from(OutputError::Write {
                path: path.to_owned(),
                reason: e.to_string(),
            })
        })
    });
    if result.is_err() {
        std::fs::remove_file(&partial).ok();
    }
    result
}

/// Writes `bytes` to `path` through [`write_atomically`].
pub fn write_bytes_atomically(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    write_atomically(path, |partial| {
        std::fs::write(partial, bytes).map_err(|e| e.to_string())
    })
}

/// Where an export named `name` goes in `folder`: `earstage-STAMP-NAME`, the folder made if
/// missing. An export never replaces a file: a name already taken is refused.
pub fn export_path(folder: &Path, name: &str, stamp_s: u64) -> Result<PathBuf, OutputError> {
    std::fs::create_dir_all(folder).map_err(|e| OutputError::Write {
        path: folder.to_owned(),
        reason: format!("cannot make the folder: {e}"),
    })?;
    let path = folder.join(format!("earstage-{stamp_s}-{name}"));
    check_new_file(&path, false, &[], "an export")?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_path() {
        let dir = std::env::temp_dir().join(format!("earstage-output-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let wav = dir.join("a.WAV");
        assert!(check_new_file(&wav, false, &["wav"], "WAV").is_ok());
        std::fs::write(&wav, b"x").unwrap();
        let exists = check_new_file(&wav, false, &["wav"], "WAV").unwrap_err();
        assert!(exists.to_string().contains("--force"), "{exists}");
        assert!(check_new_file(&wav, true, &["wav"], "WAV").is_ok());
        let other = check_new_file(&dir.join("a.mp3"), true, &["wav"], "WAV").unwrap_err();
        assert!(other.to_string().contains(".wav"), "{other}");
        let folder = check_new_file(&dir, true, &["wav"], "WAV").unwrap_err();
        assert!(matches!(folder, OutputError::IsFolder { .. }));
        let nowhere = check_new_file(&dir.join("no/a.wav"), true, &["wav"], "WAV").unwrap_err();
        assert!(matches!(nowhere, OutputError::NoFolder { .. }));
        let failed = write_atomically(&wav, |_| Err("disk full".into())).unwrap_err();
        assert!(failed.to_string().contains("disk full"));
        assert_eq!(
            std::fs::read(&wav).unwrap(),
            b"x",
            "the old file is untouched"
        );
        write_atomically(&wav, |p| std::fs::write(p, b"y").map_err(|e| e.to_string())).unwrap();
        assert_eq!(std::fs::read(&wav).unwrap(), b"y");
        let two = check_new_file(&dir.join("a.pdf"), true, &["png", "svg"], "a plot").unwrap_err();
        assert!(two.to_string().ends_with(".png or .svg"), "{two}");
        assert!(check_new_file(&dir.join("any.name"), false, &[], "text").is_ok());
        std::fs::remove_dir_all(&dir).ok();
    }

    /// An export lands under its stamped name in a folder made for it, and never replaces a
    /// file: the same name a second time is refused and the first file kept.
    #[test]
    fn exports_never_replace() {
        let dir = std::env::temp_dir().join(format!("earstage-export-{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        let folder = dir.join("Earstage");
        let path = export_path(&folder, "overs.csv", 42).unwrap();
        assert_eq!(path, folder.join("earstage-42-overs.csv"));
        write_bytes_atomically(&path, b"first").unwrap();
        let again = export_path(&folder, "overs.csv", 42).unwrap_err();
        assert!(matches!(again, OutputError::Exists { .. }), "{again}");
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        std::fs::remove_dir_all(&dir).ok();
    }
}
