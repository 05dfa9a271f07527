//! Hardening row 9: access decisions never read the store, and they follow the snapshot the
//! API republishes.

use super::*;
use crate::transfer::StoreTransferControl;
use std::net::Ipv4Addr;
use tandem_server::events::refresh::SecondaryControl;
use tandem_server::xfr_out::TransferControl;
use tandem_store::{IncomingConfig, OutgoingConfig, ZoneKind, ZoneRow};

fn setup() -> (tempfile::TempDir, StoreTransferControl, Name) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let account = store.default_account().unwrap().id;
    let now = tandem_store::now();
    let zone = ZoneRow {
        id: tandem_store::new_id(),
        account_id: account.clone(),
        name: "sec.test".into(),
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
    let control = StoreTransferControl {
        store,
        journal: tandem_store::JournalLimits::default(),
        access: AccessSnapshot::default(),
        peer_allow: tandem_store::PeerAllow::any(),
    };
    control.publish_access();
    (dir, control, Name::parse("sec.test").unwrap())
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
    assert!(err.contains("disabled"), "{err}");
}
