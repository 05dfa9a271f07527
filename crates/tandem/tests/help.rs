//! The command line of PRODUCT.md §3 as `--help` shows it: every flag the contract names, with
//! the `TANDEM_<FLAG>` environment variable beside it. Being an integration test of this
//! package, it also has `cargo test --workspace` build the binary with everything else, so the
//! end-to-end tests find it built.

use std::process::Command;

fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(args)
        .output()
        .expect("run tandem");
    assert!(out.status.success(), "tandem {args:?} failed: {out:?}");
    String::from_utf8(out.stdout).expect("help is UTF-8")
}

#[test]
fn serve_help_names_every_flag_of_the_contract_with_its_environment_variable() {
    let text = help(&["serve", "--help"]);
    for flag in [
        "dns-listen",
        "api-listen",
        "data-dir",
        "api-token",
        "transfer-source",
        "notify-source",
        "default-ns",
        "default-soa-rname",
        "min-refresh-seconds",
        "max-transfer-records",
        "config",
    ] {
        let env = format!("TANDEM_{}", flag.to_uppercase().replace('-', "_"));
        let line = text
            .lines()
            .position(|l| l.trim_start().starts_with(&format!("--{flag} ")))
            .unwrap_or_else(|| panic!("--{flag} is not in `tandem serve --help`:\n{text}"));
        // clap prints the variable after the flag's description, which may wrap.
        let described = text
            .lines()
            .skip(line)
            .take(8)
            .flat_map(str::split_whitespace)
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            described.contains(&format!("env: {env}")),
            "--{flag} does not name {env}:\n{text}"
        );
    }
}

#[test]
fn the_binary_offers_serve_and_backup() {
    let text = help(&["--help"]);
    for command in ["serve", "backup"] {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(command)),
            "`tandem --help` does not list {command}:\n{text}"
        );
    }
}
