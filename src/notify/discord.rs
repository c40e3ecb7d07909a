//! A Discord webhook client: posts embeds, honours 429 `retry_after` (JSON body seconds,
//! else the `Retry-After` header), retries 5xx and network failures with exponential
//! backoff, and waits out an exhausted rate-limit bucket before the next message.
//!
//! The webhook URL is a secret: it is only ever handed to reqwest, errors are built from
//! `reqwest::Error::without_url()`, and every error text is scrubbed of the URL again.

use std::time::Duration;

use serde::Serialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::config::Secret;

/// The JSON body of a webhook execution (the subset coach uses).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WebhookMessage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    pub embeds: Vec<Embed>,
    /// Always empty: text from workers (error messages, notes) can never ping anyone.
    pub allowed_mentions: AllowedMentions,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AllowedMentions {
    pub parse: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Embed {
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// 0xRRGGBB.
    pub color: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<EmbedField>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub footer: Option<EmbedFooter>,
    /// RFC 3339 UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EmbedField {
    pub name: String,
    pub value: String,
    pub inline: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EmbedFooter {
    pub text: String,
}

impl WebhookMessage {
    /// One embed, posted under `username`, cut to Discord's limits.
    pub fn embed(username: &str, embed: Embed) -> WebhookMessage {
        WebhookMessage {
            username: Some(cut(username, 80)),
            content: None,
            embeds: vec![embed.within_limits()],
            allowed_mentions: AllowedMentions::default(),
        }
    }
}

impl Embed {
    /// Discord refuses embeds over its limits (title 256, description 4096, 25 fields of
    /// name 256 / value 1024, footer 2048); longer text is cut with an ellipsis.
    pub fn within_limits(mut self) -> Embed {
        self.title = cut(&self.title, 256);
        self.description = self.description.map(|d| cut(&d, 4096));
        self.fields.truncate(25);
        for f in &mut self.fields {
            f.name = cut(&f.name, 256);
            f.value = cut(&f.value, 1024);
            if f.value.is_empty() {
                f.value = "—".into();
            }
        }
        if let Some(footer) = &mut self.footer {
            footer.text = cut(&footer.text, 2048);
        }
        self
    }
}

/// At most `max` characters, the last one an ellipsis when cut.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// How hard to try one message.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, 429s included.
    pub attempts: u32,
    /// Wait before the second attempt after a 5xx or network failure; doubles each time.
    pub backoff: Duration,
    /// A 429 asking for a longer wait than this gives up instead.
    pub max_wait: Duration,
    /// Per request.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
        }
    }
}

/// Why a message was not delivered. Never contains the webhook URL.
#[derive(Debug, thiserror::Error)]
pub enum DiscordError {
    #[error("Discord refused the message: HTTP {status}: {message}")]
    Rejected { status: u16, message: String },
    #[error("Discord asked to wait {wait_secs:.1} s, more than the {max_secs:.0} s allowed")]
    RateLimitedTooLong { wait_secs: f64, max_secs: f64 },
    #[error("Discord still failing after {attempts} attempts: {last}")]
    GaveUp { attempts: u32, last: String },
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

/// A configured webhook. Cheap to share behind an `Arc`; messages go out one at a time.
#[derive(Debug)]
pub struct Discord {
    client: reqwest::Client,
    url: Secret,
    retry: RetryPolicy,
    /// Not before this instant: Discord said the rate-limit bucket is empty.
    next_allowed: Mutex<Option<Instant>>,
}

impl Discord {
    /// `None` when no webhook is configured.
    pub fn new(url: &Secret, retry: RetryPolicy) -> Result<Option<Discord>, DiscordError> {
        if !url.is_set() {
            return Ok(None);
        }
        let client = reqwest::Client::builder()
            .timeout(retry.timeout)
            .connect_timeout(retry.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("coach/", env!("CARGO_PKG_VERSION")))
            // A webhook never redirects; following one could carry the message elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| DiscordError::Client(describe(&e.without_url(), url)))?;
        Ok(Some(Discord {
            client,
            url: url.clone(),
            retry,
            next_allowed: Mutex::new(None),
        }))
    }

    /// Posts one message, retrying as the policy allows.
    pub async fn send(&self, message: &WebhookMessage) -> Result<(), DiscordError> {
        let mut next_allowed = self.next_allowed.lock().await;
        if let Some(t) = next_allowed.take() {
            tokio::time::sleep_until(t).await;
        }
        let mut last = String::from("no attempt made");
        for attempt in 1..=self.retry.attempts.max(1) {
            let response = self
                .client
                .post(self.url.expose())
                .json(message)
                .send()
                .await;
            let wait = match response {
                Ok(r) if r.status().is_success() => {
                    *next_allowed = bucket_empty_until(r.headers());
                    return Ok(());
                }
                Ok(r) if r.status() == reqwest::StatusCode::TOO_MANY_REQUESTS => {
                    let header = header_secs(r.headers(), "retry-after")
                        .or_else(|| header_secs(r.headers(), "x-ratelimit-reset-after"));
                    let body = r.text().await.unwrap_or_default();
                    let wait = body_retry_after(&body).or(header).unwrap_or(1.0);
                    if wait > self.retry.max_wait.as_secs_f64() {
                        return Err(DiscordError::RateLimitedTooLong {
                            wait_secs: wait,
                            max_secs: self.retry.max_wait.as_secs_f64(),
                        });
                    }
                    last = format!("rate limited (retry after {wait:.2} s)");
                    tracing::info!("Discord rate limit: waiting {wait:.2} s");
                    Duration::from_secs_f64(wait)
                }
                Ok(r) if r.status().is_server_error() => {
                    last = format!("HTTP {}", r.status().as_u16());
                    self.backoff(attempt)
                }
                Ok(r) => {
                    let status = r.status().as_u16();
                    let body = r.text().await.unwrap_or_default();
                    return Err(DiscordError::Rejected {
                        status,
                        message: self.url.redact_in(&discord_message(&body)),
                    });
                }
                Err(e) => {
                    last = describe(&e.without_url(), &self.url);
                    self.backoff(attempt)
                }
            };
            if attempt < self.retry.attempts {
                tracing::debug!("Discord attempt {attempt} failed ({last}); retrying");
                tokio::time::sleep(wait).await;
            }
        }
        Err(DiscordError::GaveUp {
            attempts: self.retry.attempts,
            last,
        })
    }

    fn backoff(&self, attempt: u32) -> Duration {
        self.retry.backoff * 2u32.saturating_pow(attempt.saturating_sub(1).min(10))
    }
}

/// The error and its causes on one line, the URL scrubbed.
fn describe(e: &reqwest::Error, url: &Secret) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    url.redact_in(&crate::text::printable(&text))
}

/// `retry_after` (seconds, fractional) from a 429 JSON body.
fn body_retry_after(body: &str) -> Option<f64> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let secs = v.get("retry_after")?.as_f64()?;
    (secs.is_finite() && secs >= 0.0).then_some(secs)
}

fn header_secs(headers: &reqwest::header::HeaderMap, name: &str) -> Option<f64> {
    let secs: f64 = headers.get(name)?.to_str().ok()?.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then_some(secs)
}

/// When `X-RateLimit-Remaining: 0`, the instant the bucket refills.
fn bucket_empty_until(headers: &reqwest::header::HeaderMap) -> Option<Instant> {
    let remaining = headers.get("x-ratelimit-remaining")?.to_str().ok()?.trim();
    if remaining != "0" {
        return None;
    }
    let wait = header_secs(headers, "x-ratelimit-reset-after")?.min(60.0);
    Some(Instant::now() + Duration::from_secs_f64(wait))
}

/// Discord's `message` from an error body, or the body itself, short and printable.
fn discord_message(body: &str) -> String {
    let message = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_string))
        .unwrap_or_else(|| body.to_string());
    cut(&crate::text::printable(&message), 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_embed_text_is_cut_to_discords_limits() {
        let e = Embed {
            title: "t".repeat(300),
            description: Some("d".repeat(5000)),
            fields: vec![EmbedField {
                name: "Last error".into(),
                value: String::new(),
                inline: false,
            }],
            ..Embed::default()
        }
        .within_limits();
        assert_eq!(e.title.chars().count(), 256);
        assert!(e.title.ends_with('…'));
        assert_eq!(e.description.unwrap().chars().count(), 4096);
        assert_eq!(e.fields[0].value, "—", "Discord refuses empty field values");
    }

    #[test]
    fn retry_after_is_read_from_the_body_in_seconds() {
        assert_eq!(
            body_retry_after(
                r#"{"message":"You are being rate limited.","retry_after":0.25,"global":false}"#
            ),
            Some(0.25)
        );
        assert_eq!(body_retry_after("<html>"), None);
        assert_eq!(body_retry_after(r#"{"retry_after":-1}"#), None);
        assert_eq!(
            discord_message(r#"{"message":"Unknown Webhook","code":10015}"#),
            "Unknown Webhook"
        );
    }

    #[test]
    fn a_message_never_pings_anyone() {
        let m = WebhookMessage::embed("coach", Embed::default());
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["allowed_mentions"]["parse"], serde_json::json!([]));
        assert_eq!(json["username"], "coach");
    }
}
