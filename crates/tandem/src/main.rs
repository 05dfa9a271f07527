//! The `tandem` binary: reads the configuration, opens the store, loads the zones, binds the
//! DNS and HTTP listeners and runs until stopped. It only wires the library crates together.

mod access;
#[cfg(test)]
mod alloc_count;
mod config;
mod dns;
mod fds;
mod http;
mod metrics;
mod probe;
mod secondary;
mod status;
mod transfer;

use anyhow::Context;
use clap::Parser;
use config::{Cli, Command, Config};
use std::sync::Arc;
use tandem_server::metrics::QueryMetrics;
use tandem_server::zone::ZoneSet;
use tandem_server::AnswerConfig;
use tandem_store::prelude::*;
use tandem_store::reserve::{self, Reserve};
use tandem_store::{AdminToken, Store};

fn main() {
    if let Err(e) = run() {
        // The same "Error: ..." report `main` returning an error prints, without the panic
        // `eprintln!` raises when standard error cannot be written (a log file on a full disk).
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "Error: {e:?}");
        std::process::exit(1);
    }
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let args = match cli.command {
        Command::Serve(args) => args,
        Command::Backup(args) => return backup(&args),
    };
    let cfg = Config::resolve(args)?;
    init_logging(&cfg.log)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .thread_name("tandem")
        .build()?;
    rt.block_on(serve(cfg))
}

/// `tandem backup DIR` (see `tandem_store::backup`).
fn backup(args: &config::BackupArgs) -> anyhow::Result<()> {
    let data_dir = args.data_dir()?;
    let started = std::time::Instant::now();
    let report = tandem_store::backup(&data_dir, &args.dest).with_context(|| {
        format!(
            "backup of {} into {}",
            data_dir.display(),
            args.dest.display()
        )
    })?;
    println!(
        "backed up {} into {}: {} zones, {} records, {} bytes, in {} ms",
        data_dir.display(),
        args.dest.display(),
        report.zones,
        report.records,
        report.bytes,
        started.elapsed().as_millis()
    );
    Ok(())
}

fn init_logging(filter: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .with_context(|| format!("log: bad filter {filter:?}"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| LossyStderr)
        .init();
    Ok(())
}

/// Standard error that drops what it cannot write. When the log goes to a file on a full
/// disk, a failed write must cost a log line, never the server: tracing-subscriber reports
/// a writer's error with `eprintln!`, which panics when standard error fails too.
struct LossyStderr;

impl std::io::Write for LossyStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().lock().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().lock().flush();
        Ok(())
    }
}

async fn serve(cfg: Config) -> anyhow::Result<()> {
    let reserve = Reserve::in_dir(&cfg.data_dir);
    let store = with_room(&reserve, "open the store", || {
        Store::open(&cfg.data_dir).map_err(|e| (reserve::is_disk_full(&e), e))
    })
    .with_context(|| format!("cannot open the store in {}", cfg.data_dir.display()))?;
    let token = with_room(&reserve, "set the administrator token", || {
        store
            .bootstrap_admin_token(cfg.api_token.as_deref())
            .map_err(|e| (reserve::is_disk_full(&e), e))
    })?;
    match token {
        AdminToken::Given => tracing::info!("administrator token set from the configuration"),
        AdminToken::Kept => tracing::info!("administrator token: the stored one stays valid"),
        AdminToken::Generated(path) => tracing::info!(
            path = %path.display(),
            "administrator token generated; read it from this file"
        ),
    }
    // PRODUCT §3: the file holds a generated token only while that token is in force.
    match store.remove_stale_token_file() {
        Ok(Some(path)) => tracing::info!(
            path = %path.display(),
            "removed the administrator token file: the token it held is no longer valid"
        ),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "cannot remove the stale administrator token file"),
    }
    let store: Arc<dyn Storage> = Arc::new(store);
    let zones = Arc::new(ZoneSet::new());
    let loaded = tandem_api::load_zones(store.as_ref(), &zones).context("cannot load zones")?;
    // The rows read to build the versions are gone and their pages not needed again soon:
    // both go back before serving.
    store.release_memory();
    tandem_server::memory::release_free_memory_now();
    tracing::info!(zones = loaded, "zones loaded from the store");

    let query_metrics = Arc::new(QueryMetrics::default());
    let journal = tandem_store::JournalLimits {
        max_depth: cfg.journal_max_depth,
        max_bytes: cfg.journal_max_bytes,
        ..tandem_store::JournalLimits::default()
    };
    let control = Arc::new(transfer::StoreTransferControl {
        store: store.clone(),
        journal,
        access: access::AccessSnapshot::new(zones.clone()),
        peer_allow: cfg.peer_allow.clone(),
        status: status::StatusSender::to_store(store.clone())?,
    });
    control.publish_access();
    let secondary = tandem_server::events::refresh::Secondary::new(
        zones.clone(),
        control.clone(),
        secondary_config(&cfg),
    );
    let answer = AnswerConfig {
        edns_udp_payload: cfg.edns_udp_size,
        keys: Some(control.clone()),
        transfers: Some(control.clone()),
        notify: Some(secondary.clone()),
    };
    let tcp_cfg = dns::tcp_config(
        cfg.tcp_idle_timeout_ms,
        cfg.tcp_max_per_client,
        cfg.tcp_max_connections,
    );
    let notifier = tandem_server::events::notify_out::NotifySender::new(
        zones.clone(),
        control.clone(),
        tandem_server::events::notify_out::NotifyConfig {
            source: cfg.notify_source,
            ..Default::default()
        },
    );
    let scheduler =
        tandem_server::events::Scheduler::start(Arc::new(tandem_server::events::ZoneEvents {
            notify: notifier,
            secondary: secondary.clone(),
        }));
    // Every committed new serial (API change, transfer in) plans the zone's NOTIFY round.
    let planner = scheduler.clone();
    zones.on_new_serial(move |apex| planner.new_serial(apex));
    secondary.start(scheduler.clone());
    let triggers = Arc::new(transfer::TransferTriggers::new(control.clone(), scheduler));
    let transfers = Arc::new(tandem_server::xfr_out::TransferService {
        control: control.clone(),
        cfg: tandem_xfr::XfrConfig::new(cfg.xfr_message_size),
        slots: tokio::sync::Semaphore::new(cfg.max_transfers_out),
        write_timeout: std::time::Duration::from_millis(cfg.tcp_idle_timeout_ms),
    });
    let mut dns_addrs = Vec::new();
    for addr in &cfg.dns_listen {
        let listener = dns::bind(*addr, cfg.udp_workers)
            .with_context(|| cannot_listen("DNS", *addr, "--dns-listen"))?;
        dns_addrs.push(listener.addr);
        dns::start(
            listener,
            zones.clone(),
            answer.clone(),
            tcp_cfg,
            &query_metrics,
            Some(transfers.clone()),
        )?;
    }

    let api_cfg = tandem_api::ApiConfig {
        default_ns: cfg.default_ns.clone(),
        default_soa_rname: cfg.default_soa_rname.clone(),
        max_body_bytes: cfg.max_import_bytes,
        json_body_limit: cfg.max_json_bytes,
        min_refresh_seconds: cfg.min_refresh_seconds,
        journal,
        peer_allow: cfg.peer_allow.clone(),
    };
    let hook_store = store.clone();
    let state = tandem_api::ApiState::new(store.clone(), zones.clone(), api_cfg)?
        .with_change_hook(Arc::new(move |change: &tandem_api::ZoneChange<'_>| {
            // A large import or batch replaced a large part of the zone: give the freed
            // version back once the request is done with it.
            if change.diff.len() >= tandem_server::memory::LARGE_CHANGE {
                hook_store.release_memory();
                tandem_server::memory::release_free_memory_soon();
            }
        }))
        .with_transfer_events(triggers)
        .with_soa_probe(Arc::new(probe::UdpSoaProbe {
            source: cfg.transfer_source,
        }));
    let metrics = metrics::router(
        zones.clone(),
        query_metrics,
        store.clone(),
        cfg.metrics_public,
    );
    let app = tandem_api::router(state).merge(tandem_api::catch_panics(metrics));
    let limits = http_limits(&cfg);
    let api = tokio::net::TcpListener::bind(cfg.api_listen)
        .await
        .with_context(|| cannot_listen("the API", cfg.api_listen, "--api-listen"))?;
    let api_addr = api.local_addr()?;

    with_room(&reserve, "write listen.json", || {
        write_listen_json(&cfg.data_dir, &dns_addrs, api_addr)
            .map_err(|e| (reserve::io_is_disk_full(&e), e))
    })
    .with_context(|| {
        format!(
            "cannot write {}",
            cfg.data_dir.join("listen.json").display()
        )
    })?;
    tokio::spawn(keep_reserve(reserve));
    tracing::info!(
        dns = ?dns_addrs,
        api = %api_addr,
        transfer_source = ?cfg.transfer_source,
        notify_source = ?cfg.notify_source,
        min_refresh_seconds = cfg.min_refresh_seconds,
        "serving"
    );
    http::serve(api, app, limits, shutdown()).await;
    // Status handed to the writer (the last refresh outcomes, NOTIFY results) is written
    // before the process goes.
    let flushed = tokio::task::spawn_blocking(move || {
        control.status.flush(std::time::Duration::from_secs(5))
    });
    if !flushed.await.unwrap_or(false) {
        tracing::warn!("transfer status still queued at shutdown was not all written");
    }
    // The next start reads the database alone, without replaying a write-ahead log first.
    let checkpoint = tokio::task::spawn_blocking(move || store.checkpoint());
    if let Ok(Err(e)) = checkpoint.await {
        tracing::warn!(error = %e, "cannot checkpoint the store's write-ahead log at shutdown");
    }
    Ok(())
}

/// Why a listener did not start, naming the address and every way to change it (the flag, its
/// environment variable and its key in the configuration file, PRODUCT §3 "Running").
fn cannot_listen(what: &str, addr: std::net::SocketAddr, flag: &str) -> String {
    let key = flag.trim_start_matches("--").replace('-', "_");
    format!(
        "cannot listen for {what} on {addr}; choose another address with {flag} ADDR:PORT \
         (or TANDEM_{}, or {key} in the configuration file; port 0 picks a free one)",
        key.to_ascii_uppercase()
    )
}

/// The API listener's bounds, with its connection cap lowered when it would not fit under the
/// open-file limit beside DNS over TCP.
fn http_limits(cfg: &Config) -> http::HttpLimits {
    use std::time::Duration;
    let files = match fds::raise_nofile_limit() {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the open-file limit; assuming 1024");
            1024
        }
    };
    let cap = fds::api_cap(files, cfg.tcp_max_connections, cfg.api_max_connections);
    if cap < cfg.api_max_connections {
        tracing::warn!(
            open_file_limit = files,
            tcp_max_connections = cfg.tcp_max_connections,
            reserve = fds::RESERVE,
            configured = cfg.api_max_connections,
            api_max_connections = cap,
            "the API connection cap does not fit under the open-file limit beside DNS; lowered"
        );
    }
    http::HttpLimits {
        max_connections: cap,
        max_per_client: cfg.api_max_per_client.min(cap),
        header_timeout: Duration::from_millis(cfg.api_header_timeout_ms),
        body_timeout: Duration::from_millis(cfg.api_body_timeout_ms),
        idle_timeout: Duration::from_millis(cfg.api_idle_timeout_ms),
    }
}

/// The secondary role's settings from the configuration (PRODUCT.md §5 limits).
fn secondary_config(cfg: &Config) -> tandem_server::events::refresh::SecondaryConfig {
    use std::time::Duration;
    tandem_server::events::refresh::SecondaryConfig {
        xfr: tandem_server::xfr_in::XfrInConfig {
            source: cfg.transfer_source,
            limits: tandem_xfr::incoming::Limits {
                max_records: cfg.max_transfer_records,
                max_bytes: cfg.max_transfer_bytes,
            },
            total_timeout: Duration::from_millis(cfg.transfer_timeout_ms),
            idle_timeout: Duration::from_millis(cfg.transfer_idle_timeout_ms),
            ..Default::default()
        },
        max_transfers: cfg.max_transfers_in,
        min_check_interval: Duration::from_millis(cfg.min_soa_check_interval_ms),
        ..Default::default()
    }
}

/// Runs a start-up step; when it fails for want of disk space (`Err((true, _))`), releases
/// the data dir's reserve and runs it once more, so a server that filled its disk can start
/// again (`tandem_store::reserve`).
fn with_room<T, E: std::fmt::Display>(
    reserve: &Reserve,
    what: &str,
    mut step: impl FnMut() -> Result<T, (bool, E)>,
) -> Result<T, E> {
    match step() {
        Ok(v) => Ok(v),
        Err((true, e)) if reserve.release() => {
            tracing::warn!(error = %e, "cannot {what}: the data dir's file system is full; released the {} MiB reserve and trying again (free space there: the reserve is put back once there is room)", reserve::RESERVE_BYTES >> 20);
            step().map_err(|(_, e)| e)
        }
        Err((_, e)) => Err(e),
    }
}

/// Puts the data dir's reserve back whenever it is missing and there is room for it.
async fn keep_reserve(reserve: Reserve) {
    let mut warned = false;
    loop {
        let r = reserve.clone();
        match tokio::task::spawn_blocking(move || {
            let had = r.is_held();
            r.replenish().map(|held| (had, held))
        })
        .await
        {
            Ok(Ok((false, true))) => {
                tracing::info!(
                    bytes = reserve::RESERVE_BYTES,
                    "disk space reserve for restarts in place"
                );
                warned = false;
            }
            Ok(Ok((_, false))) if !warned => {
                tracing::warn!(bytes = reserve::RESERVE_BYTES, "the data dir's file system has no room for the restart reserve; a restart on a full disk may fail until space is freed");
                warned = true;
            }
            Ok(Err(e)) if !warned => {
                tracing::warn!(error = %e, "cannot write the restart reserve");
                warned = true;
            }
            _ => {}
        }
        tokio::time::sleep(std::time::Duration::from_secs(10)).await;
    }
}

/// `DATA_DIR/listen.json`: the bound addresses, written once everything listens
/// (PRODUCT.md §3). Written to a temporary file and renamed so readers never see half of it.
fn write_listen_json(
    dir: &std::path::Path,
    dns: &[std::net::SocketAddr],
    api: std::net::SocketAddr,
) -> std::io::Result<()> {
    let body = serde_json::json!({
        "dns": dns.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        "api": api.to_string(),
    });
    let tmp = dir.join("listen.json.tmp");
    let written = serde_json::to_vec_pretty(&body)
        .map_err(std::io::Error::other)
        .and_then(|bytes| std::fs::write(&tmp, bytes))
        .and_then(|()| std::fs::rename(&tmp, dir.join("listen.json")));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let term = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
}
