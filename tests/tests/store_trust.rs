//! The store is trusted only after it is checked (hardening rows 7 and 10): a second server on
//! one data directory, a database that is gone, damaged or not the one that was there, and
//! records that are not what was committed each stop the start with a clear error and a
//! non-zero exit, never a server that answers NXDOMAIN with AA for part of a zone.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use domain::base::iana::Rtype;
use tandem_tests::dns::{self, rcode, Query};
use tandem_tests::tandem::tandem_binary;
use tandem_tests::Tandem;

const ZONE: &str = "trust.test";

/// A server with one zone of `n` A records, killed with SIGKILL, its WAL folded into the
/// database so that damage to the database file hits committed data.
fn stopped_server_with_records(n: usize) -> Tandem {
    let mut t = Tandem::start();
    let mut text = String::from("$TTL 300\n@ IN NS ns1\nns1 IN A 192.0.2.1\n");
    for i in 0..n {
        text.push_str(&format!("h{i} IN A 198.51.100.{}\n", i % 250));
    }
    t.load_zone(ZONE, &text);
    let r = dns::udp(t.dns(), &Query::new(&format!("h7.{ZONE}."), Rtype::A));
    assert_eq!(r.rcode(), rcode::NOERROR, "{r}");
    t.kill9();
    let conn = rusqlite::Connection::open(t.data_dir().join("tandem.db")).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(conn);
    t
}

/// Runs `tandem serve` on `dir` and waits up to 60 s for it to exit; answers its exit
/// status and stderr, or panics when it keeps running (it started on a store it must refuse).
fn refused_start(dir: &Path) -> (std::process::ExitStatus, String) {
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new(tandem_binary())
        .arg("serve")
        .args(["--dns-listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(log.reopen().unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status, std::fs::read_to_string(log.path()).unwrap());
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "tandem kept running on a store it must refuse:\n{}",
                std::fs::read_to_string(log.path()).unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_second_server_on_one_data_dir_exits_and_the_first_keeps_serving() {
    let t = Tandem::start();
    t.load_zone(ZONE, "$TTL 300\n@ IN NS ns1\nns1 IN A 192.0.2.1\n");
    let (status, log) = refused_start(t.data_dir());
    assert!(!status.success(), "{log}");
    assert!(
        log.contains("is in use by another tandem process"),
        "the error says why: {log}"
    );
    let r = dns::udp(t.dns(), &Query::new(&format!("ns1.{ZONE}."), Rtype::A));
    assert_eq!(
        r.rcode(),
        rcode::NOERROR,
        "the first server still answers\n{r}"
    );
    assert_eq!(r.answer().len(), 1, "{r}");
}

#[test]
fn a_lost_database_stops_the_start() {
    for damage in ["deleted with its WAL kept", "emptied"] {
        let t = stopped_server_with_records(10);
        let db = t.data_dir().join("tandem.db");
        if damage == "emptied" {
            std::fs::write(&db, b"").unwrap();
        } else {
            std::fs::write(t.data_dir().join("tandem.db-wal"), b"stale").unwrap();
            std::fs::remove_file(&db).unwrap();
        }
        let (status, log) = refused_start(t.data_dir());
        assert!(!status.success(), "{damage}: {log}");
        assert!(
            log.contains("restore tandem.db from a backup"),
            "{damage}: the error says how to recover: {log}"
        );
    }
}

#[test]
fn a_damaged_database_stops_the_start() {
    let t = stopped_server_with_records(3000);
    let db = t.data_dir().join("tandem.db");
    let mut bytes = std::fs::read(&db).unwrap();
    let page = 4096;
    let pages = bytes.len() / page;
    assert!(pages > 30, "{pages} pages");
    // 20 damaged page headers spread over the second half of the file.
    for p in (pages / 2..pages)
        .step_by(((pages / 2) / 20).max(1))
        .take(20)
    {
        bytes[p * page] ^= 0x5a;
        bytes[p * page + 3] ^= 0xff;
    }
    std::fs::write(&db, bytes).unwrap();
    let (status, log) = refused_start(t.data_dir());
    assert!(!status.success(), "{log}");
    assert!(
        log.contains("damaged") || log.contains("malformed"),
        "the error names the damage: {log}"
    );
}

#[test]
fn records_that_differ_from_the_committed_count_stop_the_start() {
    let t = stopped_server_with_records(50);
    // Rows lost without their zone's count, as a damaged index loses them to a scan. The
    // imported records have none (they live in the zone's snapshot); the SOA has one.
    let conn = rusqlite::Connection::open(t.data_dir().join("tandem.db")).unwrap();
    let lost = conn
        .execute("DELETE FROM records WHERE type = 6", [])
        .unwrap();
    assert_eq!(lost, 1);
    drop(conn);
    let (status, log) = refused_start(t.data_dir());
    assert!(!status.success(), "{log}");
    assert!(
        log.contains(&format!("zone {ZONE}: the store counted")),
        "the error names the zone and the counts: {log}"
    );
}

#[test]
fn a_clean_shutdown_leaves_no_write_ahead_log_to_replay() {
    let mut t = Tandem::start();
    let mut text = String::from("$TTL 300\n@ IN NS ns1\nns1 IN A 192.0.2.1\n");
    for i in 0..2000 {
        text.push_str(&format!("h{i} IN A 198.51.100.{}\n", i % 250));
    }
    t.load_zone(ZONE, &text);
    let wal = t.data_dir().join("tandem.db-wal");
    let size = || std::fs::metadata(&wal).map_or(0, |m| m.len());
    assert!(size() > 0, "the import went through the log");
    t.stop();
    assert_eq!(size(), 0, "SIGTERM checkpoints the log into the database");
    t.restart();
    let r = dns::udp(t.dns(), &Query::new(&format!("h1999.{ZONE}."), Rtype::A));
    assert_eq!(r.rcode(), rcode::NOERROR, "{r}");
}
