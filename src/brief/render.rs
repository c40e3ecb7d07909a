//! The brief as text: Markdown for `coach brief` and the lines the Brief pane draws.
//! Both read only the `Brief` value, so the screen and the command never disagree.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::builder::money;
use super::model::*;
use crate::market::calendar::NEW_YORK;

fn hm(t: DateTime<Utc>) -> String {
    t.with_timezone(&NEW_YORK).format("%H:%M").to_string()
}

fn p2(v: f64) -> String {
    format!("{v:.2}")
}

fn duration(minutes: i64) -> String {
    if minutes >= 60 {
        format!("{}h{:02}m", minutes / 60, minutes % 60)
    } else {
        format!("{minutes}m")
    }
}

/// The session line: `Tue 2013-10-08 · 09:30–16:00 ET · opens in 5m`.
pub fn session_text(s: &SessionLine) -> String {
    let when = match (s.minutes_to_open, s.minutes_to_close) {
        (Some(m), _) => format!(" · opens in {}", duration(m)),
        (None, Some(m)) => format!(" · closes in {}", duration(m)),
        _ => " · closed".into(),
    };
    format!(
        "{} · {}–{} ET{}{}",
        s.date.format("%a %Y-%m-%d"),
        hm(s.open),
        hm(s.close),
        if s.early_close {
            " · EARLY CLOSE 13:00"
        } else {
            ""
        },
        when
    )
}

/// A line of the brief as the screen shows it.
#[derive(Clone, Debug, PartialEq)]
pub enum TextLine {
    Heading(String),
    Text(String),
    /// Sources and secondary figures.
    Dim(String),
    /// Out-of-date data, flags, what is missing.
    Warn(String),
    Blank,
}

/// Facts of one symbol as short text lines (shared by both renderings).
fn symbol_lines(s: &SymbolBrief) -> Vec<TextLine> {
    let mut out = Vec::new();
    let last = match (&s.last, &s.change) {
        (Some(l), Some(c)) => format!(
            "last {} · {:+.2} ({:+.2} %{}) vs prior close",
            p2(l.price),
            c.points,
            c.percent,
            c.atrs.map(|a| format!(", {a:+.2} ATR")).unwrap_or_default()
        ),
        (Some(l), None) => format!("last {}", p2(l.price)),
        (None, _) => "last —".into(),
    };
    out.push(TextLine::Text(last));
    if let Some(src) = &s.sources.last {
        out.push(TextLine::Dim(format!("  from the {src}")));
    }
    if let Some(p) = &s.prior_day {
        out.push(TextLine::Text(format!(
            "PDH {} · PDL {} · PDC {}",
            p2(p.high),
            p2(p.low),
            p2(p.close)
        )));
        if let Some(src) = &s.sources.prior_day {
            out.push(TextLine::Dim(format!("  from the {src}")));
        }
        if let Some(src) = &s.sources.prior_close {
            out.push(TextLine::Dim(format!("  PDC is {src}")));
        }
    }
    if let Some((h, l)) = s.pre_market {
        out.push(TextLine::Text(format!(
            "pre-market H {} · L {}",
            p2(h),
            p2(l)
        )));
        if let Some(src) = &s.sources.pre_market {
            out.push(TextLine::Dim(format!("  from {src}")));
        }
    }
    if let Some(v) = &s.pivots {
        out.push(TextLine::Text(format!(
            "pivots R2 {} · R1 {} · P {} · S1 {} · S2 {}",
            p2(v.r2),
            p2(v.r1),
            p2(v.p),
            p2(v.s1),
            p2(v.s2)
        )));
    }
    let em = s.expected_move.as_ref().map(|e| {
        format!(
            "expected move ±{} ({})",
            p2(e.points),
            method_words(&e.method)
        )
    });
    let atr = s.atr14.map(|a| format!("ATR(14) {}", p2(a)));
    let line = match (atr, em) {
        (Some(atr), Some(em)) => Some(format!("{atr} · {em}")),
        (one, other) => one.or(other),
    };
    if let Some(line) = line {
        out.push(TextLine::Text(line));
        for src in [&s.sources.atr, &s.sources.expected_move]
            .into_iter()
            .flatten()
        {
            out.push(TextLine::Dim(format!("  {src}")));
        }
    }
    if let Some(g) = &s.gamma {
        let opt = |v: Option<f64>| v.map(p2).unwrap_or_else(|| "—".into());
        out.push(TextLine::Text(format!(
            "zero γ {} · call wall {} · put wall {} · GEX {} ({})",
            opt(g.zero_gamma),
            opt(g.call_wall),
            opt(g.put_wall),
            money(g.total_gex),
            g.regime
        )));
        if let Some(src) = &s.sources.gex {
            out.push(TextLine::Dim(format!("  {src}")));
        }
    }
    for m in &s.missing {
        out.push(TextLine::Warn(format!("not available: {m}")));
    }
    out
}

fn event_text(e: &EventRow, with_date: bool) -> String {
    format!(
        "{}{} ET  {}  [{}{}]",
        if with_date {
            format!("{} ", e.date.format("%a %m-%d"))
        } else {
            String::new()
        },
        e.time_et.format("%H:%M"),
        e.name,
        e.importance.as_str(),
        if e.source.is_empty() {
            String::new()
        } else {
            format!(", {}", e.source)
        }
    )
}

fn calendar_lines(ev: &EventsSection) -> Vec<TextLine> {
    let mut out = Vec::new();
    if ev.out_of_date {
        out.push(TextLine::Warn(format!(
            "calendar out of date: {} covers {} … {}",
            ev.calendar, ev.valid_from, ev.valid_through
        )));
    }
    if ev.today.is_empty() {
        out.push(TextLine::Text(if ev.out_of_date {
            "today: unknown".into()
        } else {
            "today: none scheduled".into()
        }));
    }
    for e in &ev.today {
        out.push(TextLine::Text(format!("today {}", event_text(e, false))));
    }
    for e in &ev.later_this_week {
        out.push(TextLine::Dim(format!("this week {}", event_text(e, true))));
    }
    out.push(TextLine::Dim(format!(
        "from {} (valid {} … {})",
        ev.calendar, ev.valid_from, ev.valid_through
    )));
    out
}

fn position_lines(r: &PositionRisk) -> Vec<TextLine> {
    let mut out = Vec::new();
    let pnl = match (r.pnl, r.pnl_percent) {
        (Some(p), Some(pc)) => format!("P&L {} ({pc:+.1} %)", money(p)),
        (Some(p), None) => format!("P&L {}", money(p)),
        _ => "P&L —".into(),
    };
    let dte = r.dte.map(|d| format!(" · {d} DTE")).unwrap_or_default();
    out.push(TextLine::Text(format!(
        "{} @ {} · {pnl}{dte}",
        r.label,
        p2(r.avg_price)
    )));
    let greeks = match (r.dollar_delta, r.dollar_gamma) {
        (Some(d), Some(g)) => format!("$Δ {} · $Γ {} per 1 %", money(d), money(g)),
        _ => "$Δ — · $Γ —".into(),
    };
    let level = r
        .nearest_level
        .as_ref()
        .map(|l| {
            format!(
                " · nearest {} {} ({:+.2}, {:+.2} %)",
                l.label,
                p2(l.price),
                l.distance,
                l.percent
            )
        })
        .unwrap_or_default();
    out.push(TextLine::Text(format!("  {greeks}{level}")));
    if let (Some(m), Some(src)) = (r.mark, &r.mark_source) {
        out.push(TextLine::Dim(format!(
            "  mark {} per share: {src}{}",
            p2(m),
            r.spot
                .map(|s| format!(", underlying {}", p2(s)))
                .unwrap_or_default()
        )));
    }
    if !r.flags.is_empty() {
        out.push(TextLine::Warn(format!("  ⚑ {}", r.flags.join(" · "))));
    }
    for m in &r.missing {
        out.push(TextLine::Warn(format!("  not available: {m}")));
    }
    out
}

fn totals_text(t: &PositionTotals) -> String {
    format!(
        "total: {} position{} · P&L {}{} · $Δ {} · $Γ {} per 1 %{}",
        t.positions,
        if t.positions == 1 { "" } else { "s" },
        money(t.pnl),
        if t.pnl_unknown > 0 {
            format!(" ({} unmarked)", t.pnl_unknown)
        } else {
            String::new()
        },
        money(t.dollar_delta),
        money(t.dollar_gamma),
        if t.greeks_unknown > 0 {
            format!(" ({} without greeks)", t.greeks_unknown)
        } else {
            String::new()
        }
    )
}

/// The brief as the Brief pane shows it: sections of short lines, wrapped by the pane.
pub fn text_lines(b: &Brief) -> Vec<TextLine> {
    let mut out = vec![
        TextLine::Heading(format!(
            "Morning brief · {} · {}",
            b.market_date, b.watchlist
        )),
        TextLine::Text(session_text(&b.session)),
        TextLine::Dim(format!("generated {} ET", hm(b.generated_at))),
        TextLine::Blank,
        TextLine::Text(b.summary.clone()),
        TextLine::Blank,
    ];
    for s in &b.symbols {
        out.push(TextLine::Heading(s.symbol.clone()));
        out.extend(symbol_lines(s));
        out.push(TextLine::Blank);
    }
    out.push(TextLine::Heading("Economic events".into()));
    out.extend(calendar_lines(&b.events));
    out.push(TextLine::Blank);
    out.push(TextLine::Heading("Open positions".into()));
    if b.positions.rows.is_empty() {
        out.push(TextLine::Dim("none (coach positions add …)".into()));
    } else {
        for r in &b.positions.rows {
            out.extend(position_lines(r));
        }
        out.push(TextLine::Text(totals_text(&b.positions.totals)));
    }
    out.push(TextLine::Blank);
    out.push(TextLine::Heading("Watch".into()));
    if b.watch.is_empty() && b.missing.is_empty() {
        out.push(TextLine::Dim("nothing flagged".into()));
    }
    for w in &b.watch {
        let line = format!("• {}", w.text);
        out.push(if w.kind == "missing" {
            TextLine::Warn(line)
        } else {
            TextLine::Text(line)
        });
    }
    for m in &b.missing {
        out.push(TextLine::Warn(format!("• {m}")));
    }
    out
}

/// The brief as Markdown (`coach brief --format markdown`).
pub fn markdown(b: &Brief) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Morning brief — {} ({})\n",
        b.market_date.format("%a %Y-%m-%d"),
        b.watchlist
    );
    let _ = writeln!(
        md,
        "Session {}. Generated {} ET.\n",
        session_text(&b.session),
        hm(b.generated_at)
    );
    let _ = writeln!(md, "## Summary\n\n{}\n", b.summary);
    let _ = writeln!(md, "## Levels\n");
    for s in &b.symbols {
        let _ = writeln!(md, "### {}\n", s.symbol);
        for line in symbol_lines(s) {
            match line {
                TextLine::Dim(t) => {
                    let _ = writeln!(md, "  - _{}_", t.trim());
                }
                TextLine::Warn(t) => {
                    let _ = writeln!(md, "- **{}**", t.trim());
                }
                TextLine::Text(t) | TextLine::Heading(t) => {
                    let _ = writeln!(md, "- {}", t.trim());
                }
                TextLine::Blank => {}
            }
        }
        md.push('\n');
    }
    let _ = writeln!(md, "## Economic events\n");
    for line in calendar_lines(&b.events) {
        match line {
            TextLine::Warn(t) => {
                let _ = writeln!(md, "- **{t}**");
            }
            TextLine::Dim(t) if t.starts_with("from ") => {
                let _ = writeln!(md, "\n_{t}_");
            }
            TextLine::Dim(t) | TextLine::Text(t) | TextLine::Heading(t) => {
                let _ = writeln!(md, "- {t}");
            }
            TextLine::Blank => {}
        }
    }
    let _ = writeln!(md, "\n## Open positions\n");
    if b.positions.rows.is_empty() {
        let _ = writeln!(md, "None recorded (`coach positions add`).");
    } else {
        let _ = writeln!(
            md,
            "| position | avg | mark | P&L | DTE | $Δ | $Γ/1 % | nearest level | flags |"
        );
        let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---|---|");
        let dash = || "—".to_string();
        for r in &b.positions.rows {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                r.label,
                p2(r.avg_price),
                r.mark.map(p2).unwrap_or_else(dash),
                r.pnl
                    .map(|p| format!("{} ({:+.1} %)", money(p), r.pnl_percent.unwrap_or(0.0)))
                    .unwrap_or_else(dash),
                r.dte.map(|d| d.to_string()).unwrap_or_else(dash),
                r.dollar_delta.map(money).unwrap_or_else(dash),
                r.dollar_gamma.map(money).unwrap_or_else(dash),
                r.nearest_level
                    .as_ref()
                    .map(|l| format!("{} {} ({:+.2})", l.label, p2(l.price), l.distance))
                    .unwrap_or_else(dash),
                r.flags.join(", ")
            );
        }
        let _ = writeln!(md, "\n{}", totals_text(&b.positions.totals));
        for r in &b.positions.rows {
            if let Some(src) = &r.mark_source {
                let _ = writeln!(md, "- _{}: mark from {src}_", r.label);
            }
            for m in &r.missing {
                let _ = writeln!(md, "- **{}: {m}**", r.label);
            }
        }
    }
    let _ = writeln!(md, "\n## Watch\n");
    if b.watch.is_empty() && b.missing.is_empty() {
        let _ = writeln!(md, "Nothing flagged.");
    }
    for w in &b.watch {
        let _ = writeln!(md, "- {}", w.text);
    }
    for m in &b.missing {
        let _ = writeln!(md, "- **{m}**");
    }
    md
}

/// How the expected move was measured, in words (the JSON keeps the identifier).
fn method_words(method: &str) -> &str {
    match method {
        "atm_straddle" => "at-the-money straddle",
        "atr14" => "daily ATR(14)",
        other => other,
    }
}
