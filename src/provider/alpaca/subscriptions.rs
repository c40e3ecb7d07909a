//! Which symbols the Alpaca stream asks for: minute bars of the whole watchlist, trades
//! of at most [`MAX_TRADE_SYMBOLS`] (the free plan's limit), the focused symbol's always
//! among them. When the trader focuses a symbol outside the first 30, its trades replace
//! the 30th symbol's; the change is sent on the live connection as an `unsubscribe`
//! followed by a `subscribe` (in that order, so the limit is never exceeded, which Alpaca
//! would answer with a 405), and a reconnection subscribes the set of the moment.

use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use crate::domain::Symbol;

/// The free plan's limit on trade (and quote) subscriptions.
pub const MAX_TRADE_SYMBOLS: usize = 30;

/// What to subscribe to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Subscriptions {
    pub bars: Vec<Symbol>,
    pub trades: Vec<Symbol>,
}

impl Subscriptions {
    /// Minute bars of every symbol, trades of the first 30 (the free plan's limit).
    pub fn for_watchlist(symbols: &[Symbol]) -> Subscriptions {
        Subscriptions::focused(symbols, None)
    }

    /// Minute bars of every symbol; trades of the first 30, or of the first 29 and
    /// `focus` when it is a watched symbol outside them. A focus the stream does not
    /// carry (an index, a symbol off the watchlist) changes nothing.
    pub fn focused(symbols: &[Symbol], focus: Option<&Symbol>) -> Subscriptions {
        let mut trades: Vec<Symbol> = symbols.iter().take(MAX_TRADE_SYMBOLS).cloned().collect();
        if let Some(focus) = focus
            && symbols.contains(focus)
            && !trades.contains(focus)
        {
            trades.truncate(MAX_TRADE_SYMBOLS - 1);
            trades.push(focus.clone());
        }
        Subscriptions {
            bars: symbols.to_vec(),
            trades,
        }
    }

    /// The one message a new connection sends.
    pub(super) fn message(&self) -> Message {
        action("subscribe", &self.bars, &self.trades)
    }

    /// The messages that turn this live subscription into `next`: the trades no longer
    /// wanted unsubscribed first, then the new ones subscribed; none when nothing changes.
    pub(super) fn changes_to(&self, next: &Subscriptions) -> Vec<Message> {
        let missing = |from: &[Symbol], of: &[Symbol]| -> Vec<Symbol> {
            of.iter().filter(|s| !from.contains(s)).cloned().collect()
        };
        let (bars_gone, trades_gone) = (
            missing(&next.bars, &self.bars),
            missing(&next.trades, &self.trades),
        );
        let (bars_new, trades_new) = (
            missing(&self.bars, &next.bars),
            missing(&self.trades, &next.trades),
        );
        let mut out = Vec::new();
        if !bars_gone.is_empty() || !trades_gone.is_empty() {
            out.push(action("unsubscribe", &bars_gone, &trades_gone));
        }
        if !bars_new.is_empty() || !trades_new.is_empty() {
            out.push(action("subscribe", &bars_new, &trades_new));
        }
        out
    }
}

fn action(name: &str, bars: &[Symbol], trades: &[Symbol]) -> Message {
    let names = |list: &[Symbol]| {
        list.iter()
            .map(|s| s.as_str().to_string())
            .collect::<Vec<_>>()
    };
    Message::text(
        serde_json::json!({
            "action": name,
            "bars": names(bars),
            "trades": names(trades),
        })
        .to_string(),
    )
}

/// The watchlist the stream carries and the symbol the trader focuses (set by the
/// dashboard when its focus changes; `coach serve` has no focus).
#[derive(Clone, Debug)]
pub struct Watched {
    pub symbols: Vec<Symbol>,
    pub focus: watch::Receiver<Option<Symbol>>,
}

impl Watched {
    pub fn new(symbols: Vec<Symbol>, focus: watch::Receiver<Option<Symbol>>) -> Watched {
        Watched { symbols, focus }
    }

    /// A watchlist without a screen: the first 30 symbols' trades, always.
    pub fn unfocused(symbols: Vec<Symbol>) -> Watched {
        Watched::new(symbols, watch::channel(None).1)
    }

    /// The subscriptions for the focus of the moment (marked as seen).
    pub(super) fn current(&mut self) -> Subscriptions {
        let focus = self.focus.borrow_and_update().clone();
        Subscriptions::focused(&self.symbols, focus.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbols(n: usize) -> Vec<Symbol> {
        (1..=n)
            .map(|i| Symbol::parse(&format!("S{i}")).unwrap())
            .collect()
    }

    fn text(m: &Message) -> serde_json::Value {
        serde_json::from_str(m.to_text().unwrap()).unwrap()
    }

    #[test]
    fn trades_are_asked_for_at_most_thirty_symbols() {
        let s = Subscriptions::for_watchlist(&symbols(40));
        assert_eq!((s.bars.len(), s.trades.len()), (40, 30));
        assert_eq!(s.trades.last().unwrap().as_str(), "S30");
    }

    #[test]
    fn a_focused_symbol_beyond_the_thirtieth_takes_the_thirtieths_trade_slot() {
        let list = symbols(40);
        let s = Subscriptions::focused(&list, Some(&list[34]));
        assert_eq!(s.trades.len(), 30);
        assert_eq!(s.trades[28].as_str(), "S29");
        assert_eq!(s.trades[29].as_str(), "S35");
        assert_eq!(s.bars, list, "bars of every symbol whatever the focus");
        // Focused among the first 30, or off the watchlist: the first 30.
        let first = Subscriptions::for_watchlist(&list);
        assert_eq!(Subscriptions::focused(&list, Some(&list[2])), first);
        let stranger = Symbol::parse("ZZZ").unwrap();
        assert_eq!(Subscriptions::focused(&list, Some(&stranger)), first);
        // A short watchlist has every symbol's trades already.
        let short = symbols(5);
        assert_eq!(
            Subscriptions::focused(&short, Some(&short[4])).trades,
            short
        );
    }

    #[test]
    fn a_focus_change_unsubscribes_before_it_subscribes() {
        let list = symbols(40);
        let first = Subscriptions::for_watchlist(&list);
        let on35 = Subscriptions::focused(&list, Some(&list[34]));
        let messages: Vec<_> = first.changes_to(&on35).iter().map(text).collect();
        assert_eq!(
            messages,
            vec![
                serde_json::json!({"action":"unsubscribe","bars":[],"trades":["S30"]}),
                serde_json::json!({"action":"subscribe","bars":[],"trades":["S35"]}),
            ]
        );
        let on36 = Subscriptions::focused(&list, Some(&list[35]));
        let messages: Vec<_> = on35.changes_to(&on36).iter().map(text).collect();
        assert_eq!(
            messages,
            vec![
                serde_json::json!({"action":"unsubscribe","bars":[],"trades":["S35"]}),
                serde_json::json!({"action":"subscribe","bars":[],"trades":["S36"]}),
            ]
        );
        assert!(on36.changes_to(&on36).is_empty(), "no change, no message");
    }
}
