//! Configuration of `tandem serve`: command-line flags, `TANDEM_*` environment variables and a
//! TOML file, with precedence flag > environment > file > default (PRODUCT.md §3 "Running").

use clap::{Args, Parser, Subcommand};
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

#[derive(Parser, Debug)]
#[command(
    name = "tandem",
    version,
    about = "Tandem: an authoritative DNS server with zone transfers in both directions and a REST API",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Parsed once per process, so the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve DNS and the HTTP API until stopped.
    Serve(ServeArgs),
    /// Copy the store of a data directory into DIR, consistently, while a server may be
    /// running on it; start a server with `--data-dir DIR` to use the copy.
    Backup(BackupArgs),
}

/// `tandem backup DIR`: the data directory is found as `tandem serve` finds it.
#[derive(Args, Debug, Default)]
pub struct BackupArgs {
    /// Where the copy goes: a directory that does not exist yet, or an empty one.
    #[arg(value_name = "DIR")]
    pub dest: PathBuf,

    /// TOML file of `tandem serve` to read `data_dir` from.
    #[arg(long, env = "TANDEM_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The data directory to copy. [default: ./tandem-data]
    #[arg(long, env = "TANDEM_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

impl BackupArgs {
    /// The data directory to copy, with the precedence of `tandem serve`.
    pub fn data_dir(&self) -> Result<PathBuf, ConfigError> {
        let cfg = Config::resolve(ServeArgs {
            config: self.config.clone(),
            data_dir: self.data_dir.clone(),
            ..ServeArgs::default()
        })?;
        Ok(cfg.data_dir)
    }
}

/// Every flag is optional here so that "not given" can fall through to the file and then to the
/// default. Each flag `--foo-bar` is also `TANDEM_FOO_BAR` and the file key `foo_bar`.
#[derive(Args, Debug, Default)]
pub struct ServeArgs {
    /// TOML file with any of the settings below (keys are flag names with `_` for `-`).
    #[arg(long, env = "TANDEM_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Address for DNS over UDP and TCP; repeatable. Port 0 picks a free port.
    /// [default: 127.0.0.1:5300]
    #[arg(
        long,
        env = "TANDEM_DNS_LISTEN",
        value_name = "ADDR:PORT",
        value_delimiter = ','
    )]
    pub dns_listen: Option<Vec<SocketAddr>>,

    /// Address of the HTTP API and dashboard. Port 0 picks a free port. [default: 127.0.0.1:8053]
    #[arg(long, env = "TANDEM_API_LISTEN", value_name = "ADDR:PORT")]
    pub api_listen: Option<SocketAddr>,

    /// Directory of the embedded store, the generated API token and listen.json.
    /// [default: ./tandem-data]
    #[arg(long, env = "TANDEM_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// The administrator's bearer token for this run (stored hashed, replacing the previous one).
    /// Without it the stored token stays valid; if none is stored one is generated and written
    /// to DATA_DIR/api-token.
    #[arg(
        long,
        env = "TANDEM_API_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub api_token: Option<String>,

    /// Source address of our SOA queries and transfer requests.
    #[arg(long, env = "TANDEM_TRANSFER_SOURCE", value_name = "ADDR")]
    pub transfer_source: Option<IpAddr>,

    /// Source address of our NOTIFY messages.
    #[arg(long, env = "TANDEM_NOTIFY_SOURCE", value_name = "ADDR")]
    pub notify_source: Option<IpAddr>,

    /// Address ranges a tenant's peers may point at: SOA queries, transfer requests, NOTIFYs
    /// and live serial probes go only there, and a peer `ip` outside them is refused by the
    /// API. Comma-separated CIDRs. [default: any unicast address]
    #[arg(
        long,
        env = "TANDEM_PEER_ALLOW",
        value_name = "CIDR,...",
        value_delimiter = ','
    )]
    pub peer_allow: Option<Vec<String>>,

    /// Apex NS records given to a new full zone, comma-separated. [default: ns1.<zone>.]
    #[arg(
        long,
        env = "TANDEM_DEFAULT_NS",
        value_name = "NAME,...",
        value_delimiter = ','
    )]
    pub default_ns: Option<Vec<String>>,

    /// RNAME of the SOA of a new full zone. [default: hostmaster.<zone>.]
    #[arg(long, env = "TANDEM_DEFAULT_SOA_RNAME", value_name = "NAME")]
    pub default_soa_rname: Option<String>,

    /// Lowest accepted auto_refresh_seconds of a secondary zone. [default: 300]
    #[arg(long, env = "TANDEM_MIN_REFRESH_SECONDS", value_name = "N")]
    pub min_refresh_seconds: Option<u32>,

    /// UDP worker threads, each with its own SO_REUSEPORT socket. [default: number of cores]
    #[arg(long, env = "TANDEM_UDP_WORKERS", value_name = "N")]
    pub udp_workers: Option<usize>,

    /// EDNS UDP payload size we advertise and answer within (RFC 6891). [default: 1232]
    #[arg(long, env = "TANDEM_EDNS_UDP_SIZE", value_name = "BYTES")]
    pub edns_udp_size: Option<u16>,

    /// Close a DNS TCP connection idle for this long (RFC 7766). [default: 10000]
    #[arg(long, env = "TANDEM_TCP_IDLE_TIMEOUT_MS", value_name = "MS")]
    pub tcp_idle_timeout_ms: Option<u64>,

    /// Open DNS TCP connections allowed from one client address. [default: 16]
    #[arg(long, env = "TANDEM_TCP_MAX_PER_CLIENT", value_name = "N")]
    pub tcp_max_per_client: Option<usize>,

    /// Open DNS TCP connections allowed in all, per listen address; when all are open, a new
    /// one closes the one idle the longest (RFC 7766 §6.2.3). [default: 1024]
    #[arg(long, env = "TANDEM_TCP_MAX_CONNECTIONS", value_name = "N")]
    pub tcp_max_connections: Option<usize>,

    /// Largest API request body for zone-file imports. [default: 67108864]
    #[arg(long, env = "TANDEM_MAX_IMPORT_BYTES", value_name = "BYTES")]
    pub max_import_bytes: Option<usize>,

    /// Largest JSON API request body. [default: 1048576]
    #[arg(long, env = "TANDEM_MAX_JSON_BYTES", value_name = "BYTES")]
    pub max_json_bytes: Option<usize>,

    /// Open HTTP API connections allowed in all; more are closed at once. Lowered at start
    /// when it would not fit under the open-file limit beside DNS. [default: 512]
    #[arg(long, env = "TANDEM_API_MAX_CONNECTIONS", value_name = "N")]
    pub api_max_connections: Option<usize>,

    /// Open HTTP API connections allowed from one client address. [default: 64]
    #[arg(long, env = "TANDEM_API_MAX_PER_CLIENT", value_name = "N")]
    pub api_max_per_client: Option<usize>,

    /// Longest time for a request's line and headers, from its first byte. [default: 10000]
    #[arg(long, env = "TANDEM_API_HEADER_TIMEOUT_MS", value_name = "MS")]
    pub api_header_timeout_ms: Option<u64>,

    /// Longest time to receive a whole request body, from the end of its headers; a 64 MiB
    /// import needs about 0.5 MiB/s at the default. [default: 120000]
    #[arg(long, env = "TANDEM_API_BODY_TIMEOUT_MS", value_name = "MS")]
    pub api_body_timeout_ms: Option<u64>,

    /// Close an HTTP API connection with no request under way and nothing sent or received
    /// for this long (new connections and keep-alive between requests). [default: 30000]
    #[arg(long, env = "TANDEM_API_IDLE_TIMEOUT_MS", value_name = "MS")]
    pub api_idle_timeout_ms: Option<u64>,

    /// Serve `GET /metrics` without a token (it needs the administrator token otherwise).
    #[arg(
        long,
        env = "TANDEM_METRICS_PUBLIC",
        value_name = "BOOL",
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    pub metrics_public: Option<bool>,

    /// Outgoing AXFR/IXFR transfers served at once; more are refused. [default: 10]
    #[arg(long, env = "TANDEM_MAX_TRANSFERS_OUT", value_name = "N")]
    pub max_transfers_out: Option<usize>,

    /// Largest message of an outgoing transfer (RFC 5936 §2.2), 512..=65535; a record larger than that travels alone in a message of up to 65535. [default: 16384]
    #[arg(long, env = "TANDEM_XFR_MESSAGE_SIZE", value_name = "BYTES")]
    pub xfr_message_size: Option<usize>,

    /// Differences kept per zone in the IXFR journal. [default: 1000]
    #[arg(long, env = "TANDEM_JOURNAL_MAX_DEPTH", value_name = "N")]
    pub journal_max_depth: Option<usize>,

    /// Octets of IXFR journal kept per zone. [default: 67108864]
    #[arg(long, env = "TANDEM_JOURNAL_MAX_BYTES", value_name = "BYTES")]
    pub journal_max_bytes: Option<usize>,

    /// Records one incoming transfer may hold; a larger zone is refused and the old copy kept. [default: 10000000]
    #[arg(long, env = "TANDEM_MAX_TRANSFER_RECORDS", value_name = "N")]
    pub max_transfer_records: Option<usize>,

    /// Octets of memory the records of one incoming transfer may hold (an estimate per record), and octets of its messages. [default: 268435456]
    #[arg(long, env = "TANDEM_MAX_TRANSFER_BYTES", value_name = "BYTES")]
    pub max_transfer_bytes: Option<usize>,

    /// Longest time one incoming transfer may take. [default: 900000]
    #[arg(long, env = "TANDEM_TRANSFER_TIMEOUT_MS", value_name = "MS")]
    pub transfer_timeout_ms: Option<u64>,

    /// Longest wait for the next message of an incoming transfer. [default: 30000]
    #[arg(long, env = "TANDEM_TRANSFER_IDLE_TIMEOUT_MS", value_name = "MS")]
    pub transfer_idle_timeout_ms: Option<u64>,

    /// Incoming transfers running at once, all zones together. [default: 10]
    #[arg(long, env = "TANDEM_MAX_TRANSFERS_IN", value_name = "N")]
    pub max_transfers_in: Option<usize>,

    /// Least time between two SOA checks of one secondary zone caused by NOTIFY; a burst of NOTIFYs collapses into one check. [default: 1000]
    #[arg(long, env = "TANDEM_MIN_SOA_CHECK_INTERVAL_MS", value_name = "MS")]
    pub min_soa_check_interval_ms: Option<u64>,

    /// Log filter (tracing EnvFilter syntax, e.g. `info` or `tandem=debug`). [default: info]
    #[arg(long, env = "TANDEM_LOG", value_name = "FILTER")]
    pub log: Option<String>,
}

/// The same settings as read from the TOML file.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub dns_listen: Option<Vec<SocketAddr>>,
    pub api_listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub api_token: Option<String>,
    pub transfer_source: Option<IpAddr>,
    pub notify_source: Option<IpAddr>,
    pub peer_allow: Option<Vec<String>>,
    pub default_ns: Option<Vec<String>>,
    pub default_soa_rname: Option<String>,
    pub min_refresh_seconds: Option<u32>,
    pub udp_workers: Option<usize>,
    pub edns_udp_size: Option<u16>,
    pub tcp_idle_timeout_ms: Option<u64>,
    pub tcp_max_per_client: Option<usize>,
    pub tcp_max_connections: Option<usize>,
    pub max_import_bytes: Option<usize>,
    pub max_json_bytes: Option<usize>,
    pub api_max_connections: Option<usize>,
    pub api_max_per_client: Option<usize>,
    pub api_header_timeout_ms: Option<u64>,
    pub api_body_timeout_ms: Option<u64>,
    pub api_idle_timeout_ms: Option<u64>,
    pub metrics_public: Option<bool>,
    pub max_transfers_out: Option<usize>,
    pub xfr_message_size: Option<usize>,
    pub journal_max_depth: Option<usize>,
    pub journal_max_bytes: Option<usize>,
    pub max_transfer_records: Option<usize>,
    pub max_transfer_bytes: Option<usize>,
    pub transfer_timeout_ms: Option<u64>,
    pub transfer_idle_timeout_ms: Option<u64>,
    pub max_transfers_in: Option<usize>,
    pub min_soa_check_interval_ms: Option<u64>,
    pub log: Option<String>,
}

/// The settings in force.
#[derive(Debug, Clone)]
pub struct Config {
    pub dns_listen: Vec<SocketAddr>,
    pub api_listen: SocketAddr,
    pub data_dir: PathBuf,
    pub api_token: Option<String>,
    pub transfer_source: Option<IpAddr>,
    pub notify_source: Option<IpAddr>,
    pub peer_allow: tandem_store::PeerAllow,
    pub default_ns: Vec<String>,
    pub default_soa_rname: Option<String>,
    pub min_refresh_seconds: u32,
    pub udp_workers: usize,
    pub edns_udp_size: u16,
    pub tcp_idle_timeout_ms: u64,
    pub tcp_max_per_client: usize,
    pub tcp_max_connections: usize,
    pub max_import_bytes: usize,
    pub max_json_bytes: usize,
    pub api_max_connections: usize,
    pub api_max_per_client: usize,
    pub api_header_timeout_ms: u64,
    pub api_body_timeout_ms: u64,
    pub api_idle_timeout_ms: u64,
    pub metrics_public: bool,
    pub max_transfers_out: usize,
    pub xfr_message_size: usize,
    pub journal_max_depth: usize,
    pub journal_max_bytes: usize,
    pub max_transfer_records: usize,
    pub max_transfer_bytes: usize,
    pub transfer_timeout_ms: u64,
    pub transfer_idle_timeout_ms: u64,
    pub max_transfers_in: usize,
    pub min_soa_check_interval_ms: u64,
    pub log: String,
}

/// A configuration problem, named so an operator can fix it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    /// Merges flags and environment (already combined by clap) over the file over defaults.
    pub fn resolve(args: ServeArgs) -> Result<Config, ConfigError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let cfg = Config {
            dns_listen: args
                .dns_listen
                .or(file.dns_listen)
                .unwrap_or_else(|| vec!["127.0.0.1:5300".parse().expect("valid")]),
            api_listen: args
                .api_listen
                .or(file.api_listen)
                .unwrap_or_else(|| "127.0.0.1:8053".parse().expect("valid")),
            data_dir: args
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from("./tandem-data")),
            api_token: args.api_token.or(file.api_token),
            transfer_source: args.transfer_source.or(file.transfer_source),
            notify_source: args.notify_source.or(file.notify_source),
            peer_allow: tandem_store::PeerAllow::parse(
                &args
                    .peer_allow
                    .or(file.peer_allow)
                    .unwrap_or_default()
                    .join(","),
            )
            .map_err(|e| ConfigError::Invalid(format!("peer_allow: {e}")))?,
            default_ns: args.default_ns.or(file.default_ns).unwrap_or_default(),
            default_soa_rname: args.default_soa_rname.or(file.default_soa_rname),
            min_refresh_seconds: args
                .min_refresh_seconds
                .or(file.min_refresh_seconds)
                .unwrap_or(300),
            udp_workers: args.udp_workers.or(file.udp_workers).unwrap_or(cores),
            edns_udp_size: args.edns_udp_size.or(file.edns_udp_size).unwrap_or(1232),
            tcp_idle_timeout_ms: args
                .tcp_idle_timeout_ms
                .or(file.tcp_idle_timeout_ms)
                .unwrap_or(10_000),
            tcp_max_per_client: args
                .tcp_max_per_client
                .or(file.tcp_max_per_client)
                .unwrap_or(16),
            tcp_max_connections: args
                .tcp_max_connections
                .or(file.tcp_max_connections)
                .unwrap_or(1024),
            max_import_bytes: args
                .max_import_bytes
                .or(file.max_import_bytes)
                .unwrap_or(64 << 20),
            max_json_bytes: args
                .max_json_bytes
                .or(file.max_json_bytes)
                .unwrap_or(1 << 20),
            api_max_connections: args
                .api_max_connections
                .or(file.api_max_connections)
                .unwrap_or(512),
            api_max_per_client: args
                .api_max_per_client
                .or(file.api_max_per_client)
                .unwrap_or(64),
            api_header_timeout_ms: args
                .api_header_timeout_ms
                .or(file.api_header_timeout_ms)
                .unwrap_or(10_000),
            api_body_timeout_ms: args
                .api_body_timeout_ms
                .or(file.api_body_timeout_ms)
                .unwrap_or(120_000),
            api_idle_timeout_ms: args
                .api_idle_timeout_ms
                .or(file.api_idle_timeout_ms)
                .unwrap_or(30_000),
            metrics_public: args.metrics_public.or(file.metrics_public).unwrap_or(false),
            max_transfers_out: args
                .max_transfers_out
                .or(file.max_transfers_out)
                .unwrap_or(10),
            xfr_message_size: args
                .xfr_message_size
                .or(file.xfr_message_size)
                .unwrap_or(16 * 1024),
            journal_max_depth: args
                .journal_max_depth
                .or(file.journal_max_depth)
                .unwrap_or(1000),
            journal_max_bytes: args
                .journal_max_bytes
                .or(file.journal_max_bytes)
                .unwrap_or(64 << 20),
            max_transfer_records: args
                .max_transfer_records
                .or(file.max_transfer_records)
                .unwrap_or(10_000_000),
            max_transfer_bytes: args
                .max_transfer_bytes
                .or(file.max_transfer_bytes)
                .unwrap_or(256 << 20),
            transfer_timeout_ms: args
                .transfer_timeout_ms
                .or(file.transfer_timeout_ms)
                .unwrap_or(900_000),
            transfer_idle_timeout_ms: args
                .transfer_idle_timeout_ms
                .or(file.transfer_idle_timeout_ms)
                .unwrap_or(30_000),
            max_transfers_in: args
                .max_transfers_in
                .or(file.max_transfers_in)
                .unwrap_or(10),
            min_soa_check_interval_ms: args
                .min_soa_check_interval_ms
                .or(file.min_soa_check_interval_ms)
                .unwrap_or(1000),
            log: args.log.or(file.log).unwrap_or_else(|| "info".into()),
        };
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if self.dns_listen.is_empty() {
            return bad("dns_listen: at least one address is needed".into());
        }
        if self.udp_workers == 0 || self.udp_workers > 256 {
            return bad(format!(
                "udp_workers: {} is not in 1..=256",
                self.udp_workers
            ));
        }
        if self.edns_udp_size < 512 {
            return bad(format!(
                "edns_udp_size: {} is below 512 (RFC 6891 §6.2.5)",
                self.edns_udp_size
            ));
        }
        if self.tcp_idle_timeout_ms == 0 {
            return bad("tcp_idle_timeout_ms: must be above 0".into());
        }
        if !(512..=65535).contains(&self.xfr_message_size) {
            return bad(format!(
                "xfr_message_size: {} is not in 512..=65535",
                self.xfr_message_size
            ));
        }
        if self.max_transfers_out == 0 {
            return bad("max_transfers_out: must be above 0".into());
        }
        for (name, value) in [
            ("max_transfer_records", self.max_transfer_records as u64),
            ("max_transfer_bytes", self.max_transfer_bytes as u64),
            ("transfer_timeout_ms", self.transfer_timeout_ms),
            ("transfer_idle_timeout_ms", self.transfer_idle_timeout_ms),
            ("max_transfers_in", self.max_transfers_in as u64),
            ("api_max_connections", self.api_max_connections as u64),
            ("api_max_per_client", self.api_max_per_client as u64),
            ("api_header_timeout_ms", self.api_header_timeout_ms),
            ("api_body_timeout_ms", self.api_body_timeout_ms),
            ("api_idle_timeout_ms", self.api_idle_timeout_ms),
        ] {
            if value == 0 {
                return bad(format!("{name}: must be above 0"));
            }
        }
        if self.journal_max_depth == 0 {
            return bad("journal_max_depth: must be above 0".into());
        }
        if self.tcp_max_per_client == 0 || self.tcp_max_connections == 0 {
            return bad("tcp_max_per_client and tcp_max_connections must be above 0".into());
        }
        for ns in &self.default_ns {
            if tandem_zone::Name::parse(ns).is_err() {
                return bad(format!("default_ns: {ns:?} is not a domain name"));
            }
        }
        if let Some(r) = &self.default_soa_rname {
            if tandem_zone::Name::parse(r).is_err() {
                return bad(format!("default_soa_rname: {r:?} is not a domain name"));
            }
        }
        Ok(())
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_flag_over_file_over_default() {
        let dir = std::env::temp_dir().join(format!("tandem-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("tandem.toml");
        std::fs::write(
            &file,
            "dns_listen = [\"127.0.0.1:5301\"]\napi_listen = \"127.0.0.1:8054\"\nudp_workers = 3\n",
        )
        .unwrap();
        let args = ServeArgs {
            config: Some(file.clone()),
            api_listen: Some("127.0.0.1:9000".parse().unwrap()),
            ..Default::default()
        };
        let cfg = Config::resolve(args).unwrap();
        assert_eq!(
            cfg.api_listen,
            "127.0.0.1:9000".parse().unwrap(),
            "flag wins"
        );
        assert_eq!(
            cfg.dns_listen,
            vec!["127.0.0.1:5301".parse().unwrap()],
            "file over default"
        );
        assert_eq!(cfg.udp_workers, 3);
        assert_eq!(cfg.min_refresh_seconds, 300, "default");
        assert_eq!(cfg.max_transfer_bytes, 256 << 20, "default: 256 MiB held");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unknown_file_key_is_an_error() {
        let dir = std::env::temp_dir().join(format!("tandem-config-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("tandem.toml");
        std::fs::write(&file, "dns_lisen = [\"127.0.0.1:5301\"]\n").unwrap();
        let err = Config::resolve(ServeArgs {
            config: Some(file),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("dns_lisen"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn metrics_public_is_a_switch_with_an_optional_value() {
        let parse = |extra: &[&str]| {
            let mut argv = vec!["tandem", "serve"];
            argv.extend_from_slice(extra);
            let Command::Serve(args) = Cli::try_parse_from(argv).unwrap().command else {
                panic!("serve")
            };
            Config::resolve(args).unwrap().metrics_public
        };
        assert!(!parse(&[]), "token needed by default");
        assert!(parse(&["--metrics-public"]));
        assert!(!parse(&["--metrics-public=false"]));
    }

    #[test]
    fn cli_parses_env_style_lists() {
        let cli = Cli::try_parse_from([
            "tandem",
            "serve",
            "--dns-listen",
            "127.0.0.1:0,127.0.0.2:0",
            "--default-ns",
            "a.example.,b.example.",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("serve")
        };
        assert_eq!(args.dns_listen.unwrap().len(), 2);
        assert_eq!(args.default_ns.unwrap().len(), 2);
    }

    #[test]
    fn peer_allow_reads_ranges_and_names_a_bad_one() {
        let resolve = |extra: &[&str]| {
            let mut argv = vec!["tandem", "serve"];
            argv.extend_from_slice(extra);
            let Command::Serve(args) = Cli::try_parse_from(argv).unwrap().command else {
                panic!("serve")
            };
            Config::resolve(args)
        };
        let any = resolve(&[]).unwrap();
        assert!(any.peer_allow.is_any());
        let cfg = resolve(&["--peer-allow", "192.0.2.0/24,2001:db8::/32"]).unwrap();
        assert!(cfg.peer_allow.permits("192.0.2.1".parse().unwrap()));
        assert!(!cfg.peer_allow.permits("127.0.0.1".parse().unwrap()));
        let err = resolve(&["--peer-allow", "192.0.2.0/33"]).unwrap_err();
        assert!(err.to_string().contains("peer_allow"), "{err}");
    }
}
