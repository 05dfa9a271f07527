//! The provider's official TypeScript SDK (npm `cloudflare` 7.x, pinned in
//! `tests/sdk-ts/package-lock.json`) against the real binary (issue 11): runs
//! `tests/sdk-ts/records.mjs` with Node, `new Cloudflare({ apiToken, baseURL })` pointed at a
//! fresh Tandem. The script creates records of every type the provider has in `content` and
//! `data` form, lists them with every filter, pages through them with the SDK's iterators,
//! batches, imports and exports, creates, pauses and deletes zones, and asks the DNS port with
//! `dig` what each step serves. It stops at the first mismatch and says what differed.
//!
//! Needs `node`, `dig` and `tests/sdk-ts/node_modules/cloudflare`
//! (`cd tests/sdk-ts && npm ci`). Without them the test says so loudly and returns, unless
//! `TANDEM_INTEROP=require` (as CI sets), which makes it fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use tandem_tests::process::{find_tool, log_tail, skip_unless_required, wait_or_kill};
use tandem_tests::tandem::TOKEN;
use tandem_tests::Tandem;

/// The whole script; it makes a few hundred API calls and dig queries.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

fn sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sdk-ts")
}

/// Node, or why the test cannot run.
fn prerequisites() -> Result<PathBuf, String> {
    let node = find_tool("node").ok_or("node is not installed (apt-get install nodejs npm)")?;
    find_tool("dig").ok_or("dig is not installed (apt-get install bind9-dnsutils)")?;
    let sdk = sdk_dir().join("node_modules/cloudflare/package.json");
    if !sdk.is_file() {
        return Err(
            "the cloudflare npm package is not installed (cd tests/sdk-ts && npm ci)".into(),
        );
    }
    Ok(node)
}

#[test]
fn official_typescript_sdk_drives_records_and_zones() {
    let node = match prerequisites() {
        Ok(node) => node,
        Err(why) => {
            skip_unless_required(
                "the TypeScript SDK test",
                &why,
                "apt-get install nodejs npm bind9-dnsutils && (cd tests/sdk-ts && npm ci)",
            );
            return;
        }
    };
    let tandem = Tandem::start();
    let base_url = format!("http://{}/client/v4", tandem.api_addr());
    let out_dir = tempfile::tempdir().expect("temp dir");
    let out_path = out_dir.path().join("records.log");
    let out = std::fs::File::create(&out_path).expect("script log");
    let mut child = Command::new(node)
        .current_dir(sdk_dir())
        .arg("records.mjs")
        .env("CLOUDFLARE_BASE_URL", &base_url)
        .env("CLOUDFLARE_API_TOKEN", TOKEN)
        .env("TANDEM_DNS", tandem.dns().to_string())
        // Only the token: other credentials in the environment would be sent beside it.
        .env_remove("CLOUDFLARE_API_KEY")
        .env_remove("CLOUDFLARE_EMAIL")
        .env_remove("CLOUDFLARE_API_USER_SERVICE_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::from(out.try_clone().expect("clone log")))
        .stderr(Stdio::from(out))
        .spawn()
        .expect("run node records.mjs");
    let status = wait_or_kill(&mut child, RUN_TIMEOUT);
    let mut output = log_tail(&out_path, 64 * 1024);
    if status.is_none() {
        output.push_str(&format!("\n(killed after {RUN_TIMEOUT:?})\n"));
    }
    println!("{output}");
    assert!(
        status.is_some_and(|s| s.success()),
        "the TypeScript SDK test failed against {base_url}:\n{output}\n---- tandem log ----\n{}",
        tandem.log_tail(6000)
    );
}
