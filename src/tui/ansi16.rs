//! The 16 ANSI colours as 16-colour codes (issue 22 item 10): crossterm writes even the
//! named colours as 256-colour codes (`ESC[38;5;8m` for dark grey), which a terminal
//! that announces itself as `TERM=xterm` (8/16 colours) may not understand. This filter
//! on the way to the terminal rewrites `38;5;N` and `48;5;N` with N below 16 into the
//! classic codes (`90m`, `41m`, …) that mean the same colour everywhere; every other byte
//! passes unchanged. Sequences split across writes are held until complete.

/// Rewrites one stream of terminal output; keep one per stream.
#[derive(Debug, Default)]
pub struct Ansi16Filter {
    /// The start of a sequence that may still become one to rewrite.
    pending: Vec<u8>,
}

const FG: &[u8] = b"\x1b[38;5;";
const BG: &[u8] = b"\x1b[48;5;";
/// The longest a colour index may be (`255`).
const MAX_DIGITS: usize = 3;

impl Ansi16Filter {
    /// Appends `input`, rewritten, to `out`.
    pub fn filter(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let mut work = std::mem::take(&mut self.pending);
        work.extend_from_slice(input);
        let mut i = 0;
        while i < work.len() {
            if work[i] != 0x1b {
                let next = work[i..]
                    .iter()
                    .position(|b| *b == 0x1b)
                    .map_or(work.len(), |p| i + p);
                out.extend_from_slice(&work[i..next]);
                i = next;
                continue;
            }
            let rest = &work[i..];
            match rewrite(rest) {
                Step::Incomplete => {
                    self.pending = rest.to_vec();
                    return;
                }
                Step::Rewrite { code, len } => {
                    out.extend_from_slice(format!("\x1b[{code}m").as_bytes());
                    i += len;
                }
                Step::Pass => {
                    out.push(0x1b);
                    i += 1;
                }
            }
        }
    }
}

enum Step {
    /// Could still become a colour code: wait for more bytes.
    Incomplete,
    /// `len` bytes are the colour code `code`.
    Rewrite { code: u16, len: usize },
    /// Not one to rewrite.
    Pass,
}

fn rewrite(rest: &[u8]) -> Step {
    let (prefix, base, bright) = if rest.starts_with(FG) {
        (FG, 30, 90)
    } else if rest.starts_with(BG) {
        (BG, 40, 100)
    } else if FG.starts_with(rest) || BG.starts_with(rest) {
        return Step::Incomplete;
    } else {
        return Step::Pass;
    };
    let digits = rest[prefix.len()..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let end = prefix.len() + digits;
    if end == rest.len() {
        return if digits <= MAX_DIGITS {
            Step::Incomplete
        } else {
            Step::Pass
        };
    }
    if digits == 0 || digits > MAX_DIGITS || rest[end] != b'm' {
        return Step::Pass;
    }
    let n: u16 = std::str::from_utf8(&rest[prefix.len()..end])
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(u16::MAX);
    match n {
        0..=7 => Step::Rewrite {
            code: base + n,
            len: end + 1,
        },
        8..=15 => Step::Rewrite {
            code: bright + n - 8,
            len: end + 1,
        },
        _ => Step::Pass,
    }
}

#[cfg(test)]
mod tests {
    use super::Ansi16Filter;

    fn run(chunks: &[&[u8]]) -> Vec<u8> {
        let mut f = Ansi16Filter::default();
        let mut out = Vec::new();
        for c in chunks {
            f.filter(c, &mut out);
        }
        out
    }

    #[test]
    fn named_colours_become_16_colour_codes_and_the_rest_passes() {
        assert_eq!(
            run(&[b"a\x1b[38;5;8mgrey\x1b[39m"]),
            b"a\x1b[90mgrey\x1b[39m"
        );
        assert_eq!(
            run(&[b"\x1b[38;5;1mred\x1b[48;5;4m"]),
            b"\x1b[31mred\x1b[44m"
        );
        assert_eq!(run(&[b"\x1b[48;5;15m"]), b"\x1b[107m");
        // 256-colour and truecolour codes, other sequences and text are untouched
        for same in [
            &b"\x1b[38;5;208m"[..],
            b"\x1b[38;2;120;120;130m",
            b"\x1b[1m\x1b[7mx",
            b"plain text \xe2\x96\xb6",
        ] {
            assert_eq!(run(&[same]), same);
        }
    }

    #[test]
    fn a_code_split_across_writes_is_rewritten_whole() {
        let whole = b"x\x1b[38;5;8my";
        for cut in 1..whole.len() {
            let (a, b) = whole.split_at(cut);
            assert_eq!(run(&[a, b]), b"x\x1b[90my", "cut at {cut}");
        }
    }
}
