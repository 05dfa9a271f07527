//! Why a transfer request or a NOTIFY is refused under the access rule of PRODUCT.md §1.
//! A refusal is decided for traffic anyone can send, so it is a plain value: deciding one
//! allocates nothing, and its text is only written when a log line has room for it.

use std::sync::Arc;

/// The reason a transfer request or NOTIFY is refused (logged, never sent to the peer).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("zone not in the store")]
    UnknownZone,
    #[error("outgoing transfers are not configured for this zone")]
    OutgoingNotConfigured,
    #[error("outgoing transfers are disabled for this zone")]
    OutgoingDisabled,
    /// A NOTIFY for a zone that is not a secondary zone with a configured primary.
    #[error("incoming transfers are not configured for this zone")]
    IncomingNotConfigured,
    #[error("the key belongs to no linked peer of this zone")]
    KeyNotLinked,
    #[error("the source is not the address of the peer owning the key nor inside an ACL range")]
    KeyFromElsewhere,
    /// An unsigned message from the address of a linked peer that has a TSIG key.
    #[error("peer {peer} must sign with its TSIG key")]
    PeerMustSign { peer: Arc<str> },
    /// An unsigned message from inside an ACL range while linked peers use TSIG.
    #[error("the source is in ACL {acl} but linked peers use TSIG: the message must be signed")]
    AclMustSign { acl: Arc<str> },
    #[error("the source is neither a linked peer nor inside an ACL range")]
    Stranger,
}
