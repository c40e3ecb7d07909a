//! Desktop notifications through the terminal itself (SPEC 20), pure: the bytes of an
//! OSC 777 notification (`ESC ] 777 ; notify ; TITLE ; BODY BEL`, rxvt's form, shown by
//! WezTerm, foot, Ghostty and others) followed by an OSC 9 one (`ESC ] 9 ; TEXT BEL`,
//! iTerm2's form, shown by Windows Terminal, kitty and others), each wrapped for tmux
//! passthrough (`ESC P tmux ; … ESC \`, every ESC inside doubled) when coach runs inside
//! tmux. The terminal forwards them to the desktop, over SSH too; see the README.
//!
//! Title and body are made printable first (no control text can end the sequence early
//! or start another), `;` in the title becomes `,` (OSC 777 splits on it), and both are
//! cut so a long alert cannot swamp the terminal.

use super::discord::cut;

/// Characters kept of a title and of a body.
const TITLE_MAX: usize = 80;
const BODY_MAX: usize = 240;

const ESC: char = '\u{1b}';
const BEL: char = '\u{7}';

/// Both notifications for one alert, wrapped for tmux when `in_tmux`.
pub fn notification(title: &str, body: &str, in_tmux: bool) -> Vec<u8> {
    let title = cut(&crate::text::printable(title).replace(';', ","), TITLE_MAX);
    let body = cut(&crate::text::printable(body), BODY_MAX);
    let osc777 = format!("{ESC}]777;notify;{title};{body}{BEL}");
    // OSC 9 has one text; `9;4;…` is a progress report in some terminals, and a text
    // starting with a digit could read as one: ours always starts with the title.
    let osc9 = format!("{ESC}]9;{title}: {body}{BEL}");
    let mut out = String::new();
    for sequence in [osc777, osc9] {
        if in_tmux {
            out.push_str(&tmux_passthrough(&sequence));
        } else {
            out.push_str(&sequence);
        }
    }
    out.into_bytes()
}

/// `sequence` wrapped so tmux hands it to the outer terminal (tmux needs
/// `set -g allow-passthrough on`, 3.3 and later).
pub fn tmux_passthrough(sequence: &str) -> String {
    format!(
        "{ESC}Ptmux;{}{ESC}\\",
        sequence.replace(ESC, &format!("{ESC}{ESC}"))
    )
}

/// Whether coach runs inside tmux: `$TMUX` set and not empty.
pub fn in_tmux(tmux_var: Option<&std::ffi::OsStr>) -> bool {
    tmux_var.is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_tmux_both_sequences_are_written_as_they_are() {
        let bytes = notification("coach · SPY price alert", "SPY above 600.00", false);
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "\x1b]777;notify;coach · SPY price alert;SPY above 600.00\x07\
             \x1b]9;coach · SPY price alert: SPY above 600.00\x07"
        );
    }

    #[test]
    fn inside_tmux_each_sequence_is_wrapped_with_its_escapes_doubled() {
        let bytes = notification("T", "B", true);
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "\x1bPtmux;\x1b\x1b]777;notify;T;B\x07\x1b\\\
             \x1bPtmux;\x1b\x1b]9;T: B\x07\x1b\\"
        );
    }

    #[test]
    fn control_text_in_an_alert_cannot_end_the_sequence_or_start_another() {
        let bytes = notification(
            "a;b\x07",
            "x\x1b]777;notify;pwned;y\x07z\x1b\\ \u{9b}2J",
            false,
        );
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(
            text.matches('\x1b').count(),
            2,
            "only our two OSC starts: {text:?}"
        );
        assert_eq!(text.matches('\x07').count(), 2, "only our two terminators");
        assert!(
            text.starts_with("\x1b]777;notify;a,b;xz 2J\x07"),
            "{text:?}"
        );
        assert!(!text.contains('\u{9b}'), "no C1 CSI");
    }

    #[test]
    fn tmux_is_detected_by_a_non_empty_variable() {
        assert!(in_tmux(Some(std::ffi::OsStr::new(
            "/tmp/tmux-1000/default,1,0"
        ))));
        assert!(!in_tmux(Some(std::ffi::OsStr::new(""))));
        assert!(!in_tmux(None));
    }
}
