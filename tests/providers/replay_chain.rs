//! The dashboard on recorded bars with `--chain` (`[replay] chains`, SPEC 19): the GEX
//! board the GEX pane, the brief and the detector read gets the recorded chain once the
//! replay clock reaches its snapshot time, with the chain's own spot and time.

use crate::support;

use std::time::Duration;

use chrono::{DateTime, Utc};
use coach::config::Config;
use coach::domain::Symbol;
use coach::gex::ExpiryFilter;
use coach::runtime::services::{Feed, Services};

/// A CBOE CSV chain of SPY saved on Friday 2013-10-04 at 10:00 New York, spot 168.45,
/// puts dominating (negative GEX).
const CHAIN: &str = "
SPDR S&P 500 ETF Trust,Last: 168.45,Change:  0.10
\"Date: October 04, 2013 at 10:00 AM EDT\",Bid: 1,Ask: 1,Size: 1*1,\"Volume: 1\"
Expiration Date,Calls,Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest,Strike,Puts,Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest
Fri Oct 11 2013,SPY131011C00168000,0,0,1,1.1,0,0.15,0.5,0.1,1000,168.00,SPY131011P00168000,0,0,1,1.1,0,0.15,-0.5,0.1,50000
Fri Oct 11 2013,SPY131011C00169000,0,0,1,1.1,0,0.15,0.5,0.1,1000,169.00,SPY131011P00169000,0,0,1,1.1,0,0.15,-0.5,0.1,40000
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_chain_reaches_the_gex_board_at_its_snapshot_time() {
    let Some(shared) = support::shared_dir() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("spy_chain.csv");
    std::fs::write(&chain, CHAIN).unwrap();
    let t = support::sqlite().await;
    let mut config = Config::default();
    config.general.provider = "replay".into();
    config.replay.bars = vec![
        shared
            .join("data/bars/lean_spy_2013-10")
            .display()
            .to_string(),
    ];
    config.replay.chains = vec![chain.display().to_string()];
    config.replay.speed = 3600.0;
    config.validate().unwrap();
    let feed = Feed::from_config(&config).unwrap();
    let services = Services::start(&config, &t.store, Utc::now(), feed);
    let mut board = services.gex.subscribe();
    let key = (Symbol::parse("SPY").unwrap(), ExpiryFilter::All);
    let profile = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            if let Some(p) = board.borrow_and_update().get(&key) {
                return p.clone();
            }
            board.changed().await.expect("the board stays open");
        }
    })
    .await
    .expect("the chain on the board within the first recorded session");
    services.shutdown();
    let saved: DateTime<Utc> = "2013-10-04T14:00:00Z".parse().unwrap();
    assert_eq!(profile.as_of, saved);
    assert_eq!(profile.spot, 168.45);
    assert!(profile.total_gex < 0.0, "{}", profile.total_gex);
    assert_eq!(profile.contracts_used, 4);
}

#[test]
fn a_recorded_chain_outside_the_bars_is_refused_before_anything_starts() {
    let Some(shared) = support::shared_dir() else {
        return;
    };
    let mut config = Config::default();
    config.general.provider = "replay".into();
    config.replay.bars = vec![
        shared
            .join("data/bars/lean_spy_2013-10")
            .display()
            .to_string(),
    ];
    let real = shared.join("data/gex/spy_quotedata_2025-09-25_2105EDT_partial.csv");
    config.replay.chains = vec![real.display().to_string()];
    let Err(err) = Feed::from_config(&config) else {
        panic!("a 2025 chain for 2013 bars was accepted");
    };
    assert!(err.contains("spy_quotedata_2025-09-25_2105EDT_partial.csv: the SPY chain's snapshot time 2025-09-25 21:05 EDT applies to the 2025-09-26 session, outside the SPY minute bars"), "{err}");
}
