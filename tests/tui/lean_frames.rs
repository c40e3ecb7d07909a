//! The tight frame writer (`tui::lean_backend`, SPEC 15's 3 KB/s): what a terminal shows
//! from its bytes is exactly ratatui's buffer (text, colours, bold, dim, reverse, wide
//! symbols), a frame with no change writes nothing, and a price tick writes little more
//! than its digits.

use coach::tui::lean_backend::LeanBackend;
use coach::tui::terminal::draw_synchronized;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::{Terminal, TerminalOptions, Viewport};

use crate::written::Written;

const COLS: u16 = 60;
const ROWS: u16 = 12;

fn terminal(written: &Written) -> Terminal<LeanBackend<Written>> {
    Terminal::with_options(
        LeanBackend::new(written.clone()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, COLS, ROWS)),
        },
    )
    .unwrap()
}

/// A small deterministic generator, so every run draws the same frames.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

const COLOURS: [Color; 7] = [
    Color::Reset,
    Color::Green,
    Color::Red,
    Color::DarkGray,
    Color::Cyan,
    Color::Indexed(208),
    Color::Rgb(120, 120, 130),
];
const SYMBOLS: [&str; 8] = ["1", "7", ".", " ", "▲", "▼", "█", "━"];

/// Frame `n` of a market-like screen: a price table whose digits, arrows and colours
/// change a few cells at a time, some cells bold, dim or reversed (the selection), and
/// when `wide` a wide symbol now and then.
fn paint(buf: &mut Buffer, rng: &mut Lcg, changes: usize, wide: bool) {
    for _ in 0..changes {
        let x = rng.next(u64::from(COLS) - 1) as u16;
        let y = rng.next(u64::from(ROWS)) as u16;
        let mut style = Style::default()
            .fg(COLOURS[rng.next(7) as usize])
            .bg(COLOURS[rng.next(3) as usize * 3 % 7]);
        for (m, odds) in [
            (Modifier::BOLD, 4),
            (Modifier::DIM, 5),
            (Modifier::REVERSED, 6),
        ] {
            if rng.next(odds) == 0 {
                style = style.add_modifier(m);
            }
        }
        // bold and dim are one intensity on a terminal (and in vt100): never both
        if style.add_modifier.contains(Modifier::BOLD | Modifier::DIM) {
            style = style.remove_modifier(Modifier::DIM);
        }
        // a fresh style: `set_string` would patch the old one (bold then dim, both)
        for cx in x..(x + 2).min(COLS) {
            buf[(cx, y)].reset();
        }
        if wide && rng.next(40) == 0 {
            buf.set_string(x, y, "日", style);
        } else {
            buf.set_string(x, y, SYMBOLS[rng.next(8) as usize], style);
        }
    }
}

fn vt_colour(c: Color) -> vt100::Color {
    match c {
        Color::Reset => vt100::Color::Default,
        Color::Green => vt100::Color::Idx(2),
        Color::Red => vt100::Color::Idx(1),
        Color::DarkGray => vt100::Color::Idx(8),
        Color::Cyan => vt100::Color::Idx(6),
        Color::Indexed(n) => vt100::Color::Idx(n),
        Color::Rgb(r, g, b) => vt100::Color::Rgb(r, g, b),
        other => panic!("no test mapping for {other:?}"),
    }
}

/// Every cell the terminal shows equals the buffer's: symbol, colours, bold, dim,
/// reverse.
fn assert_shows(screen: &vt100::Screen, buf: &Buffer, frame: usize) {
    for y in 0..ROWS {
        for x in 0..COLS {
            let want = &buf[(x, y)];
            let Some(got) = screen.cell(y, x) else {
                panic!("frame {frame}: no cell at {x},{y}");
            };
            if want.symbol().is_empty() || got.is_wide_continuation() {
                continue;
            }
            let at = format!("frame {frame}, column {x}, row {y}");
            // a cell never written reads "" in vt100, a blank one " " in the buffer
            let shown = if got.has_contents() {
                got.contents()
            } else {
                " "
            };
            assert_eq!(shown, want.symbol(), "{at}: symbol");
            assert_eq!(got.fgcolor(), vt_colour(want.fg), "{at}: foreground");
            assert_eq!(got.bgcolor(), vt_colour(want.bg), "{at}: background");
            assert_eq!(
                got.bold(),
                want.modifier.contains(Modifier::BOLD),
                "{at}: bold"
            );
            assert_eq!(
                got.dim(),
                want.modifier.contains(Modifier::DIM),
                "{at}: dim"
            );
            assert_eq!(
                got.inverse(),
                want.modifier.contains(Modifier::REVERSED),
                "{at}: reverse"
            );
        }
    }
}

/// Every cell two terminals show is the same: symbol, colours, bold, dim, reverse.
fn assert_same_screens(lean: &vt100::Screen, reference: &vt100::Screen, frame: usize) {
    for y in 0..ROWS {
        for x in 0..COLS {
            let (Some(a), Some(b)) = (lean.cell(y, x), reference.cell(y, x)) else {
                panic!("frame {frame}: no cell at {x},{y}");
            };
            let at = format!("frame {frame}, column {x}, row {y}");
            assert_eq!(a.contents(), b.contents(), "{at}: symbol");
            assert_eq!(a.fgcolor(), b.fgcolor(), "{at}: foreground");
            assert_eq!(a.bgcolor(), b.bgcolor(), "{at}: background");
            assert_eq!(a.bold(), b.bold(), "{at}: bold");
            assert_eq!(a.dim(), b.dim(), "{at}: dim");
            assert_eq!(a.inverse(), b.inverse(), "{at}: reverse");
        }
    }
}

#[test]
fn a_terminal_fed_the_tight_frames_shows_exactly_each_buffer() {
    let written = Written::default();
    let mut term = terminal(&written);
    let mut parser = vt100::Parser::new(ROWS, COLS, 0);
    let mut rng = Lcg(25);
    let mut model = Buffer::empty(Rect::new(0, 0, COLS, ROWS));
    for frame in 0..300 {
        // the first frame paints much of the screen, later ones a few cells (a tick)
        paint(
            &mut model,
            &mut rng,
            if frame == 0 { 600 } else { 1 + frame % 9 },
            false,
        );
        draw_synchronized(&mut term, |f| f.buffer_mut().merge(&model)).unwrap();
        parser.process(&written.take());
        assert_shows(parser.screen(), &model, frame);
    }
}

/// With wide symbols painted over each other's halves the buffer is no longer what any
/// terminal can show; there the tight frames show what ratatui's own backend shows.
#[test]
fn with_wide_symbols_the_tight_frames_show_what_ratatuis_backend_shows() {
    let (lean_out, reference_out) = (Written::default(), Written::default());
    let mut lean = terminal(&lean_out);
    let mut reference = Terminal::with_options(
        ratatui::backend::CrosstermBackend::new(reference_out.clone()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, COLS, ROWS)),
        },
    )
    .unwrap();
    let mut lean_vt = vt100::Parser::new(ROWS, COLS, 0);
    let mut reference_vt = vt100::Parser::new(ROWS, COLS, 0);
    let mut rng = Lcg(7);
    let mut model = Buffer::empty(Rect::new(0, 0, COLS, ROWS));
    for frame in 0..300 {
        paint(
            &mut model,
            &mut rng,
            if frame == 0 { 600 } else { 1 + frame % 9 },
            true,
        );
        draw_synchronized(&mut lean, |f| f.buffer_mut().merge(&model)).unwrap();
        reference.draw(|f| f.buffer_mut().merge(&model)).unwrap();
        lean_vt.process(&lean_out.take());
        reference_vt.process(&reference_out.take());
        assert_same_screens(lean_vt.screen(), reference_vt.screen(), frame);
    }
}

#[test]
fn a_frame_where_nothing_changed_writes_nothing() {
    let written = Written::default();
    let mut term = terminal(&written);
    let mut model = Buffer::empty(Rect::new(0, 0, COLS, ROWS));
    model.set_string(2, 3, "SPY 689.12", Style::default().fg(Color::Green));
    draw_synchronized(&mut term, |f| f.buffer_mut().merge(&model)).unwrap();
    let first = written.take();
    assert!(first.starts_with(b"\x1b[?2026h"), "{first:?}");
    assert!(first.ends_with(b"\x1b[?2026l"), "{first:?}");
    draw_synchronized(&mut term, |f| f.buffer_mut().merge(&model)).unwrap();
    assert_eq!(written.take(), b"", "an unchanged frame");
}

#[test]
fn a_price_tick_writes_its_digits_with_a_short_move_and_a_16_colour_code() {
    let written = Written::default();
    let mut term = terminal(&written);
    let mut model = Buffer::empty(Rect::new(0, 0, COLS, ROWS));
    let up = Style::default().fg(Color::Green);
    model.set_string(2, 4, "SPY", Style::default());
    model.set_string(12, 4, "689.12", Style::default());
    model.set_string(22, 4, "▲+1.20", up);
    draw_synchronized(&mut term, |f| f.buffer_mut().merge(&model)).unwrap();
    written.take();

    // 689.12 → 689.17 and +1.20 → +1.25: two digits change on row 5 (1-based)
    model.set_string(12, 4, "689.17", Style::default());
    model.set_string(22, 4, "▲+1.25", up);
    draw_synchronized(&mut term, |f| f.buffer_mut().merge(&model)).unwrap();
    let tick = written.take();
    assert_eq!(
        String::from_utf8_lossy(&tick),
        "\x1b[?2026h\x1b[5;18H7\x1b[9C\x1b[32m5\x1b[0m\x1b[?2026l"
    );
}
