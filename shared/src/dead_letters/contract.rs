//! The behaviour every dead-letter backend must have — the [`MessageSettler`] a worker settles
//! failures with and the [`DeadLetters`] an operator lists, redrives and purges with — as one
//! suite run against each backend (SQLite, SQS on moto) through a [`DeadLetterHarness`].
//! Panics on the first broken promise.

use std::collections::BTreeMap;

use super::{DeadLetterEntry, DeadLetters, MessageSettler};
use crate::queue::{
    ATTRIBUTE_EVENT_ID, ATTRIBUTE_EVENT_TYPE, ATTRIBUTE_SOURCE, DeadLetter, OutgoingMessage,
    QueueMessage,
};
use crate::webhook::Source;

/// One backend's source queues with their settlers and the operator's view of their DLQs.
#[async_trait::async_trait]
pub trait DeadLetterHarness: Send + Sync {
    /// The settler for messages received from `source`'s queue.
    fn settler(&self, source: Source) -> &dyn MessageSettler;
    /// The operator's view over both sources' DLQs.
    fn dead_letters(&self) -> &dyn DeadLetters;
    /// Publishes `message` on `source`'s queue.
    async fn publish(&self, source: Source, message: OutgoingMessage);
    /// Receives every message visible on `source`'s queue now, each hidden for minutes behind a
    /// fresh receipt handle.
    async fn receive(&self, source: Source) -> Vec<QueueMessage>;
}

/// Runs every check through `harness` (event ids starting `evt_contract_` must not be on its
/// queues yet).
pub async fn run_all(harness: &dyn DeadLetterHarness) {
    let suite = Suite { harness };
    suite
        .a_dead_lettered_message_lands_on_its_sources_dlq_with_the_failure_attributes()
        .await;
    suite
        .listing_keeps_to_the_source_and_the_limit_per_queue()
        .await;
    suite
        .a_redriven_message_goes_back_to_its_source_queue_without_failure_attributes()
        .await;
    suite.a_purged_message_is_gone_for_good().await;
    suite.unknown_ids_are_neither_redriven_nor_purged().await;
    suite
        .a_retried_message_comes_back_only_after_its_delay()
        .await;
}

struct Suite<'a> {
    harness: &'a dyn DeadLetterHarness,
}

/// What ingress puts on a queue, plus what a failure before left on it (replaced or dropped).
fn event(source: Source, event_id: &str) -> OutgoingMessage {
    OutgoingMessage {
        body: format!(
            r#"{{"source":"{}","event_id":"{event_id}","event_type":"test.event","received_at":"2026-11-29T12:00:00.000Z","payload":{{}}}}"#,
            source.as_str()
        ),
        attributes: vec![
            (ATTRIBUTE_SOURCE.into(), source.as_str().into()),
            (ATTRIBUTE_EVENT_TYPE.into(), "test.event".into()),
            (ATTRIBUTE_EVENT_ID.into(), event_id.into()),
            (
                "failure_kind".into(),
                "stale from an earlier failure".into(),
            ),
            ("failure_old_detail".into(), "stale too".into()),
        ],
    }
}

/// The attributes of [`event`] that survive a redrive.
fn original_attributes(source: Source, event_id: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (ATTRIBUTE_SOURCE.into(), source.as_str().into()),
        (ATTRIBUTE_EVENT_TYPE.into(), "test.event".into()),
        (ATTRIBUTE_EVENT_ID.into(), event_id.into()),
    ])
}

fn failure(kind: &str) -> DeadLetter {
    DeadLetter {
        reason: format!("{kind}: OrderCurrencyCode \"USDD\" is not a currency"),
        kind: kind.into(),
        failed_at: "2026-11-29T12:00:01.000Z".into(),
        details: vec![
            ("field".into(), "OrderCurrencyCode".into()),
            ("suggestion".into(), "USD".into()),
        ],
    }
}

fn with_body<'e>(entries: &'e [DeadLetterEntry], body: &str) -> Vec<&'e DeadLetterEntry> {
    entries.iter().filter(|e| e.body == body).collect()
}

impl Suite<'_> {
    /// Publishes an event on `source`'s queue and receives it.
    async fn received(&self, source: Source, event_id: &str) -> QueueMessage {
        let message = event(source, event_id);
        self.harness.publish(source, message.clone()).await;
        let mine: Vec<QueueMessage> = self
            .harness
            .receive(source)
            .await
            .into_iter()
            .filter(|m| m.body == message.body)
            .collect();
        assert_eq!(mine.len(), 1, "{mine:?}");
        mine.into_iter().next().unwrap()
    }

    /// Receives an event from `source`'s queue and dead-letters it; returns its DLQ entry.
    async fn dead_lettered(&self, source: Source, event_id: &str) -> DeadLetterEntry {
        let message = self.received(source, event_id).await;
        self.harness
            .settler(source)
            .dead_letter(&message, &failure("mapping_mismatch"))
            .await
            .unwrap();
        let listed = self.list(Some(source)).await;
        let mine = with_body(&listed, &message.body);
        assert_eq!(mine.len(), 1, "{listed:?}");
        mine[0].clone()
    }

    async fn list(&self, source: Option<Source>) -> Vec<DeadLetterEntry> {
        self.harness.dead_letters().list(source, 100).await.unwrap()
    }

    /// The messages now visible on `source`'s queue with `body`.
    async fn on_source_queue(&self, source: Source, body: &str) -> Vec<QueueMessage> {
        self.harness
            .receive(source)
            .await
            .into_iter()
            .filter(|m| m.body == body)
            .collect()
    }

    async fn a_dead_lettered_message_lands_on_its_sources_dlq_with_the_failure_attributes(&self) {
        let message = self.received(Source::Stripe, "evt_contract_failed").await;
        let failure = failure("mapping_mismatch");

        self.harness
            .settler(Source::Stripe)
            .dead_letter(&message, &failure)
            .await
            .unwrap();

        let listed = self.list(Some(Source::Stripe)).await;
        let mine = with_body(&listed, &message.body);
        assert_eq!(mine.len(), 1, "{listed:?}");
        let entry = mine[0];
        assert_eq!(entry.queue, Source::Stripe);
        let expected: BTreeMap<String, String> = failure.attributes(&message).into_iter().collect();
        assert_eq!(entry.attributes, expected);
        assert_eq!(entry.attribute("failure_reason"), failure.reason);
        assert_eq!(entry.attribute("failure_kind"), "mapping_mismatch");
        assert_eq!(
            entry.attribute("failure_receive_count"),
            message.receive_count.to_string()
        );
        assert_eq!(entry.attribute("failed_at"), "2026-11-29T12:00:01.000Z");
        assert_eq!(entry.attribute("original_message_id"), message.message_id);
        assert_eq!(entry.attribute("failure_field"), "OrderCurrencyCode");
        assert_eq!(entry.attribute("failure_suggestion"), "USD");
        assert!(!entry.attributes.contains_key("failure_old_detail"));
        assert_eq!(entry.attribute("event_id"), "evt_contract_failed");
        assert!(with_body(&self.list(Some(Source::Kentico)).await, &message.body).is_empty());
        assert_eq!(with_body(&self.list(None).await, &message.body).len(), 1);
    }

    async fn listing_keeps_to_the_source_and_the_limit_per_queue(&self) {
        let first = self
            .dead_lettered(Source::Kentico, "evt_contract_list_1")
            .await;
        let second = self
            .dead_lettered(Source::Kentico, "evt_contract_list_2")
            .await;
        let dead_letters = self.harness.dead_letters();

        let kentico = dead_letters.list(Some(Source::Kentico), 100).await.unwrap();
        let one = dead_letters.list(Some(Source::Kentico), 1).await.unwrap();
        let one_per_queue = dead_letters.list(None, 1).await.unwrap();

        assert!(
            kentico.iter().all(|e| e.queue == Source::Kentico),
            "{kentico:?}"
        );
        assert!(
            kentico.contains(&first) && kentico.contains(&second),
            "{kentico:?}"
        );
        assert_eq!(one.len(), 1, "{one:?}");
        assert_eq!(one[0].queue, Source::Kentico);
        let mut queues: Vec<&str> = one_per_queue.iter().map(|e| e.queue.as_str()).collect();
        queues.sort_unstable();
        assert_eq!(queues, ["kentico", "stripe"], "{one_per_queue:?}");
    }

    async fn a_redriven_message_goes_back_to_its_source_queue_without_failure_attributes(&self) {
        let entry = self
            .dead_lettered(Source::Kentico, "evt_contract_redriven")
            .await;

        let moved = self
            .harness
            .dead_letters()
            .redrive(std::slice::from_ref(&entry.id))
            .await
            .unwrap();

        assert_eq!(moved, 1);
        assert!(!self.list(None).await.iter().any(|e| e.id == entry.id));
        let back = self.on_source_queue(Source::Kentico, &entry.body).await;
        assert_eq!(back.len(), 1, "{back:?}");
        assert_eq!(
            back[0].attributes,
            original_attributes(Source::Kentico, "evt_contract_redriven")
        );
        // A fresh delivery: the message gets every retry again.
        assert_eq!(back[0].receive_count, 1);
        assert!(
            self.on_source_queue(Source::Stripe, &entry.body)
                .await
                .is_empty()
        );
    }

    async fn a_purged_message_is_gone_for_good(&self) {
        let entry = self
            .dead_lettered(Source::Stripe, "evt_contract_purged")
            .await;
        let kept = self
            .dead_lettered(Source::Stripe, "evt_contract_kept")
            .await;

        let purged = self
            .harness
            .dead_letters()
            .purge(&[entry.id.clone(), "unknown-id".into()])
            .await
            .unwrap();

        assert_eq!(purged, 1);
        let listed = self.list(None).await;
        assert!(!listed.iter().any(|e| e.id == entry.id), "{listed:?}");
        assert!(listed.contains(&kept), "{listed:?}");
        assert!(
            self.on_source_queue(Source::Stripe, &entry.body)
                .await
                .is_empty()
        );
    }

    async fn unknown_ids_are_neither_redriven_nor_purged(&self) {
        let dead_letters = self.harness.dead_letters();
        let before = self.list(None).await.len();

        assert_eq!(dead_letters.redrive(&[]).await.unwrap(), 0);
        assert_eq!(
            dead_letters.redrive(&["unknown-id".into()]).await.unwrap(),
            0
        );
        assert_eq!(dead_letters.purge(&["unknown-id".into()]).await.unwrap(), 0);
        assert_eq!(self.list(None).await.len(), before);
    }

    async fn a_retried_message_comes_back_only_after_its_delay(&self) {
        let now = self
            .received(Source::Stripe, "evt_contract_retry_now")
            .await;
        let later = self
            .received(Source::Stripe, "evt_contract_retry_later")
            .await;
        let settler = self.harness.settler(Source::Stripe);

        settler.retry_after(&now, 0).await.unwrap();
        settler.retry_after(&later, 600).await.unwrap();

        let again = self.on_source_queue(Source::Stripe, &now.body).await;
        assert_eq!(again.len(), 1, "{again:?}");
        assert_eq!(again[0].message_id, now.message_id);
        assert_eq!(again[0].receive_count, 2);
        assert!(
            self.on_source_queue(Source::Stripe, &later.body)
                .await
                .is_empty()
        );
    }
}
