//! `[llm]`: the model server the AI coach talks to (SPEC 16). Any OpenAI-compatible
//! chat-completions API: a hosted service, or a local Ollama / llama.cpp server.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ConfigError;
use super::secret::Secret;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    /// API root, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1` (Ollama).
    /// Empty: no coach.
    pub base_url: String,
    /// Model name as the server knows it. Empty: no coach.
    pub model: String,
    /// Bearer token; optional for local servers. `COACH_LLM_API_KEY` wins over the file.
    pub api_key: Secret,
    /// Tokens (prompt + completion) the coach may use per New York calendar day, per user.
    pub daily_token_budget: u64,
    /// Seconds to wait for the server's response and for each piece of its stream.
    pub timeout_secs: f64,
    /// Rounds of tool calls one question may take before coach stops the model.
    pub max_tool_rounds: u32,
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig {
            base_url: String::new(),
            model: String::new(),
            api_key: Secret::default(),
            daily_token_budget: 200_000,
            timeout_secs: 60.0,
            max_tool_rounds: 6,
        }
    }
}

/// What the Coach pane and `coach ask` say when `[llm]` is not set.
pub const HOW_TO_CONFIGURE: &str = "The AI coach is not configured. Set [llm] base_url and \
model in the configuration file (or COACH_LLM_BASE_URL and COACH_LLM_MODEL), plus api_key \
(COACH_LLM_API_KEY) for a hosted service. Any OpenAI-compatible server works; for a local \
Ollama: base_url = \"http://127.0.0.1:11434/v1\", model = \"qwen2.5:7b\".";

impl LlmConfig {
    /// Whether a server and model are set.
    pub fn is_configured(&self) -> bool {
        !self.base_url.trim().is_empty() && !self.model.trim().is_empty()
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout_secs)
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, reason: String| {
            Err(ConfigError::Invalid {
                key: key.into(),
                reason,
            })
        };
        let url = self.base_url.trim();
        if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
            return invalid(
                "llm.base_url",
                format!("{url:?} is not an http:// or https:// URL"),
            );
        }
        if url.is_empty() != self.model.trim().is_empty() {
            return invalid(
                "llm",
                "base_url and model are set together (both, or neither)".into(),
            );
        }
        if !(self.timeout_secs.is_finite() && self.timeout_secs > 0.0 && self.timeout_secs <= 600.0)
        {
            return invalid(
                "llm.timeout_secs",
                format!("{} is not between 0 and 600 seconds", self.timeout_secs),
            );
        }
        if !(1..=20).contains(&self.max_tool_rounds) {
            return invalid(
                "llm.max_tool_rounds",
                format!("{} is not between 1 and 20", self.max_tool_rounds),
            );
        }
        Ok(())
    }
}
