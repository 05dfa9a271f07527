//! The expire event of a secondary zone (RFC 1034 §4.3.5): no refresh succeeded within the SOA
//! expire interval, so the copy can no longer be trusted and the zone answers SERVFAIL until a
//! refresh succeeds. A successful refresh moves this event later; reaching it is the failure.

use super::refresh::Secondary;
use crate::zone::Serving;
use std::sync::Arc;
use tandem_zone::Name;

pub(super) fn run(secondary: &Arc<Secondary>, apex: &Name) {
    secondary.expire(apex);
}

impl Secondary {
    /// Stops answering from the zone's copy and records the state.
    pub(super) fn expire(self: &Arc<Self>, apex: &Name) {
        let Some(zone) = self.zones().get(apex) else {
            return;
        };
        if zone.current().is_none() {
            return;
        }
        zone.set_serving(Serving::Expired);
        tracing::warn!(zone = %apex, "zone expired: no successful refresh within the SOA expire interval; answering SERVFAIL");
        self.control().expired(apex);
    }
}
