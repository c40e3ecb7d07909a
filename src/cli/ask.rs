//! `coach ask "QUESTION"`: one answer from the AI coach on stdout, with the same tools
//! as the Coach pane over the same live state: the market workers are started here (the
//! configured provider, the configured database), the question is asked once they have
//! a market and GEX profiles, and they are stopped after the answer.
//!
//! `track_setup` needs a trader's confirmation; with no one to ask, it is refused unless
//! `--yes` is given. Tool calls and their results go to stderr with `--verbose`.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use clap::Args;
use tokio_util::sync::CancellationToken;

use super::CliError;
use super::dashboard::CommonArgs;
use crate::coach::{Coach, CoachContext, CoachEvent, Confirmer};
use crate::config::{Config, HOW_TO_CONFIGURE};
use crate::runtime::services::{Feed, Services};
use crate::store::{Store, StoreError};

#[derive(Debug, Args)]
pub struct AskArgs {
    #[command(flatten)]
    pub market: super::dashboard::MarketArgs,
    /// The question, e.g. "where is the SPX flip and how far is price from it?"
    pub question: String,
    /// Print each tool call and its result on stderr.
    #[arg(long)]
    pub verbose: bool,
    /// Let the coach track a setup (track_setup) without asking; without it, tracking is refused.
    #[arg(long)]
    pub yes: bool,
}

/// How long the workers get to produce the first market snapshot and GEX profiles.
const WARM_UP: Duration = Duration::from_secs(15);

pub fn run(args: AskArgs, common: &CommonArgs) -> Result<(), CliError> {
    let config = common.load_config()?;
    if !config.llm.is_configured() {
        return Err(CliError::Input(HOW_TO_CONFIGURE.into()));
    }
    if args.question.trim().is_empty() {
        return Err(CliError::Input("the question is empty".into()));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Runtime(format!("cannot start the runtime: {e}")))?;
    let result = runtime.block_on(ask(config, args));
    runtime.shutdown_timeout(Duration::from_millis(300));
    let answer = result?;
    for line in answer.lines() {
        println!("{}", crate::text::printable(line));
    }
    Ok(())
}

async fn ask(mut config: Config, args: AskArgs) -> Result<String, CliError> {
    let now = Utc::now();
    let store = Store::open(&config.general.db).await.map_err(|e| match e {
        StoreError::BadUrl(_) => CliError::Input(format!("--db: {e}")),
        e => CliError::Runtime(e.to_string()),
    })?;
    let runtime_error = |e: StoreError| CliError::Runtime(e.to_string());
    let user = store
        .ensure_user(&config.general.user, now)
        .await
        .map_err(runtime_error)?;
    let watchlist = store
        .default_watchlist(user, now)
        .await
        .map_err(runtime_error)?;
    for symbol in watchlist.symbols {
        if !config.sim.symbols.contains(&symbol) {
            config.sim.symbols.push(symbol);
        }
    }
    let feed = Feed::from_config(&config).map_err(CliError::Input)?;
    let has_chains = feed.has_chains();
    let services = Services::start(&config, &store, now, feed);
    if !services.wait_ready(has_chains, WARM_UP).await {
        tracing::warn!("the market workers were not ready within {WARM_UP:?}");
    }

    let yes = args.yes;
    let confirm: Confirmer = Arc::new(move |question: String| {
        Box::pin(async move {
            if !yes {
                eprintln!(
                    "coach asked: {} — refused: pass --yes to let coach ask track setups",
                    crate::text::printable(&question)
                );
            }
            yes
        })
    });
    let ctx = CoachContext {
        store: store.clone(),
        user,
        bus: services.bus.clone(),
        gex: services.gex.clone(),
        has_chains,
        detectors: config.detectors.clone(),
        changes: services.setup_changes.clone(),
        ui: None,
        briefs: crate::runtime::brief::BriefScheduler::from_config(&config, &store),
        confirm,
    };
    let coach = Coach::from_config(&config.llm, ctx)
        .map_err(CliError::Runtime)?
        .ok_or_else(|| CliError::Input(HOW_TO_CONFIGURE.into()))?;
    let cancel = CancellationToken::new();
    let verbose = args.verbose;
    let mut emit = move |event: CoachEvent| {
        if !verbose {
            return;
        }
        match event {
            CoachEvent::ToolCall { name, arguments } => eprintln!(
                "→ {}({})",
                crate::text::printable(&name),
                crate::text::printable(&arguments)
            ),
            CoachEvent::ToolResult {
                name,
                summary,
                is_error,
            } => eprintln!(
                "← {}: {}{}",
                crate::text::printable(&name),
                if is_error { "error: " } else { "" },
                crate::text::printable(&summary)
            ),
            _ => {}
        }
    };
    let mut history = Vec::new();
    let answer = tokio::select! {
        a = coach.ask(&mut history, &args.question, None, &mut emit, &cancel) => a,
        _ = tokio::signal::ctrl_c() => {
            cancel.cancel();
            Err(crate::coach::CoachError::Llm(crate::llm::LlmError::Cancelled))
        }
    };
    services.shutdown();
    store.close().await;
    answer.map_err(|e| CliError::Runtime(format!("the coach could not answer: {e}")))
}
