//! Real primaries of a zone that Tandem transfers as a secondary (BIND's `named`, Knot's
//! `knotd`, NSD): what the interop tests need from each ([`Primary`]) and the process
//! machinery they share ([`PrimaryProcess`]: a temporary directory with the configuration and
//! the zone file, one loopback port, a log, stop and start again on the same port).

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use crate::process::{free_port, log_tail, ChildProcess};
use crate::secondary::{soa_serial, TsigKey};

/// How long a start or a reload may take before it counts as failed.
pub const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// A primary server the tests can drive.
pub trait Primary {
    /// `named`, `knotd` or `nsd`, for messages.
    fn kind(&self) -> &'static str;
    /// Where it answers DNS and transfers (UDP and TCP).
    fn addr(&self) -> SocketAddr;
    /// Replaces the zone file with `zone_text` (whose SOA carries `serial`) and makes the
    /// server load it, so that it sends NOTIFY and (where it can) serves the change as IXFR;
    /// returns once it answers `serial`.
    fn update_zone(&mut self, serial: u32, zone_text: &str) -> Result<(), String>;
    /// Stops it (SIGTERM; SIGKILL after 10 s).
    fn stop(&mut self);
    /// Starts it again on the same port and directory; returns once it answers `serial`.
    fn start(&mut self, serial: u32) -> Result<(), String>;
    /// The last `max` bytes of its log.
    fn log_tail(&self, max: usize) -> String;
}

/// Everything a primary is configured with.
#[derive(Clone, Debug)]
pub struct PrimarySpec {
    /// Zone apex without the trailing dot.
    pub zone: String,
    /// The zone file (with its SOA).
    pub zone_text: String,
    /// Its SOA serial.
    pub serial: u32,
    /// Where the primary sends its NOTIFYs (Tandem's DNS address).
    pub notify: SocketAddr,
    /// When given, transfers need this key and NOTIFYs are signed with it.
    pub key: Option<TsigKey>,
}

/// A server process of one of the primaries: configuration in `dir`, zone file
/// `dir/ZONE.zone`, log `dir/LOG`.
pub struct PrimaryProcess {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub zone: String,
    name: &'static str,
    program: PathBuf,
    args: Vec<OsString>,
    process: Option<ChildProcess>,
    starts: u32,
    last_mtime: Option<SystemTime>,
}

impl PrimaryProcess {
    /// A directory with the zone file written; `write_conf(dir, port)` writes the
    /// configuration and returns the arguments of `program`. Tries a few free ports until the
    /// server comes up answering `spec.serial`.
    pub fn start(
        name: &'static str,
        program: PathBuf,
        spec: &PrimarySpec,
        write_conf: impl Fn(&Path, u16) -> Vec<OsString>,
    ) -> PrimaryProcess {
        let mut last = String::new();
        for _ in 0..5 {
            let dir = tempfile::Builder::new()
                .prefix(&format!("tandem-{name}-primary-"))
                .tempdir()
                .expect("primary temp dir");
            let port = free_port();
            let args = write_conf(dir.path(), port);
            let mut p = PrimaryProcess {
                dir,
                port,
                zone: spec.zone.clone(),
                name,
                program: program.clone(),
                args,
                process: None,
                starts: 0,
                last_mtime: None,
            };
            p.write_zone(&spec.zone_text);
            match p.launch(spec.serial) {
                Ok(()) => return p,
                Err(e) => last = e,
            }
        }
        panic!("{name} did not come up as a primary: {last}");
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn zone_file(&self) -> PathBuf {
        self.dir.path().join(format!("{}.zone", self.zone))
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join(format!("{}.log", self.name))
    }

    pub fn log_tail(&self, max: usize) -> String {
        log_tail(&self.log_path(), max)
    }

    /// Writes the zone file with a modification time later than the previous one (servers
    /// that reload only changed files compare whole seconds).
    pub fn write_zone(&mut self, text: &str) {
        let path = self.zone_file();
        std::fs::write(&path, text).expect("write zone file");
        let now = SystemTime::now();
        let mtime = match self.last_mtime {
            Some(prev) if prev + Duration::from_secs(1) > now => prev + Duration::from_secs(1),
            _ => now,
        };
        let file = std::fs::File::options()
            .write(true)
            .open(&path)
            .expect("open zone file");
        file.set_modified(mtime).expect("set zone file mtime");
        self.last_mtime = Some(mtime);
    }

    /// Starts the server; returns once it answers `serial` for the zone.
    pub fn launch(&mut self, serial: u32) -> Result<(), String> {
        assert!(self.process.is_none(), "{} is already running", self.name);
        self.starts += 1;
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args).current_dir(self.dir.path());
        let mut process = ChildProcess::spawn(self.name, cmd, &self.log_path());
        let addr = self.addr();
        let deadline = std::time::Instant::now() + READY_TIMEOUT;
        loop {
            if process.exited().is_some() {
                return Err(format!(
                    "{} (start {}) exited; its log:\n{}",
                    self.name,
                    self.starts,
                    self.log_tail(4000)
                ));
            }
            if soa_serial(addr, &self.zone) == Ok(serial) {
                break;
            }
            if std::time::Instant::now() > deadline {
                process.kill9();
                return Err(format!(
                    "{} (start {}) did not serve serial {serial} on {addr}; its log:\n{}",
                    self.name,
                    self.starts,
                    self.log_tail(4000)
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.process = Some(process);
        Ok(())
    }

    /// Sends `signal` to the running server.
    pub fn signal(&self, signal: libc::c_int) {
        let pid = self
            .process
            .as_ref()
            .and_then(ChildProcess::pid)
            .unwrap_or_else(|| panic!("{} is not running", self.name));
        // SAFETY: kill(2) on the pid of a child we have not reaped.
        unsafe {
            libc::kill(pid as libc::pid_t, signal);
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.stop(Duration::from_secs(10));
        }
    }

    pub fn is_running(&mut self) -> bool {
        self.process.as_mut().is_some_and(|p| p.exited().is_none())
    }

    /// Waits until the server answers `serial`.
    pub fn wait_serial(&self, serial: u32) -> Result<(), String> {
        crate::secondary::wait_for_serial(self.addr(), &self.zone, serial, READY_TIMEOUT)
            .map(|_| ())
            .map_err(|e| format!("{e}\n---- {} log ----\n{}", self.name, self.log_tail(4000)))
    }
}
