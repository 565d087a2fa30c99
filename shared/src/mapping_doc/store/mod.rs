//! Where the mapping document's versions live: a port with DynamoDB (the state table), SQLite
//! and in-memory adapters.
//!
//! Every publish stores the document as the next version (1, 2, …) and makes it active; any
//! stored version (or 0, the environment variables' mapping, which is never stored) can be made
//! active again in one action. Each change is one atomic write of the version, the active
//! pointer and a line of the audit trail, made only if the active version is still the one the
//! author saw (optimistic concurrency: two authors cannot both win). The document is opaque
//! JSON text here: what it means and whether it is valid is decided before it is published.

#[cfg(any(test, feature = "contract-tests"))]
pub mod contract;
pub mod dynamodb;
pub mod in_memory;
#[cfg(feature = "embedded")]
pub mod sqlite;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::store::StoreError;

pub use dynamodb::DynamoDbMappingStore;
pub use in_memory::InMemoryMappingStore;
#[cfg(feature = "embedded")]
pub use sqlite::SqliteMappingStore;

/// The most text one change stores, in bytes of UTF-8: the document, the author and the comment
/// together (a DynamoDB item stops at 400 KB). Every adapter refuses the same changes
/// ([`MappingChange::TooLarge`]).
pub const MAX_DOCUMENT_BYTES: usize = 350_000;

/// One stored version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingVersion {
    /// 1, 2, …, in the order they were published (0 is the environment's, never stored).
    pub version: u32,
    /// The JSON text exactly as published.
    pub document: String,
    /// Who published it.
    pub author: String,
    /// Why, in the author's words.
    pub comment: String,
    /// When, RFC 3339 UTC with milliseconds ([`crate::clock::rfc3339_millis`]).
    pub created_at: String,
}

/// What a change of the active version was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MappingAction {
    /// A new version was stored and made active.
    Published,
    /// An existing version (or 0, the environment's) was made active again: a rollback or a
    /// roll-forward.
    Activated,
}

impl MappingAction {
    /// The name stored in the audit trail: `published` or `activated`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Published => "published",
            Self::Activated => "activated",
        }
    }

    /// The action named `name` (as [`MappingAction::as_str`] writes it).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "published" => Some(Self::Published),
            "activated" => Some(Self::Activated),
            _ => None,
        }
    }
}

/// One line of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingAudit {
    /// When, RFC 3339 UTC with milliseconds.
    pub at: String,
    /// Who made the change.
    pub author: String,
    /// What the change was.
    pub action: MappingAction,
    /// The version active after the change (0: the environment's).
    pub version: u32,
    /// The version active before it (0: the environment's).
    pub previous: u32,
    /// Why, in the author's words.
    pub comment: String,
}

/// The answer to a change: done, or refused for a reason the author can act on (an answer of
/// the port, not an error). A refused change wrote nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MappingChange {
    /// Done: this version is now the active one.
    Done(u32),
    /// The active version was not the expected one: someone else changed it (checked before
    /// [`MappingChange::Unknown`]).
    Conflict {
        /// The version active now.
        active: u32,
    },
    /// `activate` of a version that does not exist.
    Unknown(u32),
    /// A change too large to store: its document, author and comment together are over
    /// [`MAX_DOCUMENT_BYTES`] (checked first, whatever the state).
    TooLarge {
        /// Their size in bytes.
        bytes: usize,
        /// [`MAX_DOCUMENT_BYTES`].
        limit: usize,
    },
}

/// Keeps the mapping document's versions, which one is active, and the audit trail.
#[async_trait::async_trait]
pub trait MappingStore: Send + Sync {
    /// Stores `document` as the next version (highest + 1) and makes it active, if the active
    /// version is `expected_active` (0 = none yet / the environment's). Writes the version, the
    /// active pointer and an audit line atomically.
    async fn publish(
        &self,
        document: &str,
        author: &str,
        comment: &str,
        expected_active: u32,
        now: OffsetDateTime,
    ) -> Result<MappingChange, StoreError>;

    /// Makes an existing version (or 0: back to the environment's) the active one, if the
    /// active version is `expected_active`; audited.
    async fn activate(
        &self,
        version: u32,
        author: &str,
        comment: &str,
        expected_active: u32,
        now: OffsetDateTime,
    ) -> Result<MappingChange, StoreError>;

    /// The active version's number (0 when none is stored or 0 was activated) and document.
    async fn active(&self) -> Result<(u32, Option<MappingVersion>), StoreError>;
    /// The active version's number alone (one read where `active` takes two): what a worker
    /// checks before reading a version it may already hold. Versions never change once
    /// written, so the same number is the same document.
    async fn active_version(&self) -> Result<u32, StoreError> {
        Ok(self.active().await?.0)
    }

    /// Version `version`, if it is stored (0 never is).
    async fn get(&self, version: u32) -> Result<Option<MappingVersion>, StoreError>;

    /// Every version, newest first, at most `limit`.
    async fn versions(&self, limit: usize) -> Result<Vec<MappingVersion>, StoreError>;

    /// The audit trail, newest first, at most `limit`.
    async fn audit(&self, limit: usize) -> Result<Vec<MappingAudit>, StoreError>;
}

/// [`MappingChange::TooLarge`] for a change of more than [`MAX_DOCUMENT_BYTES`] (`document` is
/// empty for an activation).
fn too_large(document: &str, author: &str, comment: &str) -> Option<MappingChange> {
    let bytes = document.len() + author.len() + comment.len();
    (bytes > MAX_DOCUMENT_BYTES).then_some(MappingChange::TooLarge {
        bytes,
        limit: MAX_DOCUMENT_BYTES,
    })
}
