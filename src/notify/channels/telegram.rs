//! Telegram: the Bot API's `sendMessage` (`{api}/bot{token}/sendMessage`, JSON
//! `chat_id` and `text`). The token sits in the URL, so the whole URL is a secret and
//! errors are scrubbed of both.

use super::http::{Body, Poster};
use super::{ChannelError, Delivery};
use crate::config::{AlertsConfig, Secret};
use crate::notify::discord::RetryPolicy;

#[derive(Debug)]
pub struct Telegram {
    poster: Poster,
    chat: String,
}

impl Telegram {
    /// `None` when no token is configured.
    pub fn new(
        alerts: &AlertsConfig,
        retry: &RetryPolicy,
    ) -> Result<Option<Telegram>, ChannelError> {
        if !alerts.telegram_token.is_set() {
            return Ok(None);
        }
        let url = Secret::new(format!(
            "{}/bot{}/sendMessage",
            alerts.telegram_api_url.trim().trim_end_matches('/'),
            alerts.telegram_token.expose()
        ));
        let poster = Poster::with_secrets(url, vec![alerts.telegram_token.clone()], retry)?;
        Ok(Some(Telegram {
            poster,
            chat: alerts.telegram_chat.trim().to_string(),
        }))
    }

    pub async fn send(&self, d: &Delivery) -> Result<(), ChannelError> {
        self.poster.post(&Body::Json(&payload(&self.chat, d))).await
    }
}

/// The JSON body of one alert (plain text: no parse mode, so nothing in it is markup). A
/// numeric chat id goes as a number, `@channel` as a string.
pub fn payload(chat: &str, d: &Delivery) -> serde_json::Value {
    let chat_id = chat
        .parse::<i64>()
        .map_or_else(|_| serde_json::json!(chat), |id| serde_json::json!(id));
    serde_json::json!({
        "chat_id": chat_id,
        "text": format!("{}\n{}", d.title, d.body),
        "disable_web_page_preview": true,
    })
}
