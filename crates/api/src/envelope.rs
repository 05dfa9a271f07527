//! The provider's response envelope, API errors, and extractors whose rejections use it
//! (PRODUCT §3 "API conventions").

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tandem_store::{Page, StoreError};
use utoipa::ToSchema;

/// Every answer: `{"success","errors","messages","result"}`, plus `result_info` on lists.
#[derive(Serialize, ToSchema)]
pub struct Envelope<T> {
    pub success: bool,
    pub errors: Vec<ApiMessage>,
    pub messages: Vec<ApiMessage>,
    pub result: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_info: Option<ResultInfo>,
}

/// One error or message of an envelope.
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct ApiMessage {
    pub code: u32,
    pub message: String,
}

// PRODUCT §3 "Errors". [`ApiError`] renders itself as this, so the documented schema is what
// is sent; the doc comment below is the schema's description in the OpenAPI document.
/// The answer to every refused or failed request: `success` false, at least one error, and a
/// null `result`.
#[derive(Serialize, ToSchema, Debug)]
pub struct ErrorEnvelope {
    /// Always false.
    #[schema(schema_with = always_false)]
    pub success: bool,
    /// What went wrong: a code and a message naming the bad field, object or line.
    #[schema(min_items = 1)]
    pub errors: Vec<ApiMessage>,
    pub messages: Vec<ApiMessage>,
    /// Always null.
    #[schema(schema_with = always_null)]
    pub result: (),
}

fn always_false() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::Boolean)
        .enum_values(Some([false]))
        .build()
}

fn always_null() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::Null)
        .build()
}

/// Where a page sits in a list.
#[derive(Serialize, ToSchema, Debug, Clone, Copy)]
pub struct ResultInfo {
    pub page: u64,
    pub per_page: u64,
    /// Items on this page.
    pub count: u64,
    pub total_count: u64,
    pub total_pages: u64,
}

/// A successful answer.
pub fn ok<T: Serialize>(result: T) -> Response {
    Json(Envelope {
        success: true,
        errors: vec![],
        messages: vec![],
        result,
        result_info: None,
    })
    .into_response()
}

/// A successful page of a list.
pub fn ok_page<T: Serialize>(items: Vec<T>, page: Page, total: u64) -> Response {
    let info = ResultInfo {
        page: page.page,
        per_page: page.per_page,
        count: items.len() as u64,
        total_count: total,
        total_pages: total.div_ceil(page.per_page.max(1)),
    };
    Json(Envelope {
        success: true,
        errors: vec![],
        messages: vec![],
        result: items,
        result_info: Some(info),
    })
    .into_response()
}

/// A successful list answered whole, as one page (the provider's unpaginated lists).
pub fn ok_list<T: Serialize>(items: Vec<T>) -> Response {
    let total = items.len() as u64;
    let page = Page {
        page: 1,
        per_page: total.max(1),
    };
    ok_page(items, page, total)
}

/// Error codes in the envelope, in the provider's style.
pub mod code {
    pub const INTERNAL: u32 = 1000;
    pub const NOT_FOUND: u32 = 1003;
    pub const VALIDATION: u32 = 1004;
    pub const METHOD: u32 = 1005;
    pub const TOO_LARGE: u32 = 1006;
    pub const FORBIDDEN: u32 = 9109;
    pub const AUTH: u32 = 10000;
    /// The provider's DNS record codes, which certbot and lexicon look for.
    pub const RECORD_NOT_FOUND: u32 = 81044;
    /// A CNAME cannot go where other records are (or the name has one already).
    pub const CNAME_BESIDE_OTHERS: u32 = 81053;
    /// Other records cannot go where a CNAME is.
    pub const CNAME_EXISTS: u32 = 81054;
    pub const IDENTICAL_RECORD: u32 = 81058;
}

/// A refused or failed request; rendered as an envelope with `success: false`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: u32,
    pub message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400: the message names the bad field or zone-file line.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code::VALIDATION, message)
    }

    /// 400 with one of the provider's record codes.
    pub fn record_conflict(code: u32, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404 for a record (81044, as the provider answers).
    pub fn record_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            code::RECORD_NOT_FOUND,
            format!("record {id} not found"),
        )
    }

    /// 400 for one field: `"<field>: <message>"`.
    pub fn field(field: &str, message: impl std::fmt::Display) -> Self {
        Self::bad_request(format!("{field}: {message}"))
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            code::AUTH,
            "Authentication error: a valid token is required (Authorization: Bearer TOKEN, \
             or X-Auth-Email with X-Auth-Key: TOKEN)",
        )
    }

    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            code::FORBIDDEN,
            "this token may not change anything",
        )
    }

    /// 403 for what only the administrator token may do.
    pub fn admin_only(what: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            code::FORBIDDEN,
            format!("only the administrator token may {what}"),
        )
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code::NOT_FOUND, message)
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            code::METHOD,
            "method not allowed on this path",
        )
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, code::TOO_LARGE, message)
    }

    pub fn internal(message: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {message}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            code::INTERNAL,
            format!("internal error: {message}"),
        )
    }

    /// Prefixes the message, to say which item of a batch it is about.
    pub fn within(mut self, prefix: &str) -> Self {
        self.message = format!("{prefix}: {}", self.message);
        self
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::ZoneExists(name) => {
                ApiError::field("name", format!("a zone named {name} already exists"))
            }
            e @ StoreError::ZoneNestsForeign(_) => ApiError::field("name", e.to_string()),
            StoreError::NotFound { what, id } => {
                ApiError::not_found(format!("{what} {id} not found"))
            }
            StoreError::Rejected { field, message } => ApiError::field(&field, message),
            StoreError::Conflict(message) => ApiError::bad_request(message),
            other if tandem_store::reserve::is_disk_full(&other) => ApiError::internal(
                "the store cannot write: the data dir's file system is full; nothing was \
                     changed (free space there and retry)",
            ),
            other => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorEnvelope {
            success: false,
            errors: vec![ApiMessage {
                code: self.code,
                message: self.message,
            }],
            messages: vec![],
            result: (),
        };
        (self.status, Json(body)).into_response()
    }
}

/// A JSON body. Read whatever the content type, so `curl -d` works; a rejection is a 400 that
/// names the field (`ttl: invalid type ...`), or 413 past the body limit.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| body_error(e.status(), e.body_text()))?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Deserializes a JSON body, naming the path of the first bad field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::field("body", "a JSON object is required"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "body".to_string()
        } else {
            path
        };
        ApiError::field(&field, e.into_inner())
    })?;
    // A body is one JSON value: `{..}xyz` or two objects in a row would otherwise be taken
    // for their first value, and the rest silently dropped.
    de.end()
        .map_err(|e| ApiError::field("body", format!("more than one JSON value: {e}")))?;
    Ok(value)
}

/// For fields that have a default: `null` means the same as leaving the field out.
pub fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de> + Default,
{
    use serde::Deserialize;
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

/// Maps a failure to read a body to our envelope.
pub fn body_error(status: StatusCode, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large(format!("body: {text}"))
    } else {
        ApiError::field("body", text)
    }
}

/// The parameters of a path (`/zones/{zone_id}`). A value that cannot be read (a
/// percent-encoded id that is not UTF-8) names no object: 404 in the envelope, like any other
/// id that does not exist, rather than axum's plain-text 400.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(p)| ApiPath(p))
            .map_err(|e| {
                if e.status().is_server_error() {
                    ApiError::internal(e.body_text())
                } else {
                    ApiError::not_found(e.body_text())
                }
            })
    }
}

/// A query string; a rejection is a 400 envelope.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| ApiQuery(q))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

/// The parameters a list endpoint knows; any other is refused rather than ignored.
pub trait KnownParams {
    /// Every parameter the endpoint reads.
    const KNOWN: &'static [&'static str];

    /// Why a parameter the provider documents but we do not take yet is refused, if it is one.
    fn unsupported(_key: &str) -> Option<&'static str> {
        None
    }
}

/// A query string whose every key the endpoint knows: an unknown key is a 400 naming it, never
/// a silently wider list. Otherwise like [`ApiQuery`].
pub struct StrictQuery<T>(pub T);

impl<T: DeserializeOwned + KnownParams, S: Send + Sync> FromRequestParts<S> for StrictQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(pairs) = Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        for (key, _) in &pairs {
            if let Some(why) = T::unsupported(key) {
                return Err(ApiError::field(key, why));
            }
            if !T::KNOWN.contains(&key.as_str()) {
                return Err(ApiError::field(
                    key,
                    format!(
                        "unknown query parameter; this endpoint takes {}",
                        T::KNOWN.join(", ")
                    ),
                ));
            }
        }
        let ApiQuery(q) = ApiQuery::<T>::from_request_parts(parts, state).await?;
        Ok(StrictQuery(q))
    }
}

/// Reads `page` and `per_page` (given as text so a bad value is named), with defaults.
pub fn page_of(
    page: Option<&str>,
    per_page: Option<&str>,
    default_per_page: u64,
    max_per_page: u64,
) -> Result<Page, ApiError> {
    let number = |field: &str, text: Option<&str>, default: u64| -> Result<u64, ApiError> {
        match text.map(str::trim) {
            None | Some("") => Ok(default),
            Some(t) => match t.parse::<u64>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(ApiError::field(
                    field,
                    "must be a whole number of 1 or more",
                )),
            },
        }
    };
    Ok(Page {
        page: number("page", page, 1)?,
        per_page: number("per_page", per_page, default_per_page)?.min(max_per_page),
    })
}

/// Answers for paths under the API that do not exist.
pub async fn no_route() -> ApiError {
    ApiError::not_found("no such API path")
}

/// Answers for a known path with the wrong method.
pub async fn wrong_method() -> ApiError {
    ApiError::method_not_allowed()
}
