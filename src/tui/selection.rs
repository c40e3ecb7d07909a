//! List navigation shared by every list and scrolling pane: one place decides where
//! `j`/`k`, `g`/`G` (`Home`/`End`) and the half-page keys (`PageUp`/`PageDown`,
//! `Ctrl-U`/`Ctrl-D`) land, so every pane moves the same way.

use super::action::Action;

/// Rows a half-page key moves. Panes do not know their height when a key arrives (the
/// layout is the drawing's), so a half page is that of the smallest list a pane shows at
/// 80×24 (about 16 rows).
pub const HALF_PAGE: usize = 8;

/// A move through a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Move {
    Up,
    Down,
    First,
    Last,
    HalfPageUp,
    HalfPageDown,
}

impl Move {
    /// The move an action stands for; `None` for actions that are not list moves.
    pub fn from_action(action: Action) -> Option<Move> {
        Some(match action {
            Action::Up => Move::Up,
            Action::Down => Move::Down,
            Action::First => Move::First,
            Action::Last => Move::Last,
            Action::HalfPageUp => Move::HalfPageUp,
            Action::HalfPageDown => Move::HalfPageDown,
            _ => return None,
        })
    }

    /// The row `self` lands on from row `current` in a list of `len` rows: never past
    /// either end; `None` for an empty list.
    pub fn apply(self, current: usize, len: usize) -> Option<usize> {
        let last = len.checked_sub(1)?;
        let current = current.min(last);
        Some(match self {
            Move::Up => current.saturating_sub(1),
            Move::Down => (current + 1).min(last),
            Move::First => 0,
            Move::Last => last,
            Move::HalfPageUp => current.saturating_sub(HALF_PAGE),
            Move::HalfPageDown => (current + HALF_PAGE).min(last),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_move_stays_inside_the_list() {
        assert_eq!(Move::Down.apply(3, 4), Some(3), "the last row stays");
        assert_eq!(Move::Up.apply(0, 4), Some(0), "the first row stays");
        assert_eq!(Move::Last.apply(0, 25), Some(24));
        assert_eq!(Move::First.apply(24, 25), Some(0));
        assert_eq!(Move::HalfPageDown.apply(0, 25), Some(HALF_PAGE));
        assert_eq!(Move::HalfPageDown.apply(20, 25), Some(24));
        assert_eq!(Move::HalfPageUp.apply(HALF_PAGE + 2, 25), Some(2));
        assert_eq!(Move::HalfPageUp.apply(3, 25), Some(0));
        assert_eq!(
            Move::Down.apply(9, 4),
            Some(3),
            "a row past the end is the last"
        );
    }

    #[test]
    fn an_empty_list_has_nowhere_to_go() {
        for m in [Move::Up, Move::Down, Move::First, Move::Last] {
            assert_eq!(m.apply(0, 0), None);
        }
    }

    #[test]
    fn only_list_keys_are_moves() {
        assert_eq!(Move::from_action(Action::Last), Some(Move::Last));
        assert_eq!(
            Move::from_action(Action::HalfPageDown),
            Some(Move::HalfPageDown)
        );
        assert_eq!(Move::from_action(Action::Track), None);
    }
}
