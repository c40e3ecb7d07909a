//! The virtual New York clock of the simulation: starts at a chosen instant and runs
//! at `speed` simulated seconds per real second.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

#[derive(Clone, Copy, Debug)]
pub struct VirtualClock {
    origin_virtual: DateTime<Utc>,
    origin_real: Instant,
    speed: f64,
}

impl VirtualClock {
    pub fn new(start: DateTime<Utc>, speed: f64) -> Self {
        VirtualClock {
            origin_virtual: start,
            origin_real: Instant::now(),
            speed,
        }
    }

    /// The virtual instant after `elapsed` real time.
    pub fn at(&self, elapsed: Duration) -> DateTime<Utc> {
        let micros = (elapsed.as_secs_f64() * self.speed * 1e6) as i64;
        self.origin_virtual + chrono::Duration::microseconds(micros)
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.at(self.origin_real.elapsed())
    }

    /// The real instant at which the virtual clock reads `when`.
    pub fn real_instant(&self, when: DateTime<Utc>) -> Instant {
        let virtual_secs = (when - self.origin_virtual)
            .num_microseconds()
            .unwrap_or(i64::MAX) as f64
            / 1e6;
        let real = (virtual_secs / self.speed).max(0.0);
        self.origin_real + Duration::from_secs_f64(real.min(1e9))
    }

    /// Restarts the clock at `start`, keeping the speed.
    pub fn jump_to(&mut self, start: DateTime<Utc>) {
        *self = VirtualClock::new(start, self.speed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn sixty_times_speed_turns_a_real_second_into_a_simulated_minute() {
        let start = Utc.with_ymd_and_hms(2026, 11, 24, 14, 25, 0).unwrap();
        let clock = VirtualClock::new(start, 60.0);
        assert_eq!(
            clock.at(Duration::from_secs(1)),
            start + chrono::Duration::minutes(1)
        );
        let later = start + chrono::Duration::minutes(5);
        let real = clock.real_instant(later) - clock.origin_real;
        assert!((real.as_secs_f64() - 5.0).abs() < 1e-6);
    }
}
