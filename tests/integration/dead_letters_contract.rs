//! The dead-letter contract on real SQS queues (moto): the settler's DLQ copies and the
//! operator's list, redrive and purge.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use integration_tests::{moto, sqs};
use paybridge::dead_letters::contract::{self, DeadLetterHarness};
use paybridge::dead_letters::{DeadLetters, MessageSettler, SqsDeadLetters, SqsMessageSettler};
use paybridge::queue::{OutgoingMessage, QueueMessage, QueueUrls};
use paybridge::webhook::Source;

/// Each source's queue and DLQ on moto (no redrive policy: only the settler fills the DLQs).
struct SqsHarness {
    client: Client,
    queues: Vec<(Source, QueueUrls, SqsMessageSettler)>,
    dead_letters: SqsDeadLetters,
}

impl SqsHarness {
    async fn new() -> Self {
        let client = Client::new(&moto::sdk_config().await);
        let mut queues = Vec::new();
        for source in Source::ALL {
            let urls = QueueUrls {
                url: sqs::create_queue(&client, source.as_str()).await,
                dlq_url: sqs::create_queue(&client, &format!("{}-dlq", source.as_str())).await,
            };
            let settler = SqsMessageSettler::new(
                client.clone(),
                &urls.url,
                &urls.dlq_url,
                paybridge::config::ingress::SQS_MAX_MESSAGE_BYTES,
            );
            queues.push((source, urls, settler));
        }
        let dead_letters = SqsDeadLetters::new(
            client.clone(),
            queues
                .iter()
                .map(|(source, urls, _)| (*source, urls.clone()))
                .collect(),
        );
        Self {
            client,
            queues,
            dead_letters,
        }
    }

    fn queue(&self, source: Source) -> &(Source, QueueUrls, SqsMessageSettler) {
        self.queues
            .iter()
            .find(|(s, _, _)| *s == source)
            .expect("a queue per source")
    }
}

#[async_trait::async_trait]
impl DeadLetterHarness for SqsHarness {
    fn settler(&self, source: Source) -> &dyn MessageSettler {
        &self.queue(source).2
    }

    fn dead_letters(&self) -> &dyn DeadLetters {
        &self.dead_letters
    }

    async fn publish(&self, source: Source, message: OutgoingMessage) {
        let attributes: Vec<(&str, &str)> = message
            .attributes
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        sqs::send(
            &self.client,
            &self.queue(source).1.url,
            &message.body,
            &attributes,
        )
        .await;
    }

    async fn receive(&self, source: Source) -> Vec<QueueMessage> {
        let mut received = Vec::new();
        loop {
            let batch = self
                .client
                .receive_message()
                .queue_url(&self.queue(source).1.url)
                .max_number_of_messages(10)
                .visibility_timeout(300)
                .message_attribute_names("All")
                .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
                .send()
                .await
                .expect("moto receives")
                .messages
                .unwrap_or_default();
            if batch.is_empty() {
                return received;
            }
            received.extend(batch.into_iter().map(|message| {
                QueueMessage {
                    receive_count: message
                        .attributes()
                        .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                        .and_then(|count| count.parse().ok())
                        .expect("moto counts receives"),
                    attributes: message
                        .message_attributes()
                        .into_iter()
                        .flatten()
                        .filter_map(|(name, value)| {
                            value.string_value().map(|v| (name.clone(), v.to_string()))
                        })
                        .collect(),
                    message_id: message.message_id.unwrap_or_default(),
                    receipt_handle: message.receipt_handle.unwrap_or_default(),
                    body: message.body.unwrap_or_default(),
                }
            }));
        }
    }
}

#[tokio::test]
async fn the_sqs_dead_letters_keep_the_dead_letter_contract() {
    contract::run_all(&SqsHarness::new().await).await;
}

/// A DLQ larger than one receive: every dead letter is listed once, redriven once, and what
/// was only looked at is visible again at once.
#[tokio::test]
async fn a_large_dlq_is_listed_and_redriven_whole_each_message_once() {
    let h = SqsHarness::new().await;
    let (_, urls, _) = h.queue(Source::Stripe);
    for n in 0..23 {
        let body = format!("{{\"n\":{n}}}");
        sqs::send(
            &h.client,
            &urls.dlq_url,
            &body,
            &[("failure_kind", "kentico_rejected")],
        )
        .await;
    }

    let listed = h
        .dead_letters
        .list_queue(Source::Stripe, 100)
        .await
        .unwrap();
    assert_eq!(listed.len(), 23);
    let mut ids: Vec<String> = listed.iter().map(|d| d.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 23, "each once");

    // Listing held nothing back: all of them are there to redrive.
    assert_eq!(h.dead_letters.redrive(&ids).await.unwrap(), 23);
    let requeued = sqs::receive_all(&h.client, &urls.url).await;
    assert_eq!(requeued.len(), 23, "each redriven once");
    assert!(sqs::receive_all(&h.client, &urls.dlq_url).await.is_empty());
}

/// A message too large to be dead-lettered beside its reason: the DLQ gets a marker and the
/// reason (never a failed send that re-runs the message on every delivery); a redrive puts the
/// full body, kept by the journal, back on the queue; without it, the dead letter stays.
#[tokio::test]
async fn a_body_too_large_for_its_reason_is_dead_lettered_as_a_marker_and_redriven_whole() {
    use std::sync::Arc;

    use paybridge::journal::{EventJournal, InMemoryEventJournal, JournalEntry};
    use paybridge::queue::{DeadLetter, TruncatedBody};

    let client = Client::new(&moto::sdk_config().await);
    let urls = QueueUrls {
        url: sqs::create_queue(&client, "big").await,
        dlq_url: sqs::create_queue(&client, "big-dlq").await,
    };
    // A queue limit of 8 KiB stands in for SQS's 1 MiB.
    let settler = SqsMessageSettler::new(client.clone(), &urls.url, &urls.dlq_url, 8_192);
    let journal = Arc::new(InMemoryEventJournal::default());
    let dead_letters = |journal: Option<Arc<InMemoryEventJournal>>| {
        let letters = SqsDeadLetters::new(client.clone(), vec![(Source::Stripe, urls.clone())]);
        match journal {
            Some(journal) => letters.with_journal(journal),
            None => letters,
        }
    };
    let body = format!(r#"{{"source":"stripe","note":"{}"}}"#, "x".repeat(8_000));
    let failure = DeadLetter {
        reason: "Kentico refused the order: ".to_string() + &"why ".repeat(500),
        kind: "kentico_rejected".into(),
        failed_at: "2026-12-01T00:00:00.000Z".into(),
        details: Vec::new(),
    };
    for event_id in ["evt_big_1", "evt_big_2"] {
        let message = QueueMessage {
            message_id: format!("m-{event_id}"),
            receipt_handle: String::new(),
            body: body.clone(),
            attributes: [("source", "stripe"), ("event_id", event_id)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            receive_count: 3,
        };
        // What the worker journals before it settles.
        let entry = JournalEntry {
            at: "2026-12-01T00:00:00.000Z".into(),
            source: "stripe".into(),
            event_id: message.attributes["event_id"].clone(),
            event_type: "payment_intent.succeeded".into(),
            worker: "payment-worker".into(),
            outcome: "dead_lettered".into(),
            detail: String::new(),
            receive_count: 3,
        };
        if entry.event_id == "evt_big_1" {
            journal
                .record("order:1", &entry, &message.body)
                .await
                .unwrap();
        }
        settler.dead_letter(&message, &failure).await.unwrap();
    }

    let letters = dead_letters(Some(journal.clone()));
    let listed = letters.list_queue(Source::Stripe, 10).await.unwrap();
    assert_eq!(listed.len(), 2);
    for letter in &listed {
        let marker = TruncatedBody::from_body(&letter.body).expect("a marker instead of the body");
        assert_eq!(marker.bytes, body.len());
        assert!(marker.matches(&body));
        assert!(
            letter.attributes["failure_reason"].contains("a marker stands in for it"),
            "{:?}",
            letter.attributes
        );
        assert_eq!(letter.attributes["failure_kind"], "kentico_rejected");
    }
    let ids: Vec<String> = listed.iter().map(|l| l.id.clone()).collect();

    // Without a journal nothing is redriven; with it, the journaled one comes back whole and
    // the one the journal does not hold stays in the DLQ.
    assert_eq!(dead_letters(None).redrive(&ids).await.unwrap(), 0);
    assert_eq!(letters.redrive(&ids).await.unwrap(), 1);
    let requeued = sqs::receive_all(&client, &urls.url).await;
    assert_eq!(requeued.len(), 1);
    assert_eq!(requeued[0].body, body);
    assert_eq!(requeued[0].attributes["event_id"], "evt_big_1");
    let left = sqs::receive_all(&client, &urls.dlq_url).await;
    assert_eq!(left.len(), 1);
    assert!(TruncatedBody::from_body(&left[0].body).is_some());
}
