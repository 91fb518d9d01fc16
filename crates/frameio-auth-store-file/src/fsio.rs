//! The blocking file operations behind the store: permission checks, reads that never
//! change a file, atomic replacement, directory syncs.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use frameio_auth_core::{FormatError, StoreError, TokenKey, TokenSet};
use serde::Deserialize;
use zeroize::Zeroizing;

/// Distinguishes the temporary files of one process; the process id distinguishes processes.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The largest entry file the store reads. Token sets are a few KiB (the conformance suite
/// goes to 64 KiB plus escaping); anything far larger is not ours.
const MAX_ENTRY_BYTES: u64 = 16 * 1024 * 1024;

pub(crate) fn location(path: &Path) -> String {
    path.display().to_string()
}

/// Maps an I/O error at `path`: access denied becomes [`StoreError::Permission`].
pub(crate) fn io_error(path: &Path, source: io::Error) -> StoreError {
    if source.kind() == io::ErrorKind::PermissionDenied {
        StoreError::Permission {
            location: location(path),
            message: format!(
                "access denied ({source}); the token directory and its files must belong to \
                 the user running this program"
            ),
        }
    } else {
        StoreError::Io {
            location: location(path),
            source,
        }
    }
}

/// The effective user id: the owner the store's files and directory must have.
#[cfg(unix)]
pub(crate) fn effective_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// No owner check off Unix.
#[cfg(not(unix))]
pub(crate) fn effective_uid() -> u32 {
    0
}

/// Refuses a file or directory that another user owns, or that other users can access (any
/// group or other bit), the way OpenSSH refuses a readable private key.
#[cfg(unix)]
fn check_mode(
    path: &Path,
    metadata: &fs::Metadata,
    is_dir: bool,
    owner: u32,
) -> Result<(), StoreError> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    // Any permission bit for the group or others.
    const GROUP_OR_OTHER: u32 = 0o077;
    let what = if is_dir { "directory" } else { "file" };
    if metadata.uid() != owner {
        return Err(StoreError::Permission {
            location: location(path),
            message: format!(
                "the token {what} belongs to uid {}, not to the user running this program \
                 (uid {owner}); someone else may have planted it: remove it, or `chown` it to \
                 this user if it is yours, or build the store with `check_permissions(false)` \
                 to accept it",
                metadata.uid()
            ),
        });
    }
    let mode = metadata.permissions().mode() & 0o777;
    if mode & GROUP_OR_OTHER == 0 {
        return Ok(());
    }
    let fix = if is_dir { "700" } else { "600" };
    Err(StoreError::Permission {
        location: location(path),
        message: format!(
            "the token {what} is accessible to other users (mode {mode:03o}); fix it with \
             `chmod {fix} '{}'`, or build the store with `check_permissions(false)` to accept it",
            path.display()
        ),
    })
}

#[cfg(not(unix))]
#[allow(clippy::unnecessary_wraps)]
fn check_mode(
    _path: &Path,
    _metadata: &fs::Metadata,
    _is_dir: bool,
    _owner: u32,
) -> Result<(), StoreError> {
    // Windows: files under the user's local application data inherit its private ACL.
    Ok(())
}

/// The error for a symbolic link where an entry or lock file should be: never followed.
fn symlink_refused(path: &Path, what: &str) -> StoreError {
    StoreError::Permission {
        location: location(path),
        message: format!(
            "the {what} is a symbolic link, which the store never follows (someone may have \
             planted it); replace it with the file itself"
        ),
    }
}

/// Maps a failed open of `path`: a symbolic link (refused by `O_NOFOLLOW`) gets its own
/// error.
fn open_error(path: &Path, what: &str, source: io::Error) -> StoreError {
    if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        symlink_refused(path, what)
    } else {
        io_error(path, source)
    }
}

/// `O_NOFOLLOW`, plus `O_NONBLOCK` when `nonblocking` (so that opening a FIFO never waits
/// for a writer).
#[cfg(unix)]
fn no_follow(options: &mut OpenOptions, nonblocking: bool) {
    use rustix::fs::OFlags;
    use std::os::unix::fs::OpenOptionsExt;
    let mut flags = OFlags::NOFOLLOW;
    if nonblocking {
        flags |= OFlags::NONBLOCK;
    }
    options.custom_flags(flags.bits().cast_signed());
}

/// Checks the directory; `Ok(false)` when it does not exist. `check` is the owner the
/// directory must have (and then no group or other bit), or `None` for no check.
pub(crate) fn check_dir(dir: &Path, check: Option<u32>) -> Result<bool, StoreError> {
    match fs::metadata(dir) {
        Ok(metadata) if metadata.is_dir() => {
            if let Some(owner) = check {
                check_mode(dir, &metadata, true, owner)?;
            }
            Ok(true)
        }
        Ok(_) => Err(StoreError::Io {
            location: location(dir),
            source: io::Error::other("the token store path exists but is not a directory"),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_error(dir, e)),
    }
}

/// Creates the directory (and missing parents) with mode 0700 if needed, then checks it.
pub(crate) fn ensure_dir(dir: &Path, check: Option<u32>) -> Result<(), StoreError> {
    if check_dir(dir, check)? {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| io_error(dir, e))?;
    check_dir(dir, check).map(|_| ())
}

/// Reads an entry file without changing it; `Ok(None)` when it does not exist. Never
/// through a symbolic link, and never waiting on a FIFO or device: only a regular file is
/// read. `check` as for [`check_dir`].
pub(crate) fn read_entry(
    path: &Path,
    check: Option<u32>,
) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    no_follow(&mut options, true);
    let mut file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(open_error(path, "entry file", e)),
    };
    let metadata = file.metadata().map_err(|e| io_error(path, e))?;
    if !metadata.is_file() {
        return Err(StoreError::Io {
            location: location(path),
            source: io::Error::other("an entry must be a regular file"),
        });
    }
    if let Some(owner) = check {
        check_mode(path, &metadata, false, owner)?;
    }
    if metadata.len() > MAX_ENTRY_BYTES {
        return Err(StoreError::Corrupt {
            location: location(path),
            reason: FormatError::Invalid {
                reason: format!(
                    "the file is {} bytes, more than the {MAX_ENTRY_BYTES}-byte limit",
                    metadata.len()
                ),
            },
        });
    }
    // Read into a buffer sized up front, so that growing it never frees an unwiped copy.
    let capacity = usize::try_from(metadata.len()).unwrap_or(0) + 1;
    let mut bytes = Zeroizing::new(Vec::with_capacity(capacity));
    (&mut file)
        .take(MAX_ENTRY_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(path, e))?;
    Ok(Some(bytes))
}

#[derive(Deserialize)]
struct KeyProbe {
    key: Option<String>,
}

/// The key recorded inside an entry file, if any.
pub(crate) fn recorded_key(path: &Path, bytes: &[u8]) -> Result<Option<TokenKey>, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        location: location(path),
        reason: FormatError::Invalid { reason },
    };
    let Ok(probe) = serde_json::from_slice::<KeyProbe>(bytes) else {
        // Not JSON of that shape: `TokenSet::from_stored_json` gives the precise error.
        return match TokenSet::from_stored_json(bytes) {
            Err(reason) => Err(StoreError::Corrupt {
                location: location(path),
                reason,
            }),
            Ok(_) => Err(corrupt("the `key` field is not a string".to_owned())),
        };
    };
    probe
        .key
        .map(|text| {
            TokenKey::parse(&text).map_err(|_| corrupt("the `key` field is not a token key".into()))
        })
        .transpose()
}

/// Parses an entry read from `path` for `key`.
pub(crate) fn parse_entry(
    path: &Path,
    bytes: &[u8],
    key: &TokenKey,
) -> Result<TokenSet, StoreError> {
    let tokens = TokenSet::from_stored_json(bytes).map_err(|reason| StoreError::Corrupt {
        location: location(path),
        reason,
    })?;
    if let Some(recorded) = recorded_key(path, bytes)?
        && &recorded != key
    {
        return Err(StoreError::Corrupt {
            location: location(path),
            reason: FormatError::Invalid {
                reason: format!("the file belongs to another key ({recorded})"),
            },
        });
    }
    Ok(tokens)
}

/// The file contents for `tokens` under `key`: the core's versioned JSON with the key added
/// as a last top-level field `"key"` (readers ignore fields they do not know).
pub(crate) fn entry_bytes(stored_json: &Zeroizing<Vec<u8>>, key: &TokenKey) -> Zeroizing<Vec<u8>> {
    let key = key.as_str();
    let Some((b'}', body)) = stored_json.split_last() else {
        return stored_json.clone();
    };
    let mut out = Zeroizing::new(Vec::with_capacity(stored_json.len() + key.len() + 16));
    out.extend_from_slice(body);
    out.extend_from_slice(b",\"key\":\"");
    // The key's string form is `A-Z a-z 0-9 - _ . % ~ ,` only: nothing to escape in JSON.
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\"}");
    out.push(b'\n');
    out
}

/// Replaces `path` with `bytes` atomically: a temporary file in the same directory, written
/// and fsynced, renamed over `path`, then the directory fsynced. A reader (or a restart
/// after a crash or power cut) sees the old file or the new one, never a mixture.
pub(crate) fn write_atomic(
    dir: &Path,
    path: &Path,
    stem: &str,
    bytes: &[u8],
) -> Result<(), StoreError> {
    let (temp_path, mut file) = create_temp(dir, stem)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error(&temp_path, e));
    drop(file);
    let renamed =
        written.and_then(|()| fs::rename(&temp_path, path).map_err(|e| io_error(path, e)));
    if let Err(e) = renamed {
        let _ = fs::remove_file(&temp_path);
        return Err(e);
    }
    sync_dir(dir)
}

/// Creates a new temporary file `.<stem>.<pid>-<n>.tmp`, mode 0600 from the start. Its name
/// does not end in `.token`, so `keys()` never sees it, even if a crash leaves it behind.
fn create_temp(dir: &Path, stem: &str) -> Result<(PathBuf, File), StoreError> {
    let pid = std::process::id();
    loop {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(".{stem}.{pid}-{n}.tmp"));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(&path) {
            Ok(file) => return Ok((path, file)),
            // Left behind by a crashed process that had the same id: take the next name.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_error(&path, e)),
        }
    }
}

/// Makes a rename or removal in `dir` durable.
#[cfg(unix)]
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error(dir, e))
}

/// Windows cannot open a directory as a file; NTFS journals renames itself.
#[cfg(not(unix))]
#[allow(clippy::unnecessary_wraps)]
pub(crate) fn sync_dir(_dir: &Path) -> Result<(), StoreError> {
    Ok(())
}

/// Removes `path` (absent is fine) and makes that durable.
pub(crate) fn remove(dir: &Path, path: &Path) -> Result<(), StoreError> {
    match fs::remove_file(path) {
        Ok(()) => sync_dir(dir),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(path, e)),
    }
}

/// Opens (creating, mode 0600) a lock file, never through a symbolic link.
pub(crate) fn open_lock_file(path: &Path) -> Result<File, StoreError> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
        no_follow(&mut options, false);
    }
    options
        .open(path)
        .map_err(|e| open_error(path, "lock file", e))
}

/// Moves `path` aside to `<stem>.corrupt-<unix ms>` (never overwriting anything).
pub(crate) fn quarantine(
    dir: &Path,
    path: &Path,
    stem: &str,
) -> Result<Option<PathBuf>, StoreError> {
    match fs::symlink_metadata(path) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(path, e)),
    }
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    for attempt in 0u32.. {
        let name = if attempt == 0 {
            format!("{stem}.corrupt-{millis}")
        } else {
            format!("{stem}.corrupt-{millis}-{attempt}")
        };
        let target = dir.join(name);
        if fs::symlink_metadata(&target).is_ok() {
            continue;
        }
        return match fs::rename(path, &target) {
            Ok(()) => sync_dir(dir).map(|()| Some(target)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(path, e)),
        };
    }
    Ok(None)
}
