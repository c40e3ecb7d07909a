//! One question to the coach: the model is called, the tools it asks for are run and
//! their results sent back, until it answers in text — at most `max_tool_rounds` rounds
//! of tool calls, and never past the daily token budget.

use std::sync::{Arc, Mutex};

use chrono::Utc;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::context::CoachContext;
use super::tools::{self, ToolRequest};
use crate::config::LlmConfig;
use crate::llm::{LlmClient, LlmError, Message, RetryPolicy, ToolCall};
use crate::market::calendar;

/// What a question produces along the way, for the pane (and `--verbose`).
#[derive(Clone, Debug, PartialEq)]
pub enum CoachEvent {
    /// A piece of the model's text as it streams in.
    Text(String),
    /// The model asked for a tool (arguments as it wrote them).
    ToolCall { name: String, arguments: String },
    /// A tool's result, in one line.
    ToolResult {
        name: String,
        summary: String,
        is_error: bool,
    },
    /// The final answer.
    Answer(String),
    /// The question failed (the reason) or was cancelled.
    Failed(String),
    /// `track_setup` asks the trader (the TUI shows a confirm overlay).
    Confirm {
        question: String,
        reply: ConfirmReply,
    },
}

/// The trader's yes/no for a `Confirm`, answered once. Cloneable so events stay plain
/// values; equal only to itself.
#[derive(Clone)]
pub struct ConfirmReply(Arc<Mutex<Option<oneshot::Sender<bool>>>>);

impl ConfirmReply {
    pub fn new() -> (ConfirmReply, oneshot::Receiver<bool>) {
        let (tx, rx) = oneshot::channel();
        (ConfirmReply(Arc::new(Mutex::new(Some(tx)))), rx)
    }

    /// Answers; later answers are ignored.
    pub fn answer(&self, yes: bool) {
        let sender = self.0.lock().ok().and_then(|mut s| s.take());
        if let Some(tx) = sender {
            // The question may have been cancelled meanwhile: nothing waits then.
            let _ = tx.send(yes);
        }
    }
}

impl std::fmt::Debug for ConfirmReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConfirmReply")
    }
}

impl PartialEq for ConfirmReply {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CoachError {
    #[error(transparent)]
    Llm(#[from] LlmError),
    #[error(
        "the daily token budget of {budget} tokens is used up ({used} used today); it resets at midnight New York time"
    )]
    Budget { used: u64, budget: u64 },
    #[error("stopped the model after {0} rounds of tool calls without an answer")]
    TooManyRounds(u32),
    #[error("{0}")]
    Store(String),
}

#[derive(Clone)]
pub struct Coach {
    client: LlmClient,
    ctx: CoachContext,
    budget: u64,
    max_rounds: u32,
}

const SYSTEM_PROMPT: &str = "You are coach, the assistant inside a terminal dashboard for \
intraday options traders. Answer from the dashboard's data only: call the tools for every \
number you use (prices, levels, GEX, setups, detections) and never invent one; if a tool \
returns an error, say what is missing. Be brief: a few sentences or short bullets, prices \
with two decimals. GEX amounts are dollars per 1% move of the underlying; in positive \
gamma dealers dampen moves, in negative gamma they amplify them; the zero-gamma flip is \
where the regime changes. track_setup asks the trader to confirm; never say a setup was \
tracked unless its result says \"tracked\": true. You give information, not financial advice.";

impl Coach {
    /// `None` when `[llm]` is not configured.
    pub fn from_config(config: &LlmConfig, ctx: CoachContext) -> Result<Option<Coach>, String> {
        if !config.is_configured() {
            return Ok(None);
        }
        let client = LlmClient::new(
            config.base_url.trim(),
            config.model.trim(),
            config.api_key.clone(),
            config.timeout(),
            RetryPolicy::default(),
        )?;
        Ok(Some(Coach::new(
            client,
            ctx,
            config.daily_token_budget,
            config.max_tool_rounds,
        )))
    }

    pub fn new(client: LlmClient, ctx: CoachContext, budget: u64, max_rounds: u32) -> Coach {
        Coach {
            client,
            ctx,
            budget,
            max_rounds,
        }
    }

    pub fn context(&self) -> &CoachContext {
        &self.ctx
    }

    /// Asks `question` after the conversation so far (`history`, empty at first), with
    /// `context` (an item the trader pointed at) added to the question. On success the
    /// question, the tool rounds and the answer join `history`; on failure it is unchanged.
    pub async fn ask(
        &self,
        history: &mut Vec<Message>,
        question: &str,
        context: Option<&str>,
        emit: &mut (dyn FnMut(CoachEvent) + Send),
        cancel: &CancellationToken,
    ) -> Result<String, CoachError> {
        let mut messages = history.clone();
        if messages.is_empty() {
            messages.push(Message::system(self.system_prompt().await));
        }
        messages.push(Message::user(match context {
            Some(c) => format!("{question}\n\nThe item I am looking at:\n{c}"),
            None => question.to_string(),
        }));
        let definitions = tools::definitions();
        for round in 0..=self.max_rounds {
            self.check_budget().await?;
            let turn = self
                .client
                .complete(
                    &messages,
                    &definitions,
                    &mut |text: &str| emit(CoachEvent::Text(text.to_string())),
                    cancel,
                )
                .await?;
            self.spend(turn.usage.total()).await?;
            if turn.tool_calls.is_empty() {
                messages.push(Message::assistant(Some(turn.content.clone()), Vec::new()));
                forget_old_questions(&mut messages, KEPT_QUESTIONS);
                *history = messages;
                return Ok(turn.content);
            }
            if round == self.max_rounds {
                break;
            }
            let content = (!turn.content.is_empty()).then(|| turn.content.clone());
            messages.push(Message::assistant(content, turn.tool_calls.clone()));
            for call in &turn.tool_calls {
                let name = call.function.name.clone();
                emit(CoachEvent::ToolCall {
                    name: name.clone(),
                    arguments: call.function.arguments.clone(),
                });
                let (text, summary, is_error) = self.run_tool(call, cancel).await?;
                emit(CoachEvent::ToolResult {
                    name,
                    summary,
                    is_error,
                });
                messages.push(Message::tool(call.id.clone(), text));
            }
        }
        Err(CoachError::TooManyRounds(self.max_rounds))
    }

    /// Runs one tool call: (the result for the model, one line for the trader, whether it
    /// failed). A bad call or a failing tool is a result the model reads, not an error;
    /// only cancellation stops the question.
    async fn run_tool(
        &self,
        call: &ToolCall,
        cancel: &CancellationToken,
    ) -> Result<(String, String, bool), CoachError> {
        let outcome = match tools::parse(&call.function.name, &call.function.arguments) {
            Err(reason) => Err(reason),
            Ok(request) => tokio::select! {
                _ = cancel.cancelled() => return Err(LlmError::Cancelled.into()),
                r = self.ctx.run(&request) => r.map(|v| (summarize(&request, &v), v)),
            },
        };
        Ok(match outcome {
            Ok((summary, value)) => (value.to_string(), summary, false),
            Err(reason) => (
                serde_json::json!({ "error": reason }).to_string(),
                reason,
                true,
            ),
        })
    }

    async fn system_prompt(&self) -> String {
        let now = match self.ctx.bus.snapshot().await {
            Some(s) => s.now,
            None => Utc::now(),
        };
        let ny = now.with_timezone(&calendar::NEW_YORK);
        format!(
            "{SYSTEM_PROMPT}\nThe market clock now: {} New York time.",
            ny.format("%A %Y-%m-%d %H:%M")
        )
    }

    fn budget_day() -> chrono::NaiveDate {
        calendar::ny_date(Utc::now())
    }

    async fn check_budget(&self) -> Result<(), CoachError> {
        let used = self
            .ctx
            .store
            .llm_tokens_on(self.ctx.user, Self::budget_day())
            .await
            .map_err(|e| CoachError::Store(e.to_string()))?;
        if used >= self.budget {
            return Err(CoachError::Budget {
                used,
                budget: self.budget,
            });
        }
        Ok(())
    }

    async fn spend(&self, tokens: u64) -> Result<(), CoachError> {
        self.ctx
            .store
            .add_llm_tokens(self.ctx.user, Self::budget_day(), tokens)
            .await
            .map(|_| ())
            .map_err(|e| CoachError::Store(e.to_string()))
    }
}

/// Questions (with their tool rounds and answers) a conversation remembers; older ones
/// are dropped so follow-ups stay cheap.
const KEPT_QUESTIONS: usize = 8;

/// Drops the oldest exchanges so at most `keep` user questions remain after the system
/// prompt; an exchange is removed whole (question, tool calls, results, answer).
fn forget_old_questions(messages: &mut Vec<Message>, keep: usize) {
    let questions: Vec<usize> = messages
        .iter()
        .enumerate()
        .filter(|(_, m)| m.role == "user")
        .map(|(i, _)| i)
        .collect();
    if questions.len() <= keep {
        return;
    }
    let first_kept = questions[questions.len() - keep];
    let start = usize::from(messages.first().is_some_and(|m| m.role == "system"));
    messages.drain(start..first_kept);
}

/// One line about a tool's result for the pane: the numbers a trader scans for.
pub fn summarize(request: &ToolRequest, v: &Value) -> String {
    let num = |key: &str| v.get(key).and_then(Value::as_f64);
    let price = |x: Option<f64>| x.map_or("—".to_string(), |p| format!("{p:.2}"));
    match request {
        ToolRequest::GammaExposure { symbol, filter } => format!(
            "{symbol} ({filter}) spot {} · flip {} · {} {}",
            price(num("spot")),
            price(v.pointer("/zero_gamma_flip/price").and_then(Value::as_f64)),
            v["regime"].as_str().unwrap_or("?"),
            v["total_gex"].as_str().unwrap_or("?"),
        ),
        ToolRequest::ScanOpportunities { .. } => format!(
            "{} detections, {} level signals",
            v["detections_total"].as_u64().unwrap_or(0),
            v["signals"].as_array().map_or(0, Vec::len)
        ),
        ToolRequest::MorningBrief => match v["source"].as_str() {
            Some("stored") => "today's brief (stored)".into(),
            _ => "today's brief (built now)".into(),
        },
        ToolRequest::ListTrackedSetups { filter } => {
            format!("{} setups ({filter})", v["total"].as_u64().unwrap_or(0))
        }
        ToolRequest::KeyLevels { symbol } => format!(
            "{symbol} last {} · {} levels",
            price(num("last_price")),
            v["levels"].as_array().map_or(0, Vec::len)
        ),
        ToolRequest::SetupStats { .. } => {
            let groups = |part: &str| v[part]["groups"].as_array().map_or(0, Vec::len);
            let journal = v["journal"]["ended_attempts"].as_u64().unwrap_or(0);
            if v["backtest"].is_null() {
                format!(
                    "journal: {journal} ended setups, {} groups · no backtest stored",
                    groups("journal")
                )
            } else {
                format!(
                    "journal: {journal} ended setups, {} groups · backtest: {} groups",
                    groups("journal"),
                    groups("backtest")
                )
            }
        }
        ToolRequest::TrackSetup { detection_id } => match v["tracked"].as_bool() {
            Some(true) => format!("detection {detection_id} tracked"),
            _ if v["already_tracked"].as_bool() == Some(true) => {
                format!("detection {detection_id} was already tracked")
            }
            _ => format!("detection {detection_id} not tracked (declined)"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_exchanges_are_forgotten_whole_and_the_system_prompt_stays() {
        let mut messages = vec![Message::system("rules")];
        for n in 0..5 {
            messages.push(Message::user(format!("q{n}")));
            messages.push(Message::assistant(None, Vec::new()));
            messages.push(Message::tool("c", "{}"));
            messages.push(Message::assistant(Some(format!("a{n}")), Vec::new()));
        }
        forget_old_questions(&mut messages, 2);
        let texts: Vec<_> = messages
            .iter()
            .filter_map(|m| m.content.as_deref())
            .collect();
        assert_eq!(texts, ["rules", "q3", "{}", "a3", "q4", "{}", "a4"]);
        let before = messages.clone();
        forget_old_questions(&mut messages, 2);
        assert_eq!(messages, before);
    }
}
