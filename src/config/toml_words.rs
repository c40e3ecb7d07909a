//! TOML errors as a trader reads them (issue 22 item 9): the line number and the line
//! itself, and what is wrong in words (`found the text "fast" where a number is
//! expected`) instead of the parser's Rust types (`invalid type: string "fast", expected
//! f64`). The caller still masks secrets and strips escapes from the result.

/// `line N (the line): what is wrong`, or only what is wrong when the error has no place
/// in `text` (an environment override).
pub(super) fn describe(text: Option<&str>, error: &toml::de::Error) -> String {
    let what = in_words(error.message());
    let (Some(text), Some(span)) = (text, error.span()) else {
        return what;
    };
    let start = span.start.min(text.len());
    let line_no = text.as_bytes()[..start]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1;
    match text.lines().nth(line_no - 1).map(str::trim) {
        Some(line) if !line.is_empty() => format!("line {line_no} ({line}): {what}"),
        _ => format!("line {line_no}: {what}"),
    }
}

/// One parser message in words: the type names serde uses become what a config file
/// writer types.
pub(super) fn in_words(message: &str) -> String {
    let message = super::one_line(message);
    let typed = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "));
    if let Some((found, expected)) = typed.and_then(|rest| rest.rsplit_once(", expected ")) {
        return format!(
            "found {} where {} is expected",
            found_words(found),
            expected_words(expected)
        );
    }
    message.replace('`', "")
}

/// What the file holds: `string "fast"` → `the text "fast"`.
fn found_words(found: &str) -> String {
    let value = |rest: &str| rest.trim().trim_matches('`').to_string();
    if let Some(rest) = found.strip_prefix("string ") {
        format!("the text {}", rest.trim())
    } else if let Some(rest) = found.strip_prefix("floating point ") {
        format!("the number {}", value(rest))
    } else if let Some(rest) = found.strip_prefix("integer ") {
        format!("the whole number {}", value(rest))
    } else if let Some(rest) = found.strip_prefix("boolean ") {
        value(rest)
    } else {
        match found {
            "sequence" => "a list".into(),
            "map" => "a table".into(),
            other => other.replace('`', ""),
        }
    }
}

/// What the key takes: `f64` → `a number`.
fn expected_words(expected: &str) -> String {
    match expected.trim() {
        "f64" | "f32" => "a number".into(),
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number (0 or more)".into(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".into(),
        "a string" | "a borrowed string" => "text in quotes".into(),
        "a boolean" => "true or false".into(),
        "a sequence" => "a list in brackets, like [\"SPY\", \"QQQ\"]".into(),
        "a map" => "a table".into(),
        other if other.starts_with("struct ") => "a table".into(),
        other => other.replace('`', ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Sim {
            speed: Option<f64>,
            seed: Option<u64>,
            symbols: Option<Vec<String>>,
            bell: Option<bool>,
        }
        let e = toml::from_str::<Sim>(text).unwrap_err();
        describe(Some(text), &e)
    }

    #[test]
    fn a_wrong_type_is_told_in_words_with_its_line() {
        assert_eq!(
            error("seed = 1\nspeed = \"fast\"\n"),
            "line 2 (speed = \"fast\"): found the text \"fast\" where a number is expected"
        );
        assert_eq!(
            error("seed = 1.5\n"),
            "line 1 (seed = 1.5): found the number 1.5 where a whole number (0 or more) is expected"
        );
        assert_eq!(
            error("bell = 1\n"),
            "line 1 (bell = 1): found the whole number 1 where true or false is expected"
        );
        let list = error("symbols = \"SPY\"\n");
        assert!(list.contains("a list in brackets"), "{list}");
        for text in ["speed = true", "seed = -1", "seed = \"x\""] {
            let e = error(text);
            for rust in ["f64", "u64", "i64", "`"] {
                assert!(!e.contains(rust), "{text}: {e}");
            }
        }
    }

    #[test]
    fn a_syntax_error_keeps_its_line() {
        let e = error("speed = 2\n[sim\n");
        assert!(e.starts_with("line 2 ([sim): "), "{e}");
    }
}
