//! The data directory holds secrets (the dev signing key, the dev JWT secret, the identity
//! canister's state) and user data, so it is private to the account running `heaven`: created
//! `0700` (an existing one is tightened to `0700`), and everything the process creates
//! afterwards is owner-only (umask `077`: SQLite files and their logs, blobs, spool files,
//! state files are `0600`, directories `0700`).

use std::path::Path;

use crate::error::HeavenError;

/// Creates `path` (and parents) if missing and makes it `0700`; makes every file and directory
/// the process creates from now on owner-only.
pub fn prepare(path: &Path) -> Result<(), HeavenError> {
    restrict_new_files();
    let failed = |source| HeavenError::DataDir {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(path).map_err(failed)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(failed)?
            .permissions()
            .mode()
            & 0o777;
        if mode != 0o700 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
                .map_err(failed)?;
            tracing::debug!(
                data_dir = %path.display(),
                was = format!("{mode:o}"),
                "data directory made private (0700)"
            );
        }
    }
    Ok(())
}

/// umask 077 for the whole process.
fn restrict_new_files() {
    #[cfg(unix)]
    // SAFETY: umask only swaps the process's file-creation mask; it cannot fail and touches
    // no memory. It is called once at start, before any thread of ours creates files.
    unsafe {
        libc::umask(0o077);
    }
}
