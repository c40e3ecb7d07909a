//! Every command that takes symbols reads `SPY QQQ` and `SPY,QQQ` alike (issue 22 item 8):
//! one parser behind `watchlist set|add|remove`, `brief --watchlist`, `backtest
//! --symbols` and `--index`.

use crate::isolated::{coach, db, err, out};
use crate::support;

#[test]
fn the_watchlist_takes_commas_and_spaces_alike() {
    let db = db();
    let o = coach(&db, &["watchlist", "set", "spy,qqq", "IWM"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "Default: SPY, QQQ, IWM\n");
    let o = coach(&db, &["watchlist", "add", "AAPL, MSFT"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "Default: SPY, QQQ, IWM, AAPL, MSFT\n");
    let o = coach(&db, &["watchlist", "remove", "QQQ,MSFT"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "Default: SPY, IWM, AAPL\n");
    let o = coach(&db, &["watchlist", "set", "SPY,B@D"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("B@D"), "{}", err(&o));
}

#[test]
fn brief_watchlist_takes_spaces_and_commas_alike() {
    let Some(shared) = support::shared_dir() else {
        return;
    };
    let bars = shared.join("data/bars/lean_spy_2013-10");
    let db = db();
    let run = |symbols: &[&str]| {
        let mut args = vec![
            "brief",
            "--date",
            "2013-10-08",
            "--bars",
            bars.to_str().unwrap(),
            "--format",
            "json",
            "--watchlist",
        ];
        args.extend_from_slice(symbols);
        coach(&db, &args)
    };
    let spaced = run(&["SPY", "QQQ"]);
    assert!(spaced.status.success(), "{}", err(&spaced));
    let commas = run(&["SPY,QQQ"]);
    assert!(commas.status.success(), "{}", err(&commas));
    let symbols = |o: &std::process::Output| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(&out(o)).unwrap();
        v["symbols"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["symbol"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(symbols(&spaced), ["SPY", "QQQ"]);
    assert_eq!(symbols(&commas), ["SPY", "QQQ"]);
}
