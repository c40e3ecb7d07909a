//! `coach alerts add SYMBOL flip_cross|wall_break|regime_change [VALUE]` through the built
//! binary (SPEC 20): stored and listed, and every bad VALUE refused with its name, exit 2,
//! nothing stored.

use crate::isolated::{coach, db, err, out};

#[test]
fn gamma_alerts_are_added_listed_and_bad_values_refused_with_their_names() {
    let db = db();
    let o = coach(
        &db,
        &["alerts", "add", "SPX", "flip_cross", "--note", "the flip"],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("crosses zero gamma"), "{}", out(&o));
    let o = coach(&db, &["alerts", "add", "SPY", "wall_break", "0.1%"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        out(&o).contains("closes beyond a GEX wall by ≥ 0.1 %"),
        "{}",
        out(&o)
    );
    let o = coach(&db, &["alerts", "add", "SPX", "regime_change", "--repeat"]);
    assert!(o.status.success(), "{}", err(&o));
    let o = coach(&db, &["alerts", "list", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    let kinds: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["condition"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["regime_change", "wall_break", "flip_cross"]);

    for (args, says) in [
        (
            vec!["SPX", "flip_cross", "6850"],
            "flip_cross takes no value, got \"6850\"",
        ),
        (
            vec!["SPY", "wall_break"],
            "wall_break needs the break beyond the wall in percent of spot",
        ),
        (
            vec!["SPY", "wall_break", "wide"],
            "\"wide\" is not a number",
        ),
        (vec!["SPY", "wall_break", "25"], "from 0 to 10, got 25"),
        (vec!["SPY", "wall_break", "-1"], "from 0 to 10, got -1"),
        (
            vec!["SPX", "regime_change", "up"],
            "regime_change takes no value",
        ),
        (
            vec!["SPX", "gamma_flip"],
            "unknown alert condition \"gamma_flip\"",
        ),
    ] {
        let mut full = vec!["alerts", "add"];
        full.extend(&args);
        let o = coach(&db, &full);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", err(&o));
        assert!(err(&o).contains(says), "{args:?}: {}", err(&o));
    }
    let o = coach(&db, &["alerts", "list", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 3, "nothing more stored");
}
