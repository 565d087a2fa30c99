//! Time as a port, so signature tolerance and timestamps are testable.

use std::sync::Mutex;

use time::OffsetDateTime;

/// Tells the current time.
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that says what it is told: for tests and for replaying recorded events.
#[derive(Debug)]
pub struct FixedClock(Mutex<OffsetDateTime>);

impl FixedClock {
    /// A clock stopped at `unix_seconds`.
    pub fn at_unix(unix_seconds: i64) -> Self {
        Self(Mutex::new(
            OffsetDateTime::from_unix_timestamp(unix_seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH),
        ))
    }

    /// Moves the clock to `unix_seconds`.
    pub fn set_unix(&self, unix_seconds: i64) {
        if let Ok(t) = OffsetDateTime::from_unix_timestamp(unix_seconds) {
            *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = t;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

tokio::task_local! {
    /// When the current message's external calls must be over by.
    static CALLS_END_BY: std::time::Instant;
}

/// Runs `work` with `end_by` as the time every external call in it must be over by: a worker
/// sets it from its invocation's deadline, and the connectors fit each call (and retry) into
/// what is left ([`time_left`]).
pub async fn with_deadline<F: std::future::Future>(
    end_by: std::time::Instant,
    work: F,
) -> F::Output {
    CALLS_END_BY.scope(end_by, work).await
}

/// The time left before the current task's deadline; `None` outside [`with_deadline`] (an
/// operator's command, a test): then only the connectors' own timeouts apply.
pub fn time_left() -> Option<std::time::Duration> {
    CALLS_END_BY
        .try_with(|end_by| end_by.saturating_duration_since(std::time::Instant::now()))
        .ok()
}

/// A call with less time left than this before the deadline is not made (it could not finish).
pub const MIN_CALL_TIME: std::time::Duration = std::time::Duration::from_secs(1);

/// The timeout of a call whose own is `own`: that, or the time left before the current task's
/// deadline when it is nearer; `Err(left)` when too little is left to make the call at all.
pub fn call_timeout(own: std::time::Duration) -> Result<std::time::Duration, std::time::Duration> {
    match time_left() {
        None => Ok(own),
        Some(left) if left < MIN_CALL_TIME => Err(left),
        Some(left) => Ok(own.min(left)),
    }
}

/// Unix milliseconds of `t`.
pub fn unix_millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Formats a time as RFC 3339 in UTC with millisecond precision, e.g. `2026-11-29T14:00:00.123Z`.
pub fn rfc3339_millis(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_time_left_is_known_only_inside_a_deadline() {
        assert_eq!(time_left(), None);
        let end_by = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let left = with_deadline(end_by, async { time_left() }).await.unwrap();
        assert!(
            left > std::time::Duration::from_secs(29) && left <= std::time::Duration::from_secs(30)
        );
        let past = std::time::Instant::now();
        let none_left = with_deadline(past, async { time_left() }).await;
        assert_eq!(none_left, Some(std::time::Duration::ZERO));
    }

    #[test]
    fn formats_rfc3339_in_utc_with_milliseconds() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        assert_eq!(rfc3339_millis(t), "2023-11-14T22:13:20.123Z");
    }
}
