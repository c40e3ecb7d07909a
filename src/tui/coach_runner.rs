//! Runs the trader's questions to the coach in the background, one at a time, and sends
//! their progress to the screen as `AppEvent::Coach`. The conversation (history) is kept
//! for follow-up questions; `cancel` stops the question being answered.

use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::coach::{Coach, CoachContext, CoachError, CoachEvent, ConfirmReply, Confirmer};
use crate::llm::{LlmError, Message};
use crate::runtime::AppEvent;

#[derive(Clone)]
pub struct CoachRunner {
    coach: Coach,
    history: Arc<tokio::sync::Mutex<Vec<Message>>>,
    current: Arc<Mutex<Option<CancellationToken>>>,
    events: mpsc::Sender<AppEvent>,
}

/// The screen's confirmer: a confirm overlay, answered by the trader's next key.
pub fn screen_confirmer(events: mpsc::Sender<AppEvent>) -> Confirmer {
    Arc::new(move |question: String| {
        let events = events.clone();
        Box::pin(async move {
            let (reply, answer) = ConfirmReply::new();
            let asked = events
                .send(AppEvent::Coach(CoachEvent::Confirm { question, reply }))
                .await;
            asked.is_ok() && answer.await.unwrap_or(false)
        })
    })
}

impl CoachRunner {
    pub fn new(coach: Coach, events: mpsc::Sender<AppEvent>) -> CoachRunner {
        CoachRunner {
            coach,
            history: Arc::default(),
            current: Arc::default(),
            events,
        }
    }

    pub fn context(&self) -> &CoachContext {
        self.coach.context()
    }

    /// Starts answering `question` (after the previous one finished).
    pub fn ask(&self, question: String, context: Option<String>) {
        let token = CancellationToken::new();
        if let Ok(mut current) = self.current.lock() {
            *current = Some(token.clone());
        }
        let runner = self.clone();
        tokio::spawn(async move {
            let (tx, mut rx) = mpsc::unbounded_channel::<CoachEvent>();
            let events = runner.events.clone();
            // Events are forwarded in order; the screen's queue may make this wait, never drop.
            let forward = tokio::spawn(async move {
                while let Some(event) = rx.recv().await {
                    if events.send(AppEvent::Coach(event)).await.is_err() {
                        return;
                    }
                }
            });
            let mut history = runner.history.lock().await;
            let emit_tx = tx.clone();
            let mut emit = move |event: CoachEvent| {
                // The forwarder ends only when the screen is gone; nothing to tell then.
                let _ = emit_tx.send(event);
            };
            let result = runner
                .coach
                .ask(
                    &mut history,
                    &question,
                    context.as_deref(),
                    &mut emit,
                    &token,
                )
                .await;
            let last = match result {
                Ok(answer) => CoachEvent::Answer(answer),
                Err(CoachError::Llm(LlmError::Cancelled)) => {
                    CoachEvent::Failed("cancelled; nothing of that answer is kept".into())
                }
                Err(e) => CoachEvent::Failed(e.to_string()),
            };
            let _ = tx.send(last);
            drop(tx);
            drop(emit);
            if forward.await.is_err() {
                tracing::warn!("the coach's event forwarder stopped");
            }
        });
    }

    pub fn cancel(&self) {
        if let Ok(current) = self.current.lock()
            && let Some(token) = current.as_ref()
        {
            token.cancel();
        }
    }
}
