//! One idempotency record and its status; EXPIRED is computed, never stored.

/// The stored status of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordStatus {
    /// A handler is (or was, if it crashed) working on the key.
    InProgress,
    /// The handler finished; `result` holds what it returned.
    Completed,
}

impl RecordStatus {
    /// The stored spelling (Powertools': `INPROGRESS`, `COMPLETED`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "INPROGRESS",
            Self::Completed => "COMPLETED",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "INPROGRESS" => Some(Self::InProgress),
            "COMPLETED" => Some(Self::Completed),
            _ => None,
        }
    }
}

/// A record per idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// The idempotency key, e.g. `payment-worker#stripe#evt_123`.
    pub key: String,
    /// INPROGRESS or COMPLETED.
    pub status: RecordStatus,
    /// Unix seconds after which the record no longer counts (checked in code: DynamoDB's TTL
    /// deletion can lag by up to 48 hours).
    pub expiration: i64,
    /// Unix milliseconds after which an INPROGRESS record may be taken over (the invocation
    /// that wrote it has certainly ended).
    pub in_progress_expiration: Option<i64>,
    /// SHA-256 of the payload, to refuse the same key with a different payload.
    pub payload_hash: Option<String>,
    /// The handler's result, for COMPLETED records.
    pub result: Option<String>,
    /// A token unique to the acquisition that wrote the record: when a retried conditional
    /// put (an SDK retry after a timeout) finds the record its own first attempt wrote, the
    /// acquisition still holds, rather than looking like somebody else's.
    pub owner: Option<String>,
}

impl IdempotencyRecord {
    /// Whether the record has expired at `now_ms` (unix milliseconds).
    pub fn is_expired(&self, now_ms: i64) -> bool {
        self.expiration.saturating_mul(1000) < now_ms
    }

    /// Whether an INPROGRESS record's invocation has certainly ended at `now_ms`.
    pub fn in_progress_expired(&self, now_ms: i64) -> bool {
        self.status == RecordStatus::InProgress
            && self
                .in_progress_expiration
                .is_some_and(|deadline| deadline < now_ms)
    }

    /// Whether a new put at `now_ms` may replace this record: the same rule as the
    /// conditional write, for stores that check in code.
    pub fn is_replaceable(&self, now_ms: i64) -> bool {
        self.is_expired(now_ms) || self.in_progress_expired(now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(
        status: RecordStatus,
        expiration: i64,
        in_progress: Option<i64>,
    ) -> IdempotencyRecord {
        IdempotencyRecord {
            key: "k".into(),
            status,
            expiration,
            in_progress_expiration: in_progress,
            payload_hash: None,
            result: None,
            owner: None,
        }
    }

    #[test]
    fn a_completed_record_lives_until_its_expiration() {
        let r = record(RecordStatus::Completed, 100, None);
        assert!(!r.is_replaceable(100_000));
        assert!(r.is_replaceable(100_001));
    }

    #[test]
    fn an_in_progress_record_can_be_taken_over_after_its_invocation_deadline() {
        let r = record(RecordStatus::InProgress, 1_000, Some(50_000));
        assert!(!r.is_replaceable(50_000));
        assert!(r.is_replaceable(50_001));
    }

    #[test]
    fn statuses_round_trip_through_their_stored_spelling() {
        for s in [RecordStatus::InProgress, RecordStatus::Completed] {
            assert_eq!(RecordStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(RecordStatus::parse("EXPIRED"), None);
    }
}
