//! The real binary in a pseudo-terminal: start it with arguments and a home of its own,
//! read the screen (vt100) and the raw bytes it wrote, press keys, wait for it to exit.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

pub struct Tui {
    pub child: Box<dyn portable_pty::Child + Send + Sync>,
    parser: Arc<Mutex<vt100::Parser>>,
    /// Everything the binary wrote to the terminal.
    raw: Arc<Mutex<Vec<u8>>>,
    keys: Box<dyn Write + Send>,
    /// Kept open: the child sees a hang-up when the master closes.
    _master: Box<dyn portable_pty::MasterPty + Send>,
    home: Option<tempfile::TempDir>,
}

impl Tui {
    /// `coach ARGS` at 120×40 with a fresh home.
    pub fn start(args: &[&str]) -> Tui {
        Tui::start_sized(args, 120, 40)
    }

    /// `coach ARGS` at `cols`×`rows` with a fresh home.
    pub fn start_sized(args: &[&str], cols: u16, rows: u16) -> Tui {
        Tui::start_in(tempfile::tempdir().unwrap(), args, cols, rows)
    }

    /// `coach ARGS` at `cols`×`rows` with `home` as its home (and XDG folders under it).
    pub fn start_in(home: tempfile::TempDir, args: &[&str], cols: u16, rows: u16) -> Tui {
        Tui::start_with_env(home, args, cols, rows, &[])
    }

    /// `start_in` with `vars` set in the environment (an empty value removes the variable).
    pub fn start_with_env(
        home: tempfile::TempDir,
        args: &[&str],
        cols: u16,
        rows: u16,
        vars: &[(&str, &str)],
    ) -> Tui {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_coach"));
        cmd.args(args);
        cmd.env("HOME", home.path());
        cmd.env("XDG_CONFIG_HOME", home.path().join("config"));
        cmd.env("XDG_DATA_HOME", home.path().join("data"));
        cmd.env_remove("COACH_CONFIG");
        cmd.env("TERM", "xterm-256color");
        for (name, value) in vars {
            if value.is_empty() {
                cmd.env_remove(name);
            } else {
                cmd.env(name, value);
            }
        }
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let parser = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let mut reader = pair.master.try_clone_reader().unwrap();
        let (screen, bytes) = (parser.clone(), raw.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                screen.lock().unwrap().process(&buf[..n]);
                bytes.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let keys = pair.master.take_writer().unwrap();
        Tui {
            child,
            parser,
            raw,
            keys,
            _master: pair.master,
            home: Some(home),
        }
    }

    pub fn text(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// The rows drawn in reverse video (a list's highlight): for each, its line number
    /// and the text of its reversed cells only, trimmed.
    pub fn reversed_rows(&self) -> Vec<(u16, String)> {
        let parser = self.parser.lock().unwrap();
        let screen = parser.screen();
        let (rows, cols) = screen.size();
        let mut out = Vec::new();
        for row in 0..rows {
            let mut text = String::new();
            let mut any = false;
            for col in 0..cols {
                let Some(cell) = screen.cell(row, col) else {
                    continue;
                };
                if !cell.inverse() || cell.is_wide_continuation() {
                    continue;
                }
                any = true;
                match cell.contents() {
                    "" => text.push(' '),
                    c => text.push_str(c),
                }
            }
            if any {
                out.push((row, text.trim().to_string()));
            }
        }
        out
    }

    /// Everything written to the terminal so far, escape sequences included.
    pub fn raw(&self) -> String {
        String::from_utf8_lossy(&self.raw.lock().unwrap()).into_owned()
    }

    /// Waits until the screen shows `what` (panics with the screen after `limit`).
    pub fn wait_for(&self, what: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let text = self.text();
            if text.contains(what) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{what:?} never appeared:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the screen no longer shows `what`.
    pub fn wait_gone(&self, what: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        while self.text().contains(what) {
            assert!(
                Instant::now() < deadline,
                "{what:?} still shown:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Types `keys` and gives the binary 150 ms to draw the result.
    pub fn press(&mut self, keys: &str) {
        self.send(keys);
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Types `keys` without waiting (to time what follows from the keystroke).
    pub fn send(&mut self, keys: &str) {
        self.keys.write_all(keys.as_bytes()).unwrap();
    }

    /// Waits for the binary to exit (kills it and panics after `within`).
    pub fn wait_exit(&mut self, within: Duration) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // The reader thread drains what was written last.
                std::thread::sleep(Duration::from_millis(100));
                return status;
            }
            if Instant::now() > deadline {
                self.child.kill().ok();
                panic!("coach did not exit within {within:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The binary entered the alternate screen and left it again afterwards.
    pub fn left_alternate_screen(&self) -> bool {
        let raw = self.raw();
        match (raw.find("\x1b[?1049h"), raw.rfind("\x1b[?1049l")) {
            (Some(entered), Some(left)) => left > entered,
            _ => false,
        }
    }

    /// `q`, answering `y` when coach asks because setups are active; asserts a clean exit
    /// and hands back the home for a restart.
    /// The home folder the program runs in.
    pub fn home_path(&self) -> &std::path::Path {
        self.home
            .as_ref()
            .expect("the home folder is kept until quit")
            .path()
    }

    pub fn quit(mut self) -> tempfile::TempDir {
        self.press("q");
        // Under load the question may take a while to draw: wait for it or the exit.
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline && self.child.try_wait().ok().flatten().is_none() {
            if self.text().contains("still active") {
                self.press("y");
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let status = self.wait_exit(Duration::from_secs(15));
        assert!(status.success(), "{status:?}");
        self.home.take().expect("the home is handed back once")
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        let _gone = self.child.kill();
    }
}
