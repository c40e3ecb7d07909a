//! `coach serve` killed with SIGKILL while its detector is storing (issue 25 items 3 and
//! 6): restarted on the same database it re-primes, and in the end every detection of the
//! recording is stored exactly once, the same set an uninterrupted run stores. Also: the
//! detector's lag behind the feed is in `/metrics`.
//!
//! Input: two sessions (2024-01-02 and 03) of the six symbols in the shared
//! `market-data_2024` folder, played by the replay provider at 3,600× (about 12 s a
//! session, pre-market included).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use coach::store::Store;

pub(super) const SHARED: &str = "../shared/data/bars/market-data_2024";
const DAYS: [&str; 2] = ["02 Jan 2024", "03 Jan 2024"];

/// A detection's unique key (symbol, kind, direction, market date, dedup key) → rows.
pub(super) type Keys = BTreeMap<String, usize>;

pub(super) fn shared() -> bool {
    crate::support::shared_present(SHARED)
}

/// The two sessions of every `*_1min_2024.csv` in the shared folder, into `dir/bars`,
/// and a config playing them; returns the config's path.
pub(super) fn recording(dir: &Path) -> std::path::PathBuf {
    let bars = dir.join("bars");
    std::fs::create_dir_all(&bars).unwrap();
    for entry in std::fs::read_dir(SHARED).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with("_1min_2024.csv") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let kept: Vec<&str> = text
            .lines()
            .enumerate()
            .filter(|(i, line)| *i == 0 || DAYS.iter().any(|d| line.contains(d)))
            .map(|(_, line)| line)
            .collect();
        std::fs::write(bars.join(&name), kept.join("\n") + "\n").unwrap();
    }
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[general]\nprovider = \"replay\"\n[replay]\nbars = [{:?}]\nspeed = 3600.0\n\
             [health]\ncheck_secs = 0.5\n",
            bars.display().to_string()
        ),
    )
    .unwrap();
    config
}

pub(super) struct Serve {
    child: Child,
    addr: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _killed = self.child.kill();
        let _waited = self.child.wait();
    }
}

pub(super) fn serve(config: &Path, db: &str) -> Serve {
    let mut child = Command::new(env!("CARGO_BIN_EXE_coach"))
        .arg("--config")
        .arg(config)
        .args(["--db", db, "serve", "--http", "127.0.0.1:0"])
        .env_remove("COACH_CONFIG")
        .env_remove("DISCORD_WEBHOOK_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let pipe = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if let Some(i) = line.find("listening on http://") {
                let rest = &line[i + "listening on http://".len()..];
                let _sent = tx.send(rest.split_whitespace().next().unwrap_or("").to_string());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("coach serve logs its address");
    Serve { child, addr }
}

/// The stored detections of the two sessions, by key, with how many rows each has.
pub(super) async fn stored(db: &str) -> Keys {
    let store = Store::open(db).await.unwrap();
    let mut keys = Keys::new();
    for day in ["2024-01-02", "2024-01-03"] {
        let date: NaiveDate = day.parse().unwrap();
        for s in store.detections_on(date).await.unwrap() {
            let d = s.detection;
            let key = format!(
                "{} {} {} {} {}",
                d.symbol, d.kind, d.direction, d.market_date, d.dedup_key
            );
            *keys.entry(key).or_default() += 1;
        }
    }
    store.close().await;
    keys
}

/// A worker's state in `/health/workers`.
async fn worker_state(http: &reqwest::Client, addr: &str, name: &str) -> String {
    let doc: serde_json::Value = http
        .get(format!("http://{addr}/health/workers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    doc["workers"]
        .as_array()
        .and_then(|w| w.iter().find(|w| w["name"] == name))
        .map(|w| w["state"].as_str().unwrap_or("").to_string())
        .unwrap_or_default()
}

/// Waits until the recording has played out (the feed worker stopped) and the stored
/// count has not moved for two seconds; the stored keys then.
pub(super) async fn played_out(server: &Serve, db: &str) -> Keys {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while worker_state(&http, &server.addr, "feed").await != "stopped" {
        assert!(Instant::now() < deadline, "the recording never finished");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let mut last = stored(db).await;
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = stored(db).await;
        if now == last {
            return now;
        }
        assert!(Instant::now() < deadline, "detections kept arriving");
        last = now;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_serve_killed_while_storing_detections_stores_each_once_after_its_restart() {
    if !shared() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = recording(dir.path());

    // The reference: one uninterrupted run.
    let clean_db = format!("sqlite://{}", dir.path().join("clean.db").display());
    let clean = {
        let server = serve(&config, &clean_db);
        played_out(&server, &clean_db).await
    };
    let total: usize = clean.values().sum();
    assert!(
        total >= 20,
        "the recording has detections to store: {clean:?}"
    );
    assert!(clean.values().all(|n| *n == 1));

    // Killed (SIGKILL, no goodbye) once about a third of them are stored.
    let db = format!("sqlite://{}", dir.path().join("killed.db").display());
    let mut first = serve(&config, &db);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let n: usize = stored(&db).await.values().sum();
        if n >= total / 3 {
            break;
        }
        assert!(Instant::now() < deadline, "only {n} of {total} stored");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let at_kill: usize = stored(&db).await.values().sum();
    assert!(
        at_kill > 0 && at_kill < total,
        "killed part-way: {at_kill} of {total} stored"
    );

    // Restarted on the same database: the same set, each once.
    let second = serve(&config, &db);
    let after = played_out(&second, &db).await;
    assert_eq!(
        after, clean,
        "after the kill at {at_kill} of {total}, the restart stores the uninterrupted set"
    );

    // The detector measured every bar it stored against the feed's clock.
    let metrics = reqwest::get(format!("http://{}/metrics", second.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for quantile in ["0.5", "0.99"] {
        let prefix = format!("coach_detector_lag_seconds{{quantile=\"{quantile}\"}} ");
        let line = metrics
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{metrics}"));
        let seconds: f64 = line[prefix.len()..].parse().unwrap();
        // Market seconds at 3,600×: a loaded machine's wall second is an hour of lag, so
        // the bound is the session (12 h with the pre-market). A lag read on the wall
        // clock (2026 against bars of 2024) or in the wrong unit would be far beyond it.
        assert!((0.0..=43_200.0).contains(&seconds), "{line}");
    }
}
