//! A full disk never reports success for a write that did not happen (issue 26 item 1):
//! the real binary on a database on a small tmpfs that is filled up while `coach serve`
//! holds the same database open (the case where SQLite's commit, not the statement,
//! fails: the write-ahead log cannot grow). Every refused write exits 1 with the
//! database's reason; nothing it claimed is missing afterwards; once the disk has room
//! again, the same commands succeed.

use std::io::{BufRead, BufReader};
use std::process::{Child, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::support::small_disk::SmallDisk;

struct Setup {
    disk: SmallDisk,
    url: String,
    config: tempfile::TempDir,
}

impl Setup {
    fn coach(&self, args: &[&str]) -> Output {
        self.disk
            .command(env!("CARGO_BIN_EXE_coach"))
            .args(args)
            .args(["--db", &self.url])
            .env("COACH_CONFIG", self.config.path().join("config.toml"))
            .output()
            .expect("the coach binary runs")
    }

    /// `coach serve` on the same database, once it listens.
    fn serve(&self) -> Child {
        let mut child = self
            .disk
            .command(env!("CARGO_BIN_EXE_coach"))
            .args(["--db", &self.url, "serve", "--http", "127.0.0.1:0"])
            .env("COACH_CONFIG", self.config.path().join("config.toml"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("coach serve starts");
        let (tx, rx) = mpsc::channel();
        let pipe = child.stderr.take().expect("piped stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if line.contains("listening on http://") {
                    let _sent = tx.send(());
                }
            }
        });
        rx.recv_timeout(Duration::from_secs(30))
            .expect("coach serve listens within 30 s");
        child
    }
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn succeeds(o: &Output) -> String {
    let (out, err) = text(o);
    assert!(o.status.success(), "stdout: {out}\nstderr: {err}");
    out
}

/// Exit 1, the database's reason on stderr, and not the success line on stdout.
fn refused_for_full_disk(o: &Output, success_words: &str) {
    let (out, err) = text(o);
    assert_eq!(o.status.code(), Some(1), "stdout: {out}\nstderr: {err}");
    assert!(
        err.contains("full"),
        "the reason names the full disk: {err}"
    );
    assert!(
        !out.contains(success_words),
        "announced a write that did not happen: {out}"
    );
}

#[test]
fn on_a_full_disk_alerts_and_position_closes_fail_loudly_and_nothing_is_claimed() {
    let Some(disk) = SmallDisk::mount(3) else {
        return;
    };
    let config = tempfile::tempdir().unwrap();
    std::fs::write(
        config.path().join("config.toml"),
        "[health]\ncheck_secs = 0.5\n",
    )
    .unwrap();
    let url = disk.sqlite_url("coach.db");
    let s = Setup { disk, url, config };

    succeeds(&s.coach(&["alerts", "add", "SPY", "above", "1", "--note", "kept"]));
    let added = succeeds(&s.coach(&[
        "positions",
        "add",
        "SPY",
        "stock",
        "--qty",
        "10",
        "--price",
        "500",
    ]));
    assert!(added.contains('1'), "{added}");
    let mut serve = s.serve();

    s.disk.fill();
    refused_for_full_disk(
        &s.coach(&["alerts", "add", "SPY", "above", "2", "--note", "lost"]),
        "armed",
    );
    refused_for_full_disk(&s.coach(&["positions", "close", "1"]), "closed position");
    // Reading still works on a full disk.
    let listed = succeeds(&s.coach(&["alerts", "list"]));
    assert!(
        listed.contains("kept") && !listed.contains("lost"),
        "{listed}"
    );

    s.disk.free();
    let listed = succeeds(&s.coach(&["alerts", "list"]));
    assert!(
        listed.contains("kept") && !listed.contains("lost"),
        "nothing claimed is missing, nothing refused appears: {listed}"
    );
    let open = succeeds(&s.coach(&["positions", "list"]));
    assert!(open.contains("SPY"), "position 1 is still open: {open}");
    // With room again, the same writes succeed.
    succeeds(&s.coach(&["alerts", "add", "SPY", "above", "2", "--note", "again"]));
    let closed = succeeds(&s.coach(&["positions", "close", "1"]));
    assert!(closed.contains("closed position 1"), "{closed}");

    let _killed = serve.kill();
    let _reaped = serve.wait();
}
