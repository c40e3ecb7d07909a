//! A real small filesystem that fills up: a tmpfs of a few megabytes mounted in a private
//! mount namespace (`unshare -m`, so nothing on the machine sees it). Programs run inside
//! the namespace (`nsenter`, [`SmallDisk::command`]) see it at its mount point; the test
//! fills and frees it through `/proc/<pid>/root/…` of the process holding the namespace
//! (SQLite cannot open a database there: it resolves that magic link to `/`). A write
//! past its size fails with ENOSPC, as on a full disk (issue 26).
//!
//! Mounting needs root (CI runs as root). Elsewhere [`SmallDisk::mount`] returns `None`
//! with a printed reason, and the tests that need it skip.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SmallDisk {
    holder: Child,
    /// The mount point as this process reaches it.
    root: PathBuf,
    _mount_point: tempfile::TempDir,
}

impl SmallDisk {
    /// A tmpfs of `megabytes` MiB, or `None` when this user cannot mount one.
    pub fn mount(megabytes: u32) -> Option<SmallDisk> {
        let is_root = effective_uid() == Some(0);
        let mount_point = tempfile::tempdir().expect("temp dir");
        let script = format!(
            "mount -t tmpfs -o size={megabytes}m coach-test-disk '{}' && echo mounted && exec sleep 600",
            mount_point.path().display()
        );
        let spawned = Command::new("unshare")
            .args(["-m", "sh", "-c", &script])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut holder = match spawned {
            Ok(child) => child,
            Err(e) if !is_root => {
                eprintln!("skipping the full-disk case: cannot run unshare: {e}");
                return None;
            }
            Err(e) => panic!("running as root but unshare failed: {e}"),
        };
        let mut line = String::new();
        let stdout = holder.stdout.take().expect("piped stdout");
        let _read = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
        if line.trim() != "mounted" {
            let output = holder.wait_with_output().expect("unshare ends");
            let why = String::from_utf8_lossy(&output.stderr).into_owned();
            if is_root {
                panic!("running as root but the small disk could not be mounted: {why}");
            }
            eprintln!("skipping the full-disk case: no tmpfs without root: {why}");
            return None;
        }
        let root = PathBuf::from(format!("/proc/{}/root", holder.id())).join(
            mount_point
                .path()
                .strip_prefix("/")
                .expect("an absolute temp dir"),
        );
        Some(SmallDisk {
            holder,
            root,
            _mount_point: mount_point,
        })
    }

    /// A path on the small disk, as this process reaches it.
    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// `sqlite://…` of a database file on the small disk, for a [`SmallDisk::command`].
    pub fn sqlite_url(&self, name: &str) -> String {
        format!("sqlite://{}", self._mount_point.path().join(name).display())
    }

    /// The mount point as programs inside the namespace see it.
    pub fn inside(&self) -> &std::path::Path {
        self._mount_point.path()
    }

    /// Makes one file of the small disk read-only (a read-only bind mount of the file
    /// over itself): writing to it fails with EROFS, even as root, while the directory
    /// stays writable (SQLite can still make its `-wal` and `-shm` files beside it).
    pub fn make_read_only(&self, name: &str) {
        let file = self.inside().join(name);
        let script = format!(
            "mount --bind '{0}' '{0}' && mount -o remount,bind,ro '{0}'",
            file.display()
        );
        let status = self
            .command("sh")
            .args(["-c", &script])
            .status()
            .expect("mount runs");
        assert!(status.success(), "making {name} read-only");
    }

    /// `program` run inside the namespace, where the small disk is mounted.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new("nsenter");
        command
            .arg(format!("--mount=/proc/{}/ns/mnt", self.holder.id()))
            .arg("--")
            .arg(program);
        command
    }

    /// Writes zeros into `filler` until the disk is full (ENOSPC).
    pub fn fill(&self) {
        fill(&self.path("filler"));
    }

    /// Frees the space [`SmallDisk::fill`] took.
    pub fn free(&self) {
        std::fs::remove_file(self.path("filler")).expect("remove the filler");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // The namespace, and so the mount, ends with its last process.
        let _killed = self.holder.kill();
        let _reaped = self.holder.wait();
    }
}

/// The environment variable that tells a test it runs inside [`rerun_in_namespace`].
pub const INSIDE: &str = "COACH_TEST_INSIDE_MOUNT_NAMESPACE";

/// Runs the test `name` of this test binary again, alone, in a private mount namespace of
/// its own, where it may mount a [`HereDisk`] and use it in-process (a database on it
/// opened by the test itself). Panics with its output when it fails; `false` (and a
/// printed reason) when this user cannot make a mount namespace.
pub fn rerun_in_namespace(name: &str) -> bool {
    let exe = std::env::current_exe().expect("the test binary's path");
    let output = Command::new("unshare")
        .arg("-m")
        .arg(exe)
        .args(["--exact", name, "--nocapture", "--test-threads", "1"])
        .env(INSIDE, "1")
        .output()
        .expect("unshare runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() && stderr.contains("unshare failed") && effective_uid() != Some(0) {
        eprintln!("skipping the full-disk case: no mount namespace without root: {stderr}");
        return false;
    }
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{name} in a private mount namespace:\n{stdout}\n{stderr}"
    );
    true
}

/// A tmpfs mounted by this process, which runs in a private mount namespace
/// ([`rerun_in_namespace`]); `None` outside one. The mount ends with the namespace, when
/// the process exits.
pub struct HereDisk {
    dir: tempfile::TempDir,
}

impl HereDisk {
    pub fn mount(megabytes: u32) -> Option<HereDisk> {
        std::env::var_os(INSIDE)?;
        let dir = tempfile::tempdir().expect("temp dir");
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={megabytes}m"),
                "coach-test-disk",
            ])
            .arg(dir.path())
            .status()
            .expect("mount runs");
        assert!(status.success(), "mounting the small disk");
        Some(HereDisk { dir })
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn sqlite_url(&self, name: &str) -> String {
        format!("sqlite://{}", self.path(name).display())
    }

    /// Writes zeros into `filler` until the disk is full (ENOSPC).
    pub fn fill(&self) {
        fill(&self.path("filler"));
    }

    pub fn free(&self) {
        std::fs::remove_file(self.path("filler")).expect("remove the filler");
    }
}

fn fill(path: &std::path::Path) {
    let mut file = std::fs::File::create(path).expect("create the filler");
    let block = vec![0u8; 4096];
    loop {
        match file.write(&block) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc_enospc()) => break,
            Err(e) => panic!("filling the small disk: {e}"),
        }
    }
    let _flushed = file.sync_all();
}

/// ENOSPC on Linux.
fn libc_enospc() -> i32 {
    28
}

/// The effective user id, read from `/proc/self/status` (no unsafe call needed).
fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// Waits until `check` holds, up to `limit`.
pub fn wait_until(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    check()
}
