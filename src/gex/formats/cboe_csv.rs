//! CBOE "Download CSV" (`quotedata.csv`).
//!
//! Layout (blank lines anywhere are skipped; any line may quote fields):
//! 1. `<name>,Last: <spot>,Change: …`
//! 2. `"Date: <stamp>",Bid: …` with the stamp in US Eastern wall time, written either
//!    `September 25, 2025 at 9:05 PM EDT` or `9 June 2023, 1:40 PM EDT`
//! 3. the header `Expiration Date,Calls,…,IV,Delta,Gamma,Open Interest,Strike,Puts,…`
//! 4. one row per expiry and strike, call columns left of `Strike`, put columns right.
//!
//! Root, expiry, right and strike come from the OCC symbols in the `Calls`/`Puts` columns
//! (the root decides AM/PM settlement); the `Strike` column is checked against them.

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::America::New_York;

use super::{ChainReadError, RawChain, symbol_from_roots};
use crate::domain::Symbol;
use crate::gex::chain::{Contract, Right};
use crate::gex::occ::parse_occ;

/// Column positions of one side (calls or puts).
#[derive(Clone, Copy, Debug)]
struct Side {
    right: Right,
    symbol: usize,
    iv: usize,
    gamma: Option<usize>,
    open_interest: usize,
}

/// Reads a CBOE CSV chain.
pub fn parse(text: &str, file: &str) -> Result<RawChain, ChainReadError> {
    let err = |line: usize, field: &str, problem: String| {
        ChainReadError::new(file, Some(line), field, problem)
    };
    let mut spot: Option<f64> = None;
    let mut as_of: Option<DateTime<Utc>> = None;
    let mut layout: Option<(usize, Side, Side, usize)> = None; // strike column, calls, puts, width
    let mut contracts = Vec::new();

    for (index, raw_line) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw_line
            .trim_start_matches('\u{feff}')
            .trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let fields = split_csv_line(line).map_err(|p| err(line_no, "line", p))?;
        let Some((strike_col, calls, puts, width)) = layout else {
            // Preamble: spot, date, then the header.
            for (i, f) in fields.iter().enumerate() {
                let f = f.trim();
                if let Some(v) = f.strip_prefix("Last:") {
                    spot = Some(parse_price(v).ok_or_else(|| {
                        err(line_no, "Last", format!("{:?} is not a price", v.trim()))
                    })?);
                } else if let Some(v) = f.strip_prefix("Date:") {
                    // An unquoted `Date: 9 June 2023, 1:40 PM EDT` is split at its comma.
                    let joined = fields.get(i + 1).map(|next| format!("{v},{next}"));
                    let stamp = parse_eastern_stamp(v).or_else(|e| {
                        joined
                            .as_deref()
                            .map_or(Err(e.clone()), |j| parse_eastern_stamp(j).map_err(|_| e))
                    });
                    as_of = Some(stamp.map_err(|p| err(line_no, "Date", p))?);
                }
            }
            if fields
                .first()
                .is_some_and(|f| f.trim() == "Expiration Date")
            {
                layout = Some(read_header(&fields).map_err(|p| err(line_no, "header", p))?);
            }
            continue;
        };
        if fields.len() < width {
            return Err(err(
                line_no,
                "row",
                format!("has {} fields, the header has {width}", fields.len()),
            ));
        }
        let strike_text = fields[strike_col].trim();
        let strike = parse_number(strike_text)
            .filter(|k| *k > 0.0)
            .ok_or_else(|| {
                err(
                    line_no,
                    "Strike",
                    format!("{strike_text:?} is not a strike"),
                )
            })?;
        for side in [calls, puts] {
            contracts.push(read_side(&fields, side, strike, line_no, file)?);
        }
    }

    if layout.is_none() {
        return Err(ChainReadError::new(
            file,
            None,
            "header",
            "no header line starting with \"Expiration Date\" (is this a CBOE quotedata CSV?)",
        ));
    }
    let spot = spot.ok_or_else(|| {
        ChainReadError::new(
            file,
            None,
            "Last",
            "no \"Last: <spot>\" field before the header",
        )
    })?;
    if spot.is_nan() || spot <= 0.0 {
        return Err(ChainReadError::new(
            file,
            None,
            "Last",
            format!("spot {spot} is not positive"),
        ));
    }
    let symbol: Symbol = symbol_from_roots(&contracts).ok_or_else(|| {
        ChainReadError::new(file, None, "Calls", "no option rows to name the underlying")
    })?;
    Ok(RawChain {
        symbol,
        spot,
        as_of,
        contracts,
    })
}

fn read_header(fields: &[String]) -> Result<(usize, Side, Side, usize), String> {
    let names: Vec<&str> = fields.iter().map(|f| f.trim()).collect();
    let strike = names
        .iter()
        .position(|n| *n == "Strike")
        .ok_or("no \"Strike\" column")?;
    let (left, right) = (&names[..strike], &names[strike + 1..]);
    let find = |part: &[&str], name: &str, side: &str, offset: usize| -> Result<usize, String> {
        part.iter()
            .position(|n| *n == name)
            .map(|i| i + offset)
            .ok_or_else(|| format!("no {name:?} column on the {side} side of \"Strike\""))
    };
    let calls = Side {
        right: Right::Call,
        symbol: find(left, "Calls", "call (left)", 0)?,
        iv: find(left, "IV", "call (left)", 0)?,
        gamma: find(left, "Gamma", "call (left)", 0).ok(),
        open_interest: find(left, "Open Interest", "call (left)", 0)?,
    };
    let off = strike + 1;
    let puts = Side {
        right: Right::Put,
        symbol: find(right, "Puts", "put (right)", off)?,
        iv: find(right, "IV", "put (right)", off)?,
        gamma: find(right, "Gamma", "put (right)", off).ok(),
        open_interest: find(right, "Open Interest", "put (right)", off)?,
    };
    Ok((strike, calls, puts, names.len()))
}

fn read_side(
    fields: &[String],
    side: Side,
    strike: f64,
    line: usize,
    file: &str,
) -> Result<Contract, ChainReadError> {
    let (label, symbol_col) = match side.right {
        Right::Call => ("calls", "Calls"),
        Right::Put => ("puts", "Puts"),
    };
    let err = |field: &str, problem: String| {
        ChainReadError::new(file, Some(line), format!("{field} ({label})"), problem)
    };
    let occ = parse_occ(&fields[side.symbol]).map_err(|e| err(symbol_col, e.to_string()))?;
    if occ.right != side.right {
        return Err(err(
            symbol_col,
            format!(
                "{} is a {}, in the {label} column",
                fields[side.symbol].trim(),
                occ.right
            ),
        ));
    }
    if (occ.strike - strike).abs() > 1e-6 * strike.max(1.0) {
        return Err(err(
            symbol_col,
            format!(
                "strike {} disagrees with the Strike column {strike}",
                occ.strike
            ),
        ));
    }
    let number = |col: usize, name: &str| -> Result<f64, ChainReadError> {
        let t = fields[col].trim();
        if t.is_empty() {
            return Ok(0.0);
        }
        parse_number(t)
            .filter(|v| *v >= 0.0 || name == "Gamma")
            .ok_or_else(|| err(name, format!("{t:?} is not a non-negative number")))
    };
    let iv = number(side.iv, "IV")?;
    let open_interest = number(side.open_interest, "Open Interest")?;
    let gamma = match side.gamma {
        Some(col) if !fields[col].trim().is_empty() => Some(number(col, "Gamma")?),
        _ => None,
    };
    Ok(Contract {
        root: occ.root,
        expiry: occ.expiry,
        right: occ.right,
        strike: occ.strike,
        open_interest,
        iv,
        gamma,
    })
}

/// Splits one CSV line: commas separate, double quotes group, `""` inside quotes is a quote.
fn split_csv_line(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut in_quotes = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, in_quotes) {
            ('"', true) if chars.peek() == Some(&'"') => {
                current.push('"');
                chars.next();
            }
            ('"', true) => in_quotes = false,
            ('"', false) if current.trim().is_empty() => {
                current.clear();
                in_quotes = true;
            }
            (',', false) => fields.push(std::mem::take(&mut current)),
            (c, _) => current.push(c),
        }
    }
    if in_quotes {
        return Err("a quoted field is not closed".into());
    }
    fields.push(current);
    Ok(fields)
}

/// A number, allowing thousands separators (`"6,688.46"`).
fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    let v: f64 = if t.contains(',') {
        t.replace(',', "").parse().ok()?
    } else {
        t.parse().ok()?
    };
    v.is_finite().then_some(v)
}

fn parse_price(text: &str) -> Option<f64> {
    parse_number(text).filter(|v| *v > 0.0)
}

/// A US Eastern wall-clock stamp such as `September 25, 2025 at 9:05 PM EDT` or
/// `9 June 2023, 1:40 PM EDT`, as a UTC instant (America/New_York rules; the EDT/EST
/// abbreviation settles the repeated hour of a DST fall-back).
pub fn parse_eastern_stamp(text: &str) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    let (body, zone) = match text.rsplit_once(' ') {
        Some((body, z)) if matches!(z, "EDT" | "EST" | "ET") => (body.trim(), Some(z)),
        _ => (text, None),
    };
    let cleaned = body.replace(" at ", " ").replace(',', " ");
    let cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    let local = ["%B %d %Y %I:%M %p", "%d %B %Y %I:%M %p", "%b %d %Y %I:%M %p", "%d %b %Y %I:%M %p"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&cleaned, f).ok())
        .ok_or_else(|| {
            format!("{text:?} is not a stamp like \"September 25, 2025 at 9:05 PM EDT\" or \"9 June 2023, 1:40 PM EDT\"")
        })?;
    let instant = match New_York.from_local_datetime(&local) {
        LocalResult::Single(t) => t,
        LocalResult::Ambiguous(daylight, standard) => {
            if zone == Some("EST") {
                standard
            } else {
                daylight
            }
        }
        LocalResult::None => return Err(format!("{text:?} does not exist in New York (DST gap)")),
    };
    Ok(instant.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    const HEADER: &str = "Expiration Date,Calls,Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest,Strike,Puts,Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest";

    fn file(rows: &[&str]) -> String {
        let mut s = String::from(
            "\nSPDR S&P 500 ETF Trust,Last: 658.05,Change:  -3.05\n\"Date: September 25, 2025 at 9:05 PM EDT\",Bid: 657.81,Ask: 657.83,Size: 1*4,\"Volume: 89,468,957\"\n",
        );
        s.push_str(HEADER);
        s.push('\n');
        for r in rows {
            s.push_str(r);
            s.push('\n');
        }
        s
    }

    const ROW: &str = "Wed Oct 01 2025,SPY251001C00655000,5.5,0,5.4,5.6,100,0.1512,0.55,0.0401,2500,655.00,SPY251001P00655000,2.1,0,2.0,2.2,90,0.1633,-0.45,0.0392,4100";

    #[test]
    fn both_stamp_spellings_read_as_new_york_time() {
        assert_eq!(
            parse_eastern_stamp("September 25, 2025 at 9:05 PM EDT").unwrap(),
            utc("2025-09-26T01:05:00Z")
        );
        assert_eq!(
            parse_eastern_stamp("9 June 2023, 1:40 PM EDT").unwrap(),
            utc("2023-06-09T17:40:00Z")
        );
        assert_eq!(
            parse_eastern_stamp("January 5, 2024 at 10:00 AM EST").unwrap(),
            utc("2024-01-05T15:00:00Z")
        );
        // The repeated 1 AM hour of 2025-11-02 is settled by the abbreviation.
        assert_eq!(
            parse_eastern_stamp("November 2, 2025 at 1:30 AM EDT").unwrap(),
            utc("2025-11-02T05:30:00Z")
        );
        assert_eq!(
            parse_eastern_stamp("November 2, 2025 at 1:30 AM EST").unwrap(),
            utc("2025-11-02T06:30:00Z")
        );
        assert!(
            parse_eastern_stamp("March 9, 2025 at 2:30 AM EST")
                .unwrap_err()
                .contains("DST gap")
        );
        assert!(parse_eastern_stamp("yesterday").is_err());
    }

    #[test]
    fn a_row_gives_a_call_and_a_put_with_iv_oi_and_published_gamma() {
        let raw = parse(&file(&[ROW]), "q.csv").unwrap();
        assert_eq!(raw.symbol.as_str(), "SPY");
        assert_eq!(raw.spot, 658.05);
        assert_eq!(raw.as_of, Some(utc("2025-09-26T01:05:00Z")));
        assert_eq!(raw.contracts.len(), 2);
        let (c, p) = (&raw.contracts[0], &raw.contracts[1]);
        assert_eq!(
            (c.right, c.strike, c.iv, c.open_interest, c.gamma),
            (Right::Call, 655.0, 0.1512, 2500.0, Some(0.0401))
        );
        assert_eq!(
            (p.right, p.strike, p.iv, p.open_interest),
            (Right::Put, 655.0, 0.1633, 4100.0)
        );
        assert_eq!(c.expiry, NaiveDate::from_ymd_opt(2025, 10, 1).unwrap());
        assert_eq!(c.root, "SPY");
    }

    #[test]
    fn the_other_cboe_preamble_spelling_reads_too() {
        let text = format!(
            "\n\nSPX Index,\"Last: 6,688.46\",Change: 1\nDate: 9 June 2023, 1:40 PM EDT,Bid: 1\n{HEADER}\n{}\n",
            "Fri Jun 16 2023,SPX230616C04300000,1,0,1,1,1,0.12,0.5,0.001,\"1,200\",4300.00,SPX230616P04300000,1,0,1,1,1,0.13,-0.5,0.001,900"
        );
        let raw = parse(&text, "spx.csv").unwrap();
        assert_eq!(raw.symbol.as_str(), "SPX");
        assert_eq!(raw.spot, 6688.46);
        assert_eq!(raw.as_of, Some(utc("2023-06-09T17:40:00Z")));
        assert_eq!(raw.contracts[0].open_interest, 1200.0);
        assert_eq!(raw.contracts[0].root, "SPX");
    }

    #[test]
    fn bad_cells_are_named_by_line_and_column() {
        let bad_oi = ROW.replace(",4100", ",lots");
        let e = parse(&file(&[ROW, &bad_oi]), "q.csv").unwrap_err();
        assert_eq!(e.line, Some(6));
        assert_eq!(e.field, "Open Interest (puts)");
        assert!(
            e.to_string()
                .starts_with("q.csv:6: Open Interest (puts): \"lots\""),
            "{e}"
        );

        let bad_symbol = ROW.replace("SPY251001C00655000", "SPY251301C00655000");
        let e = parse(&file(&[&bad_symbol]), "q.csv").unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (Some(5), "Calls (calls)"));
        assert!(e.problem.contains("expiry"), "{e}");

        let wrong_strike = ROW.replace(",655.00,", ",660.00,");
        let e = parse(&file(&[&wrong_strike]), "q.csv").unwrap_err();
        assert!(e.problem.contains("disagrees"), "{e}");

        let short = "Wed Oct 01 2025,SPY251001C00655000,5.5";
        let e = parse(&file(&[short]), "q.csv").unwrap_err();
        assert_eq!(e.field, "row");

        let swapped = ROW.replace("SPY251001C00655000", "SPY251001P00655000");
        assert!(
            parse(&file(&[&swapped]), "q.csv")
                .unwrap_err()
                .problem
                .contains("is a put")
        );
    }

    #[test]
    fn a_file_without_header_or_spot_is_refused() {
        assert_eq!(parse("", "e.csv").unwrap_err().field, "header");
        assert_eq!(
            parse("a,b,c\n1,2,3\n", "e.csv").unwrap_err().field,
            "header"
        );
        let no_spot = file(&[ROW]).replace("Last: 658.05", "Final: 658.05");
        assert_eq!(parse(&no_spot, "e.csv").unwrap_err().field, "Last");
        let bad_date = file(&[ROW]).replace("September 25, 2025 at 9:05 PM EDT", "soon");
        let e = parse(&bad_date, "e.csv").unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (Some(3), "Date"));
        let open_quote = file(&[ROW]).replace("957\"", "957");
        assert!(
            parse(&open_quote, "e.csv")
                .unwrap_err()
                .problem
                .contains("not closed")
        );
    }

    #[test]
    fn empty_iv_and_oi_cells_read_as_zero() {
        let row = ROW.replace(",0.1512,", ",,").replace(",2500,", ",,");
        let raw = parse(&file(&[&row]), "q.csv").unwrap();
        assert_eq!(
            (raw.contracts[0].iv, raw.contracts[0].open_interest),
            (0.0, 0.0)
        );
    }

    #[test]
    fn quoted_fields_keep_their_commas() {
        assert_eq!(
            split_csv_line("a,\"b,c\",d").unwrap(),
            vec!["a", "b,c", "d"]
        );
        assert_eq!(
            split_csv_line("\"x \"\"y\"\"\",z").unwrap(),
            vec!["x \"y\"", "z"]
        );
        assert_eq!(split_csv_line("").unwrap(), vec![""]);
    }
}
