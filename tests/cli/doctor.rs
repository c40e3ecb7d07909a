//! `coach doctor` tells the truth about the database (issue 26 item 8): a database that
//! opens and reads but refuses writes fails the database check, found by a write in a
//! transaction the doctor rolls back.
//!
//! The read-only condition is real: the database file bind-mounted read-only over itself
//! (in a private mount namespace, [`SmallDisk`]; as root, which CI is, `chmod` does not
//! stop writes), or, for a user other than root, a file and directory without write
//! permission. PostgreSQL: a session whose
//! transactions are read-only (`default_transaction_read_only`), as on a standby.

use std::process::Output;

use crate::support;
use crate::support::small_disk::SmallDisk;

fn database_line(o: &Output) -> String {
    let out = String::from_utf8_lossy(&o.stdout);
    out.lines()
        .find(|l| l.contains("database"))
        .unwrap_or_else(|| panic!("no database line in {out}"))
        .to_string()
}

fn config_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), "").unwrap();
    dir
}

#[test]
fn a_read_only_database_file_fails_the_check_even_as_root() {
    let Some(disk) = SmallDisk::mount(3) else {
        return;
    };
    let config = config_dir();
    let url = disk.sqlite_url("coach.db");
    let doctor = || {
        disk.command(env!("CARGO_BIN_EXE_coach"))
            .args(["doctor", "--db", &url])
            .env("COACH_CONFIG", config.path().join("config.toml"))
            .output()
            .expect("coach doctor runs")
    };
    let fine = doctor();
    assert!(fine.status.success(), "{}", database_line(&fine));
    assert!(
        database_line(&fine).contains("takes writes"),
        "{}",
        database_line(&fine)
    );

    disk.make_read_only("coach.db");
    let refused = doctor();
    let line = database_line(&refused);
    assert_eq!(refused.status.code(), Some(1), "{line}");
    assert!(
        line.contains("refuses writes") && line.contains("read"),
        "{line}"
    );
}

#[test]
fn a_database_file_without_write_permission_fails_the_check() {
    if std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
    }) {
        eprintln!("skipping: root writes through chmod; the read-only filesystem test covers root");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let db = crate::isolated::db();
    let created = crate::isolated::coach(&db, &["doctor"]);
    assert!(created.status.success(), "{}", database_line(&created));
    let file = db.dir.path().join("coach.db");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(db.dir.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
    let refused = crate::isolated::coach(&db, &["doctor"]);
    std::fs::set_permissions(db.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let line = database_line(&refused);
    assert_eq!(refused.status.code(), Some(1), "{line}");
    assert!(
        line.contains("refuses writes") || line.contains("read"),
        "{line}"
    );
}

/// (The migration check already refuses this one: PostgreSQL refuses even
/// `CREATE TABLE IF NOT EXISTS` in a read-only transaction; kept so it stays refused.)
#[tokio::test]
async fn a_postgres_session_in_read_only_transactions_fails_the_check() {
    let Some(pg) = support::postgres().await else {
        return;
    };
    let config = config_dir();
    let url = format!(
        "{}&options[default_transaction_read_only]=on",
        pg.database_url()
    );
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_coach"))
        .args(["doctor", "--db", &url])
        .env("COACH_CONFIG", config.path().join("config.toml"))
        .output()
        .expect("coach doctor runs");
    let line = database_line(&refused);
    assert_eq!(refused.status.code(), Some(1), "{line}");
    assert!(line.contains("read-only"), "{line}");
}
