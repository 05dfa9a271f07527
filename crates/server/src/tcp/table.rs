//! The open connections of one DNS-over-TCP listener: one fixed slot per allowed connection,
//! each holding the time its connection went idle, so that when every slot is taken the
//! connection idle the longest can be closed to make room for a new one (RFC 7766 §6.2.3:
//! a server may shorten idle timeouts, down to zero, when it is under heavy load or attack).
//!
//! Idle means: between two messages, with nothing of the next message read and no answer or
//! transfer being written. A connection is busy from the first octet of a message until its
//! answer (or its whole outgoing AXFR/IXFR) has been written; a busy connection is never
//! evicted, and its reads and writes are bounded by the idle timeout instead. Bookkeeping on
//! the query path is one atomic compare-exchange when a message begins and one store when its
//! answer is out; the scan for the longest idle happens only when a connection arrives to a
//! full table.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::Notify;

/// Slot states; any other value is the millisecond (since the table's start) at which the
/// connection went idle.
const FREE: u64 = u64::MAX;
const BUSY: u64 = u64::MAX - 1;
const EVICTED: u64 = u64::MAX - 2;

/// A scan may lose its candidate to a message arriving on it; then it looks again, this many
/// times in all.
const EVICTION_SCANS: usize = 3;

struct Slot {
    state: AtomicU64,
    /// Wakes the connection's idle wait when it is evicted. A wake-up left over from an
    /// earlier occupant is told apart by the state, which is then not `EVICTED`.
    evict: Notify,
}

/// The slots of one listener.
pub(crate) struct ConnectionTable {
    slots: Box<[Slot]>,
    /// Indexes of free slots (taken on accept, given back when a connection ends).
    free: Mutex<Vec<usize>>,
    /// Signalled whenever a slot is given back.
    freed: Notify,
    start: Instant,
}

impl ConnectionTable {
    pub(crate) fn new(capacity: usize) -> Arc<ConnectionTable> {
        Arc::new(ConnectionTable {
            slots: (0..capacity)
                .map(|_| Slot {
                    state: AtomicU64::new(FREE),
                    evict: Notify::new(),
                })
                .collect(),
            free: Mutex::new((0..capacity).rev().collect()),
            freed: Notify::new(),
            start: Instant::now(),
        })
    }

    fn now_ms(&self) -> u64 {
        // Below the state values for any uptime shorter than half a billion years.
        self.start.elapsed().as_millis() as u64
    }

    /// A free slot for a new connection, idle from now; `None` when the table is full.
    pub(crate) fn claim(self: &Arc<Self>) -> Option<Lease> {
        let index = self.free.lock().unwrap_or_else(|e| e.into_inner()).pop()?;
        self.slots[index]
            .state
            .store(self.now_ms(), Ordering::Release);
        Some(Lease {
            table: self.clone(),
            index,
        })
    }

    /// Waits until a slot is given back, and claims it. Only the accept loop claims slots, so
    /// a slot given back is not taken by anyone else meanwhile.
    pub(crate) async fn claim_freed(self: &Arc<Self>) -> Lease {
        loop {
            if let Some(lease) = self.claim() {
                return lease;
            }
            // `notify_one` keeps a wake-up for a release that comes before this wait.
            self.freed.notified().await;
        }
    }

    /// Marks the connection idle the longest as evicted and wakes it, so that it closes and
    /// gives its slot back. `false` when no connection is idle.
    pub(crate) fn evict_longest_idle(&self) -> bool {
        for _ in 0..EVICTION_SCANS {
            let oldest = self
                .slots
                .iter()
                .enumerate()
                .map(|(i, s)| (i, s.state.load(Ordering::Acquire)))
                .filter(|&(_, since)| since < EVICTED)
                .min_by_key(|&(_, since)| since);
            let Some((index, since)) = oldest else {
                return false;
            };
            let slot = &self.slots[index];
            // Fails when a message began on it since the scan: it is busy now.
            if slot
                .state
                .compare_exchange(since, EVICTED, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                slot.evict.notify_one();
                return true;
            }
        }
        false
    }
}

/// One connection's slot, given back when dropped.
pub(crate) struct Lease {
    table: Arc<ConnectionTable>,
    index: usize,
}

impl Lease {
    fn slot(&self) -> &Slot {
        &self.table.slots[self.index]
    }

    /// A message began: the connection is busy until [`Lease::idle`]. `false` when it was
    /// evicted first; it must then close.
    pub(crate) fn busy(&self) -> bool {
        let state = &self.slot().state;
        let since = state.load(Ordering::Acquire);
        // Only the evictor changes an idle slot, and only to EVICTED.
        since < EVICTED
            && state
                .compare_exchange(since, BUSY, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
    }

    /// The answer is out and nothing of the next message has been read: idle from now.
    pub(crate) fn idle(&self) {
        // While busy the slot is this connection's alone.
        self.slot()
            .state
            .store(self.table.now_ms(), Ordering::Release);
    }

    /// Returns once the connection has been evicted.
    pub(crate) async fn evicted(&self) {
        loop {
            self.slot().evict.notified().await;
            if self.slot().state.load(Ordering::Acquire) == EVICTED {
                return;
            }
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.slot().state.store(FREE, Ordering::Release);
        self.table
            .free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(self.index);
        self.table.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Claims `n` slots, each idle a little later than the one before.
    fn full_table(n: usize) -> (Arc<ConnectionTable>, Vec<Lease>) {
        let table = ConnectionTable::new(n);
        let mut leases = Vec::new();
        for _ in 0..n {
            leases.push(table.claim().expect("a free slot"));
            std::thread::sleep(Duration::from_millis(3));
        }
        assert!(table.claim().is_none(), "the table is full");
        (table, leases)
    }

    fn is_evicted(lease: &Lease) -> bool {
        lease.slot().state.load(Ordering::Acquire) == EVICTED
    }

    #[test]
    fn the_longest_idle_is_evicted_and_never_a_busy_one() {
        let (table, leases) = full_table(4);
        // The oldest is answering a message: the next oldest goes.
        assert!(leases[0].busy());
        assert!(table.evict_longest_idle());
        assert!(is_evicted(&leases[1]));
        assert!(
            !leases[1].busy(),
            "an evicted connection cannot begin a message"
        );
        for i in [0, 2, 3] {
            assert!(!is_evicted(&leases[i]), "slot {i} evicted");
        }
        // The first goes idle again: now it is the newest idle.
        leases[0].idle();
        assert!(table.evict_longest_idle());
        assert!(is_evicted(&leases[2]));
        assert!(!is_evicted(&leases[0]));
    }

    #[test]
    fn nothing_is_evicted_when_every_connection_is_busy() {
        let (table, leases) = full_table(3);
        for lease in &leases {
            assert!(lease.busy());
        }
        assert!(!table.evict_longest_idle());
    }

    #[test]
    fn an_evicted_connection_wakes_and_its_slot_goes_to_the_next_claim() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let (table, mut leases) = full_table(2);
            assert!(table.evict_longest_idle());
            let victim = leases.remove(0);
            let closed = tokio::spawn(async move {
                victim.evicted().await;
                drop(victim);
            });
            let lease = tokio::time::timeout(Duration::from_secs(10), table.claim_freed())
                .await
                .expect("the evicted slot is given back");
            closed.await.unwrap();
            assert!(lease.busy());
            // A connection evicted as its next message began closes without waiting for the
            // wake-up; the next occupant of its slot must not take that wake-up for its own.
            assert!(table.evict_longest_idle());
            let victim = leases.remove(0);
            assert!(!victim.busy());
            drop(victim);
            let lease = table.claim().expect("the slot was given back");
            let stale = tokio::time::timeout(Duration::from_millis(50), lease.evicted()).await;
            assert!(stale.is_err(), "a new connection inherited an eviction");
        });
    }
}
