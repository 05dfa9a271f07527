//! End-to-end test harness for Tandem: starts the real `tandem` binary (and Knot DNS as a
//! reference; BIND, Knot and NSD as its primaries and secondaries; a scripted fake primary),
//! talks to it through its REST API and over DNS with a client that shares no code with the
//! server's answering path.
//!
//! Environment:
//! - `TANDEM_BIN=PATH` runs that binary instead of building `tandem` with the tests' profile
//!   and target dir (`cargo test --workspace --no-run`, once per test process: under `cargo
//!   test --workspace`, the build that has just run).
//! - `TANDEM_INTEROP=require` makes a missing `knotd`, `named`, `nsd` or `dig` fail the
//!   interop tests instead of skipping them (loudly).
//! - `TANDEM_E2E_REFERENCE=knotd` runs the tests built on `ExampleServer` against knotd, to
//!   check the tests' own expectations against a reference implementation. Known knotd
//!   differences: it drops QDCOUNT=2 instead of FORMERR, and answers IXFR over UDP with NOTAUTH.

pub mod api;
pub mod bind;
pub mod diff;
pub mod dns;
pub mod expect;
pub mod fake_primary;
pub mod fake_setup;
mod fake_tsig;
pub mod fuzz;
pub mod incoming;
pub mod knot;
pub mod malformed;
pub mod nsd;
pub mod primary;
pub mod process;
pub mod secondary;
pub mod tandem;
pub mod zones;

pub use api::Api;
pub use bind::Bind;
pub use knot::{Knot, KnotSecondary};
pub use process::require_tool;
pub use tandem::Tandem;

/// Soft assertions: a test records every failed expectation and reports them all at the end,
/// so one run shows every broken behaviour instead of the first.
#[derive(Default)]
pub struct Checks {
    failures: Vec<String>,
    checked: usize,
}

impl Checks {
    pub fn new() -> Checks {
        Checks::default()
    }

    /// Records a failure with `message()` when `ok` is false.
    pub fn check(&mut self, ok: bool, message: impl FnOnce() -> String) {
        self.checked += 1;
        if !ok {
            self.failures.push(message());
        }
    }

    /// Records a failure.
    pub fn fail(&mut self, message: String) {
        self.checked += 1;
        self.failures.push(message);
    }

    /// Checks `left == right`.
    pub fn eq<T: PartialEq + std::fmt::Debug>(&mut self, left: T, right: T, what: &str) {
        let ok = left == right;
        self.check(ok, || format!("{what}: got {left:?}, expected {right:?}"));
    }

    /// Panics listing every failure, if there was any.
    pub fn finish(self) {
        if !self.failures.is_empty() {
            let mut text = format!(
                "{} of {} checks failed:\n",
                self.failures.len(),
                self.checked
            );
            for (i, f) in self.failures.iter().enumerate() {
                text.push_str(&format!("\n[{}] {}\n", i + 1, f));
            }
            panic!("{text}");
        }
    }
}

/// A server answering the example zone: Tandem normally; knotd when
/// `TANDEM_E2E_REFERENCE=knotd`, to check the tests' own expectations against a reference.
pub enum ExampleServer {
    Tandem(Tandem),
    Knot(Knot),
}

impl ExampleServer {
    /// Starts the server and loads `zones::example_zone()` into it.
    pub fn start() -> ExampleServer {
        let zone = zones::example_zone();
        if std::env::var("TANDEM_E2E_REFERENCE").as_deref() == Ok("knotd") {
            return ExampleServer::Knot(Knot::start(zones::ORIGIN, &zone));
        }
        let tandem = Tandem::start();
        tandem.load_zone(zones::ORIGIN, &zone);
        ExampleServer::Tandem(tandem)
    }

    pub fn dns(&self) -> std::net::SocketAddr {
        match self {
            ExampleServer::Tandem(t) => t.dns(),
            ExampleServer::Knot(k) => k.addr(),
        }
    }

    /// Is the server process still running?
    pub fn is_running(&mut self) -> bool {
        match self {
            ExampleServer::Tandem(t) => t.is_running(),
            ExampleServer::Knot(k) => k.is_running(),
        }
    }

    pub fn is_reference(&self) -> bool {
        matches!(self, ExampleServer::Knot(_))
    }
}
