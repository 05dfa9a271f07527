//! The dashboard in a real browser (issue: "the dashboard, and the peer_serials endpoint"):
//! runs `tests/dashboard/e2e.mjs` with Node, which drives Debian's headless Chromium through
//! `playwright-core` against the real binary. The script signs in, creates a TSIG key, a peer
//! using it and a secondary zone linked to it, a full zone with records, links a peer and
//! enables outgoing transfers, sees the API's validation errors at their fields (31st peer,
//! bad IP, bad CIDR), and checks every step through the REST API. For the multi-provider view
//! a second Tandem serves the same zone at another serial and is linked as a secondary. It also
//! checks what a newcomer tripped over (issue 11): no Delete on the SOA row, a failure shown in
//! the error colour rather than the green of a success, a zones page that loads without a
//! single 404, and a zones table whose every column stays on a 390 px screen.
//! Screenshots of the main pages go to `<target dir>/dashboard-screenshots/` (or
//! `TANDEM_SCREENSHOTS`).
//!
//! Needs `node`, `/usr/bin/chromium` and `tests/dashboard/node_modules/playwright-core`
//! (`cd tests/dashboard && npm ci`). Without them the test says so loudly and returns, unless
//! `TANDEM_INTEROP=require` (as CI sets), which makes it fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;
use tandem_tests::process::{find_tool, free_port, log_tail, wait_or_kill};
use tandem_tests::tandem::TOKEN;
use tandem_tests::Tandem;

/// The whole browser run; each step inside has its own 15 s limit.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

const CHROMIUM: &str = "/usr/bin/chromium";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Node, or why the browser test cannot run.
fn prerequisites() -> Result<PathBuf, String> {
    let node = find_tool("node").ok_or("node is not installed (apt-get install nodejs npm)")?;
    if !Path::new(CHROMIUM).is_file() {
        return Err(format!("{CHROMIUM} is missing (apt-get install chromium)"));
    }
    let playwright = repo_root().join("tests/dashboard/node_modules/playwright-core");
    if !playwright.is_dir() {
        return Err("playwright-core is not installed (cd tests/dashboard && npm ci)".into());
    }
    Ok(node)
}

/// Where the screenshots go: `TANDEM_SCREENSHOTS`, else `dashboard-screenshots` in the target
/// dir this test was built into (`target/` by default, which git ignores).
fn screenshot_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TANDEM_SCREENSHOTS") {
        return PathBuf::from(dir);
    }
    // A test executable lives at <target-dir>/<profile>/deps/<name>-<hash>.
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| repo_root().join("target"))
        .join("dashboard-screenshots")
}

/// A second provider: `multi.dash.test` at serial 3 (created at 1, two imports).
fn other_provider() -> Tandem {
    let other = Tandem::start();
    let api = other.api();
    let zone = api.create_zone("multi.dash.test");
    api.import_ok(&zone, "a 300 IN A 192.0.2.1\n", false);
    api.import_ok(&zone, "b 300 IN A 192.0.2.2\n", false);
    assert_eq!(api.soa_serial(&zone), 3);
    other
}

/// Runs the script to its end (or RUN_TIMEOUT); answers success and its output.
fn run_script(node: &Path, tandem: &Tandem, other: &Tandem, shots: &Path) -> (bool, String) {
    let out_dir = tempfile::tempdir().expect("temp dir");
    let out_path = out_dir.path().join("e2e.log");
    let out = std::fs::File::create(&out_path).expect("script log");
    let dashboard = repo_root().join("tests/dashboard");
    let mut child = Command::new(node)
        .current_dir(&dashboard)
        .arg(dashboard.join("e2e.mjs"))
        .env("TANDEM_URL", format!("http://{}", tandem.api_addr()))
        .env("TANDEM_TOKEN", TOKEN)
        .env("TANDEM_PEER_DNS", other.dns().to_string())
        .env("TANDEM_DEAD_PORT", free_port().to_string())
        .env("TANDEM_SCREENSHOTS", shots)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out.try_clone().expect("clone log")))
        .stderr(Stdio::from(out))
        .spawn()
        .expect("run node e2e.mjs");
    let status = wait_or_kill(&mut child, RUN_TIMEOUT);
    let mut output = log_tail(&out_path, 64 * 1024);
    if status.is_none() {
        output.push_str(&format!("\n(killed after {RUN_TIMEOUT:?})\n"));
    }
    (status.is_some_and(|s| s.success()), output)
}

#[test]
fn dashboard_in_headless_chromium() {
    let node = match prerequisites() {
        Ok(node) => node,
        Err(why) => {
            tandem_tests::process::skip_unless_required(
                "the dashboard browser test",
                &why,
                "apt-get install chromium nodejs npm && (cd tests/dashboard && npm ci)",
            );
            return;
        }
    };
    let tandem = Tandem::start();
    let other = other_provider();
    let shots = screenshot_dir();
    let (ok, output) = run_script(&node, &tandem, &other, &shots);
    println!("{output}");
    assert!(
        ok,
        "the dashboard test failed:\n{output}\n---- tandem log ----\n{}",
        tandem.log_tail(6000)
    );

    // What the page left behind, seen by the API once more.
    let api = tandem.api();
    let zones = api.get_ok("/zones?per_page=100");
    let mut names: Vec<&str> = zones
        .as_array()
        .expect("zone list")
        .iter()
        .filter_map(|z| z["name"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["full.dash.test", "multi.dash.test"]);
    let multi = zones
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["name"] == "multi.dash.test")
        .expect("multi.dash.test");
    let serials = api.get_ok(&format!(
        "/zones/{}/secondary_dns/peer_serials",
        multi["id"].as_str().unwrap()
    ));
    assert_eq!(serials[0]["name"], json!("provider-b"));
    assert_eq!(serials[0]["serial"], json!(3), "{serials}");
    assert_eq!(serials[0]["our_serial"], json!(3), "{serials}");
    for shot in [
        "01-sign-in",
        "05-full-zone",
        "07-providers-differ",
        "09-zones",
    ] {
        assert!(
            shots.join(format!("{shot}.png")).is_file(),
            "screenshot {shot}.png missing in {}",
            shots.display()
        );
    }
    println!("screenshots: {}", shots.display());
}
