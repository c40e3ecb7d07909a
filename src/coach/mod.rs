//! The AI coach (SPEC 16): a conversation with a chat-completions model whose tools read
//! the dashboard's own data.
//!
//! - [`tools`]: the tool definitions and argument validation (pure).
//! - [`context`]: the tools' implementations over the live state (bus, GEX board, store).
//! - [`conversation`]: the loop of model turns and tool calls, bounded, within budget.

pub mod context;
pub mod conversation;
pub mod tools;

pub use context::{CoachContext, Confirmer};
pub use conversation::{Coach, CoachError, CoachEvent, ConfirmReply};
