//! Starting the real `tandem` binary: built once per test process, run on a temporary data dir
//! with port-0 listeners, ready when `DATA_DIR/listen.json` appears (PRODUCT.md §3 "Running").

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::api::Api;
use crate::process::{free_port, ChildProcess};

/// How long a start may take before the test gives up (first start creates the store).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The administrator token every test server runs with.
pub const TOKEN: &str = "tandem-test-admin-token-0123456789";

/// A running tandem server on its own data dir; killed on drop.
pub struct Tandem {
    process: Option<ChildProcess>,
    data_dir: tempfile::TempDir,
    /// Where the server's stderr goes when not into the data dir (a data dir on a file system
    /// a test fills has no room for logs).
    log_dir: Option<tempfile::TempDir>,
    extra_args: Vec<String>,
    /// RLIMIT_NOFILE (soft and hard) of the server process, when limited.
    nofile: Option<u64>,
    dns: SocketAddr,
    api: SocketAddr,
    starts: u32,
}

impl Tandem {
    /// Starts a server with default limits.
    pub fn start() -> Tandem {
        Tandem::start_with(&[])
    }

    /// Starts a server with extra command-line flags (e.g. `--tcp-max-per-client 4`).
    pub fn start_with(extra_args: &[&str]) -> Tandem {
        Tandem::start_limited(None, extra_args)
    }

    /// Starts a server whose data dir is a new directory inside `parent` (e.g. a small file
    /// system a test fills).
    pub fn start_in(parent: &Path, extra_args: &[&str]) -> Tandem {
        let data_dir = tempfile::Builder::new()
            .prefix("tandem-test-")
            .tempdir_in(parent)
            .expect("create data dir");
        let logs = tempfile::Builder::new()
            .prefix("tandem-test-logs-")
            .tempdir()
            .expect("create log dir");
        Tandem::start_on(data_dir, Some(logs), None, extra_args)
    }

    /// Starts a server on an existing data directory (a backup, a copied store).
    pub fn start_on_dir(data_dir: tempfile::TempDir, extra_args: &[&str]) -> Tandem {
        Tandem::start_on(data_dir, None, None, extra_args)
    }

    /// Starts a server whose open-file limit (soft and hard) is `nofile`, when given.
    pub fn start_limited(nofile: Option<u64>, extra_args: &[&str]) -> Tandem {
        let data_dir = tempfile::Builder::new()
            .prefix("tandem-test-")
            .tempdir()
            .expect("create data dir");
        Tandem::start_on(data_dir, None, nofile, extra_args)
    }

    fn start_on(
        data_dir: tempfile::TempDir,
        log_dir: Option<tempfile::TempDir>,
        nofile: Option<u64>,
        extra_args: &[&str],
    ) -> Tandem {
        let mut t = Tandem {
            process: None,
            data_dir,
            log_dir,
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            nofile,
            dns: SocketAddr::from(([127, 0, 0, 1], 0)),
            api: SocketAddr::from(([127, 0, 0, 1], 0)),
            starts: 0,
        };
        t.launch();
        t
    }

    fn launch(&mut self) {
        // The DNS port is chosen outside the ephemeral range (see `free_port`); another test
        // may take it between the choice and the bind, so a failed bind tries another.
        for attempt in 1..=5 {
            match self.launch_on(free_port()) {
                Ok(()) => return,
                Err(log) if attempt < 5 && log.contains("cannot bind DNS") => continue,
                Err(log) => panic!("{log}"),
            }
        }
    }

    /// Starts the server with its DNS listener on `dns_port`; on failure, what it said.
    fn launch_on(&mut self, dns_port: u16) -> Result<(), String> {
        let dir = self.data_dir.path().to_path_buf();
        let listen = dir.join("listen.json");
        let _ = std::fs::remove_file(&listen);
        self.starts += 1;
        let log = self
            .log_dir
            .as_ref()
            .map_or(dir.as_path(), |d| d.path())
            .join(format!("tandem-stderr-{}.log", self.starts));
        let mut cmd = Command::new(tandem_binary());
        cmd.arg("serve")
            .args(["--dns-listen", &format!("127.0.0.1:{dns_port}")])
            .args(["--api-listen", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(&dir)
            .args(["--api-token", TOKEN])
            .args(&self.extra_args)
            .env("RUST_BACKTRACE", "1");
        if let Some(n) = self.nofile {
            limit_open_files(&mut cmd, n);
        }
        let mut process = ChildProcess::spawn("tandem", cmd, &log);
        let deadline = Instant::now() + START_TIMEOUT;
        let (dns, api) = loop {
            if let Some(addrs) = read_listen_json(&listen) {
                break addrs;
            }
            if let Some(status) = process.exited() {
                return Err(format!(
                    "tandem exited ({status}) before writing {}; its output:\n{}",
                    listen.display(),
                    process.failure_output(6000)
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "tandem did not write {} within {START_TIMEOUT:?}; its output:\n{}",
                    listen.display(),
                    process.log_tail(6000)
                ));
            }
            std::thread::sleep(Duration::from_millis(25));
        };
        self.dns = dns;
        self.api = api;
        self.process = Some(process);
        Ok(())
    }

    /// The DNS address (UDP and TCP).
    pub fn dns(&self) -> SocketAddr {
        self.dns
    }

    /// The API address.
    pub fn api_addr(&self) -> SocketAddr {
        self.api
    }

    /// An API client with the administrator token.
    pub fn api(&self) -> Api {
        Api::new(self.api, TOKEN)
    }

    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// SIGKILL: nothing is flushed, nothing is shut down cleanly.
    pub fn kill9(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.kill9();
        }
    }

    /// Stops the server: SIGTERM, and SIGKILL if it has not exited after 10 s.
    pub fn stop(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.stop(Duration::from_secs(10));
        }
    }

    /// Stops the server (SIGTERM, SIGKILL after 10 s) if it runs, and starts it again on the
    /// same data dir; the new listeners get new ports.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// Replaces the extra command-line flags used from the next (re)start on.
    pub fn set_args(&mut self, extra_args: &[&str]) {
        self.extra_args = extra_args.iter().map(|s| s.to_string()).collect();
    }

    /// Is the process still running?
    pub fn is_running(&mut self) -> bool {
        self.process.as_mut().is_some_and(|p| p.exited().is_none())
    }

    /// The last bytes the server wrote to stderr in this run.
    pub fn log_tail(&self, max: usize) -> String {
        self.process
            .as_ref()
            .map(|p| p.log_tail(max))
            .unwrap_or_default()
    }

    /// Creates the zone `name` and makes it exactly `zone_text` (import with `replace=true`).
    /// Returns the zone id.
    pub fn load_zone(&self, name: &str, zone_text: &str) -> String {
        let api = self.api();
        let zone_id = api.create_zone(name);
        api.import_ok(&zone_id, zone_text, true);
        zone_id
    }
}

/// Sets RLIMIT_NOFILE of the child to `n`, soft and hard, so it cannot raise it.
fn limit_open_files(cmd: &mut Command, n: u64) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setrlimit is async-signal-safe and touches only the child between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let rl = libc::rlimit {
                rlim_cur: n as libc::rlim_t,
                rlim_max: n as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &rl) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

fn read_listen_json(path: &Path) -> Option<(SocketAddr, SocketAddr)> {
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let dns = v["dns"].as_array()?.first()?.as_str()?.parse().ok()?;
    let api = v["api"].as_str()?.parse().ok()?;
    Some((dns, api))
}

/// The path of the `tandem` binary, built (once per test process) with the same profile and
/// target dir as the running test. `TANDEM_BIN` overrides it.
///
/// It is built by `cargo test --workspace --no-run`: under the README's `cargo test
/// --workspace` that is the build that has just run, binary included (the `tandem` package has
/// an integration test, so cargo builds its binary), and finds everything fresh in a second.
/// `cargo build -p tandem` would resolve the dependencies' features for that package alone and
/// compile `domain` and every crate of the server a second time.
pub fn tandem_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(build_tandem).clone()
}

fn build_tandem() -> PathBuf {
    if let Some(bin) = std::env::var_os("TANDEM_BIN") {
        return PathBuf::from(bin);
    }
    // A test executable lives at <target-dir>/<profile>/deps/<name>-<hash>.
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executable is inside <target>/<profile>/deps")
        .to_path_buf();
    let profile = profile_dir
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("debug")
        .to_string();
    let target_dir = profile_dir.parent().expect("target dir").to_path_buf();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .args(["test", "--quiet", "--workspace", "--no-run"])
        .env("CARGO_TARGET_DIR", &target_dir);
    // What cargo set for this test process only: build scripts that watch one of these (ring's
    // watches CARGO_MANIFEST_DIR) would run again and rebuild everything above them.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_MANIFEST_LINKS",
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "CARGO_RUSTC_CURRENT_DIR",
            ]
            .contains(&name.as_ref())
        {
            cmd.env_remove(name.as_ref());
        }
    }
    match profile.as_str() {
        "debug" => {}
        "release" => {
            cmd.arg("--release");
        }
        other => {
            cmd.args(["--profile", other]);
        }
    }
    let out = cmd.output().expect("run cargo test --workspace --no-run");
    assert!(
        out.status.success(),
        "cargo test --workspace --no-run failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bin = profile_dir.join(format!("tandem{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.is_file(), "built tandem not found at {}", bin.display());
    bin
}
