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
            let settler = SqsMessageSettler::new(client.clone(), &urls.url, &urls.dlq_url);
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
