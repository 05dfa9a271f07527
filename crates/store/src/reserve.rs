//! Room kept on the data dir's file system for a restart on a full disk.
//!
//! A store that filled its disk must still be able to start again: open SQLite (which may
//! have to create its `-shm` index and recover the WAL), check the administrator token and
//! write `listen.json`. `DATA_DIR/reserve` holds [`RESERVE_BYTES`] of that room. Start-up
//! steps that fail for want of space release it and try once more; the running server puts
//! it back as soon as the file system has room for it and as much again. API writes never
//! eat into it: they fail with a clear error while the disk is full and succeed again as soon
//! as space is freed.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The file that holds the room.
pub const RESERVE_FILE: &str = "reserve";
/// Room kept: enough for SQLite's WAL index, a few pages of WAL and `listen.json`.
pub const RESERVE_BYTES: u64 = 8 << 20;

/// The reserve of one data dir.
#[derive(Clone, Debug)]
pub struct Reserve {
    dir: PathBuf,
}

impl Reserve {
    pub fn in_dir(dir: &Path) -> Reserve {
        Reserve {
            dir: dir.to_path_buf(),
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.join(RESERVE_FILE)
    }

    /// Whether the reserve is in place, whole.
    pub fn is_held(&self) -> bool {
        std::fs::metadata(self.path()).is_ok_and(|m| m.len() >= RESERVE_BYTES)
    }

    /// Frees the room for use; `true` when there was any to free.
    pub fn release(&self) -> bool {
        let held = std::fs::metadata(self.path()).is_ok();
        let _ = std::fs::remove_file(self.dir.join("reserve.tmp"));
        held && std::fs::remove_file(self.path()).is_ok()
    }

    /// Puts the reserve in place when it is missing and the file system has room for it twice
    /// over (so taking it never leaves the store itself without space). `Ok(true)` when the
    /// reserve is held afterwards.
    pub fn replenish(&self) -> std::io::Result<bool> {
        if self.is_held() {
            return Ok(true);
        }
        if free_bytes(&self.dir)? < 2 * RESERVE_BYTES {
            return Ok(false);
        }
        let tmp = self.dir.join("reserve.tmp");
        let written = write_filler(&tmp).and_then(|()| std::fs::rename(&tmp, self.path()));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(true)
    }
}

/// Writes [`RESERVE_BYTES`] of bytes that no file system compresses or deduplicates away
/// (a xorshift sequence), and syncs them, so the blocks are really taken.
fn write_filler(path: &Path) -> std::io::Result<()> {
    let mut file = std::fs::File::create(path)?;
    let mut chunk = vec![0u8; 1 << 20];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ u64::from(std::process::id());
    let mut left = RESERVE_BYTES;
    while left > 0 {
        for word in chunk.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            word.copy_from_slice(&x.to_le_bytes());
        }
        let n = left.min(chunk.len() as u64) as usize;
        file.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    file.sync_all()
}

/// Bytes an unprivileged process may still write on the file system holding `dir`.
pub fn free_bytes(dir: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    // SAFETY: statvfs reads the NUL-terminated path and writes only into the struct we own.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    #[allow(clippy::unnecessary_cast)] // the field types differ between platforms
    Ok(st.f_bavail as u64 * st.f_frsize as u64)
}

/// Whether `e` says the file system is full (SQLite's SQLITE_FULL, or ENOSPC/EDQUOT).
pub fn is_disk_full(e: &crate::StoreError) -> bool {
    match e {
        crate::StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
            f.code == rusqlite::ErrorCode::DiskFull
        }
        crate::StoreError::Io { source, .. } => io_is_disk_full(source),
        _ => false,
    }
}

/// Whether an I/O error says the file system is full (or the quota is spent).
pub fn io_is_disk_full(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    ) || e.raw_os_error() == Some(libc::ENOSPC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_is_written_released_and_written_again() {
        let dir = tempfile::tempdir().unwrap();
        let r = Reserve::in_dir(dir.path());
        assert!(!r.is_held());
        assert!(!r.release(), "nothing to release yet");
        assert!(r.replenish().unwrap(), "a temp dir has room for 8 MiB");
        assert!(r.is_held());
        let len = std::fs::metadata(dir.path().join(RESERVE_FILE))
            .unwrap()
            .len();
        assert_eq!(len, RESERVE_BYTES);
        assert!(r.release());
        assert!(!r.is_held());
        assert!(r.replenish().unwrap());
        assert!(free_bytes(dir.path()).unwrap() > 0);
    }

    #[test]
    fn disk_full_errors_are_recognised() {
        let full = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        );
        assert!(is_disk_full(&crate::StoreError::Sqlite(full)));
        let enospc = crate::StoreError::Io {
            path: "x".into(),
            source: std::io::Error::from_raw_os_error(libc::ENOSPC),
        };
        assert!(is_disk_full(&enospc));
        assert!(!is_disk_full(&crate::StoreError::Conflict("x".into())));
    }
}
