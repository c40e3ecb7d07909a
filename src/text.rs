//! Making external text safe to draw or log.

/// The bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069):
/// not control characters, but they reorder what follows them on screen, so a note or a
/// file name could show text other than what it holds ("Trojan Source").
fn is_bidi_override(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `1 tracked setup`, `2 tracked setups`, `0 tracked setups`: a count with its noun in
/// the right number (the noun's plural is the noun with an `s`).
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// [`printable`] line by line, keeping the line breaks: for multi-line texts such as
/// error messages with their causes.
pub fn printable_lines(input: &str) -> String {
    input.lines().map(printable).collect::<Vec<_>>().join("\n")
}

/// Removes control characters (C0 and C1), terminal escape sequences (CSI, OSC and lone
/// ESC sequences) and bidirectional overrides, so provider messages, notes, file names
/// and symbols can never drive the terminal or reorder what is drawn.
pub fn printable(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            match chars.peek() {
                // CSI: ESC [ params... final byte in 0x40..=0x7E
                Some('[') => {
                    chars.next();
                    for c in chars.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&c) {
                            break;
                        }
                    }
                }
                // OSC/DCS/APC/PM/SOS: until BEL or ST (ESC \)
                Some(']' | 'P' | '_' | '^' | 'X') => {
                    chars.next();
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                            chars.next();
                            break;
                        }
                    }
                }
                Some(_) => {
                    chars.next();
                }
                None => {}
            }
        } else if c == '\t' {
            out.push(' ');
        } else if !c.is_control() && !is_bidi_override(c) {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{printable, printable_lines};

    #[test]
    fn escape_sequences_and_controls_are_removed() {
        assert_eq!(printable("a\u{1b}[31mred\u{1b}[0m b"), "ared b");
        assert_eq!(printable("x\u{1b}]0;title\u{7}y"), "xy");
        assert_eq!(printable("x\u{1b}]8;;http://e\u{1b}\\y"), "xy");
        assert_eq!(printable("bell\u{7}\r\nnext"), "bellnext");
        assert_eq!(printable("tab\there"), "tab here");
        assert_eq!(printable("plain ▲ 1.5%"), "plain ▲ 1.5%");
        assert_eq!(printable("c1\u{9b}31mx\u{85}y"), "c131mxy", "C1 controls");
    }

    #[test]
    fn bidirectional_overrides_are_removed_and_other_unicode_kept() {
        assert_eq!(printable("buy \u{202e}llac\u{202c} SPY"), "buy llac SPY");
        for c in [
            '\u{202a}', '\u{202b}', '\u{202d}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
        ] {
            assert_eq!(printable(&format!("a{c}b")), "ab", "U+{:04X}", c as u32);
        }
        // Neighbours of the ranges are ordinary text (en dash, zero-width joiner, U+206A).
        assert_eq!(
            printable("a\u{2013}b\u{200d}c\u{2070}"),
            "a\u{2013}b\u{200d}c\u{2070}"
        );
    }

    #[test]
    fn line_by_line_keeps_the_breaks_and_strips_each_line() {
        assert_eq!(
            printable_lines("bad file a\u{1b}]0;pwned\u{7}.csv\ncaused by: x\u{202e}y"),
            "bad file a.csv\ncaused by: xy"
        );
    }
}
