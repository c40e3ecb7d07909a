//! Open positions (SPEC 2, 8.4): what the trader holds, and the CSV they import from.
//! Pure: parsing and checks; the store keeps them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::Symbol;

/// Shares per option contract (US equity and index options).
pub const CONTRACT_MULTIPLIER: f64 = 100.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PositionKind {
    Stock,
    Call,
    Put,
}

impl PositionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PositionKind::Stock => "stock",
            PositionKind::Call => "call",
            PositionKind::Put => "put",
        }
    }

    pub fn parse(text: &str) -> Result<PositionKind, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "stock" | "shares" | "etf" => Ok(PositionKind::Stock),
            "call" | "c" => Ok(PositionKind::Call),
            "put" | "p" => Ok(PositionKind::Put),
            other => Err(format!("kind {other:?} is not stock, call or put")),
        }
    }

    pub fn is_option(self) -> bool {
        self != PositionKind::Stock
    }
}

/// A position as entered: the store adds an id and times.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewPosition {
    pub symbol: Symbol,
    pub kind: PositionKind,
    /// Options only, price units.
    pub strike: Option<f64>,
    /// Options only, New York date of the last trading day.
    pub expiry: Option<NaiveDate>,
    /// Shares or contracts; negative when short.
    pub quantity: f64,
    /// Average price paid per share (options: per share, so ×100 per contract).
    pub avg_price: f64,
    /// Implied volatility as an annual decimal (0.2 = 20 %) when the trader knows it;
    /// it drives the Black-Scholes delta, gamma and model mark.
    pub iv: Option<f64>,
}

/// A stored position.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub id: i64,
    #[serde(flatten)]
    pub spec: NewPosition,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl NewPosition {
    /// Checks a position before anything is saved; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.quantity.is_finite() && self.quantity != 0.0) {
            return Err(format!(
                "quantity {} must be a non-zero number",
                self.quantity
            ));
        }
        if self.quantity.abs() > MAX_QUANTITY {
            return Err(format!(
                "quantity {} is beyond ±{MAX_QUANTITY} shares or contracts; a typo?",
                self.quantity
            ));
        }
        if !(self.avg_price.is_finite() && self.avg_price >= 0.0) {
            return Err(format!("avg_price {} must be a price ≥ 0", self.avg_price));
        }
        if let Some(iv) = self.iv
            && !(iv.is_finite() && iv > 0.0 && iv < 10.0)
        {
            return Err(format!(
                "iv {iv} must be an annual decimal in (0, 10), e.g. 0.2 for 20 %"
            ));
        }
        match (self.kind.is_option(), self.strike, self.expiry) {
            (false, None, None) => Ok(()),
            (false, _, _) => Err("a stock position has no strike or expiry".into()),
            (true, Some(k), Some(_)) if k.is_finite() && k > 0.0 => Ok(()),
            (true, Some(k), Some(_)) => Err(format!("strike {k} must be a price > 0")),
            (true, _, _) => Err(format!(
                "a {} needs a strike and an expiry",
                self.kind.as_str()
            )),
        }
    }

    /// Refuses an option whose expiry is before `today` (the New York date): it is no
    /// longer a position. Expiring today (0DTE) is fine.
    pub fn check_expiry(&self, today: NaiveDate) -> Result<(), String> {
        match self.expiry {
            Some(expiry) if self.kind.is_option() && expiry < today => Err(format!(
                "expiry {expiry} has passed (today is {today} in New York): an expired \
                 {} is not an open position",
                self.kind.as_str()
            )),
            _ => Ok(()),
        }
    }

    /// `SPY 2026-12-18 700 call ×2` style label.
    pub fn label(&self) -> String {
        match (self.kind, self.strike, self.expiry) {
            (PositionKind::Stock, _, _) => format!("{} ×{}", self.symbol, qty(self.quantity)),
            (kind, Some(k), Some(e)) => format!(
                "{} {} {} {} ×{}",
                self.symbol,
                e,
                qty(k),
                kind.as_str(),
                qty(self.quantity)
            ),
            (kind, _, _) => format!("{} {} ×{}", self.symbol, kind.as_str(), qty(self.quantity)),
        }
    }
}

fn qty(q: f64) -> String {
    if q.fract() == 0.0 && q.abs() < 1e15 {
        format!("{}", q as i64)
    } else {
        format!("{q}")
    }
}

/// The CSV header `coach positions import` reads (iv may be left empty; extra columns
/// are refused so a shifted file is noticed).
pub const CSV_HEADER: &str = "symbol,kind,strike,expiry,quantity,avg_price,iv";

/// Parses a positions CSV. Every row is checked before any is returned; an error names
/// the line and the column.
/// Largest |quantity| a position may have, shares or contracts: beyond it, a typo.
pub const MAX_QUANTITY: f64 = 1_000_000.0;

/// The positions of a CSV file; `today` (the New York date) refuses expired options.
pub fn parse_csv(file: &str, text: &str, today: NaiveDate) -> Result<Vec<NewPosition>, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(format!(
            "{file}: empty; the first line must be {CSV_HEADER}"
        ));
    };
    let columns: Vec<String> = header
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .collect();
    let expected: Vec<&str> = CSV_HEADER.split(',').collect();
    let with_iv = columns == expected;
    if !with_iv && columns != expected[..6] {
        return Err(format!(
            "{file}: line 1: header {header:?} must be {CSV_HEADER} (iv optional)"
        ));
    }
    let mut out = Vec::new();
    for (i, line) in lines {
        let n = i + 1;
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != columns.len() {
            return Err(format!(
                "{file}: line {n}: {} fields, expected {}",
                cells.len(),
                columns.len()
            ));
        }
        let at = |col: &str, m: String| format!("{file}: line {n}: {col}: {m}");
        let number = |col: &str, s: &str| -> Result<f64, String> {
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| at(col, format!("{s:?} is not a number")))
        };
        let optional = |col: &str, s: &str| -> Result<Option<f64>, String> {
            if s.is_empty() {
                Ok(None)
            } else {
                number(col, s).map(Some)
            }
        };
        let symbol = Symbol::parse(cells[0]).map_err(|e| at("symbol", e.to_string()))?;
        let kind = PositionKind::parse(cells[1]).map_err(|m| at("kind", m))?;
        let strike = optional("strike", cells[2])?;
        let expiry = if cells[3].is_empty() {
            None
        } else {
            Some(
                NaiveDate::parse_from_str(cells[3], "%Y-%m-%d")
                    .map_err(|_| at("expiry", format!("{:?} is not YYYY-MM-DD", cells[3])))?,
            )
        };
        let position = NewPosition {
            symbol,
            kind,
            strike,
            expiry,
            quantity: number("quantity", cells[4])?,
            avg_price: number("avg_price", cells[5])?,
            iv: if with_iv {
                optional("iv", cells[6])?
            } else {
                None
            },
        };
        position
            .validate()
            .and_then(|()| position.check_expiry(today))
            .map_err(|m| format!("{file}: line {n}: {m}"))?;
        out.push(position);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    #[test]
    fn expired_options_and_absurd_quantities_are_refused() {
        let header = "symbol,kind,strike,expiry,quantity,avg_price\n";
        let expired = format!("{header}SPY,call,700,2026-11-23,2,4.10\n");
        let err = parse_csv("p.csv", &expired, today()).unwrap_err();
        assert!(
            err.contains("line 2") && err.contains("2026-11-23 has passed"),
            "{err}"
        );
        let zero_dte = format!("{header}SPY,put,650,2026-11-24,1,2.00\n");
        assert_eq!(parse_csv("p.csv", &zero_dte, today()).unwrap().len(), 1);
        let stock = format!("{header}SPY,stock,,,100,600\n");
        assert_eq!(parse_csv("p.csv", &stock, today()).unwrap().len(), 1);
        let absurd = format!("{header}SPY,stock,,,1e9,600\n");
        let err = parse_csv("p.csv", &absurd, today()).unwrap_err();
        assert!(err.contains("line 2") && err.contains("a typo?"), "{err}");
        let short = format!("{header}SPY,call,700,2026-12-18,-1000000,4.10\n");
        assert_eq!(parse_csv("p.csv", &short, today()).unwrap().len(), 1);
    }

    #[test]
    fn a_broker_style_csv_imports_with_and_without_iv() {
        let text = "symbol,kind,strike,expiry,quantity,avg_price,iv\n\
                    SPY,stock,,,100,690.5,\n\
                    SPY,call,700,2026-12-18,-2,4.10,0.18\n";
        let rows = parse_csv("p.csv", text, today()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].label(), "SPY 2026-12-18 700 call ×-2");
        assert_eq!(rows[1].iv, Some(0.18));
        let short = "symbol,kind,strike,expiry,quantity,avg_price\nQQQ,put,600,2026-12-04,1,3\n";
        assert_eq!(parse_csv("p.csv", short, today()).unwrap()[0].iv, None);
    }

    #[test]
    fn a_bad_row_names_its_line_and_column_and_nothing_is_imported() {
        let text = "symbol,kind,strike,expiry,quantity,avg_price\nSPY,stock,,,100,690\nSPY,call,700,12/18/2026,1,4\n";
        assert_eq!(
            parse_csv("p.csv", text, today()).unwrap_err(),
            "p.csv: line 3: expiry: \"12/18/2026\" is not YYYY-MM-DD"
        );
        let missing = "symbol,kind,strike,expiry,quantity,avg_price\nSPY,put,,,1,4\n";
        assert_eq!(
            parse_csv("p.csv", missing, today()).unwrap_err(),
            "p.csv: line 2: a put needs a strike and an expiry"
        );
        let header = "sym,kind\nSPY,stock\n";
        assert!(
            parse_csv("p.csv", header, today())
                .unwrap_err()
                .contains("line 1: header")
        );
        let zero = "symbol,kind,strike,expiry,quantity,avg_price\nSPY,stock,,,0,690\n";
        assert!(
            parse_csv("p.csv", zero, today())
                .unwrap_err()
                .contains("quantity 0")
        );
    }
}
