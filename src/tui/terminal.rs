//! Entering and leaving the terminal's full-screen mode, safely.
//!
//! Restoration runs on normal exit, on error, on a panic of the UI thread (before
//! color-eyre's report), and on SIGTERM/SIGINT/SIGHUP/SIGQUIT. A panic on any other thread
//! (a worker) must not touch the terminal: the supervisor records it and Health shows it.
//!
//! The terminal may be gone when we leave (an SSH drop closes the pseudo-terminal): every
//! write on the way out ignores its error, and nothing on that path may panic, because a
//! panic there (ratatui's `Drop` and `eprintln!` both panic on a failed write) aborts.

use std::io::{self, Stdout, Write};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::ThreadId;

use crossterm::cursor::{Hide, Show};
use crossterm::event::{DisableBracketedPaste, DisableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    Clear, ClearType, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
    disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;

use super::ansi16::Ansi16Filter;
use super::lean_backend::LeanBackend;

pub type Term = Terminal<LeanBackend<Screen>>;

/// Standard output while the full-screen mode is on. Once `restore` has run, writes go
/// nowhere and succeed: the screen is no longer ours, and ratatui's `Drop` (which shows
/// the cursor and `eprintln!`s, so panics, when that write fails) must find nothing to
/// fail on a terminal that is gone. Colours go out as 16-colour codes where they are
/// one of the 16 ([`Ansi16Filter`]).
pub struct Screen(Stdout, Ansi16Filter);

impl Write for Screen {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if ACTIVE.load(Ordering::SeqCst) {
            let mut out = Vec::with_capacity(buf.len() + 16);
            self.1.filter(buf, &mut out);
            self.0.write_all(&out)?;
            Ok(buf.len())
        } else {
            Ok(buf.len())
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if ACTIVE.load(Ordering::SeqCst) {
            self.0.flush()
        } else {
            Ok(())
        }
    }
}

/// Whether a failed terminal write means the terminal itself is gone: a hung-up
/// pseudo-terminal answers EIO (ENXIO once the other side is closed), a pipe EPIPE.
pub fn is_gone(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::BrokenPipe
        || matches!(
            error.raw_os_error(),
            Some(libc::EIO | libc::ENXIO | libc::EPIPE)
        )
}

static ACTIVE: AtomicBool = AtomicBool::new(false);
static UI_THREAD: OnceLock<ThreadId> = OnceLock::new();

/// Installs color-eyre and a panic hook that restores the terminal only for a panic on
/// the UI thread (the thread that calls this). Call before `enter`.
pub fn install_hooks() -> color_eyre::Result<()> {
    let (panic_hook, eyre_hook) = color_eyre::config::HookBuilder::default().into_hooks();
    eyre_hook.install()?;
    // Only the first caller's thread is the UI thread; later calls change nothing.
    let _ = UI_THREAD.set(std::thread::current().id());
    std::panic::set_hook(Box::new(move |info| {
        if Some(&std::thread::current().id()) == UI_THREAD.get() {
            restore();
            // Not color-eyre's own hook: it `eprintln!`s, and a failed write to a closed
            // terminal would panic inside the hook, which aborts the process.
            let _ = writeln!(io::stderr(), "{}", panic_hook.panic_report(info));
        } else {
            // Never write to the screen from here: the worker's supervisor gets the
            // payload through its JoinHandle and shows it in Health.
            let location = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            tracing::error!(target: "panic", "background task panicked{location}");
        }
    }));
    Ok(())
}

/// Raw mode, alternate screen, hidden cursor.
pub fn enter() -> io::Result<Term> {
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    let mut stdout = io::stdout();
    execute!(stdout, EnterAlternateScreen, Hide)?;
    Terminal::new(LeanBackend::new(Screen(stdout, Ansi16Filter::default())))
}

/// Leaves everything `enter` set up (and the modes we never enable, in case a library
/// did). Idempotent and best-effort: errors are ignored because the terminal may be gone.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut stdout = io::stdout();
    let _ = execute!(
        stdout,
        EndSynchronizedUpdate,
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        Show
    );
    let _ = disable_raw_mode();
    let _ = stdout.flush();
}

/// Draws one frame inside a synchronized update (DEC 2026), so a slow link never shows
/// half a frame; a frame where no cell changed writes nothing ([`LeanBackend`]). The end
/// marker is sent even when drawing fails.
pub fn draw_synchronized<W: Write>(
    terminal: &mut Terminal<LeanBackend<W>>,
    render: impl FnOnce(&mut ratatui::Frame),
) -> io::Result<()> {
    let drawn = terminal.draw(render).map(|_| ());
    let ended = ratatui::backend::Backend::flush(terminal.backend_mut());
    drawn.and(ended)
}

/// Clears the screen and forgets the last frame, so the next draw repaints every cell
/// (Ctrl-L). Does not query the cursor position, which races the input reader.
pub fn force_full_redraw<W: Write>(terminal: &mut Terminal<LeanBackend<W>>) -> io::Result<()> {
    execute!(terminal.backend_mut(), Clear(ClearType::All))?;
    terminal.swap_buffers();
    Ok(())
}

/// Rings the terminal bell (BEL), for a price alert when `[ui] bell` is on.
pub fn bell<W: Write>(terminal: &mut Terminal<LeanBackend<W>>) -> io::Result<()> {
    let out = terminal.backend_mut();
    out.write_all(b"\x07")?;
    out.flush()
}

/// Writes desktop notifications (`[alerts] desktop`) as OSC 777 and OSC 9 sequences,
/// wrapped for tmux when `in_tmux`. Outside ratatui's buffer, between frames: the
/// sequences move no cursor and print nothing, so the frame is untouched.
pub fn desktop_notifications<W: Write>(
    terminal: &mut Terminal<LeanBackend<W>>,
    notes: &[(String, String)],
    in_tmux: bool,
) -> io::Result<()> {
    let out = terminal.backend_mut();
    for (title, body) in notes {
        out.write_all(&crate::notify::desktop::notification(title, body, in_tmux))?;
    }
    out.flush()
}
