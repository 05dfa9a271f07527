//! The rows the store keeps, as plain Rust values.

use chrono::{DateTime, Utc};
use tandem_zone::Record;

/// A tenant. Every zone, token, peer and key belongs to exactly one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub created: DateTime<Utc>,
}

/// What a bearer token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Permission {
    Read,
    Write,
    Admin,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Write => "write",
            Permission::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "read" => Some(Permission::Read),
            "write" => Some(Permission::Write),
            "admin" => Some(Permission::Admin),
            _ => None,
        }
    }
}

/// A stored API token (its value is never stored, only its SHA-256).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiToken {
    pub id: String,
    /// `None` for the administrator, who sees every account.
    pub account_id: Option<String>,
    pub name: String,
    pub permission: Permission,
    pub created: DateTime<Utc>,
}

/// Whether we are the primary of a zone or a secondary copying it from peers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZoneKind {
    Full,
    Secondary,
}

impl ZoneKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneKind::Full => "full",
            ZoneKind::Secondary => "secondary",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "full" => Some(ZoneKind::Full),
            "secondary" => Some(ZoneKind::Secondary),
            _ => None,
        }
    }
}

/// A hosted zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneRow {
    pub id: String,
    pub account_id: String,
    /// Fully qualified, lowercase, without the trailing dot (`example.com`).
    pub name: String,
    pub kind: ZoneKind,
    /// `active`, `pending` or `expired`.
    pub status: String,
    /// Serial of the last committed version.
    pub serial: u32,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
}

/// One resource record of a zone, with what the API shows beside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordRow {
    pub id: String,
    pub zone_id: String,
    /// The record as served (owner, type, TTL, wire RDATA).
    pub record: Record,
    /// Owner in API form: fully qualified, without the trailing dot.
    pub name: String,
    /// Content in API form (see `tandem_zone::text::api_content`), without the priority for
    /// MX/SRV/URI.
    pub content: String,
    pub priority: Option<u16>,
    /// The TTL was given as `1` (automatic): the API shows 1, DNS serves `record.ttl`.
    pub auto_ttl: bool,
    /// What the API keeps beside the record and DNS never sees.
    pub meta: RecordMeta,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
}

/// A record's metadata (table `record_meta` and `record_tags`, keyed by record id).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordMeta {
    pub comment: Option<String>,
    pub comment_modified: Option<DateTime<Utc>>,
    /// `name:value` (or a bare `name`), names lowercase, sorted by name.
    pub tags: Vec<String>,
    pub tags_modified: Option<DateTime<Utc>>,
    /// The record's `settings` object as JSON text; `None` when none was set.
    pub settings: Option<String>,
}

impl RecordMeta {
    /// Nothing to keep: no row in `record_meta`.
    pub fn is_empty(&self) -> bool {
        *self == RecordMeta::default()
    }
}

impl RecordRow {
    /// A new row for `record` in zone `zone_id`: a fresh id, the API's name and content
    /// derived from the record, no metadata, created and modified at `at`.
    pub fn new(zone_id: &str, record: Record, at: DateTime<Utc>) -> RecordRow {
        let (content, priority) = tandem_zone::text::api_content(&record);
        RecordRow {
            id: crate::new_id(),
            zone_id: zone_id.to_string(),
            name: record.owner.to_api(),
            record,
            content,
            priority,
            auto_ttl: false,
            meta: RecordMeta::default(),
            created: at,
            modified: at,
        }
    }

    /// Both rows hold the same record and the same metadata (times aside).
    pub fn same_as(&self, other: &RecordRow) -> bool {
        let strip = |m: &RecordMeta| RecordMeta {
            comment_modified: None,
            tags_modified: None,
            ..m.clone()
        };
        self.record == other.record
            && self.auto_ttl == other.auto_ttl
            && strip(&self.meta) == strip(&other.meta)
    }
}

/// One condition on a record's tags (names lowercase).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TagFilter {
    Present(String),
    Absent(String),
    /// A tag of this name whose value compares as the op says.
    Value(String, TextOp, String),
}

/// How a text filter compares a column with its value. Comparisons ignore ASCII case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextOp {
    Exact,
    Contains,
    StartsWith,
    EndsWith,
}

/// One text filter on a column: `op` applied to the value; it holds when the column matches
/// any of `values`, the value's equivalent spellings (a TXT text unquoted and quoted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextFilter {
    pub op: TextOp,
    pub values: Vec<String>,
}

/// What a record list is sorted by (ties go by name, type and age).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RecordOrder {
    #[default]
    Name,
    /// By type code.
    Type,
    Content,
    Ttl,
    /// Nothing is proxied, so this is the default order.
    Proxied,
}

/// Filters for listing records. Every filter given is one condition; `match_any` decides
/// whether all of them must hold (the default) or at least one. `search` always applies.
/// Nothing given matches everything.
#[derive(Clone, Debug, Default)]
pub struct RecordFilter {
    pub rtype: Option<u16>,
    /// On the API form of the owner (`www.example.com`).
    pub name: Vec<TextFilter>,
    /// On the content as the API returns it.
    pub content: Vec<TextFilter>,
    pub comment: Vec<TextFilter>,
    /// `Some(true)`: a comment is set; `Some(false)`: none (or an empty one).
    pub comment_present: Vec<bool>,
    /// Tag conditions, joined by `tag_match_any` (OR) or AND; the group is one condition.
    pub tags: Vec<TagFilter>,
    pub tag_match_any: bool,
    /// Substring of the name, the content or the comment.
    pub search: Option<String>,
    /// Records are never proxied: `Some(true)` matches none, `Some(false)` all.
    pub proxied: Option<bool>,
    pub match_any: bool,
    pub order: RecordOrder,
    pub descending: bool,
}

/// What a zone list is sorted by (ties go by name).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ZoneOrder {
    #[default]
    Name,
    Status,
    AccountId,
    AccountName,
}

/// Filters for listing zones. `account_id` (the caller's own account) always applies; the
/// others are conditions joined by AND, or by OR when `match_any`.
#[derive(Clone, Debug, Default)]
pub struct ZoneFilter {
    /// The account the caller is limited to.
    pub account_id: Option<String>,
    /// Exact zone name (API form).
    pub name: Option<String>,
    /// Asked for with `account.id`.
    pub account: Option<String>,
    pub account_name: Option<String>,
    pub status: Option<String>,
    /// `full`, `secondary`, or a provider type no zone here has.
    pub kind: Option<String>,
    pub match_any: bool,
    pub order: ZoneOrder,
    pub descending: bool,
}

/// A 1-based page of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub page: u64,
    pub per_page: u64,
}

impl Page {
    /// Rows before the page (as SQL's `OFFSET`).
    pub fn offset(self) -> i64 {
        (self.page.saturating_sub(1).saturating_mul(self.per_page)).min(i64::MAX as u64) as i64
    }

    /// Rows in the page (as SQL's `LIMIT`).
    pub fn limit(self) -> i64 {
        self.per_page.min(i64::MAX as u64) as i64
    }
}

/// One committed change to a zone's records, written as a single transaction together with the
/// zone's new serial.
///
/// A `full` zone's records live in its snapshot and journal; its rows hold what the API must
/// remember of some of them (an id that is not the record's content id, a comment, tags,
/// settings, an automatic TTL, times). So a delete names a row that may not exist, and an
/// update writes a row that may not exist yet.
#[derive(Clone, Debug, Default)]
pub struct RecordChange<'a> {
    pub zone_id: String,
    pub serial: u32,
    /// Ids of the rows to delete, where they exist.
    pub deletes: Vec<String>,
    /// Rows to rewrite (matched by id; `created` is kept), or to write when the record had
    /// none.
    pub updates: Vec<RecordRow>,
    /// New rows.
    pub inserts: Vec<RecordRow>,
    /// The difference to journal in the same transaction (full zones; `None` writes none).
    pub journal: Option<crate::JournalWrite<'a>>,
    /// The zone's version after the change. When the journal no longer leads from the zone's
    /// snapshot to it (the change trimmed the history), a snapshot of it is written in the
    /// same transaction ([`crate::snapshot::write_if_unchained`]).
    pub version: Option<std::sync::Arc<tandem_zone::ZoneVersion>>,
}
