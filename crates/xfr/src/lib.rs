//! Zone transfer messages for Tandem: the response writer shared with the query path
//! (name compression, size limits), and AXFR (RFC 5936) and IXFR (RFC 1995) answer streams
//! built from immutable zone versions and condensed differences. No sockets and no policy:
//! callers decide who may transfer and move the messages.

pub mod axfr;
pub mod render;

pub use axfr::{axfr, ixfr, XfrConfig, XfrError};
