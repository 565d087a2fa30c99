//! The version of a Kentico order: when Kentico last modified it, the event's creation time as a
//! tiebreaker, stored as one string whose byte order is the version order (so DynamoDB and
//! SQLite compare it in a condition).

use std::fmt;

use time::OffsetDateTime;

/// Width of the zero-padded milliseconds and seconds: enough until the year 33658.
const WIDTH_MS: usize = 15;
const WIDTH_S: usize = 12;

/// A Kentico order version; later versions compare greater.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderVersion(String);

impl OrderVersion {
    /// The version of an order last modified at `last_modified` (Kentico's `OrderLastModified`;
    /// absent sorts first) as reported by an event created at `event_created` (unix seconds).
    pub fn new(last_modified: Option<OffsetDateTime>, event_created: i64) -> Self {
        let millis = last_modified.map_or(0, |t| {
            i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
        });
        Self(format!(
            "{:0WIDTH_MS$}.{:0WIDTH_S$}",
            millis.max(0),
            event_created.max(0)
        ))
    }

    /// A version read back from a store; `None` if it is not one this code wrote.
    pub fn parse(stored: &str) -> Option<Self> {
        let (millis, created) = stored.split_once('.')?;
        let digits = |s: &str, width| s.len() == width && s.bytes().all(|b| b.is_ascii_digit());
        (digits(millis, WIDTH_MS) && digits(created, WIDTH_S)).then(|| Self(stored.to_string()))
    }

    /// The stored form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A short form for idempotency keys: `<ms>-<s>` without the padding.
    pub fn key(&self) -> String {
        let (millis, created) = self.0.split_once('.').unwrap_or((&self.0, ""));
        let trim = |s: &str| {
            let trimmed = s.trim_start_matches('0');
            if trimmed.is_empty() { "0" } else { trimmed }.to_string()
        };
        format!("{}-{}", trim(millis), trim(created))
    }
}

impl fmt::Display for OrderVersion {
    /// `2026-11-29T12:00:00.000Z (event 1764417600)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (millis, created) = self.0.split_once('.').unwrap_or((&self.0, "0"));
        let at = millis
            .parse::<i128>()
            .ok()
            .and_then(|ms| OffsetDateTime::from_unix_timestamp_nanos(ms * 1_000_000).ok())
            .map_or_else(|| millis.to_string(), crate::clock::rfc3339_millis);
        let created = created.trim_start_matches('0');
        write!(
            f,
            "{at} (event {})",
            if created.is_empty() { "0" } else { created }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(unix: i64) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp(unix).ok()
    }

    #[test]
    fn a_later_modification_wins_and_the_event_time_breaks_ties() {
        let older = OrderVersion::new(at(1_764_417_600), 1_764_417_700);
        let newer = OrderVersion::new(at(1_764_417_601), 1_764_417_600);
        let same_edit_later_event = OrderVersion::new(at(1_764_417_600), 1_764_417_701);
        assert!(older < newer);
        assert!(older < same_edit_later_event);
        assert!(same_edit_later_event < newer);
        assert!(OrderVersion::new(None, 9_999_999_999) < older);
        assert_eq!(older.as_str().cmp(newer.as_str()), older.cmp(&newer));
    }

    #[test]
    fn round_trips_through_its_stored_form_and_reads_well() {
        let version = OrderVersion::new(at(1_764_417_600), 1_764_417_700);
        assert_eq!(OrderVersion::parse(version.as_str()), Some(version.clone()));
        assert_eq!(OrderVersion::parse("12.34"), None);
        assert_eq!(version.key(), "1764417600000-1764417700");
        assert_eq!(
            version.to_string(),
            "2025-11-29T12:00:00.000Z (event 1764417700)"
        );
    }
}
