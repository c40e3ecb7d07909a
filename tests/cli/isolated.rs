//! Running the built `coach` binary against a database and an empty config file of its
//! own, so no test reads the user's configuration or another test's data.

use std::process::{Command, Output};

pub struct Db {
    pub dir: tempfile::TempDir,
    pub url: String,
}

/// A fresh SQLite database and an empty config file in a temporary directory.
pub fn db() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("coach.db").display());
    std::fs::write(dir.path().join("config.toml"), "").unwrap();
    Db { dir, url }
}

/// `coach ARGS --db URL` with `COACH_CONFIG` pointing at the empty config file.
pub fn coach(db: &Db, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coach"))
        .args(args)
        .args(["--db", &db.url])
        .env("COACH_CONFIG", db.dir.path().join("config.toml"))
        .output()
        .expect("the coach binary runs")
}

pub fn out(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

pub fn err(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}
