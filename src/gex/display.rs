//! Text forms of GEX numbers shared by the CLI table and the TUI widget.

/// Dollars abbreviated to three significant figures at most: `$1.2B`, `$350M`, `-$12.5K`,
/// `$0`. Non-finite input prints `n/a` (it never comes from a profile, but text must not
/// show NaN).
pub fn abbreviate_dollars(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".into();
    }
    let sign = if value < 0.0 { "-" } else { "" };
    let v = value.abs();
    let (scaled, suffix) = if v >= 1e12 {
        (v / 1e12, "T")
    } else if v >= 1e9 {
        (v / 1e9, "B")
    } else if v >= 1e6 {
        (v / 1e6, "M")
    } else if v >= 1e3 {
        (v / 1e3, "K")
    } else {
        (v, "")
    };
    let digits = if suffix.is_empty() || scaled >= 100.0 {
        format!("{scaled:.0}")
    } else if scaled >= 10.0 {
        trim_zero(format!("{scaled:.1}"))
    } else {
        trim_zero(format!("{scaled:.2}"))
    };
    // Rounding can carry into the next unit (999.6K → "1000K"); say 1M instead.
    if digits == "1000" && !suffix.is_empty() && suffix != "T" {
        let next = match suffix {
            "K" => "M",
            "M" => "B",
            _ => "T",
        };
        return format!("{sign}${}{next}", 1);
    }
    if digits == "0" {
        return "$0".into();
    }
    format!("{sign}${digits}{suffix}")
}

fn trim_zero(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A price with as many decimals as it needs, at most two (`6700`, `657.5`, `99.71`).
pub fn price(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".into();
    }
    trim_zero(format!("{value:.2}"))
}

/// A price with exactly two decimals (`674.10`, `6700.00`): the GEX pane's form, where
/// prices sit in columns and `674.1` would read as a different tick.
pub fn price2(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".into();
    }
    format!("{value:.2}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_abbreviate_like_a_trader_reads_them() {
        assert_eq!(abbreviate_dollars(1.234e9), "$1.23B");
        assert_eq!(abbreviate_dollars(1.2e9), "$1.2B");
        assert_eq!(abbreviate_dollars(350e6), "$350M");
        assert_eq!(abbreviate_dollars(-350.4e6), "-$350M");
        assert_eq!(abbreviate_dollars(12_500.0), "$12.5K");
        assert_eq!(abbreviate_dollars(999.7e3), "$1M");
        assert_eq!(abbreviate_dollars(42.0), "$42");
        assert_eq!(abbreviate_dollars(0.0), "$0");
        assert_eq!(abbreviate_dollars(-0.2), "$0");
        assert_eq!(abbreviate_dollars(f64::NAN), "n/a");
        assert_eq!(abbreviate_dollars(2.5e12), "$2.5T");
    }

    #[test]
    fn prices_drop_useless_decimals() {
        assert_eq!(price(6700.0), "6700");
        assert_eq!(price(657.5), "657.5");
        assert_eq!(price(99.710_879), "99.71");
    }

    #[test]
    fn pane_prices_keep_two_decimals() {
        assert_eq!(price2(674.1), "674.10");
        assert_eq!(price2(6700.0), "6700.00");
        assert_eq!(price2(99.710_879), "99.71");
        assert_eq!(price2(f64::NAN), "n/a");
    }
}
