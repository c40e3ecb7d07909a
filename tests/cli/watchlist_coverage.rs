//! Issue 22 item 8: `coach watchlist set|add` says which symbols the provider has no data
//! for — on recorded bars those the files hold no bars of ("no data from replay for ZZZZ"),
//! in the simulation those outside `[sim] symbols` — and saves them anyway: the watchlist
//! outlives one recording.

use crate::isolated::{coach, db, err, out};
use crate::support;

#[test]
fn watchlist_add_on_recorded_bars_warns_about_zzzz_and_still_saves_it() {
    let Some(shared) = support::shared_dir() else {
        return;
    };
    let bars = shared.join("data/bars/lean_spy_2013-10");
    let db = db();
    let config = db.dir.path().join("config.toml");
    let replay = format!(
        "[general]\nprovider = \"replay\"\n[replay]\nbars = [{:?}]\n",
        bars.display().to_string()
    );
    std::fs::write(&config, &replay).unwrap();
    let added = coach(&db, &["watchlist", "add", "SPY", "zzzz"]);
    assert_eq!(added.status.code(), Some(0), "stderr: {}", err(&added));
    assert_eq!(
        err(&added),
        "warning: no data from replay for ZZZZ (the bar files hold none); saved anyway, \
         for other recordings and live feeds\n"
    );
    assert!(out(&added).ends_with(", ZZZZ\n"), "{}", out(&added));

    // Every named symbol in the files: nothing to say.
    let set = coach(&db, &["watchlist", "set", "SPY"]);
    assert_eq!(set.status.code(), Some(0), "stderr: {}", err(&set));
    assert_eq!(err(&set), "");

    // The simulation judges against its universe (`[sim] symbols`), and saves anyway.
    std::fs::write(&config, "").unwrap();
    let sim = coach(&db, &["watchlist", "add", "ZZZZ"]);
    assert_eq!(sim.status.code(), Some(0), "stderr: {}", err(&sim));
    assert_eq!(
        err(&sim),
        "warning: no data from sim for ZZZZ (add it to [sim] symbols to simulate it); saved \
         anyway, for recordings and live feeds\n"
    );
    assert_eq!(out(&sim), "Default: SPY, ZZZZ\n");
    let simulated = coach(&db, &["watchlist", "add", "NVDA", "IWM"]);
    assert_eq!(err(&simulated), "", "both are in the default [sim] symbols");

    // A live feed's answer comes at the open: nothing is judged.
    let alpaca = "[general]\nprovider = \"alpaca\"\n[alpaca]\nkey_id = \"not-a-key-id\"\n\
                  secret_key = \"not-a-secret\"\n";
    std::fs::write(&config, alpaca).unwrap();
    let live = coach(&db, &["watchlist", "add", "YYYY"]);
    assert_eq!(live.status.code(), Some(0), "stderr: {}", err(&live));
    assert_eq!(err(&live), "");
}
