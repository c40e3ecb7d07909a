//! A client for the OpenAI-compatible chat-completions API (SPEC 16): streaming, tool
//! calls, retries, time-outs and cancellation.
//!
//! - [`sse`]: server-sent events from bytes (pure).
//! - [`assemble`]: one model turn from the stream's chunks, tool-call arguments joined (pure).
//! - [`types`]: messages, tool calls, tool definitions, usage.
//! - [`client`]: the HTTP shell.

pub mod assemble;
pub mod client;
pub mod sse;
pub mod types;

pub use client::{LlmClient, LlmError, RetryPolicy};
pub use types::{Completion, FunctionCall, Message, ToolCall, ToolDef, Usage};
