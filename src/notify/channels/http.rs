//! One retrying POST to a secret URL, shared by the HTTP channels: 429 waits for
//! `Retry-After` (seconds or an HTTP date, or Telegram's `parameters.retry_after`), 5xx
//! and network failures back off exponentially, any other non-success gives up at once.
//! Errors come from `reqwest::Error::without_url()` and are scrubbed of every secret.

use std::time::Duration;

use super::ChannelError;
use crate::config::Secret;
use crate::notify::discord::{RetryPolicy, cut};

/// An HTTP client bound to one secret URL.
#[derive(Debug)]
pub struct Poster {
    client: reqwest::Client,
    url: Secret,
    /// Other secrets an error must not show (a token inside the URL).
    also_secret: Vec<Secret>,
    retry: RetryPolicy,
}

/// A request body.
pub enum Body<'a> {
    Json(&'a serde_json::Value),
    /// Plain UTF-8 text with extra headers (ntfy).
    Text {
        text: &'a str,
        headers: Vec<(&'static str, String)>,
    },
}

impl Poster {
    /// `None` when `url` is not set.
    pub fn new(url: &Secret, retry: &RetryPolicy) -> Result<Option<Poster>, ChannelError> {
        if !url.is_set() {
            return Ok(None);
        }
        Poster::with_secrets(url.clone(), Vec::new(), retry).map(Some)
    }

    pub fn with_secrets(
        url: Secret,
        also_secret: Vec<Secret>,
        retry: &RetryPolicy,
    ) -> Result<Poster, ChannelError> {
        let client = reqwest::Client::builder()
            .timeout(retry.timeout)
            .connect_timeout(retry.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("coach/", env!("CARGO_PKG_VERSION")))
            // A redirect could carry the message (and the token in the URL) elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                ChannelError::Client(crate::text::printable(&e.without_url().to_string()))
            })?;
        let mut also_secret = also_secret;
        also_secret.extend(url_parts(url.expose()));
        // Longest first, so a part is replaced whole before any piece of it.
        also_secret.sort_by_key(|s| std::cmp::Reverse(s.expose().len()));
        Ok(Poster {
            client,
            url,
            also_secret,
            retry: retry.clone(),
        })
    }

    /// `text` with the URL and every other secret replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        self.also_secret
            .iter()
            .fold(self.url.redact_in(text), |t, s| s.redact_in(&t))
    }

    /// Posts `body`, retrying as the policy allows.
    pub async fn post(&self, body: &Body<'_>) -> Result<(), ChannelError> {
        let attempts = self.retry.attempts.max(1);
        let mut last = String::from("no attempt made");
        for attempt in 1..=attempts {
            let request = self.client.post(self.url.expose());
            let request = match body {
                Body::Json(v) => request.json(v),
                Body::Text { text, headers } => headers
                    .iter()
                    .fold(request, |r, (name, value)| r.header(*name, value))
                    .header("content-type", "text/plain; charset=utf-8")
                    .body(text.to_string()),
            };
            let wait = match request.send().await {
                Ok(r) if r.status().is_success() => return Ok(()),
                Ok(r) if r.status() == reqwest::StatusCode::TOO_MANY_REQUESTS => {
                    let header = retry_after(r.headers());
                    let body = r.text().await.unwrap_or_default();
                    let wait = header.or_else(|| body_retry_after(&body)).unwrap_or(1.0);
                    if wait > self.retry.max_wait.as_secs_f64() {
                        return Err(ChannelError::RateLimitedTooLong {
                            wait_secs: wait,
                            max_secs: self.retry.max_wait.as_secs_f64(),
                        });
                    }
                    last = format!("rate limited (retry after {wait:.2} s)");
                    Duration::from_secs_f64(wait)
                }
                Ok(r) if r.status().is_server_error() => {
                    last = format!("HTTP {}", r.status().as_u16());
                    self.backoff(attempt)
                }
                Ok(r) => {
                    let status = r.status().as_u16();
                    let body = r.text().await.unwrap_or_default();
                    return Err(ChannelError::Rejected {
                        status,
                        message: self.redact(&cut(&crate::text::printable(&body), 200)),
                    });
                }
                Err(e) => {
                    last = self.redact(&crate::text::printable(&describe(&e.without_url())));
                    self.backoff(attempt)
                }
            };
            if attempt < attempts {
                tracing::debug!("delivery attempt {attempt} failed ({last}); retrying");
                tokio::time::sleep(wait).await;
            }
        }
        Err(ChannelError::GaveUp { attempts, last })
    }

    fn backoff(&self, attempt: u32) -> Duration {
        self.retry.backoff * 2u32.saturating_pow(attempt.saturating_sub(1).min(10))
    }
}

/// The parts of a URL a server may echo without the rest: the path, the query, every
/// path segment of 6 characters or more (a topic, a token) and the password. Each is as
/// secret as the whole URL.
fn url_parts(url: &str) -> Vec<Secret> {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return Vec::new();
    };
    let mut parts = vec![parsed.path().to_string()];
    parts.extend(parsed.query().map(str::to_string));
    parts.extend(parsed.password().map(str::to_string));
    parts.extend(
        parsed
            .path_segments()
            .into_iter()
            .flatten()
            .filter(|s| s.len() >= 6)
            .map(str::to_string),
    );
    parts
        .into_iter()
        .filter(|p| p.len() > 1)
        .map(Secret::new)
        .collect()
}

/// The error and its causes on one line.
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// `Retry-After` as seconds: a number of seconds, or an HTTP date (RFC 7231) from now.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<f64> {
    let text = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then_some(secs);
    }
    let at = chrono::DateTime::parse_from_rfc2822(text).ok()?;
    let secs =
        (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_milliseconds() as f64 / 1e3;
    Some(secs.max(0.0))
}

/// `retry_after` (seconds) from a 429 JSON body: top level (Discord style) or under
/// `parameters` (Telegram).
fn body_retry_after(body: &str) -> Option<f64> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let secs = v
        .get("retry_after")
        .or_else(|| v.get("parameters")?.get("retry_after"))?
        .as_f64()?;
    (secs.is_finite() && secs >= 0.0).then_some(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_query_and_long_segments_of_a_url_are_secret_too() {
        let parts: Vec<String> =
            url_parts("https://u:pw-secret@hooks.example/services/T0/B1/XyZtokenABC?k=v1")
                .iter()
                .map(|s| s.expose().to_string())
                .collect();
        assert_eq!(
            parts,
            [
                "/services/T0/B1/XyZtokenABC",
                "k=v1",
                "pw-secret",
                "services",
                "XyZtokenABC"
            ]
        );
        assert!(url_parts("not a url").is_empty());
    }

    #[test]
    fn retry_after_reads_seconds_dates_and_telegram_bodies() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(2.0));
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(0.0), "a date in the past: no wait");
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
        assert_eq!(
            body_retry_after(r#"{"ok":false,"error_code":429,"parameters":{"retry_after":3}}"#),
            Some(3.0)
        );
        assert_eq!(body_retry_after(r#"{"retry_after":-1}"#), None);
    }
}
