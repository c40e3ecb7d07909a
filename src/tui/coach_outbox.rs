//! The queue between a running coach question and the screen (issue 25 item 1: bounded
//! queues). The coach emits from inside the model's stream and cannot wait; the screen
//! may be slow. So the queue is bounded by entries, and a full one keeps what the
//! trader must see:
//! - streamed text is appended to the text queued just before it (one entry however many
//!   pieces arrive), so the answer is shown whole and its bytes are the answer's own;
//! - a tool call or result arriving at a full queue evicts the oldest queued tool line
//!   (progress: the trader loses a line of "what the coach looked at", counted), and the
//!   text runs on either side of it join, so the answer's text is never cut;
//! - the final answer, a failure and a confirmation are never dropped (at most one of
//!   each is pending, so they add at most a few entries above the cap).

use std::collections::VecDeque;

use crate::coach::CoachEvent;

/// Entries queued for the screen before tool lines are evicted: far above one question's
/// tool rounds, so only a screen that stopped reading ever meets it.
pub const OUTBOX_ENTRIES: usize = 256;

/// Events of one question on their way to the screen, in order.
#[derive(Debug)]
pub struct CoachOutbox {
    queue: VecDeque<CoachEvent>,
    capacity: usize,
    /// Tool lines evicted by a full queue since the question began.
    evicted: u64,
}

impl CoachOutbox {
    /// An empty queue holding up to `capacity` entries (at least 1) of progress.
    pub fn new(capacity: usize) -> CoachOutbox {
        CoachOutbox {
            queue: VecDeque::new(),
            capacity: capacity.max(1),
            evicted: 0,
        }
    }

    /// Queues `event` by the policy of the module.
    pub fn push(&mut self, event: CoachEvent) {
        if matches!(
            event,
            CoachEvent::Answer(_) | CoachEvent::Failed(_) | CoachEvent::Confirm { .. }
        ) {
            self.queue.push_back(event);
            return;
        }
        let joins_text = matches!(
            (&event, self.queue.back()),
            (CoachEvent::Text(_), Some(CoachEvent::Text(_)))
        );
        if !joins_text && self.queue.len() >= self.capacity {
            self.evict_oldest_tool_line();
        }
        match (event, self.queue.back_mut()) {
            (CoachEvent::Text(piece), Some(CoachEvent::Text(queued))) => queued.push_str(&piece),
            (event, _) => self.queue.push_back(event),
        }
    }

    /// Drops the oldest queued tool line and joins the text runs on either side of it, so
    /// no two text runs are ever neighbours: a full queue alternates text and tool lines
    /// and always has one to evict.
    fn evict_oldest_tool_line(&mut self) {
        let tool_line = self.queue.iter().position(|e| {
            matches!(
                e,
                CoachEvent::ToolCall { .. } | CoachEvent::ToolResult { .. }
            )
        });
        let Some(i) = tool_line else { return };
        self.queue.remove(i);
        self.evicted += 1;
        let texts_meet = i > 0
            && matches!(
                (self.queue.get(i - 1), self.queue.get(i)),
                (Some(CoachEvent::Text(_)), Some(CoachEvent::Text(_)))
            );
        if texts_meet
            && let Some(CoachEvent::Text(later)) = self.queue.remove(i)
            && let Some(CoachEvent::Text(earlier)) = self.queue.get_mut(i - 1)
        {
            earlier.push_str(&later);
        }
    }

    /// The oldest queued event.
    pub fn pop(&mut self) -> Option<CoachEvent> {
        self.queue.pop_front()
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Tool lines evicted by a full queue so far.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool_call(n: usize) -> CoachEvent {
        CoachEvent::ToolCall {
            name: format!("tool{n}"),
            arguments: "{}".into(),
        }
    }

    fn drain(outbox: &mut CoachOutbox) -> Vec<CoachEvent> {
        std::iter::from_fn(|| outbox.pop()).collect()
    }

    #[test]
    fn a_screen_that_reads_nothing_gets_the_whole_answer_in_one_entry() {
        let mut outbox = CoachOutbox::new(4);
        let words: Vec<String> = (0..10_000).map(|i| format!("w{i} ")).collect();
        for w in &words {
            outbox.push(CoachEvent::Text(w.clone()));
        }
        outbox.push(CoachEvent::Answer(words.concat()));
        assert_eq!(outbox.len(), 2, "one text run and the answer");
        match &drain(&mut outbox)[..] {
            [CoachEvent::Text(text), CoachEvent::Answer(answer)] => {
                assert_eq!(text, &words.concat(), "no piece lost, none repeated");
                assert_eq!(answer, text);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_full_queue_evicts_the_oldest_tool_lines_and_keeps_the_final_answer() {
        let mut outbox = CoachOutbox::new(8);
        outbox.push(CoachEvent::Text("Looking. ".into()));
        for n in 0..1_000 {
            outbox.push(tool_call(n));
            assert!(outbox.len() <= 8, "never above the cap: {}", outbox.len());
        }
        outbox.push(CoachEvent::Failed("the model stopped".into()));
        assert_eq!(outbox.evicted(), 1_000 - 7);
        let events = drain(&mut outbox);
        let names: Vec<String> = events
            .iter()
            .filter_map(|e| match e {
                CoachEvent::ToolCall { name, .. } => Some(name.clone()),
                _ => None,
            })
            .collect();
        let newest: Vec<String> = (993..1_000).map(|n| format!("tool{n}")).collect();
        assert_eq!(names, newest, "the newest tool lines, in order");
        assert!(matches!(&events[0], CoachEvent::Text(t) if t == "Looking. "));
        assert!(matches!(events.last(), Some(CoachEvent::Failed(r)) if r == "the model stopped"));
    }

    #[test]
    fn tool_lines_between_text_at_a_full_queue_join_the_text_and_stay_within_the_cap() {
        let mut outbox = CoachOutbox::new(6);
        let mut said = String::new();
        for n in 0..500 {
            outbox.push(tool_call(n));
            let sentence = format!("step {n}. ");
            outbox.push(CoachEvent::Text(sentence.clone()));
            said.push_str(&sentence);
            assert!(outbox.len() <= 6, "never above the cap: {}", outbox.len());
        }
        outbox.push(CoachEvent::Answer(said.clone()));
        let events = drain(&mut outbox);
        let text: String = events
            .iter()
            .filter_map(|e| match e {
                CoachEvent::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(text, said, "every piece of text once, in order");
        assert!(matches!(events.last(), Some(CoachEvent::Answer(a)) if *a == said));
    }

    #[test]
    fn text_after_a_tool_line_starts_a_new_run_in_order() {
        let mut outbox = CoachOutbox::new(OUTBOX_ENTRIES);
        outbox.push(CoachEvent::Text("a".into()));
        outbox.push(tool_call(1));
        outbox.push(CoachEvent::Text("b".into()));
        outbox.push(CoachEvent::Text("c".into()));
        let texts: Vec<String> = drain(&mut outbox)
            .into_iter()
            .map(|e| match e {
                CoachEvent::Text(t) => t,
                CoachEvent::ToolCall { name, .. } => format!("[{name}]"),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(texts, ["a", "[tool1]", "bc"]);
        assert!(outbox.is_empty());
        assert_eq!(outbox.evicted(), 0, "nothing evicted below the cap");
    }

    #[test]
    fn a_queue_of_one_still_keeps_the_text_and_the_answer() {
        let mut outbox = CoachOutbox::new(0);
        outbox.push(tool_call(1));
        outbox.push(tool_call(2));
        outbox.push(CoachEvent::Text("x".into()));
        outbox.push(CoachEvent::Answer("x".into()));
        let events = drain(&mut outbox);
        assert_eq!(events.len(), 2, "{events:?}");
        assert!(matches!(&events[0], CoachEvent::Text(t) if t == "x"));
        assert!(matches!(&events[1], CoachEvent::Answer(t) if t == "x"));
    }
}
