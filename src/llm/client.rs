//! The HTTP side of the chat-completions API: one streaming request per model turn,
//! retried on 429 and 5xx (honouring `Retry-After`), with a time-out on the response
//! and on every gap in the stream, and cancellation. The API key goes only into the
//! `Authorization` header and is redacted from every error text.

use std::time::Duration;

use reqwest::StatusCode;
use tokio_util::sync::CancellationToken;

use super::assemble::{Assembler, whole};
use super::sse::{SseData, SseParser};
use super::types::{Completion, Message, ToolDef};
use crate::config::Secret;

/// Retries of one request on 429 and 5xx or a failed connection.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// Wait before the first retry when the server gives no `Retry-After`; doubles each time.
    pub backoff: Duration,
    /// Longest wait coach accepts (a larger `Retry-After` is cut to this).
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 3,
            backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LlmError {
    #[error("cancelled")]
    Cancelled,
    #[error("the model server did not answer within {0} s")]
    Timeout(u64),
    #[error("the model server answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("cannot reach the model server: {0}")]
    Network(String),
    #[error("the model server's stream was not a chat completion: {0}")]
    Protocol(String),
}

#[derive(Clone, Debug)]
pub struct LlmClient {
    http: reqwest::Client,
    endpoint: String,
    model: String,
    api_key: Secret,
    timeout: Duration,
    retry: RetryPolicy,
}

impl LlmClient {
    /// `base_url` is the API root (`https://api.openai.com/v1`, `http://127.0.0.1:11434/v1`);
    /// `/chat/completions` is appended. `timeout` bounds the wait for the response and
    /// every gap between two pieces of the stream.
    pub fn new(
        base_url: &str,
        model: &str,
        api_key: Secret,
        timeout: Duration,
        retry: RetryPolicy,
    ) -> Result<LlmClient, String> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(LlmClient {
            http,
            endpoint: format!("{}/chat/completions", base_url.trim_end_matches('/')),
            model: model.to_string(),
            api_key,
            timeout,
            retry,
        })
    }

    /// One model turn, streamed: `on_text` gets each piece of text as it arrives.
    pub async fn complete(
        &self,
        messages: &[Message],
        tools: &[ToolDef],
        on_text: &mut (dyn FnMut(&str) + Send),
        cancel: &CancellationToken,
    ) -> Result<Completion, LlmError> {
        let mut body = serde_json::json!({
            "model": self.model,
            "messages": messages,
            "stream": true,
            "stream_options": {"include_usage": true},
        });
        if !tools.is_empty() {
            body["tools"] = tools.iter().map(ToolDef::to_json).collect();
        }
        let prompt_chars = body.to_string().len();
        let mut attempt = 0;
        let response = loop {
            let sent = tokio::select! {
                _ = cancel.cancelled() => return Err(LlmError::Cancelled),
                r = tokio::time::timeout(self.timeout, self.send(&body)) => r,
            };
            let wait = match sent {
                Err(_) => return Err(LlmError::Timeout(self.timeout.as_secs())),
                Ok(Ok(response)) if response.status().is_success() => break response,
                Ok(Ok(response)) => {
                    let status = response.status();
                    let retry_after = retry_after(&response);
                    if !retryable(status) || attempt >= self.retry.retries {
                        let text = response.text().await.unwrap_or_default();
                        return Err(LlmError::Status {
                            status: status.as_u16(),
                            body: self.redact(&short(&text)),
                        });
                    }
                    retry_after.unwrap_or(self.backoff(attempt))
                }
                Ok(Err(e)) => {
                    if attempt >= self.retry.retries {
                        return Err(LlmError::Network(self.redact(&error_chain(&e))));
                    }
                    self.backoff(attempt)
                }
            };
            attempt += 1;
            tracing::info!("model server busy or failing; retry {attempt} in {wait:?}");
            tokio::select! {
                _ = cancel.cancelled() => return Err(LlmError::Cancelled),
                _ = tokio::time::sleep(wait.min(self.retry.max_wait)) => {}
            }
        };
        self.read_stream(response, prompt_chars, on_text, cancel)
            .await
    }

    /// The models the server lists (`GET /models`), for `coach doctor`.
    pub async fn list_models(&self) -> Result<Vec<String>, LlmError> {
        let url = self.endpoint.replace("/chat/completions", "/models");
        let mut request = self.http.get(url);
        if self.api_key.is_set() {
            request = request.bearer_auth(self.api_key.expose());
        }
        let response = match tokio::time::timeout(self.timeout, request.send()).await {
            Err(_) => return Err(LlmError::Timeout(self.timeout.as_secs())),
            Ok(Err(e)) => return Err(LlmError::Network(self.redact(&error_chain(&e)))),
            Ok(Ok(r)) => r,
        };
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(LlmError::Status {
                status: status.as_u16(),
                body: self.redact(&short(&text)),
            });
        }
        let listed: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| LlmError::Protocol(format!("the model list is not JSON: {e}")))?;
        Ok(listed["data"]
            .as_array()
            .map(|models| {
                models
                    .iter()
                    .filter_map(|m| m["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    async fn send(&self, body: &serde_json::Value) -> Result<reqwest::Response, reqwest::Error> {
        let mut request = self
            .http
            .post(&self.endpoint)
            .header("Accept", "text/event-stream")
            .json(body);
        if self.api_key.is_set() {
            request = request.bearer_auth(self.api_key.expose());
        }
        request.send().await
    }

    async fn read_stream(
        &self,
        mut response: reqwest::Response,
        prompt_chars: usize,
        on_text: &mut (dyn FnMut(&str) + Send),
        cancel: &CancellationToken,
    ) -> Result<Completion, LlmError> {
        let is_json = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json {
            return self
                .read_whole(response, prompt_chars, on_text, cancel)
                .await;
        }
        let mut parser = SseParser::new();
        let mut assembler = Assembler::new();
        let mut done = false;
        while !done {
            let chunk = tokio::select! {
                _ = cancel.cancelled() => return Err(LlmError::Cancelled),
                c = tokio::time::timeout(self.timeout, response.chunk()) => c,
            };
            let events = match chunk {
                Err(_) => return Err(LlmError::Timeout(self.timeout.as_secs())),
                Ok(Err(e)) => return Err(LlmError::Network(self.redact(&error_chain(&e)))),
                Ok(Ok(Some(bytes))) => parser.push(&bytes),
                Ok(Ok(None)) => {
                    done = true;
                    parser.finish()
                }
            };
            for event in events {
                match event {
                    SseData::Done => done = true,
                    SseData::Payload(p) => {
                        let text = assembler.apply(&p);
                        if !text.is_empty() {
                            on_text(&text);
                        }
                    }
                }
            }
        }
        checked(assembler.finish(prompt_chars))
    }

    /// A server that ignored `stream: true` and sent the whole completion as JSON.
    async fn read_whole(
        &self,
        response: reqwest::Response,
        prompt_chars: usize,
        on_text: &mut (dyn FnMut(&str) + Send),
        cancel: &CancellationToken,
    ) -> Result<Completion, LlmError> {
        let body = tokio::select! {
            _ = cancel.cancelled() => return Err(LlmError::Cancelled),
            b = tokio::time::timeout(self.timeout, response.text()) => b,
        };
        let body = match body {
            Err(_) => return Err(LlmError::Timeout(self.timeout.as_secs())),
            Ok(Err(e)) => return Err(LlmError::Network(self.redact(&error_chain(&e)))),
            Ok(Ok(text)) => text,
        };
        let turn = checked(whole(&body, prompt_chars))?;
        if !turn.content.is_empty() {
            on_text(&turn.content);
        }
        Ok(turn)
    }

    fn backoff(&self, attempt: u32) -> Duration {
        self.retry.backoff.saturating_mul(1 << attempt.min(10))
    }

    fn redact(&self, text: &str) -> String {
        self.api_key.redact_in(text)
    }
}

/// A turn with neither text nor a tool call is the server failing, not an answer.
fn checked(turn: Completion) -> Result<Completion, LlmError> {
    if turn.content.trim().is_empty() && turn.tool_calls.is_empty() {
        return Err(LlmError::Protocol(format!(
            "no text and no tool call ({} malformed chunks)",
            turn.malformed_chunks
        )));
    }
    if turn.malformed_chunks > 0 {
        tracing::warn!(
            "skipped {} malformed chunks of the model's stream",
            turn.malformed_chunks
        );
    }
    Ok(turn)
}

fn retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// `Retry-After` in seconds (the HTTP-date form is rare for APIs and falls back to backoff).
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get("retry-after")?.to_str().ok()?;
    let seconds: f64 = value.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The first 300 characters of an error body, on one line.
fn short(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(300).collect()
}
