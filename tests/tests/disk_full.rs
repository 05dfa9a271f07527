//! A full disk (hardening row 12): while the data dir's file system is full the API refuses
//! writes with a clear error and changes nothing, DNS keeps serving, a server killed with
//! SIGKILL starts again on the full disk (it keeps `DATA_DIR/reserve` for that), and writes
//! succeed again as soon as a little space is freed; the reserve is put back once there is room.
//!
//! The data dir lives on a 32 MiB tmpfs mounted for the test, which needs root. Without root
//! (or `mount`) the test is skipped loudly, unless `TANDEM_INTEROP=require`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;
use tandem_tests::Tandem;

const ZONE: &str = "full.test";
const RESERVE: u64 = 8 << 20;

/// A tmpfs of `mib` MiB on a new directory, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(mib: u32) -> Option<SmallDisk> {
        let dir = tempfile::Builder::new()
            .prefix("tandem-full-")
            .tempdir()
            .unwrap();
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
        let mounted = root
            && Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
                .arg(dir.path())
                .status()
                .is_ok_and(|s| s.success());
        if mounted {
            return Some(SmallDisk { dir });
        }
        let why = if root {
            "mount -t tmpfs failed"
        } else {
            "not running as root"
        };
        tandem_tests::process::skip_unless_required(
            "the full-disk test",
            &format!("it needs to mount a tmpfs ({why})"),
            "run the tests as root",
        );
        None
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file until the file system is full; answers its path.
    fn fill(&self, name: &str) -> PathBuf {
        let path = self.path().join(name);
        let mut f = std::fs::File::create(&path).unwrap();
        let chunk = vec![0x5au8; 64 * 1024];
        loop {
            if let Err(e) = f.write_all(&chunk) {
                assert_eq!(e.raw_os_error(), Some(libc::ENOSPC), "{e}");
                break;
            }
        }
        // Whatever a partial write left: the last blocks too.
        while f.write(&[0x5a; 512]).is_ok_and(|n| n > 0) {}
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// The serial DNS serves for the zone.
fn serial(t: &Tandem) -> u32 {
    tandem_tests::incoming::served(t.dns(), ZONE).unwrap_or_else(|e| panic!("{e}"))
}

fn add(t: &Tandem, zone: &str, name: &str) -> tandem_tests::api::HttpResponse {
    t.api().post_json(
        &format!("/zones/{zone}/dns_records"),
        &json!({"type": "TXT", "name": name, "content": "\"x\"", "ttl": 300}),
    )
}

fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ok() {
        assert!(Instant::now() < deadline, "{what}: not within {timeout:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_full_disk_refuses_writes_cleanly_and_never_blocks_a_restart() {
    let Some(disk) = SmallDisk::mount(32) else {
        return;
    };
    let mut t = Tandem::start_in(disk.path(), &[]);
    let reserve = t.data_dir().join("reserve");
    wait_for("the reserve is written", Duration::from_secs(30), || {
        std::fs::metadata(&reserve).is_ok_and(|m| m.len() == RESERVE)
    });
    let zone = t.api().create_zone(ZONE);
    for i in 0..20 {
        let r = add(&t, &zone, &format!("before{i}"));
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let acknowledged = serial(&t);

    // Full: writes fail with a clear error, change nothing, and DNS keeps answering.
    let filler = disk.fill("filler");
    for i in 0..3 {
        let r = add(&t, &zone, &format!("refused{i}"));
        assert_eq!(r.status, 500, "{}", r.text());
        assert!(
            r.error_messages().contains("file system is full"),
            "{}",
            r.text()
        );
    }
    assert_eq!(serial(&t), acknowledged);
    assert!(reserve.exists(), "API writes never eat into the reserve");

    // Killed on the full disk, it starts again and serves the last acknowledged serial.
    t.kill9();
    // Not even the blocks of the old listen.json are left.
    std::fs::remove_file(t.data_dir().join("listen.json")).unwrap();
    let _last_blocks = disk.fill("filler-last");
    t.restart();
    assert_eq!(serial(&t), acknowledged, "{}", t.log_tail(3000));
    assert!(
        t.log_tail(20_000).contains("released the 8 MiB reserve"),
        "the start used the reserve: {}",
        t.log_tail(3000)
    );
    let zones = t.api().get_ok("/zones");
    assert_eq!(zones[0]["name"], ZONE);

    // Still full: still refused, nothing lost. Then a little space, and writes work again.
    let _still_full = disk.fill("filler2");
    let r = add(&t, &zone, "refused-after-restart");
    assert_eq!(r.status, 500, "{}", r.text());
    assert_eq!(serial(&t), acknowledged);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&filler)
        .unwrap();
    let len = f.metadata().unwrap().len();
    f.set_len(len - 512 * 1024).unwrap();
    drop(f);
    let r = add(&t, &zone, "after-space-freed");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(serial(&t), acknowledged + 1);

    // With room again, the reserve is put back for the next restart.
    std::fs::remove_file(&filler).unwrap();
    wait_for("the reserve is put back", Duration::from_secs(40), || {
        std::fs::metadata(&reserve).is_ok_and(|m| m.len() == RESERVE)
    });
    t.restart();
    assert_eq!(serial(&t), acknowledged + 1);
}

/// Standard error on a full disk (here `/dev/full`, where every write fails with ENOSPC):
/// log lines are lost, the server is not. Before, the first log line panicked the process.
#[test]
fn a_log_that_cannot_be_written_costs_log_lines_never_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        tandem_tests::process::say("SKIPPED: no /dev/full on this system; a_log_that_cannot_be_written_costs_log_lines_never_the_server did NOT run");
        return;
    };
    let mut child = Command::new(tandem_tests::tandem::tandem_binary())
        .arg("serve")
        .args(["--dns-listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--api-token", tandem_tests::tandem::TOKEN, "--log", "debug"])
        .stdout(std::process::Stdio::null())
        .stderr(full)
        .spawn()
        .unwrap();
    let listen = dir.path().join("listen.json");
    let deadline = Instant::now() + Duration::from_secs(60);
    let addrs: serde_json::Value = loop {
        if let Some(v) = std::fs::read(&listen)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
        {
            break v;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("tandem exited ({status}) with its standard error on a full device");
        }
        assert!(Instant::now() < deadline, "tandem did not start");
        std::thread::sleep(Duration::from_millis(25));
    };
    let api_addr = addrs["api"].as_str().unwrap().parse().unwrap();
    let dns_addr = addrs["dns"][0].as_str().unwrap().parse().unwrap();
    let api = tandem_tests::Api::new(api_addr, tandem_tests::tandem::TOKEN);
    // Every one of these logs at least a line.
    let zone = api.create_zone(ZONE);
    for i in 0..5 {
        let r = api.post_json(
            &format!("/zones/{zone}/dns_records"),
            &json!({"type": "A", "name": format!("h{i}"), "content": "192.0.2.1", "ttl": 300}),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let bad = api.post_json(
            &format!("/zones/{zone}/dns_records"),
            &json!({"type": "A", "name": "bad", "content": "not an address", "ttl": 300}),
        );
        assert_eq!(bad.status, 400);
    }
    assert_eq!(
        tandem_tests::incoming::served(dns_addr, ZONE).unwrap(),
        6,
        "DNS serves every change"
    );
    assert!(child.try_wait().unwrap().is_none(), "still running");
    let _ = child.kill();
    let _ = child.wait();
}
