//! The per-zone event scheduler (after Knot's `events/`): one table of planned times per zone
//! and event type, where scheduling keeps the earlier of two times, driven by one task that
//! sleeps until the next planned event and runs its handler (one module per event).
//! Outgoing NOTIFY for every zone we feed; refresh (which is also the retry), forced transfer
//! and expire for secondary zones (RFC 1034 §4.3.5, RFC 1996).

pub mod expire;
pub mod notify_in;
pub mod notify_out;
pub mod refresh;
pub mod transfer;

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
    /// Ask the primaries for their SOA and transfer when theirs is newer; a failed refresh
    /// plans the next one at the retry interval (RFC 1034 §4.3.5).
    Refresh,
    /// A full transfer whatever the serials (force_axfr).
    Transfer,
    /// No successful refresh within the SOA expire interval: stop answering.
    Expire,
}

const EVENT_KINDS: usize = 4;
const EVENTS: [ZoneEvent; EVENT_KINDS] = [
    ZoneEvent::Notify,
    ZoneEvent::Refresh,
    ZoneEvent::Transfer,
    ZoneEvent::Expire,
];

impl ZoneEvent {
    fn index(self) -> usize {
        match self {
            ZoneEvent::Notify => 0,
            ZoneEvent::Refresh => 1,
            ZoneEvent::Transfer => 2,
            ZoneEvent::Expire => 3,
        }
    }
}

/// Runs an event that fell due. Handlers must not block: long work goes into a task. The
/// scheduler is passed in so that a handler can plan what follows.
pub trait EventHandler: Send + Sync + 'static {
    fn run(&self, scheduler: &Scheduler, apex: &Name, event: ZoneEvent);
}

enum Command {
    Schedule(Name, ZoneEvent, Instant),
    NewSerial(Name),
    Replace(Name, ZoneEvent, Instant),
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
        let scheduler = Scheduler { tx };
        tokio::spawn(run(rx, handler, scheduler.clone()));
        scheduler
    }

    /// Plans `event` for `apex` after `delay`; an earlier plan for the same event stays.
    pub fn schedule(&self, apex: &Name, event: ZoneEvent, delay: Duration) {
        let _ = self.tx.send(Command::Schedule(
            apex.clone(),
            event,
            Instant::now() + delay,
        ));
    }

    /// Plans `event` for `apex` at `at`, replacing any plan for it (a successful refresh
    /// moves the expire time later).
    pub fn replace_at(&self, apex: &Name, event: ZoneEvent, at: Instant) {
        let _ = self.tx.send(Command::Replace(apex.clone(), event, at));
    }

    /// Plans `event` for `apex` at `at`; an earlier plan for the same event stays.
    pub fn schedule_at(&self, apex: &Name, event: ZoneEvent, at: Instant) {
        let _ = self.tx.send(Command::Schedule(apex.clone(), event, at));
    }

    /// The zone serves a new serial (an API change, an import, an applied transfer in): its
    /// secondaries are notified at once after a quiet window, and a burst of new serials
    /// makes at most one NOTIFY round per [`notify_out::COALESCE_WINDOW`]
    /// (`notify_out::round_at`). Every path that publishes a serial comes through here.
    pub fn new_serial(&self, apex: &Name) {
        let _ = self.tx.send(Command::NewSerial(apex.clone()));
    }

    /// Drops a planned event.
    pub fn cancel(&self, apex: &Name, event: ZoneEvent) {
        let _ = self.tx.send(Command::Cancel(apex.clone(), event));
    }
}

/// Past this many zones with a remembered NOTIFY round, rounds whose window has passed are
/// forgotten (they no longer delay anything).
const ROUNDS_KEPT: usize = 1024;

/// Plans `event` of a zone at `at`, keeping the earlier of two plans (Knot's
/// `zone_events_schedule_at`).
fn schedule(
    table: &mut HashMap<Name, [Option<Instant>; EVENT_KINDS]>,
    apex: Name,
    event: ZoneEvent,
    at: Instant,
) {
    let slot = &mut table.entry(apex).or_default()[event.index()];
    if slot.is_none_or(|t| at < t) {
        *slot = Some(at);
    }
}

async fn run(
    mut rx: mpsc::UnboundedReceiver<Command>,
    handler: Arc<dyn EventHandler>,
    scheduler: Scheduler,
) {
    let mut table: HashMap<Name, [Option<Instant>; EVENT_KINDS]> = HashMap::new();
    // When each zone's latest NOTIFY round was planned, for the coalescing rule.
    let mut rounds: HashMap<Name, Instant> = HashMap::new();
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
                Some(Command::Schedule(apex, ev, at)) => schedule(&mut table, apex, ev, at),
                Some(Command::NewSerial(apex)) => {
                    let now = Instant::now();
                    if rounds.len() >= ROUNDS_KEPT {
                        rounds.retain(|_, t| *t + notify_out::COALESCE_WINDOW > now);
                    }
                    let at = notify_out::round_at(rounds.get(&apex).copied(), now);
                    rounds.insert(apex.clone(), at);
                    schedule(&mut table, apex, ZoneEvent::Notify, at);
                }
                Some(Command::Replace(apex, ev, at)) => {
                    table.entry(apex).or_default()[ev.index()] = Some(at);
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
                    handler.run(&scheduler, &apex, EVENTS[i]);
                }
            }
        }
    }
}

/// Routes each event to its module: NOTIFY out, and the secondary role's refresh, forced
/// transfer and expire.
pub struct ZoneEvents {
    pub notify: Arc<notify_out::NotifySender>,
    pub secondary: Arc<refresh::Secondary>,
}

impl EventHandler for ZoneEvents {
    fn run(&self, scheduler: &Scheduler, apex: &Name, event: ZoneEvent) {
        match event {
            ZoneEvent::Notify => self.notify.run(scheduler, apex, event),
            ZoneEvent::Refresh => self.secondary.run(scheduler, apex, false),
            ZoneEvent::Transfer => transfer::run(&self.secondary, scheduler, apex),
            ZoneEvent::Expire => expire::run(&self.secondary, apex),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Records when each event ran, on tokio's clock.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<(ZoneEvent, Instant)>>);

    impl EventHandler for Recorder {
        fn run(&self, _: &Scheduler, _: &Name, event: ZoneEvent) {
            self.0.lock().unwrap().push((event, Instant::now()));
        }
    }

    /// A new serial after a quiet period is notified at once; a burst right behind that
    /// round makes exactly one more round, one window later; a serial after a quiet window is
    /// at once again. (Paused tokio time: the clock moves only when every task waits. The
    /// burst is sent once the first round ran: serials that arrive before it runs simply
    /// ride on it, since a round reads the newest serial when it runs.)
    #[tokio::test(start_paused = true)]
    async fn new_serials_notify_at_once_then_coalesce() {
        let recorder = Arc::new(Recorder::default());
        let scheduler = Scheduler::start(recorder.clone());
        let apex = Name::parse("example.com").unwrap();
        let t0 = Instant::now();
        scheduler.new_serial(&apex);
        while recorder.0.lock().unwrap().is_empty() {
            tokio::task::yield_now().await;
        }
        for _ in 0..4 {
            scheduler.new_serial(&apex);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let quiet = Instant::now();
        scheduler.new_serial(&apex);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let window = notify_out::COALESCE_WINDOW;
        assert_eq!(
            *recorder.0.lock().unwrap(),
            vec![
                (ZoneEvent::Notify, t0),
                (ZoneEvent::Notify, t0 + window),
                (ZoneEvent::Notify, quiet),
            ]
        );
    }
}
