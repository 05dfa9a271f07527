//! Knot DNS (`knotd`) as a reference server for differential tests: one zone from a zone file,
//! on a free loopback port, in the foreground, stopped on drop.

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::dns::{self, Query};
use crate::process::{find_tool, ChildProcess};

/// A running knotd serving one zone.
pub struct Knot {
    process: ChildProcess,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Knot {
    /// Starts knotd serving `zone_name` from `zone_text`; returns once it answers the zone's
    /// SOA. Retries with another port when the chosen one was taken meanwhile.
    pub fn start(zone_name: &str, zone_text: &str) -> Knot {
        let knotd = find_tool("knotd").expect("knotd installed (check require_tool first)");
        let mut last_log = String::new();
        for _attempt in 0..5 {
            let dir = tempfile::Builder::new()
                .prefix("tandem-knot-")
                .tempdir()
                .expect("knot temp dir");
            let port = crate::process::free_port();
            let root = dir.path().display().to_string();
            let zone_file = dir.path().join("zone.txt");
            std::fs::write(&zone_file, zone_text).expect("write zone file");
            let conf = format!(
                "server:\n    rundir: \"{root}\"\n    listen: 127.0.0.1@{port}\n    \
                 udp-workers: 1\n    tcp-workers: 1\n    background-workers: 1\n\
                 database:\n    storage: \"{root}\"\n\
                 control:\n    listen: \"{root}/knot.sock\"\n\
                 log:\n  - target: stderr\n    any: info\n\
                 zone:\n  - domain: \"{zone_name}\"\n    file: \"{}\"\n    storage: \"{root}\"\n    \
                 semantic-checks: off\n    zonefile-sync: -1\n    journal-content: none\n",
                zone_file.display()
            );
            let conf_path = dir.path().join("knot.conf");
            std::fs::write(&conf_path, conf).expect("write knot.conf");
            let mut cmd = Command::new(&knotd);
            cmd.arg("-c").arg(&conf_path);
            let log = dir.path().join("knotd.log");
            let mut process = ChildProcess::spawn("knotd", cmd, &log);
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            if wait_for_soa(&mut process, addr, zone_name) {
                return Knot {
                    process,
                    addr,
                    _dir: dir,
                };
            }
            last_log = process.log_tail(4000);
            process.kill9();
        }
        panic!("knotd did not start serving {zone_name}; last output:\n{last_log}");
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Is knotd still running?
    pub fn is_running(&mut self) -> bool {
        self.process.exited().is_none()
    }

    pub fn log_tail(&self, max: usize) -> String {
        self.process.log_tail(max)
    }
}

fn wait_for_soa(process: &mut ChildProcess, addr: SocketAddr, zone: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if process.exited().is_some() {
            return false;
        }
        let q = Query::new(zone, domain::base::iana::Rtype::SOA);
        if let Some(wire) = dns::udp_raw(addr, &q.to_wire(), Duration::from_millis(200)) {
            if let Ok(resp) = dns::Response::parse(wire) {
                if resp.aa() && resp.answer().len() == 1 {
                    return true;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}
