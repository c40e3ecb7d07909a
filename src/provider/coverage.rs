//! Which watched symbols a provider has no data for (issue 22 item 8), and how that is
//! said: "no data from replay for ZZZZ, YYYY". Pure: the caller knows the provider's
//! symbols (a recording's files, the simulation's `[sim] symbols`); live providers are
//! not judged here (their answer comes at the open).

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

/// What the simulation says of watched symbols outside its universe (`[sim] symbols`, the
/// simulated "exchange"): `no data from sim for ZZZZ (add it to [sim] symbols to simulate
/// it)`; `None` when every one is simulated.
pub fn sim_no_data_message(missing: &[Symbol]) -> Option<String> {
    let message = no_data_message("sim", missing)?;
    let them = if missing.len() == 1 { "it" } else { "them" };
    Some(format!(
        "{message} (add {them} to [sim] symbols to simulate {them})"
    ))
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

    #[test]
    fn the_simulation_says_how_to_simulate_a_symbol_outside_its_universe() {
        let universe = symbols(&["SPX", "NDX", "SPY", "QQQ"]);
        let one = without_data(&universe, &symbols(&["SPY", "ZZZZ"]));
        assert_eq!(
            sim_no_data_message(&one).as_deref(),
            Some("no data from sim for ZZZZ (add it to [sim] symbols to simulate it)")
        );
        let two = without_data(&universe, &symbols(&["ZZZZ", "NFLX", "QQQ"]));
        assert_eq!(
            sim_no_data_message(&two).as_deref(),
            Some("no data from sim for ZZZZ, NFLX (add them to [sim] symbols to simulate them)")
        );
        assert_eq!(sim_no_data_message(&[]), None);
    }
}
