//! Option-chain files given to the replaying commands (and the dashboard on recorded bars) with `--chain FILE…` (SPEC 19):
//! each file is read with the `coach gex --chain` readers (CBOE CSV or JSON, Massive
//! snapshot; the format guessed from the content), its GEX profile computed (all
//! expirations, r = q = 0), and the profile handed to the detector engine at the chain's
//! snapshot time while the bars are fed.
//!
//! When a chain applies: from its snapshot time through the close of its session, the
//! first regular session that closes after the snapshot (a chain saved at 21:05 New York
//! applies to the next trading day's session, one saved at 08:00 or 11:00 to that day's).
//! It is never carried into a later session. `gamma_squeeze` still uses a profile only
//! while it is younger than `gamma_squeeze.max_age_minutes` (30 by default), as live.
//!
//! Checked before anything runs: a file without a snapshot time, or whose session is
//! outside the dates of its symbol's minute bars, is an error naming the file and what is
//! wrong; a chain of a symbol without minute bars is a warning and is not used.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::detect::Engine;
use crate::domain::{Bar, GammaLevels, Symbol};
use crate::gex::chain::Chain;
use crate::gex::formats::{ChainFormat, RawChain, parse_chain};
use crate::gex::straddle::atm_straddle;
use crate::gex::{ExpiryFilter, GexParams, GexProfile, compute_profile};
use crate::market::calendar::{self, NEW_YORK};

/// Reads one chain file in `format` (guessed from the content when `None`). The error
/// names the file, and the line and field when the format has them.
pub fn read_raw_chain(
    path: &Path,
    format: Option<ChainFormat>,
) -> Result<(RawChain, ChainFormat), String> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!("{file}: no such file")
        } else {
            format!("{file}: cannot read: {e}")
        }
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "{file}: not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    let format = format.unwrap_or_else(|| ChainFormat::guess(&text));
    parse_chain(format, &text, &file)
        .map(|raw| (raw, format))
        .map_err(|e| format!("{e} (read as {format})"))
}

/// The regular session a chain snapshotted at `as_of` applies to: the first one whose
/// close is after `as_of`.
pub fn session_of(as_of: DateTime<Utc>) -> NaiveDate {
    let date = calendar::ny_date(as_of);
    match calendar::session(date) {
        Some(s) if as_of < s.close => date,
        _ => calendar::next_session(date).date,
    }
}

/// `2025-09-25 21:05 EDT`.
pub fn new_york(t: DateTime<Utc>) -> String {
    t.with_timezone(&NEW_YORK)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// Where a chain falls among the minute bars it is replayed with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    /// It applies to this session, which the symbol's bars cover.
    Session(NaiveDate),
    /// No minute bars of its symbol were given (the warning, naming the file).
    NoBars(String),
    /// Its session is outside its symbol's bars (the error, naming the file).
    OutsideBars(String),
}

/// Places the `symbol` chain of `file` snapshotted at `as_of` among `minute`'s bars.
pub fn place(
    file: &str,
    symbol: &Symbol,
    as_of: DateTime<Utc>,
    minute: &BTreeMap<Symbol, Vec<Bar>>,
) -> Placement {
    let (Some(first), Some(last)) = (
        minute.get(symbol).and_then(|b| b.first()),
        minute.get(symbol).and_then(|b| b.last()),
    ) else {
        return Placement::NoBars(format!(
            "{file}: a chain of {symbol}, but no minute bars of {symbol} were given: not used"
        ));
    };
    let session = session_of(as_of);
    let (first, last) = (
        calendar::ny_date(first.start),
        calendar::ny_date(last.start),
    );
    if session < first || session > last {
        return Placement::OutsideBars(format!(
            "{file}: the {symbol} chain's snapshot time {} applies to the {session} session, \
             outside the {symbol} minute bars ({first} to {last})",
            new_york(as_of)
        ));
    }
    Placement::Session(session)
}

/// One chain ready for the replay.
#[derive(Clone, Debug)]
pub struct ReplayChain {
    pub file: String,
    pub chain: Chain,
    pub levels: GammaLevels,
    /// Its all-expirations profile (r = q = 0), with the ATM straddle.
    pub profile: Arc<GexProfile>,
    /// The session it applies to (see the module rules).
    pub session: NaiveDate,
}

/// Reads `paths` and checks each against the minute bars it will be replayed with.
/// Warnings (a chain of a symbol without bars) go to stderr.
pub fn load_chains(
    paths: &[std::path::PathBuf],
    minute: &BTreeMap<Symbol, Vec<Bar>>,
) -> Result<Vec<ReplayChain>, String> {
    load_placed(paths, |file, symbol, as_of| {
        place(file, symbol, as_of, minute)
    })
}

/// [`load_chains`] for bars that are streamed (`coach replay`, `coach backtest`): their
/// dates are not known before the run, so a chain is placed by its snapshot time alone;
/// one whose session sees no bar of its symbol is named after the run
/// ([`ChainSchedule::unused`]). A chain of a symbol no file holds is left out here.
pub fn load_chains_streamed(
    paths: &[std::path::PathBuf],
    symbols: &[Symbol],
) -> Result<Vec<ReplayChain>, String> {
    load_placed(paths, |file, symbol, as_of| {
        if symbols.contains(symbol) {
            Placement::Session(session_of(as_of))
        } else {
            Placement::NoBars(format!(
                "{file}: a chain of {symbol}, but no minute bars of {symbol} were given: not used"
            ))
        }
    })
}

fn load_placed(
    paths: &[std::path::PathBuf],
    place: impl Fn(&str, &Symbol, DateTime<Utc>) -> Placement,
) -> Result<Vec<ReplayChain>, String> {
    let mut chains = Vec::new();
    for path in paths {
        let file = path.display().to_string();
        let (raw, _) = read_raw_chain(path, None)?;
        let Some(as_of) = raw.as_of else {
            return Err(format!(
                "{file}: the {} chain has no snapshot time, so coach cannot tell when it applies in the replay",
                raw.symbol
            ));
        };
        let session = match place(&file, &raw.symbol, as_of) {
            Placement::Session(date) => date,
            Placement::NoBars(warning) => {
                eprintln!("coach: warning: {warning}");
                continue;
            }
            Placement::OutsideBars(error) => return Err(error),
        };
        let chain = raw.into_chain(None, &file).map_err(|e| e.to_string())?;
        let params = GexParams::default();
        let mut profile = compute_profile(&chain, &params, ExpiryFilter::All)
            .map_err(|e| format!("{file}: {e}"))?;
        profile.atm_straddle = atm_straddle(&chain, &params);
        chains.push(ReplayChain {
            file,
            levels: profile.levels(),
            profile: Arc::new(profile),
            chain,
            session,
        });
    }
    Ok(chains)
}

/// Which chain is in force for each symbol while bars are fed in time order.
#[derive(Debug, Default)]
pub struct ChainSchedule {
    /// Each symbol's chains by snapshot time, and how many have been applied.
    pending: BTreeMap<Symbol, (Vec<ReplayChain>, usize)>,
    /// The chain in force per symbol (an index into its list).
    active: BTreeMap<Symbol, usize>,
    /// Chains that were ever in force, by symbol and index.
    applied: std::collections::BTreeSet<(Symbol, usize)>,
}

impl ChainSchedule {
    pub fn new(chains: Vec<ReplayChain>) -> Self {
        let mut pending: BTreeMap<Symbol, (Vec<ReplayChain>, usize)> = BTreeMap::new();
        for c in chains {
            pending.entry(c.chain.symbol.clone()).or_default().0.push(c);
        }
        for (list, _) in pending.values_mut() {
            list.sort_by_key(|c| c.chain.as_of);
        }
        ChainSchedule {
            pending,
            active: BTreeMap::new(),
            applied: std::collections::BTreeSet::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Call before feeding `bar` of `symbol`: puts in force (in `engine`) the latest chain
    /// snapshotted by the bar's end, and withdraws one whose session is over.
    pub fn before_bar(&mut self, engine: &mut Engine, symbol: &Symbol, bar: &Bar) {
        let Some((list, next)) = self.pending.get_mut(symbol) else {
            return;
        };
        let end = bar.start + chrono::Duration::minutes(1);
        let date = calendar::ny_date(bar.start);
        let mut newest = None;
        while *next < list.len() && list[*next].chain.as_of <= end {
            newest = Some(*next);
            *next += 1;
        }
        if let Some(i) = newest.filter(|&i| list[i].session >= date) {
            engine.set_gamma_levels(list[i].levels.clone());
            self.active.insert(symbol.clone(), i);
            self.applied.insert((symbol.clone(), i));
        } else if let Some(&i) = self.active.get(symbol)
            && list[i].session < date
        {
            engine.clear_gamma_levels(symbol);
            self.active.remove(symbol);
        }
    }

    /// The profile in force for `symbol`, if any.
    pub fn levels(&self, symbol: &Symbol) -> Option<&GammaLevels> {
        let i = *self.active.get(symbol)?;
        self.pending.get(symbol).map(|(list, _)| &list[i].levels)
    }

    /// Chains never put in force: no bar of their symbol in their session was fed.
    pub fn unused(&self) -> impl Iterator<Item = &ReplayChain> {
        self.pending.iter().flat_map(move |(symbol, (list, _))| {
            list.iter()
                .enumerate()
                .filter(move |(i, _)| !self.applied.contains(&(symbol.clone(), *i)))
                .map(|(_, c)| c)
        })
    }

    /// All chains, by symbol then snapshot time.
    pub fn chains(&self) -> impl Iterator<Item = &ReplayChain> {
        self.pending.values().flat_map(|(list, _)| list.iter())
    }
}

/// The chain in force for `symbol` at `now` (New York session `now`'s date), from
/// `chains`: the latest snapshotted by `now` whose session is that date.
pub fn in_force<'a>(
    chains: &'a [ReplayChain],
    symbol: &Symbol,
    now: DateTime<Utc>,
) -> Option<&'a ReplayChain> {
    let date = calendar::ny_date(now);
    chains
        .iter()
        .filter(|c| c.chain.symbol == *symbol && c.chain.as_of <= now && c.session == date)
        .max_by_key(|c| c.chain.as_of)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_chain_applies_to_the_first_session_closing_after_its_snapshot() {
        // Thursday 2025-09-25: 21:05 EDT is after the close → Friday's session.
        assert_eq!(session_of(at("2025-09-26T01:05:00Z")), date("2025-09-26"));
        // 08:00 and 11:00 EDT on a trading day → that day.
        assert_eq!(session_of(at("2025-09-25T12:00:00Z")), date("2025-09-25"));
        assert_eq!(session_of(at("2025-09-25T15:00:00Z")), date("2025-09-25"));
        // Friday evening → Monday; 16:00 exactly is the close → next session.
        assert_eq!(session_of(at("2025-09-26T22:00:00Z")), date("2025-09-29"));
        assert_eq!(session_of(at("2025-09-25T20:00:00Z")), date("2025-09-26"));
        // A holiday (2025-12-25) → the next trading day.
        assert_eq!(session_of(at("2025-12-25T15:00:00Z")), date("2025-12-26"));
    }
}
