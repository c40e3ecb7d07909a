//! Two traders' screens attached to one `coach serve` through PostgreSQL (SPEC 14), the
//! real binaries in pseudo-terminals: each sees only their own setups, a setup written
//! by another process appears on its owner's screen through LISTEN/NOTIFY, and the
//! Health pane shows the server's workers from `worker_status`.

mod support;

use std::time::Duration;

use chrono::Utc;
use support::pty::Tui;
use support::team::{serve, track};

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
    let mut ann_tui = Tui::start(&["--attach", "--db", &url, "--user", "ann"]);
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
    ann_tui.wait_for("ANNC", Duration::from_secs(5));
    std::thread::sleep(Duration::from_secs(2));
    assert!(!bob_tui.text().contains("ANNC"), "bob sees ann's new setup");

    // The server's workers, named by its instance (host-pid), in ann's Health pane.
    ann_tui.press("5");
    ann_tui.wait_for(&format!("-{pid}"), Duration::from_secs(10));

    server.kill().unwrap();
    server.wait().unwrap();
}
