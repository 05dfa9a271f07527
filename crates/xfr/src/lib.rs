//! Zone transfer messages for Tandem: the response writer shared with the query path
//! (name compression, size limits), AXFR (RFC 5936) and IXFR (RFC 1995) answer streams
//! built from immutable zone versions and condensed differences, and TSIG (RFC 8945) for
//! requests and answers. No sockets and no policy: callers decide who may transfer and move
//! the messages.

pub mod axfr;
pub mod incoming;
pub mod render;
pub mod tsig;

pub use axfr::{axfr, ixfr, rr_body, XfrConfig, XfrError};
