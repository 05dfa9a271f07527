//! Transfer, NOTIFY and refresh status on its way to the store. Outgoing transfers finish on
//! TCP tasks and UDP workers, NOTIFY rounds and the secondary role's refreshes on their own
//! tasks; none of them may wait for the store's one writer, which a large import holds for
//! seconds. They hand their status to a bounded channel instead, and one thread writes it.
//! When the channel is full (the store is stuck far longer than status arrives), the newest
//! status is dropped and counted: it is a display of what happened last, and the next
//! transfer, NOTIFY or refresh writes it again. Shutdown flushes the channel.

use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use tandem_store::Storage;

/// Status waiting to be written. Far more than arrives while one import holds the writer.
const CAPACITY: usize = 4096;

/// One status to record.
#[derive(Debug)]
pub(crate) enum Status {
    /// An outgoing transfer finished; `peer` is the linked peer it went to, if any (a
    /// requester from an ACL range has none).
    TransferOut {
        zone_id: Arc<str>,
        peer: Option<Arc<str>>,
        at: DateTime<Utc>,
        kind: &'static str,
        serial: u32,
    },
    /// The outcome of a NOTIFY to a peer: "ok" or why not.
    Notify {
        zone_id: Arc<str>,
        peer: Arc<str>,
        at: DateTime<Utc>,
        result: String,
    },
    /// A secondary zone's refresh ended. Dropped when the channel is full, as the rest: the
    /// next refresh records its outcome again, and a restart checks every zone at once.
    Refresh(Box<tandem_store::RefreshRecord>),
    /// A secondary zone expired.
    Expired { zone_id: Arc<str> },
    /// Everything sent before it is written: the writer answers on the channel.
    Barrier(std::sync::mpsc::Sender<()>),
}

/// The sending side; cheap to call from any thread, never blocks.
pub(crate) struct StatusSender {
    tx: SyncSender<Status>,
    dropped: AtomicU64,
}

impl StatusSender {
    /// A sender whose status `sink` gets, in order, on a thread of its own.
    pub(crate) fn start(sink: impl FnMut(Status) + Send + 'static) -> std::io::Result<Self> {
        let (tx, rx) = sync_channel(CAPACITY);
        std::thread::Builder::new()
            .name("status-writer".into())
            .spawn(move || drain(rx, sink))?;
        Ok(StatusSender {
            tx,
            dropped: AtomicU64::new(0),
        })
    }

    /// A sender that writes to `store`, logging what it cannot write.
    pub(crate) fn to_store(store: Arc<dyn Storage>) -> std::io::Result<Self> {
        Self::start(move |status| {
            if let Err(e) = write(store.as_ref(), &status) {
                tracing::error!(error = %e, ?status, "cannot record the status");
            }
        })
    }

    /// Queues `status` without waiting.
    pub(crate) fn send(&self, status: Status) {
        match self.tx.try_send(status) {
            Ok(()) => {}
            Err(TrySendError::Full(status)) => {
                let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                // Once, then every 1000th, so a stuck store cannot flood the log either.
                if n == 1 || n.is_multiple_of(1000) {
                    tracing::warn!(
                        dropped = n,
                        ?status,
                        "the store is not keeping up; transfer status dropped"
                    );
                }
            }
            Err(TrySendError::Disconnected(_)) => {
                tracing::error!("the status writer has stopped; transfer status dropped");
            }
        }
    }

    /// Waits, at most `timeout`, until everything sent so far is written: at shutdown, so
    /// that the last refresh outcomes and NOTIFY results are not lost with the process.
    pub(crate) fn flush(&self, timeout: std::time::Duration) -> bool {
        let (tx, rx) = std::sync::mpsc::channel();
        let deadline = std::time::Instant::now() + timeout;
        let mut barrier = Status::Barrier(tx);
        loop {
            match self.tx.try_send(barrier) {
                Ok(()) => break,
                Err(TrySendError::Full(b)) if std::time::Instant::now() < deadline => {
                    barrier = b;
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(_) => return false,
            }
        }
        rx.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
            .is_ok()
    }

    /// Status dropped so far because the channel was full.
    #[cfg(test)]
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

fn drain(rx: Receiver<Status>, mut sink: impl FnMut(Status)) {
    while let Ok(status) = rx.recv() {
        match status {
            Status::Barrier(done) => {
                let _ = done.send(());
            }
            status => sink(status),
        }
    }
}

pub(crate) fn write(store: &dyn Storage, status: &Status) -> Result<(), tandem_store::StoreError> {
    match status {
        Status::TransferOut {
            zone_id,
            peer,
            at,
            kind,
            serial,
        } => store.record_transfer_out(zone_id, peer.as_deref(), *at, kind, *serial),
        Status::Notify {
            zone_id,
            peer,
            at,
            result,
        } => store.record_notify(zone_id, peer, *at, result),
        Status::Refresh(r) => store.record_refresh(r),
        Status::Expired { zone_id } => store.record_expired(zone_id),
        Status::Barrier(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;
    use std::sync::{Barrier, Mutex};

    fn notify(i: usize) -> Status {
        Status::Notify {
            zone_id: "z".into(),
            peer: "p".into(),
            at: Utc::now(),
            result: i.to_string(),
        }
    }

    #[test]
    fn sending_never_waits_for_a_stuck_writer_and_counts_what_it_drops() {
        let gate = Arc::new(Barrier::new(2));
        let written = Arc::new(Mutex::new(Vec::new()));
        let (first_tx, first_rx) = channel();
        let sink = {
            let (gate, written) = (gate.clone(), written.clone());
            let mut first = Some(first_tx);
            move |s: Status| {
                if let Some(tx) = first.take() {
                    // The first status holds the writer until the test lets it go.
                    tx.send(()).unwrap();
                    gate.wait();
                }
                written.lock().unwrap().push(s);
            }
        };
        let sender = StatusSender::start(sink).unwrap();
        sender.send(notify(0));
        first_rx.recv().unwrap();
        // The writer is stuck; the channel takes CAPACITY more, and the rest is dropped.
        for i in 1..=CAPACITY + 10 {
            sender.send(notify(i));
        }
        assert_eq!(sender.dropped(), 10);
        gate.wait();
        drop(sender);
        // Everything queued is written, in order, once the writer moves again.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while written.lock().unwrap().len() < CAPACITY + 1 {
            assert!(
                std::time::Instant::now() < deadline,
                "the writer did not drain"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let written = written.lock().unwrap();
        assert_eq!(written.len(), CAPACITY + 1);
        for (i, s) in written.iter().enumerate() {
            let Status::Notify { result, .. } = s else {
                panic!("{s:?}")
            };
            assert_eq!(result, &i.to_string());
        }
    }

    #[test]
    fn flush_returns_once_everything_sent_before_it_is_written() {
        let written = Arc::new(Mutex::new(Vec::new()));
        let sink = {
            let written = written.clone();
            move |s: Status| {
                std::thread::sleep(std::time::Duration::from_millis(2));
                written.lock().unwrap().push(s);
            }
        };
        let sender = StatusSender::start(sink).unwrap();
        for i in 0..50 {
            sender.send(notify(i));
        }
        assert!(sender.flush(std::time::Duration::from_secs(30)));
        assert_eq!(written.lock().unwrap().len(), 50);
    }
}
