//! Schemathesis against the real binary: it reads the served OpenAPI document, generates
//! requests for every operation (valid ones and, in its negative mode, invalid ones) and checks
//! each answer against the document: no 5xx, only documented status codes, the documented
//! content type, a body that matches the documented schema, and the documented headers.
//!
//! Four bounded runs on one server (a fixed seed, a few examples per operation):
//! 1. the administrator's token on real objects (zones, a record, a peer, a TSIG key, an ACL, a
//!    token, incoming and outgoing configuration), every operation but DELETE, so the objects
//!    stay for the other operations;
//! 2. an account's write token on the same objects, which belong to another account: 404
//!    everywhere (and nothing of theirs changed), 403 where only the administrator may act;
//! 3. an account's read token on the same objects: 403 or 404 for every change;
//! 4. the administrator's token again, DELETE included.
//!
//! Schemathesis comes from `TANDEM_SCHEMATHESIS`, else `.venv/bin/schemathesis` at the
//! repository root (`python3 -m venv .venv && .venv/bin/pip install schemathesis==4.32.5`).
//! Without it the test says so loudly and returns, unless `TANDEM_INTEROP=require` (as CI
//! sets), which makes it fail.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::{json, Value};
use tandem_tests::api::{expect_success, Api};
use tandem_tests::tandem::TOKEN;
use tandem_tests::Tandem;

/// The checks of every run: all that compare answers with the document. Not the ones that judge
/// which requests should be accepted (`positive_data_acceptance`, `negative_data_rejection`):
/// the document's input schemas are looser than the server's checks (a zone's `name` is any
/// string there, a batch `puts` item need not have an `id`), so those would flag every rule the
/// schemas do not spell out rather than a wrong answer.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance,response_headers_conformance";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The schemathesis executable and its version, or why there is none.
fn schemathesis() -> Result<(PathBuf, String), String> {
    let exe = match std::env::var_os("TANDEM_SCHEMATHESIS") {
        Some(p) => PathBuf::from(p),
        None => repo_root().join(".venv/bin/schemathesis"),
    };
    if !exe.is_file() {
        return Err(format!("no schemathesis at {}", exe.display()));
    }
    let out = Command::new(&exe)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text
        .trim()
        .rsplit(' ')
        .next()
        .unwrap_or_default()
        .to_string();
    // The command line below is 4.x's; 3.x spells its options differently.
    if !out.status.success() || !version.starts_with("4.") {
        return Err(format!(
            "{} --version says {:?}; the test needs schemathesis 4.x",
            exe.display(),
            text.trim()
        ));
    }
    Ok((exe, version))
}

/// `POST path` with `body` as `api`'s token, asserting success; answers the new object's id.
fn create(api: &Api, path: &str, body: Value) -> String {
    let result = api.post_ok(path, &body);
    result["id"]
        .as_str()
        .unwrap_or_else(|| panic!("POST {path}: no id in {result}"))
        .to_string()
}

/// One object of every kind the paths name, in the administrator's default account.
struct Objects {
    /// A schemathesis configuration that puts their ids into the path parameters.
    config: String,
    /// The path (below `/client/v4`) that shows each one.
    paths: Vec<String>,
}

fn objects(api: &Api, dns: SocketAddr) -> Objects {
    let account = api.account_id();
    let objects = format!("/accounts/{account}/secondary_dns");
    let zone = api.create_zone("schemathesis.test");
    let record = create(
        api,
        &format!("/zones/{zone}/dns_records"),
        json!({"type": "A", "name": "www", "content": "192.0.2.1", "ttl": 300}),
    );
    let tsig = create(
        api,
        &format!("{objects}/tsigs"),
        json!({"name": "key.schemathesis.test.", "algo": "hmac-sha256.",
               "secret": "c2NoZW1hdGhlc2lzIHNlY3JldCBvZiAzMiBieXRlcyE="}),
    );
    // The peer is this server itself, so that whatever asks it (peer_serials, a refresh)
    // stays on this machine and is answered at once.
    let peer = create(
        api,
        &format!("{objects}/peers"),
        json!({"name": "self", "ip": dns.ip().to_string(), "port": dns.port()}),
    );
    let acl = create(
        api,
        &format!("{objects}/acls"),
        json!({"name": "loopback", "ip_range": "127.0.0.0/24"}),
    );
    let token = create(
        api,
        &format!("/accounts/{account}/tokens"),
        json!({"name": "schemathesis", "permission": "read"}),
    );
    api.post_ok(
        &format!("/zones/{zone}/secondary_dns/outgoing"),
        &json!({"peers": [peer]}),
    );
    let secondary = api.post_ok(
        "/zones",
        &json!({"name": "secondary.schemathesis.test", "type": "secondary"}),
    )["id"]
        .as_str()
        .expect("secondary zone id")
        .to_string();
    api.post_ok(
        &format!("/zones/{secondary}/secondary_dns/incoming"),
        &json!({"peers": [peer]}),
    );
    let paths = vec![
        format!("/zones/{zone}"),
        format!("/zones/{zone}/dns_records/{record}"),
        format!("/zones/{zone}/secondary_dns/outgoing"),
        format!("/zones/{secondary}"),
        format!("/zones/{secondary}/secondary_dns/incoming"),
        format!("{objects}/peers/{peer}"),
        format!("{objects}/tsigs/{tsig}"),
        format!("{objects}/acls/{acl}"),
    ];
    let config = format!(
        "# The objects of tests/tests/schemathesis.rs, by path parameter.\n\
         [parameters]\n\
         \"path.account_id\" = \"{account}\"\n\
         \"path.zone_id\" = \"{zone}\"\n\
         \"path.record_id\" = \"{record}\"\n\
         \"path.peer_id\" = \"{peer}\"\n\
         \"path.tsig_id\" = \"{tsig}\"\n\
         \"path.acl_id\" = \"{acl}\"\n\
         \"path.token_id\" = \"{token}\"\n\
         \n\
         # Incoming transfers are a secondary zone's.\n\
         [[operations]]\n\
         include-path-regex = \"/secondary_dns/(incoming|force_axfr)$\"\n\
         parameters = {{ \"path.zone_id\" = \"{secondary}\" }}\n"
    );
    Objects { config, paths }
}

/// An account of its own with a token of `permission`; answers the token.
fn tenant_token(api: &Api, name: &str, permission: &str) -> String {
    let account = create(api, "/accounts", json!({ "name": name }));
    let resp = api.post_json(
        &format!("/accounts/{account}/tokens"),
        &json!({"name": name, "permission": permission}),
    );
    expect_success("POST /accounts/{id}/tokens", &resp)["result"]["value"]
        .as_str()
        .expect("token value")
        .to_string()
}

/// What one run of schemathesis said.
struct Run {
    what: String,
    command: String,
    passed: bool,
    output: String,
}

/// Runs schemathesis once against the server at `api`, in `dir` (where it keeps its cache).
fn run(exe: &Path, dir: &Path, api: SocketAddr, token: &str, what: &str, extra: &[&str]) -> Run {
    let origin = format!("http://{api}");
    let mut cmd = Command::new(exe);
    cmd.current_dir(dir)
        .arg("--config-file")
        .arg(dir.join("schemathesis.toml"))
        .arg("run")
        .arg(format!("{origin}/client/v4/openapi.json"))
        .args(["--url", &origin])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", CHECKS])
        .args(["--mode", "all"])
        .args(["--max-examples", "5"])
        .args(["--seed", "20261202"])
        .args(["--workers", "1"])
        .args(["--generation-database", "none"])
        .args(["--request-timeout", "10"])
        .args(["--max-redirects", "0"])
        .arg("--no-color")
        .args(extra);
    // Every request goes to the loopback server, never through a proxy.
    for var in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
        cmd.env_remove(var).env_remove(var.to_lowercase());
    }
    cmd.env("NO_PROXY", "*").env("no_proxy", "*");
    let command = format!("{cmd:?}");
    let started = Instant::now();
    let out = cmd.output().expect("run schemathesis");
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{what}: {:?}, {}", started.elapsed(), out.status);
    Run {
        what: what.to_string(),
        command,
        passed: out.status.success(),
        output,
    }
}

#[test]
fn schemathesis_finds_the_api_as_documented() {
    let (exe, version) = match schemathesis() {
        Ok(found) => found,
        Err(why) => {
            tandem_tests::process::skip_unless_required(
                "the schemathesis test",
                &why,
                "python3 -m venv .venv && .venv/bin/pip install schemathesis==4.32.5",
            );
            return;
        }
    };
    eprintln!("schemathesis {version} at {}", exe.display());
    let tandem = Tandem::start();
    let api = tandem.api();
    let dir = tempfile::Builder::new()
        .prefix("tandem-schemathesis-")
        .tempdir()
        .expect("temporary dir");
    let objects = objects(&api, tandem.dns());
    std::fs::write(dir.path().join("schemathesis.toml"), &objects.config)
        .expect("write schemathesis.toml");
    let writer = tenant_token(&api, "schemathesis-writer", "write");
    let reader = tenant_token(&api, "schemathesis-reader", "read");

    let addr = tandem.api_addr();
    let mut runs = vec![
        run(
            &exe,
            dir.path(),
            addr,
            TOKEN,
            "administrator",
            &["--exclude-method", "DELETE"],
        ),
        run(
            &exe,
            dir.path(),
            addr,
            &writer,
            "another account's write token",
            &[],
        ),
        run(
            &exe,
            dir.path(),
            addr,
            &reader,
            "another account's read token",
            &[],
        ),
    ];
    // Neither the other accounts' tokens nor the administrator's changes took anything away.
    let mut gone = Vec::new();
    for path in &objects.paths {
        let resp = api.get(path);
        if resp.status != 200 {
            gone.push(format!("GET {path}: {} {}", resp.status, resp.text()));
        }
    }
    runs.push(run(
        &exe,
        dir.path(),
        addr,
        TOKEN,
        "administrator, DELETE too",
        &[],
    ));

    let mut failed = Vec::new();
    for r in &runs {
        println!("==== {}: {}\n{}", r.what, r.command, r.output);
        if !r.passed {
            failed.push(format!("{}:\n{}\n{}", r.what, r.command, r.output));
        }
    }
    assert!(
        failed.is_empty(),
        "schemathesis found the API unlike its document:\n{}\n---- tandem log ----\n{}",
        failed.join("\n"),
        tandem.log_tail(6000)
    );
    assert!(
        gone.is_empty(),
        "objects lost before any DELETE:\n{}",
        gone.join("\n")
    );
}
