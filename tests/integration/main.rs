//! The one integration-test binary: handlers in-process, real aws-sdk clients against moto.

mod architecture;
mod browser_harness;
#[allow(
    dead_code,
    reason = "the browser tests are being written: remove when they use it"
)]
mod console_browser;
mod console_process;
mod crash_recovery;
mod customers_contract;
mod dead_letters_contract;
mod deployment;
mod effects_contract;
mod events_files;
mod hostile;
mod idempotency_contract;
mod idempotency_dynamodb;
mod ingress_sqs;
mod journal_contract;
mod kentico_connector;
mod ledger_contract;
mod ledger_export;
mod links_dynamodb;
mod mapping_store_contract;
mod money;
mod no_pii;
mod operator_cli;
mod order_to_cash;
mod queue_contract;
mod report_contract;
mod serve_process;
mod setup_stripe;
mod startup;
mod stripe_connector;
mod stripe_library;
mod support;
mod token_contract;
mod worker_sqs;
mod xbyk_package;
