//! NSD 4 as the primary of one zone that Tandem transfers: its own `nsd.conf` in a temporary
//! directory (no database, no privilege drop, no chroot, no remote control), one loopback
//! port, run in the foreground (`nsd -d`), logging to `nsd.log`. NSD serves IXFR only from
//! transfers it received itself, so for a zone loaded from a file it answers IXFR with the
//! whole zone (AXFR-style), which exercises the client's handling of that answer. Reloads the
//! zone file on SIGHUP and then sends NOTIFY to Tandem. Stopped on drop.

use std::net::SocketAddr;

use crate::primary::{Primary, PrimaryProcess, PrimarySpec};
use crate::process::find_tool;

pub struct NsdPrimary {
    p: PrimaryProcess,
}

impl NsdPrimary {
    pub fn start(spec: &PrimarySpec) -> NsdPrimary {
        let nsd = find_tool("nsd").expect("nsd installed (check require_tool first)");
        let p = PrimaryProcess::start("nsd", nsd, spec, |dir, port| {
            let root = dir.display().to_string();
            let (key_section, key_ref) = match &spec.key {
                Some(k) => (
                    format!(
                        "key:\n    name: \"{}\"\n    algorithm: {}\n    secret: \"{}\"\n",
                        k.name, k.algo, k.secret
                    ),
                    k.name.clone(),
                ),
                None => (String::new(), "NOKEY".to_string()),
            };
            let conf = format!(
                "server:\n    ip-address: 127.0.0.1\n    port: {port}\n    zonesdir: \"{root}\"\n    \
                 pidfile: \"{root}/nsd.pid\"\n    database: \"\"\n    \
                 xfrdfile: \"{root}/xfrd.state\"\n    xfrdir: \"{root}\"\n    \
                 zonelistfile: \"{root}/zone.list\"\n    username: \"\"\n    chroot: \"\"\n    \
                 server-count: 1\n    verbosity: 2\n\
                 remote-control:\n    control-enable: no\n\
                 {key_section}\
                 zone:\n    name: \"{zone}\"\n    zonefile: \"{zone}.zone\"\n    \
                 provide-xfr: 127.0.0.1 {key_ref}\n    notify: {nip}@{nport} {key_ref}\n",
                zone = spec.zone,
                nip = spec.notify.ip(),
                nport = spec.notify.port(),
            );
            std::fs::write(dir.join("nsd.conf"), conf).expect("write nsd.conf");
            ["-d", "-c", "nsd.conf"].map(Into::into).to_vec()
        });
        NsdPrimary { p }
    }
}

impl Primary for NsdPrimary {
    fn kind(&self) -> &'static str {
        "nsd"
    }
    fn addr(&self) -> SocketAddr {
        self.p.addr()
    }
    fn update_zone(&mut self, serial: u32, zone_text: &str) -> Result<(), String> {
        self.p.write_zone(zone_text);
        self.p.signal(libc::SIGHUP);
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
