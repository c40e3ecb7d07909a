//! The layers (DESIGN.md, "Principle: a pure core, a thin shell" and "What the code
//! taught us"): lower layers never import upper ones.
//!
//! - The core (`market`, `detect`, `gex`, `setups`, `alerts`, `brief`, `domain`) takes
//!   values and returns values: it imports no shell module and neither tokio nor sqlx.
//! - `config`, `provider`, `store` and `notify` sit under the runtime and the screens:
//!   they import neither `tui`, `runtime` nor `cli` (the runtime drives them).
//!
//! The check reads the source files under `src/`: every `crate::…` path (in a `use`, a
//! grouped `use crate::{…}` or inline in code) and every `tokio::`/`sqlx::` path. Test
//! code (`#[cfg(test)]` items and the module files they declare) is not production code
//! and is not checked; comments are ignored.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The pure core.
const CORE: [&str; 7] = [
    "market", "detect", "gex", "setups", "alerts", "brief", "domain",
];
/// What the core must not import: every shell module.
const SHELL: [&str; 10] = [
    "runtime", "tui", "cli", "store", "provider", "notify", "serve", "team", "llm", "coach",
];
/// The shell's lower layers.
const LOWER_SHELL: [&str; 4] = ["config", "provider", "store", "notify"];
/// What the lower layers must not import.
const UPPER: [&str; 3] = ["tui", "runtime", "cli"];
/// Crates of I/O and tasks the core must not use.
const IO_CRATES: [&str; 2] = ["tokio", "sqlx"];

/// Known exceptions: (importing module, imported `crate::` path prefix). None: the last
/// one (config validating the keymap) went when the validation moved to `tui`.
const ALLOWED: &[(&str, &str)] = &[];

/// One import that crosses the layers the wrong way.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Violation {
    file: String,
    /// 1-based.
    line: usize,
    /// The imported path, e.g. `crate::runtime::bus` or `tokio::`.
    import: String,
    rule: &'static str,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: imports `{}` ({})",
            self.file, self.line, self.import, self.rule
        )
    }
}

/// The top-level module a file under `src/` belongs to (`src/gex/profile.rs` → `gex`,
/// `src/domain.rs` → `domain`).
fn top_module(relative: &Path) -> String {
    let first = relative
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    first.trim_end_matches(".rs").to_string()
}

/// The line without its `//` comment (doc comments included).
fn code_of(line: &str) -> &str {
    match line.find("//") {
        Some(at) => &line[..at],
        None => line,
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every `crate::` path in `code`, from the segment after `crate::` to the end of the
/// path (`crate::runtime::bus::MarketBus` → `runtime::bus::MarketBus`). A grouped
/// `crate::{a::b, c}` gives each member (`a::b`, `c`); nested groups give their prefix.
fn crate_paths(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        let after = &rest[at + "crate::".len()..];
        rest = after;
        if before.is_some_and(|c| is_ident_char(c) || c == '$') {
            continue; // `$crate::` in a macro, or a longer identifier
        }
        if let Some(group) = after.strip_prefix('{') {
            // Members are split at the group's own commas; a nested group stays whole
            // in its member (`a::{b, c}`), whose first segment is what matters.
            let mut depth = 1usize;
            let mut member = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 1 => {
                        paths.push(member.trim().to_string());
                        member.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
                member.push(c);
            }
            paths.push(member.trim().to_string());
        } else {
            let mut path: String = after
                .chars()
                .take_while(|&c| is_ident_char(c) || c == ':')
                .collect();
            // `crate::a::{b, c}`: the group is part of what is imported.
            if let Some(group) = after[path.len()..].strip_prefix('{') {
                let end = group.find('}').map_or(group.len(), |e| e + 1);
                path.push('{');
                path.push_str(&group[..end]);
            }
            paths.push(path);
        }
    }
    paths.retain(|p| !p.is_empty());
    paths
}

/// Whether `code` uses the crate `name` as a path (`tokio::…`, `use tokio;`).
fn uses_crate(code: &str, name: &str) -> bool {
    let mut rest = code;
    while let Some(at) = rest.find(name) {
        let before = rest[..at].chars().next_back();
        let after = &rest[at + name.len()..];
        rest = after;
        if before.is_some_and(|c| is_ident_char(c) || c == ':' || c == '$') {
            continue; // part of another name or path, like `crate::tokio_util`
        }
        let path = after.starts_with("::");
        let bare_use = code.trim_start().starts_with("use ") && after.trim_start().starts_with(';');
        if path || bare_use {
            return true;
        }
    }
    false
}

/// The lines of `source` that are production code, as (1-based line, text): the items
/// under `#[cfg(test)]` are left out, and so are the names of the module files they
/// declare (`#[cfg(test)] mod tests;`), returned second.
fn production_lines(source: &str) -> (Vec<(usize, &str)>, Vec<String>) {
    let lines: Vec<&str> = source.lines().collect();
    let mut kept = Vec::new();
    let mut test_modules = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.trim() != "#[cfg(test)]" {
            kept.push((i + 1, line));
            i += 1;
            continue;
        }
        // Skip the attributes, then the item they belong to.
        let indent = &line[..line.len() - line.trim_start().len()];
        i += 1;
        while i < lines.len() && lines[i].trim_start().starts_with("#[") {
            i += 1;
        }
        let Some(item) = lines.get(i) else { break };
        let code = code_of(item).trim_end();
        if code.ends_with('}') {
            i += 1; // a one-line item
        } else if code.ends_with(';') {
            if let Some(name) = declared_module(code) {
                test_modules.push(name);
            }
            i += 1;
        } else if code.ends_with('{') {
            // rustfmt closes an item at its own indentation.
            let close = format!("{indent}}}");
            while i < lines.len() && !lines[i].trim_end().eq(&close) {
                i += 1;
            }
            i += 1;
        } else {
            // A multi-line item: up to the line that ends it.
            while i < lines.len() && !code_of(lines[i]).trim_end().ends_with(';') {
                i += 1;
            }
            i += 1;
        }
    }
    (kept, test_modules)
}

/// `name` of a `mod name;` declaration (any visibility).
fn declared_module(code: &str) -> Option<String> {
    let words: Vec<&str> = code.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "mod")?;
    Some(words.get(at + 1)?.trim_end_matches(';').to_string())
}

/// The violations of `source`, a file of top-level module `module` named `file`.
fn violations_in(file: &str, module: &str, source: &str) -> Vec<Violation> {
    let core = CORE.contains(&module);
    let lower = LOWER_SHELL.contains(&module);
    let mut found = Vec::new();
    let (lines, _) = production_lines(source);
    // A `use crate::{…}` group may span lines: join each statement up to its `;`.
    let mut statement = String::new();
    let mut statement_line = 0;
    for (number, line) in lines {
        let code = code_of(line);
        if statement.is_empty() && code.trim_start().contains("crate::{") && !code.contains(';') {
            statement_line = number;
            statement.push_str(code);
            continue;
        }
        let (text, at) = if statement.is_empty() {
            (code.to_string(), number)
        } else {
            statement.push(' ');
            statement.push_str(code);
            if !code.contains(';') {
                continue;
            }
            (std::mem::take(&mut statement), statement_line)
        };
        for path in crate_paths(&text) {
            let target = path.split("::").next().unwrap_or_default();
            let rule = if core && SHELL.contains(&target) {
                "the pure core imports a shell module"
            } else if lower && UPPER.contains(&target) {
                "config, provider, store and notify must not import tui, runtime or cli"
            } else {
                continue;
            };
            if ALLOWED
                .iter()
                .any(|(from, prefix)| *from == module && path.starts_with(prefix))
            {
                continue;
            }
            found.push(Violation {
                file: file.to_string(),
                line: at,
                import: format!("crate::{path}"),
                rule,
            });
        }
        if core {
            for name in IO_CRATES {
                if uses_crate(&text, name) {
                    found.push(Violation {
                        file: file.to_string(),
                        line: at,
                        import: format!("{name}::"),
                        rule: "the pure core uses tokio or sqlx",
                    });
                }
            }
        }
    }
    found
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The folder of a file's child modules: `src/a/b.rs` → `src/a/b`, `src/a/mod.rs` →
/// `src/a`.
fn children_dir(file: &Path) -> PathBuf {
    let name = file.file_stem().unwrap_or_default();
    let parent = file.parent().unwrap_or(Path::new(""));
    if name == "mod" || name == "lib" || name == "main" {
        parent.to_path_buf()
    } else {
        parent.join(name)
    }
}

fn violations_under(src: &Path) -> Vec<Violation> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let sources: Vec<(&PathBuf, String)> = files
        .iter()
        .map(|path| {
            let source = fs::read_to_string(path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            (path, source)
        })
        .collect();
    // The files of `#[cfg(test)] mod x;` and everything under them: test code.
    let mut test_only: BTreeSet<PathBuf> = BTreeSet::new();
    for (path, source) in &sources {
        for name in production_lines(source).1 {
            let dir = children_dir(path);
            test_only.insert(dir.join(format!("{name}.rs")));
            test_only.insert(dir.join(&name));
        }
    }
    let mut found = Vec::new();
    for (path, source) in &sources {
        if test_only.iter().any(|t| path.starts_with(t)) {
            continue;
        }
        let relative = path.strip_prefix(src).expect("a file under src/");
        let module = top_module(relative);
        let file = format!("src/{}", relative.display());
        found.extend(violations_in(&file, &module, source));
    }
    found
}

#[test]
fn lower_layers_never_import_upper_ones() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = violations_under(&src);
    let list: Vec<String> = found.iter().map(|v| format!("  {v}")).collect();
    assert!(
        found.is_empty(),
        "{} import(s) run upward (DESIGN.md: lower layers never import upper ones):\n{}",
        found.len(),
        list.join("\n")
    );
}

// The checker itself: it must see what it is meant to see, and nothing else.

#[test]
fn a_core_module_importing_the_runtime_or_tokio_is_reported_with_file_line_and_path() {
    let source = "\
//! A detector.
use std::sync::Arc;

use crate::domain::Bar;
use crate::runtime::bus::MarketBus;

fn f() {
    let store = crate::store::Store::open();
    tokio::spawn(async {});
}
";
    let found = violations_in("src/detect/x.rs", "detect", source);
    let shown: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "src/detect/x.rs:5: imports `crate::runtime::bus::MarketBus` (the pure core imports a shell module)",
            "src/detect/x.rs:8: imports `crate::store::Store::open` (the pure core imports a shell module)",
            "src/detect/x.rs:9: imports `tokio::` (the pure core uses tokio or sqlx)",
        ]
    );
}

#[test]
fn grouped_imports_over_several_lines_are_read_member_by_member() {
    let source = "\
use crate::{
    domain::Symbol,
    tui::theme::Theme,
};
use sqlx::PgPool;
use crate::{market::{bars, levels}, notify::Notifier};
";
    let found = violations_in("src/gex/x.rs", "gex", source);
    let imports: Vec<(usize, &str)> = found.iter().map(|v| (v.line, v.import.as_str())).collect();
    assert_eq!(
        imports,
        [
            (1, "crate::tui::theme::Theme"),
            (5, "sqlx::"),
            (6, "crate::notify::Notifier")
        ]
    );
}

#[test]
fn the_lower_shell_may_use_the_core_but_not_the_runtime_screens_or_cli() {
    let source = "\
use crate::market::calendar;
use crate::runtime::feed::Playable;
use crate::cli::setups::SetupJson;
use tokio::sync::mpsc;
";
    let found = violations_in("src/provider/x.rs", "provider", source);
    let imports: Vec<&str> = found.iter().map(|v| v.import.as_str()).collect();
    assert_eq!(
        imports,
        [
            "crate::runtime::feed::Playable",
            "crate::cli::setups::SetupJson"
        ],
        "tokio is the shell's to use"
    );
    // The runtime is above the lower shell: it may import anything.
    assert!(violations_in("src/runtime/x.rs", "runtime", source).is_empty());
}

#[test]
fn test_code_comments_and_look_alike_names_are_not_imports() {
    let source = "\
/// Publishes on the bus (`crate::runtime::bus`).
use crate::text::printable; // crate::tui is not imported here
fn tokio_free() -> &'static str { \"no_tokio::here\" }
use crate::tokio_util_like::X;

#[cfg(test)]
mod tests {
    use crate::provider::sim_chain::synthetic_chain;

    #[tokio::test]
    async fn t() {}
}

#[cfg(test)]
use crate::store::Store;
";
    assert_eq!(violations_in("src/gex/x.rs", "gex", source), []);
    let (_, test_modules) = production_lines("#[cfg(test)]\nmod tests;\n");
    assert_eq!(test_modules, ["tests"]);
}

#[test]
fn config_importing_the_keymap_is_a_violation_again() {
    let source = "use crate::tui::keymap::Keymap;\n";
    let found = violations_in("src/config/mod.rs", "config", source);
    let imports: Vec<&str> = found.iter().map(|v| v.import.as_str()).collect();
    assert_eq!(imports, ["crate::tui::keymap::Keymap"]);
}
