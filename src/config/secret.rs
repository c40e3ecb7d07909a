//! Secrets from config or environment (webhook URLs, DSNs, API keys): the value is
//! reachable only through `expose`, and every way of printing or serialising it shows
//! `***`, so a secret cannot reach a log line, a `Debug` dump or an error message by accident.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A secret string. Empty means "not set".
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into().trim().to_string())
    }

    /// The value itself: only for the one place that sends it (an HTTP request).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_set(&self) -> bool {
        !self.0.is_empty()
    }

    /// `text` with every occurrence of the secret replaced by `***` (for error texts that
    /// may echo a request, as a second line of defence).
    pub fn redact_in(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_string()
        } else {
            text.replace(&self.0, "***")
        }
    }
}

/// Every configuration key whose value is a [`Secret`], as (section, key). Errors redact
/// these keys' values wherever they sit; `doctor` and `serve` warn when a file that sets
/// one is readable by others.
pub(crate) const SECRET_KEYS: [(&str, &str); 11] = [
    ("discord", "webhook_url"),
    ("alerts", "ntfy_url"),
    ("alerts", "webhook_url"),
    ("alerts", "slack_url"),
    ("alerts", "telegram_token"),
    ("sentry", "dsn"),
    ("llm", "api_key"),
    ("brief", "fred_api_key"),
    ("massive", "api_key"),
    ("alpaca", "key_id"),
    ("alpaca", "secret_key"),
];

/// `message` with the value of every secret key the configuration `text` sets replaced
/// by `***`: TOML errors quote the offending line (`api_key = SEKRET`), quoted or not,
/// and a type error may quote the value itself. A value is taken from `=` to the line's
/// end and, for inline tables, to the next `,` or `}`, each with and without quotes.
pub(super) fn redact_file_secrets(text: &str, message: &str) -> String {
    let mut values: Vec<&str> = Vec::new();
    for line in text.lines() {
        let mut rest = line;
        while let Some(eq) = rest.find('=') {
            let key = rest[..eq]
                .trim_end()
                .trim_end_matches(['"', '\''])
                .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("");
            let after = &rest[eq + 1..];
            if SECRET_KEYS.iter().any(|(_, secret)| *secret == key) {
                let whole = after.trim();
                let field = after.split([',', '}']).next().unwrap_or("").trim();
                for candidate in [whole, field] {
                    values.push(candidate);
                    values.push(candidate.trim_matches(['"', '\'']).trim());
                }
            }
            rest = after;
        }
    }
    // Longest first, so a value is replaced whole before any part of it.
    values.retain(|v| !v.is_empty());
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    values.dedup();
    values
        .iter()
        .fold(message.to_string(), |out, value| out.replace(value, "***"))
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_set() { "***" } else { "\"\"" })
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_set() { "***" } else { "" })
    }
}

/// Serialises as `***` when set and `""` when not: a dumped configuration never holds
/// the secret (and does not round-trip it, on purpose).
impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.is_set() { "***" } else { "" })
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret::new)
    }
}

/// Whether group or others may read the file (Unix permissions; elsewhere: false).
#[cfg_attr(not(unix), allow(unused_variables))]
pub fn readable_by_others(path: &std::path::Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o044 != 0)
    }
    #[cfg(not(unix))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints_its_value() {
        let s = Secret::new("https://discord.com/api/webhooks/1/tok");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"***\"");
        assert_eq!(s.expose(), "https://discord.com/api/webhooks/1/tok");
        assert_eq!(
            s.redact_in("POST https://discord.com/api/webhooks/1/tok failed"),
            "POST *** failed"
        );
    }

    #[test]
    fn an_unset_secret_is_empty_and_redacts_nothing() {
        let s = Secret::new("  ");
        assert!(!s.is_set());
        assert_eq!(format!("{s}"), "");
        assert_eq!(s.redact_in("text"), "text");
    }
}
