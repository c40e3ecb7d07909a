//! Value types shared by the core and the shell.
//!
//! Conventions: prices are in the instrument's quote currency (dollars, index points),
//! volumes in shares (0 for an index, which has none), instants in UTC. Session logic
//! (what "today" means, 09:30 open) lives in `market::calendar` and is in America/New_York.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A ticker, normalised: trimmed, upper case, `^[A-Z0-9.:^-]{1,12}$`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Symbol(String);

/// Why a text is not a symbol; names the offending input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SymbolError {
    #[error("symbol is empty")]
    Empty,
    #[error("symbol {0:?} is longer than 12 characters")]
    TooLong(String),
    /// Shown with the control characters removed (so the terminal is never driven by it).
    #[error("symbol {0:?} contains control characters (escape sequences?); type the ticker")]
    ControlCharacter(String),
    #[error("symbol {0:?} may only contain A-Z, 0-9 and . : ^ -")]
    BadCharacter(String),
}

impl Symbol {
    pub const MAX_LEN: usize = 12;

    /// Normalises and validates user or provider text.
    pub fn parse(text: &str) -> Result<Self, SymbolError> {
        let s = text.trim().to_ascii_uppercase();
        if s.is_empty() {
            return Err(SymbolError::Empty);
        }
        // Before the length: an escape sequence makes a short ticker long, and "longer
        // than 12 characters" would hide what is wrong.
        if s.chars().any(char::is_control) {
            return Err(SymbolError::ControlCharacter(crate::text::printable(
                text.trim(),
            )));
        }
        if s.chars().count() > Self::MAX_LEN {
            return Err(SymbolError::TooLong(crate::text::printable(text.trim())));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || ".:^-".contains(c))
        {
            return Err(SymbolError::BadCharacter(crate::text::printable(
                text.trim(),
            )));
        }
        Ok(Symbol(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Symbol {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for Symbol {
    type Err = SymbolError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Symbol::parse(s)
    }
}

impl TryFrom<String> for Symbol {
    type Error = SymbolError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Symbol::parse(&s)
    }
}

impl From<Symbol> for String {
    fn from(s: Symbol) -> String {
        s.0
    }
}

/// One OHLCV bar keyed by its start instant. `volume` is in shares, 0 for an index.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bar {
    pub start: DateTime<Utc>,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

impl Bar {
    /// Typical price (H + L + C) / 3, the VWAP convention.
    pub fn typical(&self) -> f64 {
        (self.high + self.low + self.close) / 3.0
    }

    pub fn range(&self) -> f64 {
        self.high - self.low
    }
}

/// A daily bar keyed by its session date (New York).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DailyBar {
    pub date: NaiveDate,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

impl DailyBar {
    /// The daily bar of `date` made from its minute bars (pass only regular-session
    /// minutes, in time order); `None` when there are none.
    pub fn from_minutes<'a>(
        date: NaiveDate,
        minutes: impl IntoIterator<Item = &'a Bar>,
    ) -> Option<DailyBar> {
        let mut minutes = minutes.into_iter();
        let first = DailyBar::of_minute(date, minutes.next()?);
        Some(minutes.fold(first, DailyBar::with_minute))
    }

    /// The daily bar of `date` made of one minute bar (the first of its session).
    pub fn of_minute(date: NaiveDate, minute: &Bar) -> DailyBar {
        DailyBar {
            date,
            open: minute.open,
            high: minute.high,
            low: minute.low,
            close: minute.close,
            volume: minute.volume,
        }
    }

    /// This daily bar with the session's next minute bar added.
    pub fn with_minute(self, minute: &Bar) -> DailyBar {
        DailyBar {
            high: self.high.max(minute.high),
            low: self.low.min(minute.low),
            close: minute.close,
            volume: self.volume + minute.volume,
            ..self
        }
    }

    /// The daily bar of the regular session `open..close` on `date` made from its minute
    /// bars (only that session's, in time order), when they cover it well enough to stand
    /// for it: the first bar within five minutes of the open, the last within five of the
    /// close, and bars for at least half of its minutes. The market state derives a prior
    /// day from minutes by the same rule (`market::state`), so a recording completed with
    /// these bars primes the engine with no prior day the engine would not make itself.
    pub fn from_covering_minutes(
        date: NaiveDate,
        open: DateTime<Utc>,
        close: DateTime<Utc>,
        minutes: &[Bar],
    ) -> Option<DailyBar> {
        let minute_of = |b: &Bar| (b.start - open).num_minutes();
        let session_minutes = (close - open).num_minutes();
        let (first, last) = (minutes.first()?, minutes.last()?);
        let count = i64::try_from(minutes.len()).unwrap_or(i64::MAX);
        let covers = minute_of(first) < 5
            && minute_of(last) + 5 >= session_minutes
            && count.saturating_mul(2) >= session_minutes;
        covers
            .then(|| DailyBar::from_minutes(date, minutes))
            .flatten()
    }
}

/// Trade direction of a setup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Long,
    Short,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Long => "long",
            Direction::Short => "short",
        }
    }

    /// +1 for long, −1 for short: multiplies a price move into a favourable move.
    pub fn sign(self) -> f64 {
        match self {
            Direction::Long => 1.0,
            Direction::Short => -1.0,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Direction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "long" => Ok(Direction::Long),
            "short" => Ok(Direction::Short),
            other => Err(format!("direction {other:?} is not long or short")),
        }
    }
}

/// The setup detectors of SPEC 4, by their stored names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetupKind {
    OrbBreakout,
    BreakRetest,
    VwapReclaim,
    VwapReject,
    GapFill,
    VolumeClimax,
    LevelTest,
    GammaSqueeze,
    OpeningDrive,
}

impl SetupKind {
    pub const ALL: [SetupKind; 9] = [
        SetupKind::OrbBreakout,
        SetupKind::BreakRetest,
        SetupKind::VwapReclaim,
        SetupKind::VwapReject,
        SetupKind::GapFill,
        SetupKind::VolumeClimax,
        SetupKind::LevelTest,
        SetupKind::GammaSqueeze,
        SetupKind::OpeningDrive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SetupKind::OrbBreakout => "orb_breakout",
            SetupKind::BreakRetest => "break_retest",
            SetupKind::VwapReclaim => "vwap_reclaim",
            SetupKind::VwapReject => "vwap_reject",
            SetupKind::GapFill => "gap_fill",
            SetupKind::VolumeClimax => "volume_climax",
            SetupKind::LevelTest => "level_test",
            SetupKind::GammaSqueeze => "gamma_squeeze",
            SetupKind::OpeningDrive => "opening_drive",
        }
    }
}

impl SetupKind {
    /// At most 8 characters, for narrow table columns.
    pub fn short_label(self) -> &'static str {
        match self {
            SetupKind::OrbBreakout => "ORB",
            SetupKind::BreakRetest => "brk-rtst",
            SetupKind::VwapReclaim => "vwap-rcl",
            SetupKind::VwapReject => "vwap-rej",
            SetupKind::GapFill => "gap-fill",
            SetupKind::VolumeClimax => "vol-clmx",
            SetupKind::LevelTest => "lvl-test",
            SetupKind::GammaSqueeze => "gamma-sq",
            SetupKind::OpeningDrive => "open-drv",
        }
    }
}

impl fmt::Display for SetupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SetupKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SetupKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown setup kind {s:?}"))
    }
}

/// A trade plan found by a detector (SPEC 4). For a long `stop < entry < target`,
/// for a short `target < entry < stop`; `confidence` is 0..=100.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub symbol: Symbol,
    pub kind: SetupKind,
    pub direction: Direction,
    pub confidence: u8,
    pub entry: f64,
    pub stop: f64,
    pub target: f64,
    /// End of the signal bar (bar start + 1 minute), UTC.
    pub detected_at: DateTime<Utc>,
    /// Start of the signal bar, UTC.
    pub bar_time: DateTime<Utc>,
    /// The New York session date the signal belongs to.
    pub market_date: NaiveDate,
    /// Distinguishes repeated signals of one kind and direction within a session
    /// (e.g. the level that was broken).
    pub dedup_key: String,
    /// One human sentence naming the numbers that fired the detector.
    pub rationale: String,
    /// The symbol's GEX profile at detection time, when one was known: the regime and the
    /// signed distances to zero gamma and the nearest wall (`gex::context`). Stored in the
    /// detection's payload; absent from the JSON when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gex: Option<crate::gex::GexContext>,
}

impl Detection {
    /// Reward over risk, in R: |target − entry| / |entry − stop|.
    pub fn reward_risk(&self) -> f64 {
        let risk = (self.entry - self.stop).abs();
        if risk > 0.0 {
            (self.target - self.entry).abs() / risk
        } else {
            0.0
        }
    }
}

/// What the detectors and the brief need from a gamma-exposure profile (SPEC 7).
/// Strikes and levels are in price units; `total_gex` is dollars per 1 % move.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GammaLevels {
    pub symbol: Symbol,
    pub spot: f64,
    pub as_of: DateTime<Utc>,
    pub total_gex: f64,
    /// The zero-gamma (flip) crossing nearest spot; `None` when no crossing in range.
    pub zero_gamma: Option<f64>,
    /// Strike of the largest positive net GEX.
    pub call_wall: Option<f64>,
    /// Strike of the most negative net GEX.
    pub put_wall: Option<f64>,
    /// Strike of the largest call GEX (gamma_squeeze long trigger).
    pub max_call_gex_strike: Option<f64>,
    /// Strike of the largest |put GEX| (gamma_squeeze short trigger).
    pub max_put_gex_strike: Option<f64>,
}

impl GammaLevels {
    /// Negative regime: dealers short gamma, moves get amplified.
    pub fn is_negative_regime(&self) -> bool {
        self.total_gex < 0.0
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn bar(minute: u32, open: f64, high: f64, low: f64, close: f64, volume: f64) -> Bar {
        Bar {
            start: Utc
                .with_ymd_and_hms(2026, 11, 24, 14, 30 + minute, 0)
                .unwrap(),
            open,
            high,
            low,
            close,
            volume,
        }
    }

    #[test]
    fn a_daily_bar_opens_at_the_first_minute_and_closes_at_the_last() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let minutes = [
            bar(0, 10.0, 11.0, 9.5, 10.5, 100.0),
            bar(1, 10.5, 12.0, 10.0, 11.5, 50.0),
        ];
        let day = DailyBar::from_minutes(date, &minutes).unwrap();
        assert_eq!(
            day,
            DailyBar {
                date,
                open: 10.0,
                high: 12.0,
                low: 9.5,
                close: 11.5,
                volume: 150.0
            }
        );
        assert_eq!(
            DailyBar::from_minutes(date, &[]),
            None,
            "no minutes, no bar"
        );
    }

    #[test]
    fn minutes_make_a_daily_bar_only_when_they_cover_the_session() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let open = Utc.with_ymd_and_hms(2026, 11, 24, 14, 30, 0).unwrap();
        let close = open + chrono::Duration::minutes(390);
        let at = |minute: i64| Bar {
            start: open + chrono::Duration::minutes(minute),
            ..bar(0, 10.0, 11.0, 9.0, 10.0, 100.0)
        };
        let every_minute: Vec<Bar> = (0..390).map(at).collect();
        assert_eq!(
            DailyBar::from_covering_minutes(date, open, close, &every_minute).map(|d| d.volume),
            Some(39_000.0)
        );
        // An illiquid name: open to close but 142 of 390 minutes traded.
        let sparse: Vec<Bar> = (0..142).map(|i| at(i * 389 / 141)).collect();
        assert_eq!(
            (sparse[0].start, sparse[141].start),
            (open, close - chrono::Duration::minutes(1))
        );
        assert_eq!(
            DailyBar::from_covering_minutes(date, open, close, &sparse),
            None
        );
        // Exactly half the minutes, from the first to the last: enough.
        let half: Vec<Bar> = (0..194).map(|i| at(i * 2)).chain([at(389)]).collect();
        assert_eq!(half.len(), 195);
        assert!(DailyBar::from_covering_minutes(date, open, close, &half).is_some());
        // Without the last six minutes the close is missing; without the first five, the open.
        assert_eq!(
            DailyBar::from_covering_minutes(date, open, close, &every_minute[..384]),
            None
        );
        assert_eq!(
            DailyBar::from_covering_minutes(date, open, close, &every_minute[5..]),
            None
        );
        assert!(
            DailyBar::from_covering_minutes(date, open, close, &every_minute[4..386]).is_some()
        );
        assert_eq!(
            DailyBar::from_covering_minutes(date, open, close, &[]),
            None
        );
    }

    #[test]
    fn symbols_are_normalised_or_refused_with_the_input_named() {
        assert_eq!(Symbol::parse(" spy ").unwrap().as_str(), "SPY");
        assert_eq!(Symbol::parse("brk.b").unwrap().as_str(), "BRK.B");
        assert_eq!(Symbol::parse(""), Err(SymbolError::Empty));
        assert!(
            Symbol::parse("SPY QQQ")
                .unwrap_err()
                .to_string()
                .contains("\"SPY QQQ\"")
        );
        assert!(matches!(
            Symbol::parse("ABCDEFGHIJKLM"),
            Err(SymbolError::TooLong(_))
        ));
    }

    #[test]
    fn a_symbol_with_control_characters_is_refused_as_such() {
        for text in [
            "SPY\u{1b}]0;pwned\u{7}",
            "\u{1b}[31mSPY",
            "SP\tY",
            "SPY\u{9b}2J",
        ] {
            let err = Symbol::parse(text).unwrap_err();
            assert!(
                matches!(err, SymbolError::ControlCharacter(_)),
                "{text:?}: {err}"
            );
            let message = err.to_string();
            assert!(message.contains("control characters"), "{message}");
            assert!(
                !message
                    .chars()
                    .any(|c| c == '\u{1b}' || c == '\u{7}' || c == '\u{9b}'),
                "{message:?}"
            );
        }
    }
}
