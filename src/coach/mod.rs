//! The AI coach (SPEC 16): a conversation with a chat-completions model whose tools read
//! the dashboard's own data.
//!
//! - [`tools`]: the tool definitions and argument validation (pure).
//! - [`context`]: the tools' implementations over the live state (bus, GEX board, store).
//! - [`setup_stats`]: `get_setup_stats`'s answer from the journal and stored backtest (pure).
//! - [`conversation`]: the loop of model turns and tool calls, bounded, within budget.

pub mod context;
pub mod conversation;
pub mod setup_stats;
pub mod tools;

pub use context::{CoachContext, Confirmer};
pub use conversation::{Coach, CoachError, CoachEvent, ConfirmReply};
