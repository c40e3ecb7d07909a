//! A tracked setup's JSON shape: what `coach setups list --json` prints and the AI coach's
//! tools return. Prices in the instrument's quote currency, instants in RFC 3339 UTC with
//! whole seconds (`2026-11-24T15:07:00Z`), `realised_r` in R and never NaN or infinite.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::TrackedSetup;

/// One setup as `coach setups list --json` prints it (a stable shape; the fields are
/// listed in `cli::setups`), and as the AI coach's tools return it.
#[derive(Debug, Serialize)]
pub struct SetupJson {
    pub id: i64,
    pub source_id: Option<i64>,
    pub symbol: String,
    pub kind: String,
    pub direction: String,
    pub entry: f64,
    pub stop: f64,
    pub target: f64,
    pub status: String,
    pub outcome: Option<String>,
    /// Where the attempt was filled and where it was closed (honest fills, SPEC 5).
    pub fill_price: Option<f64>,
    pub exit_price: Option<f64>,
    pub realised_r: Option<f64>,
    pub multi_day: bool,
    pub market_date: String,
    pub tracked_at: String,
    pub armed_at: String,
    pub triggered_at: Option<String>,
    pub invalidated_at: Option<String>,
    pub archived_at: Option<String>,
    pub resolved_at: Option<String>,
    pub updated_at: String,
    pub version: i64,
    pub notes: String,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl SetupJson {
    /// The JSON shape of `setup` with the trader's `notes`.
    pub fn new(setup: &TrackedSetup, notes: &str) -> Self {
        let s = setup;
        SetupJson {
            id: s.id,
            source_id: s.source_id,
            symbol: s.symbol.to_string(),
            kind: s.kind.as_str().into(),
            direction: s.direction.as_str().into(),
            entry: s.entry,
            stop: s.stop,
            target: s.target,
            status: s.status.as_str().into(),
            outcome: s.outcome.map(|o| o.as_str().into()),
            fill_price: s.fill_price.filter(|p| p.is_finite()),
            exit_price: s.exit_price.filter(|p| p.is_finite()),
            realised_r: s.realised_r.filter(|r| r.is_finite()),
            multi_day: s.multi_day,
            market_date: s.market_date.to_string(),
            tracked_at: rfc3339(s.tracked_at),
            armed_at: rfc3339(s.armed_at),
            triggered_at: s.triggered_at.map(rfc3339),
            invalidated_at: s.invalidated_at.map(rfc3339),
            archived_at: s.archived_at.map(rfc3339),
            resolved_at: s.resolved_at.map(rfc3339),
            updated_at: rfc3339(s.updated_at),
            version: s.version,
            notes: notes.to_string(),
        }
    }
}
