//! Carries out the store writes a key asked for, one at a time in the order pressed, and
//! reports each result back to the screen as an `AppEvent`. Nothing a trader does is
//! dropped: the queue is bounded, and a full queue makes the key wait, never discards it.

use chrono::Utc;
use tokio::sync::mpsc;

use super::app::Effect;
use crate::runtime::AppEvent;
use crate::runtime::bus::MarketBus;
use crate::runtime::gex::GexRequest;
use crate::store::{Store, UserId};

#[derive(Clone, Debug)]
pub struct ActionRunner {
    queue: mpsc::Sender<Effect>,
}

/// What the runner needs to act for the trader.
pub struct ActionContext {
    pub store: Store,
    pub user: UserId,
    pub bus: MarketBus,
    pub events: mpsc::Sender<AppEvent>,
    /// Requests to the GEX worker.
    pub gex: mpsc::Sender<GexRequest>,
}

impl ActionRunner {
    pub fn spawn(ctx: ActionContext) -> ActionRunner {
        let (queue, mut rx) = mpsc::channel::<Effect>(256);
        tokio::spawn(async move {
            while let Some(effect) = rx.recv().await {
                let event = perform(&ctx, effect).await;
                if let Some(event) = event
                    && ctx.events.send(event).await.is_err()
                {
                    return;
                }
            }
        });
        ActionRunner { queue }
    }

    /// Queues a store write; waits while 256 are already queued.
    pub async fn submit(&self, effect: Effect) {
        if self.queue.send(effect).await.is_err() {
            tracing::error!("the action runner stopped; an action was not carried out");
        }
    }
}

async fn perform(ctx: &ActionContext, effect: Effect) -> Option<AppEvent> {
    match effect {
        Effect::SaveWatchlist(symbols) => {
            match ctx
                .store
                .set_default_symbols(ctx.user, &symbols, Utc::now())
                .await
            {
                Ok(watchlist) => Some(AppEvent::WatchlistSaved {
                    watchlist,
                    market: ctx.bus.snapshot().await,
                }),
                Err(e) => Some(AppEvent::ActionFailed(format!("watchlist not saved: {e}"))),
            }
        }
        Effect::Gex(request) => match ctx.gex.try_send(request) {
            Ok(()) => None,
            Err(_) => Some(AppEvent::ActionFailed(
                "the GEX worker is busy or not running; see Health".into(),
            )),
        },
        Effect::Quit | Effect::FullRedraw => None,
    }
}
