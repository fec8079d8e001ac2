//! [`StoreLock`]: one client per data directory. An exclusive advisory lock (`flock` on
//! Unix, `LockFileEx` on Windows) on `motcua.lock` is held while the client is open; the
//! operating system releases it when the file is closed or the process dies, so a crash
//! never leaves a stale lock behind. The file holds the owner's PID, for diagnostics only.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

const LOCK_FILE: &str = "motcua.lock";

/// The held lock; dropping it releases the directory.
#[derive(Debug)]
pub(crate) struct StoreLock {
    _file: File,
}

impl StoreLock {
    /// Takes the lock of `dir` (creating the directory), or `StoreInUse` at once when
    /// another client holds it.
    pub(crate) async fn acquire(dir: &Path) -> Result<StoreLock> {
        tokio::fs::create_dir_all(dir).await?;
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new().create(true).truncate(false).read(true).write(true).open(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(Error::StoreInUse),
            Err(TryLockError::Error(e)) => return Err(Error::Io(e)),
        }
        file.set_len(0)?;
        write!(file, "{}", std::process::id())?;
        Ok(StoreLock { _file: file })
    }
}
