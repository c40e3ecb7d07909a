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
    walk(&defaults, table, "COACH", vars)?;
    refuse_unknown(&defaults, vars)
}

/// The `COACH_` variables that are not configuration keys: the configuration file's
/// path, the log filter, and switches of the test suite and the build.
const NOT_CONFIG: [&str; 5] = [
    "COACH_CONFIG",
    "COACH_LOG",
    "COACH_REQUIRE_SHARED",
    "COACH_GEX_PORTABLE",
    "COACH_FUZZ_CASES",
];

/// A `COACH_` variable that names no key is an error, like an unknown key in the file:
/// `COACH_SIM_SPED=1` must not leave the speed silently at its default.
fn refuse_unknown(defaults: &toml::Table, vars: &[(String, String)]) -> Result<(), ConfigError> {
    let mut known = Vec::new();
    names(defaults, "COACH", &mut known);
    let free = format!("{FREE_KEYS}_");
    let unknown = vars.iter().map(|(var, _)| var).find(|var| {
        var.starts_with("COACH_")
            && !known.contains(var)
            && !NOT_CONFIG.contains(&var.as_str())
            && !var.starts_with("COACH_TEST_")
            && !var.starts_with(&free)
    });
    match unknown {
        None => Ok(()),
        Some(var) => Err(ConfigError::Env {
            var: crate::text::printable(var),
            reason: format!(
                "not a configuration variable (each key `section.key` is COACH_SECTION_KEY{}; \
                 the others are {})",
                closest(var, &known)
                    .map(|k| format!(", did you mean {k}?"))
                    .unwrap_or_default(),
                NOT_CONFIG.join(", ")
            ),
        }),
    }
}

/// The variable of every key of the default configuration, `[keys]` left out.
fn names(defaults: &toml::Table, prefix: &str, out: &mut Vec<String>) {
    for (key, default) in defaults {
        let var = format!("{prefix}_{}", key.to_ascii_uppercase());
        match default {
            toml::Value::Table(_) if var == FREE_KEYS => {}
            toml::Value::Table(inner) => names(inner, &var, out),
            _ => out.push(var),
        }
    }
}

/// The known variables nearest to a typo (at most two letters changed, added or
/// removed), all of them when several are as near: `COACH_SIM_SPED` is one letter from
/// both `COACH_SIM_SEED` and `COACH_SIM_SPEED`.
fn closest(typo: &str, known: &[String]) -> Option<String> {
    let distances: Vec<(usize, &String)> =
        known.iter().map(|k| (edit_distance(typo, k), k)).collect();
    let best = distances
        .iter()
        .map(|(d, _)| *d)
        .min()
        .filter(|d| *d <= 2)?;
    let nearest: Vec<&str> = distances
        .iter()
        .filter(|(d, _)| *d == best)
        .map(|(_, k)| k.as_str())
        .collect();
    Some(nearest.join(" or "))
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
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
