//! Files the offline jobs write: refused before any work is done when the name is a folder,
//! names another format, lies in a folder that does not exist or names a file that exists
//! (without `force`); written beside the target and renamed at the end, so a failed write
//! leaves nothing and never half-overwrites what the user had.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{path} is a folder; name the file to write")]
    IsFolder { path: PathBuf },
    #[error("{path}: this writes {writes}; name a file ending in .{extension}")]
    WrongExtension {
        path: PathBuf,
        writes: &'static str,
        extension: &'static str,
    },
    #[error("{path}: the folder {folder} does not exist")]
    NoFolder { path: PathBuf, folder: PathBuf },
    #[error("{path} exists; add --force to replace it")]
    Exists { path: PathBuf },
    #[error("{path}: cannot write: {reason}")]
    Write { path: PathBuf, reason: String },
}

/// Refuses `path` as a new file of the format `writes` (named by one of `extensions`, compared
/// without case) before anything is made.
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
    let named = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.iter().any(|x| e.eq_ignore_ascii_case(x)));
    if !named {
        return Err(OutputError::WrongExtension {
            path: path.to_owned(),
            writes,
            extension: extensions.first().copied().unwrap_or(""),
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
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    let partial = path.with_file_name(name);
    let failed = |reason: String| {
        std::fs::remove_file(&partial).ok();
        OutputError::Write {
            path: path.to_owned(),
            reason,
        }
    };
    write(&partial).map_err(failed)?;
    std::fs::rename(&partial, path).map_err(|e| failed(e.to_string()))
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
        std::fs::remove_dir_all(&dir).ok();
    }
}
