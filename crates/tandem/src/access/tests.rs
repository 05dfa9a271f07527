//! Hardening row 9: access decisions never read the store, and they follow the snapshot the
//! API republishes; a refused NOTIFY, from the wire to its counter, allocates nothing.

use super::*;
use crate::transfer::StoreTransferControl;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use tandem_server::events::refresh::SecondaryControl;
use tandem_server::refusal::Refusal;
use tandem_server::xfr_out::TransferControl;
use tandem_store::prelude::*;
use tandem_store::{IncomingConfig, OutgoingConfig, Store, ZoneKind, ZoneRow};

fn setup() -> (tempfile::TempDir, StoreTransferControl, Name) {
    setup_zone("sec.test")
}

/// A store with the secondary zone `name`, its primary 127.0.0.9 (no key) linked both ways,
/// and the control reading its published snapshot.
fn setup_zone(name: &str) -> (tempfile::TempDir, StoreTransferControl, Name) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let account = store.default_account().unwrap().id;
    let now = tandem_store::now();
    let zone = ZoneRow {
        id: tandem_store::new_id(),
        account_id: account.clone(),
        name: name.into(),
        kind: ZoneKind::Secondary,
        status: "pending".into(),
        serial: 0,
        created: now,
        modified: now,
    };
    store.create_zone(&zone, &[]).unwrap();
    let peer = Peer {
        id: tandem_store::new_id(),
        account_id: account.clone(),
        name: "primary".into(),
        ip: Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 9))),
        port: 53,
        ixfr_enable: false,
        tsig_id: None,
        created: now,
        modified: now,
    };
    store.create_peer(&peer).unwrap();
    store
        .create_incoming_config(
            &account,
            &IncomingConfig {
                id: tandem_store::new_id(),
                zone_id: zone.id.clone(),
                peers: vec![peer.id.clone()],
                auto_refresh_seconds: 300,
                state: "pending".into(),
                checked_time: None,
                expires_time: None,
                next_refresh_time: None,
                axfr_requested: None,
                created: now,
                modified: now,
            },
        )
        .unwrap();
    store
        .create_outgoing_config(
            &account,
            &OutgoingConfig {
                id: tandem_store::new_id(),
                zone_id: zone.id.clone(),
                peers: vec![peer.id.clone()],
                enabled: true,
                checked_time: None,
                last_transferred_time: None,
                notify_requested: None,
                created: now,
                modified: now,
            },
        )
        .unwrap();
    let apex = Name::parse(name).unwrap();
    let zones = Arc::new(tandem_server::zone::ZoneSet::new());
    zones.insert(apex.clone(), None);
    let control = StoreTransferControl {
        status: crate::status::StatusSender::to_store(store.clone()).unwrap(),
        store,
        journal: tandem_store::JournalLimits::default(),
        access: AccessSnapshot::new(zones),
        peer_allow: tandem_store::PeerAllow::any(),
    };
    control.publish_access();
    (dir, control, apex)
}

#[test]
fn refusals_and_acceptances_never_touch_the_store() {
    let (_dir, control, apex) = setup();
    let stranger = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 66));
    let primary = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 9));
    let key = Name::parse("nokey.example").unwrap();
    let before = control.store.uses();
    for _ in 0..1000 {
        assert!(control.authorize_notify(&apex, stranger, None).is_err());
        assert!(control
            .authorize_notify(&apex, primary, Some(&key))
            .is_err());
        assert!(control.authorize(&apex, stranger).is_err());
        assert!(control.authorize_signed(&apex, primary, &key).is_err());
        assert!(TransferControl::keys(&control, &apex).is_empty());
    }
    assert!(control.authorize_notify(&apex, primary, None).is_ok());
    assert!(control.authorize(&apex, primary).is_ok());
    let unknown = Name::parse("other.test").unwrap();
    assert!(control.authorize_notify(&unknown, primary, None).is_err());
    assert_eq!(
        control.store.uses(),
        before,
        "an access decision read the store"
    );
}

#[test]
fn the_snapshot_follows_what_is_published() {
    let (_dir, control, apex) = setup();
    let primary = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 9));
    assert!(control.authorize(&apex, primary).is_ok());
    let zone = control.store.zone_by_name("sec.test").unwrap().unwrap();
    control.store.set_outgoing_enabled(&zone.id, false).unwrap();
    // Until the API republishes, the decision is the published one.
    assert!(control.authorize(&apex, primary).is_ok());
    control.publish_access();
    let err = control.authorize(&apex, primary).unwrap_err();
    assert_eq!(err, Refusal::OutgoingDisabled);
}

/// A NOTIFY (opcode 4, AA) for `zone` (wire form), type `qtype`.
fn notify_wire(zone: &[u8], qtype: u16) -> Vec<u8> {
    let mut m = vec![0x4e, 0x01, 0x24, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(zone);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&[0, 1]);
    m
}

#[test]
fn a_refused_notify_reads_no_store_and_allocates_nothing() {
    use tandem_server::events::refresh::{Secondary, SecondaryConfig};
    use tandem_server::zone::ZoneSet;
    use tandem_server::{respond, AnswerConfig, Transport};

    // A zone of its own: the NOTIFY counters are the process's, shared with other tests.
    let (_dir, control, apex) = setup_zone("quiet.test");
    let control = Arc::new(control);
    let zones = Arc::new(ZoneSet::new());
    zones.insert(apex.clone(), None);
    let cfg = AnswerConfig {
        notify: Some(Secondary::new(
            zones.clone(),
            control.clone(),
            SecondaryConfig::default(),
        )),
        ..AnswerConfig::default()
    };
    let stranger = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 66));
    let refused = [
        // A secondary zone of ours, from an address that is no linked peer's.
        notify_wire(b"\x05quiet\x04test\x00", 6),
        // A zone we do not host.
        notify_wire(b"\x05other\x04test\x00", 6),
    ];
    let formerr = notify_wire(b"\x05quiet\x04test\x00", 1);
    let mut buf = Vec::with_capacity(65536);
    let mut ask = |msg: &[u8]| {
        respond(&zones, msg, &mut buf, Transport::Udp, stranger, &cfg);
        buf[3] & 0x0f
    };
    // Warm up: the zone's counters are made at its first NOTIFY.
    for msg in &refused {
        assert_eq!(ask(msg), 5, "REFUSED");
    }
    let (_, counted_before) = crate::metrics::notify_received(&apex);
    let uses = control.store.uses();
    let allocations = crate::alloc_count::allocations();
    for _ in 0..1000 {
        for msg in &refused {
            assert_eq!(ask(msg), 5, "REFUSED");
        }
        assert_eq!(ask(&formerr), 1, "FORMERR");
    }
    assert_eq!(
        crate::alloc_count::allocations() - allocations,
        0,
        "heap allocations answering refused NOTIFYs"
    );
    assert_eq!(
        control.store.uses(),
        uses,
        "a refused NOTIFY read the store"
    );
    let (accepted, counted) = crate::metrics::notify_received(&apex);
    assert_eq!(
        (accepted, counted - counted_before),
        (0, 1000),
        "refusals counted for the hosted zone"
    );
}

#[test]
fn notify_targets_and_primaries_come_from_the_snapshot() {
    use tandem_server::events::notify_out::NotifyTargets;
    let (_dir, control, apex) = setup();
    let primary = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 9));
    let uses = control.store.uses();
    let targets = control.notify_targets(&apex);
    let incoming = control.incoming(&apex).unwrap();
    assert_eq!(
        control.store.uses(),
        uses,
        "a NOTIFY round or refresh read the store"
    );
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].1, SocketAddr::new(primary, 53));
    assert!(targets[0].2.is_none(), "the peer has no key");
    assert_eq!(incoming.primaries.len(), 1);
    assert_eq!(incoming.primaries[0].addr, SocketAddr::new(primary, 53));
    assert!(!incoming.primaries[0].ixfr);
    assert_eq!(incoming.refresh, std::time::Duration::from_secs(300));

    // A peer moved to another port with IXFR and a key: seen once the API republishes.
    let zone = control.store.zone_by_name("sec.test").unwrap().unwrap();
    let account = zone.account_id.clone();
    let now = tandem_store::now();
    let key = tandem_store::TsigKey {
        id: tandem_store::new_id(),
        account_id: account.clone(),
        name: "k.sec.test.".into(),
        algorithm: tandem_store::TsigAlgorithm::HmacSha256,
        secret: "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0".into(),
        created: now,
        modified: now,
    };
    control.store.create_tsig_key(&key).unwrap();
    let mut peer = control.store.peers(&account).unwrap().remove(0);
    peer.port = 5353;
    peer.ixfr_enable = true;
    peer.tsig_id = Some(key.id.clone());
    control.store.replace_peer(&peer).unwrap();
    assert_eq!(
        control.notify_targets(&apex)[0].1.port(),
        53,
        "not yet published"
    );
    control.publish_access();
    let targets = control.notify_targets(&apex);
    assert_eq!(targets[0].1, SocketAddr::new(primary, 5353));
    assert_eq!(
        targets[0].2.as_ref().map(|k| k.name().to_string()),
        Some("k.sec.test.".to_string())
    );
    let incoming = control.incoming(&apex).unwrap();
    assert!(incoming.primaries[0].ixfr);
    assert!(incoming.primaries[0].key.is_some());

    // Outgoing disabled: no NOTIFY targets.
    control.store.set_outgoing_enabled(&zone.id, false).unwrap();
    control.publish_access();
    assert!(control.notify_targets(&apex).is_empty());
}

/// A refresh's outcome and an expiry leave the refresh's task at once, whatever holds the
/// store's writer (a large import holds it for seconds): they go to the status writer, which
/// then records them whole.
#[test]
fn refresh_outcomes_and_expiry_go_to_the_status_writer() {
    use tandem_server::events::refresh::{Attempt, Outcome};
    let (_dir, mut control, apex) = setup();
    let (tx, rx) = std::sync::mpsc::channel();
    control.status = crate::status::StatusSender::start(move |s| {
        let _ = tx.send(s);
    })
    .unwrap();
    let zone_id = control.access.zone(&apex).unwrap().zone_id.to_string();
    let peer_id = control
        .store
        .incoming_config(&zone_id)
        .unwrap()
        .unwrap()
        .peers[0]
        .clone();
    let outcome = Outcome {
        attempts: vec![Attempt {
            peer_id: peer_id.clone(),
            transfer: Some(tandem_xfr::incoming::Kind::Axfr),
            result: Err("records after the final SOA".into()),
        }],
        state: "retrying",
        succeeded: false,
        forced_done: None,
        next_refresh: std::time::SystemTime::now(),
        expires: None,
    };
    let before = control.store.uses();
    control.record(&apex, &outcome);
    control.expired(&apex);
    assert_eq!(
        control.store.uses(),
        before,
        "the refresh's task used the store"
    );

    let wait = std::time::Duration::from_secs(10);
    let refresh = rx.recv_timeout(wait).unwrap();
    crate::status::write(control.store.as_ref(), &refresh).unwrap();
    let view = control.store.incoming_view(&zone_id).unwrap().unwrap();
    assert_eq!(view.config.state, "retrying");
    assert_eq!(view.peers[0].peer_id, peer_id);
    assert_eq!(
        view.peers[0].last_result.as_deref(),
        Some("AXFR: records after the final SOA")
    );
    let expired = rx.recv_timeout(wait).unwrap();
    crate::status::write(control.store.as_ref(), &expired).unwrap();
    let view = control.store.incoming_view(&zone_id).unwrap().unwrap();
    assert_eq!(view.config.state, "expired");
    let zone = control.store.zone_by_name("sec.test").unwrap().unwrap();
    assert_eq!(zone.status, "expired");
}
