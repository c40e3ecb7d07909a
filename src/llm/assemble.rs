//! Turns the stream's chunks into one model turn (pure): text deltas are appended, tool
//! calls are assembled by their `index` (a call's id and name arrive first, its
//! arguments in pieces over many chunks), `usage` is kept when the server sends it.

use serde::Deserialize;

use super::types::{Completion, FunctionCall, ToolCall, Usage};

#[derive(Deserialize)]
struct Chunk {
    // Lists are `Option`: some servers send `null` for an empty one.
    #[serde(default)]
    choices: Option<Vec<Choice>>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCallDelta>>,
}

#[derive(Deserialize)]
struct ToolCallDelta {
    #[serde(default)]
    index: Option<usize>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<FunctionDelta>,
}

#[derive(Deserialize)]
struct FunctionDelta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

/// The most tool calls one turn may carry (a server numbering them wildly cannot make
/// coach allocate without bound).
const MAX_TOOL_CALLS: usize = 16;

#[derive(Debug, Default)]
pub struct Assembler {
    turn: Completion,
    /// Calls by stream index: (id, name, arguments so far).
    calls: Vec<(String, String, String)>,
}

impl Assembler {
    pub fn new() -> Self {
        Assembler::default()
    }

    /// Applies one `data` payload; returns the text it adds (for streaming display).
    /// A payload that is not a chunk is counted and skipped.
    pub fn apply(&mut self, payload: &str) -> String {
        let chunk: Chunk = match serde_json::from_str(payload) {
            Ok(c) => c,
            Err(_) => {
                self.turn.malformed_chunks += 1;
                return String::new();
            }
        };
        if let Some(u) = chunk.usage {
            self.turn.usage = Usage {
                prompt_tokens: u.prompt_tokens,
                completion_tokens: u.completion_tokens,
            };
            self.turn.usage_reported = true;
        }
        let mut text = String::new();
        // Coach asks for one choice; only the first is read.
        let Some(choice) = chunk.choices.into_iter().flatten().next() else {
            return text;
        };
        if let Some(reason) = choice.finish_reason {
            self.turn.finish_reason = Some(reason);
        }
        let Some(delta) = choice.delta else {
            return text;
        };
        if let Some(content) = delta.content {
            self.turn.content.push_str(&content);
            text = content;
        }
        for call in delta.tool_calls.into_iter().flatten() {
            // Servers that omit `index` send each call whole: a new id starts a new call,
            // a piece without one continues the last.
            let index = call.index.unwrap_or(if call.id.is_some() {
                self.calls.len()
            } else {
                self.calls.len().saturating_sub(1)
            });
            if index >= MAX_TOOL_CALLS {
                self.turn.malformed_chunks += 1;
                continue;
            }
            while self.calls.len() <= index {
                self.calls.push(Default::default());
            }
            let slot = &mut self.calls[index];
            if let Some(id) = call.id.filter(|s| !s.is_empty()) {
                slot.0 = id;
            }
            if let Some(f) = call.function {
                if let Some(name) = f.name {
                    slot.1.push_str(&name);
                }
                if let Some(args) = f.arguments {
                    slot.2.push_str(&args);
                }
            }
        }
        text
    }

    /// The complete turn. Calls with no name are dropped; a call without an id gets one.
    pub fn finish(mut self, prompt_chars: usize) -> Completion {
        self.turn.tool_calls = self
            .calls
            .into_iter()
            .enumerate()
            .filter(|(_, (_, name, _))| !name.is_empty())
            .map(|(i, (id, name, arguments))| ToolCall {
                id: if id.is_empty() {
                    format!("call_{i}")
                } else {
                    id
                },
                kind: "function".into(),
                function: FunctionCall { name, arguments },
            })
            .collect();
        if !self.turn.usage_reported {
            let out_chars = self.turn.content.len()
                + self
                    .turn
                    .tool_calls
                    .iter()
                    .map(|c| c.function.name.len() + c.function.arguments.len())
                    .sum::<usize>();
            self.turn.usage = Usage {
                prompt_tokens: prompt_chars.div_ceil(4) as u64,
                completion_tokens: out_chars.div_ceil(4) as u64,
            };
        }
        self.turn
    }
}

/// A whole completion in one JSON body, from a server that ignored `stream: true`: its
/// `message` is read as one delta.
pub fn whole(body: &str, prompt_chars: usize) -> Completion {
    let mut assembler = Assembler::new();
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(mut value) => {
            if let Some(choices) = value.get_mut("choices").and_then(|c| c.as_array_mut()) {
                for choice in choices.iter_mut() {
                    if let Some(message) = choice.get_mut("message").map(serde_json::Value::take) {
                        choice["delta"] = message;
                    }
                }
            }
            assembler.apply(&value.to_string());
        }
        Err(_) => assembler.turn.malformed_chunks += 1,
    }
    assembler.finish(prompt_chars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_deltas_are_appended_and_returned() {
        let mut a = Assembler::new();
        assert_eq!(
            a.apply(r#"{"choices":[{"delta":{"role":"assistant","content":"The flip "}}]}"#),
            "The flip "
        );
        assert_eq!(
            a.apply(r#"{"choices":[{"delta":{"content":"is 6973."},"finish_reason":"stop"}]}"#),
            "is 6973."
        );
        a.apply(r#"{"choices":[],"usage":{"prompt_tokens":120,"completion_tokens":9,"total_tokens":129}}"#);
        let turn = a.finish(0);
        assert_eq!(turn.content, "The flip is 6973.");
        assert_eq!(turn.finish_reason.as_deref(), Some("stop"));
        assert_eq!(turn.usage.total(), 129);
        assert!(turn.usage_reported);
    }

    #[test]
    fn tool_call_arguments_split_across_chunks_are_joined_per_index() {
        let mut a = Assembler::new();
        a.apply(r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_gamma_exposure","arguments":""}}]}}]}"#);
        a.apply(r#"{"choices":[{"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"get_key_levels","arguments":"{\"sym"}}]}}]}"#);
        a.apply(r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"symbol\":"}}]}}]}"#);
        a.apply(r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"SPX\"}"}}]}}]}"#);
        a.apply(r#"{"choices":[{"delta":{"tool_calls":[{"index":1,"function":{"arguments":"bol\":\"SPY\"}"}}]},"finish_reason":"tool_calls"}]}"#);
        let turn = a.finish(400);
        assert_eq!(turn.tool_calls.len(), 2);
        assert_eq!(turn.tool_calls[0].id, "call_a");
        assert_eq!(turn.tool_calls[0].function.name, "get_gamma_exposure");
        assert_eq!(turn.tool_calls[0].function.arguments, r#"{"symbol":"SPX"}"#);
        assert_eq!(turn.tool_calls[1].function.arguments, r#"{"symbol":"SPY"}"#);
        // No usage from the server: estimated at 4 characters a token.
        assert!(!turn.usage_reported);
        assert_eq!(turn.usage.prompt_tokens, 100);
    }

    #[test]
    fn null_lists_and_calls_without_index_are_understood() {
        let mut a = Assembler::new();
        let text = a.apply(
            r#"{"choices":[{"delta":{"content":"x","tool_calls":null,"refusal":null}}],"usage":null}"#,
        );
        assert_eq!(text, "x");
        a.apply(r#"{"choices":null}"#);
        // Whole calls one after another, as some local servers send them.
        a.apply(r#"{"choices":[{"delta":{"tool_calls":[{"id":"a","function":{"name":"get_key_levels","arguments":"{\"symbol\":\"SPY\"}"}}]}}]}"#);
        a.apply(r#"{"choices":[{"delta":{"tool_calls":[{"id":"b","function":{"name":"get_morning_brief","arguments":"{}"}}]}}]}"#);
        let turn = a.finish(0);
        assert_eq!(turn.malformed_chunks, 0);
        let names: Vec<&str> = turn
            .tool_calls
            .iter()
            .map(|c| c.function.name.as_str())
            .collect();
        assert_eq!(names, ["get_key_levels", "get_morning_brief"]);
    }

    proptest::proptest! {
        #[test]
        fn any_payload_never_panics(payloads in proptest::collection::vec(".{0,200}", 0..12)) {
            let mut a = Assembler::new();
            for p in &payloads {
                a.apply(p);
            }
            a.finish(0);
        }
    }

    #[test]
    fn a_whole_completion_is_read_like_one_chunk() {
        let turn = whole(
            r#"{"choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"c9","type":"function","function":{"name":"get_gamma_exposure","arguments":"{\"symbol\":\"SPX\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":50,"completion_tokens":7}}"#,
            0,
        );
        assert_eq!(turn.tool_calls[0].id, "c9");
        assert_eq!(turn.tool_calls[0].function.arguments, r#"{"symbol":"SPX"}"#);
        assert_eq!(turn.usage.total(), 57);
        assert_eq!(whole("<html>", 0).malformed_chunks, 1);
    }

    #[test]
    fn malformed_payloads_are_counted_and_skipped() {
        let mut a = Assembler::new();
        assert_eq!(a.apply("{not json"), "");
        assert_eq!(a.apply(r#"{"choices":"nope"}"#), "");
        assert_eq!(a.apply(r#"{"choices":[{"delta":{"content":"ok"}}]}"#), "ok");
        assert_eq!(a.apply(r#"{"choices":[{"delta":{"tool_calls":[{"index":99999999,"function":{"name":"x"}}]}}]}"#), "");
        let turn = a.finish(0);
        assert_eq!(turn.content, "ok");
        assert_eq!(turn.malformed_chunks, 3);
        assert!(turn.tool_calls.is_empty());
    }
}
