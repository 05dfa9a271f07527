//! The tools people drive the provider's v4 API with, run unchanged against the real binary
//! (issue 11, item 5; PRODUCT §3 "the provider's clients (official SDKs, octoDNS, certbot,
//! lexicon)"):
//!
//! - octoDNS with the stock `octodns-cloudflare` provider, pointed at Tandem by `api_url:` only
//!   (`tests/clients/octodns/`): sync a zone of every type it manages, converge, change two
//!   records, dump, and check what Tandem serves with dig (`tests/clients/octodns_check.py`).
//! - certbot's `dns-cloudflare` authenticator, pointed by `CLOUDFLARE_BASE_URL`
//!   (`tests/clients/test_certbot.py`): DNS-01 challenges for apex and wildcard at one name.
//! - dns-lexicon's `cloudflare` provider, its hard-coded API URL overridden
//!   (`tests/clients/test_lexicon.py`): create, list, duplicate create, update, delete.
//!
//! The tools come from `.venv` at the repository root (`.ci/run` installs them). Without them a
//! test says so loudly and returns, unless `TANDEM_INTEROP=require` (as CI sets).
//!
//! Nothing leaves 127.0.0.0/8: the tools run with a clean environment whose HTTP(S) proxy is a
//! listener of the test (`NO_PROXY` for 127.0.0.1), and a test fails when any request reached
//! it; tldextract is kept to its bundled public-suffix snapshot by the environment.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tandem_tests::process::{find_tool, skip_unless_required, wait_or_kill};
use tandem_tests::tandem::TOKEN;
use tandem_tests::Tandem;

/// How long one run of a tool may take.
const TOOL_TIMEOUT: Duration = Duration::from_secs(300);

/// The pip line that installs the tools (as `.ci/run` does).
const SETUP: &str = "python3 -m venv .venv && .venv/bin/pip install octodns==1.22.0 \
     octodns-cloudflare==1.2.0 certbot==5.8.0 certbot-dns-cloudflare==5.8.0 \
     dns-lexicon==3.25.2 tldextract==5.4.0 pytest";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn fixtures() -> PathBuf {
    repo_root().join("tests/clients")
}

/// The venv's Python when it can import `modules`, and dig; otherwise says why (loudly, or as a
/// failure under `TANDEM_INTEROP=require`) and returns None.
fn tools(test: &str, modules: &[&str]) -> Option<(PathBuf, PathBuf)> {
    let python = repo_root().join(".venv/bin/python");
    let why = if !python.is_file() {
        Some(format!("no Python at {}", python.display()))
    } else {
        let import = format!("import {}", modules.join(", "));
        match Command::new(&python).args(["-c", &import]).output() {
            Ok(out) if out.status.success() => None,
            Ok(out) => Some(format!(
                "{} cannot `{import}`: {}",
                python.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Err(e) => Some(format!("cannot run {}: {e}", python.display())),
        }
    };
    if let Some(why) = why {
        skip_unless_required(test, &why, SETUP);
        return None;
    }
    let Some(dig) = find_tool("dig") else {
        skip_unless_required(test, "dig is not installed", "apt-get install dnsutils");
        return None;
    };
    let versions = Command::new(&python)
        .args([
            "-c",
            "import importlib.metadata as m, sys\n\
             for p in sys.argv[1:]:\n\
             \x20   try: print(p, m.version(p))\n\
             \x20   except m.PackageNotFoundError: pass",
        ])
        .args(modules.iter().map(|m| match *m {
            "lexicon" => "dns-lexicon".to_string(),
            "yaml" => "PyYAML".to_string(),
            "dns" => "dnspython".to_string(),
            m => m.replace('_', "-"),
        }))
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .replace('\n', ", ")
        })
        .unwrap_or_default();
    eprintln!("{test}: {versions} at {}", python.display());
    Some((python, dig))
}

/// An HTTP(S) proxy on loopback that every tool is given, so that a request for anywhere but
/// 127.0.0.1 (which `NO_PROXY` sends direct) lands here instead of leaving the machine. It
/// answers 403 and records the request line; `assert_unused` fails the test if there was any.
struct OfflineGuard {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl OfflineGuard {
    fn start() -> OfflineGuard {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the offline guard");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, stopped) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut stream, peer)) => {
                        let _ = stream.set_nonblocking(false);
                        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                        let mut line = String::new();
                        let _ = BufReader::new(&stream).read_line(&mut line);
                        seen.lock()
                            .unwrap()
                            .push(format!("from {peer}: {}", line.trim()));
                        let _ = stream.write_all(
                            b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\
                              Connection: close\r\n\r\n",
                        );
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        OfflineGuard {
            addr,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// The proxy variables of a tool's environment.
    fn env(&self) -> Vec<(String, String)> {
        let proxy = format!("http://{}", self.addr);
        let mut env = Vec::new();
        for var in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
            env.push((var.to_string(), proxy.clone()));
            env.push((var.to_lowercase(), proxy.clone()));
        }
        for var in ["NO_PROXY", "no_proxy"] {
            env.push((var.to_string(), "127.0.0.1,localhost".to_string()));
        }
        env
    }

    fn assert_unused(&self) {
        let requests = self.requests.lock().unwrap();
        assert!(
            requests.is_empty(),
            "a tool tried to reach beyond 127.0.0.1 (through the proxy it was given):\n{}",
            requests.join("\n")
        );
    }
}

impl Drop for OfflineGuard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What one run of a tool did.
struct Run {
    what: String,
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Everything it printed, for failure messages.
    fn output(&self) -> String {
        format!(
            "---- {} exited {} ----\n---- stdout ----\n{}\n---- stderr ----\n{}",
            self.what, self.status, self.stdout, self.stderr
        )
    }

    fn assert_success(&self, tandem: &Tandem) -> &Run {
        assert!(
            self.status.success(),
            "{}\n---- tandem log ----\n{}",
            self.output(),
            tandem.log_tail(6000)
        );
        self
    }
}

/// A directory for the tools to run in, and the environment they get: nothing of the caller's
/// (no stray CLOUDFLARE_* or LEXICON_* settings), only PATH, HOME in `dir`, the proxy of
/// `guard`, and `extra`.
struct Workspace<'a> {
    dir: &'a Path,
    guard: &'a OfflineGuard,
    env: Vec<(String, String)>,
}

impl Workspace<'_> {
    fn run(&self, what: &str, program: &Path, args: &[&str]) -> Run {
        let n = std::fs::read_dir(self.dir).map(|d| d.count()).unwrap_or(0);
        let out_path = self.dir.join(format!("run-{n}.stdout"));
        let err_path = self.dir.join(format!("run-{n}.stderr"));
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(self.dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir)
            .env("LANG", "C.UTF-8")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .envs(self.guard.env())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(std::fs::File::create(&err_path).unwrap());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what} ({}): {e}", program.display()));
        let Some(status) = wait_or_kill(&mut child, TOOL_TIMEOUT) else {
            panic!(
                "{what} did not finish within {TOOL_TIMEOUT:?}; it printed:\n{}\n{}",
                std::fs::read_to_string(&out_path).unwrap_or_default(),
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        };
        let run = Run {
            what: what.to_string(),
            status,
            stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
            stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
        };
        println!("{}", run.output());
        run
    }
}

fn api_url(tandem: &Tandem) -> String {
    format!("http://{}/client/v4", tandem.api_addr())
}

/// The changes in octoDNS's plan (which it logs to stderr), one string each: a change starts
/// with a line `*   Create <...>`, `*   Update` or `*   Delete <...>` and goes on in lines
/// `*     ...`.
fn plan_changes(run: &Run) -> Vec<String> {
    let mut changes: Vec<String> = Vec::new();
    let mut open = false;
    for line in run.stderr.lines() {
        if let Some(more) = line.strip_prefix("*     ") {
            if let (true, Some(last)) = (open, changes.last_mut()) {
                last.push(' ');
                last.push_str(more.trim());
            }
        } else if let Some(head) = line.strip_prefix("*   ") {
            open = ["Create <", "Update", "Delete <"]
                .iter()
                .any(|k| head.starts_with(k));
            if open {
                changes.push(head.trim().to_string());
            }
        } else {
            open = false;
        }
    }
    changes
}

/// Replaces the one occurrence of `from` in `text`.
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(
        text.matches(from).count(),
        1,
        "the zone file must hold `{from}` exactly once"
    );
    text.replacen(from, to, 1)
}

#[test]
fn octodns_syncs_converges_and_dumps() {
    let test = "the octoDNS test";
    let Some((python, dig)) = tools(test, &["octodns", "octodns_cloudflare", "yaml", "dns"]) else {
        return;
    };
    let bin = python.parent().unwrap().to_path_buf();
    let (sync, dump) = (bin.join("octodns-sync"), bin.join("octodns-dump"));
    let tandem = Tandem::start();
    let guard = OfflineGuard::start();
    let dir = tempfile::Builder::new()
        .prefix("tandem-octodns-")
        .tempdir()
        .unwrap();
    let source = fixtures().join("octodns");
    std::fs::create_dir(dir.path().join("zones")).unwrap();
    std::fs::copy(source.join("config.yaml"), dir.path().join("config.yaml")).unwrap();
    let zone_file = dir.path().join("zones/example.com.yaml");
    let original = std::fs::read_to_string(source.join("zones/example.com.yaml")).unwrap();
    std::fs::write(&zone_file, &original).unwrap();
    let ws = Workspace {
        dir: dir.path(),
        guard: &guard,
        env: vec![
            ("TANDEM_API_URL".into(), api_url(&tandem)),
            ("TANDEM_API_TOKEN".into(), TOKEN.into()),
        ],
    };
    let config = ["--config-file", "config.yaml"];
    let doit = ["--config-file", "config.yaml", "--doit"];

    // First sync: octoDNS creates the zone (POST /zones) and every record of the YAML.
    let first = ws.run("octodns-sync --doit", &sync, &doit);
    first.assert_success(&tandem);
    let creates = plan_changes(&first);
    assert!(
        first.stderr.contains("Create Zone<example.com.>")
            && first
                .stderr
                .contains("Summary: Creates=14, Updates=0, Deletes=0")
            && creates.len() == 14
            && creates.iter().all(|c| c.starts_with("Create <")),
        "the first sync must create the zone and the 14 records of the YAML:\n{}",
        first.output()
    );

    // Second sync: what Tandem returns reads back as the YAML, so there is nothing to do.
    let again = ws.run("octodns-sync (second)", &sync, &config);
    again.assert_success(&tandem);
    assert!(
        again.stderr.contains("No changes were planned") && plan_changes(&again).is_empty(),
        "a second sync must plan no changes (octoDNS reads back something other than it \
         wrote):\n{}",
        again.output()
    );

    // Two records change: exactly those two are planned, applied, and then nothing is left.
    let changed = replace_once(
        &original,
        "  type: CNAME\n  value: web.example.net.\n",
        "  type: CNAME\n  value: web2.example.net.\n",
    );
    let changed = replace_once(
        &changed,
        "    - port: 5060\n      priority: 10\n",
        "    - port: 5061\n      priority: 10\n",
    );
    std::fs::write(&zone_file, &changed).unwrap();
    let plan = ws.run("octodns-sync (two changes)", &sync, &config);
    plan.assert_success(&tandem);
    let planned = plan_changes(&plan);
    let updates = |old: &str, new: &str| {
        planned
            .iter()
            .any(|c| c.starts_with(&format!("Update <{old}")) && c.contains(&format!("-> <{new}")))
    };
    assert!(
        plan.stderr
            .contains("Summary: Creates=0, Updates=2, Deletes=0")
            && planned.len() == 2
            && updates(
                "CnameRecord CNAME 3600, www.example.com., web.example.net.",
                "CnameRecord CNAME 3600, www.example.com., web2.example.net."
            )
            && updates(
                "SrvRecord SRV 3600, _sip._tcp.example.com., [''10 60 5060 sip.example.com.''",
                "SrvRecord SRV 3600, _sip._tcp.example.com., [''10 60 5061 sip.example.com.''"
            ),
        "the plan must be exactly the two changed records:\n{}",
        plan.output()
    );
    ws.run("octodns-sync --doit (two changes)", &sync, &doit)
        .assert_success(&tandem);
    let settled = ws.run("octodns-sync (after the changes)", &sync, &config);
    settled.assert_success(&tandem);
    assert!(
        settled.stderr.contains("No changes were planned") && plan_changes(&settled).is_empty(),
        "after applying the two changes a sync must plan nothing:\n{}",
        settled.output()
    );

    // octodns-dump reads the zone back from Tandem as the YAML it came from.
    let dumped = ws.run(
        "octodns-dump",
        &dump,
        &[
            "--config-file",
            "config.yaml",
            "--output-dir",
            "dump",
            "example.com.",
            "tandem",
        ],
    );
    dumped.assert_success(&tandem);
    let checker = fixtures().join("octodns_check.py");
    let checker = checker.to_str().unwrap();
    ws.run(
        "octodns_check.py dump",
        &python,
        &[
            checker,
            "dump",
            "zones/example.com.yaml",
            "dump/example.com.yaml",
            "ns1.example.com.",
        ],
    )
    .assert_success(&tandem);

    // And Tandem serves what the YAML says.
    let port = tandem.dns().port().to_string();
    ws.run(
        "octodns_check.py dig",
        &python,
        &[
            checker,
            "dig",
            "zones/example.com.yaml",
            "example.com",
            dig.to_str().unwrap(),
            &port,
        ],
    )
    .assert_success(&tandem);

    guard.assert_unused();
}

/// Runs one of the pytest files of tests/clients against a fresh server.
fn pytest(test: &str, file: &str, modules: &[&str], env: &[(&str, &str)]) {
    let Some((python, dig)) = tools(test, modules) else {
        return;
    };
    let tandem = Tandem::start();
    let guard = OfflineGuard::start();
    let dir = tempfile::Builder::new()
        .prefix("tandem-clients-")
        .tempdir()
        .unwrap();
    let mut vars: Vec<(String, String)> = vec![
        ("TANDEM_API_URL".into(), api_url(&tandem)),
        ("TANDEM_API_TOKEN".into(), TOKEN.into()),
        ("TANDEM_DNS_PORT".into(), tandem.dns().port().to_string()),
        ("DIG".into(), dig.to_string_lossy().into_owned()),
    ];
    for (k, v) in env {
        vars.push((k.to_string(), v.replace("{api}", &api_url(&tandem))));
    }
    let ws = Workspace {
        dir: dir.path(),
        guard: &guard,
        env: vars,
    };
    let basetemp = dir.path().join("pytest");
    let file = fixtures().join(file);
    ws.run(
        &format!("pytest {}", file.display()),
        &python,
        &[
            "-m",
            "pytest",
            "-v",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            basetemp.to_str().unwrap(),
            file.to_str().unwrap(),
        ],
    )
    .assert_success(&tandem);
    guard.assert_unused();
}

#[test]
fn certbot_dns_cloudflare_answers_and_cleans_up_challenges() {
    pytest(
        "the certbot-dns-cloudflare test",
        "test_certbot.py",
        &[
            "certbot",
            "certbot_dns_cloudflare",
            "cloudflare",
            "pytest",
            "dns",
        ],
        // The plugin's cloudflare SDK client takes its base URL from the environment.
        &[("CLOUDFLARE_BASE_URL", "{api}")],
    );
}

#[test]
fn lexicon_creates_lists_updates_and_deletes() {
    pytest(
        "the dns-lexicon test",
        "test_lexicon.py",
        &["lexicon", "tldextract", "pytest", "dns"],
        &[
            ("LEXICON_CLOUDFLARE_AUTH_TOKEN", TOKEN),
            // tldextract: no download of the public suffix list; its bundled snapshot serves.
            ("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", ""),
            ("TLDEXTRACT_CACHE_PATH", "tldextract-cache"),
        ],
    );
}
