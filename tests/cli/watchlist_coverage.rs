//! Issue 22 item 8: on recorded bars, `coach watchlist set|add` says which symbols the
//! files hold no bars of ("no data from replay for ZZZZ") and saves them anyway — the
//! watchlist outlives one recording.

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

    // Without recorded bars (the simulation) nothing is judged.
    std::fs::write(&config, "").unwrap();
    let sim = coach(&db, &["watchlist", "add", "ZZZZ"]);
    assert_eq!(sim.status.code(), Some(0), "stderr: {}", err(&sim));
    assert_eq!(err(&sim), "");
    assert_eq!(out(&sim), "Default: SPY, ZZZZ\n");
}
