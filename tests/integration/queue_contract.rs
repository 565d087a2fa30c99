//! The queue publisher's contract on a real SQS queue (moto): ids, bodies byte for byte,
//! attributes whole.

use std::collections::BTreeMap;

use integration_tests::{moto, sqs};
use paybridge::queue::contract::{self, PublishedQueue};
use paybridge::queue::{QueuePublisher, SqsQueuePublisher};

struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
    publisher: SqsQueuePublisher,
}

#[async_trait::async_trait]
impl PublishedQueue for SqsQueue {
    fn publisher(&self) -> &dyn QueuePublisher {
        &self.publisher
    }

    async fn read_back(&self) -> Vec<(String, BTreeMap<String, String>)> {
        sqs::peek_all(&self.client, &self.url)
            .await
            .into_iter()
            .map(|m| (m.body, m.attributes))
            .collect()
    }
}

#[tokio::test]
async fn the_sqs_publisher_keeps_the_queue_publisher_contract() {
    let client = aws_sdk_sqs::Client::new(&moto::sdk_config().await);
    let url = sqs::create_queue(&client, "queue-contract").await;
    let publisher = SqsQueuePublisher::new(client.clone(), &url);
    contract::run_all(&SqsQueue {
        client,
        url,
        publisher,
    })
    .await;
}
