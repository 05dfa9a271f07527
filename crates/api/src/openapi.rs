//! The OpenAPI document of the API, generated from the handlers' annotations and served at
//! `GET /client/v4/openapi.json` (no token needed: it documents, it reveals nothing).

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Tandem API", description = "Zones, records and zone transfers, shaped like the provider API"),
    paths(
        crate::accounts::list,
        crate::tokens::create_account,
        crate::tokens::list,
        crate::tokens::create,
        crate::tokens::delete,
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
        crate::zones::delete,
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
    components(schemas(crate::envelope::ApiMessage, crate::envelope::ResultInfo)),
    modifiers(&BearerAuth),
)]
struct ApiDoc;

/// Declares the `bearer` security scheme the paths refer to.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
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
