//! Zone data for Tandem: names, records, RRsets, immutable zone versions that share their
//! unchanged parts, the differences between versions, serial arithmetic (RFC 1982) and the
//! zone-file presentation form (RFC 1035 §5).

mod build;
pub mod diff;
pub mod name;
pub mod net;
mod node;
mod nodes;
pub mod present;
pub mod rdata;
pub mod recent;
pub mod record;
pub mod serial;
pub mod text;
pub mod version;

pub use diff::ZoneDiff;
pub use name::Name;
pub use record::{fits_in_message, Record, Soa};
pub use version::{NodeRef, RrSet, ZoneError, ZoneVersion};
