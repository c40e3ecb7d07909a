//! `COACH_<SECTION>_<KEY>` overrides. The variable names come from the default
//! configuration's own keys, so every key has exactly one variable and a typo in a
//! variable name cannot silently set something else. The one exception is `[keys]`, a
//! free table of action names whose defaults and validation belong to the screen
//! (`tui::keymap`): `COACH_KEYS_<ACTION>` sets `keys.<action>`, and an unknown action is
//! refused where the keymap is built.

use super::{Config, ConfigError};

/// Sets every key whose variable is present, parsed as the type of the key's default.
/// Lists take comma-separated values: `COACH_SIM_SYMBOLS=SPY,QQQ`.
pub(super) fn apply_overrides(
    table: &mut toml::Table,
    vars: &[(String, String)],
) -> Result<(), ConfigError> {
    let defaults = toml::Table::try_from(Config::default()).map_err(|e| ConfigError::Invalid {
        key: "defaults".into(),
        reason: e.to_string(),
    })?;
    walk(&defaults, table, "COACH", vars)
}

fn walk(
    defaults: &toml::Table,
    target: &mut toml::Table,
    prefix: &str,
    vars: &[(String, String)],
) -> Result<(), ConfigError> {
    for (key, default) in defaults {
        let var = format!("{prefix}_{}", key.to_ascii_uppercase());
        if let toml::Value::Table(inner_defaults) = default {
            if var == FREE_KEYS {
                free_lists(target, key, &var, vars);
                continue;
            }
            // Only create a section when a variable sets something in it, so an absent
            // section keeps its defaults.
            let mut inner = match target.remove(key) {
                Some(toml::Value::Table(t)) => t,
                Some(other) => {
                    target.insert(key.clone(), other);
                    continue;
                }
                None => toml::Table::new(),
            };
            walk(inner_defaults, &mut inner, &var, vars)?;
            if !inner.is_empty() {
                target.insert(key.clone(), toml::Value::Table(inner));
            }
            continue;
        }
        if let Some((_, text)) = vars.iter().find(|(k, _)| *k == var) {
            let value = parse_like(default, text).map_err(|reason| ConfigError::Env {
                var: var.clone(),
                reason,
            })?;
            target.insert(key.clone(), value);
        }
    }
    Ok(())
}

/// The section whose variables name their own keys (action names, lower-cased).
const FREE_KEYS: &str = "COACH_KEYS";

/// Sets `section.<name>` from every `PREFIX_<NAME>` variable, as a comma-separated list.
fn free_lists(target: &mut toml::Table, section: &str, prefix: &str, vars: &[(String, String)]) {
    let start = format!("{prefix}_");
    let mut inner = match target.remove(section) {
        Some(toml::Value::Table(t)) => t,
        Some(other) => {
            target.insert(section.to_string(), other);
            return;
        }
        None => toml::Table::new(),
    };
    for (var, text) in vars {
        let Some(name) = var.strip_prefix(&start).filter(|n| !n.is_empty()) else {
            continue;
        };
        let empty = toml::Value::Array(Vec::new());
        let list = parse_like(&empty, text).unwrap_or(empty);
        inner.insert(name.to_ascii_lowercase(), list);
    }
    if !inner.is_empty() {
        target.insert(section.to_string(), toml::Value::Table(inner));
    }
}

fn parse_like(default: &toml::Value, text: &str) -> Result<toml::Value, String> {
    let text = text.trim();
    Ok(match default {
        toml::Value::Integer(_) => toml::Value::Integer(
            text.parse()
                .map_err(|_| format!("{text:?} is not a whole number"))?,
        ),
        toml::Value::Float(_) => {
            let v: f64 = text
                .parse()
                .map_err(|_| format!("{text:?} is not a number"))?;
            toml::Value::Float(v)
        }
        toml::Value::Boolean(_) => match text {
            "true" | "1" | "yes" => toml::Value::Boolean(true),
            "false" | "0" | "no" => toml::Value::Boolean(false),
            _ => return Err(format!("{text:?} is not true or false")),
        },
        toml::Value::Array(_) => toml::Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_string()))
                .collect(),
        ),
        _ => toml::Value::String(text.to_string()),
    })
}
