//! The NOTIFY event (RFC 1996): tell every linked secondary that the zone has a new serial.
//!
//! Each round sends one NOTIFY per peer carrying the current SOA (§3.7), from the configured
//! source address, and retransmits with doubling timeouts until the peer answers (§3.6) or the
//! retries run out. A newer round for the same zone supersedes an older one still retrying,
//! so rapid changes collapse into NOTIFYs for the latest serial.

use super::{EventHandler, ZoneEvent};
use crate::answer::unix_now;
use crate::zone::ZoneSet;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tandem_xfr::tsig::{sign_request, TsigKey};
use tandem_zone::record::{rtype, CLASS_IN};
use tandem_zone::Name;
use tokio::net::UdpSocket;

/// New serials within this window after a NOTIFY round collapse into one more round (RFC 1996
/// §4.1 leaves the delay to the implementation; BIND waits seconds, we keep propagation fast).
pub const COALESCE_WINDOW: Duration = Duration::from_millis(100);

/// When the NOTIFY round for a new serial published at `now` runs, given when the zone's
/// latest round was planned: at once after a quiet window; with a round still ahead, in that
/// round (it reads the newest serial when it runs); within a window of the last round, one
/// window after it, so a burst of changes makes at most one round per window.
pub(super) fn round_at<T>(last: Option<T>, now: T) -> T
where
    T: Copy + Ord + std::ops::Add<Duration, Output = T>,
{
    match last {
        Some(t) if t > now => t,
        Some(t) if now < t + COALESCE_WINDOW => t + COALESCE_WINDOW,
        _ => now,
    }
}

/// Where NOTIFYs go and where their outcome is recorded (the control plane).
pub trait NotifyTargets: Send + Sync + 'static {
    /// (peer id, address, key) of every linked peer with an ip, when outgoing transfers are
    /// enabled; empty otherwise. NOTIFYs to a peer with a key are signed with it. Must not
    /// block, as `notified`: both run on the round's tasks.
    fn notify_targets(&self, apex: &Name) -> Vec<(String, SocketAddr, Option<TsigKey>)>;
    /// The outcome of one peer's NOTIFY for `serial`: `Ok` when acknowledged. Hands it on
    /// without waiting for the store.
    fn notified(&self, apex: &Name, peer_id: &str, serial: u32, result: Result<(), String>);
}

/// Settings of outgoing NOTIFY.
#[derive(Clone, Copy, Debug)]
pub struct NotifyConfig {
    /// Source address (`--notify-source`); the kernel picks one when `None`.
    pub source: Option<IpAddr>,
    /// Wait for the first answer; doubled at each retransmission.
    pub timeout: Duration,
    /// Retransmissions after the first message (BIND and Knot default to a handful).
    pub retries: u32,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            source: None,
            timeout: Duration::from_secs(2),
            retries: 5,
        }
    }
}

/// Sends NOTIFY rounds when the scheduler says so.
pub struct NotifySender {
    zones: Arc<ZoneSet>,
    targets: Arc<dyn NotifyTargets>,
    cfg: NotifyConfig,
    rounds: Mutex<HashMap<Name, u64>>,
}

impl NotifySender {
    pub fn new(
        zones: Arc<ZoneSet>,
        targets: Arc<dyn NotifyTargets>,
        cfg: NotifyConfig,
    ) -> Arc<Self> {
        Arc::new(NotifySender {
            zones,
            targets,
            cfg,
            rounds: Mutex::new(HashMap::new()),
        })
    }

    fn current_round(&self, apex: &Name) -> u64 {
        let rounds = self.rounds.lock().unwrap_or_else(|e| e.into_inner());
        rounds.get(apex).copied().unwrap_or(0)
    }

    fn next_round(&self, apex: &Name) -> u64 {
        let mut rounds = self.rounds.lock().unwrap_or_else(|e| e.into_inner());
        let r = rounds.entry(apex.clone()).or_insert(0);
        *r += 1;
        *r
    }

    async fn round(self: Arc<Self>, apex: Name) {
        let round = self.next_round(&apex);
        let Some(version) = self.zones.get(&apex).and_then(|z| z.current()) else {
            return;
        };
        let serial = version.serial();
        let soa = version
            .apex_node()
            .rrset(rtype::SOA)
            .and_then(|s| s.entries().next().map(<[u8]>::to_vec))
            .unwrap_or_default();
        let targets = self.targets.notify_targets(&apex);
        for (peer_id, addr, key) in targets {
            let this = self.clone();
            let apex = apex.clone();
            let msg = notify_message(rand::random(), &apex, &soa);
            tokio::spawn(async move {
                let result = this.send(&apex, round, addr, msg, key.as_ref()).await;
                match &result {
                    Ok(()) => tracing::info!(zone = %apex, %addr, serial, "NOTIFY acknowledged"),
                    Err(e) => {
                        tracing::warn!(zone = %apex, %addr, serial, error = %e, "NOTIFY failed")
                    }
                }
                this.targets.notified(&apex, &peer_id, serial, result);
            });
        }
    }

    /// Sends one NOTIFY and retransmits until answered, superseded or out of retries.
    async fn send(
        &self,
        apex: &Name,
        round: u64,
        to: SocketAddr,
        mut msg: Vec<u8>,
        key: Option<&TsigKey>,
    ) -> Result<(), String> {
        // RFC 8945: a NOTIFY to a peer with a key is signed, and so must its answer be.
        let mut tsig = match key {
            Some(k) => Some(
                sign_request(&mut msg, k, unix_now())
                    .map_err(|e| format!("cannot sign NOTIFY: {e:?}"))?,
            ),
            None => None,
        };
        let msg = &msg[..];
        let local = crate::xfr_in::local_for(self.cfg.source, to);
        let sock = UdpSocket::bind(local)
            .await
            .map_err(|e| format!("cannot bind NOTIFY source {local}: {e}"))?;
        let id = u16::from_be_bytes([msg[0], msg[1]]);
        let mut wait = self.cfg.timeout;
        let mut buf = [0u8; 512];
        for _ in 0..=self.cfg.retries {
            if self.current_round(apex) != round {
                return Err("superseded by a newer NOTIFY".into());
            }
            sock.send_to(msg, to)
                .await
                .map_err(|e| format!("send to {to}: {e}"))?;
            let deadline = tokio::time::Instant::now() + wait;
            loop {
                match tokio::time::timeout_at(deadline, sock.recv_from(&mut buf)).await {
                    Err(_) => break,
                    Ok(Err(e)) => return Err(format!("receive from {to}: {e}")),
                    Ok(Ok((n, from))) => {
                        // RFC 1996 §3.6: the answer comes from the peer, with our ID,
                        // QR set and opcode NOTIFY; anything else is ignored.
                        if from != to || n < 12 || u16::from_be_bytes([buf[0], buf[1]]) != id {
                            continue;
                        }
                        let flags = u16::from_be_bytes([buf[2], buf[3]]);
                        if flags & 0x8000 == 0 || (flags >> 11) & 0xF != 4 {
                            continue;
                        }
                        if let Some(state) = tsig.as_mut() {
                            if let Err(e) = state.verify_response(&buf[..n], unix_now()) {
                                return Err(format!("{to} answered without a valid TSIG: {e:?}"));
                            }
                        }
                        return match flags & 0xF {
                            0 => Ok(()),
                            r => Err(format!("{to} answered rcode {r}")),
                        };
                    }
                }
            }
            wait *= 2;
        }
        Err(format!(
            "no answer from {to} after {} tries",
            self.cfg.retries + 1
        ))
    }
}

impl EventHandler for Arc<NotifySender> {
    fn run(&self, _scheduler: &super::Scheduler, apex: &Name, event: ZoneEvent) {
        if event == ZoneEvent::Notify {
            tokio::spawn(self.clone().round(apex.clone()));
        }
    }
}

/// A NOTIFY message (RFC 1996 §3.7): opcode NOTIFY, AA, question `apex SOA IN`, and the
/// current SOA in the answer section (`soa_body` is TYPE CLASS TTL RDLENGTH RDATA).
pub fn notify_message(id: u16, apex: &Name, soa_body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(64 + soa_body.len());
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&(0x2000u16 | 0x0400).to_be_bytes());
    let answers: u16 = if soa_body.is_empty() { 0 } else { 1 };
    for n in [1u16, answers, 0, 0] {
        m.extend_from_slice(&n.to_be_bytes());
    }
    m.extend_from_slice(apex.as_wire());
    m.extend_from_slice(&rtype::SOA.to_be_bytes());
    m.extend_from_slice(&CLASS_IN.to_be_bytes());
    if answers == 1 {
        m.extend_from_slice(&[0xC0, 12]);
        m.extend_from_slice(soa_body);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::{round_at, COALESCE_WINDOW};
    use std::time::{Duration, Instant};

    #[test]
    fn the_first_new_serial_notifies_at_once_and_bursts_coalesce() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        assert_eq!(round_at(None, t0), t0, "first change: at once");
        // A change 10 ms after that round: one window after it.
        assert_eq!(round_at(Some(t0), t0 + ms(10)), t0 + COALESCE_WINDOW);
        // More changes before that round runs ride on it.
        let next = t0 + COALESCE_WINDOW;
        assert_eq!(round_at(Some(next), t0 + ms(50)), next);
        // A change just after the second round: a window after it.
        assert_eq!(round_at(Some(next), next + ms(1)), next + COALESCE_WINDOW);
        // After a quiet window: at once again.
        let later = next + COALESCE_WINDOW + ms(1);
        assert_eq!(round_at(Some(next), later), later);
    }
}
