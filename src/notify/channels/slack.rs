//! A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat, Discord's
//! `/slack` endpoint): `{"text": "*title*\nbody"}`. `<`, `>` and `&` are escaped as Slack
//! asks, so alert text can never form a mention or a link.

use super::http::{Body, Poster};
use super::{ChannelError, Delivery};

#[derive(Debug)]
pub struct Slack {
    pub poster: Poster,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The JSON body of one alert.
pub fn payload(d: &Delivery) -> serde_json::Value {
    serde_json::json!({
        "text": format!("*{}*\n{}", escape(&d.title), escape(&d.body)),
    })
}

impl Slack {
    pub async fn send(&self, d: &Delivery) -> Result<(), ChannelError> {
        self.poster.post(&Body::Json(&payload(d))).await
    }
}
