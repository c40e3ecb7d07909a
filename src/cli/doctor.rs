//! `coach doctor`: checks the configuration, the database, the market data provider and
//! (when `[llm]` is set) the AI coach's model server,
//! one line per check on stdout (stable): `ok NAME: DETAIL` or `FAIL NAME: DETAIL`.
//! Exit code 0 only when every check passed; 1 when one failed; 2 when the configuration
//! itself cannot be loaded (its line is printed first).
//!
//! With `provider = "replay"` (`--bars`): every bar file is read through the bar-file
//! reader, one line per file and per symbol's sessions; a file that cannot be read fails.
//!
//! With `--chain FILE…`: each chain file is read with the `coach gex` readers and its
//! symbol, contracts, expirations, snapshot time and spot printed, or why it is bad; with
//! `--bars`, the session it applies to in the replay (a chain outside the bars fails).
//!
//! With `provider = "massive"`: the REST API (reachability, market status), the key and
//! the stocks entitlement (minute aggregates of the last session), indices and options
//! entitlements, and the WebSocket (authentication and a subscription). Indices count
//! only when an index is among the symbols; options are informative (the GEX can use the
//! keyless CBOE chains instead).
//!
//! With `provider = "alpaca"`: the key pair (one authenticated call: the daily bar of
//! the last session on the configured feed), and which watched symbols are indices
//! Alpaca does not have (informative, naming their ETFs).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;
use clap::Args;

use super::CliError;
use super::dashboard::CommonArgs;
use crate::config::Config;
use crate::domain::{Bar, Symbol};
use crate::market::calendar;
use crate::provider::bar_files::{ReplayInput, load_files};
use crate::provider::massive::rest::{AggBound, ChainFilter, RestClient, RetryPolicy};
use crate::provider::massive::ws::{self, Cluster, StreamConfig};
use crate::provider::massive::{KNOWN_INDICES, MassiveError};
use crate::store::{Store, redact_url};

/// Check the configuration, the database and the market data provider.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub source: super::dashboard::SourceArgs,
    /// Option-chain files to check (CBOE CSV or JSON, Massive snapshot): each one's
    /// symbol, contracts, expirations, snapshot time and spot, and with --bars the
    /// session it applies to in the replay.
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub chain: Vec<PathBuf>,
}

/// One check's outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

impl Check {
    fn ok(name: &str, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            ok: true,
            detail: detail.into(),
        }
    }

    fn fail(name: &str, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            ok: false,
            detail: detail.into(),
        }
    }

    /// `ok name: detail` / `FAIL name: detail`, one printable line.
    pub fn line(&self) -> String {
        let detail = crate::text::printable(&self.detail).replace('\n', " ");
        format!(
            "{} {}: {detail}",
            if self.ok { "ok" } else { "FAIL" },
            self.name
        )
    }
}

pub fn run(args: DoctorArgs, common: &CommonArgs) -> Result<(), CliError> {
    let config = match common.load_config() {
        Ok(c) => c,
        Err(e) => {
            // The reason is on the FAIL line; stderr only says why doctor stopped, so
            // the error is not printed twice.
            println!("{}", Check::fail("config", e.to_string()).line());
            return Err(CliError::Input(
                "the configuration cannot be loaded (FAIL config above); no other check ran".into(),
            ));
        }
    };
    let mut source = "defaults (no file)".to_string();
    if let Some((path, _)) = crate::config::locate(common.config.as_deref())
        && path.is_file()
    {
        source = path.display().to_string();
    }
    println!(
        "{}",
        Check::ok(
            "config",
            format!("{source}; provider {}", config.general.provider)
        )
        .line()
    );
    if let Some(warning) = crate::config::secrets_exposed_warning(common.config.as_deref()) {
        eprintln!("coach: warning: {warning}");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Runtime(format!("cannot start the runtime: {e}")))?;
    let checks = runtime.block_on(async {
        let mut checks = vec![database(&config).await];
        let mut minute = None;
        println!("{}", checks[0].line());
        if config.general.provider == "massive" {
            massive(&config, &mut checks).await;
        } else if config.general.provider == "replay" {
            let (bar_checks, input) = bar_files(&config);
            for check in bar_checks {
                println!("{}", check.line());
                checks.push(check);
            }
            minute = input.map(|i| i.minute);
        } else if config.general.provider == "alpaca" {
            alpaca(&config, &mut checks).await;
        } else {
            let check = Check::ok("provider", "sim (the simulated market: nothing to reach)");
            println!("{}", check.line());
            checks.push(check);
        }
        for check in chain_files(&args.chain, minute.as_ref()) {
            println!("{}", check.line());
            checks.push(check);
        }
        if config.llm.is_configured() {
            let check = llm(&config).await;
            println!("{}", check.line());
            checks.push(check);
        }
        checks
    });
    let failed = checks.iter().filter(|c| !c.ok).count();
    if failed == 0 {
        Ok(())
    } else {
        Err(CliError::Runtime(format!(
            "{failed} of {} checks failed",
            checks.len() + 1
        )))
    }
}

/// The replay provider's bar files (SPEC 19): each file read, with what was found in it
/// (symbols, minute or daily, rows, first and last date), and each file of a directory
/// that could not be read, named with its line and what is wrong.
fn bar_files(config: &Config) -> (Vec<Check>, Option<ReplayInput>) {
    let paths = |list: &[String]| list.iter().map(PathBuf::from).collect::<Vec<_>>();
    let input = match load_files(
        &paths(&config.replay.bars),
        &paths(&config.replay.daily),
        None,
    ) {
        Ok(input) => input,
        Err(e) => return (vec![Check::fail("bars", e.to_string())], None),
    };
    let mut checks: Vec<Check> = input
        .files
        .iter()
        .map(|f| {
            Check::ok(
                "bars",
                format!(
                    "{}: {} {} bars of {}",
                    f.file,
                    f.rows,
                    f.kind.as_str(),
                    f.symbols
                        .iter()
                        .map(Symbol::as_str)
                        .collect::<Vec<_>>()
                        .join(",")
                ),
            )
        })
        .collect();
    checks.extend(
        input
            .skipped
            .iter()
            .map(|e| Check::fail("bars", e.to_string())),
    );
    for (symbol, bars) in &input.minute {
        let sessions: Vec<_> = bars
            .iter()
            .filter_map(|b| {
                calendar::session(calendar::ny_date(b.start)).filter(|s| s.contains(b.start))
            })
            .map(|s| s.date)
            .collect();
        checks.push(match (sessions.first(), sessions.last()) {
            (Some(first), Some(last)) => Check::ok(
                "bars",
                format!("{symbol}: regular sessions {first} … {last}"),
            ),
            _ => Check::fail(
                "bars",
                format!("{symbol}: no regular-session minute of any NYSE trading day"),
            ),
        });
    }
    (checks, Some(input))
}

/// Each `--chain` file (SPEC 19): read with the `coach gex` readers, then what it holds
/// (symbol, format, contracts, expirations, snapshot time, spot) or why it is bad; with
/// recorded bars, also the session it applies to in the replay.
fn chain_files(paths: &[PathBuf], minute: Option<&BTreeMap<Symbol, Vec<Bar>>>) -> Vec<Check> {
    paths.iter().map(|p| chain_file(p, minute)).collect()
}

fn chain_file(path: &std::path::Path, minute: Option<&BTreeMap<Symbol, Vec<Bar>>>) -> Check {
    use crate::provider::chain_files::{Placement, new_york, place, read_raw_chain};
    let file = path.display().to_string();
    let (raw, format) = match read_raw_chain(path, None) {
        Ok(read) => read,
        Err(e) => return Check::fail("chain", e),
    };
    let symbol = &raw.symbol;
    if raw.contracts.is_empty() {
        return Check::fail(
            "chain",
            format!("{file}: a {symbol} chain with no contracts"),
        );
    }
    if !(raw.spot.is_finite() && raw.spot > 0.0) {
        return Check::fail(
            "chain",
            format!(
                "{file}: the {symbol} chain's spot {} is not a positive price",
                raw.spot
            ),
        );
    }
    let Some(as_of) = raw.as_of else {
        return Check::fail(
            "chain",
            format!(
                "{file}: the {symbol} chain has no snapshot time (coach gex needs --at; the replay cannot use it)"
            ),
        );
    };
    let expirations: std::collections::BTreeSet<_> =
        raw.contracts.iter().map(|c| c.expiry).collect();
    let span = match (expirations.first(), expirations.last()) {
        (Some(a), Some(b)) if a != b => format!(" {a} to {b}"),
        (Some(a), _) => format!(" {a}"),
        _ => String::new(),
    };
    let mut detail = format!(
        "{file}: {symbol} ({format}), {} contract(s), {} expiration(s){span}, snapshot {}, spot {:.2}",
        raw.contracts.len(),
        expirations.len(),
        new_york(as_of),
        raw.spot
    );
    match minute.map(|m| place(&file, symbol, as_of, m)) {
        None => {}
        Some(Placement::Session(date)) => {
            detail.push_str(&format!("; applies to the {date} session of the bars"));
        }
        Some(Placement::NoBars(warning)) => {
            detail.push_str(&format!(
                "; warning: {}",
                warning.trim_start_matches(&format!("{file}: "))
            ));
        }
        Some(Placement::OutsideBars(error)) => return Check::fail("chain", error),
    }
    Check::ok("chain", detail)
}

/// The AI coach's server (only when `[llm]` is set): it answers `GET /models`, and
/// whether it lists the configured model (a server of one model may ignore the name).
async fn llm(config: &Config) -> Check {
    let llm = &config.llm;
    let client = match crate::llm::LlmClient::new(
        llm.base_url.trim(),
        llm.model.trim(),
        llm.api_key.clone(),
        llm.timeout(),
        crate::llm::RetryPolicy::default(),
    ) {
        Ok(c) => c,
        Err(e) => return Check::fail("llm", e),
    };
    match client.list_models().await {
        Ok(models) if models.iter().any(|m| m == client.model()) => Check::ok(
            "llm",
            format!(
                "{} answers; model {} is listed",
                llm.base_url.trim(),
                client.model()
            ),
        ),
        Ok(models) => Check::ok(
            "llm",
            format!(
                "{} answers; model {} is not among the {} it lists (a server of one model \
                 ignores the name)",
                llm.base_url.trim(),
                client.model(),
                models.len()
            ),
        ),
        Err(e) => Check::fail("llm", format!("{}: {e}", llm.base_url.trim())),
    }
}

async fn database(config: &Config) -> Check {
    let target = match config.general.db.as_str() {
        "" => crate::store::default_sqlite_path()
            .map(|p| format!("sqlite {}", p.display()))
            .unwrap_or_else(|| "sqlite (no data directory)".into()),
        url => redact_url(url),
    };
    match Store::open(&config.general.db).await {
        Ok(store) => {
            // Opening and migrating an up-to-date database only reads: a read-only file,
            // directory or server passes both and refuses the dashboard's first write.
            let written = store.check_writable(chrono::Utc::now()).await;
            store.close().await;
            match written {
                Ok(()) => Check::ok(
                    "database",
                    format!("{target} opened, migrated and takes writes"),
                ),
                Err(e) => Check::fail("database", format!("{target} refuses writes: {e}")),
            }
        }
        Err(e) => Check::fail("database", format!("{target}: {e}")),
    }
}

fn report(checks: &mut Vec<Check>, check: Check) {
    println!("{}", check.line());
    checks.push(check);
}

async fn alpaca(config: &Config, checks: &mut Vec<Check>) {
    use crate::provider::alpaca::{self, rest::Timeframe};
    let connection = config.alpaca.connection();
    let client = match alpaca::rest::RestClient::new(&connection) {
        Ok(c) => c.with_retry(RetryPolicy {
            max_attempts: 2,
            max_retry_after: Duration::from_secs(5),
            ..RetryPolicy::default()
        }),
        Err(e) => return report(checks, Check::fail("alpaca keys", e.to_string())),
    };
    let last = calendar::previous_session(calendar::ny_date(Utc::now())).date;
    let day = calendar::ny_instant(last, chrono::NaiveTime::MIN);
    let probe = Symbol::parse("SPY").ok().into_iter().collect::<Vec<_>>();
    let check = match client.stock_bars(&probe, Timeframe::Day, day, day).await {
        Ok(bars) => Check::ok(
            "alpaca keys",
            format!(
                "{} accepts them; feed {} ({} daily bar of SPY for {last})",
                connection.data_url,
                connection.feed.as_str(),
                bars.values().map(Vec::len).sum::<usize>()
            ),
        ),
        Err(e) => Check::fail("alpaca keys", e.to_string()),
    };
    report(checks, check);
    let indices: Vec<String> = config
        .sim
        .symbols
        .iter()
        .filter_map(|s| {
            alpaca::check_tradable(s, config.detectors.index_symbols.contains(s))
                .err()
                .map(|e| e.to_string())
        })
        .collect();
    if !indices.is_empty() {
        report(
            checks,
            Check::ok(
                "alpaca symbols",
                format!("left out of the live feed: {}", indices.join("; ")),
            ),
        );
    }
}

async fn massive(config: &Config, checks: &mut Vec<Check>) {
    let connection = config.massive.connection();
    let client = match RestClient::new(&connection) {
        Ok(c) => c.with_retry(RetryPolicy {
            max_attempts: 2,
            max_retry_after: Duration::from_secs(5),
            ..RetryPolicy::default()
        }),
        Err(e) => return report(checks, Check::fail("massive key", e.to_string())),
    };
    let now = Utc::now();
    let indices: Vec<&Symbol> = config
        .sim
        .symbols
        .iter()
        .filter(|s| {
            KNOWN_INDICES.contains(&s.as_str()) || config.detectors.index_symbols.contains(s)
        })
        .collect();
    let Some(stock) = config
        .sim
        .symbols
        .iter()
        .find(|s| !indices.contains(s))
        .cloned()
        .or_else(|| Symbol::parse("SPY").ok())
    else {
        return;
    };

    // Reachability (market status needs a key too, so a 401 here names the key).
    let rest = match client.market_status().await {
        Ok(status) => Check::ok(
            "massive rest",
            format!(
                "{} answers; market {} (server time {})",
                connection.rest_url,
                status.market.as_deref().unwrap_or("?"),
                status.server_time.as_deref().unwrap_or("?")
            ),
        ),
        Err(e @ MassiveError::BadKey { .. }) => Check::fail("massive key", e.to_string()),
        Err(e) => Check::fail("massive rest", e.to_string()),
    };
    // A refused key or an unreachable API: the other REST checks would say the same.
    let rest_ok = rest.ok;
    report(checks, rest);
    if rest_ok {
        rest_checks(&client, &stock, &indices, now, checks).await;
    }
    stream_checks(config, &stock, &indices, checks).await;
}

async fn rest_checks(
    client: &RestClient,
    stock: &Symbol,
    indices: &[&Symbol],
    now: chrono::DateTime<Utc>,
    checks: &mut Vec<Check>,
) {
    let last_session = calendar::previous_session(calendar::ny_date(now));
    let session = AggBound::Instant(last_session.open);
    let until = AggBound::Instant(last_session.close - chrono::Duration::minutes(1));
    let stocks = match client.minute_bars(stock, false, session, until).await {
        Ok(bars) => Check::ok(
            "massive key",
            format!(
                "accepted; stocks: {} minute bars of {stock} on {}",
                bars.len(),
                last_session.date
            ),
        ),
        Err(e @ MassiveError::BadKey { .. }) => Check::fail("massive key", e.to_string()),
        Err(e) => Check::fail("massive stocks", e.to_string()),
    };
    report(checks, stocks);

    let index = index_to_check(indices, stock);
    let check = match client.previous_close(&index, true).await {
        Ok(Some(bar)) => Check::ok(
            "massive indices",
            format!("I:{index} previous close {} on {}", bar.close, bar.date),
        ),
        Ok(None) => Check::ok("massive indices", format!("I:{index}: no previous close")),
        Err(e) if indices.is_empty() && e.is_fatal() => Check::ok(
            "massive indices",
            format!("not available ({e}); no index is configured"),
        ),
        Err(e) => Check::fail("massive indices", e.to_string()),
    };
    report(checks, check);

    let filter = ChainFilter {
        expiry_from: Some(calendar::ny_date(now)),
        expiry_to: Some(calendar::ny_date(now) + chrono::Duration::days(7)),
        ..ChainFilter::default()
    };
    let check = match client.options_chain_pages(stock, false, &filter).await {
        Ok(pages) => Check::ok(
            "massive options",
            format!(
                "the chain snapshot of {stock} is readable ({} pages)",
                pages.len()
            ),
        ),
        Err(e @ MassiveError::NotEntitled { .. }) => Check::ok(
            "massive options",
            format!("not entitled, GEX will need the CBOE chains ({e})"),
        ),
        Err(e) => Check::fail("massive options", e.to_string()),
    };
    report(checks, check);
}

/// The index the checks use: the first configured one, else SPX.
fn index_to_check(indices: &[&Symbol], stock: &Symbol) -> Symbol {
    indices
        .first()
        .map(|s| (*s).clone())
        .or_else(|| Symbol::parse("SPX").ok())
        .unwrap_or_else(|| stock.clone())
}

async fn stream_checks(
    config: &Config,
    stock: &Symbol,
    indices: &[&Symbol],
    checks: &mut Vec<Check>,
) {
    let connection = config.massive.connection();
    let index = index_to_check(indices, stock);
    let mut stream = StreamConfig::new(&connection.ws_url, connection.api_key.clone());
    stream.handshake_timeout = Duration::from_secs(10);
    let kind = if connection.is_delayed() {
        "delayed 15 min"
    } else {
        "real-time"
    };
    let mut clusters = vec![(Cluster::Stocks, format!("AM.{stock}"))];
    if !indices.is_empty() {
        clusters.push((Cluster::Indices, format!("AM.I:{index}")));
    }
    for (cluster, param) in clusters {
        let name = format!("massive stream {}", cluster.path());
        let check = match ws::probe(&stream, cluster, &param).await {
            Ok(message) => Check::ok(&name, format!("{kind}; {message}")),
            Err(e) => Check::fail(&name, e.to_string()),
        };
        report(checks, check);
    }
}
