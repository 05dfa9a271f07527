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

pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi())
}
