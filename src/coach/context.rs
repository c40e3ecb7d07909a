//! The tools' implementations (the shell): each reads the same live state the dashboard
//! shows — the market bus, the GEX board, the store — so an answer's numbers are the
//! numbers on the screen. Used by the Coach pane (the dashboard's running workers) and by
//! `coach ask` (which starts the workers itself).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::setup_stats::{StatsFilter, stats_json};
use super::tools::ToolRequest;
use crate::detect::config::DetectorsConfig;
use crate::domain::Symbol;
use crate::gex::display::abbreviate_dollars;
use crate::gex::{ExpiryFilter, GexProfile};
use crate::market::calendar;
use crate::provider::MarketSnapshot;
use crate::runtime::AppEvent;
use crate::runtime::brief::{BriefScheduler, MarketView};
use crate::runtime::bus::MarketBus;
use crate::runtime::gex::{GexChannels, GexRequest};
use crate::runtime::setup_changes::{SetupChange, SetupChanges};
use crate::setups::scanner;
use crate::setups::{SetupJson, StatusFilter};
use crate::store::{Store, StoredDetection, TrackResult, UserId};

/// Asks the trader a yes/no question (`track_setup`); resolves to their answer.
pub type Confirmer = Arc<dyn Fn(String) -> BoxFuture<'static, bool> + Send + Sync>;

/// How long a tool waits for the GEX worker to compute a profile it was asked for.
const GEX_WAIT: Duration = Duration::from_secs(10);
/// Strikes of the profile sent to the model: the nearest to spot (the rest is noise to it).
const STRIKES_NEAR_SPOT: usize = 12;
/// Detections and setups listed at most.
const MAX_ROWS: usize = 20;

#[derive(Clone)]
pub struct CoachContext {
    pub store: Store,
    pub user: UserId,
    pub bus: MarketBus,
    pub gex: GexChannels,
    /// Whether the provider has options chains (only the simulation does).
    pub has_chains: bool,
    pub detectors: DetectorsConfig,
    pub changes: SetupChanges,
    /// The screen, told about a setup the coach tracked (`None` for `coach ask`).
    pub ui: Option<mpsc::Sender<AppEvent>>,
    /// Builds the morning brief when none is stored yet; `Err` says why it cannot
    /// (the economic calendar file failed to load).
    pub briefs: Result<BriefScheduler, String>,
    pub confirm: Confirmer,
}

impl CoachContext {
    /// Runs a validated tool; `Err` is the reason, returned to the model as the result.
    pub async fn run(&self, request: &ToolRequest) -> Result<Value, String> {
        match request {
            ToolRequest::GammaExposure { symbol, filter } => {
                let profile = self.gex_profile(symbol, *filter).await?;
                Ok(gex_json(&profile, *filter))
            }
            ToolRequest::ScanOpportunities { symbols } => self.scan(symbols.as_deref()).await,
            ToolRequest::MorningBrief => self.morning_brief().await,
            ToolRequest::ListTrackedSetups { filter } => self.tracked(*filter).await,
            ToolRequest::KeyLevels { symbol } => self.key_levels(symbol).await,
            ToolRequest::TrackSetup { detection_id } => self.track(*detection_id).await,
            ToolRequest::SetupStats { kind, symbol, hour } => {
                let filter = StatsFilter {
                    kind: *kind,
                    symbol: symbol.clone(),
                    hour: *hour,
                };
                self.setup_stats(&filter).await
            }
        }
    }

    async fn market(&self) -> Result<Arc<MarketSnapshot>, String> {
        self.bus
            .snapshot()
            .await
            .ok_or_else(|| "no market feed is running".to_string())
    }

    fn quoted<'a>(
        snapshot: &'a MarketSnapshot,
        symbol: &Symbol,
    ) -> Result<&'a crate::provider::SymbolSnapshot, String> {
        snapshot
            .symbols
            .iter()
            .find(|s| &s.symbol == symbol)
            .ok_or_else(|| {
                format!(
                    "{symbol} is not quoted by this market feed; it quotes {}",
                    snapshot
                        .symbols
                        .iter()
                        .map(|s| s.symbol.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }

    /// The board's profile, or one the GEX worker is asked to compute now.
    pub async fn gex_profile(
        &self,
        symbol: &Symbol,
        filter: ExpiryFilter,
    ) -> Result<Arc<GexProfile>, String> {
        let key = (symbol.clone(), filter);
        let mut board = self.gex.subscribe();
        if let Some(p) = board.borrow_and_update().get(&key) {
            return Ok(p.clone());
        }
        if !self.has_chains {
            return Err("this market data provider has no options chains, so no GEX".into());
        }
        let snapshot = self.market().await?;
        Self::quoted(&snapshot, symbol)?;
        self.gex
            .requests
            .try_send(GexRequest {
                symbol: symbol.clone(),
                filter,
                force: false,
            })
            .map_err(|_| "the GEX worker is busy or not running".to_string())?;
        let wait = async {
            loop {
                if board.changed().await.is_err() {
                    return None;
                }
                if let Some(p) = board.borrow_and_update().get(&key) {
                    return Some(p.clone());
                }
            }
        };
        match tokio::time::timeout(GEX_WAIT, wait).await {
            Ok(Some(p)) => Ok(p),
            _ => Err(format!(
                "no GEX profile for {symbol} ({filter}): the chain has no usable contract \
                 under this filter, or {symbol} has no price yet"
            )),
        }
    }

    async fn today(&self) -> Result<(Arc<MarketSnapshot>, Vec<StoredDetection>), String> {
        let snapshot = self.market().await?;
        let detections = self
            .store
            .detections_on(snapshot.session.date)
            .await
            .map_err(|e| e.to_string())?;
        Ok((snapshot, detections))
    }

    async fn watchlist(&self) -> Result<Vec<Symbol>, String> {
        self.store
            .default_watchlist(self.user, Utc::now())
            .await
            .map(|w| w.symbols)
            .map_err(|e| e.to_string())
    }

    async fn scan(&self, symbols: Option<&[Symbol]>) -> Result<Value, String> {
        let symbols = match symbols {
            Some(s) => s.to_vec(),
            None => self.watchlist().await?,
        };
        let (snapshot, mut detections) = self.today().await?;
        detections.retain(|d| symbols.contains(&d.detection.symbol));
        detections.sort_by_key(|d| std::cmp::Reverse(d.detection.confidence));
        let engine = crate::runtime::detect::prime(&self.detectors, &snapshot)
            .map(|(engine, _)| engine)
            .ok();
        let signals: Vec<Value> = symbols
            .iter()
            .filter_map(|symbol| {
                let market = engine.as_ref()?.market(symbol)?;
                let price = market.last_bar()?.close;
                let levels: Vec<(&'static str, f64)> =
                    market.levels().iter().map(|(id, p)| (id.label(), p)).collect();
                scanner::near_level(symbol, price, &levels)
            })
            .map(|s| json!({"symbol": s.symbol.as_str(), "signal": s.describe(), "direction": s.direction.as_str(), "score": s.score}))
            .collect();
        Ok(json!({
            "session_date": snapshot.session.date.to_string(),
            "market_time": snapshot.now.to_rfc3339(),
            "symbols": symbols.iter().map(Symbol::as_str).collect::<Vec<_>>(),
            "detections": detections.iter().take(MAX_ROWS).map(detection_json).collect::<Vec<_>>(),
            "detections_total": detections.len(),
            "signals": signals,
        }))
    }

    /// The day's stored brief (what the Brief pane shows), or, before the scheduler has
    /// stored one, the same builder's brief of the live market now (not stored: storing
    /// is the scheduler's, at `[brief] at`).
    async fn morning_brief(&self) -> Result<Value, String> {
        let snapshot = self.market().await?;
        let date = calendar::ny_date(snapshot.now);
        let stored = self
            .store
            .brief(self.user, date)
            .await
            .map_err(|e| e.to_string())?;
        let (source, brief) = match stored {
            Some(s) => ("stored", s.brief),
            None => {
                let mut scheduler = self.briefs.clone()?;
                let market = MarketView {
                    snapshot: snapshot.clone(),
                    gex: self.gex.board.borrow().clone(),
                };
                let brief = scheduler.build(snapshot.now, None, &market).await?;
                ("built now from the live market (not stored yet)", brief)
            }
        };
        Ok(json!({"source": source, "brief": brief}))
    }

    async fn tracked(&self, filter: StatusFilter) -> Result<Value, String> {
        let rows = self
            .store
            .setups(self.user, filter.status())
            .await
            .map_err(|e| e.to_string())?;
        let list: Vec<SetupJson> = rows
            .iter()
            .take(MAX_ROWS)
            .map(|row| SetupJson::new(&row.setup, &row.notes))
            .collect();
        Ok(json!({"status": filter.as_str(), "total": rows.len(), "setups": list}))
    }

    /// The journal's statistics (from the store, now) and the stored backtest's.
    async fn setup_stats(&self, filter: &StatsFilter) -> Result<Value, String> {
        let setups = crate::runtime::journal_stats::load(&self.store, self.user)
            .await
            .map_err(|e| e.to_string())?;
        let journal = crate::stats::journal::journal(&setups, Default::default());
        let backtest = self.stored_backtest().await?;
        Ok(stats_json(filter, &journal, backtest.as_deref()))
    }

    /// The stored backtest statistics (`coach backtest --store` or the scheduled run);
    /// `None` while none are stored.
    async fn stored_backtest(&self) -> Result<Option<Vec<crate::stats::GroupRow>>, String> {
        self.store
            .latest_backtest_stats()
            .await
            .map(|stored| stored.map(|s| s.rows))
            .map_err(|e| format!("reading the stored backtest statistics failed: {e}"))
    }

    async fn key_levels(&self, symbol: &Symbol) -> Result<Value, String> {
        let snapshot = self.market().await?;
        let quoted = Self::quoted(&snapshot, symbol)?;
        let (engine, _) = crate::runtime::detect::prime(&self.detectors, &snapshot)?;
        let market = engine
            .market(symbol)
            .ok_or_else(|| format!("{symbol} has no bars yet"))?;
        let levels: Vec<Value> = market
            .levels()
            .iter()
            .map(|(id, price)| json!({"label": id.label(), "price": round2(price)}))
            .collect();
        let gex = self
            .gex
            .board
            .borrow()
            .get(&(symbol.clone(), ExpiryFilter::All))
            .map(|p| {
                json!({
                    "zero_gamma_flip": p.zero_gamma.map(round2),
                    "call_wall": p.call_wall,
                    "put_wall": p.put_wall,
                    "max_gex_strike": p.max_gex_strike,
                    "regime": p.regime,
                })
            });
        Ok(json!({
            "symbol": symbol.as_str(),
            "market_time": snapshot.now.to_rfc3339(),
            "last_price": quoted.last.as_ref().map(|q| q.price),
            "prior_close": quoted.prior_close,
            "vwap": market.vwap().map(|v| round2(v.vwap)),
            "session_high_low": market.session_high_low().map(|(h, l)| [h, l]),
            "daily_atr": market.daily_atr().map(round2),
            "levels": levels,
            "gamma": gex,
        }))
    }

    async fn track(&self, detection_id: i64) -> Result<Value, String> {
        let (snapshot, detections) = self.today().await?;
        let detection = detections
            .into_iter()
            .find(|d| d.id == detection_id)
            .ok_or_else(|| {
                format!(
                    "there is no detection {detection_id} in today's session ({}); \
                     scan_opportunities lists today's ids",
                    snapshot.session.date
                )
            })?;
        let d = &detection.detection;
        // SPEC 5: a plan whose target or stop already traded is not tracked (the trader is
        // not even asked); one whose entry passed is, with the warning.
        let verdict = crate::runtime::evaluate::judge_track(&snapshot, d);
        if let Some(reason) = verdict.refusal() {
            return Ok(json!({
                "tracked": false,
                "detection_id": detection_id,
                "reason": format!("{reason}; nothing was changed"),
            }));
        }
        let warning = verdict.warning();
        let question = format!(
            "Track {} {} {} — entry {:.2}, stop {:.2}, target {:.2} (detection {detection_id})?{}",
            d.symbol,
            d.kind.as_str(),
            d.direction.as_str(),
            d.entry,
            d.stop,
            d.target,
            warning
                .as_deref()
                .map_or_else(String::new, |w| format!(" Note: {w}."))
        );
        if !(self.confirm)(question).await {
            return Ok(json!({
                "tracked": false,
                "detection_id": detection_id,
                "reason": "the trader declined; nothing was changed",
            }));
        }
        let result = self
            .store
            .track_judged(
                self.user,
                &detection,
                false,
                snapshot.now,
                crate::store::TRADER_ACTOR,
                &verdict,
            )
            .await
            .map_err(|e| e.to_string());
        if let Ok(tracked) = &result {
            self.changes
                .publish(SetupChange::written(self.user, tracked.row().clone()));
        }
        if let Some(ui) = &self.ui {
            let event = AppEvent::Tracked {
                detection_id,
                result: result.clone(),
            };
            if ui.send(event).await.is_err() {
                tracing::debug!("the screen closed before a coach track result");
            }
        }
        let result = result?;
        let tracked = matches!(result, TrackResult::Tracked(_));
        let mut answer = json!({
            "tracked": tracked,
            "already_tracked": matches!(result, TrackResult::AlreadyTracked(_)),
            "setup": SetupJson::new(&result.row().setup, &result.row().notes),
        });
        if let Some(warning) = warning.filter(|_| tracked) {
            let s = &result.row().setup;
            let notice = format!("tracked {} {}: {warning}", s.symbol, s.kind);
            // The status line on the screen; the log (stderr) for `coach ask`.
            match &self.ui {
                Some(ui) => {
                    if ui.send(AppEvent::Notice(notice)).await.is_err() {
                        tracing::debug!("the screen closed before a coach track warning");
                    }
                }
                None => tracing::warn!("{notice}"),
            }
            answer["warning"] = json!(warning);
        }
        Ok(answer)
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn detection_json(s: &StoredDetection) -> Value {
    let d = &s.detection;
    json!({
        "id": s.id,
        "symbol": d.symbol.as_str(),
        "setup": d.kind.as_str(),
        "direction": d.direction.as_str(),
        "score": d.confidence,
        "entry": d.entry,
        "stop": d.stop,
        "target": d.target,
        "reward_risk": round2(d.reward_risk()),
        "detected_at": d.detected_at.to_rfc3339(),
        "rationale": d.rationale,
    })
}

/// The profile as the model gets it: the summary fields, the flip's distance from spot,
/// and only the strikes nearest spot.
pub fn gex_json(p: &GexProfile, filter: ExpiryFilter) -> Value {
    let mut near: Vec<_> = p.strikes.iter().collect();
    near.sort_by(|a, b| {
        (a.strike - p.spot)
            .abs()
            .total_cmp(&(b.strike - p.spot).abs())
    });
    near.truncate(STRIKES_NEAR_SPOT);
    near.sort_by(|a, b| a.strike.total_cmp(&b.strike));
    let flip = p.zero_gamma.map(|z| {
        json!({
            "price": round2(z),
            "spot_minus_flip": round2(p.spot - z),
            "spot_minus_flip_pct": round2((p.spot / z - 1.0) * 100.0),
            "spot_is": if p.spot >= z { "above the flip" } else { "below the flip" },
        })
    });
    json!({
        "symbol": p.symbol.as_str(),
        "expiry_filter": filter.to_string(),
        "as_of": p.as_of.to_rfc3339(),
        "as_of_new_york": calendar::ny_date(p.as_of).to_string(),
        "spot": round2(p.spot),
        "total_gex_usd_per_1pct": p.total_gex,
        "total_gex": abbreviate_dollars(p.total_gex),
        "regime": p.regime,
        "zero_gamma_flip": flip,
        "crossings": p.crossings.iter().map(|c| round2(*c)).collect::<Vec<_>>(),
        "call_wall": p.call_wall,
        "put_wall": p.put_wall,
        "max_gex_strike": p.max_gex_strike,
        "key_levels": p.key_levels,
        "strikes_near_spot": near.iter().map(|s| json!({"strike": s.strike, "net_gex": s.net_gex})).collect::<Vec<_>>(),
        "expirations_used": p.expirations_used,
        "contracts_used": p.contracts_used,
    })
}
