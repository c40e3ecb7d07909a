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
    let mut c = Config::from_sources(Some((Path::new("config.example.toml"), text)), &[]).unwrap();
    // `[keys]` is kept raw here; that the example lists exactly the default keymap is
    // checked where the keymap lives (tui::keymap's tests).
    assert!(!c.keys.is_empty(), "the example documents the keys");
    c.keys.clear();
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
            ("COACH_LOG", "debug"),
            ("COACH_TEST_POSTGRES_URL", "postgres://x"),
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
fn the_webhook_comes_from_the_environment_and_is_never_shown() {
    let url = "https://discord.com/api/webhooks/123/very-secret-token";
    let text = "[discord]\nwebhook_url = \"https://example.com/from-file\"\n";
    let c = Config::from_sources(
        Some((Path::new("c.toml"), text)),
        &vars(&[("DISCORD_WEBHOOK_URL", url), ("SENTRY_DSN", "")]),
    )
    .unwrap();
    assert_eq!(c.discord.webhook_url.expose(), url, "the environment wins");
    assert!(!c.sentry.dsn.is_set(), "an empty variable sets nothing");
    let shown = format!("{c:?}");
    assert!(!shown.contains("very-secret-token"), "{shown}");
    let dumped = toml::to_string(&c).unwrap();
    assert!(!dumped.contains("very-secret-token"), "{dumped}");

    let bad = "[discord]\nwebhook_url = \"ftp://x/very-secret-token\"\n";
    let err = Config::from_sources(Some((Path::new("c.toml"), bad)), &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("discord.webhook_url"), "{err}");
    assert!(!err.contains("very-secret-token"), "{err}");
}

#[test]
fn a_stale_floor_set_for_one_worker_keeps_the_other_defaults() {
    let text = "[health.floors]\nfeed = 5.0\nbrief = 600\n";
    let c = Config::from_sources(
        Some((Path::new("c.toml"), text)),
        &vars(&[("COACH_HEALTH_FLOORS_ALERTS", "7.5")]),
    )
    .unwrap();
    let secs = |w: &str| c.health.floor(w).as_secs_f64();
    assert_eq!(secs("feed"), 5.0);
    assert_eq!(secs("brief"), 600.0, "an integer is read as seconds");
    assert_eq!(secs("alerts"), 7.5, "from COACH_HEALTH_FLOORS_ALERTS");
    assert_eq!(secs("detect"), 60.0, "a default kept");
    assert_eq!(secs("gex"), 60.0, "an unlisted worker gets floor_secs");
}

#[test]
fn bad_operational_values_name_their_key() {
    for (text, key) in [
        ("[health]\ncheck_secs = 0.0\n", "health.check_secs"),
        ("[health.floors]\nfeed = -1.0\n", "health.floors.feed"),
        ("[health.floors]\nFeed = 1.0\n", "health.floors.Feed"),
        ("[alerts]\ncooldown_secs = 0.0\n", "alerts.cooldown_secs"),
        (
            "[alerts]\nfailures_in_a_row = 0\n",
            "alerts.failures_in_a_row",
        ),
        ("[serve]\nhttp = \"localhost\"\n", "serve.http"),
        ("[discord]\nusername = \"\"\n", "discord.username"),
    ] {
        let err = Config::from_sources(Some((Path::new("c.toml"), text)), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains(key), "{text}: {err}");
    }
}

#[cfg(unix)]
#[test]
fn a_config_file_with_a_secret_that_others_can_read_gets_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let chmod = |mode| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode));

    std::fs::write(
        &path,
        "[discord]\nwebhook_url = \"https://x/very-secret\"\n",
    )
    .unwrap();
    chmod(0o644).unwrap();
    let warning = secrets_exposed_warning(Some(&path)).expect("a warning");
    assert!(
        warning.contains("discord") && warning.contains("chmod 600"),
        "{warning}"
    );
    assert!(!warning.contains("very-secret"), "{warning}");
    chmod(0o600).unwrap();
    assert_eq!(secrets_exposed_warning(Some(&path)), None, "private: fine");

    std::fs::write(
        &path,
        "[massive]\napi_key = \"mkey-123\"\n[alpaca]\nkey_id = \"PK1\"\nsecret_key = \"sk-2\"\n",
    )
    .unwrap();
    chmod(0o644).unwrap();
    let warning = secrets_exposed_warning(Some(&path)).expect("market data keys are secrets");
    assert!(
        warning.contains("(massive, alpaca)") && warning.contains("APCA_API_SECRET_KEY"),
        "{warning}"
    );
    assert!(
        !warning.contains("mkey-123") && !warning.contains("sk-2"),
        "{warning}"
    );

    std::fs::write(&path, "[discord]\nwebhook_url = \"\"\n").unwrap();
    chmod(0o644).unwrap();
    assert_eq!(
        secrets_exposed_warning(Some(&path)),
        None,
        "no secret: fine"
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

#[test]
fn the_llm_section_comes_from_the_environment_and_its_key_never_prints() {
    let c = Config::from_sources(
        None,
        &vars(&[
            ("COACH_LLM_BASE_URL", "http://127.0.0.1:11434/v1"),
            ("COACH_LLM_MODEL", "qwen2.5:7b"),
            ("COACH_LLM_API_KEY", "sk-live-abcdef123456"),
            ("COACH_LLM_DAILY_TOKEN_BUDGET", "5000"),
        ]),
    )
    .unwrap();
    assert!(c.llm.is_configured());
    assert_eq!(c.llm.daily_token_budget, 5000);
    assert_eq!(c.llm.api_key.expose(), "sk-live-abcdef123456");
    assert!(!format!("{c:?}").contains("sk-live"));
    assert!(!Config::default().llm.is_configured());
}

#[test]
fn a_half_or_badly_configured_llm_names_the_key() {
    let bad = |pairs: &[(&str, &str)]| {
        Config::from_sources(None, &vars(pairs))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        bad(&[("COACH_LLM_MODEL", "m")]),
        "llm: base_url and model are set together (both, or neither)"
    );
    assert!(
        bad(&[("COACH_LLM_BASE_URL", "ftp://x"), ("COACH_LLM_MODEL", "m")])
            .starts_with("llm.base_url: \"ftp://x\" is not an http")
    );
    assert!(bad(&[("COACH_LLM_TIMEOUT_SECS", "0")]).starts_with("llm.timeout_secs: "));
    assert!(bad(&[("COACH_LLM_MAX_TOOL_ROUNDS", "0")]).starts_with("llm.max_tool_rounds: "));
}

#[test]
fn backtest_slippage_defaults_to_a_cent_and_comes_from_the_file_or_the_environment() {
    assert_eq!(Config::default().backtest.slippage, 0.01);
    let c = Config::from_sources(
        Some((Path::new("c.toml"), "[backtest]\nslippage = 0.05\n")),
        &[],
    )
    .unwrap();
    assert_eq!(c.backtest.slippage, 0.05);
    let c = Config::from_sources(None, &vars(&[("COACH_BACKTEST_SLIPPAGE", "0")])).unwrap();
    assert_eq!(c.backtest.slippage, 0.0);
    let err = Config::from_sources(None, &vars(&[("COACH_BACKTEST_SLIPPAGE", "-0.01")]))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("backtest.slippage: "), "{err}");
}

#[test]
fn the_scheduled_backtest_is_off_by_default_and_its_bars_come_from_the_file_or_the_environment() {
    assert_eq!(Config::default().backtest.scheduled_bars(), None);
    let c = Config::from_sources(
        Some((Path::new("c.toml"), "[backtest]\nbars = \"hist\"\n")),
        &[],
    )
    .unwrap();
    assert_eq!(
        c.backtest.scheduled_bars(),
        Some(std::path::PathBuf::from("hist"))
    );
    let c = Config::from_sources(None, &vars(&[("COACH_BACKTEST_BARS", "/data/bars")])).unwrap();
    assert_eq!(
        c.backtest.scheduled_bars(),
        Some(std::path::PathBuf::from("/data/bars"))
    );
    // blank is off, like empty
    let c = Config::from_sources(None, &vars(&[("COACH_BACKTEST_BARS", "  ")])).unwrap();
    assert_eq!(c.backtest.scheduled_bars(), None);
}

#[test]
fn alpaca_keys_come_from_alpacas_own_variables_and_every_key_has_a_coach_variable() {
    let c = Config::from_sources(
        Some((
            Path::new("c.toml"),
            "[general]\nprovider = \"alpaca\"\n[alpaca]\nkey_id = \"FILEKEY123\"\n",
        )),
        &vars(&[
            ("APCA_API_KEY_ID", "PKENVKEY0123"),
            ("APCA_API_SECRET_KEY", "envsecret0123456789"),
            ("COACH_ALPACA_FEED", "sip"),
            ("COACH_ALPACA_DATA_URL", "http://127.0.0.1:9001"),
            ("COACH_ALPACA_STREAM_URL", "ws://127.0.0.1:9002"),
            ("COACH_ALPACA_TRADING_URL", "http://127.0.0.1:9003"),
        ]),
    )
    .unwrap();
    let a = c.alpaca.connection();
    assert_eq!(
        a.key_id.expose(),
        "PKENVKEY0123",
        "the variable wins over the file"
    );
    assert_eq!(a.secret_key.expose(), "envsecret0123456789");
    assert_eq!(a.feed, crate::provider::alpaca::Feed::Sip);
    assert_eq!(
        (
            a.data_url.as_str(),
            a.stream_url.as_str(),
            a.trading_url.as_str()
        ),
        (
            "http://127.0.0.1:9001",
            "ws://127.0.0.1:9002",
            "http://127.0.0.1:9003"
        )
    );
    let dump = format!("{c:?}{}", toml::to_string(&c).unwrap());
    assert!(!dump.contains("PKENVKEY0123") && !dump.contains("envsecret0123456789"));
}

#[test]
fn alpaca_needs_both_keys_and_a_known_feed() {
    let e = Config::from_sources(None, &vars(&[("COACH_GENERAL_PROVIDER", "alpaca")]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("APCA_API_KEY_ID") && e.contains("APCA_API_SECRET_KEY"),
        "{e}"
    );
    let e = Config::from_sources(None, &vars(&[("COACH_ALPACA_FEED", "opra")]))
        .unwrap_err()
        .to_string();
    assert_eq!(e, "alpaca.feed: \"opra\" is not a feed (iex or sip)");
    let e = Config::from_sources(None, &vars(&[("COACH_ALPACA_STREAM_URL", "https://x")]))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("alpaca.stream_url:"), "{e}");
}

#[test]
fn the_scanners_opportunity_life_comes_from_file_or_environment_and_is_checked() {
    assert_eq!(Config::default().scanner.max_age_minutes, 60);
    let c = Config::from_sources(
        Some((Path::new("c.toml"), "[scanner]\nmax_age_minutes = 45\n")),
        &[],
    )
    .unwrap();
    assert_eq!(c.scanner.max_age_minutes, 45);
    let c = Config::from_sources(None, &vars(&[("COACH_SCANNER_MAX_AGE_MINUTES", "20")])).unwrap();
    assert_eq!(c.scanner.max_age_minutes, 20);
    let err = Config::from_sources(None, &vars(&[("COACH_SCANNER_MAX_AGE_MINUTES", "0")]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("scanner.max_age_minutes") && err.contains("0 is not"),
        "{err}"
    );
}

#[test]
fn a_misspelt_environment_variable_is_refused_and_named_like_a_misspelt_key() {
    let err = Config::from_sources(None, &vars(&[("COACH_SIM_SPED", "1")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("COACH_SIM_SPED"), "{err}");
    assert!(err.contains("not a configuration variable"), "{err}");
    assert!(
        err.contains("did you mean COACH_SIM_SEED or COACH_SIM_SPEED?"),
        "{err}"
    );
    let err = Config::from_sources(None, &vars(&[("COACH_UNRELATED", "x")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("COACH_UNRELATED"), "{err}");
    assert!(!err.contains("did you mean"), "nothing near it: {err}");
}

#[test]
fn coach_variables_that_are_not_keys_stay_accepted() {
    let c = Config::from_sources(
        None,
        &vars(&[
            ("COACH_CONFIG", "/tmp/c.toml"),
            ("COACH_LOG", "info"),
            ("COACH_REQUIRE_SHARED", "1"),
            ("COACH_GEX_PORTABLE", "1"),
            ("COACH_FUZZ_CASES", "100"),
            (
                "COACH_TEST_POSTGRES_URL",
                "postgres://postgres@127.0.0.1/test",
            ),
            ("COACH_TEST_PG_RESTART_CLUSTER", "16/main"),
            ("COACH_KEYS_FOCUS_NEXT", "tab"),
            ("COACH_LLM_API_KEY", "k"),
            ("COACH_HEALTH_FLOORS_ALERTS", "9"),
        ]),
    )
    .unwrap();
    assert_eq!(c.keys["focus_next"], ["tab"]);
}

/// Every secret key of the file, with a syntax error on its own line and on the next.
#[test]
fn a_syntax_error_never_shows_a_secret_value() {
    // The one list of secret keys, the alert channels' URLs and token included.
    let secrets = super::secret::SECRET_KEYS;
    assert!(secrets.contains(&("alerts", "telegram_token")));
    for (section, key) in secrets {
        let texts = [
            // Unquoted: the line itself is the error.
            format!("[{section}]\n{key} = SEKRET-4f9a\n"),
            // Unterminated string.
            format!("[{section}]\n{key} = \"SEKRET-4f9a\n"),
            // Quoted, then an error right on the next line.
            format!("[{section}]\n{key} = \"SEKRET-4f9a\"\nbogus = = 1\n"),
            // Quoted, then an error on the same line.
            format!("[{section}]\n{key} = \"SEKRET-4f9a\" x\n"),
            // An inline table.
            format!("{section} = {{ {key} = SEKRET-4f9a }}\n"),
            // A wrong type quotes the value.
            format!("[{section}]\n{key} = 4242424242\n"),
        ];
        for text in texts {
            let err = Config::from_sources(Some((Path::new("/tmp/c.toml"), &text)), &[])
                .unwrap_err()
                .to_string();
            assert!(err.contains("/tmp/c.toml"), "{err}");
            assert!(
                !err.contains("SEKRET"),
                "{section}.{key} in {text:?}: {err}"
            );
            assert!(!err.contains("4f9a"), "{section}.{key} in {text:?}: {err}");
            assert!(
                !err.contains("4242424242"),
                "{section}.{key} in {text:?}: {err}"
            );
        }
    }
}

#[test]
fn a_syntax_error_still_shows_the_other_lines_values() {
    let err = Config::from_sources(
        Some((Path::new("/tmp/c.toml"), "[ui]\ncolor = purple\n")),
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("line 2"), "{err}");
    assert!(err.contains("purple"), "only secrets are hidden: {err}");
}

#[test]
fn a_syntax_error_quotes_its_line_without_escapes() {
    let text = "[ui]\ncolor = \u{1b}]0;pwned\u{7} \u{202e}x\n";
    let err = Config::from_sources(Some((Path::new("/tmp/c.toml"), text)), &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 2"), "{err:?}");
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    assert!(!err.contains('\u{202e}'), "{err:?}");
}

/// A channel URL from the environment that is not a URL is refused by name, its value
/// unseen (SPEC 20: channel URLs are secrets).
#[test]
fn a_bad_channel_url_in_the_environment_is_named_and_never_shown() {
    for key in ["NTFY_URL", "WEBHOOK_URL", "SLACK_URL"] {
        let var = format!("COACH_ALERTS_{key}");
        let err = Config::from_sources(None, &[(var.clone(), "sekret-topic-4f9a".into())])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("alerts.{}", key.to_ascii_lowercase())),
            "{err}"
        );
        assert!(!err.contains("4f9a"), "{var}: {err}");
    }
    let ok = Config::from_sources(
        None,
        &[
            (
                "COACH_ALERTS_NTFY_URL".into(),
                "https://ntfy.sh/sekret-4f9a".into(),
            ),
            (
                "COACH_ALERTS_COMMAND".into(),
                "notify-send,{title},{body}".into(),
            ),
            ("COACH_ALERTS_QUIET_HOURS".into(), "12:00-13:00".into()),
            ("COACH_ALERTS_DESKTOP".into(), "true".into()),
        ],
    )
    .unwrap();
    assert_eq!(ok.alerts.command, ["notify-send", "{title}", "{body}"]);
    assert!(ok.alerts.desktop);
    assert!(
        !format!("{ok:?}").contains("4f9a"),
        "Debug shows no channel URL"
    );
}
