//! A one-line text field for the inline editors (watchlist, notes). Keys go to the field
//! while it is open; Enter submits, Esc cancels.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextInput {
    pub text: String,
    /// Longest text accepted, in characters.
    pub max_chars: usize,
}

/// What a key did to the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputOutcome {
    Editing,
    Submit(String),
    Cancel,
}

impl TextInput {
    pub fn new(text: impl Into<String>, max_chars: usize) -> Self {
        TextInput {
            text: text.into(),
            max_chars,
        }
    }

    pub fn on_key(&mut self, key: &KeyEvent) -> InputOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Enter => InputOutcome::Submit(self.text.clone()),
            KeyCode::Esc => InputOutcome::Cancel,
            KeyCode::Backspace => {
                self.text.pop();
                InputOutcome::Editing
            }
            // Ctrl-U clears the line, as in a shell.
            KeyCode::Char('u') if ctrl => {
                self.text.clear();
                InputOutcome::Editing
            }
            KeyCode::Char(c) if !ctrl && !c.is_control() => {
                if self.text.chars().count() < self.max_chars {
                    self.text.push(c);
                }
                InputOutcome::Editing
            }
            _ => InputOutcome::Editing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn typing_backspace_and_submit() {
        let mut input = TextInput::new("SP", 10);
        input.on_key(&key(KeyCode::Char('Y')));
        input.on_key(&key(KeyCode::Char('X')));
        input.on_key(&key(KeyCode::Backspace));
        assert_eq!(
            input.on_key(&key(KeyCode::Enter)),
            InputOutcome::Submit("SPY".into())
        );
        assert_eq!(input.on_key(&key(KeyCode::Esc)), InputOutcome::Cancel);
    }

    #[test]
    fn the_field_stops_at_its_length_and_ctrl_u_clears_it() {
        let mut input = TextInput::new("", 3);
        for c in "ABCDE".chars() {
            input.on_key(&key(KeyCode::Char(c)));
        }
        assert_eq!(input.text, "ABC");
        input.on_key(&KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        assert_eq!(input.text, "");
    }
}
