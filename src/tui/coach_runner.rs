//! Runs the trader's questions to the coach in the background, one at a time, and sends
//! their progress to the screen as `AppEvent::Coach`. The conversation (history) is kept
//! for follow-up questions; `cancel` stops the question being answered.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::coach::{Coach, CoachContext, CoachError, CoachEvent, ConfirmReply, Confirmer};
use crate::llm::{LlmError, Message};
use crate::runtime::AppEvent;
use crate::tui::coach_outbox::{CoachOutbox, OUTBOX_ENTRIES};

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
            let mailbox = Arc::new(Mailbox::default());
            // Events reach the screen in order; the screen's queue may make this wait,
            // while the coach only ever queues (bounded, `CoachOutbox`).
            let forward = tokio::spawn(forward(mailbox.clone(), runner.events.clone()));
            let mut history = runner.history.lock().await;
            let queued = mailbox.clone();
            let mut emit = move |event: CoachEvent| queued.push(event);
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
            mailbox.push(last);
            mailbox.close();
            if forward.await.is_err() {
                tracing::warn!("the coach's event forwarder stopped");
            }
            let evicted = mailbox.outbox().evicted();
            if evicted > 0 {
                tracing::warn!(
                    "the screen fell behind the coach: {evicted} tool line(s) of that question not shown"
                );
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

/// One question's events between the coach, which queues without waiting, and
/// [`forward`], which hands them to the screen.
struct Mailbox {
    outbox: Mutex<CoachOutbox>,
    ready: Notify,
    /// Set after the last event was queued.
    closed: AtomicBool,
}

impl Default for Mailbox {
    fn default() -> Self {
        Mailbox {
            outbox: Mutex::new(CoachOutbox::new(OUTBOX_ENTRIES)),
            ready: Notify::new(),
            closed: AtomicBool::new(false),
        }
    }
}

impl Mailbox {
    /// The queue; a panic elsewhere while it was held leaves it usable (it holds plain
    /// events, no invariant a half-done push could break).
    fn outbox(&self) -> MutexGuard<'_, CoachOutbox> {
        self.outbox
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn push(&self, event: CoachEvent) {
        self.outbox().push(event);
        self.ready.notify_one();
    }

    /// No more events: [`forward`] ends once it has handed on the queued ones.
    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.ready.notify_one();
    }
}

/// Hands the mailbox's events to the screen in order until it is closed and empty, or
/// the screen is gone.
async fn forward(mailbox: Arc<Mailbox>, events: mpsc::Sender<AppEvent>) {
    loop {
        let next = mailbox.outbox().pop();
        let event = match next {
            Some(event) => event,
            None if mailbox.closed.load(Ordering::Acquire) => {
                // Closed after its last push: what is queued now is all there is.
                match mailbox.outbox().pop() {
                    Some(event) => event,
                    None => return,
                }
            }
            None => {
                mailbox.ready.notified().await;
                continue;
            }
        };
        if events.send(AppEvent::Coach(event)).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A screen whose queue holds one event and that reads nothing until the coach has
    /// finished: the coach never waits, the mailbox stays within its cap, and the screen
    /// then gets every piece of text once, in order, and the answer last.
    #[tokio::test]
    async fn a_stalled_screen_gets_the_whole_answer_and_the_mailbox_stays_bounded() {
        let (events, mut screen) = mpsc::channel(1);
        let mailbox = Arc::new(Mailbox::default());
        let forwarder = tokio::spawn(forward(mailbox.clone(), events));
        let mut most_queued = 0;
        for n in 0..2_000 {
            mailbox.push(CoachEvent::ToolCall {
                name: format!("tool{n}"),
                arguments: "{}".into(),
            });
            for piece in ["The flip ", "is 6973.15. "] {
                mailbox.push(CoachEvent::Text(piece.into()));
            }
            tokio::task::yield_now().await;
            most_queued = most_queued.max(mailbox.outbox().len());
        }
        mailbox.push(CoachEvent::Answer("done".into()));
        mailbox.close();
        assert!(most_queued <= OUTBOX_ENTRIES + 1, "{most_queued} queued");

        let mut received = Vec::new();
        while let Some(AppEvent::Coach(event)) = screen.recv().await {
            received.push(event);
        }
        tokio::time::timeout(Duration::from_secs(5), forwarder)
            .await
            .expect("the forwarder ends with the question")
            .expect("the forwarder does not panic");
        assert!(matches!(received.last(), Some(CoachEvent::Answer(a)) if a == "done"));
        let evicted = mailbox.outbox().evicted();
        let tool_lines = received
            .iter()
            .filter(|e| matches!(e, CoachEvent::ToolCall { .. }))
            .count();
        assert_eq!(
            tool_lines as u64 + evicted,
            2_000,
            "each tool line shown or counted"
        );
        assert!(evicted > 0, "the stalled screen made the mailbox evict");
        // Every text piece pushed after a shown tool line reached the screen: the runs
        // between two shown tool lines hold whole sentences, never a cut one.
        for e in &received {
            if let CoachEvent::Text(t) = e {
                assert!(
                    t.starts_with("The flip ") && t.ends_with("is 6973.15. "),
                    "{t:?}"
                );
                assert_eq!(t.matches("The flip ").count(), t.matches("6973.15").count());
            }
        }
    }

    #[tokio::test]
    async fn a_screen_gone_mid_question_ends_the_forwarder() {
        let (events, screen) = mpsc::channel(1);
        let mailbox = Arc::new(Mailbox::default());
        let forwarder = tokio::spawn(forward(mailbox.clone(), events));
        drop(screen);
        mailbox.push(CoachEvent::Text("x".into()));
        mailbox.push(CoachEvent::Text("y".into()));
        tokio::time::timeout(Duration::from_secs(5), forwarder)
            .await
            .expect("no screen, no forwarding")
            .expect("the forwarder does not panic");
    }
}
