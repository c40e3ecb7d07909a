//! Which watched symbols a provider has no data for (issue 22 item 8), and how that is
//! said: "no data from replay for ZZZZ, YYYY". Pure: the caller knows the provider's
//! symbols (a recording's files); live providers and the simulation are not judged here.

use crate::domain::Symbol;

/// The symbols of `wanted` absent from `known`, in `wanted`'s order, each once.
pub fn without_data(known: &[Symbol], wanted: &[Symbol]) -> Vec<Symbol> {
    let mut out: Vec<Symbol> = Vec::new();
    for symbol in wanted {
        if !known.contains(symbol) && !out.contains(symbol) {
            out.push(symbol.clone());
        }
    }
    out
}

/// `no data from replay for ZZZZ, YYYY`; `None` when every symbol has data.
pub fn no_data_message(provider: &str, missing: &[Symbol]) -> Option<String> {
    if missing.is_empty() {
        return None;
    }
    let names: Vec<&str> = missing.iter().map(Symbol::as_str).collect();
    Some(format!("no data from {provider} for {}", names.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbols(list: &[&str]) -> Vec<Symbol> {
        list.iter().map(|s| Symbol::parse(s).unwrap()).collect()
    }

    #[test]
    fn a_recording_of_spy_and_qqq_has_no_data_for_zzzz() {
        let files = symbols(&["QQQ", "SPY"]);
        let missing = without_data(&files, &symbols(&["SPY", "ZZZZ", "AAPL", "ZZZZ"]));
        assert_eq!(missing, symbols(&["ZZZZ", "AAPL"]));
        assert_eq!(
            no_data_message("replay", &missing).as_deref(),
            Some("no data from replay for ZZZZ, AAPL")
        );
    }

    #[test]
    fn every_symbol_in_the_files_says_nothing() {
        let files = symbols(&["QQQ", "SPY"]);
        assert!(without_data(&files, &symbols(&["SPY"])).is_empty());
        assert_eq!(no_data_message("replay", &[]), None);
        assert!(without_data(&files, &[]).is_empty());
    }
}
