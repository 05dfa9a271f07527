//! The OpenAPI document of the API, generated from the handlers' annotations and served at
//! `GET /client/v4/openapi.json` (no token needed: it documents, it reveals nothing).
//!
//! The annotations list each operation's answer and the errors only it gives; the errors that
//! come from the shared layers are added to every operation they apply to by [`ErrorResponses`],
//! and every error answer refers to the one [`ErrorEnvelope`] schema.

use crate::envelope::ErrorEnvelope;
use axum::Json;
use utoipa::openapi::path::{HttpMethod, Operation, ParameterIn};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, Ref, Required, Response};
use utoipa::{Modify, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    info(title = "Tandem API", description = "Zones, records and zone transfers, shaped like the provider API"),
    paths(
        crate::accounts::list,
        crate::tokens::create_account,
        crate::tokens::list,
        crate::tokens::create,
        crate::tokens::delete,
        crate::tokens::verify,
        crate::tokens::verify_in_account,
        crate::transfers::peers::list,
        crate::transfers::peers::create,
        crate::transfers::peers::get,
        crate::transfers::peers::put,
        crate::transfers::peers::delete,
        crate::transfers::tsigs::list,
        crate::transfers::tsigs::create,
        crate::transfers::tsigs::get,
        crate::transfers::tsigs::put,
        crate::transfers::tsigs::delete,
        crate::transfers::acls::list,
        crate::transfers::acls::create,
        crate::transfers::acls::get,
        crate::transfers::acls::put,
        crate::transfers::acls::delete,
        crate::transfers::incoming::get,
        crate::transfers::incoming::create,
        crate::transfers::incoming::put,
        crate::transfers::incoming::delete,
        crate::transfers::incoming::force_axfr,
        crate::transfers::outgoing::get,
        crate::transfers::outgoing::create,
        crate::transfers::outgoing::put,
        crate::transfers::outgoing::delete,
        crate::transfers::outgoing::enable,
        crate::transfers::outgoing::disable,
        crate::transfers::outgoing::force_notify,
        crate::transfers::outgoing::status,
        crate::transfers::peer_serials::list,
        crate::zones::create,
        crate::zones::list,
        crate::zones::get,
        crate::zones::edit,
        crate::zones::delete,
        crate::pagerules::list,
        crate::records::list,
        crate::records::create,
        crate::records::get,
        crate::records::put,
        crate::records::patch,
        crate::records::delete,
        crate::batch::batch,
        crate::zonefile::import,
        crate::zonefile::export,
        serve,
    ),
    components(schemas(crate::envelope::ApiMessage, crate::envelope::ResultInfo, ErrorEnvelope)),
    modifiers(&BearerAuth, &ErrorResponses),
)]
struct ApiDoc;

/// Declares the `bearer` security scheme the paths refer to, and the provider's legacy pair
/// `X-Auth-Email` + `X-Auth-Key` ([`crate::auth`]) as the other way to give the same token:
/// every operation that takes the bearer token takes the pair instead.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "x_auth_email",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Auth-Email",
                "The provider's legacy header, sent with X-Auth-Key: any non-blank value (it \
                 names no one here). Both headers are needed; a bearer token, when given, \
                 decides instead.",
            ))),
        );
        components.add_security_scheme(
            "x_auth_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Auth-Key",
                "A Tandem API token, in the provider's legacy header (with X-Auth-Email).",
            ))),
        );
        let legacy = SecurityRequirement::new("x_auth_email", Vec::<String>::new())
            .add("x_auth_key", Vec::<String>::new());
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                if let Some(security) = operation.security.as_mut().filter(|s| !s.is_empty()) {
                    security.push(legacy.clone());
                }
            }
        }
    }
}

/// Adds to every operation the error answers of the layers every route shares (PRODUCT §3
/// "Errors"), going by what the operation is:
///
/// - 401 where a token is required ([`crate::auth::Caller`]: none, or not a valid one);
/// - 403 where that token changes something (every method but GET): a read token, or an
///   account's token where only the administrator's may act;
/// - 404 where the path names an object (`{zone_id}`, ...): it does not exist, belongs to
///   another account, or its id cannot be read ([`crate::envelope::ApiPath`]);
/// - 400 where a body must be given ([`crate::envelope::ApiJson`], the import's form) or a query
///   is read ([`crate::envelope::ApiQuery`]): the message names the bad field;
/// - 413 where a body is taken at all: the router refuses one over the route's limit
///   ([`crate::guard::declared_length`]).
///
/// None gives 415: JSON bodies are read whatever their declared type (so `curl -d` works), and
/// an import that is not a multipart form is a 400 naming `file`. None gives 405 either: that is
/// the answer for a method no operation has. Errors an annotation lists itself keep its
/// description; every error answer gets the [`ErrorEnvelope`] as `application/json`.
struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let names_object = path.contains('{');
            let operations = [
                (HttpMethod::Get, &mut item.get),
                (HttpMethod::Put, &mut item.put),
                (HttpMethod::Post, &mut item.post),
                (HttpMethod::Delete, &mut item.delete),
                (HttpMethod::Patch, &mut item.patch),
            ];
            for (method, operation) in operations {
                if let Some(operation) = operation {
                    add_errors(operation, method == HttpMethod::Get, names_object);
                }
            }
        }
    }
}

fn add_errors(operation: &mut Operation, read_only: bool, names_object: bool) {
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let body = operation.request_body.as_ref();
    let body_required = body.is_some_and(|b| b.required == Some(Required::True));
    let has_query = operation
        .parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == ParameterIn::Query);
    let shared = [
        (
            400,
            body_required || has_query,
            "the request is not valid: the message names the bad field, query parameter or \
             zone-file line",
        ),
        (401, secured, "no valid bearer token"),
        (
            403,
            secured && !read_only,
            "the token may not do this: a read token, or an account's token where only the \
             administrator's may act",
        ),
        (
            404,
            names_object,
            "no such object: it does not exist, or it belongs to another account",
        ),
        (413, body.is_some(), "the body is over the size limit"),
    ];
    let responses = &mut operation.responses.responses;
    for (status, applies, description) in shared {
        if applies {
            responses
                .entry(status.to_string())
                .or_insert_with(|| Response::new(description).into());
        }
    }
    let envelope = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(ErrorEnvelope::name())))
        .build();
    for (status, response) in responses.iter_mut() {
        let utoipa::openapi::RefOr::T(response) = response else {
            continue;
        };
        if status.starts_with('4') || status.starts_with('5') {
            response.content.clear();
            response
                .content
                .insert("application/json".to_string(), envelope.clone());
        }
    }
}

/// The OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// This document.
#[utoipa::path(get, path = "/client/v4/openapi.json", operation_id = "openapi_document", tag = "OpenAPI",
    responses((status = 200, description = "the OpenAPI 3.1 document of this API", content_type = "application/json", body = Object)))]
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi())
}
