//! Checks of the `[alerts]` delivery channels (SPEC 20): URLs that are URLs, kinds that
//! exist, a command with a program, quiet hours that parse. Messages name the key and
//! never show a secret's value.

use chrono::NaiveTime;

use super::ConfigError;
use super::ops::{AlertsConfig, check_secs};
use super::secret::Secret;

/// The names a `*_kinds` list may hold: the `[alerts]` switches of the trading alerts.
pub const KIND_NAMES: [&str; 6] = [
    "detected",
    "triggered",
    "invalidated",
    "target_hit",
    "stopped_out",
    "price_alert",
];

/// The placeholders a `command` argument may hold.
pub const PLACEHOLDERS: [&str; 4] = ["{title}", "{body}", "{symbol}", "{kind}"];

/// Quiet hours: from `start` (inclusive) to `end` (exclusive), New York wall-clock time;
/// `start > end` crosses midnight (`22:00-06:00`). `start == end` is refused at load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl QuietHours {
    /// `""` is none; otherwise `HH:MM-HH:MM`.
    pub fn parse(text: &str) -> Result<Option<QuietHours>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let bad = || {
            format!(
                "{:?} is not HH:MM-HH:MM (New York time, e.g. 12:00-13:00)",
                crate::text::printable(text)
            )
        };
        let (a, b) = text.split_once('-').ok_or_else(bad)?;
        let time = |s: &str| NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| bad());
        let (start, end) = (time(a)?, time(b)?);
        if start == end {
            return Err(format!(
                "{text:?} starts and ends at the same minute: leave it empty for no quiet hours"
            ));
        }
        Ok(Some(QuietHours { start, end }))
    }

    /// Whether the New York wall-clock time `t` is inside.
    pub fn contains(self, t: NaiveTime) -> bool {
        if self.start < self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }
}

fn invalid(key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: format!("alerts.{key}"),
        reason: reason.into(),
    }
}

fn check_url(key: &str, url: &Secret) -> Result<(), ConfigError> {
    let text = url.expose();
    if url.is_set()
        && (!(text.starts_with("https://") || text.starts_with("http://"))
            || text.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        return Err(invalid(
            key,
            "is not an http(s) URL (value not shown: it is a secret)",
        ));
    }
    Ok(())
}

fn check_kinds(key: &str, kinds: &[String]) -> Result<(), ConfigError> {
    match kinds.iter().find(|k| !KIND_NAMES.contains(&k.as_str())) {
        None => Ok(()),
        Some(k) => Err(invalid(
            key,
            format!(
                "{:?} is not a kind of alert: use {}",
                crate::text::printable(k),
                KIND_NAMES.join(", ")
            ),
        )),
    }
}

/// Checks every channel key of `[alerts]`.
pub(super) fn validate(alerts: &AlertsConfig) -> Result<(), ConfigError> {
    check_url("ntfy_url", &alerts.ntfy_url)?;
    check_url("webhook_url", &alerts.webhook_url)?;
    check_url("slack_url", &alerts.slack_url)?;
    for (key, kinds) in [
        ("desktop_kinds", &alerts.desktop_kinds),
        ("ntfy_kinds", &alerts.ntfy_kinds),
        ("webhook_kinds", &alerts.webhook_kinds),
        ("slack_kinds", &alerts.slack_kinds),
        ("telegram_kinds", &alerts.telegram_kinds),
        ("command_kinds", &alerts.command_kinds),
    ] {
        check_kinds(key, kinds)?;
    }
    let token = alerts.telegram_token.expose();
    if alerts.telegram_token.is_set()
        && !token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-'))
    {
        return Err(invalid(
            "telegram_token",
            "is not a bot token like 123456:ABC-def (value not shown: it is a secret)",
        ));
    }
    let chat = alerts.telegram_chat.trim();
    if alerts.telegram_token.is_set() == chat.is_empty() {
        return Err(invalid(
            "telegram_chat",
            "telegram_token and telegram_chat go together: set both or neither",
        ));
    }
    let chat_ok = chat.is_empty()
        || chat.starts_with('@')
        || chat.trim_start_matches('-').parse::<i64>().is_ok();
    if !chat_ok {
        return Err(invalid(
            "telegram_chat",
            format!(
                "{:?} is not a chat id (a number) or @channel",
                crate::text::printable(chat)
            ),
        ));
    }
    crate::provider::massive::rest::parse_base(&alerts.telegram_api_url, &["http", "https"])
        .map_err(|e| invalid("telegram_api_url", e.to_string()))?;
    if let Some(program) = alerts.command.first()
        && program.trim().is_empty()
    {
        return Err(invalid(
            "command",
            "the first element is the program to run and cannot be empty",
        ));
    }
    if alerts.command.iter().any(|a| a.contains('\0')) {
        return Err(invalid("command", "an argument holds a NUL character"));
    }
    check_secs(
        "alerts.command_timeout_secs",
        alerts.command_timeout_secs,
        true,
        300.0,
    )?;
    QuietHours::parse(&alerts.quiet_hours).map_err(|reason| invalid("quiet_hours", reason))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn quiet_hours_hold_their_start_not_their_end_and_may_cross_midnight() {
        let lunch = QuietHours::parse("12:00-13:00").unwrap().unwrap();
        assert!(!lunch.contains(t(11, 59)));
        assert!(lunch.contains(t(12, 0)));
        assert!(lunch.contains(t(12, 59)));
        assert!(!lunch.contains(t(13, 0)));
        let night = QuietHours::parse(" 22:00 - 06:30 ").unwrap().unwrap();
        assert!(night.contains(t(23, 0)));
        assert!(night.contains(t(0, 0)));
        assert!(night.contains(t(6, 29)));
        assert!(!night.contains(t(6, 30)));
        assert!(!night.contains(t(21, 59)));
        assert_eq!(QuietHours::parse("").unwrap(), None);
    }

    #[test]
    fn bad_quiet_hours_say_what_is_expected() {
        for bad in ["12-13", "25:00-26:00", "12:00", "12:00-12:00", "noon-one"] {
            let e = QuietHours::parse(bad).unwrap_err();
            assert!(e.contains(bad.trim()) || e.contains("same minute"), "{e}");
        }
    }

    #[test]
    fn a_bad_channel_key_is_named_and_a_secret_is_never_shown() {
        let mut a = AlertsConfig {
            ntfy_url: Secret::new("ftp://sekret-topic"),
            ..AlertsConfig::default()
        };
        let e = validate(&a).unwrap_err().to_string();
        assert!(
            e.contains("alerts.ntfy_url") && !e.contains("sekret"),
            "{e}"
        );
        a.ntfy_url = Secret::default();
        a.slack_kinds = vec!["triggerd".into()];
        let e = validate(&a).unwrap_err().to_string();
        assert!(
            e.contains("alerts.slack_kinds") && e.contains("triggerd"),
            "{e}"
        );
        a.slack_kinds = vec!["triggered".into()];
        a.telegram_token = Secret::new("123:sekret token");
        a.telegram_chat = "42".into();
        let e = validate(&a).unwrap_err().to_string();
        assert!(e.contains("telegram_token") && !e.contains("sekret"), "{e}");
        a.telegram_token = Secret::new("123:abc");
        a.telegram_chat = String::new();
        assert!(validate(&a).unwrap_err().to_string().contains("set both"));
        a.telegram_chat = "-1001234".into();
        assert!(validate(&a).is_ok());
        a.command = vec![String::new()];
        assert!(
            validate(&a)
                .unwrap_err()
                .to_string()
                .contains("alerts.command")
        );
        a.command = vec!["notify-send".into(), "{title}".into()];
        a.quiet_hours = "9-5".into();
        assert!(
            validate(&a)
                .unwrap_err()
                .to_string()
                .contains("alerts.quiet_hours")
        );
    }
}
