//! NOTIFY received for a secondary zone (RFC 1996 §3.7, §4.7), under the access rule of
//! PRODUCT.md §1: an obeyed NOTIFY is answered QR+AA NOERROR and plans an SOA check (never a
//! blind transfer); any other is answered REFUSED, logged, and changes nothing. The check is
//! rate-limited per zone by the secondary role, so a flood costs at most one check per
//! interval.

use crate::answer::Asker;
use crate::log_budget::{Budget, NOTIFY_REFUSED};
use crate::refusal::Refusal;
use crate::wire::{rcode, Query};
use crate::zone::ZoneSet;
use std::net::IpAddr;
use tandem_zone::name::{wire_len, WireName};
use tandem_zone::record::rtype;
use tandem_zone::Name;

/// Decides on a NOTIFY and, when it is obeyed, plans the SOA check.
pub trait NotifyReceiver: Send + Sync + 'static {
    /// `key`: the TSIG key the NOTIFY was verified with. `Err` says why it is refused.
    fn notify(&self, apex: &Name, source: IpAddr, key: Option<&Name>) -> Result<(), Refusal>;
}

/// The response code for a NOTIFY query. A refused NOTIFY allocates nothing and takes no
/// lock: anyone can send a flood of them.
pub fn answer(
    zones: &ZoneSet,
    q: &Query,
    receiver: Option<&dyn NotifyReceiver>,
    asker: Asker<'_>,
) -> u16 {
    let (source, key) = match asker {
        Asker::Unsigned(s) => (s, None),
        Asker::Signed(s, k, _) => (s, Some(k)),
    };
    // RFC 1996 §3.7: the question is the zone's apex, type SOA.
    if q.qtype != rtype::SOA {
        if let Budget::Log { suppressed } = NOTIFY_REFUSED.take() {
            tracing::info!(%source, qtype = q.qtype, suppressed, "NOTIFY refused: the question type must be SOA");
        }
        return rcode::FORMERR;
    }
    // The question name is already lowercase wire form, checked by the parser.
    if wire_len(q.qname()) != Ok(q.qname().len()) {
        return rcode::FORMERR;
    }
    let Some(receiver) = receiver else {
        return rcode::REFUSED;
    };
    let Some(zone) = zones.get(q.qname()) else {
        if let Budget::Log { suppressed } = NOTIFY_REFUSED.take() {
            let zone = WireName(q.qname());
            tracing::info!(%zone, %source, suppressed, "NOTIFY refused: not a zone of this server");
        }
        return rcode::REFUSED;
    };
    let apex = zone.apex();
    match receiver.notify(apex, source, key) {
        Ok(()) => {
            tracing::info!(zone = %apex, %source, "NOTIFY accepted; SOA check planned");
            rcode::NOERROR
        }
        Err(why) => {
            if let Budget::Log { suppressed } = NOTIFY_REFUSED.take() {
                tracing::warn!(zone = %apex, %source, key = key.map(tracing::field::display), reason = %why, suppressed, "NOTIFY refused");
            }
            rcode::REFUSED
        }
    }
}

/// The secondary role obeys a NOTIFY its access rule allows by planning an SOA check.
impl NotifyReceiver for super::refresh::Secondary {
    fn notify(&self, apex: &Name, source: IpAddr, key: Option<&Name>) -> Result<(), Refusal> {
        self.control().authorize_notify(apex, source, key)?;
        self.notified(apex);
        Ok(())
    }
}
