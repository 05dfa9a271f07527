//! Peers, TSIG keys and ACLs of an account: listing, lookup, create, replace and delete, each
//! change one transaction that also checks what the change refers to and who uses what it
//! removes.

use super::model::{Acl, IpRange, Peer, TsigAlgorithm, TsigKey};
use super::{describe_links, links_of_peer};
use crate::{format_time, now, time_column, Store, StoreError};
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::net::IpAddr;

const PEER_COLUMNS: &str =
    "id, account_id, name, ip, port, ixfr_enable, tsig_id, created, modified";
const TSIG_COLUMNS: &str = "id, account_id, name, algorithm, secret, created, modified";
const ACL_COLUMNS: &str = "id, account_id, name, ip_range, created, modified";

fn not_found(what: &'static str, id: &str) -> StoreError {
    StoreError::NotFound {
        what,
        id: id.to_string(),
    }
}

fn corrupt(table: &'static str, id: &str, detail: String) -> StoreError {
    StoreError::Corrupt {
        table,
        id: id.to_string(),
        detail,
    }
}

type RawPeer = (
    String,
    String,
    String,
    Option<String>,
    i64,
    bool,
    Option<String>,
    String,
    String,
);

fn raw_peer(r: &Row<'_>) -> rusqlite::Result<RawPeer> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

fn peer_from_raw(raw: RawPeer) -> Result<Peer, StoreError> {
    let (id, account_id, name, ip, port, ixfr_enable, tsig_id, created, modified) = raw;
    let ip = ip
        .map(|t| {
            t.parse::<IpAddr>()
                .map_err(|_| corrupt("peers", &id, format!("bad ip {t:?}")))
        })
        .transpose()?;
    let port =
        u16::try_from(port).map_err(|_| corrupt("peers", &id, format!("bad port {port}")))?;
    Ok(Peer {
        created: time_column("peers", &id, &created)?,
        modified: time_column("peers", &id, &modified)?,
        id,
        account_id,
        name,
        ip,
        port,
        ixfr_enable,
        tsig_id,
    })
}

type RawTsig = (String, String, String, String, String, String, String);

fn raw_tsig(r: &Row<'_>) -> rusqlite::Result<RawTsig> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn tsig_from_raw(raw: RawTsig) -> Result<TsigKey, StoreError> {
    let (id, account_id, name, algorithm, secret, created, modified) = raw;
    let algorithm = TsigAlgorithm::parse(&algorithm)
        .ok_or_else(|| corrupt("tsig_keys", &id, format!("bad algorithm {algorithm:?}")))?;
    Ok(TsigKey {
        created: time_column("tsig_keys", &id, &created)?,
        modified: time_column("tsig_keys", &id, &modified)?,
        id,
        account_id,
        name,
        algorithm,
        secret,
    })
}

type RawAcl = (String, String, String, String, String, String);

fn raw_acl(r: &Row<'_>) -> rusqlite::Result<RawAcl> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn acl_from_raw(raw: RawAcl) -> Result<Acl, StoreError> {
    let (id, account_id, name, ip_range, created, modified) = raw;
    let ip_range = IpRange::parse(&ip_range)
        .map_err(|e| corrupt("acls", &id, format!("bad ip_range: {e}")))?;
    Ok(Acl {
        created: time_column("acls", &id, &created)?,
        modified: time_column("acls", &id, &modified)?,
        id,
        account_id,
        name,
        ip_range,
    })
}

/// The key used to keep TSIG key names unique in an account: DNS names compare without case,
/// and `k1.example` and `k1.example.` are the same name.
fn tsig_name_key(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Refuses a `tsig_id` that is not a key of `account_id`.
fn check_tsig(
    conn: &Connection,
    account_id: &str,
    tsig_id: Option<&str>,
) -> Result<(), StoreError> {
    let Some(tsig_id) = tsig_id else {
        return Ok(());
    };
    let found: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM tsig_keys WHERE id = ?1 AND account_id = ?2)",
        params![tsig_id, account_id],
        |r| r.get(0),
    )?;
    if found {
        Ok(())
    } else {
        Err(StoreError::Rejected {
            field: "tsig_id".into(),
            message: format!("no TSIG key {tsig_id} in this account"),
        })
    }
}

/// Refuses a key name another key of the account already has.
fn check_tsig_name(conn: &Connection, key: &TsigKey) -> Result<(), StoreError> {
    let other: Option<String> = conn
        .query_row(
            "SELECT id FROM tsig_keys WHERE account_id = ?1 AND name_key = ?2 AND id != ?3",
            params![key.account_id, tsig_name_key(&key.name), key.id],
            |r| r.get(0),
        )
        .optional()?;
    match other {
        None => Ok(()),
        Some(id) => Err(StoreError::Rejected {
            field: "name".into(),
            message: format!(
                "TSIG key {id} of this account is already named {:?}; key names must be unique, \
                 since a transfer request names only its key",
                key.name
            ),
        }),
    }
}

impl crate::storage::TransferObjectStore for Store {
    fn peers(&self, account_id: &str) -> Result<Vec<Peer>, StoreError> {
        let conn = self.read_conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {PEER_COLUMNS} FROM peers WHERE account_id = ?1 ORDER BY created, id"
        ))?;
        let rows = stmt.query_map([account_id], raw_peer)?;
        rows.map(|r| peer_from_raw(r?)).collect()
    }

    fn peer(&self, account_id: &str, id: &str) -> Result<Option<Peer>, StoreError> {
        let conn = self.read_conn();
        read_peer(&conn, account_id, id)
    }

    fn create_peer(&self, peer: &Peer) -> Result<(), StoreError> {
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        check_tsig(&tx, &peer.account_id, peer.tsig_id.as_deref())?;
        tx.execute(
            &format!(
                "INSERT INTO peers ({PEER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
            ),
            params![
                peer.id,
                peer.account_id,
                peer.name,
                peer.ip.map(|ip| ip.to_string()),
                peer.port,
                peer.ixfr_enable,
                peer.tsig_id,
                format_time(peer.created),
                format_time(peer.modified)
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn replace_peer(&self, peer: &Peer) -> Result<Peer, StoreError> {
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        check_tsig(&tx, &peer.account_id, peer.tsig_id.as_deref())?;
        if peer.ip.is_none() {
            let incoming: Vec<_> = links_of_peer(&tx, &peer.id)?
                .into_iter()
                .filter(|l| l.direction == super::model::Direction::Incoming)
                .collect();
            if !incoming.is_empty() {
                return Err(StoreError::Rejected {
                    field: "ip".into(),
                    message: format!(
                        "peer {:?} is the primary of {}; a peer that secondary zones transfer \
                         from needs an ip",
                        peer.name,
                        describe_links(&incoming)
                    ),
                });
            }
        }
        let n = tx.execute(
            "UPDATE peers SET name = ?3, ip = ?4, port = ?5, ixfr_enable = ?6, tsig_id = ?7,
                    modified = ?8
             WHERE id = ?1 AND account_id = ?2",
            params![
                peer.id,
                peer.account_id,
                peer.name,
                peer.ip.map(|ip| ip.to_string()),
                peer.port,
                peer.ixfr_enable,
                peer.tsig_id,
                format_time(now())
            ],
        )?;
        if n == 0 {
            return Err(not_found("peer", &peer.id));
        }
        let stored = read_peer(&tx, &peer.account_id, &peer.id)?
            .ok_or_else(|| not_found("peer", &peer.id))?;
        tx.commit()?;
        Ok(stored)
    }

    fn delete_peer(&self, account_id: &str, id: &str) -> Result<(), StoreError> {
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        let peer = read_peer(&tx, account_id, id)?.ok_or_else(|| not_found("peer", id))?;
        let links = links_of_peer(&tx, id)?;
        if !links.is_empty() {
            return Err(StoreError::Conflict(format!(
                "peer {:?} ({id}) is linked to {}; remove it from the transfer configuration of these zones \
                 first",
                peer.name,
                describe_links(&links)
            )));
        }
        tx.execute("DELETE FROM peers WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(())
    }

    fn tsig_keys(&self, account_id: &str) -> Result<Vec<TsigKey>, StoreError> {
        let conn = self.read_conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {TSIG_COLUMNS} FROM tsig_keys WHERE account_id = ?1 ORDER BY created, id"
        ))?;
        let rows = stmt.query_map([account_id], raw_tsig)?;
        rows.map(|r| tsig_from_raw(r?)).collect()
    }

    fn tsig_key(&self, account_id: &str, id: &str) -> Result<Option<TsigKey>, StoreError> {
        let conn = self.read_conn();
        read_tsig(&conn, account_id, id)
    }

    fn create_tsig_key(&self, key: &TsigKey) -> Result<(), StoreError> {
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        check_tsig_name(&tx, key)?;
        tx.execute(
            "INSERT INTO tsig_keys (id, account_id, name, name_key, algorithm, secret, created,
                                    modified)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                key.id,
                key.account_id,
                key.name,
                tsig_name_key(&key.name),
                key.algorithm.as_str(),
                key.secret,
                format_time(key.created),
                format_time(key.modified)
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn replace_tsig_key(&self, key: &TsigKey) -> Result<TsigKey, StoreError> {
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        check_tsig_name(&tx, key)?;
        let n = tx.execute(
            "UPDATE tsig_keys SET name = ?3, name_key = ?4, algorithm = ?5, secret = ?6,
                    modified = ?7
             WHERE id = ?1 AND account_id = ?2",
            params![
                key.id,
                key.account_id,
                key.name,
                tsig_name_key(&key.name),
                key.algorithm.as_str(),
                key.secret,
                format_time(now())
            ],
        )?;
        if n == 0 {
            return Err(not_found("TSIG key", &key.id));
        }
        let stored = read_tsig(&tx, &key.account_id, &key.id)?
            .ok_or_else(|| not_found("TSIG key", &key.id))?;
        tx.commit()?;
        Ok(stored)
    }

    fn delete_tsig_key(&self, account_id: &str, id: &str) -> Result<(), StoreError> {
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        let key = read_tsig(&tx, account_id, id)?.ok_or_else(|| not_found("TSIG key", id))?;
        let users = {
            let mut stmt =
                tx.prepare("SELECT id, name FROM peers WHERE tsig_id = ?1 ORDER BY name, id")?;
            let rows = stmt.query_map([id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        if !users.is_empty() {
            let mut described = Vec::new();
            for (peer_id, name) in &users {
                let links = links_of_peer(&tx, peer_id)?;
                let zones = if links.is_empty() {
                    String::new()
                } else {
                    format!(", linked to {}", describe_links(&links))
                };
                described.push(format!("peer {name:?} ({peer_id}{zones})"));
            }
            return Err(StoreError::Conflict(format!(
                "TSIG key {:?} ({id}) is used by {}; remove the key from these peers first",
                key.name,
                described.join("; ")
            )));
        }
        tx.execute("DELETE FROM tsig_keys WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(())
    }

    fn acls(&self, account_id: &str) -> Result<Vec<Acl>, StoreError> {
        let conn = self.read_conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {ACL_COLUMNS} FROM acls WHERE account_id = ?1 ORDER BY created, id"
        ))?;
        let rows = stmt.query_map([account_id], raw_acl)?;
        rows.map(|r| acl_from_raw(r?)).collect()
    }

    fn acl(&self, account_id: &str, id: &str) -> Result<Option<Acl>, StoreError> {
        let conn = self.read_conn();
        read_acl(&conn, account_id, id)
    }

    fn create_acl(&self, acl: &Acl) -> Result<(), StoreError> {
        self.write_conn().execute(
            &format!("INSERT INTO acls ({ACL_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
            params![
                acl.id,
                acl.account_id,
                acl.name,
                acl.ip_range.to_string(),
                format_time(acl.created),
                format_time(acl.modified)
            ],
        )?;
        Ok(())
    }

    fn replace_acl(&self, acl: &Acl) -> Result<Acl, StoreError> {
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE acls SET name = ?3, ip_range = ?4, modified = ?5
             WHERE id = ?1 AND account_id = ?2",
            params![
                acl.id,
                acl.account_id,
                acl.name,
                acl.ip_range.to_string(),
                format_time(now())
            ],
        )?;
        if n == 0 {
            return Err(not_found("ACL", &acl.id));
        }
        let stored =
            read_acl(&tx, &acl.account_id, &acl.id)?.ok_or_else(|| not_found("ACL", &acl.id))?;
        tx.commit()?;
        Ok(stored)
    }

    fn delete_acl(&self, account_id: &str, id: &str) -> Result<(), StoreError> {
        let n = self.write_conn().execute(
            "DELETE FROM acls WHERE id = ?1 AND account_id = ?2",
            params![id, account_id],
        )?;
        if n == 0 {
            return Err(not_found("ACL", id));
        }
        Ok(())
    }
}

pub(super) fn read_peer(
    conn: &Connection,
    account_id: &str,
    id: &str,
) -> Result<Option<Peer>, StoreError> {
    conn.query_row(
        &format!("SELECT {PEER_COLUMNS} FROM peers WHERE id = ?1 AND account_id = ?2"),
        params![id, account_id],
        raw_peer,
    )
    .optional()?
    .map(peer_from_raw)
    .transpose()
}

fn read_tsig(conn: &Connection, account_id: &str, id: &str) -> Result<Option<TsigKey>, StoreError> {
    conn.query_row(
        &format!("SELECT {TSIG_COLUMNS} FROM tsig_keys WHERE id = ?1 AND account_id = ?2"),
        params![id, account_id],
        raw_tsig,
    )
    .optional()?
    .map(tsig_from_raw)
    .transpose()
}

fn read_acl(conn: &Connection, account_id: &str, id: &str) -> Result<Option<Acl>, StoreError> {
    conn.query_row(
        &format!("SELECT {ACL_COLUMNS} FROM acls WHERE id = ?1 AND account_id = ?2"),
        params![id, account_id],
        raw_acl,
    )
    .optional()?
    .map(acl_from_raw)
    .transpose()
}
