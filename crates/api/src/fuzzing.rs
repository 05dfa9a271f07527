//! The JSON record input of `POST /zones/{zone_id}/dns_records`, without HTTP and without the
//! store, for the fuzz targets and their corpus replay: the same deserialisation, field checks
//! and content parsing as the handler, so a body that panics here panics there.

use crate::batch::build_row;
use crate::content::parse_content;
use crate::envelope::parse_json;
use crate::records::RecordInput;
use bytes::Bytes;
use tandem_store::{ZoneKind, ZoneRow};
use tandem_zone::{Name, Record};

/// A record the POST handler would go on to add to the zone's next version.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub record: Record,
    /// Content and priority as the API shows the stored record.
    pub content: String,
    pub priority: Option<u16>,
}

/// Reads a POST body for the zone `apex` as the handler does. The error is the message of
/// the 400 answer.
pub fn post_record(body: &[u8], apex: &Name) -> Result<Accepted, String> {
    let input: RecordInput = parse_json(body).map_err(|e| e.message)?;
    let now = chrono::Utc::now();
    let zone = ZoneRow {
        id: "fuzz".into(),
        account_id: "fuzz".into(),
        name: apex.to_api(),
        kind: ZoneKind::Full,
        status: "active".into(),
        serial: 1,
        created: now,
        modified: now,
    };
    let row = build_row(apex, &zone, None, input, false).map_err(|e| e.message)?;
    Ok(Accepted {
        record: row.record,
        content: row.content,
        priority: row.priority,
    })
}

/// RDATA of API content, as a PUT of the shown `content` and `priority` would parse it.
pub fn content_rdata(
    apex: &Name,
    owner: &Name,
    rtype: u16,
    content: &str,
    priority: Option<u16>,
) -> Result<Bytes, String> {
    parse_content(apex, owner, rtype, content, priority).map_err(|e| e.message)
}
