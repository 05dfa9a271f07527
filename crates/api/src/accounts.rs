//! `GET /accounts`: the accounts a token may see (the administrator's sees all).

use crate::auth::Caller;
use crate::envelope::{ok_page, page_of, ApiQuery, Envelope};
use crate::{ApiError, ApiState};
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use tandem_store::format_time;
use utoipa::{IntoParams, ToSchema};

/// An account as the API shows it.
#[derive(Serialize, ToSchema, Debug)]
pub struct AccountOut {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub created_on: String,
}

/// Paging of the account list.
#[derive(Deserialize, IntoParams, Debug, Default)]
#[into_params(parameter_in = Query)]
pub struct AccountQuery {
    pub page: Option<String>,
    pub per_page: Option<String>,
}

#[utoipa::path(get, path = "/client/v4/accounts", operation_id = "accounts_list", tag = "Accounts", params(AccountQuery),
    responses((status = 200, body = Envelope<Vec<AccountOut>>)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AccountQuery>,
) -> Result<Response, ApiError> {
    let page = page_of(q.page.as_deref(), q.per_page.as_deref(), 20, 1000)?;
    state
        .run(move |s| {
            let visible: Vec<AccountOut> = s
                .store()
                .accounts()?
                .into_iter()
                .filter(|a| caller.sees(&a.id))
                .map(|a| AccountOut {
                    id: a.id,
                    name: a.name,
                    kind: "standard".into(),
                    created_on: format_time(a.created),
                })
                .collect();
            let total = visible.len() as u64;
            let start = usize::try_from(page.page.saturating_sub(1).saturating_mul(page.per_page))
                .unwrap_or(usize::MAX);
            let items = visible
                .into_iter()
                .skip(start)
                .take(usize::try_from(page.per_page).unwrap_or(usize::MAX))
                .collect();
            Ok(ok_page::<AccountOut>(items, page, total))
        })
        .await
}
