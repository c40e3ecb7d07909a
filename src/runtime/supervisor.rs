//! Runs background workers (SPEC 9): each in its own task, restarted with exponential
//! backoff when it returns an error or panics; every failure is recorded in `Health`,
//! never swallowed.

use std::future::Future;
use std::time::Duration;

use chrono::Utc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::health::{Health, WorkerState};

/// What a worker gets: its name, the health registry and the shutdown signal.
#[derive(Clone, Debug)]
pub struct WorkerCtx {
    pub name: &'static str,
    pub health: Health,
    pub cancel: CancellationToken,
}

impl WorkerCtx {
    /// Records a completed cycle or a heartbeat.
    pub fn heartbeat(&self) {
        self.health.cycle_ok(self.name, Utc::now());
    }

    /// Records a failed cycle of a worker that keeps running and retries on its own
    /// (the database check, the listeners): failed in Health until its next success.
    pub fn cycle_failed(&self, error: &str) {
        self.health.update(self.name, |r| {
            r.errors += 1;
            r.consecutive_failures += 1;
            r.last_error = Some(crate::text::printable(error));
            r.last_error_at = Some(Utc::now());
        });
    }

    /// Says why the worker is about to stop on its own ("recording finished"): Health
    /// shows it beside the stopped state. Cleared when the worker (re)starts.
    pub fn set_note(&self, note: &str) {
        self.health.update(self.name, |r| {
            r.note = Some(crate::text::printable(note));
        });
    }
}

/// Retry delays of workers that retry on their own: 250 ms doubling, capped at 5 s, so a
/// database back after a restart is noticed within seconds.
pub fn retry_delay(consecutive_failures: u32) -> Duration {
    let exp = consecutive_failures.saturating_sub(1).min(5);
    (Duration::from_millis(250) * (1u32 << exp)).min(Duration::from_secs(5))
}

/// Restart delays: 1 s, 2 s, 4 s … capped at 60 s.
pub fn backoff(consecutive_failures: u32) -> Duration {
    let exp = consecutive_failures.saturating_sub(1).min(6);
    Duration::from_secs(1u64 << exp).min(Duration::from_secs(60))
}

/// Starts a supervised worker. `make` builds a fresh run of the worker each time it is
/// (re)started; the supervisor stops when the run returns `Ok` or on cancellation.
pub fn spawn<F, Fut>(
    name: &'static str,
    expected_interval: Duration,
    health: Health,
    cancel: CancellationToken,
    make: F,
) -> JoinHandle<()>
where
    F: Fn(WorkerCtx) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    health.register(name, expected_interval);
    tokio::spawn(async move {
        let mut first = true;
        loop {
            let ctx = WorkerCtx {
                name,
                health: health.clone(),
                cancel: cancel.clone(),
            };
            health.update(name, |r| {
                r.state = WorkerState::Running;
                r.started_at = Some(Utc::now());
                r.note = None;
                if !first {
                    r.restarts += 1;
                }
            });
            first = false;
            let outcome = tokio::spawn(make(ctx)).await;
            let error = match outcome {
                Ok(Ok(())) => {
                    health.update(name, |r| r.state = WorkerState::Stopped);
                    return;
                }
                Ok(Err(message)) => message,
                Err(join) if join.is_panic() => format!("panicked: {}", panic_message(join)),
                Err(join) => format!("was cancelled: {join}"),
            };
            tracing::error!(worker = name, "worker failed: {error}");
            let mut failures = 0;
            health.update(name, |r| {
                r.state = WorkerState::Failed;
                r.errors += 1;
                r.consecutive_failures += 1;
                r.last_error = Some(crate::text::printable(&error));
                r.last_error_at = Some(Utc::now());
                failures = r.consecutive_failures;
            });
            tokio::select! {
                _ = tokio::time::sleep(backoff(failures)) => {}
                _ = cancel.cancelled() => {
                    health.update(name, |r| r.state = WorkerState::Stopped);
                    return;
                }
            }
        }
    })
}

/// Runs `session` again after every failure (recorded in Health, retried after
/// [`retry_delay`]), until it ends or the worker is cancelled. For workers whose failures
/// are a lost database: they come back seconds after it does.
pub async fn retrying<F, Fut>(ctx: &WorkerCtx, session: F) -> Result<(), String>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut failures = 0;
    loop {
        match session().await {
            Ok(()) => return Ok(()),
            Err(e) => {
                failures += 1;
                ctx.cycle_failed(&e);
                tokio::select! {
                    _ = ctx.cancel.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(retry_delay(failures)) => {}
                }
            }
        }
    }
}

fn panic_message(join: tokio::task::JoinError) -> String {
    let payload = join.into_panic();
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-text panic payload".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps_at_a_minute() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(4), Duration::from_secs(8));
        assert_eq!(backoff(30), Duration::from_secs(60));
    }
}
