//! Zone-transfer configuration (PRODUCT §1): the peers, TSIG keys and ACLs of an account
//! ([`objects`]), a zone's incoming and outgoing configuration ([`zone_config`]), and the links
//! between zones and peers that both sides check.

pub mod incoming_state;
pub mod model;
mod objects;
pub mod status;
mod zone_config;

use model::Direction;
use rusqlite::Connection;

use crate::StoreError;

/// One zone configuration that links a peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneLink {
    pub zone_id: String,
    /// API form of the zone name (`example.com`).
    pub zone_name: String,
    pub direction: Direction,
}

/// Every zone configuration linking `peer_id`, by zone name.
pub(crate) fn links_of_peer(conn: &Connection, peer_id: &str) -> Result<Vec<ZoneLink>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.zone_id, z.name, l.direction FROM transfer_peers l
         JOIN zones z ON z.id = l.zone_id
         WHERE l.peer_id = ?1 ORDER BY z.name, l.direction",
    )?;
    let rows = stmt.query_map([peer_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut links = Vec::new();
    for row in rows {
        let (zone_id, zone_name, direction) = row?;
        let direction = match direction.as_str() {
            "incoming" => Direction::Incoming,
            "outgoing" => Direction::Outgoing,
            other => {
                return Err(StoreError::Corrupt {
                    table: "transfer_peers",
                    id: zone_id,
                    detail: format!("bad direction {other:?}"),
                })
            }
        };
        links.push(ZoneLink {
            zone_id,
            zone_name,
            direction,
        });
    }
    Ok(links)
}

/// `zone a.test (incoming), zone b.test (outgoing)`, for messages.
pub(crate) fn describe_links(links: &[ZoneLink]) -> String {
    links
        .iter()
        .map(|l| format!("zone {} ({})", l.zone_name, l.direction.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}
