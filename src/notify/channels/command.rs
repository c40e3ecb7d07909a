//! A local program per alert (`[alerts] command = ["notify-send", "{title}", "{body}"]`),
//! run directly, never through a shell: each element is one argument, and the text put
//! into `{title}`, `{body}`, `{symbol}` and `{kind}` cannot become a second command or an
//! option of the shell. Standard input is empty; output is captured, never shown, and a
//! failure reports the exit status and the last line of standard error, printable and cut.
//! The program is killed after the time-out.

use std::process::Stdio;
use std::time::Duration;

use super::{ChannelError, Delivery};
use crate::config::AlertsConfig;
use crate::config::channels::PLACEHOLDERS;
use crate::notify::discord::cut;

#[derive(Debug)]
pub struct Command {
    argv: Vec<String>,
    timeout: Duration,
}

impl Command {
    /// `None` when no command is configured.
    pub fn new(alerts: &AlertsConfig) -> Option<Command> {
        (!alerts.command.is_empty()).then(|| Command {
            argv: alerts.command.clone(),
            timeout: alerts.command_timeout(),
        })
    }

    pub async fn send(&self, d: &Delivery) -> Result<(), ChannelError> {
        let argv = arguments(&self.argv, d);
        let Some((program, args)) = argv.split_first() else {
            return Ok(());
        };
        let child = tokio::process::Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                ChannelError::Command(format!(
                    "cannot run {}: {e}",
                    crate::text::printable(program)
                ))
            })?;
        let output = match tokio::time::timeout(self.timeout, child.wait_with_output()).await {
            Ok(Ok(output)) => output,
            Ok(Err(e)) => return Err(ChannelError::Command(format!("waiting for it: {e}"))),
            // Dropping the future drops the child, which kills it (`kill_on_drop`).
            Err(_) => {
                return Err(ChannelError::Command(format!(
                    "killed after its {:.1} s time-out",
                    self.timeout.as_secs_f64()
                )));
            }
        };
        if output.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        Err(ChannelError::Command(format!(
            "{} exited with {}{}",
            crate::text::printable(program),
            output.status,
            if last.is_empty() {
                String::new()
            } else {
                format!(": {}", cut(&crate::text::printable(last), 200))
            }
        )))
    }
}

/// The argument list for one delivery: every placeholder replaced in one pass (text put
/// in is never searched again, so a body holding `{title}` stays as it is).
pub fn arguments(argv: &[String], d: &Delivery) -> Vec<String> {
    let value = |p: &str| match p {
        "{title}" => d.title.clone(),
        "{body}" => d.body.clone(),
        "{symbol}" => d.symbol.as_str().to_string(),
        _ => d.kind.key().to_string(),
    };
    argv.iter()
        .map(|arg| {
            let mut out = String::new();
            let mut rest = arg.as_str();
            'scan: while !rest.is_empty() {
                for p in PLACEHOLDERS {
                    if let Some(after) = rest.strip_prefix(p) {
                        out.push_str(&value(p));
                        rest = after;
                        continue 'scan;
                    }
                }
                let mut chars = rest.chars();
                if let Some(c) = chars.next() {
                    out.push(c);
                }
                rest = chars.as_str();
            }
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Symbol;
    use crate::notify::AlertKind;

    #[test]
    fn placeholders_are_replaced_once_and_text_put_in_is_not_searched_again() {
        let d = Delivery {
            kind: AlertKind::PriceAlert,
            symbol: Symbol::parse("SPY").unwrap(),
            title: "coach · SPY price alert".into(),
            body: "above 600 {title} $(rm -rf /)".into(),
            at: chrono::Utc::now(),
        };
        let argv: Vec<String> = [
            "notify-send",
            "{title}",
            "--",
            "{body}",
            "[{symbol}/{kind}]",
            "{nope}",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            arguments(&argv, &d),
            [
                "notify-send",
                "coach · SPY price alert",
                "--",
                "above 600 {title} $(rm -rf /)",
                "[SPY/price_alert]",
                "{nope}"
            ]
        );
    }
}
