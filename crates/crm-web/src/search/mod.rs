//! Global search: `GET /api/search?q=&limit=` (grouped, scoped, true totals), the `/search`
//! results page (works without JS), and the ⌘K palette in app.js that calls the API.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use crm_core::search::{self, Results};

use crate::AppState;
use crate::http::error::{ApiResult, PageResult, envelope};
use crate::http::session::ApiActor;
use crate::web::{Chrome, PageCtx, html};

fn param(q: &[(String, String)], key: &str) -> String {
    q.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

pub async fn api(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    Query(q): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let limit = param(&q, "limit").parse::<u64>().unwrap_or(5);
    Ok(envelope(StatusCode::OK, {
        let (actor, text) = (&actor, param(&q, "q"));
        let text = &text;
        state
            .db
            .reading(actor, |db| async move { search::search(&db, actor, text, limit).await })
            .await?
    }))
}

#[derive(Template)]
#[template(path = "search/page.html")]
struct SearchPage {
    chrome: Chrome,
    q: String,
    results: Option<Results>,
}

impl SearchPage {
    fn groups(&self) -> Vec<(&'static str, &search::Group)> {
        match &self.results {
            Some(r) => vec![
                ("Contacts", &r.contacts),
                ("Companies", &r.companies),
                ("Deals", &r.deals),
                ("Tasks", &r.tasks),
                ("Activities", &r.activities),
            ],
            None => vec![],
        }
    }
}

pub async fn page(State(state): State<AppState>, ctx: PageCtx, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    let text = param(&q, "q");
    let results = if text.trim().is_empty() {
        None
    } else {
        {
            let (actor, text) = (&ctx.session.actor, &text);
            Some(
                state
                    .db
                    .reading(actor, |db| async move { search::search(&db, actor, text, 20).await })
                    .await?,
            )
        }
    };
    Ok(html(&SearchPage {
        chrome: Chrome::new(&ctx, "Search", ""),
        q: text,
        results,
    })
    .into_response())
}

/// This domain's JSON API routes (mounted under `/api/v1` and its alias `/api`).
pub fn api_routes() -> crate::http::api::Api {
    use crate::http::api::{Api, Doc, param};
    Api::new().get(
        "/search",
        Doc::new(
            "Search",
            "Search contacts, companies, deals, tasks and activities at once",
        )
        .query(&[
            param("q", "string", "The words to find."),
            param("limit", "integer", "Results per kind (default 5)."),
        ])
        .data::<crm_core::search::Results>(),
        api,
    )
}

/// This domain's pages.
pub fn page_routes() -> axum::Router<crate::AppState> {
    use axum::routing::get;
    axum::Router::new().route("/search", get(page))
}
