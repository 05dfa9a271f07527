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
mod transfer;

use anyhow::Context;
use clap::Parser;
use config::{Cli, Command, Config};
use std::sync::Arc;
use tandem_server::metrics::QueryMetrics;
use tandem_server::AnswerConfig;
use tandem_store::{AdminToken, Store};
use tandem_zone::ZoneSet;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let Command::Serve(args) = cli.command;
    let cfg = Config::resolve(args)?;
    init_logging(&cfg.log)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .thread_name("tandem")
        .build()?;
    rt.block_on(serve(cfg))
}

fn init_logging(filter: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .with_context(|| format!("log: bad filter {filter:?}"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    Ok(())
}

async fn serve(cfg: Config) -> anyhow::Result<()> {
    let store = Store::open(&cfg.data_dir)
        .with_context(|| format!("cannot open the store in {}", cfg.data_dir.display()))?;
    match store.bootstrap_admin_token(cfg.api_token.as_deref())? {
        AdminToken::Given => tracing::info!("administrator token set from the configuration"),
        AdminToken::Kept => tracing::info!("administrator token: the stored one stays valid"),
        AdminToken::Generated(path) => tracing::info!(
            path = %path.display(),
            "administrator token generated; read it from this file"
        ),
    }
    let store = Arc::new(store);
    let zones = Arc::new(ZoneSet::new());
    let loaded = tandem_api::load_zones(&store, &zones).context("cannot load zones")?;
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
        access: access::AccessSnapshot::default(),
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
    let notifier = tandem_server::events::notify::NotifySender::new(
        zones.clone(),
        control.clone(),
        tandem_server::events::notify::NotifyConfig {
            source: cfg.notify_source,
            ..Default::default()
        },
    );
    let scheduler =
        tandem_server::events::Scheduler::start(Arc::new(tandem_server::events::ZoneEvents {
            notify: notifier,
            secondary: secondary.clone(),
        }));
    secondary.start(scheduler.clone());
    let triggers = Arc::new(transfer::TransferTriggers {
        control: control.clone(),
        scheduler,
    });
    let transfers = Arc::new(tandem_server::xfr_out::TransferService {
        control: control.clone(),
        cfg: tandem_xfr::XfrConfig::new(cfg.xfr_message_size),
        slots: tokio::sync::Semaphore::new(cfg.max_transfers_out),
        write_timeout: std::time::Duration::from_millis(cfg.tcp_idle_timeout_ms),
    });
    let mut dns_addrs = Vec::new();
    for addr in &cfg.dns_listen {
        let listener = dns::bind(*addr, cfg.udp_workers)?;
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
    };
    let hook_triggers = triggers.clone();
    let state = tandem_api::ApiState::new(store.clone(), zones.clone(), api_cfg)?
        .with_change_hook(Arc::new(move |change: &tandem_api::ZoneChange<'_>| {
            hook_triggers.on_change(change.apex)
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
        .with_context(|| format!("cannot bind the API listener on {}", cfg.api_listen))?;
    let api_addr = api.local_addr()?;

    write_listen_json(&cfg.data_dir, &dns_addrs, api_addr)?;
    tracing::info!(
        dns = ?dns_addrs,
        api = %api_addr,
        transfer_source = ?cfg.transfer_source,
        notify_source = ?cfg.notify_source,
        min_refresh_seconds = cfg.min_refresh_seconds,
        "serving"
    );
    http::serve(api, app, limits, shutdown()).await;
    Ok(())
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

/// `DATA_DIR/listen.json`: the bound addresses, written once everything listens
/// (PRODUCT.md §3). Written to a temporary file and renamed so readers never see half of it.
fn write_listen_json(
    dir: &std::path::Path,
    dns: &[std::net::SocketAddr],
    api: std::net::SocketAddr,
) -> anyhow::Result<()> {
    let body = serde_json::json!({
        "dns": dns.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        "api": api.to_string(),
    });
    let tmp = dir.join("listen.json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&body)?)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, dir.join("listen.json"))?;
    Ok(())
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
