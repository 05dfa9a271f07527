//! `tandem backup DIR` (issue "zone core", snapshot storage): a consistent copy of a running
//! server's store, taken while the API keeps writing, that another server starts on.

use domain::base::iana::Rtype;
use serde_json::json;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tandem_tests::dns::{self, rcode, Query};
use tandem_tests::tandem::{tandem_binary, Tandem};

const ZONE: &str = "backup.test";

fn serial(t: &Tandem) -> u32 {
    tandem_tests::incoming::served(t.dns(), ZONE).unwrap_or_else(|e| panic!("{e}"))
}

fn total(t: &Tandem, zone: &str) -> u64 {
    let path = format!("/zones/{zone}/dns_records?per_page=1");
    let v = tandem_tests::api::expect_success(&path, &t.api().get(&path));
    v["result_info"]["total_count"]
        .as_u64()
        .unwrap_or_else(|| panic!("{v}"))
}

fn backup(from: &std::path::Path, to: &std::path::Path) -> std::process::Output {
    Command::new(tandem_binary())
        .arg("backup")
        .arg(to)
        .arg("--data-dir")
        .arg(from)
        .output()
        .expect("run tandem backup")
}

#[test]
fn a_backup_taken_while_the_api_writes_restores_one_committed_serial() {
    let t = Tandem::start();
    let mut text = String::from("$TTL 300\n@ IN NS ns1\nns1 IN A 192.0.2.1\n");
    for i in 0..3000 {
        text.push_str(&format!("h{i} IN A 198.51.100.{}\n", i % 250));
    }
    let zone = t.load_zone(ZONE, &text);
    let (first_serial, first_total) = (serial(&t), total(&t, &zone));

    // Each write adds one record and one serial, so a consistent copy holds exactly
    // first_total + (its serial - first_serial) records.
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU32::new(0));
    let writer = {
        let (api, zone, stop, written) = (t.api(), zone.clone(), stop.clone(), written.clone());
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                api.post_ok(
                    &format!("/zones/{zone}/dns_records"),
                    &json!({"type": "A", "name": format!("w{i}.{ZONE}"), "content": "192.0.2.9", "ttl": 300}),
                );
                written.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        })
    };
    while written.load(Ordering::Relaxed) < 20 {
        std::thread::sleep(Duration::from_millis(10));
    }
    let copy = tempfile::tempdir().unwrap();
    let out = backup(t.data_dir(), copy.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("backed up") && said.contains("1 zones"),
        "{said}"
    );
    // Let the writer go on past the copy, then stop it.
    let at_copy = written.load(Ordering::Relaxed);
    while written.load(Ordering::Relaxed) < at_copy + 10 {
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();

    // The copy starts (its load checks every zone's record count and serial) and serves one
    // committed state: no write half in it.
    let restored = Tandem::start_on_dir(copy, &[]);
    let s = serial(&restored);
    assert!(s > first_serial, "writes before the copy are in it");
    assert!(s < serial(&t), "writes after the copy are not");
    assert_eq!(
        total(&restored, &zone),
        first_total + u64::from(s - first_serial),
        "serial {s}: one record per serial since {first_serial}"
    );
    let last = s - first_serial - 1;
    let r = dns::udp(
        restored.dns(),
        &Query::new(&format!("w{last}.{ZONE}."), Rtype::A),
    );
    assert_eq!(r.rcode(), rcode::NOERROR, "{r}");
    let r = dns::udp(
        restored.dns(),
        &Query::new(&format!("h2999.{ZONE}."), Rtype::A),
    );
    assert_eq!(r.rcode(), rcode::NOERROR, "{r}");
}

#[test]
fn a_backup_never_overwrites_a_directory_and_says_why() {
    let t = Tandem::start();
    let dest = tempfile::tempdir().unwrap();
    std::fs::write(dest.path().join("precious"), b"keep").unwrap();
    let out = backup(t.data_dir(), dest.path());
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not empty"), "{err}");
    assert_eq!(
        std::fs::read(dest.path().join("precious")).unwrap(),
        b"keep"
    );
    let nowhere = tempfile::tempdir().unwrap();
    let out = backup(nowhere.path(), &dest.path().join("copy"));
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no store here"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
