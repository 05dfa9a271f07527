//! BIND 9 (`named`) as a secondary of a zone on Tandem, for interop tests: its own generated
//! `named.conf` in a temporary directory, listening on one loopback port, run in the
//! foreground at debug level 3 (`-g -d 3`: everything logged to stderr, which goes to
//! `named.log`; level 3 is where BIND 9.18 says whether a transfer it got was incremental),
//! stopped on drop. It can be stopped and started again on the same port and directory,
//! keeping its copy of the zone (`ZONE.db`) and its IXFR journal (`ZONE.db.jnl`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::process::{find_tool, log_tail, ChildProcess};
use crate::secondary::{wait_until_answering, TsigKey};

/// How long a start may take before it counts as failed.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A `named` that is a secondary of one zone.
pub struct Bind {
    process: Option<ChildProcess>,
    dir: tempfile::TempDir,
    port: u16,
    zone: String,
    starts: u32,
}

impl Bind {
    /// Writes the configuration of a secondary of `zone` transferring from `primary` (signed
    /// with `key` when given; NOTIFY accepted from the primary's address) and listening on
    /// 127.0.0.1@`port`, then starts `named`. The zone's SOA refresh and retry are obeyed down
    /// to 2 s (BIND's default floor is 300 s), so a test can make it check its primary soon.
    /// Returns once it answers DNS on that port, or an error with its log when it exits or
    /// does not answer (the port may have been taken).
    pub fn secondary(
        zone: &str,
        primary: SocketAddr,
        key: Option<&TsigKey>,
        port: u16,
    ) -> Result<Bind, String> {
        let dir = tempfile::Builder::new()
            .prefix("tandem-bind-")
            .tempdir()
            .map_err(|e| format!("bind temp dir: {e}"))?;
        let root = dir.path().display().to_string();
        let (key_clause, key_ref) = match key {
            Some(k) => (
                format!(
                    "key \"{}\" {{ algorithm {}; secret \"{}\"; }};\n",
                    k.name, k.algo, k.secret
                ),
                format!(" key \"{}\"", k.name),
            ),
            None => (String::new(), String::new()),
        };
        let conf = format!(
            "options {{\n\
             \tdirectory \"{root}\";\n\
             \tpid-file \"{root}/named.pid\";\n\
             \tsession-keyfile \"{root}/session.key\";\n\
             \tmanaged-keys-directory \"{root}\";\n\
             \tlisten-on port {port} {{ 127.0.0.1; }};\n\
             \tlisten-on-v6 {{ none; }};\n\
             \tallow-transfer {{ none; }};\n\
             \tnotify no;\n\
             \trecursion no;\n\
             \tdnssec-validation no;\n\
             }};\n\
             controls {{ }};\n\
             {key_clause}\
             zone \"{zone}\" {{\n\
             \ttype secondary;\n\
             \tprimaries {{ {ip} port {pport}{key_ref}; }};\n\
             \tallow-notify {{ {ip}; }};\n\
             \tmin-refresh-time 2;\n\
             \tmin-retry-time 2;\n\
             \tfile \"{zone}.db\";\n\
             }};\n",
            ip = primary.ip(),
            pport = primary.port(),
        );
        std::fs::write(dir.path().join("named.conf"), conf)
            .map_err(|e| format!("write named.conf: {e}"))?;
        let mut bind = Bind {
            process: None,
            dir,
            port,
            zone: zone.to_string(),
            starts: 0,
        };
        bind.start()?;
        Ok(bind)
    }

    /// Starts `named` (again) on the same directory and port; returns once it answers DNS.
    pub fn start(&mut self) -> Result<(), String> {
        assert!(self.process.is_none(), "named is already running");
        let named = find_tool("named").expect("named installed (check require_tool first)");
        self.starts += 1;
        let mut cmd = Command::new(named);
        cmd.args(["-g", "-d", "3"])
            .arg("-c")
            .arg(self.dir.path().join("named.conf"))
            .current_dir(self.dir.path());
        let mut process = ChildProcess::spawn("named", cmd, &self.log_path());
        let addr = self.addr();
        let up = wait_until_answering(addr, &self.zone, START_TIMEOUT, || {
            process.exited().is_none()
        });
        let log = self.log_tail(4000);
        if !up || log.contains("address in use") {
            process.kill9();
            return Err(format!(
                "named (start {}) did not come up on {addr}; its log:\n{log}",
                self.starts
            ));
        }
        self.process = Some(process);
        Ok(())
    }

    /// Stops `named` gracefully (SIGTERM, so it writes its zone file and journal; SIGKILL
    /// after 10 s).
    pub fn stop(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.stop(Duration::from_secs(10));
        }
    }

    /// Is `named` running?
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
        self.dir.path().join("named.log")
    }

    /// The whole log.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(self.log_path()).unwrap_or_default()).into_owned()
    }

    /// The last `max` bytes of the log.
    pub fn log_tail(&self, max: usize) -> String {
        log_tail(&self.log_path(), max)
    }

    /// The last `max` bytes of the log, [`without_query_lines`].
    pub fn log_tail_without_queries(&self, max: usize) -> String {
        tail(&without_query_lines(&self.log()), max)
    }

    /// The journal BIND writes when it applies an IXFR (`ZONE.db.jnl`).
    pub fn journal_path(&self) -> PathBuf {
        self.dir.path().join(format!("{}.db.jnl", self.zone))
    }

    /// The journal as `named-journalprint` prints it (`del`/`add` lines, one SOA pair per
    /// applied IXFR); `None` when the tool is not installed.
    pub fn journal_text(&self) -> Option<Result<String, String>> {
        let tool = find_tool("named-journalprint")?;
        let out = match Command::new(tool).arg(self.journal_path()).output() {
            Ok(out) => out,
            Err(e) => return Some(Err(format!("named-journalprint: {e}"))),
        };
        if !out.status.success() {
            return Some(Err(format!(
                "named-journalprint {}: {}{}",
                self.journal_path().display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Some(Ok(String::from_utf8_lossy(&out.stdout).into_owned()))
    }
}

/// A BIND log without what debug level 3 says about each query it answered (lines of a
/// `client @0x...` that are not about a NOTIFY or a refusal) and without function entry traces
/// (`...: enter`).
pub fn without_query_lines(log: &str) -> String {
    log.lines()
        .filter(|l| !l.ends_with(": enter"))
        .filter(|l| {
            !l.contains(" client @")
                || ["notify", "denied", "refused", "TSIG", "tsig"]
                    .iter()
                    .any(|k| l.contains(k))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The last `max` bytes of `text` (from a character boundary).
pub fn tail(text: &str, max: usize) -> String {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_string()
}

/// BIND 9 as the primary of one zone that Tandem transfers: `notify explicit` to Tandem's DNS
/// address only, `ixfr-from-differences yes` so a reloaded zone file is served as IXFR, and
/// transfers allowed to 127.0.0.1 (or, with a key, only to requests signed with it; its
/// NOTIFYs are then signed too). Reloads on SIGHUP. Stopped on drop.
pub struct BindPrimary {
    p: crate::primary::PrimaryProcess,
}

impl BindPrimary {
    pub fn start(spec: &crate::primary::PrimarySpec) -> BindPrimary {
        let named = find_tool("named").expect("named installed (check require_tool first)");
        let p = crate::primary::PrimaryProcess::start("named", named, spec, |dir, port| {
            let root = dir.display().to_string();
            let (key_clause, key_ref, allow) = match &spec.key {
                Some(k) => (
                    format!(
                        "key \"{}\" {{ algorithm {}; secret \"{}\"; }};\n",
                        k.name, k.algo, k.secret
                    ),
                    format!(" key \"{}\"", k.name),
                    format!("key \"{}\";", k.name),
                ),
                None => (String::new(), String::new(), "127.0.0.1;".to_string()),
            };
            let conf = format!(
                "options {{\n\
                 \tdirectory \"{root}\";\n\
                 \tpid-file \"{root}/named.pid\";\n\
                 \tsession-keyfile \"{root}/session.key\";\n\
                 \tmanaged-keys-directory \"{root}\";\n\
                 \tlisten-on port {port} {{ 127.0.0.1; }};\n\
                 \tlisten-on-v6 {{ none; }};\n\
                 \trecursion no;\n\
                 \tdnssec-validation no;\n\
                 \tnotify explicit;\n\
                 \tnotify-source 127.0.0.1;\n\
                 }};\n\
                 controls {{ }};\n\
                 {key_clause}\
                 zone \"{zone}\" {{\n\
                 \ttype primary;\n\
                 \tfile \"{zone}.zone\";\n\
                 \tixfr-from-differences yes;\n\
                 \tmax-ixfr-ratio unlimited;\n\
                 \talso-notify {{ {nip} port {nport}{key_ref}; }};\n\
                 \tallow-transfer {{ {allow} }};\n\
                 }};\n",
                zone = spec.zone,
                nip = spec.notify.ip(),
                nport = spec.notify.port(),
            );
            std::fs::write(dir.join("named.conf"), conf).expect("write named.conf");
            ["-g", "-c", "named.conf"].map(Into::into).to_vec()
        });
        BindPrimary { p }
    }
}

impl crate::primary::Primary for BindPrimary {
    fn kind(&self) -> &'static str {
        "named"
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
