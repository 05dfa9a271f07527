//! Zone-transfer management (PRODUCT §1, §3 "Endpoints"): the peers, TSIG keys and ACLs of an
//! account under `/accounts/{account_id}/secondary_dns/`, and a zone's incoming and outgoing
//! configuration under `/zones/{zone_id}/secondary_dns/`.
//!
//! The API stores and checks configuration; the primary and secondary roles act on it. They
//! hear about what needs acting on through [`TransferEvents`], called after each commit.
//! `peer_serials` asks the linked peers, live, which serial they serve.

pub mod acls;
pub mod incoming;
pub mod input;
pub mod outgoing;
pub mod peer_serials;
pub mod peers;
pub mod tsigs;

use crate::auth::Caller;
use crate::{ApiError, ApiState};
use chrono::{DateTime, Utc};
use tandem_store::{format_time, Account, ZoneRow};
use tandem_zone::Name;

/// What the transfer side of Tandem must act on after the API committed a change. Called on a
/// blocking thread after the store transaction, so implementations must be quick (hand the
/// event to a channel). What each call stands for is also in the store (the `enabled` flag,
/// `notify_requested`, `axfr_requested`), so a restart loses no request.
pub trait TransferEvents: Send + Sync {
    /// Outgoing transfers of the zone were turned on: send NOTIFY to every linked peer.
    fn outgoing_enabled(&self, zone_id: &str);
    /// Outgoing transfers of the zone were turned off, or its outgoing configuration deleted:
    /// refuse every transfer request for it and clear its IXFR backlog (empty the zone's
    /// journal), so that the next IXFR gets an AXFR-style answer (PRODUCT §1).
    fn outgoing_disabled(&self, zone_id: &str);
    /// force_notify: send NOTIFY to every linked peer of the zone now.
    fn notify_requested(&self, zone_id: &str);
    /// force_axfr: transfer the secondary zone in full from its primaries now.
    fn axfr_requested(&self, zone_id: &str);
    /// The zone's incoming or outgoing configuration was created, changed or deleted (also
    /// when the zone itself is deleted).
    fn zone_config_changed(&self, zone_id: &str);
    /// A peer, TSIG key or ACL of the account was created, changed or deleted.
    fn account_config_changed(&self, account_id: &str);
}

/// The [`TransferEvents`] used until a role registers its own: the requests stay recorded in
/// the store and nothing else happens.
pub struct NoTransferEvents;

impl TransferEvents for NoTransferEvents {
    fn outgoing_enabled(&self, _zone_id: &str) {}
    fn outgoing_disabled(&self, _zone_id: &str) {}
    fn notify_requested(&self, _zone_id: &str) {}
    fn axfr_requested(&self, _zone_id: &str) {}
    fn zone_config_changed(&self, _zone_id: &str) {}
    fn account_config_changed(&self, _account_id: &str) {}
}

/// The account `account_id` if the caller may see it; 404 otherwise.
pub(crate) fn visible_account(
    state: &ApiState,
    caller: &Caller,
    account_id: &str,
) -> Result<Account, ApiError> {
    match state.store().account(account_id)? {
        Some(a) if caller.sees(&a.id) => Ok(a),
        _ => Err(ApiError::not_found(format!(
            "account {account_id} not found"
        ))),
    }
}

/// RFC 3339 of an optional time.
pub(crate) fn opt_time(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(format_time)
}

/// The serial of the version of `zone` we serve; `None` while it has none (a secondary zone
/// before its first transfer).
pub(crate) fn served_serial(state: &ApiState, zone: &ZoneRow) -> Option<u32> {
    let apex = Name::parse(&zone.name).ok()?;
    state.zones().get(&apex)?.current().map(|v| v.serial())
}
