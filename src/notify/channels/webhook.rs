//! A generic JSON webhook: one POST per alert with the payload documented in the README:
//! `{"source":"coach","kind":"price_alert","symbol":"SPY","title":…,"body":…,"at":RFC 3339 UTC}`.

use super::http::{Body, Poster};
use super::{ChannelError, Delivery};

#[derive(Debug)]
pub struct Webhook {
    pub poster: Poster,
}

/// The JSON body of one alert.
pub fn payload(d: &Delivery) -> serde_json::Value {
    serde_json::json!({
        "source": "coach",
        "kind": d.kind.key(),
        "symbol": d.symbol.as_str(),
        "title": d.title,
        "body": d.body,
        "at": d.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    })
}

impl Webhook {
    pub async fn send(&self, d: &Delivery) -> Result<(), ChannelError> {
        self.poster.post(&Body::Json(&payload(d))).await
    }
}
