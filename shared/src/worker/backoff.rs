//! Exponential backoff with jitter for retried messages, from SQS's receive count.

pub use crate::queue::MAX_VISIBILITY_SECONDS;

/// `min(cap, base × factor^(receive_count − 1))`, less up to `jitter` of it at random.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The first retry's delay.
    pub base_seconds: u32,
    /// The growth per receive.
    pub factor: u32,
    /// The longest delay (≤ 12 h).
    pub cap_seconds: u32,
    /// The fraction (0–1) of a delay that jitter may take off, so retries of a burst spread out.
    pub jitter: f64,
}

impl Default for Backoff {
    /// 1 min, doubling, capped at 6 h, up to 20 % jitter: with `maxReceiveCount` 25 a message
    /// keeps retrying at least 3.4 days (see [`Backoff::minimum_retry_seconds`]).
    fn default() -> Self {
        Self {
            base_seconds: 60,
            factor: 2,
            cap_seconds: 21_600,
            jitter: 0.2,
        }
    }
}

impl Backoff {
    /// The delay before the next delivery after the `receive_count`-th one failed; `random`
    /// in `[0, 1)`.
    pub fn delay_seconds(&self, receive_count: u32, random: f64) -> u32 {
        let full = self.undelayed(receive_count);
        let off = (f64::from(full) * self.jitter.clamp(0.0, 1.0) * random.clamp(0.0, 1.0)).floor();
        full.saturating_sub(off as u32)
    }

    fn undelayed(&self, receive_count: u32) -> u32 {
        let exponent = receive_count.saturating_sub(1);
        let growth = u64::from(self.factor.max(1)).saturating_pow(exponent);
        let delay = u64::from(self.base_seconds).saturating_mul(growth);
        delay.min(u64::from(self.cap_seconds.min(MAX_VISIBILITY_SECONDS))) as u32
    }

    /// The shortest time (seconds) a message that always fails keeps being retried before a
    /// redrive policy with `max_receive_count` moves it to the DLQ: the sum of the smallest
    /// possible delays after each of its deliveries.
    pub fn minimum_retry_seconds(&self, max_receive_count: u32) -> u64 {
        (1..=max_receive_count)
            .map(|n| u64::from(self.delay_seconds(n, 0.999_999)))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The redrive policy's `maxReceiveCount` in template.yaml, which this arithmetic justifies.
    const TEMPLATE_MAX_RECEIVE_COUNT: u32 = 25;
    const STRIPE_RETRY_HORIZON_SECONDS: u64 = 3 * 24 * 3600;

    #[test]
    fn grows_exponentially_up_to_the_cap() {
        let b = Backoff {
            jitter: 0.0,
            ..Backoff::default()
        };
        let delays: Vec<u32> = (1..=11).map(|n| b.delay_seconds(n, 0.5)).collect();
        assert_eq!(
            delays,
            [
                60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600, 21600
            ]
        );
        assert_eq!(b.delay_seconds(1000, 0.5), 21_600);
    }

    #[test]
    fn jitter_only_shortens_within_its_fraction() {
        let b = Backoff::default();
        assert_eq!(b.delay_seconds(3, 0.0), 240);
        assert_eq!(b.delay_seconds(3, 0.999_999), 240 - 47);
    }

    #[test]
    fn never_exceeds_the_sqs_visibility_limit() {
        let b = Backoff {
            cap_seconds: u32::MAX,
            ..Backoff::default()
        };
        assert_eq!(b.delay_seconds(64, 0.0), MAX_VISIBILITY_SECONDS);
    }

    #[test]
    fn the_default_schedule_keeps_a_message_retrying_past_stripes_three_days() {
        let seconds = Backoff::default().minimum_retry_seconds(TEMPLATE_MAX_RECEIVE_COUNT);
        assert!(seconds >= STRIPE_RETRY_HORIZON_SECONDS, "only {seconds} s");
        assert!(
            seconds < 14 * 24 * 3600,
            "must end before the queue's 14-day retention"
        );
    }
}
