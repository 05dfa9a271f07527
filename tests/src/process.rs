//! Child processes of the tests (tandem, knotd, named): started so that they die with the test
//! thread that started them, with stderr captured to a file for diagnostics, and stopped on drop.

use std::fs::File;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A running child process whose output goes to a log file.
pub struct ChildProcess {
    name: String,
    child: Option<Child>,
    log: PathBuf,
}

impl ChildProcess {
    /// Starts `command` with stdout and stderr appended to `log`.
    pub fn spawn(name: &str, mut command: Command, log: &Path) -> ChildProcess {
        let out = File::options()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|e| panic!("open log {}: {e}", log.display()));
        let err = out.try_clone().expect("clone log file");
        command
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        die_with_parent(&mut command);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({command:?}): {e}"));
        ChildProcess {
            name: name.to_string(),
            child: Some(child),
            log: log.to_path_buf(),
        }
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `Some(status)` once the process has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// SIGKILL and reap.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`.
    pub fn stop(&mut self, grace: Duration) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: plain kill(2) on the pid of a child we have not reaped yet.
            unsafe {
                libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
            }
            let deadline = Instant::now() + grace;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The last `max` bytes of the log.
    pub fn log_tail(&self, max: usize) -> String {
        log_tail(&self.log, max)
    }

    /// The end of the output of a process that failed to start ([`failure_output`]).
    pub fn failure_output(&self, max: usize) -> String {
        failure_output(&self.log, max)
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        if std::thread::panicking() && self.child.is_some() {
            eprintln!(
                "---- last output of {} ({}) ----\n{}\n---- end ----",
                self.name,
                self.log.display(),
                self.log_tail(6000)
            );
        }
        self.kill9();
    }
}

/// The last `max` bytes of a file, lossily decoded.
/// What a failed start printed, or, when it printed nothing, why it may not have been able
/// to: a process that cannot write its log (a full disk) exits without a word.
pub fn failure_output(path: &Path, max: usize) -> String {
    let tail = log_tail(path, max);
    if !tail.trim().is_empty() {
        return tail;
    }
    match free_bytes(path.parent().unwrap_or(path)) {
        Some(free) => format!(
            "(nothing; {} MiB free on the filesystem of {})",
            free >> 20,
            path.display()
        ),
        None => "(nothing)".to_string(),
    }
}

/// Free bytes, for an unprivileged process, on the filesystem holding `dir`.
fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs(3) fills the struct it is given; both live for the call.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(path.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

pub fn log_tail(path: &Path, max: usize) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    let start = bytes.len().saturating_sub(max);
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}

#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe; it only asks the kernel to SIGKILL the child when the
    // thread that spawned it exits, so a test that dies without unwinding leaves no server behind.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_command: &mut Command) {}

/// A loopback port that was free for both UDP and TCP a moment ago (the caller retries on a
/// collision), outside the kernel's ephemeral range.
///
/// A server on an ephemeral port can be joined by a client: dig sets `SO_REUSEPORT` on its
/// socket, and when the kernel hands it a source port that a server of the same user holds with
/// `SO_REUSEPORT` (Tandem's UDP workers, knotd), dig reads its own query back as the answer
/// ("query response not set"). Ports outside `ip_local_port_range` are never source ports.
/// Successive calls in one test process walk a permutation of the range, so parallel tests are
/// not handed the same port.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let (start, width) = fixed_port_range();
    if width == 0 {
        return ephemeral_free_port();
    }
    // A stride coprime to the width visits every port once per turn; the process id spreads
    // the starting points of test processes that run at once.
    let stride = (0..)
        .map(|k| 7919 + k)
        .find(|s| gcd(*s, width) == 1)
        .unwrap();
    let offset = std::process::id().wrapping_mul(2_654_435_761) % width;
    for _ in 0..width {
        let i = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = start + ((offset as u64 + i as u64 * stride as u64) % width as u64) as u32;
        let port = port as u16;
        let Ok(_udp) = UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], port))) else {
            continue;
        };
        if TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).is_ok() {
            return port;
        }
    }
    ephemeral_free_port()
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The kernel's ephemeral ports, `ip_local_port_range` (Linux's default when unreadable).
fn ephemeral_range() -> (u32, u32) {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|t| {
            let mut it = t.split_whitespace().map(|w| w.parse::<u32>().ok());
            Some((it.next()??, it.next()??))
        })
        .unwrap_or((32768, 60999))
}

/// The widest run of ports in 10000..=65535 outside `ip_local_port_range`: (first, count).
fn fixed_port_range() -> (u32, u32) {
    let (lo, hi) = ephemeral_range();
    let below = (10000, lo.saturating_sub(10000));
    let above = (
        (hi + 1).max(10000),
        65536u32.saturating_sub((hi + 1).max(10000)),
    );
    if below.1 >= above.1 {
        below
    } else {
        above
    }
}

/// A port the kernel chose (used only when the ephemeral range leaves no room).
fn ephemeral_free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind UDP to port 0");
        let port = udp.local_addr().unwrap().port();
        if TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).is_ok() {
            return port;
        }
    }
}

/// Is `tool` on PATH (or in /usr/sbin, where Debian puts knotd)?
pub fn find_tool(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
}

/// Whether an interop test may run: true when `tool` is installed. When it is missing, says so
/// loudly and returns false so the test returns early, unless `TANDEM_INTEROP=require`, in which
/// case a missing tool fails the test.
pub fn require_tool(tool: &str) -> bool {
    if find_tool(tool).is_some() {
        return true;
    }
    let package = match tool {
        "named" => "bind9",
        "dig" => "bind9-dnsutils",
        "kdig" => "knot-dnsutils",
        "nsd" => "nsd",
        _ => "knot",
    };
    skip_unless_required(
        "this interop test",
        &format!("{tool} is not installed"),
        &format!("apt-get install {package}"),
    );
    false
}

/// A test that cannot run here (`why`) says so loudly, with how to set it up, and returns;
/// under `TANDEM_INTEROP=require` (as CI sets) it fails instead.
pub fn skip_unless_required(test: &str, why: &str, setup: &str) {
    if std::env::var("TANDEM_INTEROP").as_deref() == Ok("require") {
        panic!("{test} cannot run ({why}) and TANDEM_INTEROP=require");
    }
    say(&format!(
        "\n************************************************************\n\
         SKIPPED: {why}; {test} did NOT run.\n\
         Set it up with: {setup}\n\
         Set TANDEM_INTEROP=require to make this a failure.\n\
         ************************************************************\n"
    ));
}

/// Writes `text` to the process's stderr itself: libtest captures `eprintln!` and shows it only
/// for failing tests, so a skip printed that way would look like a pass.
pub fn say(text: &str) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.write_all(b"\n");
}

/// Waits for `child` to exit until `timeout` has passed, then kills it: its exit status, or
/// `None` when it had to be killed.
pub fn wait_or_kill(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("wait for a child process") {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Random moments to `kill -9` a server during work that takes about `took`: one per round,
/// each a fraction of `took` in `from..to`. The seed comes from the clock; the callers name it
/// in their failure messages, so that a failing run can be told apart.
pub struct KillMoments {
    pub seed: u64,
    took: Duration,
    from: f64,
    to: f64,
}

impl KillMoments {
    pub fn new(took: Duration, from: f64, to: f64) -> KillMoments {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.subsec_nanos() as u64);
        KillMoments {
            seed,
            took,
            from,
            to,
        }
    }

    /// The moment of `round`: the same for the same seed.
    pub fn at(&self, round: u64) -> Duration {
        let x = (self
            .seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(round.wrapping_mul(1_442_695_040_888_963_407))
            >> 33)
            % 1000;
        self.took
            .mul_f64(self.from + (self.to - self.from) * x as f64 / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_distinct_and_never_ephemeral() {
        let (lo, hi) = ephemeral_range();
        let ports: Vec<u16> = (0..200).map(|_| free_port()).collect();
        for p in &ports {
            assert!(
                !(lo..=hi).contains(&u32::from(*p)),
                "{p} is in the ephemeral range {lo}-{hi}"
            );
        }
        let distinct: std::collections::HashSet<_> = ports.iter().collect();
        assert_eq!(distinct.len(), ports.len(), "a port was handed out twice");
    }
}
