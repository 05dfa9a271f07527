//! Zones: creation together with their first records, lookup, listing and deletion.

use crate::records::{count_records, insert_record};
use crate::{
    format_time, time_column, Page, RecordRow, Store, StoreError, ZoneFilter, ZoneKind, ZoneOrder,
    ZoneRow,
};
use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, OptionalExtension, Row};
use std::collections::HashMap;

const ZONE_COLUMNS: &str = "id, account_id, name, type, status, serial, created, modified";

/// A zone row as read, before its text columns are checked.
type RawZone = (String, String, String, String, String, i64, String, String);

fn raw_zone(row: &Row<'_>) -> rusqlite::Result<RawZone> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
    ))
}

/// What a zone's API object shows beside its [`ZoneRow`], none of which DNS reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ZoneExtras {
    /// The provider's `paused` flag, set with `PATCH /zones/{id}`.
    pub paused: bool,
    /// The zone has an incoming transfer configuration (`secondary_dns/incoming`).
    pub incoming: bool,
    /// The zone has an outgoing transfer configuration (`secondary_dns/outgoing`).
    pub outgoing: bool,
}

fn zone_from_raw(raw: RawZone) -> Result<ZoneRow, StoreError> {
    let (id, account_id, name, kind, status, serial, created, modified) = raw;
    let corrupt = |detail: String| StoreError::Corrupt {
        table: "zones",
        id: id.clone(),
        detail,
    };
    let kind = ZoneKind::parse(&kind).ok_or_else(|| corrupt(format!("bad type {kind:?}")))?;
    let serial = u32::try_from(serial).map_err(|_| corrupt(format!("bad serial {serial}")))?;
    let created = time_column("zones", &id, &created)?;
    let modified = time_column("zones", &id, &modified)?;
    Ok(ZoneRow {
        id,
        account_id,
        name,
        kind,
        status,
        serial,
        created,
        modified,
    })
}

impl Store {
    fn zone_where(&self, column: &str, value: &str) -> Result<Option<ZoneRow>, StoreError> {
        let conn = self.read_conn();
        let raw = conn
            .query_row(
                &format!("SELECT {ZONE_COLUMNS} FROM zones WHERE {column} = ?1"),
                [value],
                raw_zone,
            )
            .optional()?;
        raw.map(zone_from_raw).transpose()
    }
}

impl crate::storage::ZoneStore for Store {
    fn record_counts(&self) -> Result<std::collections::HashMap<String, u64>, StoreError> {
        crate::integrity::record_counts(&self.read_conn())
    }

    fn create_zone(&self, zone: &ZoneRow, records: &[RecordRow]) -> Result<(), StoreError> {
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        let taken: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM zones WHERE name = ?1)",
            [&zone.name],
            |r| r.get(0),
        )?;
        if taken {
            return Err(StoreError::ZoneExists(zone.name.clone()));
        }
        // Names are stored lower-case, without the trailing dot, as host-name labels (the API
        // refuses escapes), so "inside" is a suffix that starts at a label boundary.
        let nests: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM zones WHERE account_id != ?2 AND (
                 (length(?1) > length(name) AND substr(?1, -length(name) - 1) = '.' || name)
              OR (length(name) > length(?1) AND substr(name, -length(?1) - 1) = '.' || ?1)))",
            params![zone.name, zone.account_id],
            |r| r.get(0),
        )?;
        if nests {
            return Err(StoreError::ZoneNestsForeign(zone.name.clone()));
        }
        tx.execute(
            &format!("INSERT INTO zones ({ZONE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
            params![
                zone.id,
                zone.account_id,
                zone.name,
                zone.kind.as_str(),
                zone.status,
                zone.serial as i64,
                format_time(zone.created),
                format_time(zone.modified)
            ],
        )?;
        for rec in records {
            insert_record(&tx, &zone.id, rec)?;
        }
        count_records(&tx, &zone.id, records.len() as i64)?;
        tx.commit()?;
        Ok(())
    }

    fn zone(&self, id: &str) -> Result<Option<ZoneRow>, StoreError> {
        self.zone_where("id", id)
    }

    fn zone_by_name(&self, name: &str) -> Result<Option<ZoneRow>, StoreError> {
        self.zone_where("name", name)
    }

    fn zones(&self) -> Result<Vec<ZoneRow>, StoreError> {
        let conn = self.read_conn();
        let mut stmt = conn.prepare(&format!("SELECT {ZONE_COLUMNS} FROM zones ORDER BY name"))?;
        let rows = stmt.query_map([], raw_zone)?;
        rows.map(|r| zone_from_raw(r?)).collect()
    }

    fn list_zones(
        &self,
        filter: &ZoneFilter,
        page: Page,
    ) -> Result<(Vec<ZoneRow>, u64), StoreError> {
        let mut args: Vec<Value> = Vec::new();
        let mut conds: Vec<String> = Vec::new();
        let mut eq = |column: &str, value: &Option<String>, args: &mut Vec<Value>| {
            if let Some(v) = value {
                args.push(Value::Text(v.clone()));
                conds.push(format!("{column} = ?{}", args.len()));
            }
        };
        eq("name", &filter.name, &mut args);
        eq("account_id", &filter.account, &mut args);
        eq(
            "(SELECT a.name FROM accounts a WHERE a.id = zones.account_id)",
            &filter.account_name,
            &mut args,
        );
        eq("status", &filter.status, &mut args);
        eq("type", &filter.kind, &mut args);
        let mut cond = "1".to_string();
        if let Some(own) = &filter.account_id {
            args.push(Value::Text(own.clone()));
            cond = format!("account_id = ?{}", args.len());
        }
        if !conds.is_empty() {
            let joiner = if filter.match_any { " OR " } else { " AND " };
            cond.push_str(&format!(" AND ({})", conds.join(joiner)));
        }
        let dir = if filter.descending { "DESC" } else { "ASC" };
        // Only whitelisted column names go into the text; ties go by name.
        let order = match filter.order {
            ZoneOrder::Name => format!("name {dir}"),
            ZoneOrder::Status => format!("status {dir}, name {dir}"),
            ZoneOrder::AccountId => format!("account_id {dir}, name {dir}"),
            ZoneOrder::AccountName => format!(
                "(SELECT a.name FROM accounts a WHERE a.id = zones.account_id) {dir}, name {dir}"
            ),
        };
        let conn = self.read_conn();
        let total: i64 = conn.query_row(
            &format!("SELECT count(*) FROM zones WHERE {cond}"),
            params_from_iter(&args),
            |r| r.get(0),
        )?;
        let n = args.len();
        let mut stmt = conn.prepare(&format!(
            "SELECT {ZONE_COLUMNS} FROM zones WHERE {cond} ORDER BY {order} LIMIT ?{} OFFSET ?{}",
            n + 1,
            n + 2
        ))?;
        args.push(Value::Integer(page.limit()));
        args.push(Value::Integer(page.offset()));
        let rows = stmt.query_map(params_from_iter(&args), raw_zone)?;
        let zones = rows
            .map(|r| zone_from_raw(r?))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((zones, total as u64))
    }

    fn delete_zone(&self, id: &str) -> Result<bool, StoreError> {
        let n = self
            .write_conn()
            .execute("DELETE FROM zones WHERE id = ?1", [id])?;
        Ok(n > 0)
    }

    fn zone_extras(&self, ids: &[&str]) -> Result<HashMap<String, ZoneExtras>, StoreError> {
        let mut out = HashMap::with_capacity(ids.len());
        let conn = self.read_conn();
        // SQLite takes at most 32766 parameters per statement; a page holds at most 1000 zones.
        for chunk in ids.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let mut stmt = conn.prepare(&format!(
                "SELECT z.id, z.paused,
                        EXISTS (SELECT 1 FROM incoming_transfers i WHERE i.zone_id = z.id),
                        EXISTS (SELECT 1 FROM outgoing_transfers o WHERE o.zone_id = z.id)
                 FROM zones z WHERE z.id IN ({marks})"
            ))?;
            let rows = stmt.query_map(params_from_iter(chunk.iter()), |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    ZoneExtras {
                        paused: r.get(1)?,
                        incoming: r.get(2)?,
                        outgoing: r.get(3)?,
                    },
                ))
            })?;
            for row in rows {
                let (id, extras) = row?;
                out.insert(id, extras);
            }
        }
        Ok(out)
    }

    fn set_zone_paused(
        &self,
        id: &str,
        paused: bool,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        let current: Option<bool> = tx
            .query_row("SELECT paused FROM zones WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        let Some(current) = current else {
            return Err(StoreError::NotFound {
                what: "zone",
                id: id.to_string(),
            });
        };
        if current == paused {
            return Ok(false);
        }
        tx.execute(
            "UPDATE zones SET paused = ?2, modified = ?3 WHERE id = ?1",
            params![id, paused, format_time(at)],
        )?;
        tx.commit()?;
        Ok(true)
    }

    fn set_zone_status(&self, id: &str, status: &str) -> Result<(), StoreError> {
        let n = self.write_conn().execute(
            "UPDATE zones SET status = ?2 WHERE id = ?1",
            params![id, status],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "zone",
                id: id.to_string(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::{new_id, now, OutgoingConfig};

    fn zone(store: &Store, name: &str) -> ZoneRow {
        let at = now() - chrono::Duration::hours(1);
        let z = ZoneRow {
            id: new_id(),
            account_id: store.default_account().unwrap().id,
            name: name.into(),
            kind: ZoneKind::Full,
            status: "active".into(),
            serial: 1,
            created: at,
            modified: at,
        };
        store.create_zone(&z, &[]).unwrap();
        z
    }

    #[test]
    fn paused_is_kept_and_only_a_change_moves_modified() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let z = zone(&store, "paused.test");
        let extras = |store: &Store| store.zone_extras(&[z.id.as_str()]).unwrap()[&z.id];
        assert_eq!(
            extras(&store),
            ZoneExtras::default(),
            "a new zone is not paused"
        );

        // The same value again is no change: modified stays.
        assert!(!store.set_zone_paused(&z.id, false, now()).unwrap());
        assert_eq!(store.zone(&z.id).unwrap().unwrap().modified, z.modified);

        let at = now();
        assert!(store.set_zone_paused(&z.id, true, at).unwrap());
        assert!(extras(&store).paused);
        let modified = store.zone(&z.id).unwrap().unwrap().modified;
        assert_eq!(format_time(modified), format_time(at));
        assert!(!store.set_zone_paused(&z.id, true, now()).unwrap());
        assert_eq!(store.zone(&z.id).unwrap().unwrap().modified, modified);

        // It survives a restart.
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert!(extras(&store).paused);
        assert!(store.set_zone_paused(&z.id, false, now()).unwrap());
        assert!(!extras(&store).paused);

        match store.set_zone_paused(&new_id(), true, now()) {
            Err(StoreError::NotFound { what: "zone", .. }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn extras_say_which_transfer_configurations_exist() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (a, b) = (zone(&store, "a.test"), zone(&store, "b.test"));
        let account = store.default_account().unwrap().id;
        let at = now();
        store
            .create_outgoing_config(
                &account,
                &OutgoingConfig {
                    id: new_id(),
                    zone_id: b.id.clone(),
                    peers: vec![],
                    enabled: false,
                    checked_time: None,
                    last_transferred_time: None,
                    notify_requested: None,
                    created: at,
                    modified: at,
                },
            )
            .unwrap();
        let missing = new_id();
        let extras = store
            .zone_extras(&[a.id.as_str(), b.id.as_str(), missing.as_str()])
            .unwrap();
        assert_eq!(extras.len(), 2, "a zone that does not exist has none");
        assert_eq!(extras[&a.id], ZoneExtras::default());
        assert_eq!(
            extras[&b.id],
            ZoneExtras {
                outgoing: true,
                ..ZoneExtras::default()
            }
        );
        // More ids than one statement takes.
        let many: Vec<String> = (0..1200).map(|_| new_id()).collect();
        let mut ids: Vec<&str> = many.iter().map(String::as_str).collect();
        ids.push(&b.id);
        assert_eq!(store.zone_extras(&ids).unwrap().len(), 1);
    }
}
