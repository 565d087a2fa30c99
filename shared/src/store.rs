//! The one error every state store returns (idempotency records, effects, order links, the
//! journal), whatever the technology, typed by what a caller does about it.

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// A state store failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A conditional write was refused where the caller did not expect a conflict (an expected
    /// conflict is an answer of the port, never this error).
    #[error("the store refused a conditional write: {0}")]
    ConditionFailed(String),
    /// The store is throttling requests: transient, retry with backoff.
    #[error("the store is throttling requests: {0}")]
    Throttled(String),
    /// The store is unreachable, failed, or refused the request: transient from the caller's
    /// point of view.
    #[error("the store failed: {0}")]
    Unavailable(String),
    /// An item in the store does not have the shape this version writes: retrying cannot help.
    #[error("a stored item is malformed: {0}")]
    Malformed(String),
}

impl StoreError {
    /// Whether retrying the same request later may succeed.
    pub fn is_transient(&self) -> bool {
        !matches!(self, Self::Malformed(_))
    }

    /// A stable name of the variant, for logs and dead-letter kinds.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ConditionFailed(_) => "store_condition_failed",
            Self::Throttled(_) => "store_throttled",
            Self::Unavailable(_) => "store_unavailable",
            Self::Malformed(_) => "store_malformed",
        }
    }

    /// Classifies a DynamoDB SDK error by its service error code.
    pub fn dynamodb<E, R>(error: &SdkError<E, R>) -> Self
    where
        E: std::error::Error + ProvideErrorMetadata + 'static,
        R: std::fmt::Debug,
    {
        let text = DisplayErrorContext(error).to_string();
        match error.as_service_error().and_then(|e| e.code()) {
            Some("ConditionalCheckFailedException" | "TransactionConflictException") => {
                Self::ConditionFailed(text)
            }
            Some(
                "ProvisionedThroughputExceededException"
                | "RequestLimitExceeded"
                | "ThrottlingException",
            ) => Self::Throttled(text),
            _ => Self::Unavailable(text),
        }
    }

    /// Classifies an SQLite error: a busy or locked database is throttling; anything else fails.
    #[cfg(feature = "embedded")]
    pub fn sqlite(error: &rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match error.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                Self::Throttled(format!("sqlite: {error}"))
            }
            _ => match error {
                rusqlite::Error::FromSqlConversionFailure(..)
                | rusqlite::Error::InvalidColumnType(..)
                | rusqlite::Error::IntegralValueOutOfRange(..) => {
                    Self::Malformed(format!("sqlite: {error}"))
                }
                _ => Self::Unavailable(format!("sqlite: {error}")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_malformed_item_is_not_worth_retrying() {
        assert!(StoreError::Throttled("x".into()).is_transient());
        assert!(StoreError::Unavailable("x".into()).is_transient());
        assert!(StoreError::ConditionFailed("x".into()).is_transient());
        assert!(!StoreError::Malformed("x".into()).is_transient());
        assert_eq!(StoreError::Malformed("x".into()).kind(), "store_malformed");
    }

    #[cfg(feature = "embedded")]
    #[test]
    fn a_busy_sqlite_database_is_throttling() {
        let busy = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        assert!(matches!(
            StoreError::sqlite(&busy),
            StoreError::Throttled(_)
        ));
        let other = rusqlite::Error::InvalidQuery;
        assert!(matches!(
            StoreError::sqlite(&other),
            StoreError::Unavailable(_)
        ));
    }
}
