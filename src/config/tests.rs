use std::path::Path;

use super::*;

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn no_file_and_no_variables_give_the_documented_defaults() {
    let c = Config::from_sources(None, &[]).unwrap();
    assert_eq!(c, Config::default());
    assert_eq!(c.general.user, "local");
    assert_eq!(c.sim.speed, 60.0);
    assert_eq!(c.ui.max_fps, 20);
}

#[test]
fn the_example_file_documents_exactly_the_defaults() {
    let text = include_str!("../../config.example.toml");
    let c = Config::from_sources(Some((Path::new("config.example.toml"), text)), &[]).unwrap();
    assert_eq!(c, Config::default());
}

#[test]
fn environment_overrides_the_file() {
    let text = "[sim]\nseed = 7\nspeed = 10.0\n";
    let c = Config::from_sources(
        Some((Path::new("c.toml"), text)),
        &vars(&[
            ("COACH_SIM_SPEED", "120"),
            ("COACH_SIM_SYMBOLS", "spy, qqq"),
            ("COACH_UI_CONFIRM_QUIT", "false"),
            ("COACH_KEYS_QUIT", "Q"),
            ("COACH_UNRELATED", "ignored"),
        ]),
    )
    .unwrap();
    assert_eq!(c.sim.seed, 7);
    assert_eq!(c.sim.speed, 120.0);
    let symbols: Vec<&str> = c.sim.symbols.iter().map(|s| s.as_str()).collect();
    assert_eq!(symbols, ["SPY", "QQQ"]);
    assert!(!c.ui.confirm_quit);
    assert_eq!(c.keys["quit"], ["Q"]);
}

#[test]
fn a_syntax_error_names_the_file_and_line() {
    let err = Config::from_sources(
        Some((Path::new("/tmp/c.toml"), "[ui]\nmax_fps = = 3\n")),
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("/tmp/c.toml"), "{err}");
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn an_unknown_key_is_named() {
    let err = Config::from_sources(Some((Path::new("c.toml"), "[ui]\nmax_fsp = 3\n")), &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("max_fsp"), "{err}");
}

#[test]
fn a_value_of_the_wrong_type_is_named() {
    let err = Config::from_sources(Some((Path::new("c.toml"), "[sim]\nseed = \"x\"\n")), &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("c.toml") && err.contains("seed"), "{err}");
}

#[test]
fn out_of_range_values_name_their_key() {
    for (text, key) in [
        ("[sim]\nspeed = 0.0\n", "sim.speed"),
        ("[ui]\ncolor = \"pink\"\n", "ui.color"),
        ("[ui]\nmax_fps = 0\n", "ui.max_fps"),
        ("[general]\nprovider = \"yahoo\"\n", "general.provider"),
        ("[sim]\nsymbols = [\"SPY\", \"b@d\"]\n", "b@d"),
        ("[keys]\nhelp = [\"q\"]\n", "bound to both"),
    ] {
        let err = Config::from_sources(Some((Path::new("c.toml"), text)), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains(key), "{text}: {err}");
    }
}

#[test]
fn a_bad_environment_value_names_the_variable() {
    let err = Config::from_sources(None, &vars(&[("COACH_UI_MAX_FPS", "fast")]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("COACH_UI_MAX_FPS") && err.contains("fast"),
        "{err}"
    );
}

#[test]
fn the_massive_key_comes_from_the_environment_and_never_prints() {
    let text = "[general]\nprovider = \"massive\"\n[massive]\napi_key = \"from_the_file_123\"\n";
    let c = Config::from_sources(
        Some((Path::new("c.toml"), text)),
        &vars(&[
            ("MASSIVE_API_KEY", "from_the_env_4567"),
            ("COACH_MASSIVE_REST_URL", "http://127.0.0.1:8080"),
        ]),
    )
    .unwrap();
    assert_eq!(c.massive.api_key.expose(), "from_the_env_4567", "env wins");
    assert_eq!(c.massive.rest_url, "http://127.0.0.1:8080");
    let shown = format!("{c:?}");
    assert!(
        !shown.contains("from_the_env") && !shown.contains("from_the_file"),
        "{shown}"
    );
}

#[test]
fn the_massive_provider_without_a_key_or_with_a_bad_url_is_refused() {
    let err = Config::from_sources(
        Some((Path::new("c.toml"), "[general]\nprovider = \"massive\"\n")),
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("general.provider") && err.contains("MASSIVE_API_KEY"),
        "{err}"
    );
    let err = Config::from_sources(
        None,
        &vars(&[("COACH_MASSIVE_WS_URL", "https://not-a-socket")]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("massive.ws_url") && err.contains("ws or wss"),
        "{err}"
    );
}
