//! The one integration-test binary: handlers in-process, real aws-sdk clients against moto.

mod events_files;
mod idempotency_dynamodb;
mod ingress_sqs;
mod startup;
mod stripe_library;
mod support;
mod worker_sqs;
