//! Server-sent events as the chat-completions stream sends them (pure): bytes in, one
//! `data` payload per event out. Lines may arrive split across network reads and in the
//! middle of a UTF-8 character; `\n`, `\r\n` and `\r` all end a line; comments (`:`) and
//! other fields (`event:`, `id:`, `retry:`) are ignored; several `data:` lines of one
//! event are joined with `\n` as the SSE specification says.

/// One complete event's data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SseData {
    /// A JSON chunk (or whatever the server sent; the caller parses it).
    Payload(String),
    /// `data: [DONE]`: the stream is complete.
    Done,
}

/// Longest line kept before it is cut (a runaway server cannot exhaust memory).
const MAX_LINE_BYTES: usize = 1 << 20;

#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of the line being received (not yet ended).
    line: Vec<u8>,
    /// `data` lines of the event being received.
    data: Vec<String>,
    /// The previous byte was `\r` (so a following `\n` belongs to the same line end).
    after_cr: bool,
}

impl SseParser {
    pub fn new() -> Self {
        SseParser::default()
    }

    /// Feeds bytes; returns the events they complete, in order.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseData> {
        let mut out = Vec::new();
        for &b in bytes {
            if self.after_cr && b == b'\n' {
                self.after_cr = false;
                continue;
            }
            self.after_cr = b == b'\r';
            if b == b'\n' || b == b'\r' {
                let line = std::mem::take(&mut self.line);
                self.end_line(&String::from_utf8_lossy(&line), &mut out);
            } else if self.line.len() < MAX_LINE_BYTES {
                self.line.push(b);
            }
        }
        out
    }

    /// The end of the body: an event not yet closed by a blank line still counts.
    pub fn finish(&mut self) -> Vec<SseData> {
        let mut out = Vec::new();
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.end_line(&String::from_utf8_lossy(&line), &mut out);
        }
        self.dispatch(&mut out);
        out
    }

    fn end_line(&mut self, line: &str, out: &mut Vec<SseData>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        if field == "data" {
            self.data.push(value.to_string());
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseData>) {
        if self.data.is_empty() {
            return;
        }
        let data = std::mem::take(&mut self.data).join("\n");
        if data.trim() == "[DONE]" {
            out.push(SseData::Done);
        } else {
            out.push(SseData::Payload(data));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all(chunks: &[&[u8]]) -> Vec<SseData> {
        let mut p = SseParser::new();
        let mut out: Vec<SseData> = chunks.iter().flat_map(|c| p.push(c)).collect();
        out.extend(p.finish());
        out
    }

    #[test]
    fn events_split_anywhere_come_out_whole() {
        let body = "data: {\"a\":1}\n\n: keep-alive\n\ndata: {\"b\":\"é\"}\r\n\r\ndata: [DONE]\n\n";
        let expected = vec![
            SseData::Payload("{\"a\":1}".into()),
            SseData::Payload("{\"b\":\"é\"}".into()),
            SseData::Done,
        ];
        let bytes = body.as_bytes();
        for cut in 0..bytes.len() {
            assert_eq!(
                all(&[&bytes[..cut], &bytes[cut..]]),
                expected,
                "cut at {cut}"
            );
        }
        let one_by_one: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(all(&one_by_one), expected);
    }

    #[test]
    fn multi_line_data_is_joined_and_other_fields_are_ignored() {
        let out = all(&[b"event: x\nid: 7\ndata: one\ndata:two\nretry: 5\n\n"]);
        assert_eq!(out, vec![SseData::Payload("one\ntwo".into())]);
    }

    #[test]
    fn an_unterminated_last_event_still_counts() {
        assert_eq!(
            all(&[b"data: {\"x\":2}"]),
            vec![SseData::Payload("{\"x\":2}".into())]
        );
        assert_eq!(all(&[b""]), vec![]);
    }

    proptest! {
        #[test]
        fn any_bytes_never_panic(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..16)) {
            let mut p = SseParser::new();
            for c in &chunks {
                let _ = p.push(c);
            }
            let _ = p.finish();
        }
    }
}
