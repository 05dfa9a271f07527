//! Giving freed memory back. glibc keeps the pages a replaced zone version freed in its arenas,
//! so RSS after a large transfer or import stays at its peak; `malloc_trim` returns them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A change of at least this many records is followed by a trim.
pub const LARGE_CHANGE: usize = 10_000;

/// How long after a large change the trim runs: by then the replaced version, the request's
/// buffers and the readers still holding the old version are gone.
const SETTLE: Duration = Duration::from_secs(2);

/// Returns the heap's free pages to the system, off the async workers (trimming walks the
/// arenas).
pub async fn release_free_memory() {
    let _ = tokio::task::spawn_blocking(release_free_memory_now).await;
}

/// [`release_free_memory`] on the calling thread, for when nothing else runs yet (after the
/// zones are loaded at start, whose rows were read and dropped).
pub fn release_free_memory_now() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only reorganises the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

static PENDING: AtomicBool = AtomicBool::new(false);

/// Plans one trim a moment from now, without waiting for it; changes before it runs share it.
/// Does nothing outside a Tokio runtime.
pub fn release_free_memory_soon() {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    if PENDING.swap(true, Ordering::AcqRel) {
        return;
    }
    runtime.spawn(async {
        tokio::time::sleep(SETTLE).await;
        PENDING.store(false, Ordering::Release);
        release_free_memory().await;
    });
}
