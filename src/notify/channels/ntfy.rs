//! ntfy (https://ntfy.sh or a self-hosted server): the message is the body of a POST to
//! the topic URL; the title, priority and tags travel as headers. A header is ASCII, so a
//! title with other characters is sent RFC 2047-encoded (`=?UTF-8?B?…?=`), which ntfy
//! decodes.

use super::http::{Body, Poster};
use super::{ChannelError, Delivery};
use crate::notify::AlertKind;

#[derive(Debug)]
pub struct Ntfy {
    pub poster: Poster,
}

impl Ntfy {
    pub async fn send(&self, d: &Delivery) -> Result<(), ChannelError> {
        self.poster
            .post(&Body::Text {
                text: &d.body,
                headers: headers(d),
            })
            .await
    }
}

/// ntfy's headers for a delivery: `Title`, `Priority` (`high` for what asks for action
/// now: triggered, stopped out, a price alert; `default` otherwise) and `Tags`.
pub fn headers(d: &Delivery) -> Vec<(&'static str, String)> {
    let priority = match d.kind {
        AlertKind::Triggered | AlertKind::StoppedOut | AlertKind::PriceAlert => "high",
        _ => "default",
    };
    vec![
        ("Title", header_text(&d.title)),
        ("Priority", priority.into()),
        ("Tags", format!("coach,{}", d.kind.key())),
    ]
}

/// `text` as a header value: as is when printable ASCII, else RFC 2047 base64 UTF-8.
pub fn header_text(text: &str) -> String {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        text.to_string()
    } else {
        format!("=?UTF-8?B?{}?=", base64(text.as_bytes()))
    }
}

/// Standard base64 with padding (RFC 4648 §4).
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_test_vectors() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), coded, "{plain}");
        }
    }

    #[test]
    fn an_ascii_title_goes_as_is_and_any_other_is_encoded() {
        assert_eq!(header_text("SPY price alert"), "SPY price alert");
        // "coach · SPY": the middle dot is U+00B7, C2 B7 in UTF-8.
        assert_eq!(header_text("coach · SPY"), "=?UTF-8?B?Y29hY2ggwrcgU1BZ?=");
    }
}
