//! How hard the REST client may press Massive: at most `max_concurrent` requests in
//! flight and at most `per_minute` started per minute (paid plans state no limit but ask
//! to stay under about 100 requests a second; the free plan allows 5 a minute). Shared by
//! every clone of a client, so history loads, backfills and retries count together.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// The configured bounds (`[massive] max_concurrent_requests`, `max_requests_per_minute`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RequestLimits {
    /// Requests in flight at once (at least 1).
    pub max_concurrent: usize,
    /// Requests started per minute; 0 means no pacing.
    pub per_minute: u32,
}

impl Default for RequestLimits {
    /// 16 in flight hides a 100–150 ms round trip at the paid plan's ~100 requests/s
    /// (6,000 a minute).
    fn default() -> Self {
        RequestLimits {
            max_concurrent: 16,
            per_minute: 6000,
        }
    }
}

/// The shared gate every request passes.
#[derive(Debug)]
pub struct Limiter {
    slots: Arc<Semaphore>,
    /// Start spacing (1 / per_minute); zero when unpaced.
    spacing: Duration,
    /// The earliest instant the next request may start.
    next_start: Mutex<Instant>,
}

impl Limiter {
    pub fn new(limits: RequestLimits) -> Arc<Limiter> {
        let spacing = if limits.per_minute == 0 {
            Duration::ZERO
        } else {
            Duration::from_secs(60) / limits.per_minute
        };
        Arc::new(Limiter {
            slots: Arc::new(Semaphore::new(limits.max_concurrent.max(1))),
            spacing,
            next_start: Mutex::new(Instant::now()),
        })
    }

    /// Waits for a free slot and for the request's turn; the slot is held until the
    /// returned permit drops (when the answer has been read).
    pub async fn acquire(&self) -> OwnedSemaphorePermit {
        let permit = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("the limiter's semaphore is never closed");
        if !self.spacing.is_zero() {
            let start = {
                let mut next = self.next_start.lock().await;
                let start = (*next).max(Instant::now());
                *next = start + self.spacing;
                start
            };
            tokio::time::sleep_until(start).await;
        }
        permit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(start_paused = true)]
    async fn no_more_than_the_limit_run_at_once_and_starts_are_paced() {
        let limiter = Limiter::new(RequestLimits {
            max_concurrent: 3,
            per_minute: 3000,
        });
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let began = Instant::now();
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (limiter, running, peak) = (limiter.clone(), running.clone(), peak.clone());
                tokio::spawn(async move {
                    let _permit = limiter.acquire().await;
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 3, "three in flight at most");
        // 20 requests of 100 ms, 3 at a time: 7 rounds, so at least 700 ms; the 50/s
        // pacing alone would allow them in 380 ms.
        assert!(began.elapsed() >= Duration::from_millis(700));
    }

    #[tokio::test(start_paused = true)]
    async fn instant_requests_are_spaced_by_the_rate() {
        let limiter = Limiter::new(RequestLimits {
            max_concurrent: 100,
            per_minute: 600,
        });
        let began = Instant::now();
        for _ in 0..11 {
            drop(limiter.acquire().await);
        }
        // The first starts at once, the eleventh one second later at 10 a second.
        assert_eq!(began.elapsed(), Duration::from_secs(1));
    }
}
