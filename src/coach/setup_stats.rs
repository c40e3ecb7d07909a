//! `get_setup_stats(kind?, symbol?, hour?)` (SPEC 18): what the coach is told about a
//! setup's record — the trader's journal, and the stored backtest when there is one —
//! narrowed to what the model asked. Pure: trades and rows in, JSON out.
//!
//! The journal is split by kind, plus by symbol and hour bucket when those were asked
//! for, and only the groups matching every given value are kept (with no kind asked, the
//! all-kinds group too). The backtest rows are kept the same way. Every group carries n
//! (`triggered`: filled trades) beside its rates.

use serde_json::{Value, json};

use crate::domain::{SetupKind, Symbol};
use crate::stats::{Dimension, GroupKey, GroupRow, GroupedTrades, HourBucket};

/// What the model asked for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatsFilter {
    pub kind: Option<SetupKind>,
    pub symbol: Option<Symbol>,
    pub hour: Option<HourBucket>,
}

impl StatsFilter {
    /// The journal's split: by kind, and by whatever else was asked.
    fn dimensions(&self) -> Vec<Dimension> {
        let mut dims = vec![Dimension::Kind];
        if self.symbol.is_some() {
            dims.push(Dimension::Symbol);
        }
        if self.hour.is_some() {
            dims.push(Dimension::Hour);
        }
        dims
    }

    /// Whether a group answers the question: its key has every asked value, and it is
    /// split by nothing the model did not ask about (beyond kind).
    fn keeps(&self, key: &GroupKey) -> bool {
        let same = |asked: Option<&str>, have: &Option<String>| match asked {
            Some(a) => have.as_deref() == Some(a),
            None => have.is_none(),
        };
        let kind_ok = match self.kind {
            Some(k) => key.kind.as_deref() == Some(k.as_str()),
            None => true,
        };
        kind_ok
            && same(self.symbol.as_ref().map(Symbol::as_str), &key.symbol)
            && same(self.hour.map(HourBucket::as_str), &key.hour)
            && key.regime.is_none()
            && key.confidence.is_none()
    }

    fn to_json(&self) -> Value {
        json!({
            "kind": self.kind.map(SetupKind::as_str),
            "symbol": self.symbol.as_ref().map(Symbol::as_str),
            "hour": self.hour.map(HourBucket::as_str),
        })
    }
}

/// The tool's result: the journal's groups (from `journal`, the trader's ended attempts)
/// and, when stored, the backtest's (`None`: nothing stored yet).
pub fn stats_json(
    filter: &StatsFilter,
    journal: &GroupedTrades,
    backtest: Option<&[GroupRow]>,
) -> Value {
    let journal_groups: Vec<GroupRow> = if journal.is_empty() {
        Vec::new()
    } else {
        journal
            .groups(&filter.dimensions())
            .into_iter()
            .filter(|g| filter.keeps(&g.key))
            .collect()
    };
    let backtest_groups: Option<Vec<&GroupRow>> =
        backtest.map(|rows| rows.iter().filter(|g| filter.keeps(&g.key)).collect());
    let mut notes = Vec::new();
    if journal.is_empty() {
        notes.push("the trader has no closed tracked setups yet (journal empty)");
    }
    match &backtest_groups {
        None => {
            notes.push("no backtest statistics are stored (`coach backtest --store` keeps them)")
        }
        Some(g) if g.is_empty() => notes.push("the stored backtest has no group for this question"),
        Some(_) => {}
    }
    json!({
        "asked": filter.to_json(),
        "definitions": "n = triggered (filled trades); win = R > 0; win_rate and avg_r with 95% intervals; \
            R in multiples of the plan's risk; profit_factor = gains / losses; max_drawdown_r in R",
        "journal": {"ended_attempts": journal.len(), "groups": journal_groups},
        "backtest": backtest_groups.map(|g| json!({"groups": g})),
        "notes": notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::journal::{JournalEvent, JournalRange, JournalSetup, journal};
    use chrono::{TimeZone, Utc};

    fn setup(id: i64, symbol: &str, kind: SetupKind, r: f64) -> JournalSetup {
        let at = |m: u32| Utc.with_ymd_and_hms(2026, 11, 24, 15, m, 0).unwrap();
        let d = crate::domain::Detection {
            gex: None,
            symbol: Symbol::parse(symbol).unwrap(),
            kind,
            direction: crate::domain::Direction::Long,
            confidence: 70,
            entry: 100.0,
            stop: 99.0,
            target: 102.0,
            detected_at: at(6),
            bar_time: at(5),
            market_date: at(5).date_naive(),
            dedup_key: String::new(),
            rationale: String::new(),
        };
        let e = |reason: &str, price: Option<f64>, r: Option<f64>, m| JournalEvent {
            reason: reason.into(),
            price,
            realised_r: r,
            at: at(m),
        };
        JournalSetup {
            setup: crate::setups::TrackedSetup::track(id, Some(id), &d, false, at(7)).unwrap(),
            detection: Some(d),
            events: vec![
                e("tracked", None, None, 7),
                e("entry_crossed", Some(100.0), None, 8),
                e(
                    if r > 0.0 { "target_hit" } else { "stopped_out" },
                    Some(100.0 + r),
                    Some(r),
                    9,
                ),
            ],
        }
    }

    fn sample() -> GroupedTrades {
        journal(
            &[
                setup(1, "SPY", SetupKind::OrbBreakout, 2.0),
                setup(2, "QQQ", SetupKind::OrbBreakout, -1.0),
                setup(3, "SPY", SetupKind::GapFill, -1.0),
            ],
            JournalRange::default(),
        )
    }

    #[test]
    fn a_kind_and_symbol_question_gets_that_group_of_the_journal_only() {
        let filter = StatsFilter {
            kind: Some(SetupKind::OrbBreakout),
            symbol: Some(Symbol::parse("SPY").unwrap()),
            hour: None,
        };
        let v = stats_json(&filter, &sample(), None);
        let groups = v["journal"]["groups"].as_array().unwrap();
        assert_eq!(groups.len(), 1, "{v:#}");
        assert_eq!(
            (groups[0]["kind"].as_str(), groups[0]["symbol"].as_str()),
            (Some("orb_breakout"), Some("SPY"))
        );
        assert_eq!(groups[0]["triggered"], 1);
        assert_eq!(groups[0]["avg_r"], 2.0);
        assert_eq!(v["backtest"], Value::Null);
        assert!(
            v["notes"][0]
                .as_str()
                .unwrap()
                .contains("coach backtest --store")
        );
    }

    #[test]
    fn no_question_gets_every_kind_and_the_total() {
        let v = stats_json(&StatsFilter::default(), &sample(), None);
        let kinds: Vec<&Value> = v["journal"]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| &g["kind"])
            .collect();
        assert_eq!(
            kinds,
            [&json!("gap_fill"), &json!("orb_breakout"), &Value::Null]
        );
        assert_eq!(v["journal"]["ended_attempts"], 3);
    }

    #[test]
    fn stored_backtest_rows_are_narrowed_the_same_way() {
        let rows = sample().groups(&[Dimension::Kind, Dimension::Symbol]);
        let filter = StatsFilter {
            kind: Some(SetupKind::GapFill),
            ..StatsFilter::default()
        };
        let v = stats_json(&filter, &GroupedTrades::new(), Some(&rows));
        let groups = v["backtest"]["groups"].as_array().unwrap();
        // kind-only rows are not in a kind × symbol split: no symbol asked, none kept
        assert!(groups.is_empty(), "{v:#}");
        let rows = sample().groups(&[Dimension::Kind]);
        let v = stats_json(&filter, &GroupedTrades::new(), Some(&rows));
        assert_eq!(v["backtest"]["groups"][0]["kind"], "gap_fill");
        assert_eq!(v["journal"]["groups"], json!([]));
        assert!(v["notes"][0].as_str().unwrap().contains("journal empty"));
    }
}
