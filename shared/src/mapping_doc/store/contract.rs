//! The behaviour every [`MappingStore`] adapter must have (in memory, SQLite, DynamoDB on moto).

use time::OffsetDateTime;

use super::{
    MAX_DOCUMENT_BYTES, MappingAction, MappingAudit, MappingChange, MappingStore, MappingVersion,
};
use crate::clock::rfc3339_millis;

/// `2026-12-01T10:<minute>:00.<millis>Z`.
fn at(minute: i64, millis: i64) -> OffsetDateTime {
    let nanos = (1_796_119_200 + minute * 60) as i128 * 1_000_000_000 + millis as i128 * 1_000_000;
    OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap()
}

const FIRST: &str = r#"{"schema":1,"statuses":{"paid":"Paid"}}"#;
/// Text a careless adapter would mangle: several scripts, an emoji outside the BMP, combining
/// marks, CRLF, a tab, escapes left as text, insignificant whitespace kept as it is.
const SECOND: &str = "{ \"schema\": 1,\r\n\t\"statuses\": {\"paid\": \"Bezahlt – Größe ✓\", \"failed\": \"支払い失敗 🎉\"},\n  \"note\": \"e\u{301}\\u00e9 \\\"quoted\\\" \u{202e}rtl\u{202c}\" }  \n";
const THIRD: &str = r#"{"schema":1,"statuses":{"paid":"Payé"}}"#;

fn version(
    number: u32,
    document: &str,
    author: &str,
    comment: &str,
    when: OffsetDateTime,
) -> MappingVersion {
    MappingVersion {
        version: number,
        document: document.into(),
        author: author.into(),
        comment: comment.into(),
        created_at: rfc3339_millis(when),
    }
}

fn line(
    action: MappingAction,
    version: u32,
    previous: u32,
    author: &str,
    comment: &str,
    when: OffsetDateTime,
) -> MappingAudit {
    MappingAudit {
        at: rfc3339_millis(when),
        author: author.into(),
        action,
        version,
        previous,
        comment: comment.into(),
    }
}

/// A JSON document of exactly `bytes` bytes, mostly two-byte characters.
fn document_of(bytes: usize) -> String {
    let mut text = String::from("{\"pad\":\"");
    while text.len() + "é\"}".len() <= bytes {
        text.push('é');
    }
    while text.len() + "\"}".len() < bytes {
        text.push('a');
    }
    text.push_str("\"}");
    assert_eq!(text.len(), bytes);
    text
}

/// How two publishes on the same expectation meet in [`run_all_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Race {
    /// At once: for a store whose transactions are isolated (SQLite, in memory, DynamoDB).
    Concurrent,
    /// One after the other: for moto's DynamoDB, whose threaded server checks a transaction's
    /// conditions and writes its items without isolating it from another one in flight, so two
    /// concurrent transactions can both pass (real DynamoDB serializes them). The second must
    /// still be refused.
    Sequential,
}

/// Runs every check against `store`, which must be empty.
pub async fn run_all(store: &dyn MappingStore) {
    run_all_with(store, Race::Concurrent).await;
}

/// [`run_all`], with the publish race run as `race` says.
pub async fn run_all_with(store: &dyn MappingStore, race: Race) {
    // Nothing stored: the environment's mapping (version 0) is active.
    assert_eq!(store.active().await.unwrap(), (0, None), "empty store");
    assert_eq!(store.active_version().await.unwrap(), 0);
    assert_eq!(
        store.get(0).await.unwrap(),
        None,
        "version 0 is never stored"
    );
    assert_eq!(store.get(1).await.unwrap(), None);
    assert!(store.versions(10).await.unwrap().is_empty());
    assert!(store.audit(10).await.unwrap().is_empty());

    // The first publish.
    let v1 = version(1, FIRST, "alice", "the first mapping", at(1, 123));
    assert_eq!(v1.created_at, "2026-12-01T10:01:00.123Z");
    assert_eq!(
        store
            .publish(FIRST, "alice", "the first mapping", 0, at(1, 123))
            .await
            .unwrap(),
        MappingChange::Done(1)
    );
    assert_eq!(store.active().await.unwrap(), (1, Some(v1.clone())));
    assert_eq!(store.get(1).await.unwrap(), Some(v1.clone()));

    // A stale expectation is refused, and nothing is written.
    assert_eq!(
        store
            .publish(SECOND, "bob", "from a stale page", 0, at(2, 0))
            .await
            .unwrap(),
        MappingChange::Conflict { active: 1 },
        "publish with a stale expected version"
    );
    assert_eq!(store.versions(10).await.unwrap(), vec![v1.clone()]);
    assert_eq!(store.audit(10).await.unwrap().len(), 1);
    assert_eq!(store.get(2).await.unwrap(), None);

    // The second publish; its text comes back byte for byte.
    let v2 = version(2, SECOND, "bob", "German and Japanese names ✓", at(3, 7));
    assert_eq!(
        store
            .publish(SECOND, "bob", "German and Japanese names ✓", 1, at(3, 7))
            .await
            .unwrap(),
        MappingChange::Done(2)
    );
    let (active, document) = store.active().await.unwrap();
    assert_eq!(active, 2);
    assert_eq!(
        document.as_ref().map(|d| d.document.as_bytes()),
        Some(SECOND.as_bytes()),
        "the document round-trips byte for byte"
    );
    assert_eq!(document, Some(v2.clone()));

    // Rollback to 1.
    assert_eq!(
        store
            .activate(1, "carol", "statuses wrong in v2", 2, at(4, 0))
            .await
            .unwrap(),
        MappingChange::Done(1)
    );
    assert_eq!(store.active().await.unwrap(), (1, Some(v1.clone())));

    // Unknown versions and stale expectations write nothing.
    assert_eq!(
        store.activate(7, "carol", "", 1, at(5, 0)).await.unwrap(),
        MappingChange::Unknown(7)
    );
    assert_eq!(
        store.activate(2, "dave", "", 2, at(5, 0)).await.unwrap(),
        MappingChange::Conflict { active: 1 },
        "activate with a stale expected version"
    );
    assert_eq!(store.audit(10).await.unwrap().len(), 3);
    assert_eq!(store.active().await.unwrap(), (1, Some(v1.clone())));

    // Back to the environment's mapping, with an empty comment.
    assert_eq!(
        store.activate(0, "carol", "", 1, at(6, 999)).await.unwrap(),
        MappingChange::Done(0)
    );
    assert_eq!(store.active().await.unwrap(), (0, None));
    assert_eq!(store.active_version().await.unwrap(), 0, "rolled back to 0");
    assert_eq!(
        store.get(1).await.unwrap(),
        Some(v1.clone()),
        "versions are kept"
    );

    // Publishing on top of the environment's continues the numbering.
    let v3 = version(3, THIRD, "alice", "French", at(7, 0));
    assert_eq!(
        store
            .publish(THIRD, "alice", "French", 0, at(7, 0))
            .await
            .unwrap(),
        MappingChange::Done(3)
    );
    assert_eq!(store.active().await.unwrap(), (3, Some(v3.clone())));
    assert_eq!(
        store.active_version().await.unwrap(),
        3,
        "the pointer alone"
    );

    // Versions, newest first, bounded.
    assert_eq!(
        store.versions(10).await.unwrap(),
        vec![v3.clone(), v2.clone(), v1.clone()]
    );
    assert_eq!(
        store.versions(2).await.unwrap(),
        vec![v3.clone(), v2.clone()]
    );
    assert!(store.versions(0).await.unwrap().is_empty());

    // The audit trail, newest first, bounded, with the version active before each change.
    let trail = vec![
        line(MappingAction::Published, 3, 0, "alice", "French", at(7, 0)),
        line(MappingAction::Activated, 0, 1, "carol", "", at(6, 999)),
        line(
            MappingAction::Activated,
            1,
            2,
            "carol",
            "statuses wrong in v2",
            at(4, 0),
        ),
        line(
            MappingAction::Published,
            2,
            1,
            "bob",
            "German and Japanese names ✓",
            at(3, 7),
        ),
        line(
            MappingAction::Published,
            1,
            0,
            "alice",
            "the first mapping",
            at(1, 123),
        ),
    ];
    assert_eq!(store.audit(10).await.unwrap(), trail);
    assert_eq!(store.audit(2).await.unwrap(), trail[..2].to_vec());
    assert!(store.audit(0).await.unwrap().is_empty());

    // Two authors publish at once on the same expectation: exactly one wins.
    let (a, b) = match race {
        Race::Concurrent => tokio::join!(
            store.publish(FIRST, "erin", "race a", 3, at(8, 0)),
            store.publish(THIRD, "frank", "race b", 3, at(8, 0)),
        ),
        Race::Sequential => (
            store.publish(FIRST, "erin", "race a", 3, at(8, 0)).await,
            store.publish(THIRD, "frank", "race b", 3, at(8, 0)).await,
        ),
    };
    let (a, b) = (a.unwrap(), b.unwrap());
    let winner = match (a, b) {
        (MappingChange::Done(4), MappingChange::Conflict { active: 4 }) => FIRST,
        (MappingChange::Conflict { active: 4 }, MappingChange::Done(4)) => THIRD,
        other => panic!("exactly one concurrent publish must win, got {other:?}"),
    };
    let (active, document) = store.active().await.unwrap();
    assert_eq!(active, 4);
    assert_eq!(document.map(|d| d.document), Some(winner.to_string()));
    assert_eq!(store.versions(10).await.unwrap().len(), 4);
    assert_eq!(store.audit(10).await.unwrap().len(), 6);
    assert_eq!(store.get(5).await.unwrap(), None);

    // Size: the limit is in bytes, and a document of exactly the limit is kept whole.
    let largest = document_of(MAX_DOCUMENT_BYTES - "gina".len() - "the largest".len());
    assert_eq!(
        store
            .publish(&largest, "gina", "the largest", 4, at(9, 0))
            .await
            .unwrap(),
        MappingChange::Done(5)
    );
    assert_eq!(
        store.get(5).await.unwrap().map(|v| v.document == largest),
        Some(true)
    );
    let over = "é".repeat(MAX_DOCUMENT_BYTES / 2 + 1);
    assert!(over.chars().count() < MAX_DOCUMENT_BYTES);
    assert_eq!(
        store
            .publish(&over, "gina", "too large", 5, at(10, 0))
            .await
            .unwrap(),
        MappingChange::TooLarge {
            bytes: over.len() + "gina".len() + "too large".len(),
            limit: MAX_DOCUMENT_BYTES
        }
    );
    let long_comment = "x".repeat(MAX_DOCUMENT_BYTES);
    assert_eq!(
        store
            .publish("{}", "gina", &long_comment, 5, at(10, 0))
            .await
            .unwrap(),
        MappingChange::TooLarge {
            bytes: MAX_DOCUMENT_BYTES + "{}gina".len(),
            limit: MAX_DOCUMENT_BYTES
        },
        "the author and comment count too"
    );
    assert_eq!(
        store
            .activate(1, "gina", &long_comment, 5, at(10, 0))
            .await
            .unwrap(),
        MappingChange::TooLarge {
            bytes: MAX_DOCUMENT_BYTES + "gina".len(),
            limit: MAX_DOCUMENT_BYTES
        }
    );
    assert_eq!(store.active().await.unwrap().0, 5);
    assert_eq!(store.versions(10).await.unwrap().len(), 5);
    assert_eq!(store.audit(10).await.unwrap().len(), 7);

    // The next publish after all that is numbered on.
    assert_eq!(
        store
            .publish(FIRST, "gina", "again", 5, at(11, 0))
            .await
            .unwrap(),
        MappingChange::Done(6)
    );
    let audit = store.audit(1).await.unwrap();
    assert_eq!(
        audit,
        vec![line(
            MappingAction::Published,
            6,
            5,
            "gina",
            "again",
            at(11, 0)
        )]
    );
}
