//! The per-zone event scheduler (after Knot's `events/`): one table of planned times per zone
//! and event type, where scheduling keeps the earlier of two times, driven by one task that
//! sleeps until the next planned event and runs its handler (one module per event).
//! Outgoing NOTIFY is the first event; refresh, retry and expire of secondary zones join it.

pub mod notify;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tandem_zone::Name;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// What can be planned for a zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ZoneEvent {
    /// Send NOTIFY to the zone's secondaries (RFC 1996).
    Notify,
}

const EVENT_KINDS: usize = 1;
const EVENTS: [ZoneEvent; EVENT_KINDS] = [ZoneEvent::Notify];

impl ZoneEvent {
    fn index(self) -> usize {
        match self {
            ZoneEvent::Notify => 0,
        }
    }
}

/// Runs an event that fell due. Handlers must not block: long work goes into a task.
pub trait EventHandler: Send + Sync + 'static {
    fn run(&self, apex: &Name, event: ZoneEvent);
}

enum Command {
    Schedule(Name, ZoneEvent, Instant),
    Cancel(Name, ZoneEvent),
}

/// Handle to the scheduler task; cheap to clone.
#[derive(Clone)]
pub struct Scheduler {
    tx: mpsc::UnboundedSender<Command>,
}

impl Scheduler {
    /// Starts the scheduler task on the current tokio runtime.
    pub fn start(handler: Arc<dyn EventHandler>) -> Scheduler {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(rx, handler));
        Scheduler { tx }
    }

    /// Plans `event` for `apex` after `delay`; an earlier plan for the same event stays.
    pub fn schedule(&self, apex: &Name, event: ZoneEvent, delay: Duration) {
        let _ = self.tx.send(Command::Schedule(
            apex.clone(),
            event,
            Instant::now() + delay,
        ));
    }

    /// Drops a planned event.
    pub fn cancel(&self, apex: &Name, event: ZoneEvent) {
        let _ = self.tx.send(Command::Cancel(apex.clone(), event));
    }
}

async fn run(mut rx: mpsc::UnboundedReceiver<Command>, handler: Arc<dyn EventHandler>) {
    let mut table: HashMap<Name, [Option<Instant>; EVENT_KINDS]> = HashMap::new();
    loop {
        let next = table
            .iter()
            .flat_map(|(apex, times)| {
                times
                    .iter()
                    .enumerate()
                    .filter_map(move |(i, t)| t.map(|t| (t, apex, i)))
            })
            .min_by_key(|(t, _, _)| *t)
            .map(|(t, apex, i)| (t, apex.clone(), i));
        let sleep = async {
            match &next {
                Some((t, _, _)) => tokio::time::sleep_until(*t).await,
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            cmd = rx.recv() => match cmd {
                None => return,
                Some(Command::Schedule(apex, ev, at)) => {
                    let slot = &mut table.entry(apex).or_default()[ev.index()];
                    // Keep the earlier of two plans (Knot's zone_events_schedule_at).
                    if slot.is_none_or(|t| at < t) {
                        *slot = Some(at);
                    }
                }
                Some(Command::Cancel(apex, ev)) => {
                    if let Some(times) = table.get_mut(&apex) {
                        times[ev.index()] = None;
                    }
                }
            },
            _ = sleep => {
                if let Some((_, apex, i)) = next {
                    if let Some(times) = table.get_mut(&apex) {
                        times[i] = None;
                        if times.iter().all(Option::is_none) {
                            table.remove(&apex);
                        }
                    }
                    handler.run(&apex, EVENTS[i]);
                }
            }
        }
    }
}
