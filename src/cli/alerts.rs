//! `coach alerts list|add|remove`: the trader's price alerts (SPEC 17, 12).
//!
//! `list` prints a header line `id symbol condition state fired note` and one line per
//! alert, newest first (tab-separated; a move shows the price it is measured from, a
//! firing its New York time and price), or with `--json` one JSON
//! array of `{"id", "symbol", "condition", "level", "status", "repeat", "reference",
//! "created_at", "fired_at", "fired_price", "note"}` (stable; `condition` is the stored
//! kind: crosses_above, crosses_below, moves_pct, rel_volume_above, flip_cross,
//! wall_break (level: the percent), regime_change (level 0)).
//! `add SYMBOL above|below|move|relvol VALUE [--repeat] [--from PRICE] [--note TEXT]`, or
//! the gamma conditions of SPEC 20: `add SYMBOL flip_cross|regime_change` (no value) and
//! `add SYMBOL wall_break PCT` (percent of spot beyond the call or put wall),
//! prints the stored alert; a move alert needs `--from` (the price it moves from). Bad
//! input exits with code 2, names what is wrong and stores nothing. A running dashboard
//! or `coach serve` on the same database follows alerts added or removed here within 5
//! seconds; an alert on a symbol its feed does not quote gets prices from its next start,
//! and `add` says so on stderr when the symbol is on none of the feeds a coach is started
//! with. Alerts added in the dashboard (`A`) are evaluated at once.

use std::io::{self, Write};

use chrono::Utc;
use clap::{Args, Subcommand};
use serde::Serialize;

use super::CliError;
use super::dashboard::CommonArgs;
use super::setups::{with_config_store, with_store};
use crate::alerts::{Condition, PriceAlert};
use crate::domain::Symbol;
use crate::market::calendar::NEW_YORK;
use crate::store::{NewAlert, StoreError};

#[derive(Debug, Args)]
pub struct AlertsArgs {
    #[command(subcommand)]
    pub command: AlertsCommand,
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Print every alert, newest first.
    List {
        /// A JSON array instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Set an alert: `coach alerts add SPY above 450.5 --note "call wall"`,
    /// `coach alerts add SPX flip_cross`, `coach alerts add SPY wall_break 0.1`.
    Add {
        symbol: String,
        /// above, below, move, relvol, wall_break; flip_cross or regime_change (no value).
        condition: String,
        /// The price (above/below), the move in percent (move, e.g. 2%), the relative
        /// volume (relvol, e.g. 3), the break beyond a GEX wall in percent of spot
        /// (wall_break, e.g. 0.1); none for flip_cross and regime_change.
        #[arg(allow_negative_numbers = true)]
        value: Option<String>,
        /// Stay armed after firing (fire again on the next crossing).
        #[arg(long)]
        repeat: bool,
        /// The price a move is measured from (required for move), and the previous price
        /// a crossing is judged against before the first quote.
        #[arg(long, value_name = "PRICE")]
        from: Option<f64>,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Remove alerts by id; prints each alert removed.
    Remove {
        #[arg(required = true, value_name = "ID")]
        ids: Vec<i64>,
    },
}

#[derive(Serialize)]
struct AlertJson<'a> {
    id: i64,
    symbol: &'a str,
    condition: &'static str,
    level: f64,
    status: &'static str,
    repeat: bool,
    reference: Option<f64>,
    created_at: String,
    fired_at: Option<String>,
    fired_price: Option<f64>,
    note: &'a str,
}

fn store_error(e: StoreError) -> CliError {
    match e {
        StoreError::Invalid(_) | StoreError::NotFound(_) => CliError::Input(e.to_string()),
        e => CliError::Runtime(e.to_string()),
    }
}

/// The alert `add` describes, validated; nothing is stored on an error.
pub fn new_alert(
    symbol: &str,
    condition: &str,
    value: Option<&str>,
    repeat: bool,
    from: Option<f64>,
    note: &str,
) -> Result<NewAlert, CliError> {
    let symbol = Symbol::parse(symbol).map_err(|e| CliError::Input(e.to_string()))?;
    let condition = Condition::parse(condition, value.unwrap_or(""))
        .map_err(|e| CliError::Input(e.to_string()))?;
    if let Some(p) = from.filter(|p| !(p.is_finite() && *p > 0.0)) {
        return Err(CliError::Input(format!(
            "--from {p} is not a price above 0"
        )));
    }
    if matches!(condition, Condition::MovesPercent(_)) && from.is_none() {
        return Err(CliError::Input(
            "a move alert needs --from PRICE (the price it moves from)".into(),
        ));
    }
    Ok(NewAlert {
        symbol,
        condition,
        note: note.to_string(),
        repeat,
        reference: from,
    })
}

pub fn run(args: AlertsArgs, common: &CommonArgs) -> Result<(), CliError> {
    let text = match args.command {
        AlertsCommand::List { json } => {
            let alerts = with_store(common, |store, user| async move {
                store.alerts(user).await.map_err(store_error)
            })?;
            if json {
                to_json(&alerts)?
            } else {
                format!("{HEADER}{}", to_text(&alerts))
            }
        }
        AlertsCommand::Add {
            symbol,
            condition,
            value,
            repeat,
            from,
            note,
        } => {
            let alert = new_alert(&symbol, &condition, value.as_deref(), repeat, from, &note)?;
            let config = common.load_config()?;
            let (stored, on_feed) = with_config_store(&config, |store, user| async move {
                // What a coach started before now quotes besides the configured symbols:
                // the default watchlist (the dashboard) and the armed alerts (both).
                let mut on_feed = store.alert_symbols(user).await.map_err(store_error)?;
                let lists = store.watchlists(user).await.map_err(store_error)?;
                on_feed.extend(
                    lists
                        .into_iter()
                        .filter(|w| w.is_default)
                        .flat_map(|w| w.symbols),
                );
                let stored = store
                    .add_alert(user, &alert, Utc::now())
                    .await
                    .map_err(store_error)?;
                Ok((stored, on_feed))
            })?;
            if config.general.provider == "sim" {
                // The simulation quotes its own universe only (`[sim] symbols`), watched or
                // not (issue 22 item 8).
                use crate::provider::coverage::{sim_no_data_message, without_data};
                let alone = std::slice::from_ref(&stored.symbol);
                let missing = without_data(&config.sim.symbols, alone);
                if let Some(message) = sim_no_data_message(&missing) {
                    eprintln!("note: {message}: this alert waits for a feed that quotes it");
                }
            } else if !config.sim.symbols.contains(&stored.symbol)
                && !on_feed.contains(&stored.symbol)
            {
                eprintln!(
                    "note: {} is on no feed a coach starts with (configured symbols, default \
                     watchlist, armed alerts): a dashboard or `coach serve` already running \
                     judges this alert from its next start",
                    stored.symbol
                );
            }
            to_text(&[stored])
        }
        AlertsCommand::Remove { ids } => {
            let removed = with_store(common, |store, user| async move {
                let mut found = Vec::with_capacity(ids.len());
                for id in &ids {
                    match store.alert(user, *id).await.map_err(store_error)? {
                        Some(alert) => found.push(alert),
                        None => {
                            return Err(CliError::Input(format!(
                                "alert {id} not found; nothing removed"
                            )));
                        }
                    }
                }
                for id in &ids {
                    store.remove_alert(user, *id).await.map_err(store_error)?;
                }
                Ok(found)
            })?;
            removed_text(&removed)
        }
    };
    io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| CliError::Runtime(format!("cannot write to stdout: {e}")))
}

/// The tab-separated header of `list` (SPEC 12).
const HEADER: &str = "id\tsymbol\tcondition\tstate\tfired\tnote\n";

/// One tab-separated line per alert (`list` puts [`HEADER`] above them); times in New
/// York, as on the screen.
fn to_text(alerts: &[PriceAlert]) -> String {
    let mut out = String::new();
    for a in alerts {
        let fired = match (a.fired_at, a.fired_price) {
            (Some(at), Some(p)) => format!(
                "{} ET @ {p:.2}",
                at.with_timezone(&NEW_YORK).format("%Y-%m-%d %H:%M:%S")
            ),
            _ => "-".into(),
        };
        let status = if a.repeat {
            format!("{} (repeat)", a.status.as_str())
        } else {
            a.status.as_str().to_string()
        };
        out.push_str(&format!(
            "{}\t{}\t{}\t{status}\t{fired}\t{}\n",
            a.id,
            a.symbol,
            a.condition_text(),
            crate::text::printable(&a.note).replace(['\t', '\n', '\r'], " ")
        ));
    }
    out
}

/// `removed alert 3: SPY crosses above 450.50 (call wall)`, one line per alert.
fn removed_text(alerts: &[PriceAlert]) -> String {
    alerts
        .iter()
        .map(|a| {
            let note = crate::text::printable(a.note.trim());
            let note = if note.is_empty() {
                String::new()
            } else {
                format!(" ({note})")
            };
            format!(
                "removed alert {}: {} {}{note}\n",
                a.id,
                a.symbol,
                a.condition_text()
            )
        })
        .collect()
}

fn to_json(alerts: &[PriceAlert]) -> Result<String, CliError> {
    let rfc = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let rows: Vec<AlertJson> = alerts
        .iter()
        .map(|a| AlertJson {
            id: a.id,
            symbol: a.symbol.as_str(),
            condition: a.condition.kind(),
            level: a.condition.value(),
            status: a.status.as_str(),
            repeat: a.repeat,
            reference: a.reference,
            created_at: rfc(a.created_at),
            fired_at: a.fired_at.map(rfc),
            fired_price: a.fired_price,
            note: &a.note,
        })
        .collect();
    crate::json_round::rounded(&rows)
        .and_then(|v| serde_json::to_string(&v))
        .map(|mut s| {
            s.push('\n');
            s
        })
        .map_err(|e| CliError::Runtime(format!("cannot write JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_firing_is_listed_in_new_york_time_with_its_price_to_the_cent() {
        let fired = Utc.with_ymd_and_hms(2026, 7, 1, 14, 31, 5).unwrap();
        let alert = PriceAlert {
            id: 4,
            symbol: Symbol::parse("NDX").unwrap(),
            condition: Condition::CrossesAbove(25123.45),
            note: "wall\tbreak".into(),
            status: crate::alerts::AlertStatus::Fired,
            repeat: false,
            reference: None,
            created_at: fired,
            fired_at: Some(fired),
            fired_price: Some(25123.5),
        };
        assert_eq!(
            to_text(&[alert]),
            "4\tNDX\tcrosses above 25123.45\tfired\t2026-07-01 10:31:05 ET @ 25123.50\twall break\n"
        );
    }

    #[test]
    fn add_validates_everything_before_touching_the_store() {
        assert!(new_alert("spy", "above", Some("450.5"), false, None, "").is_ok());
        let bad = |r: Result<NewAlert, CliError>| r.unwrap_err().to_string();
        assert!(bad(new_alert("S P Y", "above", Some("1"), false, None, "")).contains("S P Y"));
        assert!(bad(new_alert("SPY", "near", Some("1"), false, None, "")).contains("near"));
        assert!(bad(new_alert("SPY", "move", Some("2%"), false, None, "")).contains("--from"));
        assert!(
            bad(new_alert("SPY", "above", Some("1"), false, Some(-1.0), "")).contains("--from")
        );
        // The gamma conditions of SPEC 20: two take no value, one a percent.
        assert!(new_alert("SPX", "flip_cross", None, false, None, "").is_ok());
        assert!(new_alert("SPX", "regime_change", None, true, None, "").is_ok());
        assert!(new_alert("SPY", "wall_break", Some("0.1"), false, None, "").is_ok());
        assert!(
            bad(new_alert("SPY", "wall_break", None, false, None, "")).contains("wall_break needs")
        );
        assert!(
            bad(new_alert(
                "SPX",
                "flip_cross",
                Some("6850"),
                false,
                None,
                ""
            ))
            .contains("takes no value")
        );
        assert!(
            bad(new_alert("SPY", "wall_break", Some("20"), false, None, ""))
                .contains("from 0 to 10")
        );
    }
}
