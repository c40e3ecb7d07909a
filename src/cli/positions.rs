//! `coach positions add|list|close|import`: the open positions whose risk the morning
//! brief summarises (SPEC 8.4). A bad position exits 2, names the field (or the CSV line)
//! and saves nothing.

use std::path::PathBuf;

use chrono::{NaiveDate, Utc};
use clap::{Args, Subcommand};

use super::CliError;
use super::dashboard::CommonArgs;
use super::setups::with_store;
use crate::brief::position::{CSV_HEADER, NewPosition, PositionKind, parse_csv};
use crate::domain::Symbol;
use crate::market::calendar::NEW_YORK;
use crate::store::StoreError;

#[derive(Debug, Args)]
pub struct PositionsArgs {
    #[command(subcommand)]
    pub command: PositionsCommand,
}

#[derive(Debug, Subcommand)]
pub enum PositionsCommand {
    /// Add one position: `coach positions add SPY call --strike 700 --expiry 2026-12-18
    /// --qty 2 --price 4.10 [--iv 0.18]` (a short position has a negative --qty).
    Add(AddArgs),
    /// Open positions (`--all` includes closed ones), as a table or `--json`.
    List {
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// Close a position by id (it stays in `list --all`).
    Close { id: i64 },
    /// Add every position of a CSV file (header: symbol,kind,strike,expiry,quantity,
    /// avg_price[,iv]); all rows are checked first, and none is saved if one is bad.
    Import { file: PathBuf },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    pub symbol: String,
    /// stock, call or put.
    pub kind: String,
    #[arg(long)]
    pub strike: Option<f64>,
    /// Expiry date YYYY-MM-DD (options).
    #[arg(long)]
    pub expiry: Option<String>,
    /// Shares or contracts; negative when short.
    #[arg(long, allow_hyphen_values = true)]
    pub qty: f64,
    /// Average price paid per share (options: the premium per share).
    #[arg(long)]
    pub price: f64,
    /// Implied volatility, annual decimal (0.18 = 18 %): enables the Black-Scholes
    /// delta, gamma and model mark in the brief.
    #[arg(long)]
    pub iv: Option<f64>,
}

fn input(e: impl std::fmt::Display) -> CliError {
    CliError::Input(e.to_string())
}

fn store_error(e: StoreError) -> CliError {
    match e {
        StoreError::NotFound(_) | StoreError::Conflict(_) | StoreError::Invalid(_) => input(e),
        e => CliError::Runtime(e.to_string()),
    }
}

impl AddArgs {
    fn position(&self) -> Result<NewPosition, CliError> {
        let p = NewPosition {
            symbol: Symbol::parse(&self.symbol).map_err(|e| input(format!("symbol: {e}")))?,
            kind: PositionKind::parse(&self.kind).map_err(input)?,
            strike: self.strike,
            expiry: self
                .expiry
                .as_deref()
                .map(|d| {
                    NaiveDate::parse_from_str(d, "%Y-%m-%d")
                        .map_err(|_| input(format!("--expiry: {d:?} is not YYYY-MM-DD")))
                })
                .transpose()?,
            quantity: self.qty,
            avg_price: self.price,
            iv: self.iv,
        };
        p.validate().map_err(input)?;
        Ok(p)
    }
}

pub fn run(args: PositionsArgs, common: &CommonArgs) -> Result<(), CliError> {
    match args.command {
        PositionsCommand::Add(add) => {
            let position = add.position()?;
            let label = position.label();
            let ids = with_store(common, |store, user| async move {
                store
                    .add_positions(user, &[position], Utc::now())
                    .await
                    .map_err(store_error)
            })?;
            println!(
                "added position {}: {label}",
                ids.first().copied().unwrap_or_default()
            );
        }
        PositionsCommand::Import { file } => {
            let name = file.display().to_string();
            let text = std::fs::read_to_string(&file)
                .map_err(|e| input(format!("{name}: cannot read: {e}")))?;
            // An import is today's book: an expired option in it is a stale file.
            // (`add` takes past expiries: positions for a brief of a past date.)
            let today = crate::market::calendar::ny_date(Utc::now());
            let positions = parse_csv(&name, &text, today).map_err(input)?;
            if positions.is_empty() {
                return Err(input(format!(
                    "{name}: no positions after the header {CSV_HEADER}"
                )));
            }
            let n = positions.len();
            with_store(common, |store, user| async move {
                store
                    .add_positions(user, &positions, Utc::now())
                    .await
                    .map_err(store_error)
            })?;
            println!("imported {} from {name}", crate::text::count(n, "position"));
        }
        PositionsCommand::Close { id } => {
            let closed = with_store(common, |store, user| async move {
                store
                    .close_position(user, id, Utc::now())
                    .await
                    .map_err(store_error)
            })?;
            println!("closed position {id}: {}", closed.spec.label());
        }
        PositionsCommand::List { all, json } => {
            let rows = with_store(common, |store, user| async move {
                store.positions(user, all).await.map_err(store_error)
            })?;
            if json {
                let text = serde_json::to_string_pretty(&rows)
                    .map_err(|e| CliError::Runtime(format!("cannot write JSON: {e}")))?;
                println!("{text}");
            } else {
                println!(
                    "  id  symbol   kind     strike expiry          qty        avg     iv  opened (ET)"
                );
                for p in &rows {
                    let s = &p.spec;
                    println!(
                        "{:>4}  {:<8} {:<5} {:>9} {:<10} {:>8} {:>10.2} {:>6}  {}{}",
                        p.id,
                        s.symbol.as_str(),
                        s.kind.as_str(),
                        s.strike.map(|k| format!("{k:.2}")).unwrap_or_default(),
                        s.expiry.map(|e| e.to_string()).unwrap_or_default(),
                        s.quantity,
                        s.avg_price,
                        s.iv.map(|v| format!("{:.1}%", v * 100.0))
                            .unwrap_or_default(),
                        p.opened_at
                            .with_timezone(&NEW_YORK)
                            .format("%Y-%m-%d %H:%M"),
                        p.closed_at
                            .map(|c| format!(
                                " closed {}",
                                c.with_timezone(&NEW_YORK).format("%Y-%m-%d %H:%M")
                            ))
                            .unwrap_or_default()
                    );
                }
            }
        }
    }
    Ok(())
}
