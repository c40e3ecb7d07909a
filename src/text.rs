//! Making external text safe to draw or log.

/// Removes control characters and terminal escape sequences (CSI, OSC and lone ESC
/// sequences) so provider messages, notes and symbols can never drive the terminal.
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
        } else if !c.is_control() {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn escape_sequences_and_controls_are_removed() {
        assert_eq!(printable("a\u{1b}[31mred\u{1b}[0m b"), "ared b");
        assert_eq!(printable("x\u{1b}]0;title\u{7}y"), "xy");
        assert_eq!(printable("x\u{1b}]8;;http://e\u{1b}\\y"), "xy");
        assert_eq!(printable("bell\u{7}\r\nnext"), "bellnext");
        assert_eq!(printable("tab\there"), "tab here");
        assert_eq!(printable("plain ▲ 1.5%"), "plain ▲ 1.5%");
    }
}
