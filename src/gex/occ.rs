//! OCC option symbols: `ROOT YYMMDD C|P SSSSSSSS` (strike × 1000, 8 digits), e.g.
//! `SPXW230712C04500000`, with an optional `O:` prefix (Massive) and the root optionally
//! padded with spaces to 6 characters (the OSI form `SPY   251001P00500000`).

use std::fmt;

use chrono::NaiveDate;

use super::chain::{Right, Root};

/// A parsed OCC symbol.
#[derive(Clone, Debug, PartialEq)]
pub struct OccSymbol {
    pub root: Root,
    pub expiry: NaiveDate,
    pub right: Right,
    /// Strike in price units.
    pub strike: f64,
}

/// Which part of an OCC symbol is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OccPart {
    Length,
    Root,
    Expiry,
    Right,
    Strike,
}

impl fmt::Display for OccPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OccPart::Length => "length",
            OccPart::Root => "root",
            OccPart::Expiry => "expiry",
            OccPart::Right => "right",
            OccPart::Strike => "strike",
        })
    }
}

/// Why a text is not an OCC symbol; names the part and shows the symbol (made printable).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("OCC symbol {symbol:?}: {part} {problem}")]
pub struct OccError {
    pub symbol: String,
    pub part: OccPart,
    pub problem: String,
}

const TAIL_LEN: usize = 6 + 1 + 8;
const MAX_ROOT_LEN: usize = 6;

/// Parses an OCC symbol, with or without the `O:` prefix.
pub fn parse_occ(text: &str) -> Result<OccSymbol, OccError> {
    let fail = |part, problem: String| OccError {
        symbol: crate::text::printable(text),
        part,
        problem,
    };
    let body = text.trim();
    let body = body.strip_prefix("O:").unwrap_or(body);
    if !body.is_ascii() {
        return Err(fail(
            OccPart::Length,
            "contains non-ASCII characters".into(),
        ));
    }
    if body.len() <= TAIL_LEN {
        return Err(fail(
            OccPart::Length,
            format!(
                "is too short ({} characters; need a root and 15 more)",
                body.len()
            ),
        ));
    }
    let (root_part, tail) = body.split_at(body.len() - TAIL_LEN);
    let root = root_part.trim_end();
    if root.is_empty() || root.len() > MAX_ROOT_LEN {
        return Err(fail(
            OccPart::Root,
            format!("{root:?} must be 1 to 6 letters or digits"),
        ));
    }
    let root = Root::parse(root).map_err(|_| {
        fail(
            OccPart::Root,
            format!("{root:?} may only contain A-Z and 0-9"),
        )
    })?;
    let (date_text, rest) = tail.split_at(6);
    let (right_text, strike_text) = rest.split_at(1);
    let expiry = parse_yymmdd(date_text).ok_or_else(|| {
        fail(
            OccPart::Expiry,
            format!("{date_text:?} is not a YYMMDD date"),
        )
    })?;
    let right = match right_text {
        "C" => Right::Call,
        "P" => Right::Put,
        other => return Err(fail(OccPart::Right, format!("{other:?} is not C or P"))),
    };
    if !strike_text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(fail(
            OccPart::Strike,
            format!("{strike_text:?} is not 8 digits"),
        ));
    }
    let thousandths: u64 = strike_text
        .parse()
        .map_err(|_| fail(OccPart::Strike, format!("{strike_text:?} is not 8 digits")))?;
    if thousandths == 0 {
        return Err(fail(OccPart::Strike, "is zero".into()));
    }
    Ok(OccSymbol {
        root,
        expiry,
        right,
        strike: thousandths as f64 / 1000.0,
    })
}

fn parse_yymmdd(text: &str) -> Option<NaiveDate> {
    if text.len() != 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let yy: i32 = text[0..2].parse().ok()?;
    let mm: u32 = text[2..4].parse().ok()?;
    let dd: u32 = text[4..6].parse().ok()?;
    NaiveDate::from_ymd_opt(2000 + yy, mm, dd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_weekly_spx_call_with_the_massive_prefix() {
        let s = parse_occ("O:SPXW230712C04500000").unwrap();
        assert_eq!(s.root, "SPXW");
        assert_eq!(s.expiry, date(2023, 7, 12));
        assert_eq!(s.right, Right::Call);
        assert_eq!(s.strike, 4500.0);
    }

    #[test]
    fn an_etf_put_with_a_fractional_strike() {
        let s = parse_occ("SPY251001P00657500").unwrap();
        assert_eq!(s.root, "SPY");
        assert_eq!(s.expiry, date(2025, 10, 1));
        assert_eq!(s.right, Right::Put);
        assert_eq!(s.strike, 657.5);
    }

    #[test]
    fn the_space_padded_osi_form() {
        let s = parse_occ("SPY   251001P00500000").unwrap();
        assert_eq!(s.root, "SPY");
        assert_eq!(s.strike, 500.0);
        let s = parse_occ("VIX260617C00010000").unwrap();
        assert_eq!(s.root, "VIX");
        assert_eq!(s.strike, 10.0);
    }

    #[test]
    fn errors_name_the_bad_part() {
        let part = |t: &str| parse_occ(t).unwrap_err().part;
        assert_eq!(part("SPY251001"), OccPart::Length);
        assert_eq!(part(""), OccPart::Length);
        assert_eq!(part("spy251001C00500000"), OccPart::Root);
        assert_eq!(part("TOOLONGR251001C00500000"), OccPart::Root);
        assert_eq!(part("SPY251301C00500000"), OccPart::Expiry);
        assert_eq!(part("SPY250230C00500000"), OccPart::Expiry);
        assert_eq!(part("SPY251001X00500000"), OccPart::Right);
        assert_eq!(part("SPY251001C0050000A"), OccPart::Strike);
        assert_eq!(part("SPY251001C00000000"), OccPart::Strike);
        assert_eq!(part("SPY251001C+0500000"), OccPart::Strike);
        assert_eq!(part("SPYé51001C00500000"), OccPart::Length);
        let e = parse_occ("SPY251301C00500000").unwrap_err();
        assert_eq!(
            e.to_string(),
            "OCC symbol \"SPY251301C00500000\": expiry \"251301\" is not a YYMMDD date"
        );
    }
}
