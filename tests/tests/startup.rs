//! What a newcomer meets when starting the binary (issue 11, item 6): after `--api-token`,
//! `DATA_DIR/api-token` no longer offers the generated token it replaced; and a listener that
//! cannot bind says which address and which flag changes it.

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use tandem_tests::api::Api;
use tandem_tests::process::ChildProcess;
use tandem_tests::tandem::tandem_binary;
use tandem_tests::Checks;

const WAIT: Duration = Duration::from_secs(60);

/// `tandem serve` on `dir` with port-0 listeners and `extra` flags; its log file.
fn command(dir: &Path, log_name: &str, extra: &[&str]) -> (Command, std::path::PathBuf) {
    let mut cmd = Command::new(tandem_binary());
    cmd.arg("serve")
        .arg("--data-dir")
        .arg(dir)
        .args(extra)
        .env_remove("TANDEM_API_TOKEN")
        .env_remove("TANDEM_API_LISTEN")
        .env_remove("TANDEM_DNS_LISTEN");
    (cmd, dir.join(log_name))
}

/// Starts the server and waits for `listen.json`; answers the process and the API address.
fn start(dir: &Path, run: u32, extra: &[&str]) -> (ChildProcess, SocketAddr) {
    let listen = dir.join("listen.json");
    let _ = std::fs::remove_file(&listen);
    let mut args = vec!["--dns-listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let (cmd, log) = command(dir, &format!("run-{run}.log"), &args);
    let mut process = ChildProcess::spawn("tandem", cmd, &log);
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(api) = std::fs::read_to_string(&listen)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["api"].as_str()?.parse().ok())
        {
            return (process, api);
        }
        if let Some(status) = process.exited() {
            panic!("tandem exited ({status}):\n{}", process.log_tail(4000));
        }
        assert!(Instant::now() < deadline, "tandem did not start");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Runs the server until it exits by itself (it must, within the wait); its status and output.
fn run_to_exit(dir: &Path, name: &str, args: &[&str]) -> (Option<i32>, String) {
    let (cmd, log) = command(dir, name, args);
    let mut process = ChildProcess::spawn("tandem", cmd, &log);
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(status) = process.exited() {
            return (status.code(), process.log_tail(8000));
        }
        if Instant::now() > deadline {
            let output = process.log_tail(8000);
            process.kill9();
            panic!("tandem kept running although it could not bind:\n{output}");
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Is `token` accepted by the server at `api`?
fn accepted(api: SocketAddr, token: &str) -> bool {
    Api::new(api, token).get("/user/tokens/verify").status == 200
}

#[test]
fn api_token_flag_removes_the_generated_token_file_it_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("api-token");
    let mut c = Checks::new();

    // First start without a token: one is generated and written to the file.
    let (mut p, api) = start(dir.path(), 1, &[]);
    let generated = std::fs::read_to_string(&file)
        .expect("the generated token is written to DATA_DIR/api-token")
        .trim()
        .to_string();
    c.check(accepted(api, &generated), || {
        "the generated token works".into()
    });
    p.stop(Duration::from_secs(10));

    // A start with --api-token replaces it: the file no longer offers the old one.
    let given = "a-token-given-on-the-command-line";
    let (mut p, api) = start(dir.path(), 2, &["--api-token", given]);
    c.check(accepted(api, given), || "the given token works".into());
    c.check(!accepted(api, &generated), || {
        "the generated token is no longer valid".into()
    });
    c.check(!file.exists(), || {
        format!(
            "DATA_DIR/api-token still exists, holding {:?}",
            std::fs::read_to_string(&file).unwrap_or_default()
        )
    });
    c.check(
        p.log_tail(8000)
            .contains("removed the administrator token file"),
        || format!("the removal is logged:\n{}", p.log_tail(4000)),
    );
    p.stop(Duration::from_secs(10));

    // Without a token again: the given one stays valid and nothing is generated.
    let (mut p, api) = start(dir.path(), 3, &[]);
    c.check(accepted(api, given), || {
        "the stored token stays valid".into()
    });
    c.check(!file.exists(), || "no new token file".into());
    p.stop(Duration::from_secs(10));
    c.finish();
}

#[test]
fn a_listener_that_cannot_bind_names_its_address_and_flag() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Checks::new();
    let token = ["--api-token", "bind-test-token"];

    // The API address is taken.
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = busy.local_addr().unwrap().to_string();
    let mut args = vec!["--dns-listen", "127.0.0.1:0", "--api-listen", &taken];
    args.extend_from_slice(&token);
    let (code, output) = run_to_exit(dir.path(), "api.log", &args);
    c.check(code.is_some_and(|c| c != 0), || {
        format!("exit status {code:?}")
    });
    c.check(
        output.contains(&taken) && output.contains("--api-listen"),
        || format!("the API bind error names {taken} and --api-listen:\n{output}"),
    );
    c.check(output.contains("TANDEM_API_LISTEN"), || {
        format!("and its environment variable:\n{output}")
    });
    drop(busy);

    // The DNS address is taken, for UDP and then for TCP only.
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let taken_udp = udp.local_addr().unwrap().to_string();
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_tcp = tcp.local_addr().unwrap().to_string();
    for (taken, what) in [(&taken_udp, "UDP"), (&taken_tcp, "TCP")] {
        let mut args = vec![
            "--dns-listen",
            taken.as_str(),
            "--api-listen",
            "127.0.0.1:0",
        ];
        args.extend_from_slice(&token);
        let (code, output) = run_to_exit(dir.path(), &format!("dns-{what}.log"), &args);
        c.check(code.is_some_and(|c| c != 0), || {
            format!("{what}: exit status {code:?}")
        });
        c.check(
            output.contains(taken.as_str()) && output.contains("--dns-listen"),
            || format!("{what}: the DNS bind error names {taken} and --dns-listen:\n{output}"),
        );
        c.check(!output.contains("--api-listen"), || {
            format!("{what}: names the wrong flag:\n{output}")
        });
    }
    drop((udp, tcp));
    c.finish();
}
