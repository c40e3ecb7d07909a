//! Every subcommand's `--help` lists only the flags it uses (issue 22 item 11): the market
//! flags (`--speed`, `--seed`, `--bars`, `--provider`) only where a market is read. The
//! subcommands are read from the binary's own help, so a new one is checked too.

use std::process::Command;

fn help(path: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_coach"))
        .args(path)
        .arg("--help")
        .output()
        .unwrap();
    assert!(o.status.success(), "{path:?}: {o:?}");
    String::from_utf8(o.stdout).unwrap()
}

/// The names under `Commands:` in a help text (`help` left out).
fn subcommands(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(String::from)
        .collect()
}

/// The market flags `path` may list.
fn allowed(path: &[String]) -> &'static [&'static str] {
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    match path.as_slice() {
        ["serve" | "ask"] => &["--provider", "--bars", "--speed", "--seed"],
        ["brief"] => &["--provider", "--bars", "--seed"],
        ["doctor"] => &["--provider", "--bars"],
        ["replay" | "backtest"] => &["--bars"],
        // `coach gex` computes a chain's profile (from a file or a provider); its
        // `history` reads the store
        ["bars" | "gex"] => &["--provider"],
        _ => &[],
    }
}

#[test]
fn each_subcommand_lists_only_the_market_flags_it_uses() {
    let top = help(&[]);
    for flag in ["--speed", "--seed", "--bars", "--provider"] {
        assert!(top.contains(flag), "the dashboard keeps {flag}:\n{top}");
    }
    let mut todo: Vec<Vec<String>> = subcommands(&top).into_iter().map(|s| vec![s]).collect();
    assert!(todo.len() >= 10, "{top}");
    let mut checked = 0;
    while let Some(path) = todo.pop() {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let text = help(&args);
        for flag in ["--speed", "--seed", "--bars", "--provider"] {
            let listed = text
                .lines()
                .any(|l| l.trim_start().split([' ', ',']).any(|word| word == flag));
            assert_eq!(
                listed,
                allowed(&path).contains(&flag),
                "coach {} --help and {flag}:\n{text}",
                args.join(" ")
            );
        }
        for flag in ["--config", "--db", "--user"] {
            assert!(text.contains(flag), "{args:?} keeps {flag}:\n{text}");
        }
        for sub in subcommands(&text) {
            let mut deeper = path.clone();
            deeper.push(sub);
            todo.push(deeper);
        }
        checked += 1;
    }
    assert!(checked >= 20, "{checked} help texts");
}

#[test]
fn market_flags_work_after_the_subcommand_that_uses_them() {
    let db = crate::isolated::db();
    let o = crate::isolated::coach(&db, &["doctor", "--provider", "sim"]);
    assert!(o.status.success(), "{o:?}");
    let o = crate::isolated::coach(&db, &["setups", "list", "--speed", "10"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "setups does not take --speed: {o:?}"
    );
}
