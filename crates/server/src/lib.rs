//! The DNS front end: UDP and TCP listeners and the query-answering path.

pub mod access;
pub mod answer;
pub mod events;
pub mod ixfr_request;
pub mod log_budget;
pub mod memory;
pub mod metrics;
pub mod refusal;
pub mod tcp;
pub mod udp;
pub mod wire;
pub mod xfr_in;
pub mod xfr_out;
pub mod zone;

pub use answer::{respond, AnswerConfig, Transport};
