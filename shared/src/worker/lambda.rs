//! Runs a [`BatchProcessor`] as a Lambda on an SQS event source. The trigger must have
//! `FunctionResponseTypes: [ReportBatchItemFailures]`, or a single failure retries the whole batch.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::LambdaEvent;

use super::BatchProcessor;
use crate::queue::QueueMessage;

/// Serves `processor` on the Lambda Runtime API until the sandbox ends.
pub async fn run(processor: BatchProcessor) -> Result<(), lambda_runtime::Error> {
    let processor = Arc::new(processor);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: LambdaEvent<SqsEvent>| {
            let processor = processor.clone();
            async move { Ok::<_, std::convert::Infallible>(handle(&processor, event).await) }
        },
    ))
    .await
}

/// Handles one SQS batch in-process: what the Lambda does per invocation.
pub async fn handle(processor: &BatchProcessor, event: LambdaEvent<SqsEvent>) -> SqsBatchResponse {
    let deadline_ms = i64::try_from(event.context.deadline).unwrap_or(i64::MAX);
    let messages = event
        .payload
        .records
        .into_iter()
        .map(queue_message)
        .collect();
    let report = processor.process(messages, deadline_ms).await;
    processor.flush_metrics();
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = report
        .batch_item_failures()
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}

/// Converts a record of an SQS event into the processor's message.
pub fn queue_message(record: SqsMessage) -> QueueMessage {
    QueueMessage {
        receive_count: record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|n| n.parse().ok())
            .unwrap_or(1),
        message_id: record.message_id.unwrap_or_default(),
        receipt_handle: record.receipt_handle.unwrap_or_default(),
        body: record.body.unwrap_or_default(),
        attributes: record
            .message_attributes
            .into_iter()
            .filter_map(|(name, value)| value.string_value.map(|v| (name, v)))
            .collect::<BTreeMap<_, _>>(),
    }
}
