//! `--out FILE`: checked before any request, then written so that nothing is lost or destroyed.
//!
//! A regular file (or a symlink to one) is replaced atomically: the text goes to a temporary
//! file beside the target, which takes the target's permissions and is renamed over it, so a
//! failed run never leaves a partial file and a symlink keeps pointing where it did. A device
//! or a FIFO is written directly, since replacing it with a regular file would destroy it.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use tempfile::NamedTempFile;

use sla_connect::process::UsageError;

/// Where the output goes, checked and prepared.
#[derive(Debug)]
pub(crate) enum Out {
    /// A regular file, new or replaced: the temporary file beside it, made before any request
    /// so that an unwritable folder fails at once.
    Replace {
        /// The file written (a symlink's target).
        target: PathBuf,
        /// The temporary file renamed over it.
        temp: NamedTempFile,
        /// The target's permissions, kept across the replacement.
        permissions: Option<Permissions>,
    },
    /// A device, a FIFO or another special file, written in place.
    Direct(PathBuf),
}

impl Out {
    /// Checks `path` and prepares to write it: refuses a folder, a missing folder and a
    /// read-only file, naming the problem.
    pub(crate) fn prepare(path: &Path) -> Result<Out, UsageError> {
        let shown = path.display();
        if path.as_os_str().to_string_lossy().ends_with('/') || path.is_dir() {
            return Err(UsageError(format!(
                "--out {shown} is a folder: name a file"
            )));
        }
        // Through symlinks: a link to a device is a device, a link to a file is replaced at
        // its target.
        match fs::metadata(path) {
            Ok(meta) if meta.is_file() => {
                if meta.permissions().readonly() {
                    return Err(UsageError(format!(
                        "--out {shown} is read-only: make it writable or name another file"
                    )));
                }
                let target = fs::canonicalize(path)
                    .map_err(|e| UsageError(format!("--out {shown}: {e}")))?;
                Self::replace(target, Some(meta.permissions()), path)
            }
            Ok(_) => Ok(Out::Direct(path.to_path_buf())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Self::replace(path.to_path_buf(), new_file_permissions(), path)
            }
            Err(e) => Err(UsageError(format!("--out {shown}: {e}"))),
        }
    }

    fn replace(
        target: PathBuf,
        permissions: Option<Permissions>,
        asked: &Path,
    ) -> Result<Out, UsageError> {
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(UsageError(format!(
                "--out {}: the folder {} does not exist",
                asked.display(),
                dir.display()
            )));
        }
        let temp = tempfile::Builder::new()
            .prefix(".sla-out-")
            .tempfile_in(&dir)
            .map_err(|e| {
                UsageError(format!(
                    "--out {}: cannot write in the folder {}: {e}",
                    asked.display(),
                    dir.display()
                ))
            })?;
        Ok(Out::Replace {
            target,
            temp,
            permissions,
        })
    }

    /// Writes `text`; on failure a replaced file is left as it was.
    pub(crate) fn write(self, text: &str) -> anyhow::Result<()> {
        match self {
            Out::Replace {
                target,
                mut temp,
                permissions,
            } => {
                temp.write_all(text.as_bytes())
                    .and_then(|()| temp.as_file().sync_all())
                    .with_context(|| format!("cannot write {}", target.display()))?;
                if let Some(permissions) = permissions {
                    fs::set_permissions(temp.path(), permissions)
                        .with_context(|| format!("cannot write {}", target.display()))?;
                }
                temp.persist(&target)
                    .map_err(|e| e.error)
                    .with_context(|| format!("cannot write {}", target.display()))?;
                Ok(())
            }
            Out::Direct(path) => {
                let mut file: File = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .with_context(|| format!("cannot open {}", path.display()))?;
                file.write_all(text.as_bytes())
                    .and_then(|()| file.flush())
                    .with_context(|| format!("cannot write {}", path.display()))
            }
        }
    }
}

/// A new file is readable by everyone and writable by its owner, as a file made under the
/// usual umask of 022 is; the temporary file it starts as is private to its owner.
#[cfg_attr(
    unix,
    expect(clippy::unnecessary_wraps, reason = "only unix has modes to set")
)]
fn new_file_permissions() -> Option<Permissions> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        Some(Permissions::from_mode(0o644))
    }
    #[cfg(not(unix))]
    {
        None
    }
}
