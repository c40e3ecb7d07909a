//! The AI coach against a local HTTP server that speaks the chat-completions protocol
//! (server-sent events), scripted per test: the real client, the real tools over the real
//! workers (simulated market, GEX worker) and a real store.

use crate::support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use coach::coach::{Coach, CoachContext, CoachError, CoachEvent, Confirmer};
use coach::config::{Config, Secret};
use coach::domain::{Detection, Direction, SetupKind, Symbol};
use coach::gex::ExpiryFilter;
use coach::llm::{LlmClient, LlmError, Message, RetryPolicy};
use coach::runtime::services::{Feed, Services};
use coach::store::Store;
use support::chat_server::{Reply, Script, data, last_tool_result, serve, text_answer, tool_call};

const API_KEY: &str = "sk-coach-test-secret-4f9a";

/// The simulated market's workers on `store`, ready (a market and GEX profiles).
async fn live(store: &Store) -> (Services, CoachContext) {
    let mut config = Config::default();
    // A simulated second per real second: the 5-minute GEX refresh does not happen
    // during a test, so the profile the tool read is the one on the board afterwards.
    config.sim.speed = 1.0;
    // The brief scheduler stores the day's brief from this New York time on: never
    // during a test, so the tests decide whether a stored brief exists.
    config.brief.at = "23:59".into();
    let now = Utc::now();
    let user = store.ensure_user("local", now).await.unwrap();
    let services = Services::start(&config, store, now, Feed::Sim);
    assert!(
        services.wait_ready(true, Duration::from_secs(60)).await,
        "the simulated market and its GEX profiles are ready"
    );
    let ctx = CoachContext {
        store: store.clone(),
        user,
        bus: services.bus.clone(),
        gex: services.gex.clone(),
        has_chains: true,
        detectors: config.detectors.clone(),
        changes: services.setup_changes.clone(),
        ui: None,
        briefs: coach::runtime::brief::BriefScheduler::from_config(&config, store),
        confirm: answer_always(false),
    };
    (services, ctx)
}

fn answer_always(yes: bool) -> Confirmer {
    Arc::new(move |_| Box::pin(async move { yes }))
}

fn coach_for(base_url: &str, ctx: CoachContext, budget: u64, rounds: u32) -> Coach {
    let client = LlmClient::new(
        base_url,
        "test-model",
        Secret::new(API_KEY),
        Duration::from_secs(20),
        RetryPolicy {
            retries: 3,
            backoff: Duration::from_millis(20),
            max_wait: Duration::from_secs(2),
        },
    )
    .unwrap();
    Coach::new(client, ctx, budget, rounds)
}

async fn ask(coach: &Coach, question: &str) -> (Result<String, CoachError>, Vec<CoachEvent>) {
    let mut events = Vec::new();
    let mut history: Vec<Message> = Vec::new();
    let result = coach
        .ask(
            &mut history,
            question,
            None,
            &mut |e| events.push(e),
            &CancellationToken::new(),
        )
        .await;
    (result, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flip_question_is_answered_from_the_live_gex_profile_through_a_tool_call() {
    let store = support::sqlite().await;
    let (services, ctx) = live(&store.store).await;
    let script = Arc::new(Script::default());
    let url = serve(script.clone()).await;
    {
        let mut replies = script.replies.lock().unwrap();
        // The arguments arrive split across three chunks, mid-key.
        replies.push_back(Box::new(|_| {
            Reply::Sse(tool_call(
                "call_1",
                "get_gamma_exposure",
                &["{\"sym", "bol\": \"S", "PX\"}"],
            ))
        }));
        // The model's answer uses the numbers the tool returned.
        replies.push_back(Box::new(|request| {
            let result = last_tool_result(request);
            let flip = result["zero_gamma_flip"]["price"].as_f64().unwrap();
            let spot = result["spot"].as_f64().unwrap();
            let answer = format!(
                "The SPX flip is at {flip:.2}; spot {spot:.2} is {:.2} points away.",
                spot - flip
            );
            Reply::Sse(text_answer(&[&answer[..10], &answer[10..]]))
        }));
    }
    let coach = coach_for(&url, ctx, 100_000, 6);
    let (answer, events) = ask(
        &coach,
        "where is the SPX flip and how far is price from it?",
    )
    .await;
    let answer = answer.expect("an answer");

    let board = services.gex.subscribe().borrow().clone();
    let profile = board
        .get(&(Symbol::parse("SPX").unwrap(), ExpiryFilter::All))
        .expect("the live SPX profile");
    let flip = profile
        .zero_gamma
        .expect("the simulated SPX chain has a flip");
    let flip2 = (flip * 100.0).round() / 100.0;
    let spot2 = (profile.spot * 100.0).round() / 100.0;
    assert_eq!(
        answer,
        format!(
            "The SPX flip is at {flip2:.2}; spot {spot2:.2} is {:.2} points away.",
            spot2 - flip2
        )
    );
    assert!(events.contains(&CoachEvent::ToolCall {
        name: "get_gamma_exposure".into(),
        arguments: "{\"symbol\": \"SPX\"}".into()
    }));
    assert!(events.iter().any(
        |e| matches!(e, CoachEvent::ToolResult { name, is_error: false, summary }
        if name == "get_gamma_exposure" && summary.contains(&format!("flip {flip2:.2}")))
    ));
    let streamed: String = events
        .iter()
        .filter_map(|e| match e {
            CoachEvent::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(streamed, answer, "the answer streamed in pieces");

    let requests = script.requests();
    assert_eq!(requests.len(), 2);
    let (auth, first) = &requests[0];
    assert_eq!(auth.as_deref(), Some(format!("Bearer {API_KEY}").as_str()));
    assert_eq!(first["stream"], true);
    assert_eq!(first["model"], "test-model");
    let tools: Vec<&str> = first["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        tools,
        [
            "get_gamma_exposure",
            "scan_opportunities",
            "get_morning_brief",
            "list_tracked_setups",
            "get_key_levels",
            "track_setup",
            "get_setup_stats"
        ]
    );
    // The tool result carries the real profile: spot, walls, contracts.
    let result = last_tool_result(&requests[1].1);
    assert_eq!(result["spot"].as_f64(), Some(spot2));
    assert_eq!(result["call_wall"].as_f64(), profile.call_wall);
    assert_eq!(result["put_wall"].as_f64(), profile.put_wall);
    assert_eq!(
        result["contracts_used"].as_u64(),
        Some(profile.contracts_used as u64)
    );
    // The assistant's tool call is sent back with the result, under the same id.
    let messages = requests[1].1["messages"].as_array().unwrap();
    assert_eq!(messages[2]["tool_calls"][0]["id"], "call_1");
    assert_eq!(messages[3]["tool_call_id"], "call_1");
    // The key reached the Authorization header only: no request body holds it.
    assert!(script.raw_bodies().iter().all(|b| !b.contains(API_KEY)));
    services.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_and_failing_servers_are_retried_and_a_bad_request_is_not() {
    let store = support::sqlite().await;
    let (services, ctx) = live(&store.store).await;
    let script = Arc::new(Script::default());
    let url = serve(script.clone()).await;
    {
        let mut replies = script.replies.lock().unwrap();
        replies.push_back(Box::new(|_| Reply::Status(429, Some("0"))));
        replies.push_back(Box::new(|_| Reply::Status(503, None)));
        replies.push_back(Box::new(|_| {
            Reply::Sse(text_answer(&["third ", "time lucky"]))
        }));
        replies.push_back(Box::new(|_| Reply::Status(400, None)));
        for _ in 0..4 {
            replies.push_back(Box::new(|_| Reply::Status(429, Some("0"))));
        }
    }
    let coach = coach_for(&url, ctx, 100_000, 6);
    let (answer, _) = ask(&coach, "anything").await;
    assert_eq!(answer, Ok("third time lucky".to_string()));
    assert_eq!(script.requests().len(), 3);

    let (answer, _) = ask(&coach, "anything").await;
    assert!(
        matches!(
            answer,
            Err(CoachError::Llm(LlmError::Status { status: 400, .. }))
        ),
        "{answer:?}"
    );
    assert_eq!(script.requests().len(), 4, "a 400 is not retried");

    let (answer, _) = ask(&coach, "anything").await;
    assert!(
        matches!(
            answer,
            Err(CoachError::Llm(LlmError::Status { status: 429, .. }))
        ),
        "{answer:?}"
    );
    assert_eq!(
        script.requests().len(),
        8,
        "three retries, then the 429 is reported"
    );
    services.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_chunks_are_skipped_and_a_whole_json_completion_is_read_too() {
    let store = support::sqlite().await;
    let (services, ctx) = live(&store.store).await;
    let script = Arc::new(Script::default());
    let url = serve(script.clone()).await;
    script.replies.lock().unwrap().push_back(Box::new(|_| {
        let mut body: Vec<Vec<u8>> = [
            "data: {not json at all\n\n",
            ": a keep-alive comment\n\n",
            "data: {\"choices\": \"not a list\"}\n\n",
            "event: ping\ndata: \u{1b}[2J\n\n",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        // One valid chunk cut in the middle of a line and of a UTF-8 character.
        let chunk = data(json!({"choices":[{"delta":{"content":"Spot is above the flip — "}}]}));
        let cut = chunk.find('—').unwrap() + 1;
        body.push(chunk.as_bytes()[..cut].to_vec());
        body.push(chunk.as_bytes()[cut..].to_vec());
        body.extend(
            text_answer(&["positive gamma."])
                .into_iter()
                .map(String::into_bytes),
        );
        Reply::Bytes(body)
    }));
    // A server that ignores `stream: true` and answers with one JSON document.
    script.then(|_| {
        Reply::Json(
            json!({"choices":[{"index":0,"message":{"role":"assistant","content":"Whole answer."},
            "finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":2}}),
        )
    });
    let coach = coach_for(&url, ctx, 100_000, 6);
    let (answer, _) = ask(&coach, "regime?").await;
    assert_eq!(
        answer,
        Ok("Spot is above the flip — positive gamma.".to_string())
    );
    let (answer, events) = ask(&coach, "regime?").await;
    assert_eq!(answer, Ok("Whole answer.".to_string()));
    assert_eq!(events, vec![CoachEvent::Text("Whole answer.".into())]);
    services.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_loops_on_tool_calls_is_stopped_and_bad_arguments_come_back_as_errors() {
    let store = support::sqlite().await;
    let (services, ctx) = live(&store.store).await;
    let script = Arc::new(Script::default());
    let url = serve(script.clone()).await;
    {
        let mut replies = script.replies.lock().unwrap();
        replies.push_back(Box::new(|_| {
            Reply::Sse(tool_call(
                "c1",
                "get_key_levels",
                &["{\"symbol\":\"NO PE\"}"],
            ))
        }));
        for n in 2..=3 {
            replies.push_back(Box::new(move |_| {
                Reply::Sse(tool_call(&format!("c{n}"), "list_tracked_setups", &["{}"]))
            }));
        }
    }
    let coach = coach_for(&url, ctx, 100_000, 2);
    let (answer, events) = ask(&coach, "loop forever").await;
    assert_eq!(answer, Err(CoachError::TooManyRounds(2)));
    let requests = script.requests();
    assert_eq!(
        requests.len(),
        3,
        "two rounds of tools, then one more turn, then stop"
    );
    let error = last_tool_result(&requests[1].1);
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .starts_with("get_key_levels: "),
        "{error}"
    );
    let setups = last_tool_result(&requests[2].1);
    assert_eq!(setups["total"], 0);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, CoachEvent::ToolResult { is_error: true, .. }))
    );
    services.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn track_setup_changes_nothing_until_the_trader_confirms() {
    for store in support::stores().await {
        let (services, ctx) = live(&store.store).await;
        let date = services.bus.snapshot().await.unwrap().session.date;
        let at = Utc::now();
        let (id, _) = store
            .store
            .insert_detection(&Detection {
                symbol: Symbol::parse("SPY").unwrap(),
                kind: SetupKind::BreakRetest,
                direction: Direction::Long,
                confidence: 83,
                entry: 700.24,
                stop: 698.24,
                target: 703.24,
                detected_at: at,
                bar_time: at,
                market_date: date,
                dedup_key: "coach-test".into(),
                rationale: "Broke above 700 and held the retest.".into(),
                gex: None,
            })
            .await
            .unwrap();
        let script = Arc::new(Script::default());
        let url = serve(script.clone()).await;
        for _ in 0..2 {
            let mut replies = script.replies.lock().unwrap();
            replies.push_back(Box::new(move |_| {
                Reply::Sse(tool_call(
                    "t1",
                    "track_setup",
                    &[&format!("{{\"detection_id\": {id}}}")],
                ))
            }));
            replies.push_back(Box::new(|request| {
                let result = last_tool_result(request);
                let text = if result["tracked"] == true {
                    "Tracked."
                } else {
                    "Not tracked."
                };
                Reply::Sse(text_answer(&[text]))
            }));
        }
        let asked = Arc::new(Mutex::new(Vec::<String>::new()));
        let declines: Confirmer = {
            let asked = asked.clone();
            Arc::new(move |q| {
                asked.lock().unwrap().push(q);
                Box::pin(async { false })
            })
        };
        let coach = coach_for(
            &url,
            CoachContext {
                confirm: declines,
                ..ctx.clone()
            },
            100_000,
            6,
        );
        let (answer, _) = ask(&coach, "track the SPY break-retest").await;
        assert_eq!(answer, Ok("Not tracked.".to_string()), "{}", store.name);
        assert_eq!(
            asked.lock().unwrap().as_slice(),
            [format!(
                "Track SPY break_retest long — entry 700.24, stop 698.24, target 703.24 (detection {id})?"
            )]
        );
        assert!(
            store.store.setups(ctx.user, None).await.unwrap().is_empty(),
            "{}",
            store.name
        );
        let declined = last_tool_result(&script.requests()[1].1);
        assert_eq!(declined["tracked"], false);

        let coach = coach_for(
            &url,
            CoachContext {
                confirm: answer_always(true),
                ..ctx.clone()
            },
            100_000,
            6,
        );
        let (answer, _) = ask(&coach, "track the SPY break-retest").await;
        assert_eq!(answer, Ok("Tracked.".to_string()), "{}", store.name);
        let setups = store.store.setups(ctx.user, None).await.unwrap();
        assert_eq!(setups.len(), 1, "{}", store.name);
        assert_eq!(setups[0].setup.source_id, Some(id));
        assert_eq!(setups[0].setup.entry, 700.24);
        services.shutdown();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_token_budget_refuses_questions_once_used_up() {
    for store in support::stores().await {
        let (services, ctx) = live(&store.store).await;
        let script = Arc::new(Script::default());
        let url = serve(script.clone()).await;
        script
            .replies
            .lock()
            .unwrap()
            .push_back(Box::new(|_| Reply::Sse(text_answer(&["fine"]))));
        // The server reports 129 tokens for the first answer; the budget is 100.
        let coach = coach_for(&url, ctx.clone(), 100, 6);
        assert_eq!(ask(&coach, "one").await.0, Ok("fine".to_string()));
        let today = coach::market::calendar::ny_date(Utc::now());
        assert_eq!(
            store.store.llm_tokens_on(ctx.user, today).await.unwrap(),
            129
        );
        let (second, _) = ask(&coach, "two").await;
        assert_eq!(
            second,
            Err(CoachError::Budget {
                used: 129,
                budget: 100
            }),
            "{}",
            store.name
        );
        assert_eq!(
            script.requests().len(),
            1,
            "the refused question never reached the server"
        );
        services.shutdown();
    }
}

/// `coach ask` as a script runs it: the real binary, its own workers, the answer on
/// stdout and the tool calls on stderr.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coach_ask_prints_the_answer_and_explains_a_missing_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("coach.db").display());
    let unconfigured = dir.path().join("none.toml");
    std::fs::write(&unconfigured, "").unwrap();
    let run = |config: &std::path::Path, extra: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_coach"));
        cmd.args(["--config", config.to_str().unwrap(), "--db", &db, "ask"])
            .args(extra)
            .env("HOME", dir.path())
            .env_remove("COACH_LLM_BASE_URL")
            .env_remove("COACH_LLM_MODEL")
            .env_remove("COACH_LLM_API_KEY");
        cmd
    };
    let out = tokio::task::spawn_blocking({
        let mut cmd = run(&unconfigured, &["where is the flip?"]);
        move || cmd.output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("The AI coach is not configured. Set [llm] base_url and model")
    );

    let script = Arc::new(Script::default());
    let url = serve(script.clone()).await;
    {
        let mut replies = script.replies.lock().unwrap();
        replies.push_back(Box::new(|_| {
            Reply::Sse(tool_call(
                "call_1",
                "get_gamma_exposure",
                &["{\"symbol\":\"SPX\"}"],
            ))
        }));
        replies.push_back(Box::new(|request| {
            let r = last_tool_result(request);
            let flip = r["zero_gamma_flip"]["price"].as_f64().unwrap();
            let away = r["zero_gamma_flip"]["spot_minus_flip"].as_f64().unwrap();
            Reply::Sse(text_answer(&[&format!(
                "Flip {flip:.2}, price {away:+.2} from it.\u{1b}[31m"
            )]))
        }));
    }
    let configured = dir.path().join("coach.toml");
    std::fs::write(
        &configured,
        format!("[llm]\nbase_url = \"{url}\"\nmodel = \"test-model\"\napi_key = \"{API_KEY}\"\n"),
    )
    .unwrap();
    let out = tokio::task::spawn_blocking({
        let mut cmd = run(
            &configured,
            &[
                "--verbose",
                "where is the SPX flip and how far is price from it?",
            ],
        );
        move || cmd.output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let result = last_tool_result(&script.requests()[1].1);
    let flip = result["zero_gamma_flip"]["price"].as_f64().unwrap();
    let away = result["zero_gamma_flip"]["spot_minus_flip"]
        .as_f64()
        .unwrap();
    assert_eq!(
        stdout,
        format!("Flip {flip:.2}, price {away:+.2} from it.\n"),
        "escape sequences are stripped"
    );
    assert!(
        stderr.contains("→ get_gamma_exposure({\"symbol\":\"SPX\"})"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("flip {flip:.2}")), "{stderr}");
    assert!(!stderr.contains(API_KEY) && !stdout.contains(API_KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_stream_times_out_and_cancelling_stops_the_answer() {
    let store = support::sqlite().await;
    let (services, ctx) = live(&store.store).await;
    let script = Arc::new(Script::default());
    let url = serve(script.clone()).await;
    let first_piece = || {
        vec![data(
            json!({"choices":[{"index":0,"delta":{"content":"The flip "}}]}),
        )]
    };
    script.then(move |_| Reply::Stall(first_piece()));
    script.then(move |_| Reply::Stall(first_piece()));
    let client = |timeout| {
        LlmClient::new(
            &url,
            "m",
            Secret::default(),
            timeout,
            RetryPolicy::default(),
        )
        .unwrap()
    };
    // A second of silence after the first piece is a time-out, not a hang.
    let coach = Coach::new(client(Duration::from_secs(1)), ctx.clone(), 100_000, 6);
    let (answer, events) = ask(&coach, "flip?").await;
    assert_eq!(answer, Err(CoachError::Llm(LlmError::Timeout(1))));
    assert_eq!(events, vec![CoachEvent::Text("The flip ".into())]);

    // Esc in the pane cancels the token: the answer stops and the history is unchanged.
    let coach = Coach::new(client(Duration::from_secs(600)), ctx, 100_000, 6);
    let cancel = CancellationToken::new();
    let mut history = Vec::new();
    let trigger = cancel.clone();
    let mut emit = move |_: CoachEvent| trigger.cancel();
    let answer = coach
        .ask(&mut history, "flip?", None, &mut emit, &cancel)
        .await;
    assert_eq!(answer, Err(CoachError::Llm(LlmError::Cancelled)));
    assert!(history.is_empty());
    services.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tools_read_the_live_market_the_store_and_the_morning_brief() {
    use coach::coach::tools::ToolRequest;
    use coach::setups::StatusFilter;
    for store in support::stores().await {
        let (services, ctx) = live(&store.store).await;
        let snapshot = services.bus.snapshot().await.unwrap();
        let date = snapshot.session.date;
        let spy = Symbol::parse("SPY").unwrap();

        let levels = ctx
            .run(&ToolRequest::KeyLevels {
                symbol: spy.clone(),
            })
            .await
            .unwrap();
        let last = snapshot
            .symbols
            .iter()
            .find(|s| s.symbol == spy)
            .unwrap()
            .last
            .as_ref()
            .unwrap()
            .price;
        assert_eq!(levels["last_price"].as_f64(), Some(last), "{}", store.name);
        let labels: Vec<&str> = levels["levels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["label"].as_str().unwrap())
            .collect();
        assert!(
            labels.contains(&"PDH") && labels.contains(&"PDC"),
            "{labels:?}"
        );
        assert!(levels["gamma"].is_object(), "SPY has a live GEX profile");

        let unknown = ctx
            .run(&ToolRequest::KeyLevels {
                symbol: Symbol::parse("ZZZZ").unwrap(),
            })
            .await;
        assert!(
            unknown
                .unwrap_err()
                .starts_with("ZZZZ is not quoted by this market feed; it quotes SPX")
        );

        let at = Utc::now();
        let (id, _) = store
            .store
            .insert_detection(&Detection {
                symbol: spy.clone(),
                kind: SetupKind::VwapReclaim,
                direction: Direction::Long,
                confidence: 91,
                entry: 699.0,
                stop: 697.5,
                target: 702.0,
                detected_at: at,
                bar_time: at,
                market_date: date,
                dedup_key: "tools-test".into(),
                rationale: "Reclaimed VWAP on volume.".into(),
                gex: None,
            })
            .await
            .unwrap();
        let scan = ctx
            .run(&ToolRequest::ScanOpportunities {
                symbols: Some(vec![spy.clone()]),
            })
            .await
            .unwrap();
        let found = scan["detections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == id)
            .expect("the stored detection");
        assert_eq!(found["setup"], "vwap_reclaim");
        assert_eq!(found["reward_risk"], 2.0);

        let none = ctx
            .run(&ToolRequest::ListTrackedSetups {
                filter: StatusFilter::Active,
            })
            .await
            .unwrap();
        assert_eq!(none["total"], 0);

        // get_setup_stats: an empty journal says so; once the detection is tracked, filled
        // at 699.00 and out at its target 702.00, it is one +2 R trade ((702 − 699) / 1.5).
        let ask = ToolRequest::SetupStats {
            kind: Some(SetupKind::VwapReclaim),
            symbol: None,
            hour: None,
        };
        let empty = ctx.run(&ask).await.unwrap();
        assert_eq!(empty["journal"]["ended_attempts"], 0, "{}", store.name);
        assert_eq!(empty["backtest"], serde_json::Value::Null);
        let tracked = store
            .store
            .track(
                ctx.user,
                &coach::store::StoredDetection {
                    id,
                    detection: store.store.detection(id).await.unwrap().unwrap().detection,
                },
                false,
                at,
            )
            .await
            .unwrap()
            .into_row();
        let mut row = tracked;
        for (secs, price) in [(60, 699.0), (120, 702.0)] {
            let update =
                coach::setups::PriceUpdate::trade(at + chrono::Duration::seconds(secs), price);
            let t = coach::setups::evaluate(&row.setup, &update).unwrap();
            row = store
                .store
                .apply_transition(ctx.user, &t, "evaluator")
                .await
                .unwrap();
        }
        let stats = ctx.run(&ask).await.unwrap();
        let group = &stats["journal"]["groups"][0];
        assert_eq!(group["kind"], "vwap_reclaim", "{stats:#}");
        assert_eq!(
            (group["triggered"].as_u64(), group["wins"].as_u64()),
            (Some(1), Some(1))
        );
        assert_eq!(group["avg_r"], 2.0);

        // Before the scheduler stored one: the same builder's brief of the live market.
        let built = ctx.run(&ToolRequest::MorningBrief).await.unwrap();
        assert_eq!(
            built["source"], "built now from the live market (not stored yet)",
            "{}",
            store.name
        );
        let brief: coach::brief::Brief = serde_json::from_value(built["brief"].clone()).unwrap();
        assert_eq!(
            brief.market_date,
            coach::market::calendar::ny_date(snapshot.now)
        );
        let spy_row = serde_json::to_string(&built["brief"]).unwrap();
        assert!(
            spy_row.contains("\"SPY\""),
            "the watchlist's symbols are in it"
        );
        // Once stored (as the Brief pane shows it), that one is returned.
        assert!(store.store.insert_brief(ctx.user, &brief).await.unwrap());
        let stored = ctx.run(&ToolRequest::MorningBrief).await.unwrap();
        assert_eq!(stored["source"], "stored", "{}", store.name);
        assert_eq!(stored["brief"], built["brief"]);
        services.shutdown();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coach_doctor_checks_the_model_server_when_one_is_configured() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("coach.db").display());
    let url = serve(Arc::new(Script::default())).await;
    let doctor = |base_url: String, model: &str| {
        let config = dir.path().join(format!("{model}.toml"));
        std::fs::write(
            &config,
            format!(
                "[llm]\nbase_url = \"{base_url}\"\nmodel = \"{model}\"\napi_key = \"{API_KEY}\"\n"
            ),
        )
        .unwrap();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_coach"));
        cmd.args(["--config", config.to_str().unwrap(), "--db", &db, "doctor"])
            .env("HOME", dir.path());
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
    };
    let out = doctor(url.clone(), "test-model").await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "ok llm: {url} answers; model test-model is listed"
        )),
        "{stdout}"
    );

    // Nothing listens on the port of a server that was just closed.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gone = format!("http://{}/v1", closed.local_addr().unwrap());
    drop(closed);
    let out = doctor(gone.clone(), "other").await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("FAIL llm: {gone}: cannot reach the model server")),
        "{stdout}"
    );
    assert!(!stdout.contains(API_KEY));
}

/// Issue 22 item 9: a failed answer is told once, `coach: the coach could not answer: …`,
/// not `coach: coach: …`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_coach_ask_says_coach_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("coach.db").display());
    let script = Arc::new(Script::default());
    let url = serve(script.clone()).await;
    script
        .replies
        .lock()
        .unwrap()
        .push_back(Box::new(|_| Reply::Status(400, None)));
    let configured = dir.path().join("coach.toml");
    std::fs::write(
        &configured,
        format!("[llm]\nbase_url = \"{url}\"\nmodel = \"test-model\"\napi_key = \"{API_KEY}\"\n"),
    )
    .unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_coach"));
    cmd.args([
        "--config",
        configured.to_str().unwrap(),
        "--db",
        &db,
        "ask",
        "flip?",
    ])
    .env("HOME", dir.path());
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("coach: the coach could not answer: "),
        "{stderr}"
    );
    assert!(!stderr.contains("coach: coach:"), "{stderr}");
}
