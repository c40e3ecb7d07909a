//! Key strings (`q`, `ctrl-l`, `shift-tab`, `up`) to actions, with clash detection.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

/// One key with its modifiers, normalised so `Q` and `shift-q` are the same key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyBinding {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

impl KeyBinding {
    /// Parses `q`, `?`, `ctrl-c`, `alt-x`, `shift-tab`, `tab`, `enter`, `esc`, `up`,
    /// `down`, `left`, `right`, `home`, `end`, `pageup`, `pagedown`, `space`, `f1`…`f12`.
    pub fn parse(text: &str) -> Result<KeyBinding, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut shift = false;
        let lower = text.trim();
        let mut rest = lower;
        loop {
            let l = rest.to_ascii_lowercase();
            if l.starts_with("ctrl-") && rest.len() > 5 {
                ctrl = true;
                rest = &rest[5..];
            } else if l.starts_with("alt-") && rest.len() > 4 {
                alt = true;
                rest = &rest[4..];
            } else if l.starts_with("shift-") && rest.len() > 6 {
                shift = true;
                rest = &rest[6..];
            } else {
                break;
            }
        }
        let named = rest.to_ascii_lowercase();
        let code = match named.as_str() {
            "tab" if shift => KeyCode::BackTab,
            "backtab" => KeyCode::BackTab,
            "tab" => KeyCode::Tab,
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" | "pgup" => KeyCode::PageUp,
            "pagedown" | "pgdn" => KeyCode::PageDown,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                let n: u8 = f[1..].parse().unwrap_or(0);
                if !(1..=12).contains(&n) {
                    return Err(format!("{text:?}: function keys go from f1 to f12"));
                }
                KeyCode::F(n)
            }
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if !c.is_control() => {
                        let c = if shift { c.to_ascii_uppercase() } else { c };
                        KeyCode::Char(if ctrl { c.to_ascii_lowercase() } else { c })
                    }
                    _ => return Err(format!("{text:?} is not a key")),
                }
            }
        };
        if ctrl && matches!(code, KeyCode::Char('h' | 'i' | 'm' | '[')) {
            return Err(format!(
                "{text:?} cannot be told apart from Backspace/Tab/Enter/Esc in most terminals"
            ));
        }
        Ok(KeyBinding { code, ctrl, alt })
    }

    /// The binding a terminal key event stands for.
    pub fn from_event(key: &KeyEvent) -> KeyBinding {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let code = match key.code {
            KeyCode::Char(c) if ctrl => KeyCode::Char(c.to_ascii_lowercase()),
            other => other,
        };
        KeyBinding {
            code,
            ctrl,
            alt: key.modifiers.contains(KeyModifiers::ALT),
        }
    }
}

impl fmt::Display for KeyBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("Ctrl-")?;
        }
        if self.alt {
            f.write_str("Alt-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) if self.ctrl => write!(f, "{}", c.to_ascii_uppercase()),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::F(n) => write!(f, "F{n}"),
            // short, so `Ctrl-D/PgDn` fits the help's key column
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            other => write!(f, "{other}"),
        }
    }
}

/// Keys to actions. Built from the defaults with the configuration's raw `[keys]`
/// overrides (`Config::keys`); this is where that table is validated: an unknown action,
/// a key that is not a key, or two actions on one key are refused with their names.
#[derive(Clone, Debug, PartialEq)]
pub struct Keymap {
    by_key: HashMap<KeyBinding, Action>,
    by_action: BTreeMap<Action, Vec<KeyBinding>>,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::from_config(&BTreeMap::new()).unwrap_or_else(|_| Keymap {
            by_key: HashMap::new(),
            by_action: BTreeMap::new(),
        })
    }
}

impl Keymap {
    /// Applies `action name → keys` overrides to the defaults.
    pub fn from_config(overrides: &BTreeMap<String, Vec<String>>) -> Result<Keymap, String> {
        let mut by_action: BTreeMap<Action, Vec<KeyBinding>> = BTreeMap::new();
        for action in Action::ALL {
            let keys = action
                .default_keys()
                .iter()
                .map(|k| KeyBinding::parse(k))
                .collect::<Result<Vec<_>, _>>()?;
            by_action.insert(action, keys);
        }
        for (name, keys) in overrides {
            let action = Action::from_name(name)
                .ok_or_else(|| format!("{name:?} is not an action (see `?` for the list)"))?;
            let parsed = keys
                .iter()
                .map(|k| KeyBinding::parse(k).map_err(|e| format!("{name}: {e}")))
                .collect::<Result<Vec<_>, _>>()?;
            if parsed.is_empty() {
                return Err(format!("{name}: needs at least one key"));
            }
            by_action.insert(action, parsed);
        }
        let mut by_key = HashMap::new();
        for (action, keys) in &by_action {
            for key in keys {
                if let Some(other) = by_key.insert(*key, *action) {
                    return Err(format!(
                        "key {key} is bound to both {} and {}",
                        other.name(),
                        action.name()
                    ));
                }
            }
        }
        Ok(Keymap { by_key, by_action })
    }

    pub fn action(&self, key: &KeyEvent) -> Option<Action> {
        self.by_key.get(&KeyBinding::from_event(key)).copied()
    }

    /// The keys bound to an action, for help and footer text.
    pub fn keys_for(&self, action: Action) -> &[KeyBinding] {
        self.by_action
            .get(&action)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// "k/Up" style label of an action's keys.
    pub fn label(&self, action: Action) -> String {
        self.keys_for(action)
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyEventKind;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        let mut k = KeyEvent::new(code, modifiers);
        k.kind = KeyEventKind::Press;
        k
    }

    #[test]
    fn default_keys_follow_the_spec() {
        let map = Keymap::default();
        let none = KeyModifiers::NONE;
        assert_eq!(
            map.action(&key(KeyCode::Char('q'), none)),
            Some(Action::Quit)
        );
        assert_eq!(
            map.action(&key(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::ForceQuit)
        );
        assert_eq!(
            map.action(&key(KeyCode::Char('l'), KeyModifiers::CONTROL)),
            Some(Action::Redraw)
        );
        assert_eq!(
            map.action(&key(KeyCode::Char('2'), none)),
            Some(Action::FocusScanner)
        );
        assert_eq!(
            map.action(&key(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Action::FocusPrev)
        );
        assert_eq!(map.action(&key(KeyCode::Down, none)), Some(Action::Down));
        assert_eq!(map.action(&key(KeyCode::Char('y'), none)), None);
    }

    #[test]
    fn a_remapped_action_leaves_the_others_alone() {
        let overrides = BTreeMap::from([("quit".to_string(), vec!["Q".to_string()])]);
        let map = Keymap::from_config(&overrides).unwrap();
        assert_eq!(
            map.action(&key(KeyCode::Char('Q'), KeyModifiers::SHIFT)),
            Some(Action::Quit)
        );
        assert_eq!(
            map.action(&key(KeyCode::Char('q'), KeyModifiers::NONE)),
            None
        );
        assert_eq!(map.label(Action::Up), "k/Up");
    }

    #[test]
    fn a_key_bound_to_two_actions_is_refused_with_both_names() {
        let overrides = BTreeMap::from([("help".to_string(), vec!["q".to_string()])]);
        let err = Keymap::from_config(&overrides).unwrap_err();
        assert!(err.contains("key q is bound to both"), "{err}");
        assert!(err.contains("help") && err.contains("quit"), "{err}");
    }

    #[test]
    fn the_example_configuration_lists_exactly_the_default_keys() {
        let text = include_str!("../../config.example.toml");
        let config = crate::config::Config::from_sources(
            Some((std::path::Path::new("config.example.toml"), text)),
            &[],
        )
        .unwrap();
        let defaults = Keymap::default();
        for action in Action::ALL {
            let listed: Vec<KeyBinding> = config.keys[action.name()]
                .iter()
                .map(|k| KeyBinding::parse(k).unwrap())
                .collect();
            assert_eq!(listed, defaults.keys_for(action), "{}", action.name());
        }
        assert_eq!(
            config.keys.len(),
            Action::ALL.len(),
            "no other action listed"
        );
        assert_eq!(Keymap::from_config(&config.keys).unwrap(), defaults);
    }

    #[test]
    fn the_configurations_keys_table_is_validated_here() {
        let config = crate::config::Config::from_sources(
            Some((std::path::Path::new("c.toml"), "[keys]\nhelp = [\"q\"]\n")),
            &[],
        )
        .expect("the configuration keeps [keys] raw");
        let err = Keymap::from_config(&config.keys).unwrap_err();
        assert!(err.contains("bound to both"), "{err}");
        let from_env = crate::config::Config::from_sources(
            None,
            &[(
                "COACH_KEYS_FOCUS_NEXT".to_string(),
                "ctrl-n, tab".to_string(),
            )],
        )
        .unwrap();
        assert_eq!(from_env.keys["focus_next"], ["ctrl-n", "tab"]);
        let map = Keymap::from_config(&from_env.keys).unwrap();
        assert_eq!(map.label(Action::FocusNext), "Ctrl-N/Tab");
        let typo = crate::config::Config::from_sources(
            None,
            &[("COACH_KEYS_FLY".to_string(), "x".to_string())],
        )
        .unwrap();
        assert!(
            Keymap::from_config(&typo.keys)
                .unwrap_err()
                .contains("\"fly\"")
        );
    }

    #[test]
    fn unknown_actions_and_keys_are_named() {
        let bad_action = BTreeMap::from([("fly".to_string(), vec!["x".to_string()])]);
        assert!(
            Keymap::from_config(&bad_action)
                .unwrap_err()
                .contains("\"fly\"")
        );
        let bad_key = BTreeMap::from([("help".to_string(), vec!["ctrl-h".to_string()])]);
        assert!(
            Keymap::from_config(&bad_key)
                .unwrap_err()
                .contains("Backspace")
        );
        let nonsense = BTreeMap::from([("help".to_string(), vec!["hello".to_string()])]);
        assert!(
            Keymap::from_config(&nonsense)
                .unwrap_err()
                .contains("not a key")
        );
    }
}
