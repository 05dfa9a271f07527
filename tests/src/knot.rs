//! Knot DNS (`knotd`): as a reference server for differential tests ([`Knot`]: one zone from a
//! zone file, on a free loopback port, in the foreground, stopped on drop), and as a secondary
//! of a zone on Tandem for interop tests ([`KnotSecondary`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::dns::{self, Query};
use crate::process::{find_tool, log_tail, ChildProcess};
use crate::secondary::{wait_until_answering, TsigKey};

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

/// A `knotd` that is a secondary of one zone: its own configuration in a temporary directory,
/// listening on one loopback port, logging at `info` to `knotd.log`. The zone file is written
/// after every change (`zonefile-sync: 0`) and the journal keeps the differences, so a stopped
/// and restarted knotd keeps its copy and asks for an IXFR from its serial. Stopped on drop.
pub struct KnotSecondary {
    process: Option<ChildProcess>,
    dir: tempfile::TempDir,
    port: u16,
    zone: String,
    starts: u32,
}

impl KnotSecondary {
    /// Writes the configuration of a secondary of `zone` transferring from `primary` (signed
    /// with `key` when given; NOTIFY accepted from the primary's address, signed with `key`
    /// when given) and listening on 127.0.0.1@`port`, then starts `knotd`. Returns once it
    /// answers DNS on that port, or an error with its log (the port may have been taken).
    pub fn start(
        zone: &str,
        primary: SocketAddr,
        key: Option<&TsigKey>,
        port: u16,
    ) -> Result<KnotSecondary, String> {
        let dir = tempfile::Builder::new()
            .prefix("tandem-knot-secondary-")
            .tempdir()
            .map_err(|e| format!("knot temp dir: {e}"))?;
        let root = dir.path().display().to_string();
        let (key_section, key_ref) = match key {
            Some(k) => (
                format!(
                    "key:\n  - id: {}\n    algorithm: {}\n    secret: {}\n",
                    k.name, k.algo, k.secret
                ),
                format!("    key: {}\n", k.name),
            ),
            None => (String::new(), String::new()),
        };
        let conf = format!(
            "server:\n    rundir: \"{root}\"\n    listen: 127.0.0.1@{port}\n    \
             udp-workers: 1\n    tcp-workers: 1\n    background-workers: 1\n\
             database:\n    storage: \"{root}\"\n\
             control:\n    listen: \"{root}/knot.sock\"\n\
             log:\n  - target: stderr\n    any: info\n\
             {key_section}\
             remote:\n  - id: primary\n    address: {ip}@{pport}\n{key_ref}\
             acl:\n  - id: notify_from_primary\n    address: {ip}\n{key_ref}    action: notify\n\
             zone:\n  - domain: \"{zone}\"\n    master: primary\n    acl: notify_from_primary\n    \
             storage: \"{root}\"\n    file: \"{zone}.zone\"\n    zonefile-sync: 0\n    \
             journal-content: changes\n",
            ip = primary.ip(),
            pport = primary.port(),
        );
        std::fs::write(dir.path().join("knot.conf"), conf)
            .map_err(|e| format!("write knot.conf: {e}"))?;
        let mut knot = KnotSecondary {
            process: None,
            dir,
            port,
            zone: zone.to_string(),
            starts: 0,
        };
        knot.restart()?;
        Ok(knot)
    }

    /// Starts `knotd` again (after [`KnotSecondary::stop`]) on the same directory and port;
    /// returns once it answers DNS.
    pub fn restart(&mut self) -> Result<(), String> {
        assert!(self.process.is_none(), "knotd is already running");
        let knotd = find_tool("knotd").expect("knotd installed (check require_tool first)");
        self.starts += 1;
        let mut cmd = Command::new(knotd);
        cmd.arg("-c").arg(self.dir.path().join("knot.conf"));
        let mut process = ChildProcess::spawn("knotd", cmd, &self.log_path());
        let addr = self.addr();
        let up = wait_until_answering(addr, &self.zone, Duration::from_secs(20), || {
            process.exited().is_none()
        });
        let log = self.log_tail(4000);
        if !up || log.contains("cannot bind") || log.contains("address in use") {
            process.kill9();
            return Err(format!(
                "knotd (start {}) did not come up on {addr}; its log:\n{log}",
                self.starts
            ));
        }
        self.process = Some(process);
        Ok(())
    }

    /// Stops `knotd` gracefully (SIGTERM; SIGKILL after 10 s).
    pub fn stop(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.stop(Duration::from_secs(10));
        }
    }

    /// Is `knotd` running?
    pub fn is_running(&mut self) -> bool {
        self.process.as_mut().is_some_and(|p| p.exited().is_none())
    }

    /// Where it answers DNS.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The log of every start so far.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("knotd.log")
    }

    /// The whole log.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(self.log_path()).unwrap_or_default()).into_owned()
    }

    /// The last `max` bytes of the log.
    pub fn log_tail(&self, max: usize) -> String {
        log_tail(&self.log_path(), max)
    }
}

/// Knot DNS as the primary of one zone that Tandem transfers: `notify` to Tandem's DNS address,
/// `zonefile-load: difference` with `journal-content: changes` so a reloaded zone file is
/// served as IXFR, transfers allowed to 127.0.0.1 (with a key: only signed with it; its
/// NOTIFYs are then signed too). Reloaded with `knotc zone-reload`. Stopped on drop.
pub struct KnotPrimary {
    p: crate::primary::PrimaryProcess,
}

impl KnotPrimary {
    pub fn start(spec: &crate::primary::PrimarySpec) -> KnotPrimary {
        let knotd = find_tool("knotd").expect("knotd installed (check require_tool first)");
        let p = crate::primary::PrimaryProcess::start("knotd", knotd, spec, |dir, port| {
            let root = dir.display().to_string();
            let (key_section, key_ref) = match &spec.key {
                Some(k) => (
                    format!(
                        "key:\n  - id: {}\n    algorithm: {}\n    secret: {}\n",
                        k.name, k.algo, k.secret
                    ),
                    format!("    key: {}\n", k.name),
                ),
                None => (String::new(), String::new()),
            };
            let conf = format!(
                "server:\n    rundir: \"{root}\"\n    listen: 127.0.0.1@{port}\n    \
                 udp-workers: 1\n    tcp-workers: 1\n    background-workers: 1\n\
                 database:\n    storage: \"{root}\"\n\
                 control:\n    listen: \"{root}/knot.sock\"\n\
                 log:\n  - target: stderr\n    any: info\n\
                 {key_section}\
                 remote:\n  - id: tandem\n    address: {nip}@{nport}\n{key_ref}\
                 acl:\n  - id: transfer_to_tandem\n    address: 127.0.0.1\n{key_ref}    action: transfer\n\
                 zone:\n  - domain: \"{zone}\"\n    file: \"{root}/{zone}.zone\"\n    storage: \"{root}\"\n    \
                 notify: tandem\n    acl: transfer_to_tandem\n    semantic-checks: off\n    \
                 zonefile-sync: -1\n    zonefile-load: difference\n    journal-content: changes\n",
                zone = spec.zone,
                nip = spec.notify.ip(),
                nport = spec.notify.port(),
            );
            std::fs::write(dir.join("knot.conf"), conf).expect("write knot.conf");
            ["-c", "knot.conf"].map(Into::into).to_vec()
        });
        KnotPrimary { p }
    }
}

impl crate::primary::Primary for KnotPrimary {
    fn kind(&self) -> &'static str {
        "knotd"
    }
    fn addr(&self) -> SocketAddr {
        self.p.addr()
    }
    fn update_zone(&mut self, serial: u32, zone_text: &str) -> Result<(), String> {
        self.p.write_zone(zone_text);
        let knotc = find_tool("knotc").ok_or("knotc not installed")?;
        let out = Command::new(knotc)
            .arg("-s")
            .arg(self.p.dir.path().join("knot.sock"))
            .args(["zone-reload", &self.p.zone])
            .output()
            .map_err(|e| format!("knotc: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "knotc zone-reload: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        self.p.wait_serial(serial)
    }
    fn stop(&mut self) {
        self.p.stop();
    }
    fn start(&mut self, serial: u32) -> Result<(), String> {
        self.p.launch(serial)
    }
    fn log_tail(&self, max: usize) -> String {
        self.p.log_tail(max)
    }
}
