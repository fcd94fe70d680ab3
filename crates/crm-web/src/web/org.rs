//! The organisation settings as pages render them. Each instance keeps them for at most ten
//! seconds (and reloads at once after it saves them), so a change reaches every instance
//! within seconds. A request runs inside [`scope`], so `money()` and the date helpers — free
//! functions called from templates — write amounts in the organisation's currency and dates
//! in its format without every page passing the settings along.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crm_core::Db;
use crm_core::org::{self, OrgSettings};

tokio::task_local! {
    static CURRENT: Arc<OrgSettings>;
}

/// A copy of the settings and when it was read.
type Stamped = Option<(Instant, Arc<OrgSettings>)>;

/// This instance's copy.
#[derive(Clone, Default)]
pub struct OrgCache(Arc<RwLock<Stamped>>);

const FRESH: Duration = Duration::from_secs(10);

impl OrgCache {
    /// The settings, read again when older than ten seconds (or when `force`).
    pub async fn get(&self, db: &Db, force: bool) -> Arc<OrgSettings> {
        if !force
            && let Ok(guard) = self.0.read()
            && let Some((at, s)) = guard.as_ref()
            && at.elapsed() < FRESH
        {
            return s.clone();
        }
        match org::get(db).await {
            Ok(s) => {
                let s = Arc::new(s);
                if let Ok(mut guard) = self.0.write() {
                    *guard = Some((Instant::now(), s.clone()));
                }
                s
            }
            Err(e) => {
                tracing::warn!("organisation settings unavailable, using the last known: {e}");
                self.0
                    .read()
                    .ok()
                    .and_then(|g| g.as_ref().map(|(_, s)| s.clone()))
                    .unwrap_or_default()
            }
        }
    }
}

/// Run a request with the organisation's settings in reach of the template helpers, and
/// its time zone deciding what a day is (`crm_core::clock`).
pub async fn scope<F: std::future::Future>(settings: Arc<OrgSettings>, f: F) -> F::Output {
    let zone = settings.zone();
    CURRENT.scope(settings, crm_core::clock::in_zone(zone, f)).await
}

/// The first day of the current week, by the organisation's week start and time zone.
pub fn week_start() -> chrono::NaiveDate {
    current().week_of(crm_core::clock::today())
}

/// The organisation's time zone, as people read it: `UTC`, `America/New_York`.
pub fn zone_name() -> String {
    current().zone().name().to_string()
}

/// The settings of the request being served (defaults outside one, e.g. in unit tests).
pub fn current() -> Arc<OrgSettings> {
    CURRENT.try_with(|s| s.clone()).unwrap_or_default()
}

/// The middleware: every request runs with the settings of its instance's copy.
pub async fn layer(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let settings = state.org.get(&state.db, false).await;
    scope(settings, next.run(req)).await
}
