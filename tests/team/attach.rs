//! Two traders' screens attached to one `coach serve` through PostgreSQL (SPEC 14), the
//! real binaries in pseudo-terminals: each sees only their own setups, a setup written
//! by another process appears on its owner's screen through LISTEN/NOTIFY, the Health
//! pane shows the server's workers from `worker_status`, and a transition made by the
//! server's evaluator shows on its owner's screen only.

use crate::support;

use std::time::Duration;

use chrono::{DateTime, Utc};
use coach::store::{Store, StoredDetection};
use support::pty::Tui;
use support::team::{serve, track};

/// The server's last price of `symbol` and its (simulated) time, from `worker_status`,
/// once the simulated session is open.
async fn server_price(store: &Store, symbol: &str) -> (f64, DateTime<Utc>) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let rows = store
            .worker_statuses(Utc::now() - chrono::Duration::seconds(5))
            .await
            .unwrap();
        let quote = rows.iter().filter(|r| r.worker == "market").find_map(|r| {
            let market: serde_json::Value = serde_json::from_str(&r.payload_json).ok()?;
            market["quotes"].as_array()?.iter().find_map(|q| {
                (q["symbol"] == symbol).then(|| {
                    let at = q["at"].as_str()?.parse::<DateTime<Utc>>().ok()?;
                    Some((q["price"].as_f64()?, at))
                })?
            })
        });
        if let Some((price, at)) = quote
            && coach::market::calendar::phase(at) == coach::market::calendar::Phase::Regular
        {
            return (price, at);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no regular-session price"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_traders_attached_to_one_server_see_only_their_own_setups_live() {
    let Some(t) = support::postgres().await else {
        return;
    };
    let now = Utc::now();
    let ann = t.store.ensure_user("ann", now).await.unwrap();
    let bob = t.store.ensure_user("bob", now).await.unwrap();
    track(&t.store, ann, "ANNA").await;
    track(&t.store, bob, "BOBB").await;

    let url = t.database_url().to_string();
    let mut server = serve(&url);
    let pid = server.id().to_string();
    // Wide enough for the Health pane to show "host-pid worker" whole.
    let mut ann_tui = Tui::start_sized(&["--attach", "--db", &url, "--user", "ann"], 300, 50);
    let mut bob_tui = Tui::start(&["--attach", "--db", &url, "--user", "bob"]);
    for tui in [&mut ann_tui, &mut bob_tui] {
        tui.wait_for("6 Logs", Duration::from_secs(20));
        tui.press("3");
    }
    let ann_screen = ann_tui.wait_for("ANNA", Duration::from_secs(10));
    let bob_screen = bob_tui.wait_for("BOBB", Duration::from_secs(10));
    assert!(
        !ann_screen.contains("BOBB"),
        "ann sees bob's setup:\n{ann_screen}"
    );
    assert!(
        !bob_screen.contains("ANNA"),
        "bob sees ann's setup:\n{bob_screen}"
    );

    // Another process (here the test, as `coach` CLI would) tracks one for ann: it
    // arrives on ann's screen through the notification, never on bob's.
    track(&t.store, ann, "ANNC").await;
    ann_tui.wait_for("ANNC", Duration::from_secs(15));
    std::thread::sleep(Duration::from_secs(2));
    assert!(!bob_tui.text().contains("ANNC"), "bob sees ann's new setup");

    // The server's workers, named by its instance (host-pid), in ann's Health pane.
    ann_tui.press("5");
    ann_tui.wait_for(&format!("-{pid}"), Duration::from_secs(10));
    ann_tui.press("3");

    // The server's evaluator moves ann's setup and her screen shows it: a long on SPY
    // whose entry is already below the server's last price triggers on its next
    // regular-session quote.
    let (price, at) = server_price(&t.store, "SPY").await;
    let mut plan = support::team::detection("SPY");
    (plan.entry, plan.stop, plan.target) = (price - 2.0, price - 30.0, price + 30.0);
    plan.market_date = coach::market::calendar::ny_date(at);
    plan.detected_at = at;
    plan.bar_time = at - chrono::Duration::minutes(1);
    let (id, _) = t.store.insert_detection(&plan).await.unwrap();
    t.store
        .track(
            ann,
            &StoredDetection {
                id,
                detection: plan,
            },
            false,
            at,
        )
        .await
        .unwrap();
    let screen = ann_tui.wait_for("triggered", Duration::from_secs(30));
    assert!(screen.contains("SPY"), "{screen}");
    assert!(
        !bob_tui.text().contains("triggered"),
        "bob sees ann's transition"
    );

    server.kill().unwrap();
    server.wait().unwrap();
}
